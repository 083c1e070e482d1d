"""An emptied audit log, or one holding fewer entries than its head counted, is not intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, delete, select, update

from gateway.cli import audit_cmd
from gateway.context import GatewayContext
from gateway.security.audit import HEAD_SEQ, append_audit, entry_hash_of
from gateway.security.audit_verify import verify_chain
from gateway.store.crypto import load_or_create_keyring
from gateway.store.engine import Store
from gateway.store.tables import audit_entries
from tests.api.helpers import dumps, variant
from tests.conftest import Tokens
from tests.security.cli import run
from tests.security.rows import store_message


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


def append(store: Store, count: int) -> None:
    for n in range(count):
        store.write_sync(
            lambda conn, n=n: append_audit(
                conn, actor="operator:t1", action="delivery.retried", subject=f"delivery:{n}"
            )
        )


def empty_the_log(conn: Connection) -> None:
    conn.execute(delete(audit_entries))


def test_a_fresh_database_with_no_messages_and_no_entries_is_intact(store: Store) -> None:
    report = store.read_sync(verify_chain)
    assert report.intact
    assert report.entries == 0


def test_an_emptied_log_beside_stored_messages_is_not_intact(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_message(store, load_or_create_keyring(tmp_path / "keys.json"))
    append(store, 3)
    assert store.read_sync(verify_chain).intact
    store.write_sync(empty_the_log)

    report = store.read_sync(verify_chain)
    assert not report.intact
    assert report.first_bad_seq == HEAD_SEQ
    assert "empty" in (report.problem or "")

    result = run(audit_cmd.register, ["audit", "verify"], monkeypatch, db_url=db_url)
    assert result.exit_code == 1
    assert "BROKEN" in result.output


async def test_the_api_reports_an_emptied_log(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    headers = {
        "Authorization": f"Bearer {tokens.sender('AL')}",
        "Content-Type": "application/json",
    }
    sent = await client.post("/v1/messages", content=dumps(variant()), headers=headers)
    assert sent.status_code == 202
    auditor = {"Authorization": f"Bearer {tokens.auditor}"}
    assert (await client.get("/v1/audit/verify", headers=auditor)).json()["intact"] is True

    await context.store.write(empty_the_log)
    verified = (await client.get("/v1/audit/verify", headers=auditor)).json()
    assert verified["intact"] is False
    assert verified["first_bad_seq"] == HEAD_SEQ
    assert "empty" in verified["problem"]


def drop_an_entry_and_rechain(conn: Connection) -> None:
    """What someone who can recompute hashes would do: remove one entry, re-chain the rest,
    and move the head's hash and seq, leaving its count alone."""
    rows = conn.execute(
        select(audit_entries).where(audit_entries.c.seq != HEAD_SEQ).order_by(audit_entries.c.seq)
    ).all()
    conn.execute(delete(audit_entries).where(audit_entries.c.seq == rows[1].seq))
    prev = rows[0].entry_hash
    for row in rows[2:]:
        digest = entry_hash_of(
            None, prev, row.at, (row.actor, row.action, row.subject, row.reason, row.details_json)
        )
        conn.execute(
            update(audit_entries)
            .where(audit_entries.c.seq == row.seq)
            .values(prev_hash=prev, entry_hash=digest)
        )
        prev = digest
    head = conn.execute(select(audit_entries).where(audit_entries.c.seq == HEAD_SEQ)).one()
    details = json.loads(head.details_json)
    details["seq"] = rows[-1].seq
    conn.execute(
        update(audit_entries)
        .where(audit_entries.c.seq == HEAD_SEQ)
        .values(entry_hash=prev, details_json=json.dumps(details))
    )


def test_fewer_entries_than_the_head_counts_is_not_intact(store: Store) -> None:
    append(store, 5)
    store.write_sync(drop_an_entry_and_rechain)
    report = store.read_sync(verify_chain)
    assert not report.intact
    assert report.first_bad_seq == HEAD_SEQ
    assert "counts 5 entries but the log holds 4" in (report.problem or "")


def test_a_head_written_before_it_counted_entries_starts_counting(store: Store) -> None:
    append(store, 3)

    def forget_the_count(conn: Connection) -> None:
        head = conn.execute(select(audit_entries).where(audit_entries.c.seq == HEAD_SEQ)).one()
        seq = json.loads(head.details_json)["seq"]
        conn.execute(
            update(audit_entries)
            .where(audit_entries.c.seq == HEAD_SEQ)
            .values(details_json=json.dumps({"seq": seq}))
        )

    store.write_sync(forget_the_count)
    assert store.read_sync(verify_chain).intact
    append(store, 2)
    report = store.read_sync(verify_chain)
    assert report.intact
    assert report.entries == 5
    head = store.read_sync(
        lambda conn: conn.execute(
            select(audit_entries.c.details_json).where(audit_entries.c.seq == HEAD_SEQ)
        ).scalar_one()
    )
    assert json.loads(head)["entries"] == 5
