"""Retention tells the sender that a message expired, in the purge's own transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.events.inbox import read_inbox
from gateway.retention import purge_due
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import events, utcnow
from tests.security.rows import store_message


def test_purged_messages_are_told_once(db_url: str) -> None:
    store = Store(db_url)
    keyring = Keyring.generate()
    today = utcnow().date()
    due = store_message(store, keyring, country="BA", retention_until=today - timedelta(days=1))
    kept = store_message(store, keyring, country="BA", retention_until=today + timedelta(days=9))
    assert purge_due(store, days=90).purged == [due.id]
    assert purge_due(store, days=90).purged == []  # nothing more to tell either
    inbox = store.read_sync(lambda conn: read_inbox(conn, country="BA", after=0, limit=10))
    assert [(e.type, e.message_id) for e in inbox] == [("message.expired", due.id)]
    assert inbox[0].data == {"message_id": due.id, "cancelled_deliveries": 0}
    others = store.read_sync(lambda conn: conn.execute(select(events.c.message_id)).all())
    assert kept.id not in {m for (m,) in others}
    store.close()
