"""``--format markdown``: a Markdown table of the readable columns (``rows.flatten``), every
cell escaped (``rows.md``) so no text can break the table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .rows import flatten, md

if TYPE_CHECKING:
    from . import View


def render(view: View, result: Any) -> str:
    flat = flatten(view, result)
    lines = ["| " + " | ".join(md(h) for h, _ in flat.markdown) + " |", "|" + "---|" * len(flat.markdown)]
    for i, row in enumerate(flat.rows, 1):
        lines.append("| " + " | ".join(cell(i, row) for _, cell in flat.markdown) + " |")
    return "\n".join(lines) + "\n"
