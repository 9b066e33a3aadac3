"""The records the less frequent commands return (``queries``): listings, sources, ratings,
statistics, comparisons, conflicts, timelines, citations, exports. Immutable and typed, as
those in ``model``; a module apart so that ``search`` and ``person`` do not define them."""

from __future__ import annotations

from typing import NamedTuple

from .model import Claim, Entity, Rating, Report, Topic


class Listed(NamedTuple):
    record: Entity | Topic
    claims: int


class Listing(NamedTuple):
    """``people``, ``orgs``, ``topics``: every one with its number of claims, most first."""

    kind: str  # person | organization | topic
    items: list[Listed]


class SourceInfo(NamedTuple):
    report: Report
    claims: int


class Sources(NamedTuple):
    """``sources``: the reports, each with its number of claims."""

    reports: list[SourceInfo]


class Scores(NamedTuple):
    """``scores``: the Nations in Transit ratings."""

    ratings: list[Rating]


class SectionStats(NamedTuple):
    report: str
    section: str
    claims: int
    paragraphs_cited: int
    highest_paragraph: int
    dated: int


class Stats(NamedTuple):
    """``stats``: what the fact base holds."""

    claims: int
    by_report: dict[str, int]
    sections: list[SectionStats]
    entities: dict[str, int]  # person, organization, place -> how many
    topics: int
    links: dict[str, int]  # kind -> how many links (each counted once, not once a side)
    cross_report_links: int
    notes_by_curators: int


class Pair(NamedTuple):
    """Two linked claims, one from each side of a comparison."""

    left: Claim
    right: Claim
    kind: str
    note: str | None


class Comparison(NamedTuple):
    """``compare``: linked claims of two reports paired, then each report's unlinked claims."""

    left: str  # report ids
    right: str
    subject: str  # what the claims were selected by, for the title
    pairs: list[Pair]
    left_only: list[Claim]
    right_only: list[Claim]


class Difference(NamedTuple):
    """Two claims the curators marked as differing, and what kind of difference it is:
    ``disagree`` (the reports say different things), ``years`` (each report speaks of its own
    year), ``wording`` (the same thing named in other words) or ``precision`` (one date is
    more precise than the other)."""

    pair: Pair
    nature: str


class Conflicts(NamedTuple):
    """``conflicts``: every pair the curators marked as differing, and every claim with a
    curator's note on the report's text."""

    differs: list[Difference]
    noted: list[Claim]


class Timeline(NamedTuple):
    """``timeline``: dated claims in date order; how many were left out undated."""

    subject: str | None
    claims: list[Claim]
    undated: int


class Citations(NamedTuple):
    """``cite``: the claims and, in the same order, their citations in ``style``."""

    style: str
    claims: list[Claim]
    texts: list[str]


class Selection(NamedTuple):
    """``export``: every claim the filters allow, in fact-base order."""

    claims: list[Claim]
