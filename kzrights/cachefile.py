"""Cache files read with suspicion, and the one warning a run may print about them.

A cache file is opened only if it may be trusted: never through a link, never blocking on a
FIFO, a regular file this user owns, of bounded size. Both stores (the per-file cache in
``load`` and the SQLite store in ``store``) open theirs here."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from typing import Any

O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

_warned = False


def reset_warning() -> None:
    """A new load may warn once again."""
    global _warned
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


def open_cache_file(dir_fd: int, name: str, max_size: int, warn: Any) -> tuple[int, os.stat_result] | None:
    """A cache file opened for reading, and its stat, if it may be trusted: never through a
    link, never blocking on a FIFO, a regular file this user owns, of bounded size. None when
    it is missing or not to be trusted (the latter with a warning); the caller closes it."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        warn(f"the cache file {name} cannot be opened ({exc.strerror}); rebuilding it")
        return None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        warn(f"the cache file {name} cannot be read ({exc.strerror}); rebuilding it")
        return None
    why = None
    if not stat.S_ISREG(st.st_mode):
        why = "is not a regular file"
    elif st.st_uid != os.geteuid():
        why = "belongs to another user"
    elif st.st_size > max_size:
        why = "is too large"
    if why:
        os.close(fd)
        warn(f"the cache file {name} {why}; rebuilding it")
        return None
    return fd, st
