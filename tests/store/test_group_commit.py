"""SQLite group commit: queued writes share one transaction, each keeps its own outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, func, select, text
from sqlalchemy.exc import IntegrityError

from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.tables import channel_states, utcnow


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(url)
    store = Store(url)
    yield store
    store.close()


def _count_commits(store: Store) -> list[int]:
    commits: list[int] = []
    event.listen(store.write_engine, "commit", lambda _conn: commits.append(1))
    return commits


def _insert_channel(name: str) -> Callable[[Connection], str]:
    def write(conn: Connection) -> str:
        conn.execute(channel_states.insert().values(channel=name, updated_at=utcnow()))
        return name

    return write


def _channels(store: Store) -> set[str]:
    return set(
        store.read_sync(lambda conn: conn.execute(select(channel_states.c.channel)).scalars())
    )


async def _behind_a_held_write(
    store: Store, writes: list[Callable[[Connection], object]]
) -> list[object]:
    """Hold the writer in a first write until ``writes`` are queued, then let all run."""
    release = threading.Event()

    def held(conn: Connection) -> str:
        release.wait(10)
        return "held"

    first = asyncio.ensure_future(store.write(held))
    await asyncio.sleep(0.05)  # the writer is now inside ``held``
    queued = [asyncio.ensure_future(store.write(w)) for w in writes]
    await asyncio.sleep(0.05)
    release.set()
    return await asyncio.gather(first, *queued, return_exceptions=True)


async def test_writes_queued_during_a_commit_share_the_next_one(sqlite_store: Store) -> None:
    commits = _count_commits(sqlite_store)
    names = [f"ch{i}" for i in range(10)]
    results = await _behind_a_held_write(sqlite_store, [_insert_channel(n) for n in names])
    assert results == ["held", *names]
    # The held write commits alone; the ten queued behind it commit together.
    assert len(commits) == 2
    assert _channels(sqlite_store) == set(names)


async def test_a_failing_write_fails_alone(sqlite_store: Store) -> None:
    def duplicate(conn: Connection) -> None:
        conn.execute(channel_states.insert().values(channel="twice", updated_at=utcnow()))
        conn.execute(channel_states.insert().values(channel="twice", updated_at=utcnow()))

    results = await _behind_a_held_write(
        sqlite_store, [_insert_channel("before"), duplicate, _insert_channel("after")]
    )
    assert results[0] == "held"
    assert results[1] == "before"
    assert isinstance(results[2], IntegrityError)
    assert results[3] == "after"
    # The failed write left nothing behind, not even its first row.
    assert _channels(sqlite_store) == {"before", "after"}


async def test_a_failed_commit_fails_every_write_of_its_batch(sqlite_store: Store) -> None:
    """A batch whose commit fails stores nothing and no caller hears success."""

    def breaks_the_commit(conn: Connection) -> None:
        # A deferred foreign-key violation is only detected at COMMIT.
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))
        conn.execute(
            text(
                "INSERT INTO attempts (delivery_id, number, worker_id, started_at) "
                "VALUES ('no-such-delivery', 1, 'test', CURRENT_TIMESTAMP)"
            )
        )

    results = await _behind_a_held_write(
        sqlite_store, [_insert_channel("a"), breaks_the_commit, _insert_channel("b")]
    )
    assert results[0] == "held"
    assert all(isinstance(r, IntegrityError) for r in results[1:]), results
    assert _channels(sqlite_store) == set()
    # The writer goes on working after a failed batch.
    assert await sqlite_store.write(_insert_channel("later")) == "later"


async def test_close_finishes_queued_writes(sqlite_store: Store) -> None:
    futures = [sqlite_store._group_writer.submit(_insert_channel(f"q{i}")) for i in range(20)]
    sqlite_store._group_writer.close()
    assert [f.result(timeout=5) for f in futures] == [f"q{i}" for i in range(20)]
    assert len(_channels(sqlite_store)) == 20
    with pytest.raises(RuntimeError, match="closed"):
        sqlite_store._group_writer.submit(_insert_channel("too late"))


async def test_a_lone_write_needs_no_savepoint(sqlite_store: Store) -> None:
    statements: list[str] = []
    event.listen(
        sqlite_store.write_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(statement),
    )
    await sqlite_store.write(_insert_channel("solo"))
    assert not any("SAVEPOINT" in s.upper() for s in statements)
    count = sqlite_store.read_sync(
        lambda conn: conn.execute(select(func.count()).select_from(channel_states)).scalar()
    )
    assert count == 1


async def test_writers_of_two_stores_take_turns_without_sqlite_busy_waits(
    tmp_path: Path,
) -> None:
    """Processes sharing one SQLite file queue on the write lock file, not on SQLite's busy
    handler: with SQLite's busy timeout at zero, the second writer still waits its turn
    instead of failing with 'database is locked'."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(url)
    first, second = Store(url), Store(url)

    @event.listens_for(second.write_engine, "connect")
    def _no_busy_wait(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 0")  # type: ignore[attr-defined]

    try:
        release = threading.Event()

        def held(conn: Connection) -> str:
            conn.execute(channel_states.insert().values(channel="first", updated_at=utcnow()))
            release.wait(10)
            return "first"

        holding = asyncio.ensure_future(first.write(held))
        await asyncio.sleep(0.1)  # the first store is inside its transaction
        waiting = asyncio.ensure_future(second.write(_insert_channel("second")))
        await asyncio.sleep(0.2)
        assert not waiting.done(), "the second writer should wait for the first one's turn"
        release.set()
        assert await holding == "first"
        assert await waiting == "second"
        assert _channels(first) == {"first", "second"}
        assert (tmp_path / "gateway.db.write-lock").exists()
    finally:
        first.close()
        second.close()
