"""A pool of killable worker processes for ``collabkg serve`` (see :mod:`collabkg.server.tasks`).

Why processes: a query engine computes between rows (``COUNT``, ``ORDER BY`` yield nothing until
the end), so a thread over its time limit cannot be stopped and keeps its CPU and memory. A
process can: when a request passes ``timeout`` seconds or its worker's resident memory passes
``max_memory_mb``, the worker is killed (its CPU and memory are freed at once), the client gets
503, and a fresh worker takes its place (forked from a preloaded fork server, so it is quick).

Fairness: a request still running after ``LONG`` seconds has its worker lowered to the lowest
CPU priority, so that short requests on other workers keep their speed beside heavy ones; a
worker lowered so is retired afterwards (an unprivileged process cannot raise it back).

Bounded work: at most ``workers`` requests run and ``queue`` wait; one more gets 503 with
``Retry-After`` at once, and a request that waits longer than ``timeout`` for a worker too.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import threading
import time

from collabkg.server.sparql import ProtocolError
from collabkg.server.tasks import worker_main

POLL = 0.05  # seconds between checks of a running request's time and memory
LONG = 0.5   # seconds after which a request runs at the lowest CPU priority
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss(pid: int) -> int:
    """Resident bytes of a process (0 where /proc is not available)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _lower_priority(pid: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 19)
        return True
    except (OSError, AttributeError):
        return False


class _Worker:
    def __init__(self, ctx, spec):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, spec), daemon=True, name="collabkg-serve-worker")
        self.proc.start()
        child.close()

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.join(10)
        finally:
            self.conn.close()


class Pool:
    """``workers`` worker processes serving ``spec`` (see :class:`collabkg.server.tasks.StoreView`)."""

    def __init__(self, spec, workers: int = 2, queue: int = 8, timeout: float = 30.0, max_memory_mb: int = 1024):
        self.spec, self.size, self.queue_size = spec, workers, queue
        self.timeout, self.max_memory = timeout, max_memory_mb * 1024 * 1024
        self.retry_after = str(max(1, min(30, round(timeout))))
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["collabkg.server.tasks", "collabkg.catalogue", "collabkg.validation"])
        self.ctx = ctx
        self._idle: queue_mod.Queue = queue_mod.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        for _ in range(workers):
            self._idle.put(_Worker(ctx, spec))

    def busy_error(self, why: str) -> ProtocolError:
        return ProtocolError(503, f"{why}; try again later", {"Retry-After": self.retry_after})

    def reserve(self) -> None:
        """Take a place for one request (running or waiting); 503 + Retry-After when none is left."""
        with self._lock:
            if self._pending >= self.size + self.queue_size:
                raise self.busy_error(
                    f"the server is busy: {self.size} request(s) running and {self.queue_size} waiting (serve --workers/--queue)")
            self._pending += 1

    def release(self) -> None:
        with self._lock:
            self._pending -= 1

    def call(self, task: str, *args, timeout: float | None = None):
        """Run ``task(store, *args)`` in a worker (blocking; call it from a thread). The caller
        holds a place (:meth:`reserve`). Raises ProtocolError for the task's own refusals and
        for the limits: 503 when over time or memory, or when no worker became free in time."""
        timeout = self.timeout if timeout is None else timeout
        try:
            w = self._idle.get(timeout=timeout)
        except queue_mod.Empty:
            raise self.busy_error(f"no worker became free within {timeout:g} s") from None
        started = time.monotonic()
        deadline = started + timeout
        lowered = False
        try:
            w.conn.send((task, args))
            while not w.conn.poll(POLL):
                if not lowered and time.monotonic() - started > LONG:
                    lowered = _lower_priority(w.proc.pid)
                if time.monotonic() > deadline:
                    self._replace(w)
                    w = None
                    raise ProtocolError(503, f"query timed out after {timeout:g} s (the server's --query-timeout); it was stopped")
                if _rss(w.proc.pid) > self.max_memory:
                    self._replace(w)
                    w = None
                    raise ProtocolError(
                        503, f"the request used more than {self.max_memory // 2**20} MB (the server's --max-memory); it was stopped")
                if not w.proc.is_alive():
                    self._replace(w)
                    w = None
                    raise ProtocolError(500, "the worker running the request died; it was replaced")
            reply = w.conn.recv()
            if lowered:
                self._replace(w)
                w = None
        except (EOFError, OSError, BrokenPipeError):
            if w is not None:
                self._replace(w)
                w = None
            raise ProtocolError(500, "the worker running the request died; it was replaced") from None
        finally:
            if w is not None:
                self._idle.put(w)
        if reply[0] == "ok":
            return reply[1]
        raise ProtocolError(reply[1], reply[2])

    def _replace(self, w: _Worker) -> None:
        """Kill ``w`` now (freeing its CPU and memory) and start its successor in the background."""
        w.kill()

        def start():
            if not self._closed:
                self._idle.put(_Worker(self.ctx, self.spec))

        threading.Thread(target=start, daemon=True, name="collabkg-serve-respawn").start()

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue_mod.Empty:
                return
