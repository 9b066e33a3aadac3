"""Checks data against the JSON Schemas shipped in ``facts/schema/``.

A small interpreter for the subset of JSON Schema those files use (type, required,
properties, additionalProperties, items, enum, pattern, minLength, maxLength, minimum,
uniqueItems, oneOf), plus ``errorMessage`` (the ajv-errors convention) for a friendlier
message when a pattern fails. It returns every problem with the path of the value, so the loader
can name the file and line; a full validator library would add an import and a dependency
for no gain on files this small.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Path = tuple[str | int, ...]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _type_ok(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def _describe(value: Any) -> str:
    kind = type(value).__name__
    names = {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "list": "a list",
        "dict": "a mapping",
        "NoneType": "empty",
        "bool": "true/false",
    }
    return names.get(kind, f"a {kind} (quote it to make it a string)")


def check(value: Any, schema: dict[str, Any], path: Path = ()) -> list[tuple[Path, str]]:
    """Every ``(path, message)`` for the ways ``value`` breaks ``schema`` (empty when valid)."""
    out: list[tuple[Path, str]] = []
    _check(value, schema, path, out)
    return out


def _check(value: Any, schema: dict[str, Any], path: Path, out: list[tuple[Path, str]]) -> None:
    if "oneOf" in schema:
        options = schema["oneOf"]
        if not any(not check(value, s, path) for s in options):
            # Report against the option whose type fits, if any, for a useful message.
            fitting = [s for s in options if "type" not in s or _type_ok(value, s["type"])]
            if fitting:
                _check(value, fitting[0], path, out)
            else:
                out.append((path, f"has the wrong type: {_describe(value)}"))
        return
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else (expected,)
        if not any(_type_ok(value, n) for n in names):
            out.append((path, f"must be {' or '.join(names)}, not {_describe(value)}"))
            return
    if "enum" in schema and value not in schema["enum"]:
        out.append((path, f"must be one of {', '.join(map(str, schema['enum']))}, not {value!r}"))
    if isinstance(value, str):
        if "minLength" in schema and len(value.strip()) < schema["minLength"]:
            out.append((path, "must not be empty"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append((path, f"is {len(value)} characters long; the limit is {schema['maxLength']}"))
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            why = schema.get("errorMessage") or f"does not match the form {schema['pattern']}"
            out.append((path, f"{value!r} {why}"))
    elif isinstance(value, dict):
        props = schema.get("properties", {})
        required = schema.get("required", ())
        for key in required:
            if key not in value or value[key] is None:
                out.append((path, f"missing required field '{key}'"))
        closed = schema.get("additionalProperties", True) is False
        for key, item in value.items():
            sub = props.get(key)
            if sub is not None:
                if item is not None or key in required:
                    _check(item, sub, (*path, key), out)
            elif closed:
                known = ", ".join(sorted(props))
                out.append(((*path, key), f"unknown field '{key}' (known fields: {known})"))
    elif isinstance(value, list):
        items = schema.get("items")
        if items is not None:
            for i, item in enumerate(value):
                _check(item, items, (*path, i), out)
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for i, item in enumerate(value):
                if item in seen:
                    out.append(((*path, i), f"repeats {item!r}"))
                seen.append(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and "minimum" in schema and value < schema["minimum"]:
        out.append((path, f"must be at least {schema['minimum']}, not {value}"))
