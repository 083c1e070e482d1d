"""Metrics computed from the store at scrape time, so every API and worker process agrees.

Counts by channel and state, queue depth and the age of the oldest due delivery, breaker state,
dead letters, accepted messages and attempt-duration histograms all come from the tables, and
so do the flow metrics of ``flow_metrics`` (attempts by outcome, held and notification ages,
breaker transitions); no worker has to be scraped and a restart loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Connection, case, func, select

from gateway.store.engine import Store
from gateway.store.states import DeliveryState
from gateway.store.tables import attempts, channel_states, deliveries, messages, utcnow
from gateway.telemetry.flow_metrics import collect_flow

# Seconds; attempt durations are stored in milliseconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAITING = (
    DeliveryState.QUEUED.value,
    DeliveryState.RETRY_WAIT.value,
    DeliveryState.SENDING.value,
    DeliveryState.UNKNOWN.value,
)
DUE = (DeliveryState.QUEUED.value, DeliveryState.RETRY_WAIT.value, DeliveryState.UNKNOWN.value)
BREAKER_STATES = ("closed", "open", "half_open")


def _accepted(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def _by_channel_state(conn: Connection) -> list[tuple[str, str, int]]:
    rows = conn.execute(
        select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
            deliveries.c.channel, deliveries.c.state
        )
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def _oldest_due(conn: Connection, now: datetime) -> dict[str, datetime]:
    rows = conn.execute(
        select(deliveries.c.channel, func.min(deliveries.c.next_attempt_at))
        .where(deliveries.c.state.in_(DUE), deliveries.c.next_attempt_at <= now)
        .group_by(deliveries.c.channel)
    ).all()
    oldest: dict[str, datetime] = {}
    for channel, at in rows:
        if at is None:
            continue
        # min() over the custom type comes back as the raw value on SQLite.
        stamp = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        oldest[channel] = stamp if stamp.tzinfo else stamp.replace(tzinfo=now.tzinfo)
    return oldest


def _durations(conn: Connection) -> list[tuple[str, list[int], int, float]]:
    """Per channel: cumulative bucket counts, total count and sum (seconds).

    Each attempt is put in its bucket once (one CASE per row) and counted per (channel,
    bucket); the cumulative counts are summed up here.
    """
    duration = attempts.c.duration_ms
    bucket = case(
        *((duration <= bound * 1000, index) for index, bound in enumerate(DURATION_BUCKETS)),
        else_=len(DURATION_BUCKETS),
    ).label("bucket")
    rows = conn.execute(
        select(deliveries.c.channel, bucket, func.count(), func.sum(duration))
        .select_from(attempts.join(deliveries, attempts.c.delivery_id == deliveries.c.id))
        .where(duration.is_not(None))
        .group_by(deliveries.c.channel, bucket)
    ).all()
    per_channel: dict[str, tuple[list[int], list[float]]] = {}
    for channel, index, count, total in rows:
        counts, sums = per_channel.setdefault(channel, ([0] * (len(DURATION_BUCKETS) + 1), [0.0]))
        counts[int(index)] += int(count)
        sums[0] += float(total or 0.0)
    result = []
    for channel, (counts, sums) in sorted(per_channel.items()):
        cumulative, running = [], 0
        for n in counts[: len(DURATION_BUCKETS)]:
            running += n
            cumulative.append(running)
        result.append((channel, cumulative, sum(counts), sums[0] / 1000.0))
    return result


def _breakers(conn: Connection) -> list[tuple[str, str, bool]]:
    rows = conn.execute(
        select(channel_states.c.channel, channel_states.c.breaker_state, channel_states.c.paused)
    ).all()
    return [(r[0], r[1], bool(r[2])) for r in rows]


def collect_from_store(conn: Connection, channels: Iterable[str]) -> list[Metric]:
    """Every store-derived metric family, for the known channels plus any seen in the store."""
    now = utcnow()
    counts = _by_channel_state(conn)
    known = sorted(set(channels) | {c for c, _, _ in counts})
    accepted = CounterMetricFamily("marri_messages_accepted", "Messages accepted (stored)")
    accepted.add_metric([], _accepted(conn))

    by_state = GaugeMetricFamily(
        "marri_deliveries", "Deliveries by channel and state", labels=["channel", "state"]
    )
    depth = GaugeMetricFamily(
        "marri_queue_depth",
        "Deliveries waiting to be sent (queued, retry_wait, sending, unknown)",
        labels=["channel"],
    )
    dead = GaugeMetricFamily(
        "marri_dead_letters", "Deliveries in the dead-letter state (failed)", labels=["channel"]
    )
    table = {(c, s): n for c, s, n in counts}
    for channel in known:
        for state in DeliveryState:
            by_state.add_metric([channel, state.value], table.get((channel, state.value), 0))
        depth.add_metric([channel], sum(table.get((channel, s), 0) for s in WAITING))
        dead.add_metric([channel], table.get((channel, DeliveryState.FAILED.value), 0))

    oldest = GaugeMetricFamily(
        "marri_oldest_due_age_seconds",
        "Age of the oldest delivery that is due and not yet sent (0 when none)",
        labels=["channel"],
    )
    due = _oldest_due(conn, now)
    for channel in known:
        at = due.get(channel)
        oldest.add_metric([channel], max(0.0, (now - at).total_seconds()) if at else 0.0)

    breaker = GaugeMetricFamily(
        "marri_breaker_state",
        "Circuit breaker state per channel (1 for the current state)",
        labels=["channel", "state"],
    )
    paused = GaugeMetricFamily(
        "marri_channel_paused", "1 when an operator paused the channel", labels=["channel"]
    )
    breakers = {c: (s, p) for c, s, p in _breakers(conn)}
    for channel in known:
        current, is_paused = breakers.get(channel, ("closed", False))
        for name in BREAKER_STATES:
            breaker.add_metric([channel, name], 1.0 if current == name else 0.0)
        paused.add_metric([channel], 1.0 if is_paused else 0.0)

    duration = HistogramMetricFamily(
        "marri_attempt_duration_seconds",
        "Duration of delivery attempts per channel",
        labels=["channel"],
    )
    for channel, cumulative, count, total in _durations(conn):
        buckets = [(f"{b:g}", float(n)) for b, n in zip(DURATION_BUCKETS, cumulative, strict=True)]
        buckets.append(("+Inf", float(count)))
        duration.add_metric([channel], buckets, total)
    flow = collect_flow(conn, known, now)
    return [accepted, by_state, depth, dead, oldest, breaker, paused, duration, *flow]


class StoreCollector(Collector):
    """A prometheus_client collector that reads the store on each scrape."""

    def __init__(self, store: Store, channels: Iterable[str]) -> None:
        self.store = store
        self.channels = tuple(channels)

    def collect(self) -> Iterator[Metric]:
        """Read the gauges from the store at scrape time, so every process reports the same
        figures.
        """
        yield from self.store.read_sync(lambda conn: collect_from_store(conn, self.channels))
