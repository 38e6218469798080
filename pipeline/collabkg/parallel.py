"""Order-keeping, bounded parallel map over worker processes.

Only plain data crosses the process boundary (the jobs and their results are tuples, bytes,
strings and plain frozen dataclasses), never an exception object or an open store.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

J = TypeVar("J")
R = TypeVar("R")


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _context():
    # forkserver: workers are forked from a fresh server process, not from this one, which may
    # hold an open RocksDB store with its threads (forking those is unsafe).
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(["collabkg.importing.stages"])
    return ctx


def ordered_map(fn: Callable[[J], R], jobs: Iterable[J], workers: int, window: int | None = None) -> Iterator[R]:
    """``map(fn, jobs)`` on ``workers`` processes, results in job order.

    At most ``window`` jobs are in flight (default: 3 per worker), so memory stays flat
    whatever the number of jobs. With ``workers <= 1`` everything runs in this process
    (the same function on the same jobs: the same results).
    """
    if workers <= 1:
        for j in jobs:
            yield fn(j)
        return
    window = window or 3 * workers
    it = iter(jobs)
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as ex:
        pending = deque()
        for j in it:
            pending.append(ex.submit(fn, j))
            if len(pending) >= window:
                break
        while pending:
            result = pending.popleft().result()
            for j in it:
                pending.append(ex.submit(fn, j))
                break
            yield result
