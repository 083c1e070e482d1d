"""What operators and approvers do to deliveries and channels, each in one transaction with
its audit entry. Scope (which senders' messages the caller may see) is checked here too, so an
out-of-scope delivery looks exactly like a missing one.

Transitions (anything else is refused with ``ActionRefused(409, …)``)::

    retry    failed | retry_wait | unknown ............ → queued, due now, attempts afresh
    cancel   held | queued | retry_wait | unknown | failed → cancelled
    release  held ..................................... → queued, due now   (approver)
    reject   held ..................................... → cancelled          (approver)
    redrive  every failed delivery of a channel ....... → queued, due now
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from gateway.delivery.breaker import load_gates, set_paused
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.store.states import DeliveryState
from gateway.store.tables import deliveries, messages

S = DeliveryState
RETRYABLE = frozenset({S.FAILED, S.RETRY_WAIT, S.UNKNOWN})
CANCELLABLE = frozenset({S.HELD, S.QUEUED, S.RETRY_WAIT, S.UNKNOWN, S.FAILED})
DUE_STATES = (S.QUEUED.value, S.RETRY_WAIT.value, S.UNKNOWN.value)


class ActionRefused(Exception):
    """An action that cannot be done; carries the HTTP status and a stable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ActionResult:
    delivery_id: str
    message_id: str
    channel: str
    previous_state: str
    state: str
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class ChannelOverview:
    channel: str
    configured: bool
    paused: bool
    breaker_state: str
    consecutive_failures: int
    open_until: datetime | None
    counts: dict[str, int]
    oldest_due_age_s: float | None


def _load_visible(conn: Connection, delivery_id: str, identity: Identity) -> Any:
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
    if row is None or not identity.can_see_country(row.sender_country):
        raise ActionRefused(404, "not_found", "no such delivery")
    return row


def _transition(
    conn: Connection,
    row: Any,
    *,
    allowed: frozenset[DeliveryState],
    target: DeliveryState,
    values: dict[str, Any],
    identity: Identity,
    action: str,
    reason: str | None,
    now: datetime,
) -> ActionResult:
    if row.state not in allowed:
        raise ActionRefused(
            409,
            "invalid_state_transition",
            f"{action} is not possible for a delivery in state '{row.state}'; "
            f"allowed from: {', '.join(sorted(allowed))}",
        )
    changed = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == row.id, deliveries.c.state == row.state)
        .values(state=target.value, updated_at=now, **values)
    ).rowcount
    if changed != 1:  # a worker moved it between our read and our write (SQLite has no lock)
        raise ActionRefused(409, "state_changed", "the delivery changed state; try again")
    append_audit(
        conn,
        actor=identity.actor,
        action=action,
        subject=f"delivery:{row.id}",
        reason=reason,
        details={
            "message_id": row.message_id,
            "channel": row.channel,
            "from": row.state,
            "to": target.value,
        },
    )
    return ActionResult(
        row.id, row.message_id, row.channel, row.state, target.value, values.get("next_attempt_at")
    )


def _fresh_round(now: datetime, deadline_s: float) -> dict[str, Any]:
    """A delivery put back in the queue by a person gets a full set of attempts and time."""
    return {
        "next_attempt_at": now,
        "attempts": 0,
        "deadline_at": now + timedelta(seconds=deadline_s),
        "lease_owner": None,
        "lease_until": None,
    }


def retry_delivery(
    conn: Connection,
    delivery_id: str,
    identity: Identity,
    *,
    reason: str | None,
    now: datetime,
    deadline_s: float,
) -> ActionResult:
    row = _load_visible(conn, delivery_id, identity)
    return _transition(
        conn,
        row,
        allowed=RETRYABLE,
        target=S.QUEUED,
        values=_fresh_round(now, deadline_s),
        identity=identity,
        action="delivery.retry",
        reason=reason,
        now=now,
    )


def cancel_delivery(
    conn: Connection, delivery_id: str, identity: Identity, *, reason: str | None, now: datetime
) -> ActionResult:
    row = _load_visible(conn, delivery_id, identity)
    return _transition(
        conn,
        row,
        allowed=CANCELLABLE,
        target=S.CANCELLED,
        values={"next_attempt_at": None},
        identity=identity,
        action="delivery.cancel",
        reason=reason,
        now=now,
    )


def review_held(
    conn: Connection,
    delivery_id: str,
    identity: Identity,
    *,
    release: bool,
    reason: str,
    now: datetime,
    deadline_s: float,
) -> ActionResult:
    """Release (→ queued) or reject (→ cancelled) a held delivery; never the sender's own."""
    row = _load_visible(conn, delivery_id, identity)
    if row.token_id is not None and row.token_id == identity.token_id:
        raise ActionRefused(
            403, "same_person", "a message cannot be reviewed with the token that sent it"
        )
    values: dict[str, Any] = {"review_actor": identity.actor, "review_reason": reason}
    if release:
        values |= _fresh_round(now, deadline_s)
    else:
        values["next_attempt_at"] = None
    return _transition(
        conn,
        row,
        allowed=frozenset({S.HELD}),
        target=S.QUEUED if release else S.CANCELLED,
        values=values,
        identity=identity,
        action="delivery.release" if release else "delivery.reject",
        reason=reason,
        now=now,
    )


def _scoped(identity: Identity) -> tuple[str, ...] | None:
    """The sender countries this identity's channel actions reach; None = all."""
    if identity.role in ("admin", "auditor"):
        return None
    if identity.role == "sender":
        return (identity.country,) if identity.country else ()
    return identity.scope_countries or None


def redrive_channel(
    conn: Connection,
    channel: str,
    identity: Identity,
    *,
    reason: str | None,
    now: datetime,
    deadline_s: float,
) -> int:
    """Every dead letter of the channel (within the caller's scope) back to the queue."""
    query = update(deliveries).where(
        deliveries.c.channel == channel, deliveries.c.state == S.FAILED.value
    )
    scope = _scoped(identity)
    if scope is not None:
        query = query.where(
            deliveries.c.message_id.in_(
                select(messages.c.id).where(messages.c.sender_country.in_(scope))
            )
        )
    count = int(
        conn.execute(
            query.values(state=S.QUEUED.value, updated_at=now, **_fresh_round(now, deadline_s))
        ).rowcount
    )
    append_audit(
        conn,
        actor=identity.actor,
        action="channel.redrive",
        subject=f"channel:{channel}",
        reason=reason,
        details={"requeued": count, "scope": list(scope or [])},
    )
    return count


def switch_channel(
    conn: Connection,
    channel: str,
    identity: Identity,
    *,
    paused: bool,
    reason: str | None,
    now: datetime,
) -> bool:
    """Pause or resume a channel for everyone: only regional operators and admins."""
    if _scoped(identity) is not None:
        raise ActionRefused(
            403,
            "regional_scope_required",
            "pausing or resuming a channel affects every country; it needs a regional token",
        )
    set_paused(conn, channel, paused, now)
    append_audit(
        conn,
        actor=identity.actor,
        action="channel.pause" if paused else "channel.resume",
        subject=f"channel:{channel}",
        reason=reason,
        details={"paused": paused},
    )
    return paused


def channel_overview(
    conn: Connection, identity: Identity, *, configured: set[str], known: set[str], now: datetime
) -> list[ChannelOverview]:
    """Per channel: deliveries by state (within scope), breaker, pause, oldest due age."""
    scope = _scoped(identity)
    counts_query = select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
        deliveries.c.channel, deliveries.c.state
    )
    due_query = (
        select(deliveries.c.channel, func.min(deliveries.c.next_attempt_at))
        .where(deliveries.c.state.in_(DUE_STATES), deliveries.c.next_attempt_at <= now)
        .group_by(deliveries.c.channel)
    )
    if scope is not None:
        visible = select(messages.c.id).where(messages.c.sender_country.in_(scope))
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
