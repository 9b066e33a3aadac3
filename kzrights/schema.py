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
from collections.abc import Iterator
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


def check(value: Any, schema: dict[str, Any], path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Yield ``(path, message)`` for every way ``value`` breaks ``schema``."""
    if "oneOf" in schema:
        options = schema["oneOf"]
        if not any(not list(check(value, s, path)) for s in options):
            # Report against the option whose type fits, if any, for a useful message.
            fitting = [s for s in options if "type" not in s or _type_ok(value, s["type"])]
            if fitting:
                yield from check(value, fitting[0], path)
            else:
                yield path, f"has the wrong type: {_describe(value)}"
        return
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_type_ok(value, n) for n in names):
            yield path, f"must be {' or '.join(names)}, not {_describe(value)}"
            return
    if "enum" in schema and value not in schema["enum"]:
        yield path, f"must be one of {', '.join(map(str, schema['enum']))}, not {value!r}"
    if isinstance(value, str):
        if len(value.strip()) < schema.get("minLength", 0):
            yield path, "must not be empty"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield path, f"is {len(value)} characters long; the limit is {schema['maxLength']}"
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            why = schema.get("errorMessage") or f"does not match the form {schema['pattern']}"
            yield path, f"{value!r} {why}"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "minimum" in schema and value < schema["minimum"]:
        yield path, f"must be at least {schema['minimum']}, not {value}"
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value or value[key] is None:
                yield path, f"missing required field '{key}'"
        for key, item in value.items():
            if key in props:
                if item is not None or key in schema.get("required", []):
                    yield from check(item, props[key], (*path, key))
            elif schema.get("additionalProperties", True) is False:
                known = ", ".join(sorted(props))
                yield (*path, key), f"unknown field '{key}' (known fields: {known})"
    if isinstance(value, list):
        items = schema.get("items")
        if items is not None:
            for i, item in enumerate(value):
                yield from check(item, items, (*path, i))
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for i, item in enumerate(value):
                if item in seen:
                    yield (*path, i), f"repeats {item!r}"
                seen.append(item)
