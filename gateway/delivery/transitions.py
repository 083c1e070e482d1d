"""How a person moves deliveries on: the state machine of operator and approver actions, and
the channel overview they look at. Who may do what, and the audit entry, are the services'
job (``gateway.services``); here are only the rows and the transitions they allow.

Transitions (anything else is refused with a ``conflict``)::

    retry    failed | retry_wait | unknown ............ → queued, due now, attempts afresh
    cancel   held | queued | retry_wait | unknown | failed → cancelled
    release  held ..................................... → queued, due now
    reject   held ..................................... → cancelled
    redrive  every failed delivery of a channel ....... → queued, due now (or, decided
             again on the day, held or blocked)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from gateway.delivery.breaker import load_gates
from gateway.errors import ErrorKind, GatewayError
from gateway.store.states import DeliveryState
from gateway.store.tables import deliveries, messages

S = DeliveryState
RETRYABLE = frozenset({S.FAILED, S.RETRY_WAIT, S.UNKNOWN})
CANCELLABLE = frozenset({S.HELD, S.QUEUED, S.RETRY_WAIT, S.UNKNOWN, S.FAILED})
REVIEWABLE = frozenset({S.HELD})
DUE_STATES = (S.QUEUED.value, S.RETRY_WAIT.value, S.UNKNOWN.value)


@dataclass(frozen=True)
class DeliveryRef:
    """The facts about a delivery an action needs, read under a row lock."""

    id: str
    message_id: str
    channel: str
    state: str
    sender_country: str
    token_id: str | None  # the token that sent the message (four eyes)


@dataclass(frozen=True)
class Move:
    """Where an action takes a delivery: from which states, to which, and what else changes."""

    allowed: frozenset[DeliveryState]
    target: DeliveryState
    values: Mapping[str, Any]
    # For the audit entry: the new decision when the move decided the delivery again.
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ActionResult:
    """What an operator action changed on one delivery, for the caller's answer and audit."""

    delivery_id: str
    message_id: str
    channel: str
    previous_state: str
    state: str
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class ChannelOverview:
    """One channel's configuration and live gate, as the operator views show it."""

    channel: str
    configured: bool
    paused: bool
    breaker_state: str
    consecutive_failures: int
    open_until: datetime | None
    counts: dict[str, int]
    oldest_due_age_s: float | None

    @property
    def needs_attention(self) -> bool:
        """Something here wants a person: dead letters, held deliveries or an open breaker."""
        return bool(
            self.counts.get(S.FAILED.value)
            or self.counts.get(S.HELD.value)
            or self.breaker_state != "closed"
        )


def lock_delivery(conn: Connection, delivery_id: str) -> DeliveryRef | None:
    """The delivery with its message's sender, locked until the transaction ends."""
    row = conn.execute(
        select(
            deliveries.c.id,
            deliveries.c.message_id,
            deliveries.c.channel,
            deliveries.c.state,
            messages.c.sender_country,
            messages.c.token_id,
        )
        .join(messages, messages.c.id == deliveries.c.message_id)
        .where(deliveries.c.id == delivery_id)
        .with_for_update(of=deliveries)
    ).first()
    if row is None:
        return None
    return DeliveryRef(
        row.id, row.message_id, row.channel, row.state, row.sender_country, row.token_id
    )


def fresh_round(now: datetime, deadline_s: float) -> dict[str, Any]:
    """A delivery put back in the queue by a person gets a full set of attempts and time."""
    return {
        "next_attempt_at": now,
        "attempts": 0,
        "deadline_at": now + timedelta(seconds=deadline_s),
        "lease_owner": None,
        "lease_until": None,
    }


def apply_move(
    conn: Connection, ref: DeliveryRef, move: Move, *, verb: str, now: datetime
) -> ActionResult:
    """Make the move if the delivery is still where ``ref`` found it; a conflict otherwise."""
    if ref.state not in move.allowed:
        raise GatewayError(
            ErrorKind.CONFLICT,
            "invalid_state_transition",
            f"{verb} is not possible for a delivery in state '{ref.state}'; "
            f"allowed from: {', '.join(sorted(move.allowed))}",
        )
    changed = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == ref.id, deliveries.c.state == ref.state)
        .values(state=move.target.value, updated_at=now, **move.values)
    ).rowcount
    if changed != 1:  # a worker moved it between our read and our write (SQLite has no lock)
        raise GatewayError(
            ErrorKind.CONFLICT, "state_changed", "the delivery changed state; try again"
        )
    return ActionResult(
        ref.id,
        ref.message_id,
        ref.channel,
        ref.state,
        move.target.value,
        move.values.get("next_attempt_at"),
    )


def channel_overview(
    conn: Connection,
    countries: tuple[str, ...] | None,
    *,
    configured: set[str],
    known: set[str],
    now: datetime,
) -> list[ChannelOverview]:
    """Per channel: deliveries by state (of ``countries``' messages), breaker, pause, and the
    age of the oldest due delivery."""
    counts_query = select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
        deliveries.c.channel, deliveries.c.state
    )
    due_query = (
        select(deliveries.c.channel, func.min(deliveries.c.next_attempt_at))
        .where(deliveries.c.state.in_(DUE_STATES), deliveries.c.next_attempt_at <= now)
        .group_by(deliveries.c.channel)
    )
    if countries is not None:
        visible = select(messages.c.id).where(messages.c.sender_country.in_(countries))
        counts_query = counts_query.where(deliveries.c.message_id.in_(visible))
        due_query = due_query.where(deliveries.c.message_id.in_(visible))
    counts: dict[str, dict[str, int]] = {}
    for channel, state, count in conn.execute(counts_query):
        counts.setdefault(channel, {})[state] = int(count)
    oldest = {channel: due for channel, due in conn.execute(due_query)}
    gates = load_gates(conn)
    names = sorted(configured | known | set(counts) | set(gates))
    views: list[ChannelOverview] = []
    for name in names:
        gate = gates.get(name)
        due = oldest.get(name)
        if due is not None and due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        views.append(
            ChannelOverview(
                channel=name,
                configured=name in configured,
                paused=bool(gate.paused) if gate else False,
                breaker_state=gate.breaker.value if gate else "closed",
                consecutive_failures=gate.consecutive_failures if gate else 0,
                open_until=gate.open_until if gate else None,
                counts={state: counts.get(name, {}).get(state, 0) for state in S},
                oldest_due_age_s=None if due is None else max(0.0, (now - due).total_seconds()),
            )
        )
    return views
