"""Hostile queries and text, broken pipes, concurrent runs: kzrights keeps working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import MINI, ROOT

F = ("--facts", str(MINI))

HOSTILE = [
    "x" * 10_000,
    "Mamai " * 2_000,
    "\x00\x07\x1b[31mred\x1b[0m",
    "🙂🔥 Mamai 🇰🇿",
    "Мамай Mamai Мамай",
    "!!! ??? ... ---",
    ".*+?^$()[]{}|\\",
    "(a+)+$",
    "[bold red]Mamai[/bold red]",
    "[/]",
    "[link=https://example.org]x[/link]",
    ":smile: :flag_for_kazakhstan:",
    "\u202eMamai\u202c",
    "'; DROP TABLE claims; --",
    "%s %d {0} {query}",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_json(run, query: str) -> None:
    r = run("search", query, "--json", *F)
    assert r.exit_code in (0, 1), r.stderr
    assert isinstance(json.loads(r.stdout), list)
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_table_is_printed_literally(run, query: str) -> None:
    r = run("search", query, *F, env={"COLUMNS": "100"})
    assert r.exit_code in (0, 1), r.stderr
    assert "\x1b" not in r.stdout  # no escape sequence reaches the terminal
    if r.exit_code == 0 and query.startswith("[bold red]"):
        assert "[bold red]" in r.stdout  # markup shown, not obeyed


@pytest.mark.parametrize("args", [("person",), ("org",), ("topic",), ("compare",), ("timeline",)])
@pytest.mark.parametrize("query", ["[bold]x[/bold]", "\x1b[2J", "🙂", ".*"])
def test_hostile_names_in_other_commands(run, args: tuple[str, ...], query: str) -> None:
    r = run(*args, query, *F)
    assert r.exit_code in (0, 1, 2), r.stderr
    assert "Traceback" not in r.stderr and "\x1b" not in r.stdout


def test_markup_and_escapes_in_the_fact_base_are_inert(run, mini: Path) -> None:
    path = mini / "claims" / "rep-a" / "media-freedom.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "claim: Report A says Testland ranks 155th in the press freedom index.",
        'claim: "Report A says [bold red]Testland[/bold red] ranks 155th \\e[31min red\\e[0m in the press freedom index."',
    )
    path.write_text(text, encoding="utf-8")
    r = run("search", "155th", "--facts", str(mini), env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.stderr
    assert "[bold red]Testland[/bold red]" in r.stdout
    assert "\x1b" not in r.stdout and "\\u001b[31min red" in r.stdout
    s = run("show", "a-med-01-rank", "--facts", str(mini))
    assert "\x1b" not in s.stdout and "[bold red]" in s.stdout
    j = run("search", "155th", "--json", "--facts", str(mini))
    assert "\x1b[31m" in json.loads(j.stdout)[0]["claim"]  # data stays unaltered in JSON


def _cli(*args: str, env: dict[str, str] | None = None, **kw):
    return subprocess.Popen([sys.executable, "-m", "kzrights", *args], cwd=ROOT, env={**os.environ, **(env or {})}, **kw)


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    cache = {"KZRIGHTS_CACHE_DIR": str(tmp_path / "cache")}
    for fmt in ("jsonl", "table", "csv"):
        p = _cli(
            "export" if fmt != "table" else "search",
            *(["--format", fmt] if fmt != "table" else ["Report", "--limit", "20"]),
            *F,
            env=cache,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert p.stdout is not None and p.stderr is not None
        p.stdout.readline()
        p.stdout.close()  # the reader goes away, like `| head -1`
        err = p.stderr.read().decode()
        assert p.wait(timeout=60) == 0, err
        assert err == "", err


def test_no_color_and_pipes_give_plain_text(run) -> None:
    r = run("search", "Mamai", *F, env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert "\x1b" not in r.stdout and "Mamay" in r.stdout


def test_concurrent_runs_share_one_cache(tmp_path: Path, mini: Path) -> None:
    env = {"KZRIGHTS_CACHE_DIR": str(tmp_path / "cache")}
    procs = [
        _cli("search", "Mamai", "--json", "--facts", str(mini), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e.decode() for _, e in outs]
    results = [json.loads(o) for o, _ in outs]
    assert all(r == results[0] for r in results)
    assert [f.name for f in (tmp_path / "cache").iterdir() if f.name.endswith(".tmp")] == []  # no half-written cache left
    again = _cli("search", "Mamai", "--json", "--facts", str(mini), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0 and json.loads(out) == results[0], err


def test_argument_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "kzrights", "search", os.fsdecode(b"Mamai\xff"), "--json", *F],
        cwd=ROOT,
        env={**os.environ, "KZRIGHTS_CACHE_DIR": str(tmp_path)},
        capture_output=True,
    )
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout.decode("utf-8"))
    assert data and data[0]["matched"]["form"] == "Mamai\ufffd"
