"""The store of a large fact base, built in a stream: a claim file at a time, never the
whole fact base in memory.

A rebuild of a fact base of ``STREAM_FROM`` claims or more comes here (``load._rebuild``).
The single files (sources, people, topics, vocabulary ...) are read and checked as usual;
the claim files then go through two passes, on every core (``parallel.in_parallel``):

1. Each claim file is parsed, checked against its schema and against the single files
   (its report and section, its notes, every person, organisation, place and topic it
   names), compiled to records and fragments (``build.fragment``), and written by its
   worker at the end of a spool, a temporary file in the cache folder unlinked as soon as
   it is made. The main process keeps only each claim's id, length and links, and where
   each file's records are in the spool.
2. With every id known (ids unique, links checked both ways, positions given in order of
   (length, id)), each file's records are read back from the spool, given their links
   and indexed, in workers; the main process writes them and merges their postings.

What is written is the store ``build.write_store`` writes from the same files. Any problem
in the files stops the stream (``Stop``), and the rebuild is then done the ordinary way,
which reports every problem as usual: a fact base with problems is the exception, and its
report must be the same however large it is.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from . import parallel
from .build import (
    MAX_LENGTH,
    IndexBuilder,
    Matcher,
    StoreWriter,
    _insert,
    _write_forms,
    compile_claim,
    compile_singles,
    compiled_part,
    digest_of,
    file_part_loads,
    fragment,
    fragment_basis,
    fragment_key,
    new_temp_file,
    part_bytes,
    positions,
    related,
    roles,
    take_parts,
    write_index,
)
from .errors import FactBaseError
from .store import CLAIM_RELATED, loads, seal

STREAM_FROM = 20_000  # claims, estimated from the claim files' size, from which a rebuild streams
CLAIM_BYTES = 400  # about what a claim takes in a claim file


class Stop(OSError):
    """A problem in the fact files: the ordinary rebuild takes over, to report it (an
    ``OSError``: ``build.write_new_store`` then removes what it began to write)."""


def wanted(root: Path, files: Sequence[Path]) -> bool:
    """Whether the claim files among ``files`` are many claims' worth."""
    return claims_in([f for f in files if f.parent != root]) >= STREAM_FROM


def claims_in(claim_files: Sequence[Path]) -> int:
    """About how many claims the claim files hold, by their size (an unreadable file is left
    for reading to report)."""
    return sum(_size(f) for f in claim_files) // CLAIM_BYTES


class _Context(NamedTuple):
    """What a first-pass worker checks and compiles a claim file with."""

    root: Path
    schema: dict[str, Any]
    reports: dict[str, tuple[set[str], set[int]]]  # report id -> (its sections, its note numbers)
    entities: dict[str, dict[str, None]]  # kind -> its ids, as ``checks.check_claim`` looks them up
    roles: dict[str, str]
    matcher: Matcher
    basis: str  # ``build.fragment_basis``: with a file's stamp, its fragments' key
    old: int | None  # the previous store, open (its fragments of unchanged files serve again)


class _File(NamedTuple):
    """A claim file of the first pass, as the main process keeps it."""

    path: str  # in the fact base
    stamp: str
    report: str
    start: int  # its first claim's number in the fact base
    offset: int  # its records' place in the spool (its sealed fragments follow them)
    size: int  # of its records
    frags: int  # the size of its sealed fragments


def rebuild(
    root: Path,
    files: Sequence[Path],
    dir_fd: int,
    folder: str,
    name: str,
    meta: dict[str, Any],
    singles: str,
    units: Any,
    edit: bool = False,
) -> bool:
    """Write the store of the fact base at ``root`` (its files: ``files``) to ``name`` in the
    cache folder, in a stream. False, with nothing written, when the files have a problem
    (or the spool cannot be made): the caller then rebuilds the ordinary way. ``units``:
    the single files read before (the per-file cache); ``singles`` and ``meta``: what the
    store records of them; ``edit``: the store there is a previous one, of this layout,
    whose fragments of the files unchanged since serve again."""
    from .build import write_new_store
    from .load import _load_schemas, read_fact_base

    schemas, problems = _load_schemas(root)
    if problems:
        return False
    try:
        raw = read_fact_base(root, [f for f in files if f.parent == root], units, [])
    except FactBaseError:
        return False
    records = compile_singles(raw)
    matcher = Matcher.build(records["topics"], raw.get("vocabulary", []))
    reports = {r["id"]: (set(r["sections"]), {n["n"] for n in r.get("notes") or []}) for r in raw["reports"]}
    ids = {kind: dict.fromkeys(table) for kind, table in raw["entities"].items()}  # (what check_claim looks up)
    roles_of = roles(records["entities"])
    old = _previous(dir_fd, name) if edit else None
    context = _Context(root, schemas["claims"], reports, ids, roles_of, matcher, fragment_basis(roles_of, matcher), old)
    del raw
    spool = _spool(dir_fd)
    if spool is None:
        if old is not None:
            os.close(old)
        return False
    try:

        def write(path: str) -> None:
            claim_files = [f for f in files if f.parent != root]
            _write(path, claim_files, spool, records, context, {**meta, "singles": singles})

        return write_new_store(dir_fd, folder, name, None, None, None, write)
    finally:
        os.close(spool)
        if old is not None:
            os.close(old)
        _forget_kept()


def _previous(dir_fd: int, name: str) -> int | None:
    """The previous store, opened as any cache file is (never through a link, a regular
    file of this user's), for the first pass's workers to read fragments from; None where
    a worker could not open it by its descriptor."""
    from .cachefile import open_cache_file
    from .load import MAX_STORE_FILE, warn

    if not os.path.isdir("/proc/self/fd"):
        return None
    opened = open_cache_file(dir_fd, name, MAX_STORE_FILE, warn)
    return opened[0] if opened else None


_KEPT: Any = None  # a first-pass worker's connection to the previous store


def _forget_kept() -> None:
    """The connection ``_kept`` made here, if any, closed (workers end with theirs)."""
    global _KEPT
    if _KEPT is not None:
        with contextlib.suppress(Exception):
            _KEPT[1].close()
        _KEPT = None


def _kept(context: _Context, path: str, key: str, n: int) -> list[Any] | None:
    """A claim file's fragments as the previous store kept them, if still good for ``key``
    (read in a worker, through a connection of its own; anything amiss: None)."""
    global _KEPT
    if context.old is None:
        return None
    import sqlite3

    from .build import _kept_fragments

    try:
        if _KEPT is None or _KEPT[0] != context.old:
            uri = f"file:/proc/self/fd/{context.old}?mode=ro&immutable=1"
            _KEPT = (context.old, sqlite3.connect(uri, uri=True, check_same_thread=False))
    except sqlite3.Error:
        return None
    return _kept_fragments(_KEPT[1], path, key, n)


def _spool(dir_fd: int) -> int | None:
    """A new temporary file in the cache folder, open for reading and writing, its name
    already unlinked: nothing is left behind, whatever happens."""
    made = new_temp_file(dir_fd, "spool")
    if made is None:
        return None
    fd, temp = made
    with contextlib.suppress(OSError):
        os.unlink(temp, dir_fd=dir_fd)
    return fd


class _First(NamedTuple):
    """What the first pass keeps: each claim file, each claim's id and length, the links."""

    files: list[_File]
    ids: dict[str, int]  # claim id -> its number in the fact base
    id_list: list[str]
    lengths: array[int]
    links: list[tuple[int, list[Any]]]  # (claim number, its links as written)


def _first_pass(context: _Context, claim_files: list[Path], spool: int, then: Any = None) -> _First | None:
    """Every claim file parsed, checked, compiled and spooled (see the module's docstring);
    None at the first problem. ``then`` is called once the first file is back."""
    import multiprocessing

    first = _First([], {}, [], array("H"), [])
    # the spool's end, for every worker (forked, as ``parallel.in_parallel`` forks them, where
    # the platform can; elsewhere the files are read here, one after the other)
    end = multiprocessing.get_context("fork" if hasattr(os, "fork") else None).Value("q", 0)
    parallel.WORK = (context, spool, end)
    try:
        for got in parallel.in_parallel(_first_file, claim_files, claims_in(claim_files)):
            if then is not None:
                then()
                then = None
            if not got:
                return None
            path, stamp, report, ids, lengths, links, offset, size, frags = marshal.loads(got)
            if not ids:  # a file with no claims has no place among them
                continue
            start = len(first.id_list)
            for k, claim_id in enumerate(ids):
                if first.ids.setdefault(claim_id, start + k) != start + k:
                    return None  # a claim id given twice
            first.id_list.extend(ids)
            first.lengths.extend(min(n, MAX_LENGTH) for n in lengths)
            first.links.extend((start + i, given) for i, given in links)
            first.files.append(_File(path, stamp, report, start, offset, size, frags))
    finally:
        parallel.WORK = None
    return first


def _size(f: Path) -> int:
    try:
        return os.stat(f).st_size
    except OSError:
        return 0


def _first_file(f: Path) -> bytes:
    """One claim file through the first pass (in a worker): its records and fragments
    written to the spool, at its end (a place no other worker takes); back, its path,
    stamp, report, claim ids, text lengths, links as written, and where in the spool its
    records are; empty bytes when it has any problem."""
    from .checks import Read, check_claim
    from .load import _parse_fact_file

    context: _Context
    context, spool, end = parallel.WORK
    problems: list[Any] = []
    read = Read(context.root, {}, [], set(), problems)
    units: dict[str, Any] = {}
    try:
        got = _parse_fact_file(read, f, "claims", context.schema, units)
    except FactBaseError:
        return b""
    if got is None or problems:
        return b""
    doc, data = got.doc, got.doc.data
    report = context.reports.get(data["report"])
    if report is None or data["section"] not in report[0]:
        return b""
    path = f.relative_to(context.root).as_posix()
    refused: dict[str, set[str]] = {k: set() for k in context.entities}
    records = []
    for i, c in enumerate(data["claims"]):
        check_claim(read, doc, ("claims", i), c, context.entities, refused, report[1])
        where = {"report": data["report"], "section": data["section"], "file": path, "line": got.lines[i]}
        records.append(compile_claim({**c, **where}, []))
    if problems:
        return b""
    stamp = units[path][0]
    frags = _kept(context, path, fragment_key(stamp, context.basis), len(records))
    if frags is None:
        frags = [fragment(r, None, context.roles, context.matcher) for r in records]
    links = [(i, c["related"]) for i, c in enumerate(data["claims"]) if c.get("related")]
    ids, lengths = [r[0] for r in records], [len(r[1]) for r in records]
    spooled, sealed = marshal.dumps(records), seal(marshal.dumps(frags))  # (the fragments as the files table keeps them)
    with end.get_lock():
        at = end.value
        end.value = at + len(spooled) + len(sealed)
    _write_all(spool, spooled, at)
    _write_all(spool, sealed, at + len(spooled))
    return marshal.dumps((path, stamp, data["report"], ids, lengths, links, at, len(spooled), len(sealed)))


def _write_all(fd: int, blob: bytes, at: int) -> None:
    view = memoryview(blob)
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n


def _read_all(fd: int, size: int, at: int) -> bytes:
    chunks = []
    while size > 0:
        chunk = os.pread(fd, size, at)
        if not chunk:
            raise OSError(5, "the spool was cut short")
        chunks.append(chunk)
        size, at = size - len(chunk), at + len(chunk)
    return b"".join(chunks)


class _ReportOf:
    """A claim id -> its report, from the first pass (``build.related`` looks links up here)."""

    def __init__(self, first: _First):
        self.ids = first.ids
        self.starts = [f.start for f in first.files]
        self.files = first.files

    def __getitem__(self, claim_id: str) -> str:
        return self.files[bisect_right(self.starts, self.ids[claim_id]) - 1].report


def _related(first: _First) -> dict[int, list[list[Any]]]:
    """Each linked claim's links, both ways, as ``checks.check_links`` gives them (by claim
    number); ``Stop`` on a link to no claim or to itself, or written twice differently."""
    links: dict[int, dict[str, dict[str, Any]]] = {}
    for n, given_links in first.links:
        claim_id = first.id_list[n]
        mine = links.setdefault(n, {})
        for given in given_links:
            link = {"id": given} if isinstance(given, str) else dict(given)
            target = first.ids.get(link["id"])
            if target is None or target == n:
                raise Stop("a link to no claim")
            link.setdefault("kind", "same-event")
            theirs = links.setdefault(target, {})
            previous = theirs.get(claim_id)
            if previous and (previous["kind"], previous.get("note")) != (link["kind"], link.get("note")):
                raise Stop("a link written twice differently")
            mine[link["id"]] = link
            theirs.setdefault(claim_id, {**link, "id": claim_id})
    report_of = _ReportOf(first)
    return {n: related(sorted(held.values(), key=lambda ln: ln["id"]), report_of) for n, held in links.items() if held}


def _write(
    path: str, claim_files: list[Path], spool: int, records: dict[str, Any], context: _Context, meta: dict[str, Any]
) -> None:
    """Both passes: the store written to ``path``; ``Stop`` at a problem in the files. The
    names' tables, which need only the single files, are written by a thread of their own
    during the first pass (the main process has little to do then)."""
    import threading

    w = StoreWriter(path, any_thread=True)
    b = IndexBuilder(records["entities"], records["topics"], context.matcher)
    names: list[Any] = []

    def write_names() -> None:
        try:
            names.append(_write_forms(w.conn, b))
        except BaseException as exc:  # (raised again below, in this thread)
            names.append(exc)

    # (started once the first pass's workers are forked: no thread runs while they fork)
    thread = threading.Thread(target=write_names, daemon=True)
    try:
        first = _first_pass(context, claim_files, spool, then=thread.start)
    finally:
        if thread.ident is not None:
            thread.join()
    if first is None:
        raise Stop("a problem in the claim files")
    if not names:  # (no claim file at all)
        write_names()
    if isinstance(names[0], BaseException):
        raise names[0]
    related_of = _related(first)
    pos_of, alloc = positions(first.lengths, first.id_list)
    n = len(first.id_list)
    first.ids.clear()  # (what the first pass kept that the second does not need)
    first.links.clear()
    basis = fragment_basis(b.roles, context.matcher)
    ends = [f.start for f in first.files[1:]] + [n]
    spans = [(f.offset, f.size, f.frags, f.start, end) for f, end in zip(first.files, ends, strict=True)]

    def with_fragments(part: Any) -> Any:
        """A part with its files' sealed fragments, read from the spool here (a worker does
        not send them back: they are most of what it would)."""
        part.files[:] = [(idx, _read_all(spool, spans[idx][2], spans[idx][0] + spans[idx][1])) for idx, _ in part.files]
        return part

    parallel.WORK = (spool, spans, pos_of, related_of, context.matcher)
    try:
        parts = map(with_fragments, map(file_part_loads, parallel.in_parallel(_second_files, _groups(spans), n)))
        paths = [f.path for f in first.files]
        take_parts(w.conn, parts, paths, [fragment_key(f.stamp, basis) for f in first.files], b)
    finally:
        parallel.WORK = None
    _insert(w.conn, "INSERT INTO alloc VALUES (?,?)", alloc.items())
    write_index(w, b, records, {**meta, "claims": n, "files": digest_of([f.path for f in first.files])}, names[0])


GROUP = 4000  # claims a second-pass worker indexes at a time: the fewer parts, the less merging


def _groups(spans: list[tuple[int, int, int, int, int]]) -> list[range]:
    """The claim files in runs of some ``GROUP`` claims."""
    out, first, claims = [], 0, 0
    for idx, (_, _, _, start, end) in enumerate(spans):
        claims += end - start
        if claims >= GROUP:
            out.append(range(first, idx + 1))
            first, claims = idx + 1, 0
    if first < len(spans):
        out.append(range(first, len(spans)))
    return out


def _second_files(files: range) -> bytes:
    """Claim files read back from the spool, given their links and indexed together (in a
    worker), as ``build.part_bytes``, less their sealed fragments (the main process reads
    them from the spool)."""
    spool, spans, pos_of, related_of, matcher = parallel.WORK
    part = None
    for idx in files:
        offset, size, frags, start, end = spans[idx]
        claims = marshal.loads(_read_all(spool, size, offset))
        for k, c in enumerate(claims):
            links = related_of.get(start + k)
            if links:
                c[CLAIM_RELATED] = links
        sealed = _read_all(spool, frags, offset + size)
        part = compiled_part(idx, claims, loads(sealed), pos_of[start:end], matcher, part, sealed)
    assert part is not None
    part.files[:] = [(idx, b"") for idx, _ in part.files]  # (read from the spool by the main process)
    return part_bytes(part)
