"""Writes that cannot destroy: every file kzrights writes goes through here.

- A file is written whole to a fresh temporary file in the target's folder (created with
  ``O_EXCL``, so nothing already there is reused), flushed to disk, and renamed over the
  target: a reader sees the old file or the new one, never half of one, and a failure or
  Ctrl-C leaves the old file as it was and no temporary file behind.
- A target that exists and is not a regular file (a device such as /dev/null, a FIFO, a
  folder) is refused, and so is a symbolic link: kzrights never writes through a link.
- A folder of files (the CSV export) is built beside the target and moved into place whole;
  a folder that exists is replaced only when it holds nothing but a previous export.

Refusals are ``UsageError`` (exit 2); other failures stay ``OSError`` for the caller to word.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, TypeVar

from .errors import UsageError
from .safe import clean

_T = TypeVar("_T")

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


busy = 0  # writes in progress: Ctrl-C then unwinds (and removes the temporary file) instead of exiting at once


def _writing(function: Callable[..., _T]) -> Callable[..., _T]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> _T:
        global busy
        busy += 1
        try:
            return function(*args, **kwargs)
        finally:
            busy -= 1

    return wrapper


def kind_of(mode: int) -> str:
    """``a FIFO (named pipe)``, ``a folder``...: what a non-regular file is, for messages."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _name(path: str | os.PathLike[str]) -> str:
    return clean(os.fspath(path), one_line=True)


def check_target(path: str | os.PathLike[str], dir_fd: int | None = None) -> os.stat_result | None:
    """The target's ``lstat``, or None when it does not exist; ``UsageError`` when it exists
    and is not a regular file (a symbolic link counts as not one: it is never followed)."""
    if not os.fspath(path):
        raise UsageError("cannot write to an empty path: name a file")
    return _existing(path, dir_fd, stat.S_ISREG, "a regular file")


def _existing(path: str | os.PathLike[str], dir_fd: int | None, is_kind: Any, kind: str) -> os.stat_result | None:
    """The ``lstat`` of ``path`` (None when absent); ``UsageError`` when it is a symbolic link
    (never followed) or not of the kind a write may replace."""
    try:
        st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise UsageError(f"cannot write {_name(path)}: it is a symbolic link (kzrights never writes through a link)")
    if not is_kind(st.st_mode):
        raise UsageError(f"cannot write {_name(path)}: it is {kind_of(st.st_mode)}, not {kind}")
    return st


def _temp_name(target: str) -> str:
    # A random name (no import of tempfile: the cache is written on the query path).
    return f".{os.path.basename(target)[:80]}.{os.urandom(6).hex()}.tmp"


def _create_temp(folder: str, target: str, mode: int, dir_fd: int | None) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = _temp_name(target)
        path = name if dir_fd is not None else os.path.join(folder, name)
        try:
            return os.open(path, flags, mode, dir_fd=dir_fd), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def _unlink_quietly(path: str, dir_fd: int | None = None) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path, dir_fd=dir_fd)


def _sync_folder(folder: str, dir_fd: int | None) -> None:
    """Make the rename itself durable (best effort: not every file system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY) if dir_fd is None else dir_fd
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        if dir_fd is None:
            os.close(fd)


@_writing
def write_file(
    path: str | os.PathLike[str],
    content: bytes | Callable[[BinaryIO], None],
    *,
    dir_fd: int | None = None,
    mode: int = 0o666,
    durable: bool = True,
) -> None:
    """Replace ``path`` with ``content`` (bytes, or a function that writes to a binary file)
    atomically. With ``dir_fd``, ``path`` is a name inside that open folder (the cache uses
    it: the folder was checked once, by its descriptor). ``mode`` is masked by the umask."""
    target = os.fspath(path)
    check_target(target, dir_fd)
    folder = os.path.dirname(target) or "."
    fd, tmp = _create_temp(folder, target, mode, dir_fd)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(content, bytes):
                fh.write(content)
            else:
                content(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        check_target(target, dir_fd)  # still not a link or a device after the write
        os.replace(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink_quietly(tmp, dir_fd)
        raise
    if durable:
        _sync_folder(folder, dir_fd)


@_writing
def build_file(path: str | os.PathLike[str], build: Callable[[str], None], *, mode: int = 0o666) -> None:
    """Like ``write_file`` for a writer that needs a file name (SQLite): ``build`` fills the
    temporary file by its path; then it is flushed and renamed over ``path``."""
    target = os.fspath(path)
    check_target(target)
    folder = os.path.dirname(target) or "."
    fd, tmp = _create_temp(folder, target, mode, None)
    os.close(fd)
    try:
        build(tmp)
        fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        check_target(target)
        os.replace(tmp, target)
    except BaseException:
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):
            _unlink_quietly(leftover)
        raise
    _sync_folder(folder, None)


@_writing
def replace_folder(
    path: str | os.PathLike[str],
    files: Iterable[tuple[str, Callable[[BinaryIO], None]]],
    expected: set[str],
) -> bool:
    """Write a folder of files (name, writer) as a whole at ``path``.

    The folder is built beside ``path`` and renamed into place. When ``path`` exists, it is
    replaced only if it is a real folder holding nothing but regular files with the names in
    ``expected`` (a previous export): it is renamed aside, the new folder takes its place,
    then the old one is removed. Anything else there is refused, never overwritten. Returns
    whether a previous folder was replaced.
    """
    raw = os.fspath(path)
    if not raw:
        raise UsageError("cannot write to an empty path: name a folder")
    if os.path.basename(os.path.normpath(raw)) in (".", "..", "", os.sep):
        raise UsageError(f"cannot write the export to {_name(raw)}: name a new folder (or one a previous export made)")
    target = os.path.abspath(raw)
    previous = _previous_export(target, expected)
    parent = os.path.dirname(target)
    tmp = os.path.join(parent, _temp_name(target))
    os.mkdir(tmp, 0o700)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        for name, write in files:
            fd = os.open(os.path.join(tmp, name), flags, 0o666)
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (previous.st_mode & 0o7777) if previous else 0o777 & ~umask)
        _sync_folder(tmp, None)
        if previous is None:
            os.rename(tmp, target)  # fails if a non-empty folder appeared meanwhile: nothing lost
        else:
            aside = os.path.join(parent, _temp_name(target) + ".old")
            os.rename(target, aside)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(aside, target)
                raise
            _remove_previous(aside, expected)
    except BaseException:
        _remove_previous(tmp, None)  # our own temporary folder: only what we wrote is in it
        raise
    _sync_folder(parent, None)
    return previous is not None


def _previous_export(target: str, expected: set[str]) -> os.stat_result | None:
    """The folder's lstat when it is one ``replace_folder`` may replace; None when absent."""
    st = _existing(target, None, stat.S_ISDIR, "a folder")
    if st is None:
        return None
    with os.scandir(target) as entries:
        for entry in entries:
            est = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(est.st_mode):
                raise UsageError(
                    f"cannot replace {_name(target)}: {_name(entry.name)} in it is a symbolic link "
                    "(kzrights never writes through a link)"
                )
            if entry.name not in expected or not stat.S_ISREG(est.st_mode):
                raise UsageError(
                    f"cannot replace {_name(target)}: it holds {_name(entry.name)}, which is not part of a kzrights export "
                    "(name a new folder, or an empty one)"
                )
    return st


def _remove_previous(folder: str, names: set[str] | None) -> None:
    """Remove a folder kzrights made or replaced: its regular files (those in ``names``, or
    all when None), never following a link, then the folder if that left it empty."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if (names is None or entry.name in names) and entry.is_file(follow_symlinks=False):
                    _unlink_quietly(entry.path)
        os.rmdir(folder)
    except OSError:
        pass
