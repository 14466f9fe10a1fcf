"""The worker class of `qifu serve`: gunicorn's threaded worker (gthread), with two changes.

1. **A new connection goes to the worker that holds the fewest** (least connections, as nginx's `least_conn`).
   The workers of one server share the listening socket; gunicorn's gthread worker accepts whatever it is woken
   for and keeps a connection for as long as its client keeps it alive, so the split between workers is a race
   — with 32 kept-alive clients on 2 workers it came out uneven and the busier worker's clients waited longest
   (p50 144 ms, p99 356 ms at 192 appeals/s, issue 10). Here each worker writes how many connections it holds
   into a table in memory shared with the master and the other workers, and listens only while it holds no
   more than any other: the others' connections wait in the kernel's queue for the worker with the fewest
   (never refused, never waiting for a busy thread: a worker with the fewest always listens). A worker takes its
   place in the table when it starts serving (not at its fork: the others keep listening while it loads) and
   leaves it when it stops; the master clears the place of a worker that died.
2. **The loaded application is left out of the garbage collector's full passes** (`gc.freeze()` once the
   application is loaded, in `post_worker_init`): a full pass of the cyclic collector over a Django process
   walks every object of every module — milliseconds during which none of the worker's threads runs.
"""

from __future__ import annotations

import ctypes
import gc
import mmap
import multiprocessing

from gunicorn.workers.gthread import ThreadWorker

RECHECK = 0.05  # seconds: how often a worker that is not listening looks at the table again


class ConnectionTable:
    """(pid, connections held) of each serving worker, in memory shared across fork. Created in the master."""

    def __init__(self, places: int):
        self.places = places
        self._memory = mmap.mmap(-1, 16 * places)  # anonymous and shared: the workers forked later see one table
        self._cells = (ctypes.c_int64 * (2 * places)).from_buffer(self._memory)
        self._lock = multiprocessing.Lock()  # taking and leaving a place; counts are written by their owner only

    def take(self, pid: int) -> int | None:
        with self._lock:
            for place in range(self.places):
                if self._cells[2 * place] in (0, pid):
                    self._cells[2 * place], self._cells[2 * place + 1] = pid, 0
                    return place
        return None  # more workers than places: that worker listens always, as gthread's own

    def leave(self, pid: int) -> None:
        with self._lock:
            for place in range(self.places):
                if self._cells[2 * place] == pid:
                    self._cells[2 * place], self._cells[2 * place + 1] = 0, 0

    def hold(self, place: int, connections: int) -> None:
        self._cells[2 * place + 1] = connections

    def fewest(self, place: int) -> bool:
        """Whether the worker at `place` holds no more connections than any other serving worker."""
        cells, mine = self._cells, self._cells[2 * place + 1]
        return all(cells[2 * i + 1] >= mine for i in range(self.places) if cells[2 * i])

    def held(self) -> dict[int, int]:
        return {self._cells[2 * i]: self._cells[2 * i + 1] for i in range(self.places) if self._cells[2 * i]}


table: ConnectionTable | None = None  # set in the master by `share_connections`, inherited by the workers


def share_connections(workers: int):
    """In the master, before any worker is forked: the table, and gunicorn's child_exit hook that clears a
    dead worker's place."""
    global table
    table = ConnectionTable(max(8, 2 * workers + 2))  # room for the workers that replace others
    return lambda arbiter, worker: table.leave(worker.pid)


class FairThreadWorker(ThreadWorker):
    place: int | None = None

    def wait_for_and_dispatch_events(self, timeout):
        """Each turn of the worker's loop: write down the connections held, listen or not, then wait."""
        if table is not None:
            if self.alive and self.place is None:
                self.place = table.take(self.pid)
            elif not self.alive and self.place is not None:  # stopping: no longer among those that listen
                table.leave(self.pid)
                self.place = None
            if self.place is not None:
                table.hold(self.place, self.nr_conns)
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
            if not self._accepting:
                timeout = min(timeout, RECHECK)
        super().wait_for_and_dispatch_events(timeout)

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self.alive and (self.place is None or table.fewest(self.place)))


def freeze_loaded(worker) -> None:
    """gunicorn's post_worker_init hook: everything loaded so far stays out of the collector's passes."""
    gc.collect()
    gc.freeze()
    if worker is not None:
        worker.log.info("Worker ready (pid: %s)", worker.pid)
