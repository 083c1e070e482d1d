"""What each channel did lately, for the live Channels page: attempts delivered and failed over
the last minutes, the 95th percentile of attempt time, the last success, the oldest delivery
waiting and the oldest held, and the last hour in five-minute buckets for a sparkline.

Everything is counted from the store (attempts and deliveries), within the caller's countries,
so every replica shows the same figures; nothing here carries personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, func, select

from gateway.security.identity import Identity
from gateway.services.permissions import Action, check, visible_countries
from gateway.store.engine import Store
from gateway.store.states import DeliveryState
from gateway.store.tables import attempts, deliveries, messages, utcnow

RATE_WINDOW = timedelta(minutes=5)  # delivered and failed per minute over this
LATENCY_WINDOW = timedelta(minutes=15)  # the p95 of attempt durations over this
BUCKET = timedelta(minutes=5)
BUCKETS = 12  # the last hour
WAITING = (
    DeliveryState.QUEUED.value,
    DeliveryState.RETRY_WAIT.value,
    DeliveryState.SENDING.value,
    DeliveryState.UNKNOWN.value,
)
DELIVERED = "delivered"


@dataclass
class ChannelActivity:
    """One channel's last hour; ages in seconds, None when there is nothing to measure."""

    channel: str
    delivered_per_min: float = 0.0
    failed_per_min: float = 0.0
    p95_ms: float | None = None
    last_success: datetime | None = None
    oldest_waiting_age_s: float | None = None
    oldest_held_age_s: float | None = None
    # Oldest bucket first: attempts delivered, and attempts that did not deliver.
    delivered_buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    failed_buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)


class ChannelActivityReads:
    """The live figures, for callers who may read the channel overview."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock

    async def last_hour(
        self, identity: Identity, channels: list[str]
    ) -> dict[str, ChannelActivity]:
        """Per channel (every name in ``channels``, and any other with activity)."""
        check(identity, Action.READ_CHANNELS)
        countries = visible_countries(identity)
        now = self._clock()
        return await self._store.read(lambda conn: _activity(conn, channels, countries, now))


def _scope(countries: tuple[str, ...] | None) -> list[ColumnElement[bool]]:
    if countries is None:
        return []
    visible = select(messages.c.id).where(messages.c.sender_country.in_(countries))
    return [deliveries.c.message_id.in_(visible)]


def _activity(
    conn: Connection, channels: list[str], countries: tuple[str, ...] | None, now: datetime
) -> dict[str, ChannelActivity]:
    views = {name: ChannelActivity(name) for name in channels}

    def view(name: str) -> ChannelActivity:
        return views.setdefault(name, ChannelActivity(name))

    scope = _scope(countries)
    _buckets_and_rates(conn, scope, now, view)
    _latency(conn, scope, now, view)
    _ages(conn, scope, now, view)
    return dict(sorted(views.items()))


def _buckets_and_rates(
    conn: Connection,
    scope: list[ColumnElement[bool]],
    now: datetime,
    view: Callable[[str], ChannelActivity],
) -> None:
    start = now - BUCKET * BUCKETS
    rows = conn.execute(
        select(deliveries.c.channel, attempts.c.started_at, attempts.c.outcome)
        .select_from(attempts.join(deliveries, attempts.c.delivery_id == deliveries.c.id))
        .where(attempts.c.started_at >= start, attempts.c.outcome.is_not(None), *scope)
    )
    minutes = RATE_WINDOW.total_seconds() / 60
    for channel, started, outcome in rows:
        index = min(BUCKETS - 1, int((started - start) / BUCKET))
        delivered = outcome == DELIVERED
        target = view(channel)
        (target.delivered_buckets if delivered else target.failed_buckets)[index] += 1
        if started >= now - RATE_WINDOW:
            if delivered:
                target.delivered_per_min += 1 / minutes
            else:
                target.failed_per_min += 1 / minutes


def _latency(
    conn: Connection,
    scope: list[ColumnElement[bool]],
    now: datetime,
    view: Callable[[str], ChannelActivity],
) -> None:
    """The 95th percentile (nearest rank) of the window's attempt durations, per channel; the
    database sorts, so only one value per channel comes back."""
    timed = (
        attempts.join(deliveries, attempts.c.delivery_id == deliveries.c.id),
        [
            attempts.c.started_at >= now - LATENCY_WINDOW,
            attempts.c.duration_ms.is_not(None),
            *scope,
        ],
    )
    counts = conn.execute(
        select(deliveries.c.channel, func.count())
        .select_from(timed[0])
        .where(*timed[1])
        .group_by(deliveries.c.channel)
    ).all()
    for channel, count in counts:
        rank = max(0, -(-95 * int(count) // 100) - 1)  # ceil(0.95 n) - 1
        value = conn.execute(
            select(attempts.c.duration_ms)
            .select_from(timed[0])
            .where(*timed[1], deliveries.c.channel == channel)
            .order_by(attempts.c.duration_ms)
            .offset(rank)
            .limit(1)
        ).scalar()
        view(channel).p95_ms = None if value is None else float(value)


def _ages(
    conn: Connection,
    scope: list[ColumnElement[bool]],
    now: datetime,
    view: Callable[[str], ChannelActivity],
) -> None:
    """Last success, oldest waiting (since accepted) and oldest held (since held)."""
    queries = (
        ("last_success", func.max(deliveries.c.delivered_at), [DeliveryState.DELIVERED.value]),
        ("waiting", func.min(deliveries.c.created_at), list(WAITING)),
        ("held", func.min(deliveries.c.updated_at), [DeliveryState.HELD.value]),
    )
    for what, column, states in queries:
        rows = conn.execute(
            select(deliveries.c.channel, column)
            .where(deliveries.c.state.in_(states), *scope)
            .group_by(deliveries.c.channel)
        )
        for channel, stamp in rows:
            if stamp is None:
                continue
            target = view(channel)
            if what == "last_success":
                target.last_success = stamp
            elif what == "waiting":
                target.oldest_waiting_age_s = max(0.0, (now - stamp).total_seconds())
            else:
                target.oldest_held_age_s = max(0.0, (now - stamp).total_seconds())
