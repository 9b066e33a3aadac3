"""The JSON writer: what ``json.dumps(value, ensure_ascii=False)`` writes, without importing
``json``.

A query's output is small, and importing the ``json`` package (its encoder, decoder and
scanner modules) is most of the cost of writing it. This writer is used whenever the format
is JSON or JSON Lines, on a terminal and in a pipe alike: the bytes differ only in
indentation (two spaces at a terminal, as ``json.dumps(..., indent=2)`` writes them; one
line in a pipe, as jq and other programs want it). Tests pin it byte for byte against the
``json`` module.
"""

from __future__ import annotations

from typing import Any

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
_SPECIAL_FLOATS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def json_string(text: str) -> str:
    """A JSON string literal, as ``json.dumps(text, ensure_ascii=False)`` writes it."""
    return '"' + text.translate(_JSON_ESCAPES) + '"'


def _scalar(value: Any) -> str | None:
    """The JSON text of a scalar, or None for a list or mapping."""
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
        text = float.__repr__(value)
        return _SPECIAL_FLOATS.get(text, text)
    if isinstance(value, (dict, list, tuple)):
        return None
    raise TypeError(f"not JSON data: {type(value).__name__}")


def json_value(value: Any) -> str:
    """JSON text on one line for plain data (dict, list, tuple, str, int, float, bool, None)."""
    text = _scalar(value)
    if text is not None:
        return text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json_string(str(k))}: {json_value(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(json_value(v) for v in value) + "]"


def json_indented(value: Any, indent: str = "  ", _level: str = "") -> str:
    """JSON text indented as ``json.dumps(value, ensure_ascii=False, indent=2)`` writes it."""
    text = _scalar(value)
    if text is not None:
        return text
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    inner = _level + indent
    if isinstance(value, dict):
        items = [f"{inner}{json_string(str(k))}: {json_indented(v, indent, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{_level}}}"
    return "[\n" + ",\n".join(inner + json_indented(v, indent, inner) for v in value) + f"\n{_level}]"


def dumps(value: Any, pretty: bool = False) -> str:
    """A JSON document and a final newline: indented when ``pretty`` (a person reading it)."""
    return (json_indented(value) if pretty else json_value(value)) + "\n"
