"""A large fact base's store is built in a stream (``stream.py``): the same store, the same
problems reported, nothing left behind."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kzrights import load, stream
from kzrights.factbase import FactBase
from kzrights.store import SqliteStore, loads

from .conftest import MINI, ROOT
from .test_store import edit

MARSHALLED = {("claims", 11), ("records", 2), ("entities", 1), ("files", 3), ("blobs", 1)}  # (table, column)


def everything(path: Path) -> dict[str, list[str]]:
    """Every row of every table, ``marshal`` blobs decoded (the bytes of equal values may
    differ in how they share objects); packed positions compared as they are."""
    c = sqlite3.connect(path)
    out = {}
    for (table,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        rows = c.execute(f"SELECT * FROM {table}")
        out[table] = sorted(repr([loads(v) if (table, i) in MARSHALLED else v for i, v in enumerate(r)]) for r in rows)
    c.close()
    return out


def build_both(facts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The store of ``facts`` written whole and in a stream, each in a cache folder of its own."""
    paths = []
    for mode, threshold in (("whole", 10**12), ("stream", 0)):
        monkeypatch.setattr(stream, "STREAM_FROM", threshold)
        cache = tmp_path / mode
        monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(cache))
        fb = FactBase.load(facts, use_cache=False)
        assert isinstance(fb.store, SqliteStore)
        paths.append(cache / load.store_name(load.find_facts_dir(facts)))
    return paths[0], paths[1]


@pytest.mark.parametrize("cores", ["one", "every", "no fork"])
@pytest.mark.parametrize("facts", [ROOT / "facts", MINI], ids=["real", "mini"])
def test_a_store_built_in_a_stream_is_the_store_built_whole(
    facts: Path, cores: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from kzrights import parallel

    if cores != "one":  # (workers forked for a small base too: each writes its files into the spool)
        monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    if cores == "no fork":  # (a platform without fork, as Windows: every file read in this process)
        import multiprocessing

        real_context = multiprocessing.get_context

        def no_fork(method: str | None = None) -> object:
            if method == "fork":
                raise ValueError("cannot find context for 'fork'")
            return real_context(method)

        monkeypatch.delattr(os, "fork")
        monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    streamed = []
    real = stream.rebuild
    monkeypatch.setattr(stream, "rebuild", lambda *a, **k: streamed.append(real(*a, **k)) or streamed[-1])
    whole, streamed_path = build_both(facts, tmp_path, monkeypatch)
    assert streamed == [True]
    a, b = everything(whole), everything(streamed_path)
    assert sorted(a) == sorted(b)
    for table in a:  # (table by table: a failure shows the table, not the whole store)
        assert a[table] == b[table], table


PROBLEMS = [
    # a claim id given in two files
    ("claims/rep-b/civil-society.yaml", "  - id: b-cs-02-mamay-detained\n", "  - id: a-pol-01-dvk-banned\n"),
    # a person no one knows
    ("claims/rep-b/civil-society.yaml", "people: [zhanbolat-mamay]", "people: [nobody-known, zhanbolat-mamay]"),
    # a link to a claim that does not exist
    (
        "claims/rep-a/politics.yaml",
        '    date: "2018-03"\n',
        '    date: "2018-03"\n    related:\n      - id: no-such-claim\n        kind: complements\n',
    ),
    # a section the report does not have
    ("claims/rep-a/politics.yaml", "section: Politics", "section: Nowhere at all"),
    # not YAML
    ("claims/rep-a/media-freedom.yaml", "claims:", "claims: [\n"),
]


@pytest.mark.parametrize("cores", ["one", "every"])
@pytest.mark.parametrize("problem", PROBLEMS, ids=["duplicate-id", "unknown-person", "dangling-link", "section", "yaml"])
def test_a_problem_stops_the_stream_and_is_reported_as_a_whole_build_reports_it(
    problem: tuple[str, str, str], cores: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Any
) -> None:
    from kzrights import parallel

    if cores == "every":  # (workers forked even for three files: a problem must not leave them waiting)
        monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    facts = tmp_path / "facts"
    shutil.copytree(MINI, facts)
    rel, old, new = problem
    if old not in (facts / rel).read_text(encoding="utf-8"):
        pytest.fail(f"the fixture no longer has {old!r} in {rel}")
    edit(facts, rel, old, new)
    tried = []
    real = stream.rebuild
    monkeypatch.setattr(stream, "rebuild", lambda *a, **k: tried.append(real(*a, **k)) or tried[-1])
    results = {}
    for mode, threshold in (("whole", 10**12), ("stream", 0)):
        monkeypatch.setattr(stream, "STREAM_FROM", threshold)
        cache = tmp_path / f"cache-{mode}"
        got = run("validate", "--facts", str(facts), env={"KZRIGHTS_CACHE_DIR": str(cache)})
        results[mode] = (got.exit_code, got.stderr)
        assert not [n for n in os.listdir(cache) if "spool" in n], "a spool was left behind"
    assert tried == [False]  # the stream met the problem and gave way
    assert results["whole"][0] == 2, results
    assert results["stream"] == results["whole"]


def test_the_spool_is_gone_once_the_store_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "STREAM_FROM", 0)
    opened = []
    real = stream._spool

    def spy(dir_fd: int) -> int | None:
        fd = real(dir_fd)
        opened.append(fd)
        assert fd is not None and os.fstat(fd).st_nlink == 0  # unlinked from the start
        return fd

    monkeypatch.setattr(stream, "_spool", spy)
    cache = tmp_path / "cache"
    monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(cache))
    FactBase.load(MINI, use_cache=False)
    assert len(opened) == 1
    with pytest.raises(OSError):
        os.fstat(opened[0])  # closed
    assert sorted(n for n in os.listdir(cache) if not n.endswith(".cache")) == [load.store_name(MINI)]


def test_wanted_counts_the_claim_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "claims").mkdir()
    big = tmp_path / "people.yaml"
    big.write_bytes(b"#" * 4000)
    small = tmp_path / "claims" / "a.yaml"
    small.write_bytes(b"#" * 400)
    monkeypatch.setattr(stream, "STREAM_FROM", 2)
    assert not stream.wanted(tmp_path, [big, small])
    small.write_bytes(b"#" * 800)
    assert stream.wanted(tmp_path, [big, small])


def _slow_square(n: int) -> int:
    import time

    time.sleep(0.01)
    return n * n


def test_a_caller_that_stops_taking_results_early_is_not_kept_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from kzrights import parallel

    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    got: list[int] = []

    def take_one_then_stop() -> None:
        results = parallel.in_parallel(_slow_square, range(100), 100)
        got.append(next(results))
        time.sleep(1)  # the workers run ahead until the feeding thread waits for room
        results.close()  # what a problem found (or an error) does to it

    t = threading.Thread(target=take_one_then_stop, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the pool was never shut down"
    assert got == [0]


def test_validate_counts_links_as_stats_does_without_building_every_claim(tmp_path: Path) -> None:
    from kzrights import queries
    from kzrights.store import DictStore

    fb = FactBase.load(ROOT / "facts")
    in_memory = FactBase(DictStore(load.load_compiled(ROOT / "facts")))
    for base in (fb, in_memory):
        s = queries.stats(base)
        assert base.store.link_ends() // 2 == sum(s.links.values()) > 100
        assert queries.entity_counts(base) == s.entities
        assert base.store.n == s.claims


def test_an_edit_reuses_the_fragments_of_the_files_it_did_not_touch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _own_cache: Path
) -> None:
    facts = tmp_path / "facts"
    shutil.copytree(MINI, facts)
    monkeypatch.setattr(stream, "STREAM_FROM", 0)
    FactBase.load(facts)
    computed: list[str] = []
    real = stream.fragment
    monkeypatch.setattr(stream, "fragment", lambda c, *a: computed.append(c[0]) or real(c, *a))
    edit(facts, "claims/rep-a/politics.yaml", "tried to found a party", "founded the Quokkaland party")
    fb = FactBase.load(facts)
    edited = [c.id for c in fb.all_claims() if c.file.endswith("rep-a/politics.yaml")]
    assert sorted(computed) == sorted(edited)  # the other files' fragments came from the old store
    assert fb.search("Quokkaland")
    name = load.store_name(load.find_facts_dir(facts))
    monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(tmp_path / "fresh"))
    monkeypatch.setattr(stream, "STREAM_FROM", 10**12)
    FactBase.load(facts, use_cache=False)
    a, b = everything(_own_cache / name), everything(tmp_path / "fresh" / name)
    for table in a:
        assert a[table] == b[table], table
