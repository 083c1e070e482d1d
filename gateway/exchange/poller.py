"""Polling the channels that must be asked for their answers, with a cursor in the database.

One task per poll channel (an adapter with ``poll`` and a configured channel) runs where the
delivery worker runs. Each round reads the channel's cursor, fetches what came after it,
stores every answer (idempotently, so a repeat after a crash changes nothing) and only then
moves the cursor on: a crash between the two re-reads answers, never skips them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from sqlalchemy import Connection, select, update

from adapters.errors import DeliveryError
from adapters.inbound import InboundError, InboundPoller, PollContext, inbound_mode
from gateway.errors import GatewayError
from gateway.exchange.receive import InboundService, polled_bytes
from gateway.store.tables import inbound_cursors, utcnow
from gateway.telemetry import log_event

__all__ = ["PollOutcome", "poll_channels", "poll_once", "running_pollers"]

log = logging.getLogger("gateway.exchange")


@dataclass(frozen=True)
class PollOutcome:
    """One round: answers stored new, repeats, conflicting repeats, the error class if any."""

    stored: int
    repeats: int
    conflicts: int
    error_class: str | None = None


def poll_channels(service: InboundService) -> list[str]:
    """Channels whose adapter polls and that have settings to poll with."""
    return [
        name
        for name in service.registry.names()
        if inbound_mode(service.registry.get(name)) == "poll"
        and service.settings.channel(name) is not None
    ]


def _cursor(conn: Connection, channel: str) -> str | None:
    found: str | None = conn.execute(
        select(inbound_cursors.c.cursor).where(inbound_cursors.c.channel == channel)
    ).scalar()
    return found


def _save(conn: Connection, channel: str, cursor: str | None, error_class: str | None) -> None:
    now = utcnow()
    values: dict[str, Any] = {"polled_at": now, "last_error_class": error_class, "updated_at": now}
    if cursor is not None:
        values["cursor"] = cursor
    moved = conn.execute(
        update(inbound_cursors).where(inbound_cursors.c.channel == channel).values(**values)
    ).rowcount
    if not moved:
        conn.execute(inbound_cursors.insert().values(channel=channel, **values))


async def poll_once(service: InboundService, channel: str) -> PollOutcome:
    """Fetch and store one batch of ``channel``'s answers, then move its cursor."""
    settings = service.settings.channel(channel)
    if settings is None:
        raise ValueError(f"channel {channel!r} has no settings")
    adapter: InboundPoller = service.registry.get(channel)
    cursor = await service.store.read(lambda conn: _cursor(conn, channel))
    headers = (
        {"Authorization": f"Bearer {settings.inbound_token.get_secret_value()}"}
        if settings.inbound_token is not None
        else {}
    )
    context = PollContext(
        url=settings.poll_url or urljoin(settings.url.rstrip("/") + "/", adapter.poll_path),
        cursor=cursor,
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        max_bytes=settings.inbound_max_bytes,
        headers=headers,
    )
    try:
        batch = await adapter.poll(context)
    except (DeliveryError, InboundError) as exc:
        error_class = type(exc).__name__
        await service.store.write(lambda conn: _save(conn, channel, None, error_class))
        log_event(log, logging.WARNING, "inbound.poll_failed",
                  **{"marri.channel": channel, "error.type": error_class})  # fmt: skip
        return PollOutcome(0, 0, 0, error_class)
    stored = repeats = conflicts = 0
    for answer in batch.messages:
        try:
            result = await service.store_answer(
                channel, answer, raw=polled_bytes(answer), via="poll"
            )
        except GatewayError:
            conflicts += 1  # kept as first stored; the channel sent other content under its id
            continue
        stored, repeats = (stored + 1, repeats) if result.new else (stored, repeats + 1)
    await service.store.write(lambda conn: _save(conn, channel, batch.cursor, None))
    return PollOutcome(stored, repeats, conflicts)


async def _poll_forever(service: InboundService, channel: str, stop: asyncio.Event) -> None:
    settings = service.settings.channel(channel)
    interval = settings.poll_interval_s if settings is not None else 30.0
    while not stop.is_set():
        try:
            await poll_once(service, channel)
        except Exception as exc:  # a bug must not end polling; the class is logged, not data
            log_event(log, logging.ERROR, "inbound.poll_crashed",
                      **{"marri.channel": channel, "error.type": type(exc).__name__})  # fmt: skip
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


@asynccontextmanager
async def running_pollers(service: InboundService) -> AsyncIterator[list[str]]:
    """Poll every poll channel in the background for the block's duration."""
    stop = asyncio.Event()
    channels = poll_channels(service)
    tasks = [
        asyncio.create_task(_poll_forever(service, name, stop), name=f"poller-{name}")
        for name in channels
    ]
    try:
        yield channels
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
