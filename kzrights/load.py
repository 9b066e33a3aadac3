"""Finding, reading, checking and caching the fact base.

Answering a query never parses YAML: the first run after an edit reads and checks every
file, compiles the fact base and its search index to plain data, and stores that with
``marshal`` in the user cache dir. Later runs load the cache in milliseconds.

The cache is never trusted blindly (see ``_read_cache``): it is read only from a folder that
belongs to the user and that no one else may write, only from a regular file the user owns,
of bounded size, and only after a checksum of its content matches; anything else is rebuilt
with a one-line warning. It is keyed by every fact file's path, size, mtime, ctime and inode
number: an edit that keeps the size and puts the mtime back still changes the ctime (which
no user can set) and, when an editor saves by renaming, the inode. (Hashing every file's
content instead would cost about 1 ms a query on this fact base and grow with it; the stat
calls cost 0.1 ms.) It is written with ``safe_write``: whole, or not at all.

Fact files are read as carefully: a folder reached through a link is followed (once: a link
back up is not a loop), every file or folder that cannot be read is named, a file that is
not a regular file (a FIFO called ``x.yaml``) is refused without being opened for long, and
every YAML problem is ``FILE:LINE: problem``.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .cachefile import open_cache_file, reset_warning, warn
from .errors import FactBaseError
from .model import Problem

if TYPE_CHECKING:
    from .store import Store

ENV_FACTS = "KZRIGHTS_FACTS"
ENV_CACHE = "KZRIGHTS_CACHE_DIR"
CACHE_FORMAT = 30  # bump when the compiled layout changes

SINGLE_FILES = (
    "sources.yaml",
    "people.yaml",
    "organizations.yaml",
    "places.yaml",
    "topics.yaml",
    "ratings.yaml",
    "vocabulary.yaml",
    "passages.yaml",
)
MAX_FACT_FILE = 256 * 1024 * 1024  # a fact file is a few hundred KB; this only stops a runaway
MAX_CACHE_FILE = 4 * 1024 * 1024 * 1024  # the per-file cache, read whole: 370 MB at 1,000,000 claims
MAX_STORE_FILE = 64 * 1024 * 1024 * 1024  # the SQLite store, read by pages: 2 GB at 1,000,000 claims
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


# --------------------------------------------------------------------------- locating


def packaged_facts_dir() -> Path:
    """The fact base that ships with kzrights: inside the installed package, or beside it
    in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "facts", here.parent / "facts"):
        if (candidate / "sources.yaml").is_file():
            return candidate
    return here / "facts"


def find_facts_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--facts`` first, then ``$KZRIGHTS_FACTS``, then the packaged fact base."""
    chosen = explicit if explicit else os.environ.get(ENV_FACTS) or None
    path = Path(chosen).expanduser() if chosen else packaged_facts_dir()
    if not path.exists():
        raise FactBaseError([Problem(str(path), 0, "fact base directory not found")], f"no fact base at {path}")
    if not path.is_dir():
        raise FactBaseError([Problem(str(path), 0, "is not a directory")], f"no fact base at {path}")
    return path


def _is_fact_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) and not name.startswith(("_", "."))


def list_fact_files(root: Path) -> tuple[list[Path], list[Problem]]:
    """Every file the fact base is made of, in a stable order, and a problem for every file
    or folder that could not be looked at. Names starting with ``_`` (curators' scratch
    files) or ``.`` (editors' lock and swap files) are skipped. Folders reached through a
    symbolic link are followed, each real folder once, so a link back up ends there."""
    problems: list[Problem] = []
    files: list[Path] = []
    for name in SINGLE_FILES:
        path = root / name
        if os.path.lexists(path):  # a link to nowhere is listed, to be reported when read
            files.append(path)
    claims_dir = root / "claims"
    if not os.path.lexists(claims_dir):
        if files:
            problems.append(Problem(str(claims_dir), 0, "missing: claims live in claims/<report>/<section>.yaml"))
        return files, problems

    def unreadable(exc: OSError) -> None:
        problems.append(Problem(str(exc.filename or claims_dir), 0, f"cannot read folder: {exc.strerror}"))

    seen: set[tuple[int, int]] = set()
    try:
        st = os.stat(claims_dir)
        seen.add((st.st_dev, st.st_ino))
    except OSError as exc:
        return files, [*problems, Problem(str(claims_dir), 0, f"cannot read folder: {exc.strerror}")]
    found: list[str] = []
    # os.walk: a third of rglob's cost
    for dirpath, dirnames, filenames in os.walk(claims_dir, onerror=unreadable, followlinks=True):
        keep = []
        for d in sorted(dirnames):
            if d.startswith(("_", ".")):
                continue
            sub = os.path.join(dirpath, d)
            try:
                st = os.stat(sub)
            except OSError as exc:
                problems.append(Problem(sub, 0, f"cannot read folder: {exc.strerror}"))
                continue
            if (st.st_dev, st.st_ino) not in seen:  # a folder seen before (a link loop): once is enough
                seen.add((st.st_dev, st.st_ino))
                keep.append(d)
        dirnames[:] = keep
        found += [os.path.join(dirpath, f) for f in filenames if _is_fact_file(f)]
    return files + [Path(f) for f in sorted(found)], problems


def fact_files(root: Path) -> list[Path]:
    """The files of ``list_fact_files``, for callers that report their problems by reading."""
    return list_fact_files(root)[0]


def schema_dir(root: Path) -> Path:
    own = root / "schema"
    return own if (own / "claims.schema.json").is_file() else packaged_facts_dir() / "schema"


# --------------------------------------------------------------------------- caching


def _stamp(st: os.stat_result) -> str:
    """What tells an edited file from an unedited one, without reading it: size, mtime,
    ctime (changed by any write, and settable by no one) and inode (a save by rename)."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _schema_stamp(root: Path) -> str:
    """The schemas the files were checked against: a new schema means checking again."""
    d = schema_dir(root)
    stamps = []
    try:
        for name in sorted(n for n in os.listdir(d) if n.endswith(".schema.json")):
            stamps.append(f"{name}:{_stamp(os.stat(d / name))}")
    except OSError as exc:
        stamps.append(f"unreadable:{exc.errno}")  # reported when the schemas are loaded
    return f"{d}:" + ";".join(stamps)


def _fingerprint(root: Path, files: Iterable[Path]) -> str | None:
    """Every fact file's path and stamp, as one string stored with the cache; None when a
    file cannot be looked at or is not a regular file (then reading reports it)."""
    parts = [f"{__version__}:{CACHE_FORMAT}:{os.path.realpath(root)}", _schema_stamp(root)]
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        parts.append(f"{f}:{_stamp(st)}")
    return "\n".join(parts)


def cache_dir() -> Path | None:
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kzrights"


def _open_cache_dir() -> int | None:
    """The cache folder, open (every later step goes through this descriptor, so the folder
    checked is the folder used), or None: no cache, slower but never wrong.

    Created 0700 when missing. A folder another user owns, or that others may write, could
    hold a cache someone else planted: it is not used, with a warning.
    """
    d = cache_dir()
    if d is None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC
    try:
        try:
            fd = os.open(d, flags)
        except FileNotFoundError:
            os.makedirs(d, mode=0o700, exist_ok=True)
            fd = os.open(d, flags)
    except OSError:
        return None  # cannot be made or opened (not writable, not a folder): run without
    try:
        st = os.fstat(fd)
        why = None
        if not stat.S_ISDIR(st.st_mode):
            why = "is not a folder"
        elif st.st_uid != os.geteuid():
            why = "belongs to another user"
        elif st.st_mode & 0o022:
            why = "may be written by other users"
        if why is None:
            return fd
    except OSError:
        pass
    os.close(fd)
    warn(f"the cache folder {d} {why or 'cannot be checked'}, so it is not used (set {ENV_CACHE} to a folder of your own)")
    return None


def _cache_name(root: Path, kind: str) -> str:
    key = zlib.crc32(str(root.resolve()).encode())
    return f"{kind}-{key:08x}.cache"


# A cache file: MAGIC, the format (4 bytes), the key's length (4 bytes), the key (the
# fingerprint, UTF-8), a CRC-32 of key and payload (4 bytes), the payload (marshal).
# marshal.loads of crafted bytes can crash the interpreter, so it only ever sees a payload
# whose checksum matched. The checksum is against damage (a crash mid-write, a bad disk):
# whoever may write the file could recompute any unkeyed digest, so against other people
# it is the ownership and permission checks that count. CRC-32 costs 0.35 ms for the
# 1.7 MB cache; BLAKE2b cost 2 ms, SHA-256 2 ms plus 3 ms to import OpenSSL, on a query
# that takes 60.
_MAGIC = b"kzrights-cache\n\x00"
_CHECK = 4


def _checksum(*parts: bytes | memoryview) -> bytes:
    crc = 0
    for p in parts:
        crc = zlib.crc32(p, crc)
    return crc.to_bytes(_CHECK, "little")


def _read_cache(dir_fd: int | None, name: str, key: str) -> dict[str, Any] | None:
    """The cached data stored under ``key``, or None (missing, stale, or not to be trusted:
    the last with a warning, and the file is replaced when the rebuilt data is written)."""
    if dir_fd is None:
        return None
    opened = open_cache_file(dir_fd, name, MAX_CACHE_FILE, warn)
    if opened is None:
        return None
    fd, st = opened
    try:
        data = _read_exactly(fd, st.st_size)
    except OSError as exc:
        warn(f"the cache file {name} cannot be read ({exc.strerror}); rebuilding it")
        return None
    finally:
        os.close(fd)
    head = len(_MAGIC) + 8
    if len(data) < head or not data.startswith(_MAGIC):
        warn(f"the cache file {name} is damaged (not a kzrights cache); rebuilding it")
        return None
    view = memoryview(data)
    fmt = int.from_bytes(view[len(_MAGIC) : len(_MAGIC) + 4], "little")
    klen = int.from_bytes(view[len(_MAGIC) + 4 : head], "little")
    if fmt != CACHE_FORMAT:
        return None  # written by another version of kzrights: stale, not damaged
    body = head + klen + _CHECK
    if len(data) < body:
        warn(f"the cache file {name} is damaged (cut short); rebuilding it")
        return None
    if view[head : head + klen] != key.encode("utf-8", "surrogateescape"):
        return None  # stale: a fact file changed
    if _checksum(view[head : head + klen], view[body:]) != view[head + klen : body]:
        warn(f"the cache file {name} is damaged (its checksum does not match); rebuilding it")
        return None
    # Loading makes many small containers; with the collector on, it would scan every object
    # the imports made, several times over (about 30 ms). Nothing here makes cycles.
    with _no_cycle_collection():
        try:
            value = _entries(view[body:])  # verified bytes, written by this user's kzrights
        except (EOFError, ValueError, TypeError):
            value = None
    if not isinstance(value, dict):
        warn(f"the cache file {name} is damaged (unreadable data); rebuilding it")
        return None
    return value


def _entries(payload: memoryview) -> dict[str, Any] | None:
    """The (key, value) entries ``_write_cache`` wrote one after the other, each after its
    size, as a dict."""
    out, at = {}, 0
    while at < len(payload):
        size = int.from_bytes(payload[at : at + 4], "little")
        entry = marshal.loads(payload[at + 4 : at + 4 + size])
        at += 4 + size
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)):
            return None
        out[entry[0]] = entry[1]
    return out


def _read_exactly(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd`` (os.read may return fewer at a time)."""
    chunks = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 30))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _write_cache(dir_fd: int | None, name: str, key: str, entries: dict[str, Any]) -> None:
    """Store ``entries`` under ``key``: whole, or not at all (``safe_write``). Anything in the
    way that is not a regular file (a FIFO, a link someone made) is removed first: the
    folder is the user's own, checked. A failure only means no cache: slower, never wrong.
    Each entry is marshalled on its own and written as it comes (a fact base of 100,000
    claims is some 40 MB of them: never all in memory at once), the checksum filled in last."""
    if dir_fd is None:
        return
    from .errors import UsageError
    from .safe_write import write_file

    k = key.encode("utf-8", "surrogateescape")
    head = b"".join((_MAGIC, CACHE_FORMAT.to_bytes(4, "little"), len(k).to_bytes(4, "little"), k))

    def blob(fh: Any) -> None:
        fh.write(head + bytes(_CHECK))
        crc = zlib.crc32(k)
        for item in entries.items():
            piece = marshal.dumps(item)
            size = len(piece).to_bytes(4, "little")  # (marshal.load from a stream is slow)
            crc = zlib.crc32(piece, zlib.crc32(size, crc))
            fh.write(size)
            fh.write(piece)
        fh.seek(len(head))
        fh.write(crc.to_bytes(_CHECK, "little"))
        fh.seek(0, os.SEEK_END)

    try:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
                os.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        # No fsync: a cache cut short by a crash fails its checksum and is rebuilt.
        write_file(name, blob, dir_fd=dir_fd, mode=0o600, durable=False)
    except (OSError, UsageError):
        pass


def load_store(explicit: str | os.PathLike[str] | None = None, use_cache: bool = True) -> Store:
    """The compiled fact base, behind the ``Store`` interface (see ``store.py``): the SQLite
    store in the cache folder when it is sound and fresh (a query opens it and reads what it
    needs), else rebuilt from the fact files first (see ``build.py``).

    ``use_cache=False`` (``validate``) never opens the store: it reads and checks every file
    from scratch and writes the store anew, so a damaged one is repaired, never consulted.
    Without a usable cache folder the fact base is compiled in memory (``DictStore``).
    """
    reset_warning()  # at most one warning a load
    from .store import SQL_FORMAT, SqliteStore, digest, open_sqlite

    root = find_facts_dir(explicit)
    files, listing_problems = list_fact_files(root)
    if not files and not listing_problems:
        problem = Problem(str(root), 0, "no fact files here (expected sources.yaml and claims/)")
        raise FactBaseError([problem], f"no fact base at {root}")
    fingerprint = None if listing_problems else _fingerprint(root, files)
    dir_fd = _open_cache_dir()
    name = store_name(root)
    old = None
    try:
        if dir_fd is not None and use_cache:
            opened = open_sqlite(dir_fd, str(cache_dir()), name, warn, MAX_STORE_FILE)
            if opened is not None:
                conn, meta = opened
                if (meta["format"], meta["version"]) != (str(SQL_FORMAT), __version__):
                    conn.close()  # another version's layout: nothing in it serves
                elif fingerprint and meta["fingerprint"] == digest(fingerprint):
                    return SqliteStore(conn, name, str(root), meta, _rebuilder(explicit))
                else:
                    old = (conn, meta)  # stale: what it holds of unchanged files serves the rebuild
        with _no_cycle_collection():
            return _rebuild(root, files, listing_problems, fingerprint, dir_fd, name, old, use_cache, explicit)
    finally:
        if old is not None:
            old[0].close()
        if dir_fd is not None:
            os.close(dir_fd)


@contextlib.contextmanager
def _no_cycle_collection() -> Any:
    """Python's cycle collector paused while kzrights allocates in bulk (a rebuild, reading
    the per-file cache): the parsed fact base is millions of objects, and each full
    collection walks them all again (at 100,000 claims it took half the rebuild's time).
    What they make holds no cycles worth collecting."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _parse_ahead(root: Path, files: list[Path], units: dict[str, Any]) -> dict[str, Any]:
    """The claim files that ``read_fact_base`` would parse (new or changed since the per-file
    cache), parsed and checked against their schema beforehand on every core, when there
    are many: what passes is handed to it as units, as if cached; a file with a problem is
    left to it, to parse again and report."""
    from .parallel import in_parallel

    todo = []
    for f in files:
        if f.parent == root:
            continue
        unit = units.get(f.relative_to(root).as_posix())
        try:
            st = os.stat(f)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and (unit is None or unit[0] != _stamp(st)):
            todo.append((f, st.st_size))
    size = sum(n for _, n in todo)
    if len(todo) < 8:
        return {}
    from . import parallel

    schemas, problems = _load_schemas(root)
    if problems:
        return {}
    parallel.WORK = (root, schemas)
    out: dict[str, Any] = {}
    # a claim is some 400 bytes of YAML: the weight in claims, for whether to fork at all
    for got in in_parallel(_parse_one, [f for f, _ in todo], size // 400):
        out.update(marshal.loads(got))
    return out


def _parse_one(f: Path) -> bytes:
    """A claim file's unit when it parses and passes its schema, else nothing (in a worker),
    as ``marshal`` bytes: the cheapest way back from a worker for plain data."""
    from . import parallel
    from .checks import Read

    root, schemas = parallel.WORK
    new_units: dict[str, Any] = {}
    try:
        _parse_fact_file(Read(root, {}, [], set(), []), f, "claims", schemas["claims"], new_units)
        return marshal.dumps(new_units)
    except Exception:  # read_fact_base parses it again and says what is wrong
        return marshal.dumps({})


def store_name(root: Path) -> str:
    """The SQLite store's file name in the cache folder: one per fact base."""
    return _cache_name(root, "factbase").replace(".cache", ".sqlite")


def _rebuilder(explicit: str | os.PathLike[str] | None) -> Any:
    """What a store found damaged while answering calls to be replaced (once)."""

    def rebuild() -> Store:
        return load_store(explicit, use_cache=False)

    return rebuild


def _rebuild(
    root: Path,
    files: list[Path],
    listing_problems: list[Problem],
    fingerprint: str | None,
    dir_fd: int | None,
    name: str,
    old: tuple[Any, dict[str, str]] | None,
    use_cache: bool,
    explicit: str | os.PathLike[str] | None,
) -> Store:
    """Read and check the fact files (the unchanged ones from the per-file cache), compile
    them and write the store; the store written, opened (or the data in memory)."""
    from .build import Plan, compile_records, write_new_store
    from .store import DictStore, SqliteStore, open_sqlite

    units_name = _cache_name(root, "files")
    units_key = f"{__version__}:{CACHE_FORMAT}:{_schema_stamp(root)}"
    units = _read_cache(dir_fd, units_name, units_key) if use_cache else None
    if dir_fd is not None and fingerprint and not listing_problems:
        from . import stream

        if stream.wanted(root, files):
            singles, meta = _store_meta(root, files, units_key, fingerprint)
            if stream.rebuild(root, files, dir_fd, str(cache_dir()), name, meta, singles, units or {}, old is not None):
                opened = open_sqlite(dir_fd, str(cache_dir()), name, warn, MAX_STORE_FILE)
                if opened is not None:
                    return SqliteStore(opened[0], name, str(root), opened[1], _rebuilder(explicit))
            # a problem in the files (or no room for the spool): read them the ordinary way
    known = units or {}
    known.update(_parse_ahead(root, files, known))
    del units  # (what was parsed stays in memory only as long as a reference holds it)
    raw = read_fact_base(root, files, known, listing_problems)
    del known
    new_units = raw.pop("units")
    stamps = {key: unit[0] for key, unit in new_units.items() if key.startswith("claims/")}
    _write_cache(dir_fd, units_name, units_key, new_units)
    del new_units
    records = compile_records(raw)
    terms, vocabulary = [c["index_terms"] for c in raw["claims"]], raw.get("vocabulary", [])
    del raw  # the records hold what is needed from here
    if dir_fd is not None and fingerprint:
        singles, meta = _store_meta(root, files, units_key, fingerprint)
        plan = Plan(records, terms, vocabulary, stamps, singles, meta)
        if write_new_store(dir_fd, str(cache_dir()), name, plan, *(old or (None, None))):
            opened = open_sqlite(dir_fd, str(cache_dir()), name, warn, MAX_STORE_FILE)
            if opened is not None:
                conn, written = opened
                return SqliteStore(conn, name, str(root), written, _rebuilder(explicit))
    data = in_memory(records, terms, vocabulary)
    data["root"] = str(root)
    return DictStore(data)


def _store_meta(root: Path, files: list[Path], units_key: str, fingerprint: str) -> tuple[str, dict[str, Any]]:
    """What a store records of what it was built from: a digest of the single files'
    (entities, topics, vocabulary ...) and schemas' stamps (an edit of one of them touches
    every claim, and the store is written whole), and its meta."""
    from .build import digest_of
    from .store import SQL_FORMAT, digest

    singles = digest_of([units_key, *(f"{f}:{_stamp(os.stat(f))}" for f in files if f.parent == root)])
    return singles, {"format": SQL_FORMAT, "version": __version__, "fingerprint": digest(fingerprint)}


def load_compiled(explicit: str | os.PathLike[str] | None = None, use_cache: bool = True) -> dict[str, Any]:
    """The compiled fact base as plain data in memory (see ``compile_fact_base``; what
    ``DictStore`` holds). Only the per-file cache is used: the store is ``load_store``'s."""
    root = find_facts_dir(explicit)
    files, listing_problems = list_fact_files(root)
    if not files and not listing_problems:
        problem = Problem(str(root), 0, "no fact files here (expected sources.yaml and claims/)")
        raise FactBaseError([problem], f"no fact base at {root}")
    dir_fd = _open_cache_dir()
    try:
        units_name = _cache_name(root, "files")
        units_key = f"{__version__}:{CACHE_FORMAT}:{_schema_stamp(root)}"
        units = _read_cache(dir_fd, units_name, units_key) if use_cache else None
        raw = read_fact_base(root, files, units or {}, listing_problems)
        _write_cache(dir_fd, units_name, units_key, raw.pop("units"))
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    data = compile_fact_base(raw)
    data["root"] = str(root)
    return data


# --------------------------------------------------------------------------- reading YAML


_LOADER: Any = None


def _short_tag(tag: str) -> str:
    return "!!" + tag.rsplit(":", 1)[1] if tag.startswith("tag:yaml.org,2002:") else tag


def _bad_value(node: Any, exc: BaseException) -> str:
    """Why a value could not be built, in the words of a fact file's author."""
    value = node.value if isinstance(node.value, str) else "this value"
    shown = repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    tag = _short_tag(node.tag or "")
    if tag == "!!timestamp":
        return f'{value} is not a real date ({exc}); dates in fact files are quoted: "2020-06-06"'
    detail = "" if isinstance(exc, KeyError) else f" ({exc})"
    return f"cannot read {shown} as {tag}{detail}"


def implicit_resolvers() -> tuple[dict[str, list[Any]], list[Any]]:
    """PyYAML's implicit resolvers, (tag, pattern), by a plain scalar's first character
    (each list ending with those for any character), and those for any character."""
    import yaml

    implicit = getattr(yaml, "CSafeLoader", yaml.SafeLoader).yaml_implicit_resolvers
    anywhere = implicit.get(None, [])
    return {first: [*resolvers, *anywhere] for first, resolvers in implicit.items() if first is not None}, anywhere


def _yaml_loader() -> Any:
    """libyaml's safe loader when present, noting duplicate keys as it builds each mapping
    (PyYAML would silently keep the last value), and turning every failure to build a value
    (an impossible date, ``!!int abc``, a list as a key) into a located YAML error."""
    global _LOADER
    if _LOADER is None:
        import yaml
        from yaml.constructor import ConstructorError

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        by_first, anywhere = implicit_resolvers()
        scalar = yaml.ScalarNode

        class Loader(base):  # type: ignore[misc, valid-type]
            def __init__(self, stream: Any) -> None:
                super().__init__(stream)
                self.duplicates: list[tuple[int, str]] = []

            def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
                """PyYAML's, for a scalar without its list concatenation on every call (it is
                called for every scalar of a file): a scalar's tag is that of the first
                implicit resolver for its first character that matches, else a string's."""
                if kind is not scalar or self.yaml_path_resolvers:
                    return super().resolve(kind, value, implicit)
                if implicit[0]:
                    for tag, regexp in by_first.get(value[:1], anywhere):
                        if regexp.match(value):
                            return tag
                return self.DEFAULT_SCALAR_TAG

            def construct_object(self, node: Any, deep: bool = False) -> Any:
                try:
                    return super().construct_object(node, deep)
                except yaml.YAMLError:
                    raise
                except RecursionError:
                    raise ConstructorError(None, None, "nested too deeply", node.start_mark) from None
                except Exception as exc:  # whatever a constructor raises: ValueError, KeyError, ...
                    raise ConstructorError(None, None, _bad_value(node, exc), node.start_mark) from None

            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                seen: set[str] = set()
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                        raise ConstructorError(
                            None, None, f"a key must be a plain name, not {kind} (`? [a, b]`)", key_node.start_mark
                        )
                    key = key_node.value
                    if key in seen:
                        self.duplicates.append(
                            (key_node.start_mark.line + 1, f"duplicate key '{key}' (the later value would silently win)")
                        )
                    seen.add(key)
                return super().construct_mapping(node, deep)

        _LOADER = Loader
    return _LOADER


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{t}" for t in ("str", "seq", "map"))


def _construct(loader: Any, root: Any) -> Any:
    """``loader.construct_document(root)``, several times faster on what fact files are made
    of: the strings, lists and mappings of string keys are built here; every other node
    (numbers, dates, booleans, nulls, tags, merge keys) is built by the loader, as before.
    A mapping with a repeated key is left to the loader (it notes the repeat), and so is
    the whole document when one is found, so that problems read as they always have."""
    import yaml

    scalar, sequence, mapping = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode

    class Repeated(Exception):
        pass

    def build(node: Any) -> Any:
        cls, tag = node.__class__, node.tag
        if cls is scalar:
            if tag == _STR:
                return node.value
        elif cls is sequence:
            if tag == _SEQ:
                return [build(n) for n in node.value]
        elif cls is mapping and tag == _MAP and all(k.__class__ is scalar and k.tag == _STR for k, _ in node.value):
            out = {k.value: build(v) for k, v in node.value}
            if len(out) != len(node.value):
                raise Repeated
            return out
        return loader.construct_object(node, deep=True)

    try:
        return build(root)
    except Repeated:
        loader.constructed_objects.clear()
        return loader.construct_document(root)


def _reused_node(root: Any) -> Any:
    """The first node that appears twice in the tree (an anchor ``&a`` used again by an alias
    ``*a``), or None. Fact files write every value out: an alias can multiply a small file
    into one too large to check (a "billion laughs")."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return node
        seen.add(id(node))
        if isinstance(node.value, list):
            for item in node.value:
                if isinstance(item, tuple):
                    stack.extend(item)
                else:
                    stack.append(item)
    return None


def _read_regular(path: Path, display: str) -> tuple[bytes | None, os.stat_result | None, Problem | None]:
    """A fact file's bytes and the stat of what was read, or the problem. Only a regular file
    is read: it is opened without blocking (a FIFO called ``x.yaml`` would hang ``open``) and
    checked by its descriptor before a byte is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _O_CLOEXEC)
    except FileNotFoundError:
        if os.path.lexists(path):  # a link to nowhere
            return None, None, Problem(display, 0, "cannot read: No such file or directory")
        return None, None, Problem(display, 0, "was removed while kzrights was reading the fact base; run again")
    except OSError as exc:
        return None, None, Problem(display, 0, f"cannot read: {exc.strerror}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            from .safe_write import kind_of

            return None, st, Problem(display, 0, f"is {kind_of(st.st_mode)}, not a regular file; fact files must be files")
        if st.st_size > MAX_FACT_FILE:
            return None, st, Problem(display, 0, f"is {st.st_size >> 20} MB; a fact file may be at most {MAX_FACT_FILE >> 20} MB")
        return _read_exactly(fd, st.st_size), st, None
    except OSError as exc:
        return None, None, Problem(display, 0, f"cannot read: {exc.strerror}")
    finally:
        os.close(fd)


class _Doc:
    """One parsed YAML file, with the line of any value found from its node tree on demand
    (only a file with a problem needs lines)."""

    def __init__(self, file: str, data: Any, node: Any, source: Path | None = None):
        self.file = file
        self.rel = file  # the path inside the fact base, for records that cite their file
        self.data = data
        self.node = node
        self.source = source  # to parse again for lines when the data came from the cache
        self._index: dict[int, dict[str, tuple[int, Any]]] = {}

    def line(self, path: tuple[Any, ...]) -> int:
        import yaml

        if self.node is None and self.source is not None:
            source, self.source = self.source, None  # one try: a file that changed since has no lines
            raw, _, _ = _read_regular(source, self.file)
            if raw is not None:
                loader = _yaml_loader()(raw.decode("utf-8", "replace"))
                try:
                    self.node = loader.get_single_node()
                except yaml.YAMLError:
                    self.node = None
                finally:
                    loader.dispose()
        node = self.node
        if node is None:
            return 0
        line = node.start_mark.line + 1
        for elem in path:
            if isinstance(node, yaml.MappingNode):
                found = self._keys(node).get(elem) if isinstance(elem, str) else None
                if found is None:
                    return line
                line, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(elem, int) and 0 <= elem < len(node.value):
                node = node.value[elem]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def _keys(self, node: Any) -> dict[str, tuple[int, Any]]:
        """A mapping node's keys -> (line, value node), the first of repeated keys; built once
        a node, so locating every one of many problems in one mapping takes linear time."""
        index = self._index.get(id(node))
        if index is None:
            index = {}
            for key_node, value_node in node.value:
                if isinstance(key_node.value, str):
                    index.setdefault(key_node.value, (key_node.start_mark.line + 1, value_node))
            self._index[id(node)] = index
        return index

    def problem(self, path: tuple[Any, ...], message: str) -> Problem:
        return Problem(self.file, self.line(path), message)


def read_yaml(path: Path, display: str, raw: bytes | None = None) -> tuple[_Doc | None, list[Problem]]:
    """Parse one fact file (``raw``: its bytes, already read); every problem located."""
    import yaml

    if raw is None:
        raw, _, problem = _read_regular(path, display)
        if raw is None:
            return None, [problem] if problem else []
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, [Problem(display, 1, "starts with a byte-order mark (BOM); save it as UTF-8 without BOM")]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(display, 1, "is UTF-16; save it as UTF-8")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(display, line, f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8")]
    loader = _yaml_loader()(text)
    try:
        # One parse: the node tree gives the lines, the same tree is then constructed.
        node = loader.get_single_node()
        reused = _reused_node(node) if node is not None and "&" in text else None
        if reused is not None:
            line = reused.start_mark.line + 1
            return None, [Problem(display, line, "malformed YAML: an anchor (&) used again by an alias (*); write the value out")]
        data = _construct(loader, node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = (exc.problem or "malformed YAML").strip()
        if "could not determine a constructor" in what:
            what = f"{what} (tags that build objects are not allowed in fact files)"
        return None, [Problem(display, line, f"malformed YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(display, 0, f"malformed YAML: {exc}")]
    except RecursionError:
        return None, [Problem(display, 0, "malformed YAML: nested too deeply")]
    finally:
        loader.dispose()
    problems = [Problem(display, ln, msg) for ln, msg in loader.duplicates]
    if data is None:
        problems.append(Problem(display, 1, "is empty"))
        return None, problems
    return _Doc(display, data, node), problems


def _quick(raw: bytes, kind: str) -> tuple[Any, list[int]] | None:
    """A fact file's data (and a claim file's claims' lines) read by ``quickyaml`` where it
    can, else None (a file it cannot read, or one that is not UTF-8, is read by
    ``read_yaml``, which names the problem; quickyaml refuses a byte-order mark)."""
    from . import quickyaml

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if kind == "claims":
        return quickyaml.claim_file(text)
    data = quickyaml.mapping(text)
    return None if data is None else (data, [])


SCHEMAS = ("claims", "people", "organizations", "places", "topics", "sources", "ratings", "vocabulary", "passages")


def _load_schemas(root: Path) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """The JSON Schemas the files are checked against (the fact base's own ``schema/``, else
    the packaged ones), and a problem for each that is missing or broken."""
    import json

    d = schema_dir(root)
    out: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for name in SCHEMAS:
        path = d / f"{name}.schema.json"
        if not path.is_file():  # a fact base with its own schemas from before this file existed
            path = packaged_facts_dir() / "schema" / f"{name}.schema.json"
        raw, _, problem = _read_regular(path, str(path))
        if raw is None:
            if problem is None or "No such file" in problem.message or "was removed" in problem.message:
                problem = Problem(str(path), 0, "missing: the schema the fact files are checked against")
            problems.append(problem)
            continue
        try:
            schema = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem(str(path), 0, "is not valid UTF-8; save it as UTF-8"))
            continue
        except ValueError as exc:
            problems.append(Problem(str(path), getattr(exc, "lineno", 0), f"is not valid JSON: {getattr(exc, 'msg', exc)}"))
            continue
        if not isinstance(schema, dict):
            problems.append(Problem(str(path), 1, "must be a JSON object (a JSON Schema)"))
            continue
        out[name] = schema
    return out, problems


def read_fact_base(
    root: Path, files: list[Path], units: dict[str, Any] | None = None, listing_problems: Iterable[Problem] = ()
) -> dict[str, Any]:
    """Read and check every file; raise ``FactBaseError`` listing all problems found.

    ``units`` holds files read before (path -> stamp, data, per-claim search terms); a
    file whose stamp (size, mtime, ctime, inode) still matches is not parsed or
    schema-checked again. The result's ``units`` are the files that passed the per-file
    checks, for next time. ``listing_problems`` are those found while listing the files
    (``list_fact_files``): they are reported with the rest. The checks across files are
    ``checks.check_fact_base``.
    """
    from .checks import Read, check_fact_base

    problems: list[Problem] = list(listing_problems)
    schemas, schema_problems = _load_schemas(root)
    if schema_problems:  # nothing can be checked without them
        raise FactBaseError(problems + schema_problems)
    # a claims folder that could not be listed: links to its claims are not errors
    read = Read(root, {}, [], {"claims"} if problems else set(), problems)
    new_units: dict[str, Any] = {}
    for f in files:
        _read_fact_file(read, f, schemas, units or {}, new_units)
    raw = check_fact_base(read)
    raw["units"] = new_units
    return raw


def _read_fact_file(
    read: Any, f: Path, schemas: dict[str, dict[str, Any]], units: dict[str, Any], new_units: dict[str, Any]
) -> None:
    """One fact file into ``read`` (a ``checks.Read``): from ``units`` when its stamp is
    unchanged, else parsed and checked against its schema. A file that cannot be used at all
    is a problem, and its kind is marked unread."""
    from .checks import FactFile, shown_path

    is_claims = f.parent != read.root
    kind = "claims" if is_claims else f.stem
    key = f.relative_to(read.root).as_posix()
    unit = units.get(key)
    try:
        st: os.stat_result | None = os.stat(f)
    except OSError:
        st = None  # reading reports why
    if unit is not None and st is not None and stat.S_ISREG(st.st_mode) and unit[0] == _stamp(st):
        fact_file: FactFile | None = FactFile(_Doc(shown_path(f), unit[1], None, f), frozenset(), unit[2], unit[3])
        new_units[key] = unit
    else:
        fact_file = _parse_fact_file(read, f, kind, schemas[kind], new_units)
    if fact_file is None:
        read.unread.add(kind)
    elif is_claims:
        fact_file.doc.rel = key
        read.claim_files.append(fact_file)
    else:
        read.files[kind] = fact_file


def _parse_fact_file(read: Any, f: Path, kind: str, schema: dict[str, Any], new_units: dict[str, Any]) -> Any:
    """A changed fact file parsed and checked against its schema: a ``checks.FactFile`` with
    the records the schema refused, or None when the file cannot be used at all. A file with
    no problem goes to ``new_units``, with its claims' lines, for next time."""
    from .checks import FactFile, shown_path
    from .schema import SchemaError, check

    shown = shown_path(f)
    raw, st, problem = _read_regular(f, shown)
    if raw is None or st is None:
        read.problems.extend([problem] if problem else [])
        return None
    quick = _quick(raw, kind)
    doc: _Doc | None
    probs: list[Problem] = []
    if quick is not None:  # (the same data, lines found as PyYAML finds them: see quickyaml)
        doc = _Doc(shown, quick[0], None)
    else:
        doc, probs = read_yaml(f, shown, raw)
    read.problems.extend(probs)
    if doc is None:
        return None
    doc.source = f
    if not isinstance(doc.data, dict):
        read.problems.append(doc.problem((), f"must be a mapping with the key(s) {', '.join(schema.get('required', []))}"))
        return None
    try:
        found = check(doc.data, schema)
    except SchemaError as exc:
        raise FactBaseError([*read.problems, Problem(str(schema_dir(read.root) / f"{kind}.schema.json"), 0, str(exc))]) from None
    for bad_path, msg in found:
        dotted = ".".join(str(p) for p in bad_path)
        read.problems.append(doc.problem(bad_path, f"{dotted}: {msg}" if dotted else msg))
    refused = frozenset(tuple(bad_path[:2]) for bad_path, _ in found)
    if kind == "vocabulary":  # checks of this file alone: run when it changes, not on every rebuild
        from .checks import vocabulary_term_problems

        term_problems = vocabulary_term_problems(doc, refused)
        read.problems.extend(term_problems)
        probs = [*probs, *term_problems]
    if found or probs:
        return FactFile(doc, refused)
    # (a claim's search terms are the index's to derive, file by file: see build.fragment)
    if quick is not None:
        lines = quick[1]
    else:
        lines = [doc.line(("claims", i)) for i in range(len(doc.data["claims"]))] if kind == "claims" else []
    new_units[f.relative_to(read.root).as_posix()] = [_stamp(st), doc.data, None, lines]
    # the node tree goes (several times the data: 300 MB for the people of 1,000,000 claims);
    # a problem found later, across files, has the file parsed again for its line
    doc.node = None
    return FactFile(doc, frozenset(), None, lines)


# --------------------------------------------------------------------------- compiling


def compile_fact_base(raw: dict[str, Any]) -> dict[str, Any]:
    """Plain, marshal-able data: records in fixed shapes plus the search index, in memory
    (``DictStore``; the SQLite store is written from the same records by ``build``)."""
    from .build import compile_records

    return in_memory(compile_records(raw), [c["index_terms"] for c in raw["claims"]], raw.get("vocabulary", []))


def in_memory(records: dict[str, Any], terms: list[Any], vocabulary: list[dict[str, Any]]) -> dict[str, Any]:
    """The compiled records with the whole index, in memory (what ``DictStore`` holds)."""
    from .build import build_index

    claims = records["claims"]
    data = dict(records)
    # each claim marshalled on its own: a query decodes only the claims it shows
    data["claims"] = [marshal.dumps(c) for c in claims]
    data["index"] = build_index(claims, data["entities"], data["topics"], terms, vocabulary)
    return data
