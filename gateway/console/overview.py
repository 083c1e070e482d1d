"""The console's per-channel overview, limited to the countries the operator may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from gateway.store.states import DeliveryState
from gateway.store.tables import channel_states, deliveries, messages, utcnow

COLUMNS = ("queued", "retry_wait", "sending", "unknown", "failed", "blocked", "held", "delivered")
DUE = (DeliveryState.QUEUED.value, DeliveryState.RETRY_WAIT.value, DeliveryState.UNKNOWN.value)


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    counts: dict[str, int]
    breaker: str
    paused: bool
    oldest_due_s: float | None

    @property
    def attention(self) -> bool:
        """Something here wants a person: dead letters, held deliveries or an open breaker."""
        return bool(self.counts["failed"] or self.counts["held"] or self.breaker != "closed")


def _as_aware(value: object, now: datetime) -> datetime | None:
    if value is None:
        return None
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=now.tzinfo)


def channel_overview(
    conn: Connection, channels: list[str], visible: tuple[str, ...] | None
) -> list[ChannelRow]:
    now = utcnow()
    scope = [] if visible is None else [messages.c.sender_country.in_(visible)]
    joined = deliveries.join(messages, deliveries.c.message_id == messages.c.id)
    counts: dict[tuple[str, str], int] = {}
    for channel, state, n in conn.execute(
        select(deliveries.c.channel, deliveries.c.state, func.count())
        .select_from(joined)
        .where(*scope)
        .group_by(deliveries.c.channel, deliveries.c.state)
    ):
        counts[(channel, state)] = int(n)
    oldest: dict[str, datetime | None] = {}
    for channel, at in conn.execute(
        select(deliveries.c.channel, func.min(deliveries.c.next_attempt_at))
        .select_from(joined)
        .where(*scope, deliveries.c.state.in_(DUE), deliveries.c.next_attempt_at <= now)
        .group_by(deliveries.c.channel)
    ):
        oldest[channel] = _as_aware(at, now)
    breakers = {
        r.channel: (r.breaker_state, bool(r.paused)) for r in conn.execute(select(channel_states))
    }
    names = sorted(set(channels) | {c for c, _ in counts})
    rows = []
    for name in names:
        breaker, paused = breakers.get(name, ("closed", False))
        at = oldest.get(name)
        rows.append(
            ChannelRow(
                channel=name,
                counts={c: counts.get((name, c), 0) for c in COLUMNS},
                breaker=breaker,
                paused=paused,
                oldest_due_s=(now - at).total_seconds() if at else None,
            )
        )
    return rows
