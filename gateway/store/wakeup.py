"""Waking delivery workers when deliveries are stored, instead of on their next poll.

Intake calls ``announce_new_deliveries(conn)`` inside the write transaction that stores them:
on PostgreSQL that is a ``NOTIFY``, which the server hands to every listening worker (any
process, any host) when the transaction commits, and never if it rolls back; on SQLite it does
nothing. After the commit intake calls ``deliveries_stored()``, which wakes the workers running
in the same process (``serve`` with its embedded worker) on either back end.

Workers in other processes ``listen_for_new_deliveries`` (PostgreSQL only). Both signals are
hints: workers keep polling, so a lost notification costs at most the poll interval.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.engine import make_url

log = logging.getLogger("gateway.store")

NOTIFY_CHANNEL = "marri_new_deliveries"


def announce_new_deliveries(conn: Connection) -> None:
    """Inside the storing transaction: tell other processes' workers at commit (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        # Notifications with the same payload in one transaction are sent once.
        conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}")


class _LocalWakeups:
    """Callbacks of this process's workers, each run on its worker's own event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = {}
        self._next = 0

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        loop = asyncio.get_running_loop()
        with self._lock:
            token = self._next
            self._next += 1
            self._subscribers[token] = (loop, callback)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(token, None)

        return unsubscribe

    def fire(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers.values())
        if not subscribers:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, callback in subscribers:
            if loop is running:
                callback()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(callback)


_local = _LocalWakeups()


def deliveries_stored() -> None:
    """After the commit: wake the workers of this process (cheap when there are none)."""
    _local.fire()


def on_deliveries_stored(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` on the current event loop whenever this process stores deliveries;
    returns the function that stops it."""
    return _local.subscribe(callback)


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The store's SQLAlchemy URL as a libpq connection URL (driver name dropped)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def listen_for_new_deliveries(
    sqlalchemy_url: str,
    on_notify: Callable[[], None],
    *,
    retry_s: float = 1.0,
    listening: asyncio.Event | None = None,
) -> None:
    """Until cancelled: LISTEN on PostgreSQL and call ``on_notify`` for each notification.

    A dropped connection is opened again after ``retry_s``; ``on_notify`` is also called each
    time listening (re)starts, for what was stored while nobody listened. ``listening`` is set
    once the LISTEN is in place.
    """
    import psycopg

    conninfo = libpq_conninfo(sqlalchemy_url)
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            async with conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                if listening is not None:
                    listening.set()
                on_notify()
                async for _ in conn.notifies():
                    on_notify()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the poll carries on meanwhile
            log.warning("listening for new deliveries failed (%s)", type(exc).__name__)
        await asyncio.sleep(retry_s)
