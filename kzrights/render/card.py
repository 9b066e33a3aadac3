"""One claim in full as wrapped plain text (``show``, the MCP server's ``get_claim``): no
rich import for one record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Claim
from ..safe import clean

if TYPE_CHECKING:
    from ..factbase import FactBase


def claim_card(fb: FactBase, claim: Claim, width: int = 80, color: bool = False) -> str:
    """One claim in full, as wrapped plain text: the claim, the report and the link to the
    passage, the locator, date, names, topics, the curator's note, the report's notes with
    their URLs, and the linked claims. URLs and ids are never broken across lines."""
    import textwrap

    def style(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    def para(text: str, indent: str = "") -> list[str]:
        lines = textwrap.wrap(
            clean(text),
            width=max(width, 30),
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,  # a URL or an id stays whole: longer than the line, it overflows
            break_on_hyphens=False,
        )
        return lines or [indent]

    rep = fb.reports.get(claim.report)
    out = [style(line, "1") for line in para(claim.claim)]
    out.append("")
    if rep:
        out += para(f"{rep.author}, {rep.title}, {rep.publisher}" + (f", {rep.published}" if rep.published else ""))
        if rep.url:
            out.append(clean(rep.url))  # whole, on its own line: never broken at a hyphen
    link = fb.passage_url(claim)
    if link and rep and link != rep.url:
        out.append("Passage:")
        out.append(clean(link))  # the report's page opened at the passage, highlighted
    out.append(style(clean(f"Section: {claim.section}, paragraph {claim.para}"), "36"))
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
        out.append(style(f"{ln.kind}: ", "35") + clean(f"{other.id} ({fb.citation(other)})"))
        out += para(other.claim, "  ")
        if ln.note:
            out += [style(line, "3") for line in para(ln.note, "  ")]
    out.append("")
    out.append(style(clean(f"{claim.id} · {claim.file}:{claim.line}"), "2"))
    return "\n".join(out) + "\n"
