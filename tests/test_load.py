"""Bad fact files: every fault is reported as FILE:LINE: MESSAGE with exit 2, never a traceback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kzrights import load
from kzrights.errors import FactBaseError
from kzrights.factbase import FactBase
from kzrights.load import cache_dir, packaged_facts_dir

from .conftest import MINI, ROOT

POLITICS = Path("claims") / "rep-a" / "politics.yaml"


def replace(root: Path, rel: Path | str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(run, root: Path) -> list[str]:
    r = run("search", "Mamai", "--facts", str(root))
    assert r.exit_code == 2, r.stdout
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[-1].startswith("kzrights: ") and lines[-1].endswith("problem(s) in the fact base")
    return [line.replace(str(root) + os.sep, "") for line in lines[:-1]]


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        (
            POLITICS,
            "  - id: a-pol-02-elbasy-council\n    para: 2",
            "  - id: a-pol-02-elbasy-council\n    para: [2",
            "claims/rep-a/politics.yaml:13: malformed YAML: did not find expected ',' or ']'",
        ),
        (
            POLITICS,
            "    para: 2\n",
            "    para: !!python/object:os.system 2\n",
            "claims/rep-a/politics.yaml:12: malformed YAML: could not determine a constructor for the tag",
        ),
        (
            POLITICS,
            "    para: 2\n",
            "    para: two\n",
            "claims/rep-a/politics.yaml:12: claims.1.para: must be integer, not a string",
        ),
        (POLITICS, "    para: 2\n", "", "claims/rep-a/politics.yaml:11: claims.1: missing required field 'para'"),
        (POLITICS, "    para: 2\n", "    para: 0\n", "claims/rep-a/politics.yaml:12: claims.1.para: must be at least 1, not 0"),
        (
            POLITICS,
            "id: a-pol-02-elbasy-council",
            "id: a-pol-01-dvk-banned",
            "claims/rep-a/politics.yaml:11: duplicate claim id 'a-pol-01-dvk-banned' (also at ",
        ),
        (
            POLITICS,
            "people: [nursultan-nazarbayev]",
            "people: [nursultan-nazarbaev]",
            "claims/rep-a/politics.yaml:15: unknown person id 'nursultan-nazarbaev'",
        ),
        (
            POLITICS,
            "topics: [political-prisoners]",
            "topics: [prisoners]",
            "claims/rep-a/politics.yaml:29: unknown topic id 'prisoners'",
        ),
        (
            POLITICS,
            "report: rep-a",
            "report: rep-z",
            "claims/rep-a/politics.yaml:1: unknown report 'rep-z' (known: rep-a, rep-b)",
        ),
        (
            POLITICS,
            "section: Politics",
            "section: Polotics",
            "claims/rep-a/politics.yaml:2: report 'rep-a' has no section 'Polotics'",
        ),
        (
            POLITICS,
            'date: "2018-03"',
            'date: "March 2018"',
            "claims/rep-a/politics.yaml:7: claims.0.date: 'March 2018' is not an ISO date (use 2020, 2020-06 or 2020-06-06)",
        ),
        (
            POLITICS,
            'date: "2018-03"',
            'date: "2018-02-30"',
            "claims/rep-a/politics.yaml:7: date '2018-02-30' has no day 30 in 2018-02",
        ),
        (
            POLITICS,
            'date: "2018-03"',
            "date: 2018-03-01",
            "claims/rep-a/politics.yaml:7: claims.0.date: must be string, not a date",
        ),
        (
            POLITICS,
            "claim: Report A says Nazarbayev remains chairman of the Security Council for life.",
            'claim: "  "',
            "claims/rep-a/politics.yaml:14: claims.1.claim: must not be empty",
        ),
        (
            POLITICS,
            "    para: 2\n",
            "    para: 2\n    prara: 3\n",
            "claims/rep-a/politics.yaml:13: claims.1.prara: unknown field 'prara' (known fields: ",
        ),
        (POLITICS, "    notes: [2]\n", "    notes: [7]\n", "claims/rep-a/politics.yaml:13: report 'rep-a' has no note 7"),
        (
            POLITICS,
            "    para: 2\n",
            "    para: 2\n    para: 3\n",
            "claims/rep-a/politics.yaml:13: duplicate key 'para' (the later value would silently win)",
        ),
        (
            Path("claims") / "rep-b" / "civil-society.yaml",
            "- id: a-pol-03-mamai-party",
            "- id: a-pol-03-mamai",
            "claims/rep-b/civil-society.yaml:11: related claim 'a-pol-03-mamai' does not exist",
        ),
        (
            "people.yaml",
            "  - id: dariga-nazarbayeva",
            "  - id: nursultan-nazarbayev",
            "people.yaml:7: duplicate person id 'nursultan-nazarbayev'",
        ),
    ],
)
def test_fault_is_located(run, mini: Path, rel: Path | str, old: str, new: str, expected: str) -> None:
    replace(mini, rel, old, new)
    found = problems(run, mini)
    assert any(line.startswith(expected) for line in found), found


def test_every_problem_is_listed_not_only_the_first(run, mini: Path) -> None:
    replace(mini, POLITICS, "people: [nursultan-nazarbayev]", "people: [nobody]")
    replace(mini, POLITICS, 'date: "2018-03"', 'date: "2018-13"')
    replace(mini, "people.yaml", "  - id: dariga-nazarbayeva", "  - id: aset-abishev")
    found = problems(run, mini)
    assert found == [
        "claims/rep-a/politics.yaml:7: claims.0.date: '2018-13' is not an ISO date (use 2020, 2020-06 or 2020-06-06)",
        "people.yaml:12: duplicate person id 'aset-abishev'",
        "claims/rep-a/politics.yaml:15: unknown person id 'nobody'",
        "claims/rep-b/corruption.yaml:14: unknown person id 'dariga-nazarbayeva'",  # its record was renamed
    ], found


def test_long_claim_is_refused(run, mini: Path) -> None:
    replace(
        mini, POLITICS, "claim: Report A says Nazarbayev remains", "claim: " + "x" * 400 + " Report A says Nazarbayev remains"
    )
    found = problems(run, mini)
    assert any(":14: claims.1.claim: is " in line and "the limit is 400" in line for line in found), found


def test_byte_order_mark(run, mini: Path) -> None:
    path = mini / POLITICS
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert problems(run, mini) == [
        "claims/rep-a/politics.yaml:1: starts with a byte-order mark (BOM); save it as UTF-8 without BOM"
    ]


def test_other_encoding(run, mini: Path) -> None:
    path = mini / POLITICS
    path.write_bytes(
        path.read_text(encoding="utf-8").replace("Report A says Nazarbayev", "Rapport é Nazarbayev").encode("latin-1")
    )
    assert problems(run, mini) == ["claims/rep-a/politics.yaml:14: is not valid UTF-8 (byte 0xe9); save it as UTF-8"]


def test_missing_directory(run, tmp_path: Path) -> None:
    r = run("search", "x", "--facts", str(tmp_path / "nowhere"))
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == f"{tmp_path / 'nowhere'}: fact base directory not found"


def test_empty_directory(run, tmp_path: Path) -> None:
    r = run("validate", "--facts", str(tmp_path))
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == f"{tmp_path}: no fact files here (expected sources.yaml and claims/)"


def test_empty_file(run, mini: Path) -> None:
    (mini / POLITICS).write_text("", encoding="utf-8")
    assert problems(run, mini) == ["claims/rep-a/politics.yaml:1: is empty"]


def test_a_fact_file_that_cannot_be_read(run, mini: Path) -> None:
    # a link to nowhere: unreadable, even for root (who can read any mode bits)
    (mini / "claims" / "rep-a" / "broken.yaml").symlink_to(mini / "nowhere.yaml")
    r = run("search", "Mamai", "--facts", str(mini))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [
        f"{mini}/claims/rep-a/broken.yaml: cannot read: No such file or directory",
        "kzrights: 1 problem(s) in the fact base",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file, so an unreadable file cannot be made")
def test_unreadable_file(run, mini: Path) -> None:
    (mini / POLITICS).chmod(0)
    assert problems(run, mini)[0].startswith("claims/rep-a/politics.yaml: cannot read")


def test_every_command_refuses_a_broken_fact_base(run, mini: Path) -> None:
    replace(mini, POLITICS, "people: [nursultan-nazarbayev]", "people: [nobody]")
    for args in (
        ["search", "x"],
        ["person", "Mamai"],
        ["show", "a-pol-01-dvk-banned"],
        ["validate"],
        ["export"],
        ["sources"],
        ["scores"],
    ):
        r = run(*args, "--facts", str(mini))
        assert r.exit_code == 2, args
        assert "unknown person id 'nobody'" in r.stderr


def test_no_command_writes_to_the_fact_base(run, mini: Path) -> None:
    before = {p: p.read_bytes() for p in mini.rglob("*") if p.is_file()}
    for args in (
        ["search", "Mamai"],
        ["person", "Mamai"],
        ["validate"],
        ["export", "--format", "csv"],
        ["show", "a-pol-01-dvk-banned"],
    ):
        run(*args, "--facts", str(mini))
    after = {p: p.read_bytes() for p in mini.rglob("*") if p.is_file()}
    assert after == before


def test_edits_are_picked_up_without_a_manual_step(run, mini: Path) -> None:
    assert run("search", "Mamai", "--facts", str(mini)).exit_code == 0
    replace(mini, Path("claims") / "rep-a" / "media-freedom.yaml", "ranks 155th", "ranks 155th (Zanzibarian test edit)")
    r = run("search", "Zanzibarian", "--json", "--facts", str(mini))
    assert r.exit_code == 0 and "Zanzibarian" in r.stdout


def test_problem_in_an_unchanged_file_keeps_its_line(run, mini: Path) -> None:
    # The first run caches every file; the edit below touches people.yaml only, so the
    # claims file is not parsed again, yet its problem must still name the right line.
    assert run("search", "Mamai", "--facts", str(mini)).exit_code == 0
    replace(mini, "people.yaml", "  - id: nursultan-nazarbayev", "  - id: nursultan-nazarbayev-renamed")
    assert problems(run, mini) == ["claims/rep-a/politics.yaml:15: unknown person id 'nursultan-nazarbayev'"]


def test_a_new_schema_checks_every_file_again(run, mini: Path) -> None:
    assert run("search", "Mamai", "--facts", str(mini)).exit_code == 0
    schema_dir = mini / "schema"
    shutil.copytree(packaged_facts_dir() / "schema", schema_dir)
    claims_schema = schema_dir / "claims.schema.json"
    claims_schema.write_text(
        claims_schema.read_text(encoding="utf-8").replace('"maxLength": 400', '"maxLength": 60'), encoding="utf-8"
    )
    assert any("the limit is 60" in line for line in problems(run, mini))


def test_corrupt_cache_is_rebuilt(run, mini: Path, _own_cache: Path) -> None:
    assert run("search", "Mamai", "--facts", str(mini)).exit_code == 0
    files = list(Path(_own_cache).glob("factbase-*.sqlite"))
    assert len(files) == 1
    files[0].write_bytes(b"\x00garbage")
    r = run("search", "Mamai", "--json", "--facts", str(mini))
    assert r.exit_code == 0
    assert r.stderr == f"kzrights: warning: the cache file {files[0].name} is damaged (not a kzrights cache); rebuilding it\n"
    assert files[0].read_bytes() != b"\x00garbage"
    assert run("search", "Mamai", "--json", "--facts", str(mini)).stderr == ""  # repaired


def test_cache_lives_in_the_user_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KZRIGHTS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "kzrights"


def test_unwritable_cache_is_not_an_error(run, mini: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(blocker / "sub"))
    r = run("search", "Mamai", "--json", "--facts", str(mini))
    assert r.exit_code == 0


def test_fact_base_error_lists_problems() -> None:
    from kzrights.model import Problem

    err = FactBaseError([Problem("a.yaml", 3, "bad"), Problem("b.yaml", 0, "worse")])
    assert err.lines() == ["a.yaml:3: bad", "b.yaml: worse", "kzrights: 2 problem(s) in the fact base"]


def test_loading_does_not_depend_on_the_cache(mini: Path) -> None:
    a = FactBase.load(mini, use_cache=False)
    b = FactBase.load(mini)
    assert a.all_claims() == b.all_claims()


def test_the_per_file_cache_round_trips_entry_by_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Entries are written one after the other under one checksum; read back whole, or not
    at all when a byte changed."""
    entries = {"claims/a.yaml": ["stamp", {"claims": [{"id": "x", "claim": "ü"}]}, None, [3]], "sources.yaml": [1, 2]}
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        load._write_cache(fd, "files-test.cache", "key", entries)
        assert load._read_cache(fd, "files-test.cache", "key") == entries
        assert load._read_cache(fd, "files-test.cache", "other key") is None  # stale
        f = tmp_path / "files-test.cache"
        data = bytearray(f.read_bytes())
        data[-3] ^= 0xFF
        f.write_bytes(bytes(data))
        assert load._read_cache(fd, "files-test.cache", "key") is None
    finally:
        os.close(fd)
    assert "checksum does not match" in capsys.readouterr().err


YAML_CASES = [
    "a: 1\nb: [x, 2, 2.5, true, null, ~, '3']\nc: {d: 2020-01-02, e: !!str 7}\n",
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",  # a merge key (the loader builds that mapping)
    "a: 1\na: 2\nb: {c: 1, c: 3}\n",  # repeated keys, noted as before
    "? [a, b]\n: 1\n",  # a list as a key: the loader refuses it
    "1: one\n2.5: two\nnull: three\n",  # keys that are not strings
    "- - - deep\n  - [1, {a: [b, {c: d}]}]\n",
    # every kind of implicit scalar (the loader's own resolver must tag them as PyYAML does)
    "[1, ~, '', , yes, Off, NULL, 2020-01-02, .5, -1, 0x1F, 1_000, 1:30, .inf, '1', \"x\", =]\n",
]


@pytest.mark.parametrize("text", YAML_CASES)
def test_the_fast_construction_builds_what_the_loader_builds(text: str) -> None:
    import yaml

    def by(construct: Any) -> tuple[Any, list[Any]]:
        loader = load._yaml_loader()(text)
        try:
            node = loader.get_single_node()
            return construct(loader, node), loader.duplicates
        except yaml.YAMLError as exc:
            return type(exc).__name__, loader.duplicates
        finally:
            loader.dispose()

    assert by(load._construct) == by(lambda loader, node: loader.construct_document(node))
    try:
        plain = yaml.load(text, Loader=yaml.CSafeLoader)  # PyYAML's own loader, resolver and all
    except yaml.YAMLError:
        return
    data, duplicates = by(load._construct)
    if not duplicates:
        assert data == plain


def test_the_fast_construction_builds_every_fact_file_as_the_loader_does() -> None:
    import yaml

    files = sorted((ROOT / "facts").rglob("*.yaml")) + sorted(MINI.rglob("*.yaml"))
    assert len(files) > 30
    for f in files:
        text = f.read_text(encoding="utf-8")
        fast, slow = load._yaml_loader()(text), load._yaml_loader()(text)
        try:
            data = load._construct(fast, fast.get_single_node())
            assert data == slow.construct_document(slow.get_single_node()), f
            assert data == yaml.load(text, Loader=yaml.CSafeLoader), f
        finally:
            fast.dispose()
            slow.dispose()


def test_the_quick_schema_test_passes_nothing_the_interpreter_refuses() -> None:
    """``schema._sound`` is a shortcut: on every record of the fact files, and on each of them
    spoiled in many ways, it may say "sound" only where ``check`` finds nothing."""
    import json
    import random

    import yaml

    from kzrights import schema as sch

    rng = random.Random(7)
    spoilers = [None, "", " ", 0, -1, 2**64, 1.5, float("nan"), True, [], {}, [1, 1], ["a", "a"], {"x": 1}, "x" * 5000]

    def spoiled(value: Any) -> Any:
        if isinstance(value, dict) and value and rng.random() < 0.7:
            key = rng.choice(sorted(value, key=str))
            return {**value, key: spoiled(value[key])} if rng.random() < 0.8 else {k: v for k, v in value.items() if k != key}
        if isinstance(value, list) and value and rng.random() < 0.7:
            i = rng.randrange(len(value))
            return [*value[:i], spoiled(value[i]), *value[i + 1 :]] if rng.random() < 0.8 else value + value[:1]
        return rng.choice(spoilers)

    checked = refused = 0
    for kind in load.SCHEMAS:
        schema = json.loads((ROOT / "facts" / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        files = [ROOT / "facts" / f"{kind}.yaml"] if kind != "claims" else sorted((ROOT / "facts" / "claims").rglob("*.yaml"))
        for f in files:
            if not f.is_file():
                continue
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
            assert sch.check(data, schema) == [] and sch._sound(schema)(data), f
            for _ in range(60):
                value = spoiled(data)
                problems = sch.check(value, schema)
                checked += 1
                refused += bool(problems)
                if problems:
                    assert not sch._sound(schema)(value), (f, problems)
    assert checked > 300 and refused > checked // 3
