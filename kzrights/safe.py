"""The one escaping function for text on its way to a terminal or a file.

Fact files and command lines are written by people kzrights does not control. A claim, a
name, a file name or a query can hold bytes a terminal obeys: an escape sequence (colours,
cursor moves, an OSC 52 write to the clipboard, an OSC 8 link, a window title), a carriage
return that overwrites the line, a bidi override that shows text in another order than it
is stored. ``clean`` makes every such character visible as ``\\uXXXX`` instead, so what is
shown is what is stored; everything else, every script included, passes unchanged.

JSON needs no exception: ``\\u009b`` inside a JSON string is the JSON escape of the same
character, so cleaned JSON text still parses to the original data.
"""

from __future__ import annotations

# C0 controls but tab and newline, DEL, C1 controls (0x9b is an 8-bit CSI), zero-width and
# direction marks, the bidi embeddings, overrides and isolates, the Arabic letter mark, line
# and paragraph separators (a line break to some terminals), and the byte-order mark.
_UNSAFE = [
    *range(0x00, 0x09),
    *range(0x0B, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    *range(0x200B, 0x2010),
    *range(0x2028, 0x202F),
    *range(0x2066, 0x206A),
    0xFEFF,
    *range(0xD800, 0xE000),  # lone surrogates: a file name that is not UTF-8 (unwritable as UTF-8)
]
_TABLES: list[dict[int, str]] = []  # built on first need: most texts have nothing to escape


def _tables() -> list[dict[int, str]]:
    """str.translate tables (no regex to compile on every run): the escapes, and the same
    with tab and newline for a text that must stay on one line (a message)."""
    if not _TABLES:
        table = {c: f"\\u{c:04x}" for c in _UNSAFE}
        _TABLES.extend((table, {**table, 0x09: "\\u0009", 0x0A: "\\u000a"}))
    return _TABLES


def clean(text: str, one_line: bool = False) -> str:
    """``text`` with every character a terminal would obey shown as ``\\uXXXX``.

    >>> clean("red \\x1b[31mtext\\x1b[0m")
    'red \\\\u001b[31mtext\\\\u001b[0m'

    ``one_line`` escapes tab and newline as well, for a message that must stay one line.
    """
    # Every character escaped is one str.isprintable refuses, so a text it accepts is safe as
    # it stands: the common case, checked in C at a few ns a character.
    if (text if one_line else text.replace("\n", "").replace("\t", "")).isprintable():
        return text
    return text.translate(_tables()[one_line])
