"""Every JSON shape kzrights writes, in one place: the contract the README documents and the
tests pin (stable keys, the data exact).

For each result record of ``queries`` there are two shapes: the ``document`` that ``--format
json`` writes, and the ``records``, one JSON object each, that ``--format jsonl`` writes a
line each (claims, or the rows the data has: pairs of a comparison, categories of the
ratings, sections of the statistics, reports of the sources). The MCP server returns the same
objects as structured content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..model import Claim, Entity, EntityReport, Hit, Topic

if TYPE_CHECKING:
    from ..factbase import FactBase
    from ..results import Comparison, Conflicts, Listing, Scores, Sources, Stats
    from . import View


def claim_dict(fb: FactBase, claim: Claim, hit: Hit | None = None, cite: bool = False) -> dict[str, Any]:
    """One claim (documented in the README, pinned by a test); with ``cite``, its text
    citation under ``cite``."""
    report = fb.reports.get(claim.report)
    notes = fb.notes_of(claim)
    out: dict[str, Any] = {
        "id": claim.id,
        "claim": claim.claim,
        "date": claim.date,
        "people": [{"id": r, "name": fb.entity_name("person", r)} for r in claim.people],
        "organizations": [{"id": r, "name": fb.entity_name("organization", r)} for r in claim.organizations],
        "places": [{"id": r, "name": fb.entity_name("place", r)} for r in claim.places],
        "topics": [{"id": t, "label": fb.topics[t].label if t in fb.topics else t} for t in claim.topics],
        "source": {
            "report": claim.report,
            "title": report.title if report else None,
            "publisher": report.publisher if report else None,
            "author": report.author if report else None,
            "section": claim.section,
            "para": claim.para,
            "notes": list(claim.notes),
            "urls": [u for n in notes for u in n.urls],
            "citation": fb.citation(claim),
            "url": report.url if report else None,
            "passage_url": fb.passage_url(claim),
        },
        "note": claim.note,
        "related": [{"id": ln.id, "kind": ln.kind, "note": ln.note, "report": ln.report} for ln in claim.related],
    }
    if hit is not None:
        out["score"] = hit.score
        out["matched"] = {"field": hit.match.field, "via": hit.match.via, "form": hit.match.form} if hit.match else None
        # full: holds every content word; near: an answer that lacks one common word of a long
        # query (the all-but-one tier); partial: not an answer (only with --partial)
        out["match"] = "full" if hit.full else ("near" if hit.tier > 0 else "partial")
        if not hit.full:
            out["lacks"] = list(hit.missing)
    if cite:
        from ..cite import cite_text

        out["cite"] = cite_text(fb, claim)
    return out


def claim_json(fb: FactBase, claim: Claim, hit: Hit | None = None) -> str:
    """One claim as one line of JSON text (``claim_dict`` through the fast writer)."""
    from .jsontext import json_value

    return json_value(claim_dict(fb, claim, hit))


def entity_dict(fb: FactBase, entity: Entity, claims: Sequence[Claim] | None = None) -> dict[str, Any]:
    """A person, organisation or place (``person --json`` without its claims when ``claims`` is None)."""
    out: dict[str, Any] = {"id": entity.id, "kind": entity.kind, "name": entity.name, "aliases": list(entity.aliases)}
    if entity.kind == "person":
        out["role"] = entity.role
    if entity.kind == "organization":
        out["category"] = entity.category
    out["description"] = entity.description
    if claims is not None:
        out["claims"] = [claim_dict(fb, c) for c in claims]
    return out


def topic_dict(topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.id,
        "kind": "topic",
        "name": topic.label,
        "aliases": list(topic.aliases),
        "description": topic.description,
    }


def side_keys(left: str, right: str) -> tuple[str, str]:
    """JSON keys for the two sides: ``fpc-2021``/``nit-2021`` -> ``fpc``/``nit``; ids whose
    first parts coincide keep their whole id."""
    a, b = left.split("-", 1)[0], right.split("-", 1)[0]
    return (a, b) if a != b else (left, right)


def comparison_dict(fb: FactBase, cmp: Comparison) -> dict[str, Any]:
    """``compare --json``: ``{"subject", "left", "right", "pairs", "<left>_only", "<right>_only"}``."""
    lkey, rkey = side_keys(cmp.left, cmp.right)
    return {
        "subject": cmp.subject,
        "left": cmp.left,
        "right": cmp.right,
        "pairs": [
            {"kind": p.kind, "note": p.note, lkey: claim_dict(fb, p.left), rkey: claim_dict(fb, p.right)} for p in cmp.pairs
        ],
        f"{lkey}_only": [claim_dict(fb, x) for x in cmp.left_only],
        f"{rkey}_only": [claim_dict(fb, x) for x in cmp.right_only],
    }


def comparison_rows(fb: FactBase, cmp: Comparison) -> list[dict[str, Any]]:
    """``compare --format jsonl``: a row per linked pair, then a row per claim of one report
    alone (``kind`` ``only``, the other side null)."""
    lkey, rkey = side_keys(cmp.left, cmp.right)
    rows = [{"kind": p.kind, "note": p.note, lkey: claim_dict(fb, p.left), rkey: claim_dict(fb, p.right)} for p in cmp.pairs]
    rows += [{"kind": "only", "note": None, lkey: claim_dict(fb, c), rkey: None} for c in cmp.left_only]
    rows += [{"kind": "only", "note": None, lkey: None, rkey: claim_dict(fb, c)} for c in cmp.right_only]
    return rows


def conflicts_dict(fb: FactBase, found: Conflicts) -> dict[str, Any]:
    """``conflicts --json``: ``{"differs": [{"nature", "note", "claims": [a, b]}], "notes": [...]}``."""
    return {
        "differs": [
            {"nature": d.nature, "note": d.pair.note, "claims": [claim_dict(fb, d.pair.left), claim_dict(fb, d.pair.right)]}
            for d in found.differs
        ],
        "notes": [claim_dict(fb, x) for x in found.noted],
    }


def conflicts_rows(fb: FactBase, found: Conflicts) -> list[dict[str, Any]]:
    """``conflicts --format jsonl``: a row per pair that differs, then a row per noted claim."""
    rows = [{"type": "differs", **d} for d in conflicts_dict(fb, found)["differs"]]
    rows += [{"type": "note", "nature": None, "note": c.note, "claims": [claim_dict(fb, c)]} for c in found.noted]
    return rows


def source_dicts(fb: FactBase, found: Sources) -> list[dict[str, Any]]:
    """``sources --json``: each report with its URL, coverage and claim count."""
    return [
        {
            "id": r.id,
            "short": r.short,
            "title": r.title,
            "publisher": r.publisher,
            "author": r.author,
            "published": r.published,
            "covers": r.covers,
            "url": r.url,
            "notes": len(r.notes),
            "sections": list(r.sections),
            "claims": n,
        }
        for r, n in found.reports
    ]


def rating_dicts(fb: FactBase, found: Scores) -> list[dict[str, Any]]:
    """``scores --json``: each report's ratings, with the source of every score."""
    return [
        {
            "report": r.report,
            "title": fb.reports[r.report].title if r.report in fb.reports else None,
            "status": r.status,
            "scale": {"min": r.scale_min, "max": r.scale_max},
            "democracy_score": r.democracy_score,
            "democracy_percentage": r.democracy_percentage,
            "previous": r.previous,
            "source": {"section": r.section, "para": r.para},
            "categories": [
                {"name": c.name, "score": c.score, "source": {"section": c.section, "para": c.para}} for c in r.categories
            ],
        }
        for r in found.ratings
    ]


def rating_rows(found: Scores) -> list[dict[str, Any]]:
    """``scores --format jsonl``: a row per score, as the SQLite export's ``ratings`` table."""
    rows = []
    for r in found.ratings:
        scores = [(c.name, c.score, r.scale_min, r.scale_max, c.section, c.para) for c in r.categories]
        scores.append(("Democracy Score", r.democracy_score, r.scale_min, r.scale_max, r.section, r.para))
        if r.democracy_percentage is not None:
            scores.append(("Democracy Percentage", r.democracy_percentage, 0, 100, r.section, r.para))
        keys = ("name", "score", "scale_min", "scale_max", "section", "para")
        rows += [{"report": r.report, **dict(zip(keys, s, strict=True))} for s in scores]
    return rows


def stats_dict(found: Stats) -> dict[str, Any]:
    return {
        "claims": found.claims,
        "by_report": found.by_report,
        "sections": [s._asdict() for s in found.sections],
        "entities": found.entities,
        "topics": found.topics,
        "links": found.links,
        "cross_report_links": found.cross_report_links,
        "notes_by_curators": found.notes_by_curators,
    }


def listing_dicts(fb: FactBase, found: Listing) -> list[dict[str, Any]]:
    """``people``/``orgs``/``topics --json``: each with its number of claims."""
    out = []
    for item in found.items:
        rec = item.record
        if isinstance(rec, Topic):
            out.append({"id": rec.id, "kind": "topic", "name": rec.label, "aliases": list(rec.aliases), "claims": item.claims})
        else:
            out.append({**entity_dict(fb, rec), "claims": item.claims})
    return out


def report_dict(fb: FactBase, found: EntityReport) -> dict[str, Any]:
    """``person``/``org``/``topic --json``: the entity or topic and its claims."""
    head = topic_dict(found.record) if isinstance(found.record, Topic) else entity_dict(fb, found.record)
    return {**head, "claims": [claim_dict(fb, c) for c in found.claims]}


def _claims(view: View, claims: Sequence[Claim | Hit]) -> list[dict[str, Any]]:
    return [
        claim_dict(view.fb, c.claim, c, cite=view.cite) if isinstance(c, Hit) else claim_dict(view.fb, c, cite=view.cite)
        for c in claims
    ]


Shape = tuple[Callable[["View", Any], Any], Callable[["View", Any], list[dict[str, Any]]]]

# result type's name -> (its JSON document, its JSON Lines records); by name, so that the
# records of ``results`` are not defined to write a search
SHAPES: dict[str, Shape] = {
    "SearchResult": (lambda v, r: _claims(v, r.claims), lambda v, r: _claims(v, r.claims)),
    "EntityReport": (lambda v, r: report_dict(v.fb, r), lambda v, r: _claims(v, r.claims)),
    "Claim": (lambda v, r: claim_dict(v.fb, r), lambda v, r: _claims(v, [r])),
    "Selection": (lambda v, r: _claims(v, r.claims), lambda v, r: _claims(v, r.claims)),
    "Timeline": (lambda v, r: {"claims": _claims(v, r.claims), "undated": r.undated}, lambda v, r: _claims(v, r.claims)),
    "Listing": (lambda v, r: listing_dicts(v.fb, r), lambda v, r: listing_dicts(v.fb, r)),
    "Sources": (lambda v, r: source_dicts(v.fb, r), lambda v, r: source_dicts(v.fb, r)),
    "Scores": (lambda v, r: rating_dicts(v.fb, r), lambda v, r: rating_rows(r)),
    "Stats": (lambda v, r: stats_dict(r), lambda v, r: [s._asdict() for s in r.sections]),
    "Comparison": (lambda v, r: comparison_dict(v.fb, r), lambda v, r: comparison_rows(v.fb, r)),
    "Conflicts": (lambda v, r: conflicts_dict(v.fb, r), lambda v, r: conflicts_rows(v.fb, r)),
}


def document(view: View, result: Any) -> Any:
    """What ``--format json`` writes for ``result``."""
    return SHAPES[type(result).__name__][0](view, result)


def records(view: View, result: Any) -> list[dict[str, Any]]:
    """What ``--format jsonl`` writes for ``result``, an object a line."""
    return SHAPES[type(result).__name__][1](view, result)
