"""Metrics an alert can use, read from the store at scrape time like the gauges beside them.

Attempts by channel and outcome (so 503s that later recovered stay visible), the age of the
oldest held delivery (a review nobody is doing), the lag of event notifications to national
systems and of answers no message claims, and how often each channel's breaker changed state.
Counters are counts of stored rows, so they never go backwards and survive restarts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection, func, select

from gateway.store.states import DeliveryState
from gateway.store.tables import (
    attempts,
    channel_states,
    deliveries,
    inbound_messages,
    notifications,
    subscriptions,
)

ATTEMPT_OUTCOMES = ("delivered", "transient", "permanent", "unknown")
PENDING_NOTIFICATION = (
    DeliveryState.QUEUED.value,
    DeliveryState.RETRY_WAIT.value,
    DeliveryState.SENDING.value,
    DeliveryState.UNKNOWN.value,
)
TRANSITIONS: tuple[tuple[str, str], ...] = (
    ("open", "breaker_opened"),
    ("half_open", "breaker_half_opened"),
    ("closed", "breaker_closed"),
)


def _age(now: datetime, at: object) -> float:
    """Seconds since ``at`` (a min() over the custom type comes back raw on SQLite)."""
    if at is None:
        return 0.0
    stamp = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - stamp).total_seconds())


def _attempts(conn: Connection, known: list[str]) -> Metric:
    family = CounterMetricFamily(
        "marri_attempts",
        "Delivery attempts by channel and outcome (delivered, transient, permanent, unknown)",
        labels=["channel", "outcome"],
    )
    rows = conn.execute(
        select(deliveries.c.channel, attempts.c.outcome, func.count())
        .select_from(attempts.join(deliveries, attempts.c.delivery_id == deliveries.c.id))
        .where(attempts.c.outcome.is_not(None))
        .group_by(deliveries.c.channel, attempts.c.outcome)
    ).all()
    table = {(r[0], r[1]): int(r[2]) for r in rows}
    for channel in sorted(set(known) | {c for c, _ in table}):
        for outcome in ATTEMPT_OUTCOMES:
            family.add_metric([channel, outcome], table.get((channel, outcome), 0))
    return family


def _held(conn: Connection, known: list[str], now: datetime) -> Metric:
    family = GaugeMetricFamily(
        "marri_held_oldest_age_seconds",
        "Age of the oldest delivery held for review, since it was held (0 when none)",
        labels=["channel"],
    )
    rows = conn.execute(
        select(deliveries.c.channel, func.min(deliveries.c.updated_at))
        .where(deliveries.c.state == DeliveryState.HELD.value)
        .group_by(deliveries.c.channel)
    ).all()
    oldest = {r[0]: _age(now, r[1]) for r in rows}
    for channel in sorted(set(known) | set(oldest)):
        family.add_metric([channel], oldest.get(channel, 0.0))
    return family


def _notification_lag(conn: Connection, now: datetime) -> Metric:
    family = GaugeMetricFamily(
        "marri_notification_oldest_pending_age_seconds",
        "Age of the oldest event notification not yet delivered, per subscriber country",
        labels=["country"],
    )
    rows = conn.execute(
        select(subscriptions.c.country, func.min(notifications.c.created_at))
        .select_from(
            notifications.join(subscriptions, notifications.c.subscription_id == subscriptions.c.id)
        )
        .where(notifications.c.state.in_(PENDING_NOTIFICATION))
        .group_by(subscriptions.c.country)
    ).all()
    lag = {r[0]: _age(now, r[1]) for r in rows}
    countries = conn.execute(
        select(subscriptions.c.country).where(subscriptions.c.deleted_at.is_(None)).distinct()
    ).scalars()
    for country in sorted(set(countries) | set(lag)):
        family.add_metric([country], lag.get(country, 0.0))
    return family


def _unmatched(conn: Connection, known: list[str], now: datetime) -> list[Metric]:
    count = GaugeMetricFamily(
        "marri_inbound_unmatched",
        "Answers from a channel that no stored message claims",
        labels=["channel"],
    )
    age = GaugeMetricFamily(
        "marri_inbound_unmatched_oldest_age_seconds",
        "Age of the oldest unmatched answer (0 when none)",
        labels=["channel"],
    )
    rows = conn.execute(
        select(inbound_messages.c.channel, func.count(), func.min(inbound_messages.c.received_at))
        .where(inbound_messages.c.status == "unmatched")
        .group_by(inbound_messages.c.channel)
    ).all()
    found = {r[0]: (int(r[1]), _age(now, r[2])) for r in rows}
    for channel in sorted(set(known) | set(found)):
        n, oldest = found.get(channel, (0, 0.0))
        count.add_metric([channel], n)
        age.add_metric([channel], oldest)
    return [count, age]


def _transitions(conn: Connection, known: list[str]) -> Metric:
    family = CounterMetricFamily(
        "marri_breaker_transitions",
        "Circuit breaker transitions per channel, by the state moved to",
        labels=["channel", "to"],
    )
    columns = [getattr(channel_states.c, column) for _, column in TRANSITIONS]
    rows = conn.execute(select(channel_states.c.channel, *columns)).all()
    table = {r[0]: [int(v or 0) for v in r[1:]] for r in rows}
    for channel in sorted(set(known) | set(table)):
        counts = table.get(channel, [0] * len(TRANSITIONS))
        for (to, _), n in zip(TRANSITIONS, counts, strict=True):
            family.add_metric([channel, to], n)
    return family


def collect_flow(conn: Connection, channels: Iterable[str], now: datetime) -> list[Metric]:
    """The flow metrics for the known channels plus any the store has seen."""
    known = sorted(set(channels))
    return [
        _attempts(conn, known),
        _held(conn, known, now),
        _notification_lag(conn, now),
        *_unmatched(conn, known, now),
        _transitions(conn, known),
    ]
