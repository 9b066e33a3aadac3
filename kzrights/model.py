"""The fact base's records: immutable, typed records with no behaviour beyond small helpers.

They are ``NamedTuple``s rather than frozen dataclasses: just as immutable and typed, but a
dataclass costs about half a millisecond to define and every query is a fresh process.
"""

from __future__ import annotations

from typing import NamedTuple


class Note(NamedTuple):
    n: int
    text: str
    urls: tuple[str, ...] = ()


class Report(NamedTuple):
    id: str
    short: str
    title: str
    publisher: str
    author: str
    published: str | None
    covers: str | None
    url: str | None
    note_style: str
    sections: tuple[str, ...]
    notes: dict[int, Note]
    # "section\npara" -> the text fragment that opens the report's page at that passage
    passages: dict[str, str] = {}  # noqa: RUF012 (a NamedTuple field; never mutated)


class Entity(NamedTuple):
    """A person, organisation or place. ``kind`` is person/organization/place."""

    kind: str
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str | None = None
    role: str | None = None  # people
    category: str | None = None  # organisations: party, ngo, court, ...


class Topic(NamedTuple):
    id: str
    label: str
    aliases: tuple[str, ...] = ()
    description: str | None = None


class Link(NamedTuple):
    """A link from one claim to another about the same event or figure."""

    id: str
    kind: str = "same-event"  # corroborates | complements | differs | same-event
    note: str | None = None
    report: str | None = None  # the linked claim's report


class Claim(NamedTuple):
    id: str
    claim: str
    report: str
    section: str
    para: int
    notes: tuple[int, ...] = ()
    date: str | None = None
    people: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    note: str | None = None
    related: tuple[Link, ...] = ()
    file: str = ""
    line: int = 0


class CategoryRating(NamedTuple):
    name: str
    score: float
    section: str
    para: int


class Rating(NamedTuple):
    report: str
    section: str
    para: int
    status: str | None
    scale_min: float
    scale_max: float
    democracy_score: float
    democracy_percentage: float | None
    previous: dict[str, object]
    categories: tuple[CategoryRating, ...]


class Match(NamedTuple):
    """Why a search result matched: the field, how, and the form that matched."""

    field: str  # claim | person | organization | place | topic | id | note
    via: str  # phrase | name | alias | folded | fuzzy | words | topic
    form: str

    def describe(self) -> str:
        return f"{self.field} {self.via}: {self.form}"


class Hit(NamedTuple):
    claim: Claim
    score: float
    tier: int
    match: Match | None
    missing: tuple[str, ...] = ()  # query words this claim lacks: empty for a full answer

    @property
    def full(self) -> bool:
        return not self.missing


class Answer(NamedTuple):
    """What a search found: claims that answer the whole query, and the nearest partial ones.

    ``hits`` holds only full answers, best first (at most the limit asked for); ``total`` counts
    every claim that answers in full, when ``counted``; a search asked not to count (for output
    that shows no count) may leave it at the answers it kept, and ``counted`` False.
    ``partial`` holds the nearest claims that match part of the query, each with the words it
    lacks. ``missing`` lists query words no claim holds, and
    ``suggestions`` names a user may have meant ("did you mean").
    """

    query: str
    hits: list[Hit]
    partial: list[Hit]
    total: int
    missing: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    counted: bool = True

    @property
    def answered(self) -> bool:
        return bool(self.hits)


class Problem(NamedTuple):
    """One problem found in a fact file, located by file and line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


# --------------------------------------------------------------------------- query results
# What ``queries`` returns, one record per command: plain data a Python caller can use as it
# is, and that ``render`` turns into any output format. The records of ``search`` and
# ``person`` (and a ``Claim`` for ``show``) are here; the others are in ``results``, which only
# the commands that return them import (defining a NamedTuple costs about 0.1 ms).


class SearchResult(NamedTuple):
    """``search``: the answer, and whether the data output also lists the partial matches."""

    answer: Answer
    filtered: bool = False  # filters narrowed the search (a no-answer message says so)
    with_partial: bool = False

    @property
    def claims(self) -> list[Hit]:
        """What a data format lists: the answers, then the partial matches when asked for."""
        return self.answer.hits + (self.answer.partial if self.with_partial else [])


class EntityReport(NamedTuple):
    """``person``, ``org``, ``topic``: the best match for a name and its claims, ordered by
    report, date and id; ``total`` counts them all when ``limit`` cut the list."""

    query: str
    record: Entity | Topic
    claims: list[Claim]
    total: int
    alternatives: tuple[str, ...] = ()  # "Name (id)" of the other close matches

    @property
    def kind(self) -> str:
        return self.record.kind if isinstance(self.record, Entity) else "topic"
