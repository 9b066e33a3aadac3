"""Citations of the report passage behind a claim, in text, Markdown, BibTeX and CSL-JSON."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .model import Claim, Report

if TYPE_CHECKING:
    from .factbase import FactBase


def _split_name(full: str) -> dict[str, str]:
    given, _, family = full.strip().rpartition(" ")
    return {"family": family, "given": given} if given else {"literal": full}


def _date_parts(published: str | None) -> list[int]:
    return [int(p) for p in (published or "").split("-") if p.isdigit()]


def _locator(fb: FactBase, claim: Claim) -> str:
    style = fb.reports[claim.report].note_style if claim.report in fb.reports else "note"
    notes = ", ".join(map(str, claim.notes))
    where = f'section "{claim.section}", paragraph {claim.para}'
    return where + (f", {style}{'s' if len(claim.notes) > 1 else ''} {notes}" if notes else "")


def _sources(fb: FactBase, claim: Claim) -> list[tuple[int, str, tuple[str, ...]]]:
    return [(n.n, n.text, n.urls) for n in fb.notes_of(claim) if n.text]


def _report_line(r: Report) -> str:
    parts = [r.author, f"“{r.title}”", r.publisher, r.published or ""]
    return ", ".join(p for p in parts if p)


def cite_text(fb: FactBase, claim: Claim) -> str:
    r = fb.reports[claim.report]
    link = fb.passage_url(claim)
    out = f"{_report_line(r)}, {_locator(fb, claim)}" + (f", {link}" if link else "") + "."
    for n, text, _urls in _sources(fb, claim):
        out += f"\n  [{n}] {text}"
    return out


def cite_markdown(fb: FactBase, claim: Claim) -> str:
    r = fb.reports[claim.report]
    title = f"[*{r.title}*]({r.url})" if r.url else f"*{r.title}*"
    parts = [r.author, title, r.publisher, r.published or ""]
    link = fb.passage_url(claim)
    where = f"[{_locator(fb, claim)}]({link})" if link else _locator(fb, claim)
    out = ", ".join(p for p in parts if p) + f", {where}."
    for n, text, urls in _sources(fb, claim):
        linked = re.sub(r"https?://\S+", lambda m: f"<{m.group()}>", text) if urls else text
        out += f"\n- [{n}] {linked}"
    return out


def _bib_escape(text: str) -> str:
    text = text.replace("\\", "\\textbackslash{}")
    for ch in "{}&%$#_":
        text = text.replace(ch, "\\" + ch)
    return text.replace("~", "\\textasciitilde{}").replace("^", "\\textasciicircum{}")


def cite_bibtex(fb: FactBase, claim: Claim) -> str:
    r = fb.reports[claim.report]
    parts = _date_parts(r.published)
    key = re.sub(r"[^A-Za-z0-9]+", "", _split_name(r.author).get("family", r.author)).lower() + (str(parts[0]) if parts else "")
    fields: list[tuple[str, str]] = [
        ("author", r.author),
        ("title", r.title),
        ("institution", r.publisher),
    ]
    if parts:
        fields.append(("year", str(parts[0])))
    if len(parts) > 1:
        fields.append(
            ("month", ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"][parts[1] - 1])
        )
    if r.url:
        fields.append(("url", r.url))
    note = _locator(fb, claim)
    sources = _sources(fb, claim)
    if sources:
        note += ". Sources cited there: " + "; ".join(f"[{n}] {text}" for n, text, _ in sources)
    fields.append(("note", note))
    fields.append(("annote", claim.claim))  # the claim itself, in the curators' words
    body = ",\n".join(f"  {name} = {{{_bib_escape(value)}}}" for name, value in fields)
    return f"@techreport{{{key}:{claim.id},\n{body}\n}}"


def cite_csl(fb: FactBase, claim: Claim) -> dict[str, Any]:
    r = fb.reports[claim.report]
    item: dict[str, Any] = {
        "id": claim.id,
        "type": "report",
        "title": r.title,
        "author": [_split_name(r.author)],
        "publisher": r.publisher,
        "locator": str(claim.para),
        "label": "paragraph",
        "section": claim.section,
        "note": _locator(fb, claim),
    }
    parts = _date_parts(r.published)
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if r.url:
        item["URL"] = r.url
    sources = _sources(fb, claim)
    if sources:
        item["references"] = "; ".join(f"[{n}] {text}" for n, text, _ in sources)
    item["annote"] = claim.claim  # the claim itself, in the curators' words
    return item


def cite(fb: FactBase, claim: Claim, style: str) -> str:
    """The citation as text ready to paste, in style ``text``, ``markdown``, ``bibtex`` or
    ``csl-json`` (a JSON array of one item)."""
    if style == "text":
        return cite_text(fb, claim)
    if style == "markdown":
        return cite_markdown(fb, claim)
    if style == "bibtex":
        return cite_bibtex(fb, claim)
    if style != "csl-json":
        raise ValueError(f"unknown citation style {style!r}")
    import json

    return json.dumps([cite_csl(fb, claim)], ensure_ascii=False, indent=2)


def cite_all(fb: FactBase, claims: list[Claim], style: str) -> str:
    """The citations of several claims as one text to paste: one claim's is ``cite``; for
    several, each follows its claim's text (text, Markdown), or they form one list (BibTeX
    entries one after another, one CSL-JSON array)."""
    if len(claims) == 1:
        return cite(fb, claims[0], style)
    if style == "csl-json":
        import json

        return json.dumps([cite_csl(fb, c) for c in claims], ensure_ascii=False, indent=2)
    if style == "bibtex":
        return "\n\n".join(cite_bibtex(fb, c) for c in claims)
    if style == "markdown":
        return "\n\n".join(f"> {c.claim}\n\n{cite_markdown(fb, c)}" for c in claims)
    return "\n\n".join(f"{c.claim}\n{cite_text(fb, c)}" for c in claims)
