"""What each command asks of the fact base, as functions that return typed records.

Every front end calls these: the command line (one call per command), the MCP server, the
finder, and a Python user (see the README's "Python" section). Nothing here prints or
formats; ``render`` turns the records into table, JSON, JSON Lines, CSV or Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .dates import checked_date, date_span
from .errors import NotFoundError, UsageError
from .factbase import NO_FILTERS, FactBase, Filters
from .model import Answer, Claim, EntityReport, Report, SearchResult

if TYPE_CHECKING:  # the other records are imported by the functions that return them
    from .results import Citations, Comparison, Conflicts, Listing, Pair, Scores, Selection, Sources, Stats, Timeline

ENTITY_KINDS = ("person", "organization", "place")
SUBJECT_KINDS = ("person", "organization", "place", "topic")
CITE_STYLES = ("text", "markdown", "bibtex", "csl-json")


# --------------------------------------------------------------------------- search


MAX_NAME = 300  # characters of a name or subject: resolving one compares it with every name


def bounded(value: str | None, what: str) -> str | None:
    """A name, subject or name filter, bounded: a pasted page is not a name, and resolving
    it would take seconds. ``what`` names it in the message (``--person``, ``SUBJECT``)."""
    if value is not None and len(value) > MAX_NAME:
        raise UsageError(f"{what} is {len(value)} characters long; a name or subject has at most {MAX_NAME}")
    return value


def make_filters(
    report: str | None = None,
    person: str | None = None,
    org: str | None = None,
    topic: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Filters:
    """Filters with their dates checked (a real date in ASCII digits: ``2020-02-30`` is
    refused) and their names bounded (``bounded``)."""
    names = (bounded(person, "--person"), bounded(org, "--org"), bounded(topic, "--topic"))
    return Filters(report, *names, checked_date("--since", since), checked_date("--until", until))


def search(
    fb: FactBase,
    query: str,
    filters: Filters = NO_FILTERS,
    limit: int | None = 10,
    partial: bool = False,
    count: bool = True,
) -> SearchResult:
    """The claims that answer ``query`` (best first, at most ``limit``) and the nearest partial
    matches; ``partial`` puts those in the data output too. ``result.answer.answered`` is the
    exit-0 rule. ``count=False``: the answers need not be counted (see ``FactBase.answer``)."""
    return SearchResult(fb.answer(query, filters, limit, count), filters.active(), partial)


def no_answer_message(answer: Answer, filtered: bool = False) -> str:
    """Why a search answered nothing: ``no claim in the reports answers 'Q'; no claim holds: w``."""
    message = f"no claim in the reports answers {answer.query!r}" + (" with these filters" if filtered else "")
    if answer.missing and " ".join(answer.missing).casefold() != answer.query.strip().casefold():
        message += f"; no claim holds: {', '.join(answer.missing)}"
    return message


# --------------------------------------------------------------------------- claims by id


def close_ids(ids: Iterable[str], given: str, n: int = 5) -> list[str]:
    """Ids a mistyped id may mean: those it begins (a cut-off id), then the most alike by
    edit distance (a typo); never an id that only shares a word or two with it."""
    from rapidfuzz import fuzz, process

    typed = given.strip().casefold()
    known = list(ids)
    out = [i for i in known if typed and i.startswith(typed)][:n]
    if len(out) < n:
        alike = process.extract(typed, known, scorer=fuzz.ratio, limit=n, score_cutoff=70)
        out += [i for i, _, _ in alike if i not in out][: n - len(out)]
    return out


def claims_by_id(fb: FactBase, ids: Sequence[str]) -> list[Claim]:
    """The claims with these ids, in this order; ``NotFoundError`` naming every unknown id
    with the ids it may mean."""
    unknown = [i for i in ids if not fb.has_claim(i.strip())]
    if unknown:
        every = [c.id for c in fb.all_claims()]
        first = f"no claim with id {unknown[0]!r}"
        more = "".join(f"; no claim with id {i!r}" for i in unknown[1:])
        raise NotFoundError(first + more, [c for i in unknown for c in close_ids(every, i)])
    return [fb.claim(i) for i in ids]


def citations(fb: FactBase, ids: Sequence[str], style: str = "text") -> Citations:
    """``cite``: each claim's citation in ``style`` (text, markdown, bibtex or csl-json)."""
    from .cite import cite
    from .results import Citations

    if style not in CITE_STYLES:
        raise UsageError(f"unknown citation style {style!r} (known: {', '.join(CITE_STYLES)})")
    claims = claims_by_id(fb, ids)
    return Citations(style, claims, [cite(fb, c, style) for c in claims])


# --------------------------------------------------------------------------- names


def entity_report(fb: FactBase, kind: str, name: str, filters: Filters = NO_FILTERS, limit: int | None = None) -> EntityReport:
    """The person, organisation or topic (``kind``) ``name`` most likely means, with its claims
    ordered by report, date and id (at most ``limit``); ``NotFoundError`` when nothing is close."""
    resolved = fb.resolve(name, (kind,))
    claims = sorted(fb.claims_of(resolved.tag, filters), key=lambda c: (c.report, c.date or "9999", c.id))
    ref = resolved.tag.split(":", 1)[1]
    record = fb.topics[ref] if kind == "topic" else fb.entities[resolved.tag]
    others = tuple(fb.label(c.tag) for c in resolved.alternatives)
    return EntityReport(name, record, claims[:limit] if limit else claims, len(claims), others)


def listing(fb: FactBase, kind: str) -> Listing:
    """``people``, ``orgs``, ``topics``: every one of ``kind`` with its claim count, most first."""
    from .results import Listed, Listing

    items = []
    for tag, n in sorted(fb.counts(kind), key=lambda tc: (-tc[1], tc[0])):
        items.append(Listed(fb.topics[tag.split(":", 1)[1]] if kind == "topic" else fb.entities[tag], n))
    return Listing(kind, items)


def name_forms(fb: FactBase, kinds: Sequence[str]) -> list[tuple[str, str]]:
    """Every spelling of every entity of ``kinds`` (and topic, when ``topic`` is one):
    (tag, main name or alias), main names first."""
    out = [(tag, form) for tag, e in fb.entities.items() if e.kind in kinds for form in (e.name, *e.aliases)]
    if "topic" in kinds:
        out += [(f"topic:{t.id}", form) for t in fb.topics.values() for form in (t.label, *t.aliases)]
    return out


def matching_names(fb: FactBase, kinds: Sequence[str], typed: str) -> list[tuple[str, str]]:
    """(tag, spelling) of every name or alias of ``kinds`` that starts with ``typed``, case
    and accents aside, else with its folded spelling (``Janb`` finds Zhanbolat)."""
    from .text import fold_key, normalize_text

    forms = [(tag, form, fold_key(form)) for tag, form in name_forms(fb, kinds)]
    key = normalize_text(typed)
    found = [(tag, form) for tag, form, folded in forms if folded and normalize_text(form).startswith(key)]
    if not found:
        key = fold_key(typed)
        found = [(tag, form) for tag, form, folded in forms if folded and folded.startswith(key)]
    return found


def matching_spellings(fb: FactBase, kinds: Sequence[str], typed: str) -> list[str]:
    """The spellings ``matching_names`` finds, sorted, each once."""
    return sorted({form for _, form in matching_names(fb, kinds, typed)})


def subject_claims(fb: FactBase, subject: str, filters: Filters = NO_FILTERS) -> tuple[str, list[Claim]]:
    """The claims a subject means: those of the person, organisation, place or topic it names
    (``FactBase.resolve``: any spelling, a typo), else those a search finds with every word.
    Returns a label for the subject and the claims."""
    if not subject.strip():
        raise UsageError("empty subject: give a name, a topic or words")
    try:
        tag = fb.resolve(subject, SUBJECT_KINDS).tag
    except NotFoundError:
        hits = fb.search(subject, filters, limit=None)
        strong = [h.claim for h in hits if h.tier >= 1]
        return repr(subject), strong or [h.claim for h in hits[:20]]
    return fb.label(tag), fb.claims_of(tag, filters)


# --------------------------------------------------------------------------- the fact base


def select(fb: FactBase, filters: Filters = NO_FILTERS) -> Selection:
    """Every claim the filters allow, in fact-base order (``export``)."""
    from .results import Selection

    return Selection(fb.select(filters))


def sources(fb: FactBase) -> Sources:
    from .results import SourceInfo, Sources

    counts = fb.report_counts()
    return Sources([SourceInfo(r, counts.get(r.id, 0)) for r in fb.reports.values()])


def scores(fb: FactBase) -> Scores:
    from .results import Scores

    return Scores(list(fb.ratings))


def entity_counts(fb: FactBase) -> dict[str, int]:
    """People, organisations and places, by kind."""
    return {k: sum(1 for e in fb.entities.values() if e.kind == k) for k in ENTITY_KINDS}


def stats(fb: FactBase) -> Stats:
    """Claims per report and section, entities, topics, links, curators' notes."""
    from .results import SectionStats, Stats

    claims = fb.all_claims()
    by_section: dict[tuple[str, str], list[Claim]] = {}
    for c in claims:  # one pass: a fact base of many reports has many sections
        by_section.setdefault((c.report, c.section), []).append(c)
    sections = []
    for rep in fb.reports.values():
        for sec in rep.sections:
            mine = by_section.get((rep.id, sec), [])
            paras = {c.para for c in mine}
            dated = sum(1 for c in mine if c.date)
            sections.append(SectionStats(rep.id, sec, len(mine), len(paras), max(paras, default=0), dated))
    link_ends: dict[str, int] = {}
    for c in claims:
        for ln in c.related:
            link_ends[ln.kind] = link_ends.get(ln.kind, 0) + 1
    return Stats(
        claims=len(claims),
        by_report=fb.report_counts(),
        sections=sections,
        entities=entity_counts(fb),
        topics=len(fb.topics),
        links={k: n // 2 for k, n in sorted(link_ends.items())},  # each link is on both its claims
        cross_report_links=sum(1 for c in claims for ln in c.related if ln.report != c.report) // 2,
        notes_by_curators=sum(1 for c in claims if c.note),
    )


# --------------------------------------------------------------------------- both reports


def by_date(claim: Claim) -> tuple[str, str]:
    """Sort key: dated claims in date order (a year before its months), undated last."""
    return (claim.date or "9999", claim.id)


def two_reports(fb: FactBase, left: str | None = None, right: str | None = None) -> tuple[str, str]:
    """The reports to compare: those given, else the first two of the fact base."""
    ids = list(fb.reports)
    left = left or (ids[0] if ids else None)
    right = right or next((r for r in ids if r != left), None)
    for opt, rep in (("--left", left), ("--right", right)):
        if rep not in fb.reports:
            raise UsageError(f"{opt}: unknown report {rep!r} (known: {', '.join(ids)})")
    if left == right or left is None or right is None:
        raise UsageError("compare needs two different reports")
    return left, right


def compare(
    fb: FactBase, subject: str | None, left: str | None = None, right: str | None = None, filters: Filters = NO_FILTERS
) -> Comparison:
    """Two reports side by side on a subject (``subject_claims``), or on every claim the
    filters allow when ``subject`` is None."""
    lrep, rrep = two_reports(fb, left, right)
    label, claims = selected(fb, subject, filters)
    return align(fb, label, claims, lrep, rrep)


def selected(fb: FactBase, subject: str | None, filters: Filters = NO_FILTERS) -> tuple[str, list[Claim]]:
    """The claims of a subject (``subject_claims``) within the filters, or, without a subject,
    every claim the filters allow; with a label that says which."""
    if subject is not None:
        return subject_claims(fb, subject, filters)
    kinds = {"person": ("person",), "org": ("organization",), "topic": ("topic",)}
    shown = [fb.label(fb.resolve(v, kinds[k]).tag) if k in kinds else f"{k} {v}" for k, v in filters._asdict().items() if v]
    return ", ".join(shown) or "every claim", fb.select(filters)


def align(fb: FactBase, subject: str, claims: Sequence[Claim], left: str, right: str) -> Comparison:
    """Align the claims of two reports by their links; a linked claim joins even when only
    its partner was selected, since a curator linked the two as the same event."""
    from .results import Comparison, Pair

    chosen = {c.id for c in claims}
    pairs: list[Pair] = []
    paired: set[str] = set()
    for c in sorted((c for c in claims if c.report == left), key=by_date):
        for ln, other in fb.related_claims(c):
            if other.report == right:
                pairs.append(Pair(c, other, ln.kind, ln.note))
                paired |= {c.id, other.id}
    for c in claims:  # right-side claims whose left partner was not selected
        if c.report == right and c.id not in paired:
            for ln, other in fb.related_claims(c):
                if other.report == left and other.id not in chosen:
                    pairs.append(Pair(other, c, ln.kind, ln.note))
                    paired |= {c.id, other.id}
    pairs.sort(key=lambda p: (min(by_date(p.left), by_date(p.right)), p.left.id, p.right.id))
    left_only = sorted((c for c in claims if c.report == left and c.id not in paired), key=by_date)
    right_only = sorted((c for c in claims if c.report == right and c.id not in paired), key=by_date)
    return Comparison(left, right, subject, pairs, left_only, right_only)


def conflicts(fb: FactBase, report: str | None = None, subject: str | None = None, filters: Filters = NO_FILTERS) -> Conflicts:
    """Every ``differs`` link (once per pair), real disagreements first, and every claim with
    a curator's note; of one report, and of a subject or the claims the filters allow, when
    given (a pair counts when either claim does)."""
    from .results import Conflicts, Difference, Pair

    if report is not None and report not in fb.reports:
        raise UsageError(f"unknown report {report!r} (known: {', '.join(fb.reports)})")
    narrowed = subject is not None or filters._replace(report=None).active()
    allowed = {c.id for c in selected(fb, subject, filters._replace(report=None))[1]} if narrowed else None
    seen: set[tuple[str, str]] = set()
    differs: list[Difference] = []
    noted: list[Claim] = []
    for c in fb.all_claims():
        if report and c.report != report:
            continue
        if c.note and (allowed is None or c.id in allowed):
            noted.append(c)
        for ln in c.related:
            key = (min(c.id, ln.id), max(c.id, ln.id))
            if ln.kind != "differs" or key in seen or not fb.has_claim(ln.id):
                continue
            if allowed is None or c.id in allowed or ln.id in allowed:
                seen.add(key)
                pair = Pair(c, fb.claim(ln.id), ln.kind, ln.note)
                differs.append(Difference(pair, difference_nature(fb, pair)))
    differs.sort(key=lambda d: (NATURES.index(d.nature), min(by_date(d.pair.left), by_date(d.pair.right)), d.pair.left.id))
    return Conflicts(differs, noted)


NATURES = ("disagree", "years", "wording", "precision")  # in the order conflicts lists them
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")


def report_year(report: Report | None) -> str | None:
    """The year a report speaks as of: the last year its ``covers`` names ("calendar year
    2020" -> 2020, "up to 14 July 2021" -> 2021), else the year it was published."""
    if report is None:
        return None
    years = re.findall(r"\b[0-9]{4}\b", report.covers or "")
    return years[-1] if years else (report.published or "")[:4] or None


def difference_nature(fb: FactBase, pair: Pair) -> str:
    """What kind of difference two claims marked ``differs`` show, from their dates and the
    curator's note (see ``Difference``): ``precision`` when one date lies within the other;
    ``years`` when each claim is dated in the year its own report speaks as of (a ranking of
    2020 against one of 2021); ``wording`` when the note sets quoted terms against each other;
    else ``disagree``."""
    a, b = pair.left.date, pair.right.date
    if a and b and a != b:
        (a0, a1), (b0, b1) = date_span(a), date_span(b)
        if (a0 <= b0 and b1 <= a1) or (b0 <= a0 and a1 <= b1):
            return "precision"
        own = (report_year(fb.reports.get(pair.left.report)), report_year(fb.reports.get(pair.right.report)))
        if a[:4] != b[:4] and (a[:4], b[:4]) == own:
            return "years"
    if len(set(_QUOTED.findall(pair.note or ""))) >= 2:
        return "wording"
    return "disagree"


def timeline(fb: FactBase, subject: str | None = None, filters: Filters = NO_FILTERS) -> Timeline:
    """Dated claims (of a subject, or all the filters allow) in date order, both reports
    interleaved, and how many were undated."""
    from .results import Timeline

    claims = selected(fb, subject, filters)[1]
    dated = sorted((c for c in claims if c.date), key=by_date)
    return Timeline(subject, dated, len(claims) - len(dated))
