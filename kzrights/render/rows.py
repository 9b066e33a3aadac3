"""The flat shapes: every result as rows of text cells, for CSV and Markdown.

The rows are the JSON Lines records (``contract.records``) flattened: claims a row each,
with their citation and the link to the passage; a comparison a row per pair; the ratings a
row per category; the statistics a row per section; the sources a row per report. Markdown
shows a readable selection of the columns (``markdown_columns``); CSV shows them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..safe import clean
from . import contract

if TYPE_CHECKING:
    from ..results import Comparison, Conflicts
    from . import View

CLAIM_FIELDS = (
    "id",
    "claim",
    "date",
    "report",
    "section",
    "para",
    "notes",
    "people",
    "organizations",
    "places",
    "topics",
    "note",
    "related",
    "urls",
    "score",
    "matched",
    "citation",
    "url",
)


class Flat(NamedTuple):
    fields: list[str]
    rows: list[dict[str, str]]
    # Markdown: (header, cell) for each column shown; a cell is Markdown text, its parts escaped
    markdown: list[tuple[str, Callable[[int, dict[str, str]], str]]]


def md(text: str) -> str:
    """Text as one Markdown table cell: escaped for a terminal (``safe.clean``), and its
    pipes, backslashes and line breaks made literal, so a cell never splits the table."""
    return clean(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def flat_claim(d: dict[str, Any]) -> dict[str, str]:
    """A claim (``contract.claim_dict``) as CSV cells: names joined by ``; ``, notes and URLs
    by spaces, each link as ``id(kind)``."""
    src = d["source"]
    m = d.get("matched")
    out = {
        "id": d["id"],
        "claim": d["claim"],
        "date": d["date"] or "",
        "report": src["report"],
        "section": src["section"],
        "para": str(src["para"]),
        "notes": " ".join(map(str, src["notes"])),
        "people": "; ".join(p["name"] for p in d["people"]),
        "organizations": "; ".join(p["name"] for p in d["organizations"]),
        "places": "; ".join(p["name"] for p in d["places"]),
        "topics": "; ".join(t["label"] for t in d["topics"]),
        "note": d["note"] or "",
        "related": " ".join(f"{r['id']}({r['kind']})" for r in d["related"]),
        "urls": " ".join(src["urls"]),
        "score": "" if d.get("score") is None else str(d["score"]),
        "matched": f"{m['field']} {m['via']}: {m['form']}" if m else "",
        "citation": src["citation"],
        "url": src["passage_url"] or "",
    }
    if "cite" in d:
        out["cite"] = d["cite"]
    return out


SIDE_FIELDS = ("id", "claim", "date", "citation", "url")


def _side(prefix: str, d: dict[str, Any] | None) -> dict[str, str]:
    """One claim of a row that holds two, as ``<prefix>_id``, ``<prefix>_claim`` ... cells."""
    flat = flat_claim(d) if d else {}
    return {f"{prefix}_{f}": flat.get(f, "") for f in SIDE_FIELDS}


def _side_cell(prefix: str) -> Callable[[int, dict[str, str]], str]:
    """The Markdown cell of one side: the claim, its citation and date, its id."""

    def cell(i: int, r: dict[str, str]) -> str:
        if not r[f"{prefix}_id"]:
            return ""
        date = f", {md(r[prefix + '_date'])}" if r[f"{prefix}_date"] else ""
        return f"{md(r[prefix + '_claim'])} ({md(r[prefix + '_citation'])}{date}) `{md(r[prefix + '_id'])}`"

    return cell


def _claims(view: View, result: Any) -> Flat:
    rows = [flat_claim(d) for d in contract.records(view, result)]
    columns: list[tuple[str, Callable[[int, dict[str, str]], str]]] = [
        ("#", lambda i, r: str(i)),
        ("Claim", lambda i, r: md(r["claim"])),
        ("Source", lambda i, r: f"{md(r['citation'])} `{md(r['id'])}`"),
        ("Date", lambda i, r: md(r["date"])),
    ]
    if view.cite:
        columns.append(("Citation", lambda i, r: md(r["cite"])))
    return Flat([*CLAIM_FIELDS, *(["cite"] if view.cite else [])], rows, columns)


def _plain(view: View, result: Any, shown: tuple[str, ...] = ()) -> Flat:
    """Records of scalars (lists joined): every field a column; Markdown shows ``shown``
    (all when empty)."""
    recs = contract.records(view, result)
    fields = list(recs[0]) if recs else list(shown)
    rows = [{k: _cell(v) for k, v in r.items()} for r in recs]
    return Flat(fields, rows, [(k, _column(k)) for k in (shown or fields)])


def _column(key: str) -> Callable[[int, dict[str, str]], str]:
    return lambda i, r: md(r.get(key, ""))


def _pairs(view: View, result: Comparison) -> Flat:
    lkey, rkey = contract.side_keys(result.left, result.right)
    rows = [
        {"kind": rec["kind"], "note": rec["note"] or "", **_side(lkey, rec[lkey]), **_side(rkey, rec[rkey])}
        for rec in contract.comparison_rows(view.fb, result)
    ]
    fields = ["kind", "note", *_side(lkey, None), *_side(rkey, None)]
    columns = [("Link", lambda i, r: md(r["kind"])), (lkey.upper(), _side_cell(lkey)), (rkey.upper(), _side_cell(rkey))]
    return Flat(fields, rows, [*columns, ("Note", lambda i, r: md(r["note"]))])


def _conflicts(view: View, result: Conflicts) -> Flat:
    rows = []
    for rec in contract.conflicts_rows(view.fb, result):
        a, b = [*rec["claims"], None][:2]
        rows.append(
            {"type": rec["type"], "nature": rec["nature"] or "", "note": rec["note"] or "", **_side("a", a), **_side("b", b)}
        )
    fields = ["type", "nature", "note", *_side("a", None), *_side("b", None)]
    columns = [("Type", lambda i, r: md(r["nature"] or r["type"])), ("Note", lambda i, r: md(r["note"]))]
    return Flat(fields, rows, [*columns, ("Claim", _side_cell("a")), ("Other report", _side_cell("b"))])


FLATTEN: dict[str, Callable[[View, Any], Flat]] = {  # by the result type's name, as contract.SHAPES
    "Comparison": _pairs,
    "Conflicts": _conflicts,
    "Listing": lambda v, r: _plain(v, r, ("name", "id", "claims")),
    "Sources": lambda v, r: _plain(v, r, ("id", "title", "publisher", "author", "published", "covers", "url", "claims")),
    "Scores": _plain,
    "Stats": _plain,
}


def flatten(view: View, result: Any) -> Flat:
    """``result`` as rows of text cells: claims a row each (a shown claim: a table of one)."""
    return FLATTEN.get(type(result).__name__, _claims)(view, result)
