"""Output: one renderer per format, chosen in one place (``render``).

Data formats (json, jsonl, csv, markdown) return strings and never import rich; the table
format returns rich renderables. Text from the fact base is never read as markup, and
control characters (terminal escapes) are made visible instead of being sent to the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from .model import Answer, Claim, Entity, Hit
from .safe import clean

if TYPE_CHECKING:
    from .factbase import FactBase


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"


def inert(text: str) -> str:
    """Text safe to show on a terminal: control and bidi characters shown as \\uXXXX
    (``safe.clean``, the one escaping function, under the name the renderers use)."""
    return clean(text)


# --------------------------------------------------------------------------- JSON shapes


def claim_dict(fb: FactBase, claim: Claim, hit: Hit | None = None) -> dict[str, Any]:
    """The JSON contract for one claim (documented in the README, pinned by a test)."""
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
    return out


def entity_dict(fb: FactBase, entity: Entity, claims: Sequence[Claim] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entity.id, "kind": entity.kind, "name": entity.name, "aliases": list(entity.aliases)}
    if entity.kind == "person":
        out["role"] = entity.role
    if entity.kind == "organization":
        out["category"] = entity.category
    out["description"] = entity.description
    if claims is not None:
        out["claims"] = [claim_dict(fb, c) for c in claims]
    return out


def side_keys(left: str, right: str) -> tuple[str, str]:
    """JSON keys for the two sides: ``fpc-2021``/``nit-2021`` -> ``fpc``/``nit``; ids whose
    first parts coincide keep their whole id."""
    a, b = left.split("-", 1)[0], right.split("-", 1)[0]
    return (a, b) if a != b else (left, right)


def comparison_dict(fb: FactBase, cmp: Any) -> dict[str, Any]:
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


def conflicts_dict(fb: FactBase, differs: Sequence[Any], noted: Sequence[Claim]) -> dict[str, Any]:
    """``conflicts --json``: ``{"differs": [{"note", "claims": [a, b]}], "notes": [...]}``."""
    return {
        "differs": [{"note": p.note, "claims": [claim_dict(fb, p.left), claim_dict(fb, p.right)]} for p in differs],
        "notes": [claim_dict(fb, x) for x in noted],
    }


def source_dicts(fb: FactBase) -> list[dict[str, Any]]:
    """``sources --json``: each report with its URL, coverage and claim count."""
    counts = fb.report_counts()
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
            "claims": counts.get(r.id, 0),
        }
        for r in fb.reports.values()
    ]


def no_answer_message(answer: Answer, filtered: bool = False) -> str:
    """Why a search answered nothing: ``no claim in the reports answers 'Q'; no claim holds: w``."""
    message = f"no claim in the reports answers {answer.query!r}" + (" with these filters" if filtered else "")
    if answer.missing and " ".join(answer.missing).casefold() != answer.query.strip().casefold():
        message += f"; no claim holds: {', '.join(answer.missing)}"
    return message


def dumps(value: Any, pretty: bool | None = None) -> str:
    """JSON text: indented for a person at a terminal, one line for a pipe (jq indents it
    anyway, and the compact encoder is the fast C one)."""
    import json
    import sys

    if pretty is None:
        pretty = sys.stdout.isatty()
    return json.dumps(value, ensure_ascii=False, indent=2 if pretty else None) + "\n"


# --------------------------------------------------------------------------- flat formats

CSV_FIELDS = (
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
)


def _flat(d: dict[str, Any]) -> dict[str, str]:
    src = d["source"]
    m = d.get("matched")
    return {
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
    }


def to_csv(rows: Sequence[dict[str, Any]], fields: Sequence[str] = CSV_FIELDS) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(_flat(r) if "source" in r else r)
    return buf.getvalue()


def _md_cell(text: str) -> str:
    return inert(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| # | Claim | Source | Date |", "|---|---|---|---|"]
    for i, d in enumerate(rows, 1):
        cite = _md_cell(d["source"]["citation"])
        lines.append(f"| {i} | {_md_cell(d['claim'])} | {cite} `{_md_cell(d['id'])}` | {_md_cell(d['date'] or '')} |")
    return "\n".join(lines) + "\n"


_JSON_ESCAPES = {
    **{i: f"\\u{i:04x}" for i in range(0x20)},
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    ord('"'): '\\"',
    ord("\\"): "\\\\",
}


def json_string(text: str) -> str:
    """A JSON string literal, as ``json.dumps(text, ensure_ascii=False)`` writes it."""
    return '"' + text.translate(_JSON_ESCAPES) + '"'


def json_value(value: Any) -> str:
    """JSON text for plain data (dict, list, str, int, float, bool, None), as
    ``json.dumps(value, ensure_ascii=False)`` writes it, without importing json (a query's
    output is small; the import is most of its cost)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json_string(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
        return float.__repr__(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json_string(str(k))}: {json_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_value(v) for v in value) + "]"
    raise TypeError(f"not JSON data: {type(value).__name__}")


def claim_json(fb: FactBase, claim: Claim, hit: Hit | None = None) -> str:
    """One claim as JSON text (``claim_dict`` through ``json_value``)."""
    return json_value(claim_dict(fb, claim, hit))


def render_claim_rows(rows: Sequence[dict[str, Any]], fmt: Format) -> str:
    """Claims (as contract dicts) in a data format."""
    if fmt is Format.json:
        return dumps(list(rows))
    if fmt is Format.jsonl:
        import json

        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt is Format.csv:
        return to_csv(rows)
    if fmt is Format.markdown:
        return to_markdown(rows)
    raise ValueError(fmt)


# --------------------------------------------------------------------------- plain text


def claim_card(fb: FactBase, claim: Claim, width: int = 80, color: bool = False) -> str:
    """One claim in full, as wrapped plain text (``show``): no rich import for one record."""
    import textwrap

    def style(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    def para(text: str, indent: str = "") -> list[str]:
        return textwrap.wrap(inert(text), width=max(width, 30), initial_indent=indent, subsequent_indent=indent) or [indent]

    rep = fb.reports.get(claim.report)
    out = [style(line, "1") for line in para(claim.claim)]
    out.append("")
    if rep:
        out += para(f"{rep.author}, {rep.title}, {rep.publisher}" + (f", {rep.published}" if rep.published else ""))
        if rep.url:
            out.append(inert(rep.url))  # whole, on its own line: never broken at a hyphen
    link = fb.passage_url(claim)
    if link and rep and link != rep.url:
        out.append("Passage:")
        out.append(inert(link))  # the report's page opened at the passage, highlighted
    out.append(style(inert(f"Section: {claim.section}, paragraph {claim.para}"), "36"))
    if claim.date:
        out.append(style(f"Date: {claim.date}", "32"))
    for label, refs, kind in (
        ("People", claim.people, "person"),
        ("Organisations", claim.organizations, "organization"),
        ("Places", claim.places, "place"),
    ):
        if refs:
            out += para(f"{label}: " + ", ".join(fb.entity_name(kind, r) for r in refs))
    if claim.topics:
        out += para("Topics: " + ", ".join(fb.topics[t].label for t in claim.topics if t in fb.topics))
    if claim.note:
        out += [style(line, "3") for line in para(f"Curator's note: {claim.note}")]
    for n in fb.notes_of(claim):
        text = n.text or f"{rep.note_style if rep else 'note'} {n.n} (its text is not in the fact base)"
        out += para(f"[{n.n}] {text}")
    for ln, other in fb.related_claims(claim):
        out.append("")
        out.append(style(f"{ln.kind}: ", "35") + inert(f"{other.id} ({fb.citation(other)})"))
        out += para(other.claim, "  ")
        if ln.note:
            out += [style(line, "3") for line in para(ln.note, "  ")]
    out.append("")
    out.append(style(inert(f"{claim.id} · {claim.file}:{claim.line}"), "2"))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- rich tables


def _highlight(text: str, query: str | None) -> Any:
    """The claim as rich Text, with the words that match the query (in any spelling) in bold."""
    from rich.text import Text

    t = Text(inert(text))
    if query:
        from .search import STOPWORDS
        from .text import fold_word, normalize_text

        keys = {fold_word(w) for w in normalize_text(query).split() if w not in STOPWORDS and len(w) > 1}
        for m in re.finditer(r"\w+", t.plain):
            words = normalize_text(m.group()).split()
            if words and any(fold_word(words[0]).startswith(k) for k in keys if len(k) >= 3 or k == fold_word(words[0])):
                t.stylize("bold yellow", m.start(), m.end())
    return t


def claims_table(
    fb: FactBase, items: Sequence[Hit | Claim], query: str | None = None, title: str | None = None, cite: bool = False
) -> Any:
    """A table of claims: text (matched words highlighted), citation, date, why it matched."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=inert(title) if title else None, show_lines=True, expand=True, title_justify="left")
    table.add_column("#", justify="right", no_wrap=True, width=3)
    table.add_column("Claim", ratio=2, overflow="fold")
    table.add_column("Source", ratio=1, overflow="fold", style="cyan")
    for i, item in enumerate(items, 1):
        hit = item if isinstance(item, Hit) else None
        claim = item.claim if isinstance(item, Hit) else item
        src = Text(inert(fb.citation(claim)))
        if claim.date:
            src.append(f"\n{claim.date}", style="green")
        links = _link_summary(fb, claim)
        if links:
            src.append(f"\n{links}", style="magenta")
        if hit is not None and hit.match is not None:
            src.append(f"\n{inert(hit.match.describe())}", style="dim")
        body = _highlight(claim.claim, query)
        if claim.note:
            body.append(f"\nNote: {inert(claim.note)}", style="italic")
        body.append(f"\n{claim.id}", style="dim")
        if cite:
            from .cite import cite_text

            body.append(f"\n{inert(cite_text(fb, claim))}", style="green")
        table.add_row(str(i), body, src)
    return table


def _link_summary(fb: FactBase, claim: Claim) -> str:
    """``+1 NIT`` style: how many linked claims in each other report, and whether any differ."""
    counts: dict[str, int] = {}
    differs = False
    for ln in claim.related:
        if fb.has_claim(ln.id):
            other = fb.claim(ln.id)
            short = (
                fb.reports[other.report].short.split()[-2]
                if other.report in fb.reports and len(fb.reports[other.report].short.split()) > 1
                else other.report
            )
            counts[short] = counts.get(short, 0) + 1
            differs |= ln.kind == "differs"
    parts = [f"+{n} {inert(k)}" for k, n in counts.items()]
    return " ".join(parts) + (" (differs)" if differs else "")


def entity_panel(fb: FactBase, entity: Entity, n_claims: int) -> Any:
    from rich.text import Text

    t = Text()
    t.append(inert(entity.name), style="bold")
    t.append(inert(f"  ({entity.kind}: {entity.id})"), style="dim")
    if entity.role:
        t.append(f"\n{inert(entity.role)}")
    if entity.category:
        t.append(f"\n{inert(entity.category)}")
    if entity.description:
        t.append(f"\n{inert(entity.description)}")
    if entity.aliases:
        t.append("\nAlso: " + inert(", ".join(entity.aliases)), style="dim")
    t.append(f"\n{n_claims} claim(s)")
    return t


def simple_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*[inert(str(x)) if not hasattr(x, "__rich__") and not hasattr(x, "__rich_console__") else x for x in r])
    return table


def _claim_cell(fb: FactBase, claim: Claim) -> Any:
    from rich.text import Text

    t = Text(inert(claim.claim))
    t.append(f"\n{inert(fb.citation(claim))}", style="cyan")
    if claim.date:
        t.append(f"  {claim.date}", style="green")
    t.append(f"\n{claim.id}", style="dim")
    return t


_KIND_MARK = {"corroborates": "=", "complements": "+", "differs": "≠", "same-event": "~"}


def comparison_table(fb: FactBase, cmp: Any) -> Any:
    """Two columns, one per report: linked claims on one row (= corroborates, + complements,
    ≠ differs), then each report's unlinked claims."""
    from rich.table import Table
    from rich.text import Text

    left, right = fb.reports[cmp.left], fb.reports[cmp.right]
    table = Table(
        title=inert(
            f"{cmp.subject}: {len(cmp.pairs)} linked, {len(cmp.left_only)} {left.short} only, "
            f"{len(cmp.right_only)} {right.short} only"
        ),
        show_lines=True,
        expand=True,
        title_justify="left",
    )
    table.add_column(inert(left.short), ratio=1, overflow="fold")
    table.add_column("", width=1, no_wrap=True)
    table.add_column(inert(right.short), ratio=1, overflow="fold")
    for p in cmp.pairs:
        right_cell = _claim_cell(fb, p.right)
        if p.note:
            right_cell.append(f"\n{p.kind}: {inert(p.note)}", style="italic magenta")
        table.add_row(_claim_cell(fb, p.left), Text(_KIND_MARK.get(p.kind, "~"), style="bold magenta"), right_cell)
    for c in cmp.left_only:
        table.add_row(_claim_cell(fb, c), "", "")
    for c in cmp.right_only:
        table.add_row("", "", _claim_cell(fb, c))
    return table


def conflicts_tables(fb: FactBase, differs: Sequence[Any], noted: Sequence[Claim]) -> list[Any]:
    from rich.table import Table
    from rich.text import Text

    out = []
    t = Table(title=f"Where the reports differ ({len(differs)})", show_lines=True, expand=True, title_justify="left")
    t.add_column("Claim", ratio=2, overflow="fold")
    t.add_column("Other report", ratio=2, overflow="fold")
    t.add_column("Difference", ratio=1, overflow="fold", style="magenta")
    for p in differs:
        t.add_row(_claim_cell(fb, p.left), _claim_cell(fb, p.right), Text(inert(p.note or "")))
    out.append(t)
    n = Table(title=f"Curators' notes on the reports' text ({len(noted)})", show_lines=True, expand=True, title_justify="left")
    n.add_column("Claim", ratio=2, overflow="fold")
    n.add_column("Note", ratio=1, overflow="fold", style="italic")
    for c in noted:
        n.add_row(_claim_cell(fb, c), Text(inert(c.note or "")))
    out.append(n)
    return out


def timeline_table(fb: FactBase, claims: Sequence[Claim]) -> Any:
    """Claims in date order, a section per year."""
    from rich.table import Table
    from rich.text import Text

    table = Table(expand=True, show_lines=False, title=f"{len(claims)} dated claim(s)", title_justify="left")
    table.add_column("Date", no_wrap=True, style="green", width=10)
    table.add_column("Claim", ratio=3, overflow="fold")
    table.add_column("Source", ratio=1, overflow="fold", style="cyan")
    year = None
    for c in claims:
        y = (c.date or "")[:4]
        if y != year:
            if year is not None:
                table.add_section()
            table.add_row(Text(f"── {y}", style="bold"), "", "")
            year = y
        table.add_row(c.date or "", Text(inert(c.claim)), Text(inert(fb.citation(c) + "\n" + c.id)))
    return table
