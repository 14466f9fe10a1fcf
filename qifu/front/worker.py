"""The worker class of `qifu serve`: gunicorn's threaded worker (gthread), with two changes.

1. **A new connection goes to the worker that holds the fewest** (least connections, as nginx's `least_conn`).
   The workers of one server share the listening socket; gunicorn's gthread worker accepts whatever it is woken
   for and keeps a connection for as long as its client keeps it alive, so the split between workers is a race
   — with 32 kept-alive clients on 2 workers it came out uneven and the busier worker's clients waited longest
   (p50 144 ms, p99 356 ms at 192 appeals/s, issue 10). Here each worker writes how many connections it holds
   into a table in memory shared with the master and the other workers, and listens only while it holds no
   more than any other: the others' connections wait in the kernel's queue for the worker with the fewest
   (never refused, never waiting for a busy thread: a worker with the fewest always listens). The master gives
   each worker its place before the fork and clears it when the worker has exited; the worker counts from the
   moment it serves (not from its fork: the others keep listening while it loads) and stops counting when it
   stops. No lock: a place is written by the master while it is free, and by its worker only.
2. **The loaded application is left out of the garbage collector's full passes** (`gc.freeze()` once the
   application is loaded, in `post_worker_init`): a full pass of the cyclic collector over a Django process
   walks every object of every module — milliseconds during which none of the worker's threads runs.
"""

from __future__ import annotations

import ctypes
import gc
import mmap
import os

from gunicorn.workers.gthread import ThreadWorker

RECHECK = 0.05  # seconds: how often a worker that is not listening looks at the table again
FREE, GIVEN = 0, -1  # a place's owner: free, given to a worker not serving yet, or the serving worker's pid
STOPPED = 2**62  # the count of a worker that is stopping: never the fewest, never in another's way


class ConnectionTable:
    """(owner, connections held) per place, in memory shared across fork. Created in the master."""

    def __init__(self, places: int):
        self.places = places
        self._memory = mmap.mmap(-1, 16 * places)  # anonymous and shared: the workers forked later see one table
        self._cells = (ctypes.c_int64 * (2 * places)).from_buffer(self._memory)

    # in the master
    def give(self) -> int | None:
        for place in range(self.places):
            if self._cells[2 * place] == FREE:
                self._cells[2 * place], self._cells[2 * place + 1] = GIVEN, 0
                return place
        return None  # more workers than places: that worker listens always, as gthread's own

    def clear(self, place: int) -> None:
        self._cells[2 * place + 1], self._cells[2 * place] = 0, FREE

    # in the worker at `place`
    def hold(self, place: int, pid: int, connections: int) -> None:
        self._cells[2 * place + 1] = connections
        self._cells[2 * place] = pid

    def fewest(self, place: int) -> bool:
        """Whether the worker at `place` holds no more connections than any other serving worker (one that holds
        fewer but no longer runs — not yet cleared by the master — does not count)."""
        cells, mine = self._cells, self._cells[2 * place + 1]
        for i in range(self.places):
            owner = cells[2 * i]
            if owner > 0 and i != place and cells[2 * i + 1] < mine and _running(owner):
                return False
        return True

    def owner(self, place: int) -> int:
        return self._cells[2 * place]

    def held(self) -> dict[int, int]:
        """{pid: connections} of the serving workers."""
        return {self._cells[2 * i]: self._cells[2 * i + 1] for i in range(self.places) if self._cells[2 * i] > 0}


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


table: ConnectionTable | None = None  # set in the master by `share_connections`, inherited by the workers


def share_connections(workers: int) -> dict:
    """In the master, before any worker is forked: the table, and the gunicorn hooks that give a worker its place
    before its fork and clear it once the worker has exited."""
    global table
    table = ConnectionTable(max(8, 2 * workers + 2))  # room for the workers that replace others

    def pre_fork(arbiter, worker):
        worker.place = table.give()

    def child_exit(arbiter, worker):
        if getattr(worker, "place", None) is not None:
            table.clear(worker.place)

    return {"pre_fork": pre_fork, "child_exit": child_exit}


class FairThreadWorker(ThreadWorker):
    place: int | None = None  # given by the master before the fork (`share_connections`)

    def wait_for_and_dispatch_events(self, timeout):
        """Each turn of the worker's loop: write down the connections held, listen or not, then wait."""
        if table is not None and self.place is not None:
            table.hold(self.place, self.pid, self.nr_conns if self.alive else STOPPED)
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
            if not self._accepting:
                timeout = min(timeout, RECHECK)
        super().wait_for_and_dispatch_events(timeout)

    def set_accept_enabled(self, enabled):
        counted = table is not None and self.place is not None and table.owner(self.place) == self.pid
        super().set_accept_enabled(enabled and self.alive and (not counted or table.fewest(self.place)))


def freeze_loaded(worker) -> None:
    """gunicorn's post_worker_init hook: everything loaded so far stays out of the collector's passes."""
    gc.collect()
    gc.freeze()
    if worker is not None:
        worker.log.info("Worker ready (pid: %s)", worker.pid)
