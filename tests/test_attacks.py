"""Attacks on everything kzrights touches (issue 15), one section per class of defect:
writes that cannot destroy, a cache that is never trusted blindly, fact files read with
care, and output that never obeys the text it shows. Each test states the exit code and
the exact message; each runs on a copy of the fixture fact base."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kzrights import load
from kzrights.load import store_name

from .conftest import MINI, ROOT

POLITICS = Path("claims") / "rep-a" / "politics.yaml"
CSV_FILES = sorted(
    f"{t}.csv"
    for t in (
        "sources notes claims people organizations places topics claim_people claim_organizations claim_places claim_topics"
        " links ratings"
    ).split()
)
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")


def replace(root: Path, rel: Path | str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problem_lines(r, root: Path) -> list[str]:
    """The problems of a refused fact base, relative to it; the summary line checked."""
    assert r.exit_code == 2, r.stdout
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = r.stderr.splitlines()
    assert re.fullmatch(r"kzrights: \d+ problem\(s\) in the fact base", lines[-1]), lines
    return [line.replace(str(root) + os.sep, "") for line in lines[:-1]]


def kz(*args: str, cache: Path, **kw) -> subprocess.CompletedProcess:
    """The real process (entry point, streams, os._exit): for what only a process shows."""
    env = {**os.environ, "KZRIGHTS_CACHE_DIR": str(cache)}
    env.pop("KZRIGHTS_FACTS", None)
    return subprocess.run([sys.executable, "-m", "kzrights", *args], cwd=ROOT, env=env, capture_output=True, timeout=60, **kw)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# =========================================================================== writes that cannot destroy


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.mkfifo(p), "a FIFO (named pipe)"),
        (lambda p: p.mkdir(), "a folder"),
    ],
)
def test_export_refuses_a_target_that_is_not_a_regular_file(run, tmp_path: Path, make, kind: str) -> None:
    target = tmp_path / "x.db"
    make(target)
    r = run("export", "-f", "sqlite", "-O", str(target), "--facts", str(MINI))
    assert r.exit_code == 2
    assert r.stderr == f"kzrights: cannot write {target}: it is {kind}, not a regular file\n"
    assert listing(tmp_path) == ["x.db"]


def test_export_never_replaces_a_device(run) -> None:
    r = run("export", "-f", "sqlite", "-O", "/dev/null", "--facts", str(MINI))
    assert r.exit_code == 2
    assert r.stderr == "kzrights: cannot write /dev/null: it is a character device, not a regular file\n"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_export_never_writes_through_a_link(run, tmp_path: Path) -> None:
    keep = tmp_path / "t.txt"
    keep.write_text("keep\n")
    (tmp_path / "x.db").symlink_to(keep)
    r = run("export", "-f", "sqlite", "-O", str(tmp_path / "x.db"), "--facts", str(MINI))
    assert r.exit_code == 2
    assert (
        r.stderr == f"kzrights: cannot write {tmp_path / 'x.db'}: it is a symbolic link (kzrights never writes through a link)\n"
    )
    assert keep.read_text() == "keep\n"


def test_export_writes_only_what_was_named(run, tmp_path: Path) -> None:
    keep = tmp_path / "t.txt"
    keep.write_text("keep\n")
    (tmp_path / "x.metadata.json").symlink_to(keep)  # where the metadata used to go unasked
    (tmp_path / "x.db.tmp").write_text("an old temporary name: not ours to delete\n")
    r = run("export", "-f", "sqlite", "-O", str(tmp_path / "x.db"), "--facts", str(MINI))
    assert r.exit_code == 0, r.stderr
    assert r.stderr == f"kzrights: wrote {tmp_path / 'x.db'} (11 claims, 56 rows in 13 tables)\n"
    assert listing(tmp_path) == ["t.txt", "x.db", "x.db.tmp", "x.metadata.json"]
    assert keep.read_text() == "keep\n"
    # asked for, through a link: refused before anything is written
    r = run(
        "export",
        "-f",
        "sqlite",
        "-O",
        str(tmp_path / "y.db"),
        "--metadata",
        str(tmp_path / "x.metadata.json"),
        "--facts",
        str(MINI),
    )
    assert r.exit_code == 2
    assert r.stderr.endswith("x.metadata.json: it is a symbolic link (kzrights never writes through a link)\n")
    assert "y.db" not in listing(tmp_path) and keep.read_text() == "keep\n"


def test_export_replaces_a_regular_file_whole(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "x.db"
    assert run("export", "-f", "sqlite", "-O", str(db), "--facts", str(MINI)).exit_code == 0
    before = db.read_bytes()

    from kzrights import export

    real_rows = export.rows

    def failing_rows(fb):  # the disk fills up half-way
        yield from list(real_rows(fb))[:10]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "rows", failing_rows)
    r = run("export", "-f", "sqlite", "-O", str(db), "--facts", str(MINI))
    assert r.exit_code == 2
    assert r.stderr == f"kzrights: cannot write {db}: No space left on device\n"
    assert db.read_bytes() == before  # the old database, whole
    assert listing(tmp_path) == ["x.db"]  # no temporary file left


def test_export_refuses_an_empty_path(run) -> None:
    for fmt in ("sqlite", "csv"):
        r = run("export", "-f", fmt, "-O", "", "--facts", str(MINI))
        assert r.exit_code == 2
        assert r.stderr == "kzrights: --output: an empty path names nothing; give a file or folder name\n"


def test_csv_export_replaces_a_previous_export_whole(run, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    r = run("export", "-f", "csv", "-O", str(out), "--facts", str(MINI))
    assert r.exit_code == 0 and r.stderr == f"kzrights: wrote 13 CSV files to {out} (11 claims)\n"
    assert listing(out) == CSV_FILES
    r = run("export", "-f", "csv", "-O", str(out), "--facts", str(MINI))
    assert r.exit_code == 0
    assert r.stderr == f"kzrights: wrote 13 CSV files to {out} (11 claims), replacing the previous export there\n"
    assert listing(tmp_path) == ["csv"]  # nothing built or set aside is left


def test_csv_export_never_follows_a_member_link(run, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    assert run("export", "-f", "csv", "-O", str(out), "--facts", str(MINI)).exit_code == 0
    precious = tmp_path / "precious"
    precious.write_text("precious\n")
    (out / "topics.csv").unlink()
    (out / "topics.csv").symlink_to(precious)
    r = run("export", "-f", "csv", "-O", str(out), "--facts", str(MINI))
    assert r.exit_code == 2
    assert (
        r.stderr
        == f"kzrights: cannot replace {out}: topics.csv in it is a symbolic link (kzrights never writes through a link)\n"
    )
    assert precious.read_text() == "precious\n"


def test_csv_export_refuses_a_folder_that_is_not_an_export(run, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work\n")
    r = run("export", "-f", "csv", "-O", str(out), "--facts", str(MINI))
    assert r.exit_code == 2
    assert r.stderr == (
        f"kzrights: cannot replace {out}: it holds thesis.tex, which is not part of a kzrights export "
        "(name a new folder, or an empty one)\n"
    )
    assert listing(out) == ["thesis.tex"]
    f = tmp_path / "afile"
    f.write_text("x")
    r = run("export", "-f", "csv", "-O", str(f), "--facts", str(MINI))
    assert r.exit_code == 2 and r.stderr == f"kzrights: cannot write {f}: it is a regular file, not a folder\n"


def test_csv_export_failing_half_way_keeps_the_previous_export(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "csv"
    assert run("export", "-f", "csv", "-O", str(out), "--facts", str(MINI)).exit_code == 0
    before = {name: (out / name).read_bytes() for name in listing(out)}
    from kzrights import safe_write

    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(safe_write.os, "fsync", fsync)
    r = run("export", "-f", "csv", "-O", str(out), "--facts", str(MINI))
    assert r.exit_code == 2 and r.stderr == f"kzrights: cannot write {out}: No space left on device\n"
    assert {name: (out / name).read_bytes() for name in listing(out)} == before
    assert listing(tmp_path) == ["csv"]


# =========================================================================== a cache never trusted blindly


def _cache_file(cache: Path) -> Path:
    (found,) = cache.glob("factbase-*.sqlite")
    return found


def test_crafted_cache_bytes_are_never_decoded(tmp_path: Path, mini: Path) -> None:
    cache = tmp_path / "cache"
    assert kz("search", "Mamai", "--json", "--facts", str(mini), cache=cache).returncode == 0
    f = _cache_file(cache)
    f.write_bytes(b"\xa9\x01>\x01\x00\x00\x00r\x00\x00\x00\x00")  # marshal.loads of these: SIGSEGV
    p = kz("search", "Mamai", "--json", "--facts", str(mini), cache=cache)
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode() == f"kzrights: warning: the cache file {f.name} is damaged (not a kzrights cache); rebuilding it\n"
    assert json.loads(p.stdout)[0]["id"] == "a-pol-03-mamai-party"
    again = kz("search", "Mamai", "--json", "--facts", str(mini), cache=cache)
    assert again.returncode == 0 and again.stderr == b""


def test_a_damaged_cache_is_rebuilt_with_one_warning(run, mini: Path, _own_cache: Path) -> None:
    assert run("search", "Mamai", "--facts", str(mini)).exit_code == 0
    f = _cache_file(_own_cache)
    data = bytearray(f.read_bytes())
    data[-20] ^= 0xFF  # one bit-rotten byte in the payload
    f.write_bytes(bytes(data))
    r = run("search", "Mamai", "--json", "--facts", str(mini))
    assert r.exit_code == 0
    assert r.stderr == f"kzrights: warning: the cache file {f.name} is damaged (its checksum does not match); rebuilding it\n"
    f.write_bytes(bytes(data[: len(data) // 2]))
    r = run("search", "Mamai", "--json", "--facts", str(mini))
    assert r.exit_code == 0 and "damaged (cut short)" in r.stderr


@pytest.mark.parametrize(
    ("plant", "why"),
    [
        (lambda f: os.mkfifo(f), "is not a regular file"),
        (lambda f: f.symlink_to("/dev/zero"), "cannot be opened (Too many levels of symbolic links)"),
    ],
)
def test_a_cache_that_is_not_a_regular_file_is_never_read(tmp_path: Path, mini: Path, plant, why: str) -> None:
    cache = tmp_path / "cache"
    assert kz("search", "Mamai", "--json", "--facts", str(mini), cache=cache).returncode == 0
    f = _cache_file(cache)
    f.unlink()
    plant(f)
    p = kz("search", "Mamai", "--json", "--facts", str(mini), cache=cache)  # a hang or a read of /dev/zero fails by timeout
    assert p.returncode == 0
    assert p.stderr.decode() == f"kzrights: warning: the cache file {f.name} {why}; rebuilding it\n"
    assert stat.S_ISREG(os.lstat(f).st_mode)  # replaced by a real cache


def test_an_oversized_cache_is_not_read(run, mini: Path, _own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("search", "Mamai", "--facts", str(mini)).exit_code == 0
    monkeypatch.setattr(load, "MAX_STORE_FILE", 100)
    r = run("search", "Mamai", "--json", "--facts", str(mini))
    assert r.exit_code == 0
    assert r.stderr == f"kzrights: warning: the cache file {_cache_file(_own_cache).name} is too large; rebuilding it\n"


def _forge(mini: Path, cache: Path) -> None:
    """A cache in the right format, for the current fact files, that says something else."""
    from kzrights import __version__, build
    from kzrights.store import SQL_FORMAT, digest

    root = load.find_facts_dir(mini)
    files, _ = load.list_fact_files(root)
    raw = load.read_fact_base(root, files)
    raw.pop("units")
    for c in raw["claims"]:
        c["claim"] = c["claim"].replace("tried to found a party", "was acquitted")
    meta = {"format": SQL_FORMAT, "version": __version__, "fingerprint": digest(load._fingerprint(root, files))}
    fd = os.open(cache, os.O_RDONLY)
    try:
        plan = build.Plan(build.compile_records(raw), [c["index_terms"] for c in raw["claims"]], raw["vocabulary"], {}, "", meta)
        assert build.write_new_store(fd, str(cache), store_name(root), plan, None, None)
    finally:
        os.close(fd)


@ROOT_ONLY
def test_a_cache_planted_by_another_user_is_not_served(run, mini: Path, _own_cache: Path) -> None:
    _forge(mini, _own_cache)
    f = _cache_file(_own_cache)
    assert "was acquitted" in run("search", "Mamai", "--json", "--facts", str(mini)).stdout  # the forgery works when it is ours
    os.chown(f, 65534, 65534)  # ... and is refused when it is someone else's
    r = run("search", "Mamai", "--json", "--facts", str(mini))
    assert r.exit_code == 0
    assert r.stderr == f"kzrights: warning: the cache file {f.name} belongs to another user; rebuilding it\n"
    assert "was acquitted" not in r.stdout and "tried to found a party" in r.stdout


def test_a_shared_cache_folder_is_not_used(run, mini: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    r = run("search", "Mamai", "--json", "--facts", str(mini), env={"KZRIGHTS_CACHE_DIR": str(shared)})
    assert r.exit_code == 0
    assert r.stderr == (
        f"kzrights: warning: the cache folder {shared} may be written by other users, so it is not used "
        "(set KZRIGHTS_CACHE_DIR to a folder of your own)\n"
    )
    assert listing(shared) == []


@ROOT_ONLY
def test_a_cache_folder_of_another_user_is_not_used(run, mini: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    r = run("search", "Mamai", "--json", "--facts", str(mini), env={"KZRIGHTS_CACHE_DIR": str(theirs)})
    assert r.exit_code == 0 and "belongs to another user, so it is not used" in r.stderr
    assert listing(theirs) == []


def test_a_new_cache_folder_is_private(run, mini: Path, tmp_path: Path) -> None:
    new = tmp_path / "a" / "cache"
    assert run("search", "Mamai", "--facts", str(mini), env={"KZRIGHTS_CACHE_DIR": str(new)}).exit_code == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in new.iterdir())


def test_an_edit_that_keeps_size_and_mtime_is_seen(run, mini: Path) -> None:
    path = mini / "claims" / "rep-a" / "media-freedom.yaml"
    assert run("search", "155th", "--json", "--facts", str(mini)).exit_code == 0
    st = path.stat()
    replace(mini, path.relative_to(mini), "ranks 155th", "ranks 165th")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back (touch -d OLD)
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    r = run("search", "165th", "--json", "--facts", str(mini))
    assert r.exit_code == 0 and "ranks 165th" in r.stdout


def test_validate_never_trusts_the_cache_and_repairs_it(run, mini: Path, _own_cache: Path) -> None:
    _forge(mini, _own_cache)
    assert "was acquitted" in run("search", "Mamai", "--json", "--facts", str(mini)).stdout
    r = run("validate", "--facts", str(mini))
    assert r.exit_code == 0 and r.stderr == ""
    assert "was acquitted" not in run("search", "Mamai", "--json", "--facts", str(mini)).stdout
    f = _cache_file(_own_cache)
    f.write_bytes(b"\xa9\x01>\x01\x00\x00\x00r\x00\x00\x00\x00")
    assert run("validate", "--facts", str(mini)).exit_code == 0  # never read: no warning either
    assert f.read_bytes().startswith(b"SQLite format 3\x00")  # and rewritten whole


# =========================================================================== fact files


def test_a_symlinked_report_folder_is_followed(run, mini: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (mini / "claims" / "rep-b").rename(elsewhere)
    (mini / "claims" / "rep-b").symlink_to(elsewhere)
    (mini / "claims" / "rep-a" / "loop").symlink_to(mini / "claims")  # a link back up ends there
    r = run("validate", "--facts", str(mini))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("ok: 11 claims,")


def test_an_unreadable_folder_is_named(run, mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = str(mini / "claims" / "rep-b")
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path) == blocked:
            raise PermissionError(13, "Permission denied", blocked)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root reads every folder: refuse one by hand
    r = run("validate", "--facts", str(mini))
    assert problem_lines(r, mini) == ["claims/rep-b: cannot read folder: Permission denied"]


def test_a_missing_claims_folder_is_named(run, mini: Path) -> None:
    shutil.rmtree(mini / "claims")
    assert problem_lines(run("validate", "--facts", str(mini)), mini) == [
        "claims: missing: claims live in claims/<report>/<section>.yaml"
    ]


def test_a_fifo_fact_file_is_refused_not_opened(tmp_path: Path, mini: Path) -> None:
    os.mkfifo(mini / "claims" / "rep-a" / "pipe.yaml")
    p = kz("validate", "--facts", str(mini), cache=tmp_path / "cache")  # a hang fails by timeout
    assert p.returncode == 2
    assert p.stderr.decode().splitlines() == [
        f"{mini}/claims/rep-a/pipe.yaml: is a FIFO (named pipe), not a regular file; fact files must be files",
        "kzrights: 1 problem(s) in the fact base",
    ]


def test_a_file_removed_while_reading_is_named(run, mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = load.list_fact_files

    def listing_then_removal(root: Path):
        files, problems = real(root)
        (mini / POLITICS).unlink()
        return files, problems

    monkeypatch.setattr(load, "list_fact_files", listing_then_removal)
    r = run("validate", "--facts", str(mini))
    lines = problem_lines(r, mini)
    assert lines == ["claims/rep-a/politics.yaml: was removed while kzrights was reading the fact base; run again"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'date: "2018-03"',
            "date: 2020-02-30",
            "claims/rep-a/politics.yaml:7: malformed YAML: 2020-02-30 is not a real date (day is out of range for month); "
            'dates in fact files are quoted: "2020-06-06"',
        ),
        (
            "    para: 2\n",
            "    para: !!int abc\n",
            "claims/rep-a/politics.yaml:12: malformed YAML: cannot read 'abc' as !!int "
            "(invalid literal for int() with base 10: 'abc')",
        ),
        (
            "    para: 2\n",
            "    para: !!bool maybe\n",
            "claims/rep-a/politics.yaml:12: malformed YAML: cannot read 'maybe' as !!bool",
        ),
        (
            "    para: 2\n",
            "    para: !!float many\n",
            "claims/rep-a/politics.yaml:12: malformed YAML: cannot read 'many' as !!float "
            "(could not convert string to float: 'many')",
        ),
        (
            "    para: 2\n",
            "    para: 2\n    ? [a, b]\n    : x\n",
            "claims/rep-a/politics.yaml:13: malformed YAML: a key must be a plain name, not a list (`? [a, b]`)",
        ),
        (
            "    para: 2\n",
            "    para: 2\n    ? {a: b}\n    : x\n",
            "claims/rep-a/politics.yaml:13: malformed YAML: a key must be a plain name, not a mapping (`? [a, b]`)",
        ),
        (
            "    para: 2\n",
            "    para: &p 2\n    notes: *p\n",
            "claims/rep-a/politics.yaml:12: malformed YAML: an anchor (&) used again by an alias (*); write the value out",
        ),
        (
            "    para: 2\n",
            "    para: !!python/name:os.system 2\n",
            "claims/rep-a/politics.yaml:12: malformed YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/name:os.system' (tags that build objects are not allowed in fact files)",
        ),
        (
            "report: rep-a\n",
            "report: rep-a\n---\nreport: rep-b\n",
            "claims/rep-a/politics.yaml:2: malformed YAML: but found another document",
        ),
        (
            "    para: 2\n",
            "    para: 100000000000000000000000\n",
            "claims/rep-a/politics.yaml:12: claims.1.para: is too large a number (24 digits); the limit is 9223372036854775807",
        ),
        (
            'date: "2018-03"',
            'date: "２０１８"',
            "claims/rep-a/politics.yaml:7: claims.0.date: '２０１８' is not an ISO date (use 2020, 2020-06 or 2020-06-06)",
        ),
        (
            'date: "2018-03"',
            'date: "2018-03\\n"',
            "claims/rep-a/politics.yaml:7: claims.0.date: '2018-03\\n' is not an ISO date (use 2020, 2020-06 or 2020-06-06)",
        ),
        (
            "id: a-pol-02-elbasy-council",
            'id: "a-pol-02-elbasy-council\\n"',
            "claims/rep-a/politics.yaml:11: claims.1.id: 'a-pol-02-elbasy-council\\n' is not a valid id",
        ),
        (
            "id: a-pol-02-elbasy-council",
            "id: a-pol-٠٢-elbasy-council",
            "claims/rep-a/politics.yaml:11: claims.1.id: 'a-pol-٠٢-elbasy-council' is not a valid id",
        ),
    ],
)
def test_every_yaml_problem_is_located(run, mini: Path, old: str, new: str, expected: str) -> None:
    replace(mini, POLITICS, old, new)
    lines = problem_lines(run("validate", "--facts", str(mini)), mini)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "democracy_score: 1.38",
            "democracy_score: .nan",
            "ratings.yaml:6: ratings.0.democracy_score: must be a finite number, not nan",
        ),
        (
            "democracy_score: 1.38",
            "democracy_score: -.inf",
            "ratings.yaml:6: ratings.0.democracy_score: must be a finite number, not -inf",
        ),
        (
            "scale: {min: 1, max: 7}",
            "scale: {min: .NaN, max: 7}",
            "ratings.yaml:5: ratings.0.scale.min: must be a finite number, not nan",
        ),
        ("scale: {min: 1, max: 7}", "scale: {min: 7, max: 7}", "ratings.yaml:5: scale: min 7 must be below max 7"),
        ("score: 1.50", "score: 9.5", "ratings.yaml:11: categories.0.score: 9.5 is outside the scale 1 to 7"),
        (
            "democracy_percentage: 6.25",
            "democracy_percentage: 625",
            "ratings.yaml:7: democracy_percentage: 625 is not a percentage (0 to 100)",
        ),
    ],
)
def test_ratings_are_finite_and_on_their_scale(run, mini: Path, old: str, new: str, expected: str) -> None:
    replace(mini, "ratings.yaml", old, new)
    for args in (["validate"], ["scores", "--json"], ["scores"]):
        r = run(*args, "--facts", str(mini))
        assert problem_lines(r, mini) == [expected]
        assert "NaN" not in r.stdout


def test_a_missing_entity_file_is_named_as_the_cause(run, mini: Path) -> None:
    (mini / "people.yaml").unlink()
    assert problem_lines(run("validate", "--facts", str(mini)), mini) == [
        "people.yaml: missing, yet claims name 5 person id(s) from it (e.g. 'aset-abishev')"
    ]
    (mini / "sources.yaml").unlink()
    assert problem_lines(run("validate", "--facts", str(mini)), mini) == [
        "sources.yaml: missing: every fact base needs it",
        "people.yaml: missing, yet claims name 5 person id(s) from it (e.g. 'aset-abishev')",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{broken", "schema/people.schema.json:1: is not valid JSON: Expecting property name enclosed in double quotes"),
        ("[1, 2]", "schema/people.schema.json:1: must be a JSON object (a JSON Schema)"),
        ('{"type": "strnig"}', "schema/people.schema.json: unknown type 'strnig'"),
        (
            '{"type": "object", "properties": {"people": {"type": "array", "items": {"properties": {"id": {"pattern": "("}}}}}}',
            "schema/people.schema.json: pattern '(' is not a regular expression",
        ),
    ],
)
def test_a_broken_schema_is_named(run, mini: Path, content: str, expected: str) -> None:
    shutil.copytree(load.packaged_facts_dir() / "schema", mini / "schema")
    (mini / "schema" / "people.schema.json").write_text(content, encoding="utf-8")
    lines = problem_lines(run("validate", "--facts", str(mini)), mini)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_uniqueness_checks_take_linear_time() -> None:
    from kzrights.schema import check

    items = [f"t{i}" for i in range(100_000)] + ["t5"]
    start = time.perf_counter()
    found = check(items, {"type": "array", "uniqueItems": True, "items": {"type": "string"}})
    assert found == [((100_000,), "repeats 't5'")]
    assert time.perf_counter() - start < 2  # the list scan took 10 s for 30,000 items
    assert check([{"a": [1]}, {"a": [1]}, [True], [1]], {"uniqueItems": True}) == [((1,), "repeats {'a': [1]}")]


def test_many_problems_in_one_file_are_located_in_linear_time(run, mini: Path) -> None:
    fields = "".join(f"    k{i}: 1\n" for i in range(20_000))  # a 300 KB claim of unknown fields
    replace(mini, POLITICS, "    para: 2\n", "    para: 2\n" + fields)
    start = time.perf_counter()
    lines = problem_lines(run("validate", "--facts", str(mini)), mini)
    assert time.perf_counter() - start < 5  # a key-by-key search per problem took 10 s at 30,000
    assert len(lines) == 20_000 and lines[-1].startswith("claims/rep-a/politics.yaml:20012: claims.1.k19999: unknown field")


@pytest.mark.parametrize("value", ["2020-02-30", "२०२०", "２０２０-01", "2020-06\n", "2021-02-29"])
def test_date_filters_take_real_dates_in_ascii_digits(run, value: str) -> None:
    r = run("search", "Mamai", "--since", value, "--facts", str(MINI))
    assert r.exit_code == 2
    assert r.stderr == f"kzrights: --since: not a date: {value!r} (accepted: YYYY, YYYY-MM, YYYY-MM-DD)\n".replace("\n'", "\\n'")


def test_conflicts_refuses_an_unknown_report(run) -> None:
    r = run("conflicts", "--report", "nope", "--facts", str(MINI))
    assert r.exit_code == 2 and r.stderr == "kzrights: unknown report 'nope' (known: rep-a, rep-b)\n"


# =========================================================================== output

# Bytes a terminal obeys: an OSC 52 clipboard write, a CSI clear-screen, an 8-bit CSI, a
# carriage return that hides the line, a right-to-left override.
PAYLOAD = "\x1b]52;c;aGk=\x07\x1b[2J\x9b31m\r\u202e"
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TEXT_KEYS = set("claim note name role description label title short publisher author status text covers".split())


def _poison(value, key: str | None = None):
    """Every free text of a fact file with PAYLOAD added; section names alike everywhere."""
    if isinstance(value, dict):
        return {k: _poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, "alias" if key in ("aliases", "sections") else key) for v in value]
    if isinstance(value, str) and (key in TEXT_KEYS or key in ("alias", "section")):
        return value + PAYLOAD
    return value


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.fixture
def poisoned(mini: Path) -> Path:
    import yaml

    for path in mini.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(yaml.safe_dump(_poison(data), allow_unicode=True, width=1000), encoding="utf-8")
    return mini


COMMANDS = [
    ["search", "Mamai"],
    ["search", "Testland", "--cite"],
    ["search", "Report"],
    ["person", "Mamay"],
    ["person", "Abishev"],
    ["org", "DVK"],
    ["topic", "press freedom"],
    ["people"],
    ["orgs"],
    ["topics"],
    ["show", "b-cs-03-dvk-banned"],
    ["sources"],
    ["scores"],
    ["compare", "Mamai"],
    ["conflicts"],
    ["timeline"],
    ["stats"],
    ["cite", "a-pol-01-dvk-banned"],
    ["cite", "a-pol-01-dvk-banned", "--style", "markdown"],
    ["cite", "a-pol-01-dvk-banned", "--style", "bibtex"],
    ["cite", "a-pol-01-dvk-banned", "--style", "csl-json"],
    ["export", "--format", "markdown"],
    ["export", "--format", "csv"],
    ["export", "--format", "jsonl"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_text_from_fact_files_never_reaches_the_terminal_raw(run, poisoned: Path, args: list[str]) -> None:
    formats = [[]]
    if args[0] in ("search", "person", "org", "topic", "people", "orgs", "topics", "timeline"):
        formats += [["--format", f] for f in ("json", "csv", "markdown")]
    for fmt in formats:
        r = run(*args, *fmt, "--facts", str(poisoned), env={"COLUMNS": "300"})
        assert r.exit_code in (0, 1), (args, fmt, r.stderr)
        assert not RAW.search(r.stdout), (args, fmt, RAW.search(r.stdout))
        assert not RAW.search(r.stderr), (args, fmt, r.stderr)
        assert "\\u001b]52" in r.stdout or r.exit_code == 1 or args[0] in ("stats",), (args, fmt)
        if fmt == ["--format", "json"] and r.exit_code == 0:
            assert any(PAYLOAD in s for s in _strings(json.loads(r.stdout)))  # still JSON, the data unaltered


def test_table_exports_carry_no_raw_controls(run, poisoned: Path, tmp_path: Path) -> None:
    assert run("export", "-f", "csv", "-O", str(tmp_path / "csv"), "--facts", str(poisoned)).exit_code == 0
    for f in (tmp_path / "csv").iterdir():
        text = f.read_text(encoding="utf-8")
        assert not RAW.search(text), f.name
    assert "\\u001b]52" in (tmp_path / "csv" / "claims.csv").read_text(encoding="utf-8")
    db = tmp_path / "x.db"
    assert run("export", "-f", "sqlite", "-O", str(db), "--facts", str(poisoned)).exit_code == 0
    con = sqlite3.connect(db)
    texts = [
        v
        for (t,) in con.execute("select name from sqlite_master where type = 'table'")
        for row in con.execute(f"select * from [{t}]")
        for v in row
        if isinstance(v, str)
    ]
    assert texts and not any(RAW.search(v) for v in texts)


def test_messages_never_carry_raw_controls(run, mini: Path) -> None:
    bad = mini / "claims" / "rep-a" / f"x{PAYLOAD}.yaml"
    shutil.copy(mini / POLITICS, bad)  # a file name that is an escape sequence
    replace(mini, POLITICS, "    para: 2\n", f'    para: 2\n    "{PAYLOAD.encode("unicode_escape").decode()}": 1\n')
    r = run("validate", "--facts", str(mini))
    assert r.exit_code == 2 and not RAW.search(r.stderr)
    assert "x\\u001b]52;c;aGk=\\u0007\\u001b[2J\\u009b31m\\u000d\\u202e.yaml:4: duplicate claim id" in r.stderr
    assert "unknown field '\\u001b]52" in r.stderr


def test_a_file_name_that_is_not_utf8(run, mini: Path) -> None:
    odd = mini / "claims" / "rep-a" / os.fsdecode(b"x\xff.yaml")
    (mini / POLITICS).rename(odd)
    for _ in range(2):  # building the cache, then reading it
        r = run("show", "a-pol-01-dvk-banned", "--facts", str(mini))
        assert r.exit_code == 0 and r.stdout.endswith("a-pol-01-dvk-banned · claims/rep-a/x\\udcff.yaml:4\n")
    replace(mini, odd.relative_to(mini), "    para: 2\n", "    para: two\n")
    r = run("validate", "--facts", str(mini))
    assert problem_lines(r, mini) == ["claims/rep-a/x\\udcff.yaml:12: claims.1.para: must be integer, not a string"]


def test_names_in_did_you_mean_are_escaped(run, mini: Path) -> None:
    replace(mini, "people.yaml", "name: Olzhas Abishev", 'name: "Olzhas\\e]0;owned\\a\\u202e Abishev"')
    r = run("person", "Abishev", "--facts", str(mini))
    assert r.exit_code == 0 and not RAW.search(r.stderr)
    shown = "Olzhas\\u001b]0;owned\\u0007\\u202e Abishev (olzhas-abishev)"
    assert r.stderr == f"kzrights: did you mean: {shown} (showing Aset Abishev (aset-abishev))\n"
    r = run("search", "Mamai", "--since", f"20{PAYLOAD}", "--facts", str(MINI))
    assert r.exit_code == 2 and not RAW.search(r.stderr)


def test_arguments_in_usage_errors_are_escaped(tmp_path: Path) -> None:
    p = kz("search", "--format", f"x{PAYLOAD}", cache=tmp_path)
    assert p.returncode == 2 and not RAW.search(p.stderr.decode())
    p = kz(f"sea{PAYLOAD}rch", cache=tmp_path)
    assert p.returncode == 2 and not RAW.search(p.stderr.decode())


def test_a_huge_name_is_refused_at_once(run) -> None:
    words = " ".join(f"w{i:06d}" for i in range(16_000))  # 128 KB
    for args in (["person", words], ["org", words], ["topic", words], ["compare", words], ["timeline", words]):
        start = time.perf_counter()
        r = run(*args, "--facts", str(MINI))
        assert r.exit_code == 2
        what = "NAME" if args[0] in ("person", "org", "topic") else "SUBJECT"
        assert r.stderr == f"kzrights: {what} is {len(words)} characters long; a name or subject has at most 300\n"
        assert time.perf_counter() - start < 2
    r = run("search", "Mamai", "--person", words, "--facts", str(MINI))
    assert r.exit_code == 2 and r.stderr.startswith("kzrights: --person is ")
    r = run("search", words, "--facts", str(MINI))  # a search takes the first words; its message is cut
    assert r.exit_code == 1 and len(r.stderr) < 1200 and "more characters)" in r.stderr


PIPE_COMMANDS = [
    ["search", "Report", "--limit", "20"],
    ["stats"],
    ["conflicts"],
    ["person", "Mamay"],
    ["org", "DVK"],
    ["topic", "press freedom"],
    ["--help"],
    ["search", "--help"],
    ["export", "--format", "jsonl"],
    ["timeline", "--since", "2000"],
    ["compare", "Mamai"],
    ["scores"],
]


def test_a_reader_that_goes_away_ends_every_command_quietly(tmp_path: Path) -> None:
    env = {**os.environ, "KZRIGHTS_CACHE_DIR": str(tmp_path), "COLUMNS": "80"}
    procs = []
    for args in PIPE_COMMANDS:
        facts = [] if "--help" in args else ["--facts", str(MINI)]
        p = subprocess.Popen(
            [sys.executable, "-m", "kzrights", *args, *facts], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert p.stdout is not None
        p.stdout.close()  # the reader is gone before the first byte: `| head -0`
        procs.append((args, p))
    for args, p in procs:
        assert p.stderr is not None
        err = p.stderr.read().decode()
        assert (p.wait(timeout=60), err) == (0, ""), args


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("closed", "kzrights: cannot write to standard output: standard output is closed\n"),
        ("full", "kzrights: cannot write to standard output: No space left on device\n"),
    ],
)
def test_a_closed_or_full_stdout_is_one_line_and_exit_2(tmp_path: Path, how: str, message: str) -> None:
    for args in (["search", "Mamai", "--json", "--facts", str(MINI)], ["search", "Mamai", "--facts", str(MINI)], ["--help"]):
        if how == "closed":
            p = kz(*args, cache=tmp_path, stdout=None, preexec_fn=lambda: os.close(1))
        else:
            with open("/dev/full", "w") as full:
                p = subprocess.run(
                    [sys.executable, "-m", "kzrights", *args],
                    cwd=ROOT,
                    env={**os.environ, "KZRIGHTS_CACHE_DIR": str(tmp_path)},
                    stdout=full,
                    stderr=subprocess.PIPE,
                    timeout=60,
                )
        assert (p.returncode, p.stderr.decode()) == (2, message), args


def test_a_closed_stderr_changes_no_exit_code(tmp_path: Path, mini: Path) -> None:
    def code(*args: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "kzrights", *args],
            cwd=ROOT,
            env={**os.environ, "KZRIGHTS_CACHE_DIR": str(tmp_path)},
            stdout=subprocess.DEVNULL,
            preexec_fn=lambda: os.close(2),
            timeout=60,
        ).returncode

    assert code("search", "Mamai", "--facts", str(mini)) == 0
    assert code("show", "no-such-claim", "--facts", str(mini)) == 1
    replace(mini, POLITICS, "    para: 2\n", "    para: two\n")
    assert code("validate", "--facts", str(mini)) == 2


@pytest.mark.parametrize(
    "interrupt",
    [
        # a real SIGINT while the command runs (typer's and the import machinery's own
        # handling never see it)
        "c.main = lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(30))",
        # a KeyboardInterrupt where the command line starts, and inside a command
        "c.main = interrupted",
        "c.FactBase.load = lambda *a, **k: interrupted()",
    ],
)
def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path, interrupt: str) -> None:
    code = (
        "import os, signal, sys, time\nimport kzrights.cli as c\n"
        "def interrupted(): raise KeyboardInterrupt\n"
        f"{interrupt}\n"
        "sys.argv = ['kzrights', 'search', 'Mamai']\nfrom kzrights.entry import main\nmain()\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "KZRIGHTS_CACHE_DIR": str(tmp_path)},
        capture_output=True,
        timeout=60,
    )
    assert (p.returncode, p.stderr.decode()) == (130, "kzrights: interrupted\n")


def test_ctrl_c_during_an_export_leaves_the_old_file_and_no_temporary(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "x.db"
    assert run("export", "-f", "sqlite", "-O", str(db), "--facts", str(MINI)).exit_code == 0
    before = db.read_bytes()
    from kzrights import export, safe_write

    real_rows = export.rows

    def interrupted_rows(fb):
        yield from list(real_rows(fb))[:10]
        assert safe_write.busy  # so the signal handler unwinds instead of exiting at once
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "rows", interrupted_rows)
    r = run("export", "-f", "sqlite", "-O", str(db), "--facts", str(MINI))
    assert r.exit_code == 130
    assert db.read_bytes() == before and listing(tmp_path) == ["x.db"]
    assert safe_write.busy == 0


def test_sqlite_export_of_a_refused_big_number_never_starts(run, mini: Path, tmp_path: Path) -> None:
    replace(mini, POLITICS, "    para: 2\n", "    para: 100000000000000000000000\n")
    r = run("export", "-f", "sqlite", "-O", str(tmp_path / "x.db"), "--facts", str(mini))
    assert r.exit_code == 2 and "is too large a number" in r.stderr
    assert listing(tmp_path) == ["facts"]
