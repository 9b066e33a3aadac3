"""``kzrights browse``: the finder driven headless with Textual's pilot, its pure parts, and
the command's refusals. The app runs on the small fixture fact base, so what it shows is fixed."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

pytest.importorskip("textual", reason='the finder needs Textual: pip install -e ".[test]"')

from textual.widgets import Input

from kzrights.browse import (
    BrowseApp,
    BrowseScreen,
    CitationScreen,
    ClaimScreen,
    PersonScreen,
    PickPersonScreen,
    Row,
    find,
    find_report,
    open_target,
    parse_line,
    preview,
    report_abbrev,
)
from kzrights.cite import cite_text
from kzrights.errors import KzrightsError
from kzrights.factbase import FactBase, Filters

from .conftest import MINI, ROOT

SNAPSHOT = Path(__file__).parent / "snapshots" / "browse-80x24.txt"


@pytest.fixture
def fb() -> FactBase:
    return FactBase.load(MINI)


def screen_text(app: BrowseApp) -> str:
    """The screen as plain text, one line per row, as a person reading it would see it."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


Script = Callable[[BrowseApp, object], Awaitable[None]]


def drive(fb: FactBase, script: Script, query: str = "", size: tuple[int, int] = (80, 24), **kw: object) -> BrowseApp:
    """Run the app headless at ``size``, let ``script(app, pilot)`` act, and return the app
    (``app.return_value`` is what the command prints; ``app.return_code`` its exit code)."""

    async def main() -> None:
        app = BrowseApp(fb, query, **kw)  # type: ignore[arg-type]
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(app, pilot)
        drive.app = app  # type: ignore[attr-defined]

    asyncio.run(main())
    return drive.app  # type: ignore[attr-defined]


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await pilot.pause(0.15)  # past the debounce


def answer_ids(fb: FactBase, query: str, filters: Filters | None = None) -> list[str]:
    return [h.claim.id for h in fb.answer(query, filters or Filters(), None).hits]


# --------------------------------------------------------------------------- the pure part


@pytest.mark.parametrize(
    ("text", "query", "filters"),
    [
        ("Tulesova", "Tulesova", {}),
        ("Tulesova report:nit since:2020", "Tulesova", {"report": "nit", "since": "2020"}),
        ('topic:"press freedom" attacks', "attacks", {"topic": "press freedom"}),
        ("Topic:torture  until:2020-06 beaten", "beaten", {"topic": "torture", "until": "2020-06"}),
        ("mamay topic:", "mamay", {}),  # a filter still being typed is ignored
        ("person:a person:b", "", {"person": "b"}),  # the later one wins
        ("see https://x.org", "see https://x.org", {}),  # not a filter key
    ],
)
def test_parse_line(text: str, query: str, filters: dict[str, str]) -> None:
    line = parse_line(text)
    assert line.query == query
    assert line.filters == filters


def test_report_names_on_the_real_base() -> None:
    real = FactBase.load()
    assert {report_abbrev(real, r) for r in real.reports} == {"FPC", "NIT"}
    for value, report in (("nit", "nit-2021"), ("NIT", "nit-2021"), ("fpc-2021", "fpc-2021"), ("FPC 2021", "fpc-2021")):
        assert find_report(real, value) == report


def test_report_names_that_do_not_tell_reports_apart(fb: FactBase) -> None:
    assert report_abbrev(fb, "rep-a") == "REP A"  # "REP" alone would name both
    assert find_report(fb, "rep a") == "rep-a"
    with pytest.raises(KzrightsError, match="'rep' could be rep-a or rep-b"):
        find_report(fb, "rep")
    with pytest.raises(KzrightsError, match=r"no report 'xyz' \(known: rep-a, rep-b\)"):
        find_report(fb, "xyz")


def test_find_ranks_and_counts_as_search_does(fb: FactBase) -> None:
    found = find(fb, "Mamay")
    assert [r.claim.id for r in found.rows] == answer_ids(fb, "Mamay")
    assert len(found.rows) == 2
    assert found.count_line == f"2 of {len(fb)} claims"
    assert not any(r.partial for r in found.rows)


def test_find_with_filters(fb: FactBase) -> None:
    found = find(fb, "Mamay report:rep-b")
    scope = len(fb.select(Filters(report="rep-b")))
    assert [r.claim.id for r in found.rows] == answer_ids(fb, "Mamay", Filters(report="rep-b")) == ["b-cs-02-mamay-detained"]
    assert found.count_line == f"1 of {scope} claims"
    assert found.labels == ["report: REP B"]
    only = find(fb, "topic:corruption since:2020")
    assert only.rows and all("corruption" in r.claim.topics and (r.claim.date or "") >= "2020" for r in only.rows)
    assert only.labels == ["topic: Corruption", "since: 2020"]


def test_find_partial_matches_are_labelled_not_answers(fb: FactBase) -> None:
    found = find(fb, "Mamay xylophone")
    assert found.matched == 0 and found.rows
    assert all(r.partial for r in found.rows)
    assert "no claim holds: xylophone" in found.message
    assert "partial matches (marked ~), not answers" in found.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("since:20", "since: not a date: '20'"),
        ("topic:zzzzqqq", "topic: no topic matches 'zzzzqqq'"),
        ("report:nope", "report: no report 'nope'"),
    ],
)
def test_find_names_the_filter_that_is_wrong(fb: FactBase, text: str, message: str) -> None:
    found = find(fb, text)
    assert found.error and not found.rows
    assert message in found.message


def test_preview_holds_the_citation_and_the_links(fb: FactBase) -> None:
    text = preview(fb, Row(fb.claim("b-cs-03-dvk-banned"))).plain
    assert "Citation: REP B · Civil Society ¶3" in text
    assert "Date: 2018" in text
    assert "Organisations: Democratic Choice of Kazakhstan" in text
    assert "Topics: Political parties" in text
    # the linked claim of the other report, its difference marked in words, not colour alone
    assert "In the other report:" in text
    assert "≠ DIFFERS: REP A · Politics ¶1 [1]" in text
    assert "Note: Report B gives only the year; Report A the month." in text
    a = preview(fb, Row(fb.claim("a-pol-01-dvk-banned"))).plain
    assert "[1] First source, https://example.org/one" in a  # the note, with its URL


def test_open_target(fb: FactBase) -> None:
    assert open_target(fb, fb.claim("a-pol-01-dvk-banned")) == (
        "https://example.org/one",
        "the source of note [1] (the report itself has no URL in the fact base)",
    )
    assert open_target(fb, fb.claim("b-cs-02-mamay-detained")) is None
    real = FactBase.load()
    url, what = open_target(real, real.claim("nit-cs-08-tulesova-sentence")) or ("", "")
    assert url.startswith("https://freedomhouse.org/") and "¶8" in what


# --------------------------------------------------------------------------- the app, headless


def test_typing_narrows_the_results(fb: FactBase) -> None:
    seen: dict[str, object] = {}

    async def script(app: BrowseApp, pilot) -> None:
        seen["start"] = len(app.rows)
        await type_text(pilot, "Mamay")
        seen["rows"] = [r.claim.id for r in app.rows]
        seen["screen"] = screen_text(app)

    drive(fb, script)
    assert seen["start"] == len(fb)
    assert seen["rows"] == answer_ids(fb, "Mamay")
    assert f"2 of {len(fb)} claims" in str(seen["screen"])


def test_prefilled_query_and_preview_citation(fb: FactBase) -> None:
    seen: dict[str, str] = {}

    async def script(app: BrowseApp, pilot) -> None:
        assert app.finder.query_one("#search", Input).value == "Mamay"
        await pilot.press("down", "down")
        seen["screen"] = screen_text(app)
        seen["id"] = app.selected.id if app.selected else ""

    drive(fb, script, query="Mamay")
    second = answer_ids(fb, "Mamay")[1]
    assert seen["id"] == second
    assert "» Results « · row 2 of 2" in seen["screen"]
    claim = fb.claim(second)
    assert f"Citation: {fb.citation(claim)}" in seen["screen"]
    assert f"¶{claim.para}" in seen["screen"]


def test_filters_apply(fb: FactBase) -> None:
    seen: dict[str, object] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "topic:corruption report:rep-b")
        seen["rows"] = [r.claim for r in app.rows]
        seen["screen"] = screen_text(app)

    drive(fb, script)
    rows = seen["rows"]
    assert isinstance(rows, list) and rows
    assert all(c.report == "rep-b" and "corruption" in c.topics for c in rows)
    assert f"{len(rows)} of {len(rows)} claims · report: REP B · topic: Corruption" in str(seen["screen"])


def test_esc_from_an_empty_selection_prints_nothing(fb: FactBase) -> None:
    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Mamay")  # results on screen, none chosen
        await pilot.press("escape")

    app = drive(fb, script)
    assert app.return_value is None
    assert app.return_code == 0


def test_quit_returns_the_selected_citation(fb: FactBase) -> None:
    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Mamay")
        await pilot.press("down")  # into the list: the first result is selected
        await pilot.press("q")

    app = drive(fb, script)
    first = fb.claim(answer_ids(fb, "Mamay")[0])
    assert app.return_value == cite_text(fb, first)
    assert app.return_code == 0


def test_q_in_the_search_box_is_a_letter(fb: FactBase) -> None:
    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "q")
        assert app.finder.query_one("#search", Input).value == "q"
        assert app.is_running
        await pilot.press("escape")

    assert drive(fb, script).return_value is None


def test_enter_shows_the_full_claim_and_esc_comes_back(fb: FactBase) -> None:
    seen: dict[str, object] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Abishev jailed")
        await pilot.press("enter")
        await pilot.pause()
        seen["full"] = isinstance(app.screen, ClaimScreen)
        seen["text"] = screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        seen["back"] = isinstance(app.screen, BrowseScreen)
        seen["running"] = app.is_running
        await pilot.press("escape")

    app = drive(fb, script)
    assert seen["full"] and seen["back"] and seen["running"]
    text = str(seen["text"])
    assert "Citation: REP A · Politics ¶4" in text
    assert "Curator's note: Curator's note for tests." in text
    assert "People: Aset Abishev" in text
    # opening a claim selects it: its citation is printed on quit
    assert app.return_value == cite_text(fb, fb.claim("a-pol-04-aset-jailed"))


def test_c_copies_the_citation_and_shows_it(fb: FactBase) -> None:
    seen: dict[str, object] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Nazarbayeva")
        await pilot.press("down", "c")
        await pilot.pause()
        seen["modal"] = isinstance(app.screen, CitationScreen)
        seen["clipboard"] = app.clipboard
        seen["text"] = screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        seen["back"] = isinstance(app.screen, BrowseScreen)
        await pilot.press("escape")

    drive(fb, script)
    citation = cite_text(fb, fb.claim("b-cor-03-nazarbayeva-property"))
    assert seen["modal"] and seen["back"]
    assert seen["clipboard"] == citation
    assert "Citation copied" in str(seen["text"]) and "Bob Writer" in str(seen["text"])


def test_o_opens_the_passage_source(fb: FactBase) -> None:
    opened: list[str] = []

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Democratic Choice banned")
        await pilot.press("down")
        assert app.selected is not None and app.selected.id == "a-pol-01-dvk-banned"
        await pilot.press("o")
        await type_text(pilot, "x")  # typing in the list goes back to the search box
        assert app.finder.query_one("#search", Input).value.endswith("x")
        await pilot.press("escape")

    drive(fb, script, opener=lambda url: opened.append(url) or True)
    assert opened == ["https://example.org/one"]


def test_p_opens_the_person_and_enter_goes_to_a_claim(fb: FactBase) -> None:
    seen: dict[str, object] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Mamay detained")
        await pilot.press("down", "p")
        await pilot.pause()
        seen["profile"] = isinstance(app.screen, PersonScreen)
        seen["text"] = screen_text(app)
        await pilot.press("enter")  # the first of the person's claims, by report
        await pilot.pause(0.1)
        seen["back"] = isinstance(app.screen, BrowseScreen)
        seen["box"] = app.finder.query_one("#search", Input).value
        seen["selected"] = app.selected.id if app.selected else None
        await pilot.press("escape")

    app = drive(fb, script)
    assert seen["profile"] and seen["back"]
    text = str(seen["text"])
    assert "Zhanbolat Mamay — Opposition leader" in text
    assert "Also written: Janbolat Mamai, Mamay" in text
    assert "2 claims: 1 in REP A, 1 in REP B" in text
    assert seen["box"] == "person:zhanbolat-mamay"
    assert seen["selected"] == "a-pol-03-mamai-party"
    assert app.return_value == cite_text(fb, fb.claim("a-pol-03-mamai-party"))


def test_p_asks_which_person_when_a_claim_names_several(mini: Path) -> None:
    path = mini / "claims" / "rep-b" / "civil-society.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("people: [zhanbolat-mamay]", "people: [zhanbolat-mamay, aset-abishev]")
    )
    fb = FactBase.load(mini)
    seen: dict[str, object] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Mamay detained")
        await pilot.press("down", "p")
        await pilot.pause()
        seen["pick"] = isinstance(app.screen, PickPersonScreen)
        await pilot.press("down", "enter")  # the second: Aset Abishev
        await pilot.pause()
        seen["profile"] = screen_text(app).splitlines()[0]
        await pilot.press("escape")
        await pilot.pause()
        seen["back"] = isinstance(app.screen, BrowseScreen)
        await pilot.press("escape")

    drive(fb, script)
    assert seen["pick"] and seen["back"]
    assert seen["profile"] == " Aset Abishev — Activist"


def test_partial_matches_are_marked_on_screen(fb: FactBase) -> None:
    seen: dict[str, str] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Mamay xylophone")
        seen["text"] = screen_text(app)
        await pilot.press("escape")

    drive(fb, script)
    text = seen["text"]
    assert f"0 of {len(fb)} claims. no claim in the reports answers 'Mamay xylophone'; no claim holds: xylophone." in " ".join(
        line.strip() for line in text.splitlines()[1:3]
    )
    assert "▶~REP" in text  # the cursor and the partial mark, in text
    assert "Partial match, lacks: xylophone" in text


def test_ctrl_c_aborts_without_output(fb: FactBase) -> None:
    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Mamay")
        await pilot.press("down", "ctrl+c")

    app = drive(fb, script)
    assert app.return_value is None
    assert app.return_code == 130


def test_wide_terminal_puts_the_preview_beside_the_results(fb: FactBase) -> None:
    seen: dict[str, str] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await pilot.press("down")
        seen["text"] = screen_text(app)
        await pilot.press("escape")

    drive(fb, script, query="Mamay", size=(110, 32))
    top = seen["text"].splitlines()[2]
    assert "Results" in top and "Preview" in top  # one row holds both titles: side by side


def _normalise(text: str) -> list[str]:
    return [re.sub(r" +", " ", line.rstrip()) for line in text.splitlines()]


def test_80x24_screen_matches_the_kept_capture(fb: FactBase) -> None:
    """The whole screen at 80×24, kept as text in tests/snapshots/. After an intended change
    of layout, rewrite it with KZRIGHTS_UPDATE_SNAPSHOTS=1."""
    seen: dict[str, str] = {}

    async def script(app: BrowseApp, pilot) -> None:
        await type_text(pilot, "Mamay")
        await pilot.press("down", "down")
        await pilot.pause()
        seen["text"] = screen_text(app)
        await pilot.press("escape")

    drive(fb, script)
    text = seen["text"]
    lines = text.splitlines()
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    if os.environ.get("KZRIGHTS_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text + "\n", encoding="utf-8")
    assert _normalise(text) == _normalise(SNAPSHOT.read_text(encoding="utf-8"))
    # what must be there whatever the styling: the box, the count, the cursor, the keys
    assert lines[0].startswith(" Search: Mamay")
    assert f"2 of {len(fb)} claims" in text
    second = fb.answer("Mamay").hits[1].claim  # "down" twice: from the box to row 1, then row 2
    short = "REP A" if second.report == "rep-a" else "REP B"
    assert f"▶ {short} ¶{second.para}" in text  # the selected row is marked by a sign, not only by colour
    assert f"Citation: {fb.citation(second)}" in text
    for key in ("↑↓ Move", "Enter Full claim", "Tab Focus", "c Copy", "o Open", "p Person", "Esc/q Quit"):
        assert key in lines[-1]


def test_no_color_draws_the_same_text(fb: FactBase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    seen: dict[str, str] = {}

    async def script(app: BrowseApp, pilot) -> None:
        assert app.no_color
        await type_text(pilot, "Mamay")
        await pilot.press("down", "down")
        await pilot.pause()
        seen["text"] = screen_text(app)
        await pilot.press("escape")

    drive(fb, script)
    assert _normalise(seen["text"]) == _normalise(SNAPSHOT.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the command


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_browse_refuses_a_pipe(run) -> None:
    result = run("browse", "Mamay", "--facts", str(MINI))  # CliRunner's stdin is no terminal
    assert result.exit_code == 2
    assert result.stderr == "kzrights: browse needs a terminal, and stdin is not one; in a script, use `kzrights search`\n"
    assert result.stdout == ""


def test_browse_refuses_when_the_screen_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from kzrights.cli import browse

    err = io.StringIO()
    monkeypatch.setattr(sys, "stdin", _Tty())
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(typer.Exit) as exc:
        browse(["Mamay"], str(MINI))
    assert exc.value.exit_code == 2
    assert err.getvalue() == "kzrights: browse needs a terminal, and stderr is not one; in a script, use `kzrights search`\n"


def test_browse_without_textual(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from kzrights.cli import browse

    err = _Tty()
    monkeypatch.setattr(sys, "stdin", _Tty())
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setitem(sys.modules, "textual", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "kzrights.browse")
    with pytest.raises(typer.Exit) as exc:
        browse(["Mamay"], str(MINI))
    assert exc.value.exit_code == 2
    assert err.getvalue() == 'kzrights: browse needs Textual, which is not installed: pip install "kzrights[browse]"\n'


def test_other_commands_never_import_textual() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kzrights", "search", "Mamay", "--json", "--facts", str(MINI)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "import time:" in out.stderr  # the listing is there, and Textual is not in it
    assert "textual" not in out.stderr
