"""Webhook notifications over real HTTP, on SQLite and PostgreSQL: signed events a
standardwebhooks receiver accepts, tampered and replayed ones it refuses, retries and dead
letters, and alerts' events claimed first."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from sqlalchemy import select
from standardwebhooks import Webhook

from gateway.delivery.webhooks import (
    BATCH,
    WebhookNotifier,
    claim_notifications,
    signed_headers,
)
from gateway.events.outbox import EVENT_TYPES, EventType, record_event
from gateway.events.subscriptions import new_secret
from gateway.store.crypto import load_or_create_keyring
from gateway.store.engine import Store
from gateway.store.tables import channel_states, notification_attempts, notifications, utcnow
from tests.events._support import LOOPBACK_ALLOWED, running_receiver, subscribe


def _event(
    store: Store,
    type: EventType = EventType.DELIVERY_DELIVERED,
    rank: int = 3,
    agency: str = "Test agency",
) -> str:
    message_id = str(uuid.uuid4())
    return store.write_sync(
        lambda conn: record_event(
            conn,
            type=type,
            country="AL",
            agency=agency,
            message_id=message_id,
            rank=rank,
            data={"message_id": message_id, "state": "delivered"},
            now=utcnow(),
        )
    )


def _notifier(store: Store, keyring: object) -> WebhookNotifier:
    # The receivers here run on loopback, which a deployment must allow by name.
    return WebhookNotifier(
        store=store,
        keyring=keyring,  # type: ignore[arg-type]
        worker_id="w-test",
        lease_s=30,
        poll_interval_s=0.05,
        egress=LOOPBACK_ALLOWED,
    )


@pytest.fixture
def store(db_url: str) -> Store:
    return Store(db_url)


async def test_every_event_is_accepted_by_a_verifying_receiver(
    store: Store, tmp_path: Path
) -> None:
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    secret = new_secret()
    with running_receiver(secret) as (url, receiver, received):
        subscribe(store, keyring, url, secret, types=EVENT_TYPES)
        other = "Other agency"
        subscribe(store, keyring, url, secret, agency=other, types=("delivery.delivered",))
        sent = [_event(store)] + [_event(store, type) for type in EventType]
        _event(store, EventType.DELIVERY_FAILED, agency=other)  # not subscribed: never sent
        notifier = _notifier(store, keyring)
        async with notifier.client() as http:
            assert await notifier.run_once(http) == 8
    assert receiver.accepted == 8
    assert receiver.rejected == 0
    assert sorted(e["id"] for e in received.events) == sorted(sent)
    assert {e["type"] for e in received.events} == set(EVENT_TYPES)
    for event in received.events:
        assert event["specversion"] == "1.0"
        assert event["source"] == "urn:marri:gateway"
    states = store.read_sync(lambda conn: conn.execute(select(notifications.c.state)).all())
    assert {s for (s,) in states} == {"delivered"}


def test_body_is_a_cloudevent_and_the_signature_covers_it(store: Store, tmp_path: Path) -> None:
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    secret = new_secret()
    subscribe(store, keyring, "http://127.0.0.1:9/unused", secret)
    event_id = _event(store)
    [item] = store.write_sync(
        lambda conn: claim_notifications(conn, keyring, worker_id="w", now=utcnow(), lease_s=30)
    )
    now = utcnow()
    headers = signed_headers(item, now)
    parsed = from_http_event(HTTPMessage(headers=headers, body=item.body))
    assert (parsed.get_id(), parsed.get_type()) == (event_id, "delivery.delivered")
    assert Webhook(secret).verify(item.body, headers)["id"] == event_id
    assert headers["webhook-id"] == item.id

    with running_receiver(secret) as (url, receiver, _received):
        tampered = item.body.replace(b"delivered", b"failed")
        old = utcnow() - timedelta(minutes=10)
        replayed = signed_headers(item, old)  # a correct signature, recorded long ago
        wrong_key = signed_headers(
            type(item)(**{**item.__dict__, "target": type(item.target)(url, new_secret())}), now
        )
        answers = [
            httpx.post(url, content=tampered, headers=headers).status_code,
            httpx.post(url, content=item.body, headers=replayed).status_code,
            httpx.post(url, content=item.body, headers=wrong_key).status_code,
        ]
        assert answers == [400, 400, 400]
        assert (receiver.rejected, receiver.accepted) == (3, 0)
        ok = httpx.post(url, content=item.body, headers=headers)
        again = httpx.post(url, content=item.body, headers=signed_headers(item, utcnow()))
        assert (ok.status_code, again.status_code) == (204, 204)
        assert (receiver.accepted, receiver.repeats) == (1, 1)


async def test_failing_receiver_is_retried_then_dead_lettered(store: Store, tmp_path: Path) -> None:
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    secret = new_secret()
    with running_receiver(new_secret()) as (url, _receiver, _received):
        # Signed with another secret than the receiver's: 400, which is permanent.
        subscribe(store, keyring, url, secret)
        _event(store)
        notifier = _notifier(store, keyring)
        async with notifier.client() as http:
            await notifier.run_once(http)
    [row] = store.read_sync(lambda conn: conn.execute(select(notifications)).all())
    assert (row.state, row.last_http_status, row.attempts) == ("failed", 400, 1)

    # Nobody listening: transient, retried later, and the receiver's breaker counts it.
    subscribe(store, keyring, "http://127.0.0.1:9/closed", secret, agency="Other agency")
    _event(store, agency="Other agency")
    async with notifier.client() as http:
        await notifier.run_once(http)
    rows = store.read_sync(
        lambda conn: conn.execute(
            select(notifications).where(notifications.c.state != "failed")
        ).all()
    )
    retrying = [r for r in rows if r.state == "retry_wait"]
    assert len(retrying) == 1
    assert retrying[0].next_attempt_at > utcnow()
    gates = store.read_sync(lambda conn: conn.execute(select(channel_states)).all())
    assert [g.consecutive_failures for g in gates if g.channel.startswith("webhook:")] == [1]
    tries = store.read_sync(lambda conn: conn.execute(select(notification_attempts)).all())
    assert sorted(t.outcome for t in tries) == ["permanent", "transient"]


async def test_alert_events_are_claimed_before_a_backlog(store: Store, tmp_path: Path) -> None:
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    subscribe(store, keyring, "http://127.0.0.1:9/unused")
    routine = [_event(store, rank=3) for _ in range(BATCH + 4)]
    alert = _event(store, rank=0)
    claimed = store.write_sync(
        lambda conn: claim_notifications(conn, keyring, worker_id="w", now=utcnow(), lease_s=30)
    )
    ids = [json.loads(c.body)["id"] for c in claimed]
    assert ids[0] == alert
    assert ids[1:] == routine[: BATCH - 1]  # then oldest first


async def test_trace_shows_the_notification_attempts(store: Store, tmp_path: Path) -> None:
    from gateway.events.outbox import record_delivery_events
    from gateway.telemetry.timeline import message_trace
    from tests.delivery._support import add_delivery

    keyring = load_or_create_keyring(tmp_path / "keys.json")
    secret = new_secret()
    delivery_id = add_delivery(store, keyring, channel="interpol")
    with running_receiver(secret) as (url, _receiver, _received):
        subscribe(store, keyring, url, secret)
        subscribe(store, keyring, "http://127.0.0.1:9/closed", secret)
        store.write_sync(
            lambda conn: record_delivery_events(
                conn, EventType.DELIVERY_DELIVERED, [delivery_id], now=utcnow()
            )
        )
        notifier = _notifier(store, keyring)
        async with notifier.client() as http:
            assert await notifier.run_once(http) == 2
    message_id = store.read_sync(
        lambda conn: conn.execute(select(notifications.c.message_id).limit(1)).scalar_one()
    )
    view = store.read_sync(lambda conn: message_trace(conn, message_id))
    assert view is not None
    by_receiver = {n["receiver"]: n for n in view["notifications"]}
    assert by_receiver[url.split("/")[2]]["state"] == "delivered"
    closed = by_receiver["127.0.0.1:9"]
    assert (closed["state"], closed["attempts"][0]["outcome"]) == ("retry_wait", "transient")
    assert all(n["event_type"] == "delivery.delivered" for n in view["notifications"])
    lines = [e["summary"] for e in view["events"] if e["type"] == "notification"]
    assert sorted(lines)[0].startswith("delivery.delivered to 127.0.0.1:")
    assert len(lines) == 2
