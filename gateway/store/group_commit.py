"""Group commit for SQLite's single writer: writes that queue up during a commit share the next.

With ``synchronous=FULL`` every commit waits for the disk, and one connection writes at a time:
one transaction per request caps intake at one fsync per message. Here the writer thread takes
every write waiting in its queue, runs each inside its own SAVEPOINT of one transaction and
commits once. A write that raises is rolled back to its savepoint and its caller gets the
exception; the others are unaffected. No caller hears of success before the commit returned, so
"accept means stored" holds unchanged. Nothing waits to gather a batch: a write that arrives at
an idle writer is committed at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

# Enough to absorb a burst without one batch holding the write lock for long.
MAX_BATCH = 64


@dataclass
class _Write:
    fn: Callable[[Connection], Any]
    done: Future[Any] = field(default_factory=Future)


_STOP = object()


class GroupCommitWriter:
    """One thread that owns all writes of a process to one SQLite database."""

    def __init__(
        self, engine: Engine, *, max_batch: int = MAX_BATCH, lock_path: Path | None = None
    ) -> None:
        self._engine = engine
        # Processes sharing the file take turns through this lock: a waiting writer is woken
        # the moment the other commits, where SQLite's own busy handler sleeps 1, 2, 5 ... ms.
        self._lock_file = open(lock_path, "a+b") if lock_path is not None else None  # noqa: SIM115
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Write | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._stopped = False
        self._thread.start()

    def submit(self, fn: Callable[[Connection], Any]) -> Future[Any]:
        """Queue ``fn``; the future resolves after the transaction holding it committed."""
        if self._stopped:
            raise RuntimeError("the store is closed")
        write = _Write(fn)
        self._queue.put(write)
        return write.done

    def close(self) -> None:
        """Finish every queued write, then stop the thread."""
        if not self._stopped:
            self._stopped = True
            self._queue.put(_STOP)
            self._thread.join()
            if self._lock_file is not None:
                self._lock_file.close()

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        if self._lock_file is None:
            yield
            return
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Write] = [first]  # type: ignore[list-item]
            stop_after = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop_after = True
                    break
                batch.append(more)  # type: ignore[arg-type]
            self._commit(batch)
            if stop_after:
                return

    def _commit(self, batch: list[_Write]) -> None:
        live = [w for w in batch if w.done.set_running_or_notify_cancel()]
        if not live:
            return
        outcomes: list[tuple[_Write, bool, Any]] = []
        try:
            with self._turn(), self._engine.begin() as conn:
                if len(live) == 1:
                    # Alone in its transaction: no savepoint needed, and an exception rolls
                    # back the whole transaction exactly as before grouping existed.
                    outcomes.append((live[0], True, live[0].fn(conn)))
                else:
                    for write in live:
                        try:
                            with conn.begin_nested():
                                outcomes.append((write, True, write.fn(conn)))
                        except BaseException as exc:  # handed to its own caller
                            outcomes.append((write, False, exc))
        except BaseException as exc:
            # The commit (or a lone write) failed: nothing of this batch is stored.
            for write in live:
                if not write.done.done():
                    write.done.set_exception(exc)
            return
        for write, ok, value in outcomes:
            if ok:
                write.done.set_result(value)
            else:
                write.done.set_exception(value)
