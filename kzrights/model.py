"""The fact base's records: plain frozen dataclasses, no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Note:
    n: int
    text: str
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
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
    notes: dict[int, Note] = field(default_factory=dict)


@dataclass(frozen=True)
class Entity:
    """A person, organisation or place. ``kind`` is person/organization/place."""

    kind: str
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str | None = None
    role: str | None = None  # people
    category: str | None = None  # organisations: party, ngo, court, ...


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    aliases: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class Link:
    """A link from one claim to another about the same event or figure."""

    id: str
    kind: str = "same-event"  # corroborates | complements | differs | same-event
    note: str | None = None


@dataclass(frozen=True)
class Claim:
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


@dataclass(frozen=True)
class CategoryRating:
    name: str
    score: float
    section: str
    para: int


@dataclass(frozen=True)
class Rating:
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


@dataclass(frozen=True)
class Match:
    """Why a search result matched: the field, how, and the form that matched."""

    field: str  # claim | person | organization | place | topic | id | note
    via: str  # phrase | name | alias | folded | fuzzy | words | topic
    form: str

    def describe(self) -> str:
        return f"{self.field} {self.via}: {self.form}"


@dataclass(frozen=True)
class Hit:
    claim: Claim
    score: float
    tier: int
    match: Match | None


@dataclass(frozen=True)
class Problem:
    """One problem found in a fact file, located by file and line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"
