"""Database engines: SQLite (embedded, one writer) and PostgreSQL (shared by many processes).

SQLite is opened in WAL mode with ``synchronous=FULL`` and every write transaction starts with
``BEGIN IMMEDIATE``, so a commit survives ``kill -9`` and power loss and a writer never fails
half-way on a lock upgrade. All writes of one process go through one thread (the measured
alternative, a writer per thread, had p99 latencies near a second from lock fights), which
commits the writes that queued up meanwhile together (``group_commit``). Processes sharing the
file (``serve --processes``, worker processes) take turns through a lock file beside the database
(``<file>.write-lock``), so a waiting writer starts the moment the other commits.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from gateway.store.group_commit import GroupCommitWriter

T = TypeVar("T")


def create_private_database_file(url: str) -> None:
    """Create a SQLite database file mode 0600 before SQLite opens it: SQLite gives its
    ``-wal`` and ``-shm`` files the database file's mode, so all three stay the owner's alone.
    Other back ends and in-memory databases: nothing to do."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    database = Path(parsed.database)
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    create_private_database_file(url)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """Engines plus the executors that keep database I/O off the event loop.

    ``write`` runs a function inside one transaction on the writer thread(s); ``read`` on the
    reader pool. Functions get a SQLAlchemy ``Connection`` and must not do network I/O.
    """

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = _normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._group_writer: GroupCommitWriter | None = None
        self._writer: ThreadPoolExecutor | None = None
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(self.url, immediate=True)
            self.read_engine = _sqlite_engine(self.url, immediate=False)
            database = make_url(self.url).database
            file_backed = bool(database) and database != ":memory:"
            self._group_writer = GroupCommitWriter(
                self.write_engine,
                lock_path=Path(f"{database}.write-lock") if file_backed else None,
            )
        else:
            self.write_engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
            # PostgreSQL commits concurrent transactions in parallel (and groups their WAL
            # flushes itself): a pool of writers, each write its own transaction.
            self._writer = ThreadPoolExecutor(
                max_workers=pool_size, thread_name_prefix="store-writer"
            )
        self._reader = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="store-reader")

    @property
    def dialect(self) -> str:
        """The database dialect name (``sqlite`` or ``postgresql``), where SQL differs between
        them.
        """
        return self.write_engine.dialect.name

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one write transaction, committed when it returns."""
        with self.write_engine.begin() as conn:
            return fn(conn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a read connection; whatever it did is rolled back."""
        with self.read_engine.connect() as conn:
            try:
                return fn(conn)
            finally:
                conn.rollback()

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a write transaction; returns once that transaction committed.

        On SQLite ``fn`` may share its transaction with other queued writes (each in its own
        savepoint, see ``group_commit``): it must not commit, and its exception stays its own.
        """
        if self._group_writer is not None:
            result: T = await asyncio.wrap_future(self._group_writer.submit(fn))
            return result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self.write_sync, fn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a read connection off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self.read_sync, fn)

    def close(self) -> None:
        """Stop the writer and reader threads, then dispose of the connection pools."""
        if self._group_writer is not None:
            self._group_writer.close()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
