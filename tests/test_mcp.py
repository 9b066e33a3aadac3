"""The MCP server (``kzrights mcp``): every tool through the SDK's own client, in-process over
memory streams and as a subprocess over stdio; results checked against the CLI's JSON."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp", reason='the mcp extra is not installed (pip install -e ".[mcp]")')

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import CallToolResult

from kzrights.mcp_server import build_server

from .conftest import MINI, ROOT

TOOLS = {
    "search_claims",
    "get_person",
    "get_organization",
    "get_claim",
    "cite",
    "compare",
    "conflicts",
    "list_sources",
}
CLAIM_KEYS = {"id", "claim", "date", "people", "organizations", "places", "topics", "source", "note", "related"}


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp-cache")


@pytest.fixture(autouse=True)
def _one_cache_for_this_module(_own_cache: Path, shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test here edits a fact file, so they share one compiled cache (a cold build is 0.6 s)."""
    monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(shared_cache))
    return shared_cache


def call(tool: str, args: dict[str, Any] | None = None, facts: Path | None = None, mode: str = "legacy") -> CallToolResult:
    """Call one tool on a fresh in-process server ("legacy" mode runs it over memory streams)."""

    async def go() -> CallToolResult:
        async with Client(build_server(str(facts) if facts else None), mode=mode) as client:
            return await client.call_tool(tool, args or {})

    return anyio.run(go)


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def data_of(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def cli_json(run: Any, *args: str) -> Any:
    r = run(*args, "--json")
    assert r.exit_code in (0, 1), r.stderr
    return json.loads(r.stdout)


# --------------------------------------------------------------------------- tool list


def test_tools_listed_read_only_with_schemas_and_the_citation_rule() -> None:
    async def go() -> Any:
        async with Client(build_server(), mode="legacy") as client:
            return (await client.list_tools()).tools

    tools = {t.name: t for t in anyio.run(go)}
    assert set(tools) == TOOLS
    for name, tool in tools.items():
        assert tool.output_schema, name
        assert tool.annotations and tool.annotations.read_only_hint, name
        assert "Returns" in (tool.description or ""), name
        if name not in ("cite", "list_sources"):
            assert "must carry that claim's citation" in (tool.description or ""), name
    search = tools["search_claims"].input_schema
    assert search["required"] == ["query"]
    assert {"report", "topic", "person", "since", "until", "limit", "partial"} <= set(search["properties"])


# --------------------------------------------------------------------------- search_claims


def test_tulesova_search_returns_cited_claims_of_both_reports() -> None:
    result = call("search_claims", {"query": "Tulesova"})
    data = data_of(result)
    assert data["answered"] is True and data["message"] is None
    assert data["total"] == len(data["claims"]) >= 2
    assert {c["source"]["report"] for c in data["claims"]} == {"fpc-2021", "nit-2021"}
    for c in data["claims"]:
        assert set(c) == CLAIM_KEYS | {"score", "matched", "match"}
        assert c["match"] == "full"
        assert "asya-tulesova" in [p["id"] for p in c["people"]]
        assert c["source"]["citation"].startswith(("FPC 2021 · ", "FH NIT 2021 · "))
        # the text rendering carries each claim with its citation and id
        assert f"[{c['source']['citation']}" in text_of(result) and c["id"] in text_of(result)


def test_search_gives_the_same_claims_as_the_cli(run: Any) -> None:
    data = data_of(call("search_claims", {"query": "Mamai", "report": "rep-a"}, facts=MINI))
    assert data["claims"] == cli_json(run, "search", "Mamai", "--report", "rep-a", "--facts", str(MINI))


def test_query_the_reports_do_not_answer_is_an_explicit_no_answer() -> None:
    result = call("search_claims", {"query": "horse meat exports"})
    data = data_of(result)
    assert data == {
        "query": "horse meat exports",
        "answered": False,
        "message": "no claim in the reports answers 'horse meat exports'; no claim holds: horse, meat",
        "total": 0,
        "claims": [],
        "partial": [],
        "missing_words": ["horse", "meat"],
        "did_you_mean": [],
    }
    assert text_of(result).startswith("No answer: no claim in the reports answers 'horse meat exports'")


def test_partial_matches_come_only_on_request_labelled_with_what_they_lack() -> None:
    without = data_of(call("search_claims", {"query": "Tulesova horse"}))
    assert without["answered"] is False and without["partial"] == [] and without["missing_words"] == ["horse"]
    result = call("search_claims", {"query": "Tulesova horse", "partial": True})
    data = data_of(result)
    assert data["answered"] is False and data["claims"] == []
    assert data["partial"] and all(c["match"] == "partial" and c["lacks"] == ["horse"] for c in data["partial"])
    assert "NOT answers" in text_of(result)


def test_filters_and_limit_apply() -> None:
    data = data_of(call("search_claims", {"query": "Tulesova", "report": "nit-2021", "since": "2020-08", "limit": 2}))
    assert len(data["claims"]) == 2 < data["total"]
    assert all(c["source"]["report"] == "nit-2021" for c in data["claims"])


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("get_claim", {"id": "nit-cs-08-tulesova-sentenc"}, "no claim with id 'nit-cs-08-tulesova-sentenc'"),
        ("search_claims", {"query": "Tulesova", "since": "2020-13"}, "since: not a date: '2020-13'"),
        ("search_claims", {"query": "Tulesova", "report": "hrw-2021"}, "unknown report 'hrw-2021'"),
        ("search_claims", {"query": "Tulesova", "person": "Zzzxq"}, "no person matches 'Zzzxq'"),
        ("search_claims", {"query": "  "}, "empty query"),
        ("search_claims", {"query": "Tulesova", "limit": 0}, "greater than or equal to 1"),
        ("cite", {"ids": ["nit-cs-08-tulesova-sentence", "no-such-claim"]}, "no claim with id 'no-such-claim'"),
        ("cite", {"ids": ["nit-cs-08-tulesova-sentence"], "style": "apa"}, "'text', 'markdown', 'bibtex' or 'csl-json'"),
        ("cite", {"ids": []}, "at least 1 item"),
        ("conflicts", {"report": "hrw-2021"}, "unknown report 'hrw-2021'"),
        ("get_person", {"name": ""}, "empty name"),
        ("no_such_tool", {}, "no_such_tool"),
    ],
)
def test_unknown_ids_and_bad_arguments_are_tool_errors(tool: str, args: dict[str, Any], message: str) -> None:
    result = call(tool, args)
    assert result.is_error
    assert message in text_of(result)
    assert "Traceback" not in text_of(result)


def test_unknown_id_error_names_close_ids() -> None:
    text = text_of(call("get_claim", {"id": "nit-cs-08-tulesova-sentenc"}))
    assert "did you mean: nit-cs-08-tulesova-sentence" in text


# --------------------------------------------------------------------------- entities


def test_get_person_groups_claims_by_report() -> None:
    data = data_of(call("get_person", {"name": "Tulesova"}))
    assert data["found"] is True and data["did_you_mean"] == []
    entity = data["entity"]
    assert entity["id"] == "asya-tulesova" and entity["kind"] == "person"
    assert set(entity) == {"id", "kind", "name", "aliases", "role", "description", "claims"}
    assert set(data["claims_by_report"]) == {"fpc-2021", "nit-2021"}
    assert [c["id"] for c in entity["claims"]] == [i for ids in data["claims_by_report"].values() for i in ids]
    assert all(c["source"]["citation"] for c in entity["claims"])


def test_get_person_limit_keeps_both_reports() -> None:
    data = data_of(call("get_person", {"name": "Tokayev", "limit": 4}))
    assert data["claims_total"] > 4 and len(data["entity"]["claims"]) == 4
    assert {len(ids) for ids in data["claims_by_report"].values()} == {2}


def test_ambiguous_name_shows_the_best_and_names_the_others(run: Any) -> None:
    result = call("get_person", {"name": "Abishev"}, facts=MINI)
    data = data_of(result)
    assert data["found"] is True and data["entity"]["id"] == "aset-abishev"
    assert data["did_you_mean"] == ["Olzhas Abishev (olzhas-abishev)"]
    assert "Olzhas Abishev" in text_of(result)
    assert data["entity"] == cli_json(run, "person", "Abishev", "--facts", str(MINI))


def test_unknown_name_is_not_found_with_candidates() -> None:
    result = call("get_person", {"name": "Nazarbaeva Dariga"}, facts=MINI)
    assert data_of(result)["entity"]["id"] == "dariga-nazarbayeva"
    result = call("get_person", {"name": "Zzzxq"})
    data = data_of(result)
    assert data["found"] is False and data["entity"] is None and data["claims_total"] == 0
    assert data["message"] == "no person matches 'Zzzxq'"
    assert text_of(result).startswith("Not found: no person matches 'Zzzxq'")


def test_get_organization_by_abbreviation(run: Any) -> None:
    data = data_of(call("get_organization", {"name": "DVK"}, facts=MINI))
    assert data["entity"]["id"] == "democratic-choice" and data["entity"]["category"] == "movement"
    assert data["entity"] == cli_json(run, "org", "DVK", "--facts", str(MINI))


# --------------------------------------------------------------------------- claims and citations


def test_get_claim_is_the_show_json_object(run: Any) -> None:
    result = call("get_claim", {"id": "nit-cs-08-tulesova-sentence"})
    data = data_of(result)
    assert data == cli_json(run, "show", "nit-cs-08-tulesova-sentence")
    assert set(data) == CLAIM_KEYS
    assert "Section: Civil Society, paragraph 8" in text_of(result)


@pytest.mark.parametrize("style", ["text", "bibtex", "csl-json"])
def test_cite_matches_the_cli(run: Any, style: str) -> None:
    ids = ["nit-cs-08-tulesova-sentence", "fpc-hr-22-tulesova-sentence"]
    result = call("cite", {"ids": ids, "style": style})
    data = data_of(result)
    assert data["style"] == style and [c["id"] for c in data["citations"]] == ids
    for c in data["citations"]:
        r = run("cite", c["id"], "--style", style)
        assert r.exit_code == 0 and c["citation"] + "\n" == r.stdout
    assert data["citations"][0]["citation"] in text_of(result)


# --------------------------------------------------------------------------- both reports


def test_compare_is_the_cli_comparison(run: Any) -> None:
    result = call("compare", {"subject": "Tulesova"})
    data = data_of(result)
    assert data == cli_json(run, "compare", "Tulesova")
    assert data["left"] == "fpc-2021" and data["right"] == "nit-2021" and data["pairs"]
    assert {"kind", "note", "fpc", "nit"} == set(data["pairs"][0])
    assert "CORROBORATES" in text_of(result)


def test_compare_marks_differences(run: Any) -> None:
    data = data_of(call("compare", {"subject": "DVK"}, facts=MINI))
    assert [p["kind"] for p in data["pairs"]] == ["differs"]
    assert data == cli_json(run, "compare", "DVK", "--facts", str(MINI))


def test_conflicts_is_the_cli_listing(run: Any) -> None:
    result = call("conflicts")
    data = data_of(result)
    assert data == cli_json(run, "conflicts")
    assert data["differs"] and all(len(d["claims"]) == 2 and d["note"] for d in data["differs"])
    assert text_of(result).startswith(f"{len(data['differs'])} places where the reports differ")


def test_list_sources_gives_urls_and_coverage(run: Any) -> None:
    data = data_of(call("list_sources"))
    assert data["reports"] == cli_json(run, "sources")
    assert [r["id"] for r in data["reports"]] == ["fpc-2021", "nit-2021"]
    assert all(r["url"] and r["covers"] for r in data["reports"])


def test_modern_protocol_in_process() -> None:
    """The 2026 protocol's direct dispatch, as well as the handshake over memory streams."""
    data = data_of(call("search_claims", {"query": "Tulesova", "limit": 1}, mode="auto"))
    assert len(data["claims"]) == 1


# --------------------------------------------------------------------------- over stdio


def _env(cache: Path) -> dict[str, str]:
    return {"KZRIGHTS_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}


def test_stdio_subprocess(tmp_path: Path, shared_cache: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "kzrights", "mcp"], env=_env(shared_cache), cwd=tmp_path)

    async def go() -> tuple[set[str], CallToolResult, CallToolResult]:
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search_claims", {"query": "Tulesova"})
            missing = await client.call_tool("get_claim", {"id": "no-such-claim"})
            return names, found, missing

    names, found, missing = anyio.run(go)
    assert names == TOOLS
    reports = {c["source"]["report"] for c in data_of(found)["claims"]}
    assert reports == {"fpc-2021", "nit-2021"}
    assert missing.is_error and "no claim with id 'no-such-claim'" in text_of(missing)


def test_stdout_carries_protocol_messages_only(tmp_path: Path, shared_cache: Path) -> None:
    """Raw JSON-RPC over the pipes: every line on stdout is a protocol message, even when a tool fails."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kzrights", "mcp", "--facts", str(MINI)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **_env(shared_cache)},
        cwd=tmp_path,
    )
    assert proc.stdin and proc.stdout

    def send(message: dict[str, Any]) -> None:
        assert proc.stdin
        proc.stdin.write((json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())
        proc.stdin.flush()

    def receive() -> dict[str, Any]:
        assert proc.stdout
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "no answer from the server within 20 s"
        return json.loads(proc.stdout.readline())

    try:
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
            }
        )
        assert receive()["result"]["serverInfo"]["name"] == "kzrights"
        send({"method": "notifications/initialized"})
        send({"id": 2, "method": "tools/call", "params": {"name": "get_claim", "arguments": {"id": "nope"}}})
        error = receive()
        assert error["id"] == 2 and error["result"]["isError"] is True
        send({"id": 3, "method": "tools/call", "params": {"name": "search_claims", "arguments": {"query": "Mamai"}}})
        answer = receive()
        assert answer["id"] == 3 and answer["result"]["structuredContent"]["answered"] is True
        proc.stdin.close()
        start = time.monotonic()
        proc.wait(timeout=20)
        assert time.monotonic() - start < 10
        rest = proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in rest.splitlines())
    assert proc.returncode == 0
    assert "Traceback" not in (proc.stderr.read().decode() if proc.stderr else "")


# --------------------------------------------------------------------------- the command


def test_without_the_extra_the_command_says_how_to_install(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] in ("mcp", "mcp_types")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the SDK were not installed
    monkeypatch.delitem(sys.modules, "kzrights.mcp_server", raising=False)
    r = run("mcp")
    assert r.exit_code == 2
    assert r.stderr == 'kzrights: the mcp command needs the MCP SDK (the "mcp" extra): pip install "mcp>=2,<3"\n'
    assert r.stdout == ""


def test_other_commands_never_import_the_sdk(shared_cache: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kzrights", "search", "Tulesova", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **_env(shared_cache)},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    modules = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")]
    assert "kzrights.cli" in modules
    assert not [m for m in modules if m.split(".")[0] in ("mcp", "mcp_types", "pydantic", "anyio", "starlette")]
