"""The loaded fact base and the questions it answers. Returns data; prints nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any, NamedTuple

from .dates import date_bounds
from .errors import NotFoundError, UsageError
from .load import load_store
from .model import Answer, CategoryRating, Claim, Entity, Hit, Link, Match, Note, Rating, Report, Topic
from .search import Candidate, Searcher, resolve_name
from .store import Store, as_store

CLOSE = 3.0  # candidates this close to the best are "did you mean" material
RESOLVE_MIN = 82.0  # below this, a name query resolves to no one


class Filters(NamedTuple):
    """Restrictions a search or listing combines with its query.

    Dates compare by overlap: a claim dated ``2020`` spans the whole year, so
    ``--since 2020-06`` keeps it (it may be about June or later) and ``--until 2019`` drops
    it. A date filter drops undated claims.
    """

    report: str | None = None
    person: str | None = None
    org: str | None = None
    topic: str | None = None
    since: str | None = None
    until: str | None = None

    def active(self) -> bool:
        return any((self.report, self.person, self.org, self.topic, self.since, self.until))


NO_FILTERS = Filters()


class Resolved(NamedTuple):
    """A name query resolved to one entity or topic, with the close alternatives."""

    tag: str
    score: float
    form: str
    alternatives: tuple[Candidate, ...]


class FactBase:
    """A compiled fact base: records built on demand from the cached plain data."""

    def __init__(self, data: Store | dict[str, Any]):
        self.store = as_store(data)
        self.root = self.store.root
        self._claims: dict[int, Claim] = {}
        self._names: dict[str, str] = {}

    @classmethod
    def load(cls, facts: str | os.PathLike[str] | None = None, use_cache: bool = True) -> FactBase:
        return cls(load_store(facts, use_cache=use_cache))

    # -- records -----------------------------------------------------------------------

    @cached_property
    def reports(self) -> dict[str, Report]:
        # the compiled records use the field names, so they map straight onto the records
        return {
            r["id"]: Report(
                **{
                    **r,
                    "sections": tuple(r["sections"]),
                    "notes": {n: Note(n, text, tuple(urls)) for n, text, urls in r["notes"]},
                }
            )
            for r in self.store.reports()
        }

    @cached_property
    def entities(self) -> dict[str, Entity]:
        """Every entity by tag, ``person:id`` and so on."""
        return {
            f"{e[0]}:{e[1]}": Entity(
                kind=e[0], id=e[1], name=e[2], aliases=tuple(e[3]), description=e[4], role=e[5], category=e[6]
            )
            for e in self.store.entities()
        }

    @cached_property
    def topics(self) -> dict[str, Topic]:
        return {t[0]: Topic(t[0], t[1], tuple(t[2]), t[3]) for t in self.store.topics()}

    @cached_property
    def ratings(self) -> list[Rating]:
        return [Rating(**{**r, "categories": tuple(CategoryRating(*c) for c in r["categories"])}) for r in self.store.ratings()]

    def claim_at(self, i: int) -> Claim:
        c = self._claims.get(i)
        if c is None:
            r = self.store.claim(i)
            c = Claim(
                id=r[0],
                claim=r[1],
                report=r[2],
                section=r[3],
                para=r[4],
                notes=tuple(r[5]),
                date=r[6],
                people=tuple(r[7]),
                organizations=tuple(r[8]),
                places=tuple(r[9]),
                topics=tuple(r[10]),
                note=r[11],
                related=tuple(Link(*ln) for ln in r[12]),
                file=r[13],
                line=r[14],
            )
            self._claims[i] = c
        return c

    def __len__(self) -> int:
        return self.store.n

    def all_claims(self) -> list[Claim]:
        return [self.claim_at(i) for i in self.store.positions()]

    def has_claim(self, claim_id: str) -> bool:
        return self.store.position_of(claim_id) is not None

    def claim(self, claim_id: str) -> Claim:
        i = self.store.position_of(claim_id.strip())
        if i is None:
            from rapidfuzz import process

            close = [c for c, _, _ in process.extract(claim_id, self.store.claim_ids(), limit=3, score_cutoff=60)]
            raise NotFoundError(f"no claim with id {claim_id!r}", close)
        return self.claim_at(i)

    def entity_name(self, kind: str, ref: str) -> str:
        """The display name of an entity (one record read: every claim shown asks this)."""
        tag = f"{kind}:{ref}"
        name = self._names.get(tag)
        if name is None:
            e = self.store.entity(tag) if kind != "topic" else None
            name = self._names[tag] = e[2] if e else ref
        return name

    def notes_of(self, claim: Claim) -> list[Note]:
        notes = self.reports[claim.report].notes
        return [notes.get(n, Note(n, "", ())) for n in claim.notes]

    def passage_url(self, claim: Claim) -> str | None:
        """A link that opens the report's page at the claim's passage, highlighted (a URL text
        fragment built from the passage's first and last words); the report's URL where the
        passage has no link words; None where the report has no URL."""
        r = self.reports.get(claim.report)
        if r is None or not r.url:
            return None
        return r.url + r.passages.get(f"{claim.section}\n{claim.para}", "")

    def citation(self, claim: Claim) -> str:
        """A short locator: ``FH NIT 2021 · Civil Society ¶8 [94]``."""
        short = self.reports[claim.report].short if claim.report in self.reports else claim.report
        notes = f" [{', '.join(map(str, claim.notes))}]" if claim.notes else ""
        return f"{short} · {claim.section} ¶{claim.para}{notes}"

    # -- search ------------------------------------------------------------------------

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.store)

    def resolve(self, name: str, kinds: Sequence[str]) -> Resolved:
        """The entity or topic ``name`` most likely means; ``NotFoundError`` with
        suggestions when nothing is close."""
        if not name.strip():
            raise UsageError("empty name")
        cands = resolve_name(self.store, name, kinds)
        what = " or ".join("topic" if k == "topic" else k for k in kinds)
        if not cands or cands[0].score < RESOLVE_MIN:
            raise NotFoundError(f"no {what} matches {name!r}", [self.label(c.tag) for c in cands[:3] if c.score >= 50])
        best = cands[0]
        close = tuple(c for c in cands[1:6] if best.score - c.score <= CLOSE and c.score >= RESOLVE_MIN)
        return Resolved(best.tag, best.score, best.form, close)

    def label(self, tag: str) -> str:
        """``Name (id)`` of an entity or topic tag, for messages."""
        kind, ref = tag.split(":", 1)
        if kind == "topic":
            t = self.topics.get(ref)
            return f"{t.label} ({ref})" if t else ref
        e = self.entities.get(tag)
        return f"{e.name} ({ref})" if e else ref

    def tagged(self, tag: str) -> list[int]:
        return list(self.store.by_tag(tag))

    def _allowed(self, filters: Filters) -> set[int] | None:
        if not filters.active():
            return None
        allowed: set[int] | None = None  # all claims, not listed: a filter reads only what it keeps
        if filters.report:
            if filters.report not in self.reports:
                raise UsageError(f"unknown report {filters.report!r} (known: {', '.join(self.reports)})")
            allowed = self.store.report_positions(filters.report)
        for name, kinds in ((filters.person, ("person",)), (filters.org, ("organization",)), (filters.topic, ("topic",))):
            if name:
                tagged = set(self.tagged(self.resolve(name, kinds).tag))
                allowed = tagged if allowed is None else allowed & tagged
        if allowed is None:
            allowed = set(self.store.positions())
        if filters.since or filters.until:
            lo = date_bounds(filters.since)[0] if filters.since else "0000"
            hi = date_bounds(filters.until)[1] if filters.until else "9999"
            keep = set()
            for i, row in self.store.rows(allowed).items():
                d = row.date
                if d:
                    start, end = date_bounds(d)
                    if end >= lo and start <= hi:
                        keep.add(i)
            allowed = keep
        return allowed

    def search(self, query: str, filters: Filters = NO_FILTERS, limit: int | None = 10) -> list[Hit]:
        if not query.strip():
            raise UsageError("empty query: give words to search for")
        if limit is not None and limit < 1:
            raise UsageError("--limit must be at least 1")
        ranked = self.searcher.rank(query, self._allowed(filters), limit)
        return [Hit(self.claim_at(r.position), r.score, r.tier, Match(*r.match) if r.match else None) for r in ranked]

    def answer(self, query: str, filters: Filters = NO_FILTERS, limit: int | None = 10, count: bool = True) -> Answer:
        """The search every front end uses (CLI, browse, MCP): the claims that answer the
        whole query (``hits``, best first) and, apart, the nearest partial matches, each
        with the query words it lacks. ``answer(...).answered`` is the exit-0 rule.
        ``count=False`` (output that shows no count): the answers may go uncounted (see
        ``Answer.counted``)."""
        if not query.strip():
            raise UsageError("empty query: give words to search for")
        if limit is not None and limit < 1:
            raise UsageError("--limit must be at least 1")
        r = self.searcher.answer(query, self._allowed(filters), limit, count)
        full = r.full if limit is None else r.full[:limit]
        return Answer(
            query,
            [self._hit(x) for x in full],
            [self._hit(x) for x in r.partial[: limit or 10]],
            len(r.full) if r.total is None else r.total,
            r.missing,
            self._name_suggestions(r.suggestions),
            r.counted,
        )

    def _name_suggestions(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """A suggested word that is part of a person's name becomes that person's name
        ("sagintayev" -> "Bakytzhan Sagintayev"); other words stay as they are."""
        if not words:
            return words
        from .text import fold_word

        out: dict[str, None] = {}
        for w in words:
            key = fold_word(w).casefold()
            names = [
                e.name
                for e in self.entities.values()
                if e.kind == "person" and any(key in {fold_word(x).casefold() for x in n.split()} for n in (e.name, *e.aliases))
            ]
            out.update(dict.fromkeys(names or [w]))
        return tuple(out)

    def _hit(self, r: Any) -> Hit:
        return Hit(self.claim_at(r.position), r.score, r.tier, Match(*r.match) if r.match else None, r.missing)

    def select(self, filters: Filters) -> list[Claim]:
        """Every claim the filters allow, in fact-base order."""
        allowed = self._allowed(filters)
        return [self.claim_at(i) for i in self.store.positions() if allowed is None or i in allowed]

    def claims_of(self, tag: str, filters: Filters = NO_FILTERS) -> list[Claim]:
        allowed = self._allowed(filters)
        return [self.claim_at(i) for i in self.tagged(tag) if allowed is None or i in allowed]

    def counts(self, kind: str) -> list[tuple[str, int]]:
        """(tag, number of claims) for every entity of ``kind`` or every topic."""
        count = self.store.tag_count
        if kind == "topic":
            return [(f"topic:{t}", count(f"topic:{t}")) for t in self.topics]
        return [(tag, count(tag)) for tag, e in self.entities.items() if e.kind == kind]

    def related_claims(self, claim: Claim) -> list[tuple[Link, Claim]]:
        return [(ln, self.claim(ln.id)) for ln in claim.related if self.has_claim(ln.id)]

    def report_counts(self) -> dict[str, int]:
        out = dict.fromkeys(self.reports, 0)
        for rep, n in self.store.report_counts().items():
            out[rep] = out.get(rep, 0) + n
        return out
