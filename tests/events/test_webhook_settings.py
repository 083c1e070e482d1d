"""The webhook retry schedule and breaker come from the deployment's settings, through the
worker that runs the notifier, on SQLite and PostgreSQL: with one attempt allowed and a
breaker that opens at the first failure, a receiver that is down dead-letters at once and its
breaker stays open for the configured time (the defaults would retry and keep it closed)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from gateway.context import build_context
from gateway.delivery.runner import running_worker
from gateway.delivery.webhooks import breaker_key
from gateway.events.outbox import EventType, record_event
from gateway.store.tables import channel_states, notifications, utcnow
from tests.api.gateway_process import free_port
from tests.conftest import make_settings
from tests.events._support import LOOPBACK_SETTINGS, subscribe


async def test_schedule_and_breaker_are_the_configured_ones(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        db_url,
        tmp_path,
        worker_poll_interval_s=0.05,
        webhook_retry={"max_attempts": 1},
        webhook_breaker={"failure_threshold": 1, "open_s": 600},
        **LOOPBACK_SETTINGS,
    )
    assert settings.webhook_retry.max_attempts == 1
    context = build_context(settings)
    store = context.store
    try:
        # Nobody listens on this port: a transient failure each time.
        subscription = subscribe(store, context.keyring, f"http://127.0.0.1:{free_port()}/hook")
        message_id = str(uuid.uuid4())
        store.write_sync(
            lambda conn: record_event(
                conn,
                type=EventType.DELIVERY_DELIVERED,
                country="AL",
                agency="Test agency",
                message_id=message_id,
                rank=3,
                data={"message_id": message_id},
                now=utcnow(),
            )
        )
        started = utcnow()
        async with running_worker(
            store=store, keyring=context.keyring, registry=context.registry, settings=settings
        ):
            deadline = time.monotonic() + 30
            while True:
                [row] = store.read_sync(lambda conn: conn.execute(select(notifications)).all())
                if row.state == "failed":
                    break
                assert time.monotonic() < deadline, row
                await asyncio.sleep(0.05)
        assert (row.attempts, row.last_error) == (1, "TransientError")
        [gate] = store.read_sync(
            lambda conn: conn.execute(
                select(channel_states).where(channel_states.c.channel == breaker_key(subscription))
            ).all()
        )
        assert gate.breaker_state == "open"
        assert gate.open_until >= started + timedelta(seconds=590)
    finally:
        context.close()
