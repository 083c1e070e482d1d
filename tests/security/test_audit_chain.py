"""The audit log's hash chain: any edited, deleted or truncated entry is found, where it is."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update

from gateway.cli import audit_cmd
from gateway.security.audit import HEAD_SEQ, ChainHead, append_audit, read_head
from gateway.security.audit_verify import verify_chain
from gateway.store.engine import Store
from gateway.store.tables import audit_entries
from tests.security.cli import run


@pytest.fixture
def store(db_url: str) -> Store:
    store = Store(db_url)
    yield store  # type: ignore[misc]
    store.close()


def write_entries(store: Store, count: int) -> list[int]:
    for n in range(count):
        store.write_sync(
            lambda conn, n=n: append_audit(
                conn,
                actor="operator:t1",
                action="delivery.retried",
                subject=f"delivery:{n}",
                reason="test",
                details={"n": n},
            )
        )
    return store.read_sync(
        lambda conn: [
            s
            for (s,) in conn.execute(
                select(audit_entries.c.seq)
                .where(audit_entries.c.seq != HEAD_SEQ)
                .order_by(audit_entries.c.seq)
            )
        ]
    )


def verify(store: Store, expect: ChainHead | None = None):  # type: ignore[no-untyped-def]
    return store.read_sync(lambda conn: verify_chain(conn, expect_head=expect))


def test_an_untouched_chain_verifies_and_its_head_names_the_newest_entry(store: Store) -> None:
    seqs = write_entries(store, 5)
    report = verify(store)
    assert report.intact
    assert report.entries == 5
    assert report.head is not None
    assert report.head.seq == seqs[-1]


def test_an_edited_entry_is_reported_at_that_entry(store: Store) -> None:
    seqs = write_entries(store, 6)
    target = seqs[2]
    store.write_sync(
        lambda conn: conn.execute(
            update(audit_entries).where(audit_entries.c.seq == target).values(actor="admin:x")
        )
    )
    report = verify(store)
    assert not report.intact
    assert report.first_bad_seq == target
    assert "changed" in (report.problem or "")


def test_an_edited_entry_with_a_recomputed_hash_is_caught_at_the_next_one(store: Store) -> None:
    seqs = write_entries(store, 4)
    target = seqs[1]
    store.write_sync(
        lambda conn: conn.execute(
            update(audit_entries).where(audit_entries.c.seq == target).values(entry_hash="f" * 64)
        )
    )
    report = verify(store)
    assert report.first_bad_seq == target  # its own hash no longer matches its fields
    store.write_sync(
        lambda conn: conn.execute(
            update(audit_entries).where(audit_entries.c.seq == seqs[2]).values(prev_hash="f" * 64)
        )
    )
    assert verify(store).first_bad_seq == target


def test_a_deleted_middle_entry_is_reported_at_the_entry_after_it(store: Store) -> None:
    seqs = write_entries(store, 6)
    store.write_sync(
        lambda conn: conn.execute(delete(audit_entries).where(audit_entries.c.seq == seqs[3]))
    )
    report = verify(store)
    assert not report.intact
    assert report.first_bad_seq == seqs[4]


def test_deleting_the_newest_entries_is_caught_by_the_head(store: Store) -> None:
    seqs = write_entries(store, 6)
    store.write_sync(
        lambda conn: conn.execute(delete(audit_entries).where(audit_entries.c.seq >= seqs[4]))
    )
    report = verify(store)
    assert not report.intact
    assert report.first_bad_seq == seqs[3] + 1
    assert "removed" in (report.problem or "")


def test_deleting_the_head_row_is_caught(store: Store) -> None:
    write_entries(store, 3)
    store.write_sync(
        lambda conn: conn.execute(delete(audit_entries).where(audit_entries.c.seq == HEAD_SEQ))
    )
    report = verify(store)
    assert not report.intact
    assert report.first_bad_seq == HEAD_SEQ


def test_a_head_kept_outside_catches_a_rewritten_log(store: Store) -> None:
    write_entries(store, 3)
    kept = verify(store).head
    assert kept is not None
    # Someone empties the table and writes a fresh, self-consistent chain.
    store.write_sync(lambda conn: conn.execute(delete(audit_entries)))
    write_entries(store, 3)
    assert verify(store).intact
    report = verify(store, ChainHead.parse(str(kept)))
    assert not report.intact
    assert report.first_bad_seq == kept.seq


def test_the_head_moves_with_every_append(store: Store) -> None:
    write_entries(store, 2)
    first = store.read_sync(read_head)
    write_entries(store, 1)
    second = store.read_sync(read_head)
    assert first is not None
    assert second is not None
    assert second.seq > first.seq
    assert second.entry_hash != first.entry_hash
    rows = store.read_sync(
        lambda conn: conn.execute(select(func.count()).select_from(audit_entries)).scalar_one()
    )
    assert rows == 4  # three entries and the head


def test_cli_verify_exits_0_when_intact_and_1_at_the_broken_entry(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seqs = write_entries(store, 4)
    ok = run(audit_cmd.register, ["audit", "verify"], monkeypatch, db_url=db_url)
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    head = next(line for line in ok.output.splitlines() if line.startswith("head:"))
    kept = head.split()[-1]
    assert (
        run(
            audit_cmd.register,
            ["audit", "verify", "--expect-head", kept],
            monkeypatch,
            db_url=db_url,
        ).exit_code
        == 0
    )

    store.write_sync(
        lambda conn: conn.execute(
            update(audit_entries).where(audit_entries.c.seq == seqs[1]).values(reason="edited")
        )
    )
    broken = run(audit_cmd.register, ["audit", "verify"], monkeypatch, db_url=db_url)
    assert broken.exit_code == 1
    assert f"seq {seqs[1]}" in broken.output


def test_the_installed_command_exits_1_on_a_broken_chain(store: Store, db_url: str) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    seqs = write_entries(store, 3)
    command = Path(sys.executable).parent / "marri-gateway"
    env = {**os.environ, "MARRI_DATABASE_URL": db_url}
    intact = subprocess.run(
        [str(command), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert intact.returncode == 0, intact.stderr
    store.write_sync(
        lambda conn: conn.execute(delete(audit_entries).where(audit_entries.c.seq == seqs[-1]))
    )
    broken = subprocess.run(
        [str(command), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert broken.returncode == 1
    assert "BROKEN" in broken.stderr
