"""Side-by-side views, citations, exports and stats, on the fixture fact base."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from .conftest import MINI

F = ("--facts", str(MINI))


# --------------------------------------------------------------------------- compare, conflicts, timeline


def test_compare_pairs_linked_claims(run_json) -> None:
    code, data = run_json("compare", "Mamai", "--json", *F)
    assert code == 0
    assert set(data) == {"subject", "left", "right", "pairs", "rep-a_only", "rep-b_only"}
    assert (data["left"], data["right"], data["subject"]) == ("rep-a", "rep-b", "Zhanbolat Mamay (zhanbolat-mamay)")
    assert [(p["kind"], p["rep-a"]["id"], p["rep-b"]["id"]) for p in data["pairs"]] == [
        ("complements", "a-pol-03-mamai-party", "b-cs-02-mamay-detained")
    ]
    assert data["rep-a_only"] == [] and data["rep-b_only"] == []


def test_compare_differs_with_its_note(run_json) -> None:
    _, data = run_json("compare", "DVK", "--json", *F)
    assert [(p["kind"], p["note"], p["rep-a"]["id"], p["rep-b"]["id"]) for p in data["pairs"]] == [
        ("differs", "Report B gives only the year; Report A the month.", "a-pol-01-dvk-banned", "b-cs-03-dvk-banned")
    ]


def test_compare_unlinked_claims_go_below(run_json) -> None:
    _, data = run_json("compare", "political parties", "--json", *F)
    assert [(p["rep-a"]["id"], p["rep-b"]["id"]) for p in data["pairs"]] == [
        ("a-pol-01-dvk-banned", "b-cs-03-dvk-banned"),
        ("a-pol-03-mamai-party", "b-cs-02-mamay-detained"),
    ]
    assert [c["id"] for c in data["rep-a_only"]] == ["a-pol-02-elbasy-council"]  # undated sorts last
    assert data["rep-b_only"] == []


def test_compare_uses_fpc_and_nit_keys_on_the_real_reports() -> None:
    from kzrights.render.contract import side_keys

    assert side_keys("fpc-2021", "nit-2021") == ("fpc", "nit")


def test_compare_table(run) -> None:
    r = run("compare", "DVK", *F, env={"COLUMNS": "140"})
    assert r.exit_code == 0
    assert "REP A" in r.stdout and "REP B" in r.stdout and "≠" in r.stdout
    assert "Report B gives only the year" in r.stdout


def test_compare_unknown_report(run) -> None:
    r = run("compare", "DVK", "--left", "rep-z", *F)
    assert r.exit_code == 2 and r.stderr == "kzrights: --left: unknown report 'rep-z' (known: rep-a, rep-b)\n"


def test_conflicts(run_json) -> None:
    _, data = run_json("conflicts", "--json", *F)
    assert [[c["id"] for c in d["claims"]] for d in data["differs"]] == [["a-pol-01-dvk-banned", "b-cs-03-dvk-banned"]]
    assert [c["id"] for c in data["notes"]] == ["a-pol-04-aset-jailed"]


def test_timeline_orders_and_counts_undated(run) -> None:
    r = run("timeline", "--json", *F)
    data = json.loads(r.stdout)
    dates = [c["date"] for c in data["claims"]]
    assert dates == sorted(dates) and dates[0] == "2018" and dates[-1] == "2021"
    assert data["undated"] == 2  # a-pol-02 and a-med-03
    assert r.stderr == "kzrights: 2 undated claim(s) not shown\n"


def test_timeline_range_and_query(run_json) -> None:
    _, data = run_json("timeline", "--since", "2020-01", "--until", "2020-12", "--json", *F)
    assert [c["id"] for c in data["claims"]] == [
        "a-med-02-journalists-attacked",
        "a-pol-03-mamai-party",
        "b-cs-02-mamay-detained",
        "b-cor-03-nazarbayeva-property",
        "b-cor-02-abishev-case",
    ]
    _, mamai = run_json("timeline", "Mamai", "--json", *F)
    assert [c["id"] for c in mamai["claims"]] == ["a-pol-03-mamai-party", "b-cs-02-mamay-detained"]


def test_timeline_table_groups_by_year(run) -> None:
    r = run("timeline", *F, env={"COLUMNS": "120"})
    assert r.exit_code == 0
    assert r.stdout.index("2018") < r.stdout.index("2020") < r.stdout.index("2021")


def test_search_shows_links(run) -> None:
    r = run("search", "DVK", *F, env={"COLUMNS": "140"})
    assert "+1 REP (differs)" in r.stdout


# --------------------------------------------------------------------------- citations


def test_cite_text(run) -> None:
    r = run("cite", "a-pol-03-mamai-party", *F)
    assert r.exit_code == 0
    assert r.stdout == (
        'Ann Author, “Report A on Testland”, Example Centre, 2021-07, section "Politics", paragraph 3, endnotes 1, 2.\n'
        "  [1] First source, https://example.org/one\n"
        "  [2] Second source\n"
    )


def test_cite_markdown_links_urls(run) -> None:
    r = run("cite", "a-pol-01-dvk-banned", "--style", "markdown", *F)
    assert "*Report A on Testland*" in r.stdout and "<https://example.org/one>" in r.stdout


def test_cite_bibtex_parses() -> None:
    bibtexparser = pytest.importorskip("bibtexparser", reason="bibtexparser is a test extra")
    from typer.testing import CliRunner

    from kzrights.cli import app

    for claim_id in ("a-pol-03-mamai-party", "b-cs-03-dvk-banned"):
        out = CliRunner().invoke(app, ["cite", claim_id, "--style", "bibtex", *F]).stdout
        lib = bibtexparser.parse_string(out)
        assert lib.failed_blocks == [] and len(lib.entries) == 1
        entry = lib.entries[0]
        assert entry.entry_type == "techreport" and entry.key.endswith(claim_id)
        assert entry["author"] in {"Ann Author", "Bob Writer"}
        assert "paragraph" in entry["note"]


def test_cite_bibtex_escapes_special_characters(mini: Path, run) -> None:
    path = mini / "sources.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("title: Report A on Testland", "title: Report A {50% & more} on Testland_"),
        encoding="utf-8",
    )
    out = run("cite", "a-pol-01-dvk-banned", "--style", "bibtex", "--facts", str(mini)).stdout
    assert r"title = {Report A \{50\% \& more\} on Testland\_}" in out


def test_cite_csl_json_has_the_required_fields(run) -> None:
    items = json.loads(run("cite", "b-cs-02-mamay-detained", "--style", "csl-json", *F).stdout)
    assert len(items) == 1
    item = items[0]
    assert {"id", "type", "title", "author", "issued", "publisher"} <= set(item)
    assert item["type"] == "report" and item["author"] == [{"family": "Writer", "given": "Bob"}]
    assert item["issued"] == {"date-parts": [[2021]]} and item["locator"] == "2" and item["label"] == "paragraph"


def test_search_cite_adds_a_citation_to_every_row(run_json) -> None:
    _, rows = run_json("search", "Mamai", "--cite", "--json", *F)
    assert rows and all(r["cite"].startswith(("Ann Author", "Bob Writer")) for r in rows)


# --------------------------------------------------------------------------- exports and stats


def test_sqlite_export(run, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    meta_path = tmp_path / "k.metadata.json"  # written only when asked for (--metadata)
    r = run("export", "--format", "sqlite", "--output", str(db), "--metadata", str(meta_path), *F)
    assert r.exit_code == 0, r.stderr
    assert r.stderr == f"kzrights: wrote {db} (11 claims, 56 rows in 13 tables) and {meta_path}\n"
    con = sqlite3.connect(db)
    tables = {n for (n,) in con.execute("select name from sqlite_master where type in ('table')")}
    assert {
        "claims",
        "people",
        "organizations",
        "places",
        "topics",
        "sources",
        "notes",
        "ratings",
        "links",
        "claim_people",
        "claim_organizations",
        "claim_places",
        "claim_topics",
        "claims_fts",
    } <= tables
    count = {
        t: con.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("claims", "people", "links", "claim_people", "ratings")
    }
    assert count == {"claims": 11, "people": 5, "links": 4, "claim_people": 6, "ratings": 4}
    hits = [
        row[0]
        for row in con.execute(
            "select c.id from claims_fts f join claims c on c.rowid = f.rowid where claims_fts match 'Mamai' order by c.id"
        )
    ]
    assert hits == ["a-pol-03-mamai-party"]
    joined = con.execute(
        "select p.name from claims c join claim_people cp on cp.claim_id = c.id"
        " join people p on p.id = cp.person_id where c.id = ?",
        ("b-cs-02-mamay-detained",),
    ).fetchall()
    assert joined == [("Zhanbolat Mamay",)]
    assert con.execute("pragma foreign_key_check").fetchall() == []
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["databases"]["k"]["tables"]["claims"]["fts_table"] == "claims_fts"


def test_csv_folder_export(run, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    assert run("export", "--format", "csv", "--output", str(out), *F).exit_code == 0
    with open(out / "claims.csv", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["id", "claim", "date", "report", "section", "para", "notes", "note", "citation", "urls"]
        assert sum(1 for _ in reader) == 11
    with open(out / "claim_topics.csv", encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == ["claim_id", "topic_id"]


def test_export_to_a_place_that_cannot_be_written(run, tmp_path: Path) -> None:
    r = run("export", "--format", "sqlite", "--output", str(tmp_path / "missing" / "k.db"), *F)
    assert r.exit_code == 2 and r.stderr == f"kzrights: --output: no such directory: {tmp_path / 'missing'}\n"
    (tmp_path / "file").write_text("x")
    r = run("export", "--format", "csv", "--output", str(tmp_path / "file" / "csv"), *F)
    assert r.exit_code == 2 and r.stderr.startswith(f"kzrights: cannot write {tmp_path / 'file' / 'csv'}: ")


def test_sqlite_needs_an_output(run) -> None:
    r = run("export", "--format", "sqlite", *F)
    assert r.exit_code == 2 and r.stderr == "kzrights: export --format sqlite needs --output FILE\n"


def test_stats(run_json) -> None:
    _, data = run_json("stats", "--json", *F)
    assert data["claims"] == 11 and data["by_report"] == {"rep-a": 7, "rep-b": 4}
    assert data["links"] == {"complements": 1, "differs": 1} and data["cross_report_links"] == 2
    assert data["entities"] == {"person": 5, "organization": 2, "place": 1}
    politics = next(s for s in data["sections"] if s["section"] == "Politics")
    assert politics == {
        "report": "rep-a",
        "section": "Politics",
        "claims": 4,
        "paragraphs_cited": 4,
        "highest_paragraph": 4,
        "dated": 3,
    }


def test_completion_of_names() -> None:
    from kzrights.factbase import FactBase
    from kzrights.queries import matching_spellings

    fb = FactBase.load(MINI)

    def _complete(kinds: tuple[str, ...]):  # the spellings that match; completion offers their main names
        return lambda typed: matching_spellings(fb, kinds, typed)[:50]

    assert _complete(("person",))("zhanb") == ["Zhanbolat Mamay"]
    assert _complete(("person",))("Janb") == ["Janbolat Mamai"]
    assert _complete(("person",))("Dzhanb") == ["Janbolat Mamai", "Zhanbolat Mamay"]  # folded: dzh = zh = j
    assert _complete(("person",))("Наз") == ["Nazarbayev", "Nazarbayeva", "Назарбаев"]  # either script
    assert _complete(("person",))("naz") == _complete(("person",))("Наз")
    assert _complete(("topic",))("media") == ["media freedom"]
    assert _complete(("organization",))("DV") == ["DVK"]


@pytest.mark.parametrize(
    ("start", "end", "fragment"),
    [
        ("In August, prominent activist", "1.5 years", "#:~:text=In%20August%2C%20prominent%20activist,1.5%20years"),
        ("Kassym-Jomart Tokayev & co", "", "#:~:text=Kassym%2DJomart%20Tokayev%20%26%20co"),
    ],
)
def test_text_fragment_escapes_what_the_syntax_reserves(start: str, end: str, fragment: str) -> None:
    from kzrights.text import text_fragment

    assert text_fragment(start, end) == fragment


def test_citations_carry_the_link_to_the_passage(run) -> None:
    r = run("cite", "nit-cs-08-tulesova-sentence")
    assert r.exit_code == 0, r.stderr
    assert "https://freedomhouse.org/country/kazakhstan/nations-transit/2021#:~:text=In%20August%2C" in r.stdout
    shown = run("show", "nit-cs-08-tulesova-sentence", "--json")
    source = json.loads(shown.stdout)["source"]
    assert source["url"] == "https://freedomhouse.org/country/kazakhstan/nations-transit/2021"
    assert source["passage_url"].startswith(source["url"] + "#:~:text=")
