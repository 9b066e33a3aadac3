"""quickyaml reads a claim file exactly as PyYAML does (data and each claim's line), or not
at all: on every fact file, on every form where YAML 1.1 and 1.2 part, and on thousands
of files put together at random from the forms fact files are written in."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from kzrights import load, quickyaml
from kzrights.load import packaged_facts_dir

FACTS = packaged_facts_dir()


def pyyaml(text: str) -> tuple[Any, list[int]] | None:
    """What the whole build reads: the data and the claims' lines, or None on a problem."""
    doc, problems = load.read_yaml(Path("x.yaml"), "x.yaml", text.encode("utf-8"))
    if doc is None or problems or not isinstance(doc.data, dict) or not isinstance(doc.data.get("claims"), list):
        return None
    return doc.data, [doc.line(("claims", i)) for i in range(len(doc.data["claims"]))]


def same_or_none(text: str) -> bool:
    """quickyaml's reading is PyYAML's (with the same types), or it declines."""
    got = quickyaml.claim_file(text)
    if got is None:
        return False
    want = pyyaml(text)
    assert want is not None, f"quickyaml read what PyYAML refuses:\n{text}"
    assert repr(got) == repr(want), f"\n{text}\nquickyaml: {got!r}\nPyYAML:    {want!r}"
    return True


def test_every_fact_file_is_read_as_pyyaml_reads_it():
    files = sorted((FACTS / "claims").rglob("*.yaml"))
    assert len(files) > 20
    read = [same_or_none(f.read_text(encoding="utf-8")) for f in files]
    assert all(read), "the fact base's own files are written in forms quickyaml reads"


def test_every_single_file_is_read_as_pyyaml_reads_it():
    read = 0
    for f in sorted(FACTS.glob("*.yaml")):
        got = quickyaml.mapping(f.read_text(encoding="utf-8"))
        if got is not None:
            doc, problems = load.read_yaml(f, f.name)
            assert doc is not None and not problems
            assert repr(got) == repr(doc.data), f.name
            read += 1
    assert read >= 3, "some of the single files are read quickly"


def claim_file(value: str, key: str = "claim") -> str:
    return f"report: r\nsection: s\nclaims:\n  - id: a\n    para: 1\n    {key}: {value}\n  - id: b\n    para: 2\n    claim: x\n"


@pytest.mark.parametrize(
    "value",
    [
        # plain scalars YAML 1.1 and 1.2 read differently
        "yes",
        "No",
        "on",
        "OFF",
        "012",
        "-012",
        "0o12",
        "0b11",
        "0_1",
        "1_000",
        "1:20",
        "12:30:00",
        "2020-01-01",
        "2020-01-01 10:00:00",
        "1e5",
        ".5",
        "1.",
        ".inf",
        "=",
        "<<",
        "~",
        "null",
        "",
        # the same, quoted (strings in both)
        '"yes"',
        "'012'",
        '"2020-01-01"',
        "'1:20'",
        '"2020"',
        '""',
        # in flow collections
        "[1,012]",
        "[1, 012]",
        "[a, 0o7]",
        "{x: 012}",
        "[yes]",
        '["2020-01-01", 2020-01-01]',
        # a number inside a string, and as a string
        "about 45,000 people",
        "in 2020-01 and 2021-02-03",
        "a-01",
        # escapes, tabs and line breaks
        '"a\\tb"',
        '"a\\/b"',
        '"a\\x41"',
        '"a\\u2028b"',
        "a\tb",
        '"a\u2028b"',
        "a\u0085b",
        "a\u2029b",
        "\ufeffa",
        # tags, anchors, aliases, merge keys
        "!!str 012",
        "!!int '12'",
        "&x a",
        "*x",
        "{<<: {a: 1}}",
        # block scalars, empty and not
        ">\n",
        "|\n\n",
        ">-\n      a\n      b\n",
        "|+\n      a\n\n",
        ">\n      a\n        b\n      c\n",
    ],
)
def test_forms_where_the_two_yaml_part(value):
    same_or_none(claim_file(value))
    same_or_none(claim_file(value, key="notes"))


@pytest.mark.parametrize(
    "text",
    [
        "%YAML 1.1\n---\n" + claim_file("x"),
        claim_file("x").replace("\n", "\r\n"),
        claim_file("x").replace("  - id: a", "  -\n    id: a"),  # a dash alone on its line
        claim_file("x").replace("  - id: a", "  - # the first\n\n    id: a"),
        claim_file("x").replace("  - id: b\n    para: 2\n    claim: x\n", "  - {id: b, para: 2, claim: x}\n"),
        claim_file("x").replace("  - ", "- ").replace("\n    ", "\n  "),  # not indented
        claim_file('"a long text\n- that goes on"'),  # a quoted line starting with a dash
        claim_file('"a long text\n  - that goes on"'),
        claim_file("x").replace("claims:\n", "claims: # all\n"),
        claim_file("x") + "notes:\n  - 1\n",
        "claims: []\nreport: r\nsection: s\n",
        "claims:\n- a\n- b\n",
        "claims: 1\n",
        "- 1\n",
        "",
        "claims:\n  - id: a\n    claim: x\n    claim: y\n",  # a repeated key
        "claims:\n  - id: a\n  claim: x\n",  # bad indentation
        "claims:\n  - id: a\n    claim: [unclosed\n",
    ],
)
def test_shapes_of_a_claim_file(text):
    same_or_none(text)


WORDS = ["alpha", "Beta", "45,000", "2020-01", "2021-02-03", "a-01", "0.5", "yes", "no", "on", "The", "#x", "x #y"]
WORDS += ["'q'", '"d"', "e,f", "[g]", "{h}", "%i", "@j", "k:", "k: l", "- m", "–", "é", "«n»", "012", "1:20", "~", "null"]


def _scalar(rng: random.Random, indent: str) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
    style = rng.random()
    if style < 0.4:
        return words
    if style < 0.55:
        return '"' + words.replace('"', "'") + '"'
    if style < 0.65:
        return "'" + words.replace("'", "''") + "'"
    if style < 0.8:  # a plain or quoted scalar over two lines
        cut = words.find(" ")
        if cut < 0:
            return words
        quote = rng.choice(["", '"'])
        body = words.replace('"', "'") if quote else words
        return quote + body[:cut] + "\n" + indent + rng.choice(["  ", "", "    "]) + body[cut + 1 :] + quote
    chomp = rng.choice(["", "-", "+"])
    lines = [rng.choice(["", "  "]) + " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 3))) for _ in range(3)]
    body = "".join(f"{indent}  {line}\n" if line.strip() else "\n" for line in lines[: rng.randint(1, 3)])
    return rng.choice([">", "|"]) + chomp + "\n" + body.rstrip("\n")


def _claim(rng: random.Random, n: int, indent: str) -> str:
    inner = indent + "  "
    fields = [f"id: c-{n}", f"para: {rng.choice(['1', '12', '012', '0o7', '+3'])}", f"claim: {_scalar(rng, inner)}"]
    if rng.random() < 0.5:
        fields.append("date: " + rng.choice(["2020", '"2020"', "2020-06", '"2020-06-06"', "2020-06-06"]))
    if rng.random() < 0.5:
        items = [rng.choice(["a", "b-1", "yes", "012", "c d"]) for _ in range(rng.randint(0, 3))]
        block = "people:" + "".join(f"\n{inner}- {i}" for i in items) if items else "people: []"
        fields.append(rng.choice([f"people: [{', '.join(items)}]", block]))
    if rng.random() < 0.3:
        fields.append(f"notes: [{rng.choice(['1', '1, 2', '1,012', '3'])}]")
    rng.shuffle(fields)
    head = rng.choice(["- ", "- ", "- ", "-\n" + inner, "- # note\n" + inner])
    body = ("\n" + inner).join(fields)
    comment = rng.choice(["", "", f"{indent}# between\n", "\n"])
    return f"{comment}{indent}{head}{body}\n"


@pytest.mark.parametrize("seed", range(4))
def test_random_claim_files(seed):
    rng = random.Random(seed)
    fast = 0
    for _ in range(500):
        indent = rng.choice(["", "  "])
        claims = "".join(_claim(rng, n, indent) for n in range(rng.randint(0, 4)))
        text = "report: r\nsection: s\nclaims:\n" + claims if claims else "report: r\nsection: s\nclaims: []\n"
        fast += same_or_none(text)
    assert fast > 100, "too few files read quickly for the comparison to mean anything"


def test_without_yaml_rs_every_file_is_read_by_pyyaml(monkeypatch):
    monkeypatch.setattr(quickyaml, "yaml_rs", None)
    assert quickyaml.claim_file(claim_file("x")) is None
