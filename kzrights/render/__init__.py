"""Output: one renderer per format behind one registry, chosen in one place, written once.

``emit(fb, result, fmt)`` renders a ``queries`` result in a format and writes it to stdout
(through a pager when it is taller than the terminal: ``output``). A new format is a module
with ``render(view, result) -> str`` and a line in ``RENDERERS``.

- ``as_table``: rich tables for a person at a terminal (rich is imported only here);
- ``as_json``, ``as_jsonl``: the shapes of ``contract``, written by ``jsontext``;
- ``as_csv``, ``as_markdown``: the flat rows of ``rows``.

Every text from a fact file or the command line passes ``safe.clean`` on its way out.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ..factbase import FactBase


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"


# format -> the module that renders it, imported only when that format is asked for
RENDERERS = {
    Format.table: "as_table",
    Format.json: "as_json",
    Format.jsonl: "as_jsonl",
    Format.csv: "as_csv",
    Format.markdown: "as_markdown",
}


class View(NamedTuple):
    """What a renderer needs beside the result: the fact base (names, citations), the
    terminal's width and whether to colour, and the options that change every format."""

    fb: FactBase
    width: int = 80
    color: bool = False
    cite: bool = False  # each claim with its text citation (search --cite)
    pretty: bool = False  # JSON indented, for a person reading it


def render(view: View, result: Any, fmt: Format | str = Format.table) -> str:
    """``result`` as text in ``fmt``."""
    from importlib import import_module

    text: str = import_module(f"{__name__}.{RENDERERS[Format(fmt)]}").render(view, result)
    return text


def emit(fb: FactBase, result: Any, fmt: Format | str = Format.table, cite: bool = False, pager: bool = True) -> None:
    """Render ``result`` and write it to stdout once: through the pager on a terminal when
    it is taller than the screen (unless ``pager`` is False), never in a pipe."""
    from . import output

    width, color, tty = output.terminal()
    text = render(View(fb, width, color, cite, pretty=tty), result, fmt)
    output.show(text, styled=Format(fmt) is Format.table, pager=pager)
