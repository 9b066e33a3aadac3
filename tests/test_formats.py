"""Every data command keeps its word on formats: what its --help offers, it writes, parseable."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hypothesis import given, settings

from kzrights import queries
from kzrights.factbase import FactBase
from kzrights.render import Format, View, render
from kzrights.render.jsontext import json_indented

from .conftest import MINI
from .test_properties import JSON_DATA  # the JSON values hypothesis draws, defined once

F = ("--facts", str(MINI))
DATA_COMMANDS = [
    ["search", "Mamai"],
    ["person", "Mamai"],
    ["org", "DVK"],
    ["topic", "press freedom"],
    ["people"],
    ["orgs"],
    ["topics"],
    ["show", "a-pol-01-dvk-banned"],
    ["sources"],
    ["scores"],
    ["stats"],
    ["compare", "political parties"],
    ["conflicts"],
    ["timeline"],
]
FORMATS = [f.value for f in Format]


def _markdown_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    assert lines and all(line.startswith("| ") and line.endswith(" |") for line in [lines[0], *lines[2:]]), text
    assert re.fullmatch(r"\|(---\|)+", lines[1]), lines[1]
    rows = [re.split(r"(?<!\\)\|", line)[1:-1] for line in [lines[0], *lines[2:]]]
    assert all(len(r) == len(rows[0]) for r in rows), "every row has as many cells as the header"
    return rows


@pytest.mark.parametrize("args", DATA_COMMANDS, ids=lambda a: a[0])
def test_help_offers_the_five_formats_on_one_line(run, args: list[str]) -> None:
    r = run(args[0], "--help", env={"COLUMNS": "80"})
    assert r.exit_code == 0
    assert re.search(r"--format +-f +FORMAT +table, json, jsonl, csv or markdown\.", r.stdout), r.stdout


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("args", DATA_COMMANDS, ids=lambda a: a[0])
def test_every_offered_format_works(run, args: list[str], fmt: str) -> None:
    r = run(*args, "--format", fmt, *F, env={"COLUMNS": "100"})
    assert r.exit_code == 0, (args, fmt, r.stderr)
    assert "accepted formats" not in r.stderr and r.stdout.strip()
    if fmt == "json":
        json.loads(r.stdout)
    elif fmt == "jsonl":
        assert all(isinstance(json.loads(line), dict) for line in r.stdout.splitlines())
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        assert rows and all(None not in row for row in rows)  # no row longer than the header
    elif fmt == "markdown":
        assert len(_markdown_rows(r.stdout)) >= 2  # a header and at least one row


def test_rows_of_what_has_rows(run) -> None:
    """A comparison as rows of pairs, the ratings as rows of categories, the statistics as
    rows of sections, the sources as rows of reports."""
    pairs = [json.loads(x) for x in run("compare", "political parties", "-f", "jsonl", *F).stdout.splitlines()]
    assert [p["kind"] for p in pairs] == ["differs", "complements", "only"] and pairs[2]["rep-b"] is None
    cats = list(csv.DictReader(io.StringIO(run("scores", "-f", "csv", *F).stdout)))
    assert [c["name"] for c in cats] == ["Civil Society", "Corruption", "Democracy Score", "Democracy Percentage"]
    sections = list(csv.DictReader(io.StringIO(run("stats", "-f", "csv", *F).stdout)))
    assert {s["section"]: s["claims"] for s in sections}["Politics"] == "4"
    reports = _markdown_rows(run("sources", "-f", "markdown", *F).stdout)
    assert [c.strip() for c in reports[0]][:2] == ["id", "title"] and len(reports) == 3


def test_markdown_cells_are_escaped(mini, run) -> None:
    path = mini / "people.yaml"
    text = path.read_text(encoding="utf-8").replace("name: Zhanbolat Mamay", 'name: "Zhanbolat | Mamay"')
    path.write_text(text, encoding="utf-8")
    for args in (["people"], ["person", "Mamai"], ["compare", "Mamai"]):
        out = run(*args, "-f", "markdown", "--facts", str(mini)).stdout
        _markdown_rows(out)  # a pipe in a name does not add a column
    assert "Zhanbolat \\| Mamay" in run("people", "-f", "markdown", "--facts", str(mini)).stdout


def test_json_is_the_same_data_at_a_terminal_and_in_a_pipe() -> None:
    fb = FactBase.load(MINI)
    for result in (queries.search(fb, "Mamai"), queries.stats(fb), queries.compare(fb, "DVK"), queries.sources(fb)):
        piped = render(View(fb), result, "json")
        shown = render(View(fb, pretty=True), result, "json")
        data = json.loads(piped)
        assert piped == json.dumps(data, ensure_ascii=False) + "\n"
        assert shown == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@settings(max_examples=1000, deadline=None)
@given(JSON_DATA)
def test_indented_json_matches_the_json_module(value) -> None:
    assert json_indented(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_json_output_imports_neither_json_nor_rich() -> None:
    import subprocess
    import sys

    args = [sys.executable, "-X", "importtime", "-m", "kzrights", "search", "Mamai", "--json", *F]
    subprocess.run(args, capture_output=True, check=True)  # the first run builds the cache (reading JSON Schemas)
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "kzrights.render.jsontext" in modules
    assert not {m for m in modules if m.split(".")[0] in ("json", "rich")}
