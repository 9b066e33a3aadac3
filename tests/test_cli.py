"""The command line on the fixture fact base: JSON contract, exit codes, messages, formats."""

from __future__ import annotations

import csv
import io
import json

import pytest

from .conftest import MINI

F = ("--facts", str(MINI))
CLAIM_KEYS = {"id", "claim", "date", "people", "organizations", "places", "topics", "source", "note", "related"}
SOURCE_KEYS = {"report", "title", "publisher", "author", "section", "para", "notes", "urls", "citation", "url", "passage_url"}


def test_search_json_contract(run_json) -> None:
    code, data = run_json("search", "Mamai", "--json", *F)
    assert code == 0 and isinstance(data, list) and data
    first = data[0]
    assert set(first) == CLAIM_KEYS | {"score", "matched", "match"}
    assert all(h["match"] == "full" for h in data)
    assert set(first["source"]) == SOURCE_KEYS
    assert first["people"] == [{"id": "zhanbolat-mamay", "name": "Zhanbolat Mamay"}]
    assert 0 <= first["score"] <= 100
    assert set(first["matched"]) == {"field", "via", "form"}


def test_search_json_urls_and_citation_come_from_the_notes(run_json) -> None:
    _, data = run_json("search", "Democratic Choice banned", "--json", "--report", "rep-a", *F)
    src = data[0]["source"]
    assert src["notes"] == [1] and src["urls"] == ["https://example.org/one"]
    assert src["citation"] == "REP A · Politics ¶1 [1]"
    assert src["title"] == "Report A on Testland"


def test_search_reports_links_with_their_kind(run_json) -> None:
    _, data = run_json("search", "DVK", "--json", "--report", "rep-a", *F)
    assert data[0]["related"] == [
        {
            "id": "b-cs-03-dvk-banned",
            "kind": "differs",
            "note": "Report B gives only the year; Report A the month.",
            "report": "rep-b",
        }
    ]


def test_matched_reports_the_alias(run_json) -> None:
    _, data = run_json("search", "Elbasy", "--json", *F)
    assert data[0]["matched"] == {"field": "person", "via": "alias", "form": "Elbasy"}


def test_nothing_found_exits_1_with_empty_array(run) -> None:
    r = run("search", "xylophone", "--json", *F)
    assert r.exit_code == 1
    assert json.loads(r.stdout) == []
    assert r.stderr == "kzrights: no claim in the reports answers 'xylophone'\n"


@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_empty_query_is_a_usage_error(run, query: str) -> None:
    r = run("search", query, *F)
    assert r.exit_code == 2
    assert r.stderr == "kzrights: empty query: give words to search for\n"
    assert r.stdout == ""


def test_bad_since_date(run) -> None:
    r = run("search", "Mamai", "--since", "June 2020", *F)
    assert r.exit_code == 2
    assert r.stderr == "kzrights: --since: not a date: 'June 2020' (accepted: YYYY, YYYY-MM, YYYY-MM-DD)\n"


@pytest.mark.parametrize("value", ["2020-13", "2020-00", "2020-06-32", "June", "20-06"])
def test_impossible_dates_are_refused(run, value: str) -> None:
    r = run("timeline", "--since", value, *F)
    assert r.exit_code == 2
    assert r.stderr == f"kzrights: --since: not a date: {value!r} (accepted: YYYY, YYYY-MM, YYYY-MM-DD)\n"


def test_filters_accept_ids_as_json_shows_them(run_json) -> None:
    _, data = run_json("search", "Report", "--topic", "press-freedom", "--person", "zhanbolat-mamay", "--json", *F)
    assert data == []  # no claim is both; the point is that both ids resolve
    _, data = run_json("search", "Report", "--topic", "press-freedom", "--json", *F)
    assert {r["id"] for r in data} == {"a-med-01-rank", "a-med-02-journalists-attacked"}


def test_unknown_format_lists_the_accepted_values(run) -> None:
    r = run("search", "Mamai", "--format", "xml", *F)
    assert r.exit_code == 2
    for name in ("table", "json", "jsonl", "csv", "markdown"):
        assert name in r.stderr


def test_jsonl_one_object_a_line(run) -> None:
    r = run("search", "Report", "--format", "jsonl", "--limit", "3", *F)
    lines = r.stdout.splitlines()
    assert r.exit_code == 0 and len(lines) == 3
    assert all(json.loads(line)["id"] for line in lines)


def test_csv_has_a_header_and_rows(run) -> None:
    r = run("search", "Mamai", "--format", "csv", *F)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and rows[0]["report"] in {"rep-a", "rep-b"} and rows[0]["people"] == "Zhanbolat Mamay"


def test_markdown_table_escapes_pipes(run) -> None:
    r = run("search", "Mamai", "--format", "markdown", *F)
    assert r.stdout.startswith("| # | Claim | Source | Date |\n|---|---|---|---|\n")


def test_table_shows_citation_and_why(run) -> None:
    r = run("search", "Elbasy", *F, env={"COLUMNS": "100"})
    assert r.exit_code == 0
    assert "REP A · Politics ¶2 [2]" in r.stdout
    assert "person alias: Elbasy" in r.stdout
    assert "\x1b[" not in r.stdout  # not a terminal: no colour codes


def test_person_json(run_json) -> None:
    code, data = run_json("person", "Janbolat Mamai", "--json", *F)
    assert code == 0
    assert {k: data[k] for k in ("id", "name", "role")} == {
        "id": "zhanbolat-mamay",
        "name": "Zhanbolat Mamay",
        "role": "Opposition leader",
    }
    assert "Janbolat Mamai" in data["aliases"]
    assert {c["id"] for c in data["claims"]} == {"a-pol-03-mamai-party", "b-cs-02-mamay-detained"}


def test_person_namesakes_did_you_mean(run) -> None:
    r = run("person", "Abishev", "--json", *F)
    assert r.exit_code == 0
    assert "did you mean:" in r.stderr
    assert json.loads(r.stdout)["id"] in {"aset-abishev", "olzhas-abishev"}
    picked = json.loads(run("person", "Olzhas Abishev", "--json", *F).stdout)
    assert picked["id"] == "olzhas-abishev"


def test_person_unknown_exits_1_with_suggestions(run) -> None:
    r = run("person", "Xylophone Quartz", *F)
    assert r.exit_code == 1
    assert r.stderr == "kzrights: no person matches 'Xylophone Quartz'\n"
    assert r.stdout == ""


def test_people_lists_claim_counts(run_json) -> None:
    _, data = run_json("people", "--json", *F)
    counts = {p["id"]: p["claims"] for p in data}
    assert counts["zhanbolat-mamay"] == 2 and counts["olzhas-abishev"] == 1


def test_org_by_abbreviation(run_json) -> None:
    _, data = run_json("org", "QDT", "--json", *F)
    assert data["id"] == "democratic-choice" and len(data["claims"]) == 2


def test_topic_by_synonym(run_json) -> None:
    _, data = run_json("topic", "media freedom", "--json", *F)
    assert data["id"] == "press-freedom" and {c["id"] for c in data["claims"]} == {
        "a-med-01-rank",
        "a-med-02-journalists-attacked",
    }


def test_show_json_and_table(run, run_json) -> None:
    _, data = run_json("show", "a-pol-03-mamai-party", "--json", *F)
    assert data["source"]["notes"] == [1, 2]
    assert data["related"][0]["id"] == "b-cs-02-mamay-detained"  # derived reverse link
    r = run("show", "a-pol-03-mamai-party", *F, env={"COLUMNS": "120"})
    assert "https://example.org/one" in r.stdout and "complements" in r.stdout


def test_show_unknown_id(run) -> None:
    r = run("show", "a-pol-03-mamai", *F)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == "kzrights: no claim with id 'a-pol-03-mamai'"
    assert "a-pol-03-mamai-party" in r.stderr


def test_sources_and_scores(run_json) -> None:
    _, src = run_json("sources", "--json", *F)
    assert {s["id"]: s["claims"] for s in src} == {"rep-a": 7, "rep-b": 4}
    _, scores = run_json("scores", "--json", *F)
    assert scores[0]["democracy_score"] == 1.38
    assert [c["score"] for c in scores[0]["categories"]] == [1.5, 1.25]


def test_scores_table_has_bars(run) -> None:
    r = run("scores", *F, env={"COLUMNS": "120"})
    assert "Civil Society" in r.stdout and "█" in r.stdout


def test_validate_ok(run) -> None:
    r = run("validate", *F)
    assert r.exit_code == 0 and r.stdout.startswith("ok: 11 claims, 5 people")


def test_export_jsonl_same_shape_as_search(run, run_json) -> None:
    r = run("export", "--format", "jsonl", *F)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 11 and all(set(x) == CLAIM_KEYS for x in rows)


def test_facts_from_environment(run) -> None:
    r = run("search", "Mamai", "--json", env={"KZRIGHTS_FACTS": str(MINI)})
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["source"]["report"] in {"rep-a", "rep-b"}


def test_version(run) -> None:
    from kzrights import __version__

    r = run("--version")
    assert r.exit_code == 0 and r.stdout == f"kzrights {__version__}\n"
