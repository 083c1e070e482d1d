"""Per-channel circuit breaker kept in the store (``channel_states``), so it survives restarts
and is shared by every worker process.

    closed ──(failure_threshold consecutive transient failures)──▶ open until open_until
    open ──(open_until passed; one worker takes the probe)──▶ half_open
    half_open ──probe delivered──▶ closed        half_open ──probe failed──▶ open again

While a channel is open its deliveries are not claimed, so they wait without spending
attempts. In half-open, ``open_until`` is the probe's lease: if the probing worker dies, the
probe may be taken again once it passes. Permanent errors say nothing about the destination's
health and leave the breaker alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.config import BreakerPolicy
from gateway.store.tables import channel_states


class BreakerState(StrEnum):
    """The circuit breaker of a channel: closed sends, open waits, half-open lets one probe
    through.
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class ChannelGate:
    """A channel's stored switches: operator pause and breaker."""

    channel: str
    paused: bool = False
    breaker: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    open_until: datetime | None = None

    def mode(self, now: datetime) -> str:
        """``closed`` (claim freely), ``probe`` (claim one), or ``blocked`` (claim nothing)."""
        if self.paused:
            return "blocked"
        if self.breaker is BreakerState.CLOSED:
            return "closed"
        if self.open_until is None or self.open_until <= now:
            return "probe"
        return "blocked"


def after_success(gate: ChannelGate) -> ChannelGate:
    """A delivered attempt closes the breaker and clears the failure count."""
    return replace(gate, breaker=BreakerState.CLOSED, consecutive_failures=0, open_until=None)


def after_failure(gate: ChannelGate, policy: BreakerPolicy, now: datetime) -> ChannelGate:
    """A transient (or unknown) result: count it; open at the threshold or when a probe fails."""
    failures = gate.consecutive_failures + 1
    reopen = now + timedelta(seconds=policy.open_s)
    if gate.breaker is BreakerState.HALF_OPEN:
        return replace(
            gate, breaker=BreakerState.OPEN, consecutive_failures=failures, open_until=reopen
        )
    if gate.breaker is BreakerState.CLOSED and failures >= policy.failure_threshold:
        return replace(
            gate, breaker=BreakerState.OPEN, consecutive_failures=failures, open_until=reopen
        )
    return replace(gate, consecutive_failures=failures)


def _insert_missing(conn: Connection, channel: str, now: datetime) -> None:
    values = {
        "channel": channel,
        "paused": False,
        "breaker_state": BreakerState.CLOSED.value,
        "consecutive_failures": 0,
        "updated_at": now,
    }
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(channel_states).values(values).on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(channel_states).values(values).on_conflict_do_nothing())


def _gate_of(row: object) -> ChannelGate:
    return ChannelGate(
        channel=row.channel,  # type: ignore[attr-defined]
        paused=bool(row.paused),  # type: ignore[attr-defined]
        breaker=BreakerState(row.breaker_state),  # type: ignore[attr-defined]
        consecutive_failures=row.consecutive_failures,  # type: ignore[attr-defined]
        open_until=row.open_until,  # type: ignore[attr-defined]
    )


def load_gates(conn: Connection) -> dict[str, ChannelGate]:
    """Every channel's stored gate; channels without a row are closed and running."""
    return {row.channel: _gate_of(row) for row in conn.execute(select(channel_states))}


def load_gate(conn: Connection, channel: str, now: datetime, *, lock: bool = False) -> ChannelGate:
    """One channel's gate, creating its row on first use (locked for update when asked)."""
    _insert_missing(conn, channel, now)
    query = select(channel_states).where(channel_states.c.channel == channel)
    if lock:
        query = query.with_for_update()
    return _gate_of(conn.execute(query).one())


_TRANSITION_COUNTERS = {
    BreakerState.OPEN: channel_states.c.breaker_opened,
    BreakerState.HALF_OPEN: channel_states.c.breaker_half_opened,
    BreakerState.CLOSED: channel_states.c.breaker_closed,
}


def counted_transition(new: BreakerState) -> dict[str, Any]:
    """The counter update of an UPDATE that sets the breaker to ``new``: one more when the
    row's state (before the update) was another one."""
    counter = _TRANSITION_COUNTERS[new]
    changed = channel_states.c.breaker_state != new.value
    return {counter.name: counter + case((changed, 1), else_=0)}


def save_gate(conn: Connection, gate: ChannelGate, now: datetime, *, counted: bool = True) -> None:
    """Write the gate in the caller's transaction, so it changes with the attempt it records;
    a breaker transition is counted unless the write only puts back what was there before."""
    conn.execute(
        update(channel_states)
        .where(channel_states.c.channel == gate.channel)
        .values(
            paused=gate.paused,
            breaker_state=gate.breaker.value,
            consecutive_failures=gate.consecutive_failures,
            open_until=gate.open_until,
            updated_at=now,
            **(counted_transition(gate.breaker) if counted else {}),
        )
    )


def take_probe(conn: Connection, channel: str, now: datetime, probe_until: datetime) -> bool:
    """Atomically move an open channel whose wait is over to half-open; False if another
    worker got there first (the conditional UPDATE re-checks under the row lock)."""
    result = conn.execute(
        update(channel_states)
        .where(
            channel_states.c.channel == channel,
            channel_states.c.breaker_state.in_(
                [BreakerState.OPEN.value, BreakerState.HALF_OPEN.value]
            ),
            channel_states.c.paused.is_(False),
            (channel_states.c.open_until.is_(None)) | (channel_states.c.open_until <= now),
        )
        .values(
            breaker_state=BreakerState.HALF_OPEN.value,
            open_until=probe_until,
            updated_at=now,
            **counted_transition(BreakerState.HALF_OPEN),
        )
    )
    return result.rowcount == 1


def give_back_probe(conn: Connection, gate: ChannelGate, now: datetime) -> None:
    """Put the breaker back as ``gate`` had it when a probe was taken but nothing was due to
    probe with; the half-open it counted did not happen."""
    save_gate(conn, gate, now, counted=False)
    if gate.breaker is not BreakerState.HALF_OPEN:
        counter = channel_states.c.breaker_half_opened
        conn.execute(
            update(channel_states)
            .where(channel_states.c.channel == gate.channel, counter > 0)
            .values({counter.name: counter - 1})
        )


def record_channel_result(
    conn: Connection,
    channel: str,
    *,
    success: bool,
    policy: BreakerPolicy,
    now: datetime,
) -> ChannelGate:
    """Apply one attempt's result to the channel's breaker inside the caller's transaction.

    A success on a healthy channel (the hot path) touches no row: the conditional UPDATE
    matches nothing, so concurrent workers do not queue on the channel's row lock.
    """
    if success:
        conn.execute(
            update(channel_states)
            .where(
                channel_states.c.channel == channel,
                (channel_states.c.breaker_state != BreakerState.CLOSED.value)
                | (channel_states.c.consecutive_failures != 0),
            )
            .values(
                breaker_state=BreakerState.CLOSED.value,
                consecutive_failures=0,
                open_until=None,
                updated_at=now,
                **counted_transition(BreakerState.CLOSED),
            )
        )
        return after_success(ChannelGate(channel))
    gate = load_gate(conn, channel, now, lock=True)
    changed = after_failure(gate, policy, now)
    if changed != gate:
        save_gate(conn, changed, now)
    return changed


def set_paused(conn: Connection, channel: str, *, paused: bool, now: datetime) -> ChannelGate:
    """Pause or resume a channel (operator action)."""
    gate = load_gate(conn, channel, now, lock=True)
    changed = replace(gate, paused=paused)
    save_gate(conn, changed, now)
    return changed
