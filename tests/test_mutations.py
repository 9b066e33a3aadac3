"""Hypothesis mutates the fixture fact files, by bytes and by YAML structure, and the CLI
must hold its promise on every result: exit 0, 1 or 2, never a traceback, and every claim
still there or a message naming the file that explains why (issue 15)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kzrights.load import packaged_facts_dir

from .conftest import MINI

FILES = sorted(p.relative_to(MINI).as_posix() for p in MINI.rglob("*.yaml"))
# Lines a hostile or careless author writes: impossible values, constructor tags, complex
# keys, aliases, extra documents, directives, tabs, control characters, huge numbers.
SNIPPETS = [
    "date: 2020-02-30",
    "para: !!int abc",
    "x: !!bool maybe",
    "x: !!float many",
    "x: !!binary '!'",
    "x: !!timestamp 2020-13-01",
    "? [a, b]\n: c",
    "? {a: b}\n: c",
    "a: &x [1, 2]\nb: *x",
    "<<: {para: 1}",
    "<<: 5",
    "---",
    "%YAML 1.1\n---",
    "x: !!python/object/apply:os.system ['true']",
    "\t- tab",
    'claim: "\\e]52;c;aGk=\\a\\u202e"',
    "para: .nan",
    "para: 1e400",
    "para: 100000000000000000000000",
    'id: "a-pol-01-dvk-banned\\n"',
    'date: "２０２０"',
    "[",
    "{a: 1",
    "*nope",
    "- id: a-pol-01-dvk-banned\n  para: 1\n  claim: twin",
    "people: [nobody]",
    "related: [a-pol-99-nowhere]",
    "scale: {min: 7, max: 7}",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


def _mutate_bytes(data: st.DataObject, raw: bytes) -> bytes:
    at = data.draw(st.integers(0, len(raw)))
    how = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
    if how == "flip" and at < len(raw):
        return raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1 :]
    if how == "insert":
        return raw[:at] + data.draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    if how == "delete":
        return raw[:at] + raw[at + data.draw(st.integers(1, 40)) :]
    return raw[:at]


def _mutate_snippet(data: st.DataObject, raw: bytes) -> bytes:
    lines = raw.decode("utf-8").split("\n")
    at = data.draw(st.integers(0, len(lines)))
    indent = data.draw(st.sampled_from(["", "  ", "    "]))
    snippet = "\n".join(indent + line for line in data.draw(st.sampled_from(SNIPPETS)).split("\n"))
    return "\n".join([*lines[:at], snippet, *lines[at:]]).encode("utf-8")


def _mutate_structure(data: st.DataObject, raw: bytes) -> bytes:
    doc = yaml.safe_load(raw)
    node, key = doc, None
    for _ in range(data.draw(st.integers(0, 4))):  # walk down to a random place
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        if not children:
            break
        key, child = data.draw(st.sampled_from(children))
        if not isinstance(child, (dict, list)):
            break
        node = child
    how = data.draw(st.sampled_from(["replace", "delete", "duplicate"]))
    if isinstance(node, dict) and node:
        key = data.draw(st.sampled_from(sorted(node, key=str)))
        if how == "delete":
            del node[key]
        else:
            node[key] = data.draw(VALUES) if how == "replace" else [node[key], node[key]]
    elif isinstance(node, list) and node:
        i = data.draw(st.integers(0, len(node) - 1))
        if how == "delete":
            del node[i]
        elif how == "duplicate":
            node.append(node[i])
        else:
            node[i] = data.draw(VALUES)
    return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")


def _claim_ids(facts: Path) -> set[str]:
    """The claim ids the (mutated) claim files hold, as YAML itself reads them."""
    ids: set[str] = set()
    for path in (facts / "claims").rglob("*.yaml"):
        doc = yaml.safe_load(path.read_bytes())
        ids |= {c["id"] for c in doc["claims"]}
    return ids


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_mutated_fact_files_keep_the_promise(run, data: st.DataObject) -> None:
    base = Path(tempfile.mkdtemp(prefix="kzmut-"))
    try:
        facts = base / "facts"
        shutil.copytree(MINI, facts)
        changed = set()
        for _ in range(data.draw(st.integers(1, 3), label="mutations")):
            rel = data.draw(st.sampled_from(FILES), label="file")
            path = facts / rel
            raw = path.read_bytes()
            kind = data.draw(st.sampled_from(["bytes", "snippet", "structure"]), label="kind")
            try:
                new = {"bytes": _mutate_bytes, "snippet": _mutate_snippet, "structure": _mutate_structure}[kind](data, raw)
            except Exception:  # no longer YAML that PyYAML builds (an earlier mutation): bytes it is
                new = _mutate_bytes(data, raw)
            path.write_bytes(new)
            changed.add(rel)

        r = run("validate", "--facts", str(facts))
        assert r.exit_code in (0, 1, 2), r.stderr
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert "Traceback" not in r.stderr
        if r.exit_code == 0:
            # every claim still there: exactly those the files hold
            e = run("export", "--format", "jsonl", "--facts", str(facts))
            assert e.exit_code == 0, e.stderr
            exported = {json.loads(line)["id"] for line in e.stdout.splitlines()}
            assert exported == _claim_ids(facts)
            assert r.stdout.startswith(f"ok: {len(exported)} claims,")
        else:
            # a message naming why: each problem names a file of the fact base (or a schema)
            lines = r.stderr.splitlines()
            summary = re.fullmatch(r"kzrights: (\d+) problem\(s\) in the fact base", lines[-1])
            assert summary and int(summary.group(1)) == len(lines) - 1 >= 1, lines
            for line in lines[:-1]:
                assert line.startswith((str(facts), str(packaged_facts_dir()))), line
                assert re.match(r"[^:]+(:\d+)?: \S", line), line
        # a query on the same files agrees with validate, through the cache it left
        q = run("search", "Report", "--json", "--facts", str(facts))
        assert q.exception is None or isinstance(q.exception, SystemExit), repr(q.exception)
        assert (q.exit_code == 2) == (r.exit_code == 2), (q.stderr, r.stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)
