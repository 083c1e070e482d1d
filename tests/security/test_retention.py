"""Retention: bodies and payloads erased when due; ids, hashes, decisions and audit stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.cli import security_cmd
from gateway.context import GatewayContext
from gateway.retention import purge_due
from gateway.security.audit_verify import verify_chain
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import audit_entries, deliveries, messages, utcnow
from tests.security.cli import run
from tests.security.rows import store_message


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


def message_row(store: Store, message_id: str):  # type: ignore[no-untyped-def]
    return store.read_sync(
        lambda conn: conn.execute(select(messages).where(messages.c.id == message_id)).one()
    )


def delivery_rows(store: Store, message_id: str):  # type: ignore[no-untyped-def]
    return store.read_sync(
        lambda conn: conn.execute(
            select(deliveries).where(deliveries.c.message_id == message_id)
        ).all()
    )


def test_purge_erases_due_content_and_keeps_the_evidence(store: Store) -> None:
    keyring = Keyring.generate()
    today = utcnow().date()
    past_deadline = store_message(
        store, keyring, states=("delivered", "queued"), retention_until=today - timedelta(days=1)
    )
    future_deadline = store_message(store, keyring, retention_until=today + timedelta(days=30))
    old_delivered = store_message(
        store, keyring, states=("delivered", "blocked"), updated_at=utcnow() - timedelta(days=91)
    )
    old_but_retrying = store_message(
        store, keyring, states=("delivered", "retry_wait"), updated_at=utcnow() - timedelta(days=91)
    )
    recent = store_message(store, keyring, states=("delivered",))
    before = {m.id: delivery_rows(store, m.id) for m in (past_deadline, old_delivered)}

    result = purge_due(store, days=90)

    assert sorted(result.purged) == sorted([past_deadline.id, old_delivered.id])
    assert result.cancelled_deliveries == 1
    for item in (past_deadline, old_delivered):
        row = message_row(store, item.id)
        assert row.body_ciphertext is None
        assert row.body_key_id is None
        assert row.purged_at is not None
        assert len(row.content_sha256) == 64
        for old, new in zip(
            sorted(before[item.id], key=lambda r: r.id),
            sorted(delivery_rows(store, item.id), key=lambda r: r.id),
            strict=True,
        ):
            assert new.payload_ciphertext is None
            assert new.payload_key_id is None
            assert new.payload_sha256 == old.payload_sha256
            assert new.decision_outcome == old.decision_outcome
    states = {r.state for r in delivery_rows(store, past_deadline.id)}
    assert states == {"delivered", "cancelled"}
    for kept in (future_deadline, old_but_retrying, recent):
        row = message_row(store, kept.id)
        assert row.body_ciphertext is not None
        assert row.purged_at is None
        assert all(d.payload_ciphertext is not None for d in delivery_rows(store, kept.id))

    audit = store.read_sync(
        lambda conn: conn.execute(
            select(audit_entries.c.subject, audit_entries.c.reason).where(
                audit_entries.c.action == "message.purged"
            )
        ).all()
    )
    assert sorted(s for s, _ in audit) == sorted(
        f"message:{m.id}" for m in (past_deadline, old_delivered)
    )
    assert store.read_sync(verify_chain).intact
    # A second run finds nothing left to do.
    assert purge_due(store, days=90).purged == []


def test_a_delivery_being_sent_postpones_the_purge(store: Store) -> None:
    keyring = Keyring.generate()
    item = store_message(store, keyring, states=("sending",), retention_until=date(2000, 1, 1))
    assert purge_due(store, days=90).purged == []
    assert message_row(store, item.id).body_ciphertext is not None


def test_cli_purge_counts_then_purges(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring.generate()
    item = store_message(store, keyring, retention_until=date(2001, 5, 1))
    dry = run(security_cmd.register, ["purge", "--dry-run"], monkeypatch, db_url=db_url)
    assert dry.exit_code == 0, dry.output
    assert "1 message(s) due" in dry.output
    assert message_row(store, item.id).purged_at is None
    done = run(security_cmd.register, ["purge"], monkeypatch, db_url=db_url)
    assert done.exit_code == 0, done.output
    assert message_row(store, item.id).purged_at is not None


async def test_a_running_gateway_purges_on_its_own_schedule(context: GatewayContext) -> None:
    import httpx

    from gateway.api.app import create_app

    app = create_app(context)
    scheduler = app.state.retention
    item = store_message(context.store, context.keyring, retention_until=date(2002, 1, 1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        assert (await http.get("/healthz")).status_code == 200
        assert scheduler.running is None  # the first run waits one interval
        scheduler.next_run = 0.0
        assert (await http.get("/healthz")).status_code == 200
        first = scheduler.running
        assert first is not None
        result = await first
        assert (await http.get("/healthz")).status_code == 200
        assert scheduler.running is first  # not started again before the next interval
    assert result.purged == [item.id]
    assert message_row(context.store, item.id).purged_at is not None
