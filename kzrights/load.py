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
import re
import stat
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import __version__
from .errors import FactBaseError
from .model import Problem
from .text import normalize_text

ENV_FACTS = "KZRIGHTS_FACTS"
ENV_CACHE = "KZRIGHTS_CACHE_DIR"
CACHE_FORMAT = 29  # bump when the compiled layout changes

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
REQUIRED_FILES = ("sources.yaml",)
# ASCII digits only (\d would take ٢٠٢٠ and ２０２０), and \Z: $ would let a final newline through.
DATE_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?\Z")
MAX_FACT_FILE = 256 * 1024 * 1024  # a fact file is a few hundred KB; this only stops a runaway
MAX_CACHE_FILE = 1024 * 1024 * 1024  # the cache of 100,000 claims is about 150 MB
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
        raise FactBaseError([Problem(str(path), 0, "fact base directory not found")])
    if not path.is_dir():
        raise FactBaseError([Problem(str(path), 0, "is not a directory")])
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


_warned = False


def warn(message: str) -> None:
    """One warning line on stderr, at most once a run (a damaged cache must not drown the answer)."""
    global _warned
    if _warned:
        return
    _warned = True
    from .safe import clean

    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(f"kzrights: warning: {clean(message, one_line=True)}\n")


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
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _O_CLOEXEC  # never a link; a FIFO never blocks
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        warn(f"the cache file {name} cannot be opened ({exc.strerror}); rebuilding it")
        return None
    try:
        st = os.fstat(fd)
        why = None
        if not stat.S_ISREG(st.st_mode):
            why = "is not a regular file"
        elif st.st_uid != os.geteuid():
            why = "belongs to another user"
        elif st.st_size > MAX_CACHE_FILE:
            why = "is too large"
        if why:
            warn(f"the cache file {name} {why}; rebuilding it")
            return None
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
    import gc

    # Loading makes many small containers; with the collector on, it would scan every object
    # the imports made, several times over (about 30 ms). Nothing here makes cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        value = marshal.loads(view[body:])  # verified bytes, written by this user's kzrights
    except (EOFError, ValueError, TypeError):
        value = None
    finally:
        if was_enabled:
            gc.enable()
    if not isinstance(value, dict):
        warn(f"the cache file {name} is damaged (unreadable data); rebuilding it")
        return None
    return value


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


def _write_cache(dir_fd: int | None, name: str, key: str, data: dict[str, Any]) -> None:
    """Store ``data`` under ``key``: whole, or not at all (``safe_write``). Anything in the
    way that is not a regular file (a FIFO, a link someone made) is removed first: the
    folder is the user's own, checked. A failure only means no cache: slower, never wrong."""
    if dir_fd is None:
        return
    from .errors import UsageError
    from .safe_write import write_file

    k = key.encode("utf-8", "surrogateescape")
    payload = marshal.dumps(data)
    blob = b"".join((_MAGIC, CACHE_FORMAT.to_bytes(4, "little"), len(k).to_bytes(4, "little"), k, _checksum(k, payload), payload))
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


def load_compiled(explicit: str | os.PathLike[str] | None = None, use_cache: bool = True) -> dict[str, Any]:
    """The compiled fact base as plain data (see ``compile_fact_base``).

    ``use_cache=False`` (``validate``) reads and checks every file from scratch and then
    writes the cache anew, so a damaged cache is repaired, never consulted.
    """
    global _warned
    _warned = False  # at most one warning a load
    root = find_facts_dir(explicit)
    files, listing_problems = list_fact_files(root)
    if not files and not listing_problems:
        raise FactBaseError([Problem(str(root), 0, "no fact files here (expected sources.yaml and claims/)")])
    fingerprint = None if listing_problems else _fingerprint(root, files)
    dir_fd = _open_cache_dir()
    try:
        name = _cache_name(root, "factbase")
        data = _read_cache(dir_fd, name, fingerprint) if use_cache and fingerprint else None
        if data is None:
            # Rebuild. Files unchanged since the last good read come from the per-file cache,
            # already parsed and checked; only the edited ones are parsed again.
            units_name = _cache_name(root, "files")
            units_key = f"{__version__}:{CACHE_FORMAT}:{_schema_stamp(root)}"
            units = _read_cache(dir_fd, units_name, units_key) if use_cache else None
            raw = read_fact_base(root, files, (units or {}).get("files", {}), listing_problems)
            _write_cache(dir_fd, units_name, units_key, {"files": raw.pop("units")})
            data = compile_fact_base(raw)
            data["root"] = str(root)
            if fingerprint:
                _write_cache(dir_fd, name, fingerprint, data)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
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


def _yaml_loader() -> Any:
    """libyaml's safe loader when present, noting duplicate keys as it builds each mapping
    (PyYAML would silently keep the last value), and turning every failure to build a value
    (an impossible date, ``!!int abc``, a list as a key) into a located YAML error."""
    global _LOADER
    if _LOADER is None:
        import yaml
        from yaml.constructor import ConstructorError

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class Loader(base):  # type: ignore[misc, valid-type]
            def __init__(self, stream: Any) -> None:
                super().__init__(stream)
                self.duplicates: list[tuple[int, str]] = []

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
        data = loader.construct_document(node) if node is not None else None
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


def _valid_date(value: str) -> str | None:
    """None if ``value`` is a real calendar date at its precision, else why not."""
    import calendar

    m = DATE_RE.match(value)
    if not m:
        return "is not an ISO date (use 2020, 2020-06 or 2020-06-06)"
    year, month, day = m.groups()
    if month and not 1 <= int(month) <= 12:
        return f"has no month {month}"
    if day and not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        return f"has no day {day} in {year}-{month}"
    return None


def read_fact_base(
    root: Path, files: list[Path], units: dict[str, Any] | None = None, listing_problems: Iterable[Problem] = ()
) -> dict[str, Any]:
    """Read and check every file; raise ``FactBaseError`` listing all problems found.

    ``units`` holds files read before (path -> stamp, data, per-claim search terms); a
    file whose stamp (size, mtime, ctime, inode) still matches is not parsed or
    schema-checked again. The result's ``units`` are the files that passed the per-file
    checks, for next time. ``listing_problems`` are those found while listing the files
    (``list_fact_files``): they are reported with the rest.
    """
    from .schema import SchemaError, check
    from .search import claim_terms

    units = units or {}
    new_units: dict[str, Any] = {}
    problems: list[Problem] = list(listing_problems)
    schemas, schema_problems = _load_schemas(root)
    if schema_problems:  # nothing can be checked without them
        raise FactBaseError(problems + schema_problems)
    docs: dict[str, _Doc] = {}
    claim_docs: list[_Doc] = []

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(Path.cwd()))
        except ValueError:
            return str(p)

    unread: set[str] = set()  # kinds with a file that could not be read at all
    if problems:
        unread.add("claims")  # a claims folder that could not be listed: links to its claims are not errors
    refused_records: set[tuple[Any, ...]] = set()  # (doc, list key, index) the schema refused
    terms: dict[int, list[Any]] = {}  # id(doc) -> per-claim search terms
    lines_of: dict[int, list[int]] = {}  # id(doc) -> each claim's line
    for f in files:
        is_claims = f.parent != root
        kind = "claims" if is_claims else f.stem
        key = f.relative_to(root).as_posix()
        unit = units.get(key)
        try:
            st: os.stat_result | None = os.stat(f)
        except OSError:
            st = None  # reading reports why
        if unit is not None and st is not None and stat.S_ISREG(st.st_mode) and unit[0] == _stamp(st):
            doc: _Doc | None = _Doc(rel(f), unit[1], None, f)
            assert doc is not None
            if is_claims:
                terms[id(doc)] = unit[2]
                lines_of[id(doc)] = unit[3]
            new_units[key] = unit
        else:
            raw, st, problem = _read_regular(f, rel(f))
            if raw is None or st is None:
                problems += [problem] if problem else []
                unread.add(kind)
                continue
            doc, probs = read_yaml(f, rel(f), raw)
            problems += probs
            if doc is None:
                unread.add(kind)
                continue
            doc.source = f
            if not isinstance(doc.data, dict):
                problems.append(
                    doc.problem((), f"must be a mapping with the key(s) {', '.join(schemas[kind].get('required', []))}")
                )
                unread.add(kind)
                continue
            try:
                found = check(doc.data, schemas[kind])
            except SchemaError as exc:
                raise FactBaseError([*problems, Problem(str(schema_dir(root) / f"{kind}.schema.json"), 0, str(exc))]) from None
            for bad_path, msg in found:
                dotted = ".".join(str(p) for p in bad_path)
                problems.append(doc.problem(bad_path, f"{dotted}: {msg}" if dotted else msg))
                refused_records.add((id(doc), *bad_path[:2]))
            if not found and not probs:
                derived = [claim_terms(c["claim"]) for c in doc.data["claims"]] if is_claims else []
                claim_lines = [doc.line(("claims", i)) for i in range(len(derived))]
                new_units[key] = [_stamp(st), doc.data, derived, claim_lines]
                terms[id(doc)] = derived
                lines_of[id(doc)] = claim_lines
        if is_claims:
            doc.rel = f.relative_to(root).as_posix()
            claim_docs.append(doc)
        else:
            docs[kind] = doc
    for name in REQUIRED_FILES:
        if name.removesuffix(".yaml") not in docs and not any(p.file.endswith(name) for p in problems):
            problems.append(Problem(rel(root / name), 0, "missing: every fact base needs it"))
    if "sources" not in docs:
        unread.add("sources")  # reported above: no "unknown report" for every claim file
    # A missing entity file is one problem, not one per claim that names an id from it.
    for kind, field, what in (
        ("people", "people", "person"),
        ("organizations", "organizations", "organisation"),
        ("places", "places", "place"),
        ("topics", "topics", "topic"),
    ):
        if kind in docs or kind in unread:
            continue
        named = {
            ref
            for d in claim_docs
            for c in (d.data.get("claims") if isinstance(d.data.get("claims"), list) else [])
            if isinstance(c, dict) and isinstance(c.get(field), list)
            for ref in c[field]
            if isinstance(ref, str)
        }
        if named:
            example = sorted(named)[0]
            problems.append(
                Problem(
                    rel(root / f"{kind}.yaml"),
                    0,
                    f"missing, yet claims name {len(named)} {what} id(s) from it (e.g. '{example}')",
                )
            )
            unread.add(kind)

    # The checks below look across files. They skip the records the schema already
    # refused (those problems are reported above), so every problem is listed once.
    def sound(doc: _Doc, key: str, i: int) -> bool:
        return (id(doc), key, i) not in refused_records and (id(doc),) not in refused_records

    def items(kind: str, key: str) -> list[tuple[int, dict[str, Any]]]:
        doc = docs.get(kind)
        records = doc.data.get(key) if doc else None
        if not isinstance(records, list):
            return []
        assert doc is not None
        return [(i, r) for i, r in enumerate(records) if sound(doc, key, i)]

    # Ids of refused records still count as existing: a reference to them is not a second problem.
    refused: dict[str, set[str]] = {k: set() for k in ("people", "organizations", "places", "topics", "claims")}
    for kind, doc in [*docs.items(), *(("claims", d) for d in claim_docs)]:
        key = "claims" if kind == "claims" else kind
        if kind not in refused or not isinstance(doc.data.get(key), list):
            continue
        for i, r in enumerate(doc.data[key]):
            if isinstance(r, dict) and isinstance(r.get("id"), str) and not sound(doc, key, i):
                refused[kind].add(r["id"])

    # Reports
    reports: dict[str, dict[str, Any]] = {}
    for i, r in items("sources", "reports"):
        if r["id"] in reports:
            problems.append(docs["sources"].problem(("reports", i, "id"), f"duplicate report id '{r['id']}'"))
        seen_notes: set[int] = set()
        for j, n in enumerate(r.get("notes") or []):
            if n["n"] in seen_notes:
                problems.append(docs["sources"].problem(("reports", i, "notes", j), f"duplicate note {n['n']}"))
            seen_notes.add(n["n"])
        reports[r["id"]] = r

    # Entities and topics: ids unique within their kind; aliases may be shared (namesakes).
    entities: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, key in (("people", "people"), ("organizations", "organizations"), ("places", "places"), ("topics", "topics")):
        table: dict[str, dict[str, Any]] = {}
        for i, e in items(kind, key):
            if e["id"] in table:
                problems.append(
                    docs[kind].problem((key, i, "id"), f"duplicate {kind[:-1] if kind != 'people' else 'person'} id '{e['id']}'")
                )
            table[e["id"]] = e
        entities[kind] = table

    # Claims
    claims: list[dict[str, Any]] = []
    where: dict[str, tuple[_Doc, tuple[Any, ...]]] = {}
    for doc in claim_docs:
        rep, section = doc.data.get("report"), doc.data.get("section")
        if not isinstance(rep, str) or not isinstance(section, str) or not isinstance(doc.data.get("claims"), list):
            continue
        report = reports.get(rep)
        if report is None and "sources" in unread:
            pass  # sources.yaml is missing or unreadable: reported once, above
        elif report is None:
            problems.append(doc.problem(("report",), f"unknown report '{rep}' (known: {', '.join(sorted(reports))})"))
        elif section not in report["sections"]:
            problems.append(doc.problem(("section",), f"report '{rep}' has no section '{section}'"))
        note_numbers = {n["n"] for n in (report or {}).get("notes") or []}
        for i, c in enumerate(doc.data["claims"]):
            path: tuple[Any, ...] = ("claims", i)
            if not sound(doc, "claims", i):
                continue
            cid = c["id"]
            if cid in where:
                other, opath = where[cid]
                problems.append(
                    doc.problem((*path, "id"), f"duplicate claim id '{cid}' (also at {other.file}:{other.line(opath)})")
                )
                continue
            where[cid] = (doc, path)
            date = c.get("date")
            if date is not None:
                why = _valid_date(date)
                if why:
                    problems.append(doc.problem((*path, "date"), f"date {date!r} {why}"))
            for field, kind in (
                ("people", "people"),
                ("organizations", "organizations"),
                ("places", "places"),
                ("topics", "topics"),
            ):
                for j, ref in enumerate(c.get(field) or []):
                    if ref not in entities[kind] and ref not in refused[kind] and kind not in unread:
                        problems.append(
                            doc.problem((*path, field, j), f"unknown {field[:-1] if field != 'people' else 'person'} id '{ref}'")
                        )
            if note_numbers:
                for j, n in enumerate(c.get("notes") or []):
                    if n not in note_numbers:
                        problems.append(doc.problem((*path, "notes", j), f"report '{rep}' has no note {n}"))
            doc_terms, doc_lines = terms.get(id(doc)), lines_of.get(id(doc))
            claims.append(
                {
                    **c,
                    "report": rep,
                    "section": section,
                    "file": doc.rel,
                    "line": doc_lines[i] if doc_lines else doc.line(path),
                    "index_terms": doc_terms[i] if doc_terms else None,
                }
            )

    # Links: every related id exists; the loader adds the reverse link, so a curator writes it once.
    links: dict[str, dict[str, dict[str, Any]]] = {c["id"]: {} for c in claims}
    for c in claims:
        doc, path = where[c["id"]]
        for j, rel_ in enumerate(c.get("related") or []):
            link = {"id": rel_} if isinstance(rel_, str) else dict(rel_)
            target = link["id"]
            if target not in links:
                if target in refused["claims"] or "claims" in unread:
                    continue
                problems.append(doc.problem((*path, "related", j), f"related claim '{target}' does not exist"))
                continue
            if target == c["id"]:
                problems.append(doc.problem((*path, "related", j), "a claim cannot be related to itself"))
                continue
            link.setdefault("kind", "same-event")
            previous = links[target].get(c["id"])
            if previous and (previous["kind"], previous.get("note")) != (link["kind"], link.get("note")):
                problems.append(
                    doc.problem(
                        (*path, "related", j), f"link to '{target}' is written on both claims with different kinds or notes"
                    )
                )
            links[c["id"]][target] = link
            links[target].setdefault(c["id"], {**link, "id": c["id"]})

    topics_known = None if "topics" in unread else entities["topics"]
    vocabulary = _check_vocabulary(items("vocabulary", "concepts"), docs.get("vocabulary"), topics_known, problems)
    passage_records = [] if "sources" in unread else items("passages", "passages")
    passages = _check_passages(passage_records, docs.get("passages"), reports, problems)

    ratings = []
    for i, r in items("ratings", "ratings"):
        if r["report"] not in reports and "sources" not in unread:
            problems.append(docs["ratings"].problem(("ratings", i, "report"), f"unknown report '{r['report']}'"))
        problems += _check_rating(docs["ratings"], i, r)
        ratings.append(r)
    if problems:
        raise FactBaseError(problems)
    for c in claims:
        c["related"] = sorted(links[c["id"]].values(), key=lambda ln: ln["id"])  # a stable order
    return {
        "reports": list(reports.values()),
        "entities": entities,
        "claims": claims,
        "ratings": ratings,
        "vocabulary": vocabulary,
        "passages": passages,
        "units": new_units,
    }


def _check_rating(doc: _Doc, i: int, r: dict[str, Any]) -> list[Problem]:
    """A rating's scale runs upwards and holds its scores (the schema has made them finite
    numbers): a bar is drawn from them."""
    scale = r.get("scale") or {}
    lo, hi = scale.get("min", 1), scale.get("max", 7)
    if not lo < hi:
        return [doc.problem(("ratings", i, "scale"), f"scale: min {lo:g} must be below max {hi:g}")]
    out = []
    scores: list[tuple[tuple[Any, ...], str, Any]] = [(("democracy_score",), "democracy_score", r["democracy_score"])]
    previous = r.get("previous") or {}
    if isinstance(previous.get("democracy_score"), (int, float)):
        scores.append((("previous", "democracy_score"), "previous.democracy_score", previous["democracy_score"]))
    scores += [(("categories", j, "score"), f"categories.{j}.score", c["score"]) for j, c in enumerate(r["categories"])]
    for path, name, value in scores:
        if not lo <= value <= hi:
            out.append(doc.problem(("ratings", i, *path), f"{name}: {value:g} is outside the scale {lo:g} to {hi:g}"))
    for path, name in (
        (("democracy_percentage",), "democracy_percentage"),
        (("previous", "democracy_percentage"), "previous.democracy_percentage"),
    ):
        value = r.get(path[0]) if len(path) == 1 else previous.get(path[1])
        if isinstance(value, (int, float)) and not 0 <= value <= 100:
            out.append(doc.problem(("ratings", i, *path), f"{name}: {value:g} is not a percentage (0 to 100)"))
    return out


def _check_passages(
    records: list[tuple[int, dict[str, Any]]], doc: _Doc | None, reports: dict[str, dict[str, Any]], problems: list[Problem]
) -> dict[str, dict[str, list[str]]]:
    """The link words of each passage: report and section known, each passage once.
    Returns report -> "section\npara" -> [start words, end words]."""
    out: dict[str, dict[str, list[str]]] = {}
    for i, p in records:
        assert doc is not None
        r = reports.get(p["report"])
        if r is None:
            problems.append(doc.problem(("passages", i, "report"), f"unknown report '{p['report']}'"))
            continue
        if p["section"] not in r["sections"]:
            problems.append(doc.problem(("passages", i, "section"), f"unknown section {p['section']!r} of {p['report']}"))
            continue
        key = f"{p['section']}\n{p['para']}"
        table = out.setdefault(p["report"], {})
        if key in table:
            problems.append(doc.problem(("passages", i), f"passage {p['section']!r} ¶{p['para']} is given twice"))
        table[key] = [p["start"], p.get("end") or ""]
    return out


def text_fragment(start: str, end: str) -> str:
    """A URL text fragment (``#:~:text=START,END``) that scrolls a browser to a passage and
    highlights it; ``-``, ``,`` and ``&`` are escaped as the syntax requires."""
    from urllib.parse import quote

    def enc(s: str) -> str:
        return quote(s, safe="").replace("-", "%2D")

    return "#:~:text=" + enc(start) + (f",{enc(end)}" if end else "")


_LATIN_TERM = re.compile(r"[A-Za-z0-9 '’.,&/()+-]+\Z")
_CYRILLIC_TERM = re.compile(r"[\u0400-\u04ff0-9 '’.,()-]+\Z")


def _check_vocabulary(
    concepts: list[tuple[int, dict[str, Any]]], doc: _Doc | None, topics: dict[str, Any] | None, problems: list[Problem]
) -> list[dict[str, Any]]:
    """The search vocabulary: concept ids unique, topics known, each language's terms in its
    script, no term given twice in one concept."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, c in concepts:
        assert doc is not None
        if c["id"] in seen:
            problems.append(doc.problem(("concepts", i, "id"), f"duplicate concept id '{c['id']}'"))
        seen.add(c["id"])
        for j, t in enumerate(c.get("topics") or []):
            if topics is not None and t not in topics:  # None: topics.yaml is missing, reported once
                problems.append(doc.problem(("concepts", i, "topics", j), f"unknown topic id '{t}'"))
        for lang, pattern, script in (
            ("en", _LATIN_TERM, "Latin"),
            ("ru", _CYRILLIC_TERM, "Cyrillic"),
            ("kk", _CYRILLIC_TERM, "Cyrillic"),
        ):
            folded: dict[str, int] = {}
            for j, term in enumerate(c.get(lang) or []):
                if not pattern.match(term):
                    problems.append(doc.problem(("concepts", i, lang, j), f"{lang} term {term!r} is not in {script} script"))
                key = normalize_text(term)
                if key in folded:
                    problems.append(doc.problem(("concepts", i, lang, j), f"{lang} term {term!r} repeats term {folded[key] + 1}"))
                folded.setdefault(key, j)
        out.append(c)
    return out


# --------------------------------------------------------------------------- compiling


def _strs(values: Any) -> list[str]:
    return [str(v) for v in values or []]


def compile_fact_base(raw: dict[str, Any]) -> dict[str, Any]:
    """Plain, marshal-able data: records in fixed shapes plus the search index."""
    from .search import build_index

    reports = [
        {
            "id": r["id"],
            "short": r["short"],
            "title": r["title"],
            "publisher": r.get("publisher", ""),
            "author": r.get("author", ""),
            "published": r.get("published"),
            "covers": r.get("covers"),
            "url": r.get("url"),
            "note_style": r.get("note_style", "endnote"),
            "sections": _strs(r["sections"]),
            # the link to each passage, ready to append to the report's URL: no URL quoting per query
            "passages": {k: text_fragment(*v) for k, v in raw.get("passages", {}).get(r["id"], {}).items()},
            "notes": [[n["n"], n["text"], _strs(n.get("urls"))] for n in r.get("notes") or []],
        }
        for r in raw["reports"]
    ]
    entities = []
    for kind, singular in (("people", "person"), ("organizations", "organization"), ("places", "place")):
        for e in raw["entities"][kind].values():
            entities.append(
                [singular, e["id"], e["name"], _strs(e.get("aliases")), e.get("description"), e.get("role"), e.get("kind")]
            )
    topics = [
        [t["id"], t["label"], _strs(t.get("aliases")), t.get("description"), _strs(t.get("ru")), _strs(t.get("kk"))]
        for t in raw["entities"]["topics"].values()
    ]
    report_of = {c["id"]: c["report"] for c in raw["claims"]}
    claims = [
        [
            c["id"],
            c["claim"],
            c["report"],
            c["section"],
            c["para"],
            list(c.get("notes") or []),
            c.get("date"),
            _strs(c.get("people")),
            _strs(c.get("organizations")),
            _strs(c.get("places")),
            _strs(c.get("topics")),
            c.get("note"),
            [[ln["id"], ln["kind"], ln.get("note"), report_of[ln["id"]]] for ln in c["related"]],
            c["file"],
            c["line"],
            _strs(c.get("terms")),
        ]
        for c in raw["claims"]
    ]
    ratings = [
        {
            "report": r["report"],
            "section": r["source"]["section"],
            "para": r["source"]["para"],
            "status": r.get("status"),
            "scale_min": (r.get("scale") or {}).get("min", 1),
            "scale_max": (r.get("scale") or {}).get("max", 7),
            "democracy_score": r["democracy_score"],
            "democracy_percentage": r.get("democracy_percentage"),
            "previous": dict(r.get("previous") or {}),
            "categories": [[c["name"], c["score"], c["source"]["section"], c["source"]["para"]] for c in r["categories"]],
        }
        for r in raw["ratings"]
    ]
    data: dict[str, Any] = {
        "reports": reports,
        "entities": entities,
        "topics": topics,
        # each claim marshalled on its own: a query decodes only the claims it shows
        "claims": [marshal.dumps(c) for c in claims],
        "ratings": ratings,
        "index": build_index(claims, entities, topics, [c["index_terms"] for c in raw["claims"]], raw.get("vocabulary", [])),
    }
    return data
