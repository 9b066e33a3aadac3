"""Both reports side by side: comparisons by linked events, conflicts, timelines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .errors import UsageError
from .factbase import NO_FILTERS, FactBase, Filters
from .model import Claim
from .search import resolve_name


class Pair(NamedTuple):
    """Two linked claims, one from each side of a comparison."""

    left: Claim
    right: Claim
    kind: str
    note: str | None


class Comparison(NamedTuple):
    left: str  # report ids
    right: str
    subject: str  # what the claims were selected by, for the title
    pairs: list[Pair]
    left_only: list[Claim]
    right_only: list[Claim]


def by_date(claim: Claim) -> tuple[str, str]:
    """Sort key: dated claims in date order (a year before its months), undated last."""
    return (claim.date or "9999", claim.id)


def subject_claims(fb: FactBase, subject: str, filters: Filters = NO_FILTERS) -> tuple[str, list[Claim]]:
    """The claims a subject means: a person, organisation or topic when the subject names one
    (as written or by folded spelling), else the claims a search finds with every word."""
    if not subject.strip():
        raise UsageError("empty subject: give a name, a topic or words")
    cands = resolve_name(fb.data, subject, ("person", "organization", "place", "topic"))
    if cands and cands[0].score >= 97.0:
        tag = cands[0].tag
        return fb.label(tag), fb.claims_of(tag, filters)
    hits = fb.search(subject, filters, limit=None)
    strong = [h.claim for h in hits if h.tier >= 1]
    return repr(subject), strong or [h.claim for h in hits[:20]]


def compare(fb: FactBase, subject: str, claims: Sequence[Claim], left: str, right: str) -> Comparison:
    """Align the claims of two reports by their links; a linked claim joins even when only
    its partner was selected, since a curator linked the two as the same event."""
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


def conflicts(fb: FactBase, report: str | None = None) -> tuple[list[Pair], list[Claim]]:
    """Every ``differs`` link (once per pair) and every claim with a curator's note."""
    seen: set[tuple[str, str]] = set()
    differs: list[Pair] = []
    noted: list[Claim] = []
    for c in fb.all_claims():
        if report and c.report != report:
            continue
        if c.note:
            noted.append(c)
        for ln in c.related:
            key = (min(c.id, ln.id), max(c.id, ln.id))
            if ln.kind == "differs" and key not in seen and fb.has_claim(ln.id):
                seen.add(key)
                differs.append(Pair(c, fb.claim(ln.id), ln.kind, ln.note))
    differs.sort(key=lambda p: (min(by_date(p.left), by_date(p.right)), p.left.id))
    return differs, noted


def timeline(claims: Iterable[Claim]) -> tuple[list[Claim], int]:
    """Dated claims in date order (both reports interleaved) and how many were undated."""
    items = list(claims)
    dated = sorted((c for c in items if c.date), key=by_date)
    return dated, len(items) - len(dated)
