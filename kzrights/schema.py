"""Checks data against the JSON Schemas shipped in ``facts/schema/``.

A small interpreter for the subset of JSON Schema those files use (type, required,
properties, additionalProperties, items, enum, pattern, minLength, maxLength, minimum,
uniqueItems, oneOf), plus ``errorMessage`` (the ajv-errors convention) for a friendlier
message when a pattern fails. It returns every problem with the path of the value, so the loader
can name the file and line; a full validator library would add an import and a dependency
for no gain on files this small.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

Path = tuple[str | int, ...]
# Integers a fact file may hold: what SQLite (the export) and JSON readers take exactly.
INT_LIMIT = 2**63 - 1


class SchemaError(ValueError):
    """A schema file that cannot be applied (an unknown type name, a broken pattern)."""


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
    """A JSON Schema pattern (ECMA-262) as a Python regex with the same meaning: ``\\d`` and
    ``\\w`` are ASCII (``re.ASCII``), and ``$`` is the end of the text, not the place
    before a final newline (``\\Z``)."""
    try:
        return re.compile(_ecma_dollars(pattern), re.ASCII)
    except re.error as exc:
        raise SchemaError(f"pattern {pattern!r} is not a regular expression: {exc}") from None


def _ecma_dollars(pattern: str) -> str:
    """Every ``$`` that is an anchor (not escaped, not in a character class) as ``\\Z``."""
    out = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        out.append("\\Z" if ch == "$" and not in_class else ch)
        i += 1
    return "".join(out)


def _type_ok(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    if name not in _TYPES:
        raise SchemaError(f"unknown type {name!r}")
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
    """Every ``(path, message)`` for the ways ``value`` breaks ``schema`` (empty when valid).

    Whatever the schema says, a number must be finite (no ``.nan``, ``.inf``) and an
    integer must fit in 64 bits. ``SchemaError`` when the schema itself cannot be applied.
    """
    if not path and _sound(schema)(value):
        return []
    out: list[tuple[Path, str]] = []
    try:
        _check(value, schema, path, out)
    except SchemaError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, re.error) as exc:
        raise SchemaError(f"cannot be applied: {type(exc).__name__}: {exc}") from None
    return out


# --------------------------------------------------------------------------- the quick test

_COMPILED: dict[int, tuple[dict[str, Any], Any]] = {}
_PLAIN_KEYS = {"type", "properties", "required", "additionalProperties", "items", "enum", "pattern", "minLength"}
_PLAIN_KEYS |= {"maxLength", "minimum", "uniqueItems", "description", "title", "errorMessage", "maximum", "minItems"}
_PLAIN_KEYS |= {"$schema"}


def _sound(schema: dict[str, Any]) -> Any:
    """``value -> bool``: True only when ``check`` would find nothing wrong with ``value``.
    The schema is compiled once into nested tests (a fact base of 100,000 claims is checked
    in less than half the time); a value that fails them is checked again by the interpreter
    above, which says what is wrong. Anything the tests are unsure of fails them."""
    got = _COMPILED.get(id(schema))
    if got is None or got[0] is not schema:
        try:
            fn = _compile(schema)
        except (SchemaError, TypeError, KeyError, AttributeError, ValueError, re.error):
            fn = _unsure
        got = _COMPILED[id(schema)] = (schema, fn)
    return got[1]


def _unsure(value: Any) -> bool:
    return False


def _compile(schema: dict[str, Any]) -> Any:
    if isinstance(schema, dict) and "oneOf" in schema:  # (as ``_check_one_of`` reads it: any of them)
        options = [_compile(s) for s in schema["oneOf"]]
        return lambda value: any(option(value) for option in options)
    if not isinstance(schema, dict) or set(schema) - _PLAIN_KEYS:
        return _unsure  # anything the interpreter alone knows
    expected = schema.get("type")
    names = (expected if isinstance(expected, list) else [expected]) if expected is not None else None
    kinds = tuple({t for n in names for t in _TYPES[n]}) if names is not None else None
    numbers_only = names is not None and not {"boolean"} & set(names) and {"integer", "number"} & set(names)
    enum = schema.get("enum")
    string = _compile_string(schema)
    mapping = _compile_mapping(schema)
    items = _compile(schema["items"]) if "items" in schema else None
    unique = bool(schema.get("uniqueItems"))
    minimum = schema.get("minimum")

    def sound(value: Any) -> bool:
        cls = type(value)
        if kinds is not None and not isinstance(value, kinds):
            return False
        if cls is bool:
            if numbers_only:
                return False
        elif isinstance(value, (int, float)) and (_number_problem(value) or (minimum is not None and value < minimum)):
            return False
        if enum is not None and value not in enum:
            return False
        if cls is str:
            return string(value)
        if cls is dict:
            return mapping(value)
        if cls is list:
            if items is not None and not all(map(items, value)):
                return False
            return not unique or len({_hashable(v) for v in value}) == len(value)
        return not isinstance(value, (str, dict, list))  # (a subclass: the interpreter decides)

    return sound


def _compile_string(schema: dict[str, Any]) -> Any:
    least, most = schema.get("minLength"), schema.get("maxLength")
    pattern = _regex(schema["pattern"]).search if "pattern" in schema else None

    def sound(value: str) -> bool:
        if least is not None and len(value.strip()) < least:
            return False
        if most is not None and len(value) > most:
            return False
        return pattern is None or pattern(value) is not None

    return sound


def _compile_mapping(schema: dict[str, Any]) -> Any:
    props = {k: _compile(v) for k, v in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    closed = schema.get("additionalProperties", True) is False

    def sound(value: dict[str, Any]) -> bool:
        for key in required:
            if value.get(key) is None:
                return False
        for key, item in value.items():
            sub = props.get(key)
            if sub is None:
                if closed:
                    return False
            elif (item is not None or key in required) and not sub(item):
                return False
        return True

    return sound


# --------------------------------------------------------------------------- the interpreter


def _check(value: Any, schema: dict[str, Any], path: Path, out: list[tuple[Path, str]]) -> None:
    if "oneOf" in schema:
        _check_one_of(value, schema["oneOf"], path, out)
        return
    why = _number_problem(value) or _type_problem(value, schema.get("type"))
    if why:
        out.append((path, why))
        return
    if "enum" in schema and value not in schema["enum"]:
        out.append((path, f"must be one of {', '.join(map(str, schema['enum']))}, not {value!r}"))
    if isinstance(value, str):
        _check_string(value, schema, path, out)
    elif isinstance(value, dict):
        _check_mapping(value, schema, path, out)
    elif isinstance(value, list):
        _check_list(value, schema, path, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and "minimum" in schema and value < schema["minimum"]:
        out.append((path, f"must be at least {schema['minimum']}, not {value}"))


def _check_one_of(value: Any, options: list[dict[str, Any]], path: Path, out: list[tuple[Path, str]]) -> None:
    if any(not check(value, s, path) for s in options):
        return
    # Report against the option whose type fits, if any, for a useful message.
    fitting = [s for s in options if "type" not in s or _type_ok(value, s["type"])]
    if fitting:
        _check(value, fitting[0], path, out)
    else:
        out.append((path, f"has the wrong type: {_describe(value)}"))


def _number_problem(value: Any) -> str | None:
    """Whatever the schema says: a number is finite, an integer fits in 64 bits."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT_LIMIT:
        return f"is too large a number ({len(str(abs(value)))} digits); the limit is {INT_LIMIT}"
    return None


def _type_problem(value: Any, expected: str | list[str] | None) -> str | None:
    if expected is None:
        return None
    names = expected if isinstance(expected, list) else (expected,)
    if any(_type_ok(value, n) for n in names):
        return None
    return f"must be {' or '.join(names)}, not {_describe(value)}"


def _check_string(value: str, schema: dict[str, Any], path: Path, out: list[tuple[Path, str]]) -> None:
    if "minLength" in schema and len(value.strip()) < schema["minLength"]:
        out.append((path, "must not be empty"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append((path, f"is {len(value)} characters long; the limit is {schema['maxLength']}"))
    if "pattern" in schema and not _regex(schema["pattern"]).search(value):
        why = schema.get("errorMessage") or f"does not match the form {schema['pattern']}"
        out.append((path, f"{value!r} {why}"))


def _check_mapping(value: dict[str, Any], schema: dict[str, Any], path: Path, out: list[tuple[Path, str]]) -> None:
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


def _check_list(value: list[Any], schema: dict[str, Any], path: Path, out: list[tuple[Path, str]]) -> None:
    items = schema.get("items")
    if items is not None:
        for i, item in enumerate(value):
            _check(item, items, (*path, i), out)
    if schema.get("uniqueItems"):
        seen: set[Any] = set()  # a set, not a list: a long list is checked in linear time
        for i, item in enumerate(value):
            key = _hashable(item)
            if key in seen:
                out.append(((*path, i), f"repeats {item!r}"))
            seen.add(key)


def _hashable(value: Any) -> Any:
    """A key equal for equal JSON values (lists and mappings included), to find repeats."""
    if isinstance(value, dict):
        return ("{", frozenset((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[", tuple(_hashable(v) for v in value))
    if isinstance(value, bool):
        return ("b", value)  # true is not 1 in JSON
    return value
