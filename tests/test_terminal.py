"""What a journalist meets at the terminal: citations back to the source, counts and the
pager, layouts at 80 columns, completion, and the small things (issue 17)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kzrights.render.output import pager_command

from .conftest import MINI, ROOT

F = ("--facts", str(MINI))
NIT = "https://freedomhouse.org/country/kazakhstan/nations-transit/2021"
FPC = "https://kiar.center/retreating-rights-kazakhstan-introduction/"
TWO = ("nit-cs-08-tulesova-sentence", "fpc-hr-22-tulesova-sentence")


# --------------------------------------------------------------------------- back to the source


def test_cite_gives_the_link_that_opens_the_report_at_the_passage(run) -> None:
    r = run("cite", TWO[0])
    assert r.exit_code == 0, r.stderr
    link = re.search(r"(https://\S+#:~:text=\S+)\.$", r.stdout.splitlines()[0])
    assert link and link.group(1).startswith(NIT + "#:~:text=In%20August%2C")
    markdown = run("cite", TWO[0], "--style", "markdown").stdout
    assert f"]({link.group(1)})" in markdown  # the locator links to the passage


def test_cite_several_ids_each_with_its_claim_in_every_style(run) -> None:
    shown = {i: json.loads(run("show", i, "--json").stdout) for i in TWO}
    text = run("cite", *TWO).stdout
    blocks = text.strip().split("\n\n")
    assert len(blocks) == 2
    for block, claim_id in zip(blocks, TWO, strict=True):
        claim = shown[claim_id]
        assert block.startswith(claim["claim"] + "\n")
        assert claim["source"]["passage_url"] in block
    markdown = run("cite", *TWO, "--style", "markdown").stdout
    assert [line for line in markdown.splitlines() if line.startswith("> ")] == [f"> {shown[i]['claim']}" for i in TWO]
    bibtex = run("cite", *TWO, "--style", "bibtex").stdout
    assert [m.group(1) for m in re.finditer(r"@techreport\{\w+:([\w-]+),", bibtex)] == list(TWO)
    assert bibtex.count("annote = {") == 2
    items = json.loads(run("cite", *TWO, "--style", "csl-json").stdout)
    assert [i["id"] for i in items] == list(TWO) and [i["annote"] for i in items] == [shown[i]["claim"] for i in TWO]


def test_cite_an_unknown_id_suggests_ids_by_prefix_and_similarity(run) -> None:
    r = run("cite", "nit-cs-08-tulesova")
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert lines[0] == "kzrights: no claim with id 'nit-cs-08-tulesova'"
    assert all(s.startswith("nit-cs-08-tulesova-") for s in lines[1].removeprefix("kzrights: did you mean: ").split("; "))
    typo = run("show", "nit-cs-08-tulesova-sentense")
    assert typo.exit_code == 1 and "did you mean: nit-cs-08-tulesova-sentence" in typo.stderr


def test_search_csv_has_citation_and_url_columns(run) -> None:
    rows = list(csv.DictReader(io.StringIO(run("search", "Tulesova", "--format", "csv").stdout)))
    assert rows and {"citation", "url"} <= set(rows[0])
    for row in rows:
        assert row["citation"].startswith(("FH NIT 2021 · ", "FPC 2021 · ")) and f"¶{row['para']}" in row["citation"]
        assert row["url"].startswith((NIT, FPC)) and "#:~:text=" in row["url"]
    assert "cite" not in rows[0]


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "markdown"])
def test_search_cite_works_in_every_format(run, fmt: str) -> None:
    r = run("search", "Mamai", "--cite", "--format", fmt, *F, env={"COLUMNS": "120"})
    assert r.exit_code == 0, r.stderr
    if fmt == "json":
        assert all(row["cite"].startswith(("Ann Author", "Bob Writer")) for row in json.loads(r.stdout))
    elif fmt == "jsonl":
        assert all(json.loads(line)["cite"] for line in r.stdout.splitlines())
    elif fmt == "csv":
        assert all(row["cite"].startswith(("Ann Author", "Bob Writer")) for row in csv.DictReader(io.StringIO(r.stdout)))
    elif fmt == "markdown":
        assert r.stdout.startswith("| # | Claim | Source | Date | Citation |") and "Ann Author" in r.stdout
    else:
        assert "Ann Author, “Report A on Testland”" in r.stdout


# --------------------------------------------------------------------------- counts and the pager


def test_tables_say_how_many_of_how_many(run) -> None:
    r = run("search", "Report", "--limit", "2", *F, env={"COLUMNS": "80"})
    first = r.stdout.splitlines()[0]
    total = len(json.loads(run("search", "Report", "--limit", "100", "--json", *F).stdout))
    assert first == f"2 of {total} claims for 'Report' (use --limit for more)" and total > 2
    every = run("search", "Report", "--limit", "100", *F, env={"COLUMNS": "80"}).stdout.splitlines()[0]
    assert every == f"{total} of {total} claims for 'Report'"
    person = run("person", "Mamai", "--limit", "1", *F, env={"COLUMNS": "80"}).stdout
    assert "1 of 2 claim(s) (use --limit for more)" in person


@pytest.mark.parametrize(
    ("lines", "tty", "enabled", "env", "expected"),
    [
        (100, True, True, {}, ["less", "-R"]),  # a terminal, taller than the screen: the pager
        (100, False, True, {}, None),  # a pipe: never
        (100, True, False, {}, None),  # --no-pager
        (10, True, True, {}, None),  # it fits
        (100, True, True, {"KZRIGHTS_PAGER": ""}, None),  # turned off
        (100, True, True, {"KZRIGHTS_PAGER": "more -d", "PAGER": "most"}, ["more", "-d"]),
        (100, True, True, {"PAGER": "most -s"}, ["most", "-s"]),
        (100, True, True, {"PAGER": "cat"}, None),
    ],
)
def test_pager_decision(lines: int, tty: bool, enabled: bool, env: dict[str, str], expected: list[str] | None) -> None:
    assert pager_command(lines, tty, 40, enabled, env) == expected


def _on_a_terminal(args: list[str], env: dict[str, str], rows: int = 20) -> tuple[int, str]:
    """Run kzrights with stdout on a pseudo-terminal of ``rows`` rows; its exit code and
    what reached the terminal."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "LINES": str(rows), "COLUMNS": "80", "TERM": "xterm", "NO_COLOR": "1", **env}
    proc = subprocess.Popen([sys.executable, "-m", "kzrights", *args], stdout=follower, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return proc.wait(timeout=60), out.decode("utf-8", "replace")


def test_the_pager_runs_on_a_terminal_only_when_the_output_is_taller(tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    pager = {"KZRIGHTS_PAGER": f"{sys.executable} -c \"import sys; open({str(paged)!r}, 'w').write(sys.stdin.read())\""}
    code, screen = _on_a_terminal(["search", "Report", "--limit", "20", *F], pager)
    assert code == 0 and paged.is_file()
    assert re.match(r"\d+ of \d+ claims for 'Report'", paged.read_text())
    assert "claims for 'Report'" not in screen  # it went to the pager, not past it
    paged.unlink()
    code, screen = _on_a_terminal(["search", "Report", "--limit", "20", "--no-pager", *F], pager)
    assert code == 0 and not paged.exists() and "claims for 'Report'" in screen
    code, screen = _on_a_terminal(["--no-pager", "search", "Report", "--limit", "20", *F], pager)
    assert code == 0 and not paged.exists() and "claims for 'Report'" in screen
    code, screen = _on_a_terminal(["search", "Mamai", "--limit", "1", *F], pager, rows=200)  # it fits
    assert code == 0 and not paged.exists() and "claims for 'Mamai'" in screen
    piped = subprocess.run(
        [sys.executable, "-m", "kzrights", "search", "Report", "--limit", "20", *F],
        capture_output=True,
        text=True,
        env={**os.environ, "LINES": "5", **pager},
        cwd=ROOT,
    )
    assert piped.returncode == 0 and not paged.exists() and "claims for 'Report'" in piped.stdout


# --------------------------------------------------------------------------- readable at 80 columns


@pytest.mark.parametrize("args", [["search", "torture"], ["compare", "torture"], ["conflicts"], ["timeline", "Tulesova"]])
@pytest.mark.parametrize("columns", ["80", "120"])
def test_ids_are_never_broken(run, args: list[str], columns: str) -> None:
    r = run(*args, env={"COLUMNS": columns})
    assert r.exit_code == 0, r.stderr
    data = json.loads(run(*args, "--json").stdout)
    ids = set(re.findall(r'"id": "((?:fpc|nit)-[a-z0-9-]+)"', json.dumps(data)))
    assert ids
    lines = r.stdout.splitlines()
    for claim_id in ids:
        if claim_id in {c["id"] for c in _claims_of(data)}:
            assert any(re.search(rf"(?<![\w-]){re.escape(claim_id)}(?![\w-])", line) for line in lines), claim_id
    assert all(len(line.rstrip()) <= int(columns) for line in lines)


def _claims_of(data) -> list[dict]:
    if isinstance(data, list):
        return data
    if "pairs" in data:
        return [c for p in data["pairs"] for c in p.values() if isinstance(c, dict)] + data["fpc_only"] + data["nit_only"]
    if "differs" in data:
        return [c for d in data["differs"] for c in d["claims"]] + data["notes"]
    return data["claims"]


def test_compare_shows_each_claim_once_with_a_legend_and_the_reports_as_headers(run) -> None:
    for columns in ("80", "120"):
        out = run("compare", "torture", env={"COLUMNS": columns}).stdout
        data = json.loads(run("compare", "torture", "--json").stdout)
        for claim in _claims_of(data):
            assert len(re.findall(rf"(?<![\w-]){re.escape(claim['id'])}(?![\w-])", out)) == 1, claim["id"]
        assert "= corroborates   + complements   ≠ differs" in out
        assert "FPC 2021: Retreating Rights" in out and "FH NIT 2021: Nations in Transit 2021" in out


def test_compare_takes_filters_and_needs_something_to_compare(run, run_json) -> None:
    _, data = run_json("compare", "--topic", "political-parties", "--since", "2020", "--json", *F)
    assert [(p["rep-a"]["id"], p["rep-b"]["id"]) for p in data["pairs"]] == [("a-pol-03-mamai-party", "b-cs-02-mamay-detained")]
    r = run("compare", *F)
    assert r.exit_code == 2 and r.stderr.startswith("kzrights: compare needs a SUBJECT or a filter")


def test_conflicts_put_real_disagreements_first_and_fit_80_columns(run) -> None:
    r = run("conflicts", env={"COLUMNS": "80"})
    lines = r.stdout.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    heads = [line for line in lines if line.startswith(("≠", "≈"))]
    assert heads[0].startswith("≠ DISAGREE") and any(h.startswith("≈ different years") for h in heads)
    data = json.loads(run("conflicts", "--json").stdout)
    assert {d["nature"] for d in data["differs"]} >= {"disagree", "years"}
    koshe = json.loads(run("conflicts", "--subject", "Koshe", "--json").stdout)
    assert [d["nature"] for d in koshe["differs"]] == ["disagree"]


# --------------------------------------------------------------------------- completion


def _complete(run, shell: str, line: str) -> str:
    env = {"_KZRIGHTS_COMPLETE": f"complete_{shell}", "KZRIGHTS_FACTS": str(MINI)}
    if shell == "bash":
        words = line.split(" ")
        env |= {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    else:
        env |= {"_TYPER_COMPLETE_ARGS": line}
    r = run(env=env)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def test_bash_completion_inserts_one_quoted_argument_under_the_main_name(run) -> None:
    assert _complete(run, "bash", "kzrights person Zhan").splitlines() == ["Zhanbolat\\ Mamay"]
    assert _complete(run, "bash", "kzrights person Janb").splitlines() == ["Zhanbolat\\ Mamay"]  # an alias matched
    assert _complete(run, "bash", "kzrights person Abi").splitlines() == ["Aset\\ Abishev", "Olzhas\\ Abishev"]
    assert _complete(run, "bash", "kzrights search x --person Наз").splitlines() == [
        "Dariga\\ Nazarbayeva",
        "Nursultan\\ Nazarbayev",
    ]
    assert _complete(run, "bash", "kzrights search x --report ").splitlines() == ["rep-a", "rep-b"]
    assert "press-freedom" in _complete(run, "bash", "kzrights search x --topic pre").splitlines()


def test_zsh_completion_takes_main_names_as_given_with_the_matched_spelling(run) -> None:
    out = _complete(run, "zsh", "kzrights person Janb")
    assert out.startswith("local -a _kz_v _kz_d; _kz_v=('Zhanbolat Mamay'); ")
    assert "_kz_d=('Zhanbolat Mamay  -- Janbolat Mamai')" in out and "compadd -U" in out
    org = _complete(run, "zsh", "kzrights org DV")
    assert "_kz_v=('Democratic Choice of Kazakhstan')" in org and "-- DVK" in org


def test_a_quoted_name_comes_back_as_one_argument() -> None:
    from kzrights.completion import bash_quote

    quoted = bash_quote("Zhanbolat O'Mamay (DVK)")
    assert subprocess.run(["bash", "-c", f"printf '%s\\n' {quoted}"], capture_output=True, text=True).stdout == (
        "Zhanbolat O'Mamay (DVK)\n"
    )


# --------------------------------------------------------------------------- the small things


def test_facts_before_or_after_the_command(run) -> None:
    before = run("--facts", str(MINI), "search", "Mamai", "--json")
    after = run("search", "Mamai", "--json", "--facts", str(MINI))
    assert before.exit_code == after.exit_code == 0 and json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)[0]["source"]["report"] in {"rep-a", "rep-b"}
    p = subprocess.run(  # the real entry point, which builds only the command named
        [sys.executable, "-m", "kzrights", "--facts", str(MINI), "people", "--json"], capture_output=True, text=True, cwd=ROOT
    )
    assert p.returncode == 0 and {x["id"] for x in json.loads(p.stdout)} >= {"zhanbolat-mamay"}


def test_a_missing_fact_folder_is_said_plainly(run, tmp_path: Path) -> None:
    r = run("--facts", str(tmp_path / "nowhere"), "search", "x")
    assert r.exit_code == 2 and r.stderr.splitlines()[-1] == f"kzrights: no fact base at {tmp_path / 'nowhere'}"


def test_help_has_examples_and_plain_usage(run) -> None:
    top = run("--help", env={"COLUMNS": "100"}).stdout
    assert "Examples:" in top and "kzrights cite nit-cs-08-tulesova-sentence" in top
    for command in ("search", "person", "compare", "conflicts", "cite", "timeline", "show"):
        text = run(command, "--help", env={"COLUMNS": "100"}).stdout
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "Example" in text and "{" not in usage, command
    assert "Usage: kzrights search [OPTIONS] QUERY..." in run("search", "--help").stdout


def test_scores_say_which_end_of_the_scale_is_democratic(run) -> None:
    out = run("scores", *F, env={"COLUMNS": "100"}).stdout
    assert "1 = least democratic, 7 = most democratic" in out and "Democracy Percentage: 0-100" in out
