"""Work spread over every core: a rebuild parses claim files and compiles them in worker
processes forked from the one running, which read their inputs from what they inherit
(``WORK``), so nothing large is sent to them; each sends back plain bytes."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

WORK: Any = None  # what the workers of ``in_parallel`` compute from (inherited when forked)


PARALLEL_FROM = 20_000  # claims to compute, from which a rebuild takes every core


def in_parallel(fn: Any, items: Iterable[Any], weight: int) -> Iterator[Any]:
    """``fn`` of each item, in order, lazily: on two or more cores, in worker processes
    forked from this one (they read their inputs from what they inherit, ``WORK``), when
    the work (``weight``, in claims) is worth their start; else here."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    items = list(items)
    if weight < PARALLEL_FROM or cores < 2 or len(items) < 2 or not hasattr(os, "fork"):
        yield from map(fn, items)
        return
    import multiprocessing
    import threading

    workers = min(cores, 4)
    # at most two items a worker ahead of the caller: results the caller has not taken yet
    # wait in memory, and a caller slower than the workers would otherwise hold them all
    ahead = threading.Semaphore(2 * workers)
    stopped = threading.Event()

    def fed() -> Iterator[Any]:
        for item in items:
            ahead.acquire()
            if stopped.is_set():
                return
            yield item

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        try:
            for result in pool.imap(fn, fed(), chunksize=1):
                ahead.release()
                yield result
        finally:
            # a caller that stops early (a problem found, an error): the feeding thread,
            # perhaps waiting for room, is let go, so that the pool can be shut down
            stopped.set()
            ahead.release()
