"""Recording an attempt: the attempt row, the delivery's next state and the channel's breaker,
in ONE short transaction guarded by the lease (``lease_owner = me``), so a worker whose lease
was taken over records what it saw but never overwrites the newer owner's state. A delivery
that ends there (delivered, failed) gets its signed evidence record in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select, update

from gateway.config import BreakerPolicy
from gateway.delivery.breaker import BreakerState, record_channel_result
from gateway.delivery.claim import ClaimedDelivery
from gateway.delivery.classify import Outcome, Verdict
from gateway.delivery.schedule import Step
from gateway.events.outbox import EventType, record_delivery_events
from gateway.security.evidence import record_evidence
from gateway.security.signing_key import SigningKeys
from gateway.store.states import DeliveryState
from gateway.store.tables import attempts, channel_states, deliveries

REFERENCE_MAX = 200  # the length of deliveries.receipt_reference


@dataclass(frozen=True)
class AttemptRecord:
    """What one attempt did, as stored (no personal data)."""

    started_at: datetime
    ended_at: datetime
    duration_ms: float
    trace_id: str | None = None
    span_id: str | None = None


def _summary(verdict: Verdict, step: Step) -> str:
    """A value-free line for ``last_error``: outcome, status, why it stopped."""
    parts = [verdict.outcome.value]
    if verdict.error_class:
        parts.append(verdict.error_class)
    if verdict.http_status is not None:
        parts.append(f"HTTP {verdict.http_status}")
    if verdict.remote is not None and verdict.remote.code:
        parts.append(f"code {verdict.remote.code}")
    if verdict.retry_after_s is not None:
        parts.append(f"Retry-After {verdict.retry_after_s:g}s")
    if step.reason:
        parts.append(f"stopped: {step.reason}")
    return "; ".join(parts)


@dataclass(frozen=True)
class FinishedAttempt:
    """One attempt waiting to be recorded: the delivery, what happened, where it goes next."""

    claimed: ClaimedDelivery
    verdict: Verdict
    step: Step
    attempt: AttemptRecord
    breaker: BreakerPolicy


def _receipt_json(verdict: Verdict) -> str:
    receipt = verdict.receipt
    return json.dumps(
        {
            "reference": receipt.reference if receipt else None,
            "http_status": receipt.http_status if receipt else None,
            "duplicate": receipt.duplicate if receipt else False,
        }
    )


def receipt_reference(verdict: Verdict) -> str | None:
    """The channel's reference, kept in its indexed column for answers that quote only it (a
    longer one than the column holds stays in the receipt alone)."""
    reference = verdict.receipt.reference if verdict.receipt else None
    return reference if reference and len(reference) <= REFERENCE_MAX else None


def _move_params(f: FinishedAttempt, worker_id: str) -> dict[str, object]:
    verdict, step = f.verdict, f.step
    params: dict[str, object] = {
        "m_id": f.claimed.id,
        "m_worker_id": worker_id,
        "m_state": step.state.value,
        "m_next_attempt_at": step.next_attempt_at,
        "m_error_class": verdict.error_class,
        "m_http_status": verdict.http_status,
        "m_error": None if verdict.outcome is Outcome.DELIVERED else _summary(verdict, step),
        "m_now": f.attempt.ended_at,
    }
    if step.state is DeliveryState.DELIVERED:
        params["m_receipt_json"] = _receipt_json(verdict)
        params["m_receipt_reference"] = receipt_reference(verdict)
    return params


_TIME = deliveries.c.updated_at.type

# The delivery's next state, lease-guarded; one statement for a whole batch (executemany).
_MOVE_ON = (
    update(deliveries)
    .where(
        deliveries.c.id == bindparam("m_id"),
        deliveries.c.state == DeliveryState.SENDING.value,
        deliveries.c.lease_owner == bindparam("m_worker_id"),
    )
    .values(
        state=bindparam("m_state"),
        next_attempt_at=bindparam("m_next_attempt_at", type_=_TIME),
        lease_owner=None,
        lease_until=None,
        last_error_class=bindparam("m_error_class"),
        last_http_status=bindparam("m_http_status"),
        last_error=bindparam("m_error"),
        updated_at=bindparam("m_now", type_=_TIME),
    )
)
_MOVE_DELIVERED = _MOVE_ON.values(
    delivered_at=bindparam("m_now", type_=_TIME),
    receipt_json=bindparam("m_receipt_json"),
    receipt_reference=bindparam("m_receipt_reference"),
)


# One statement for every attempt row of a batch; its number counts the rows before it.
_INSERT_ATTEMPT = attempts.insert().values(
    delivery_id=bindparam("a_delivery_id"),
    number=select(func.count() + 1)
    .select_from(attempts)
    .where(attempts.c.delivery_id == bindparam("a_delivery_id"))
    .scalar_subquery(),
    worker_id=bindparam("a_worker_id"),
    started_at=bindparam("a_started_at", type_=attempts.c.started_at.type),
    ended_at=bindparam("a_ended_at", type_=attempts.c.ended_at.type),
    outcome=bindparam("a_outcome"),
    error_class=bindparam("a_error_class"),
    http_status=bindparam("a_http_status"),
    duration_ms=bindparam("a_duration_ms"),
    detail=bindparam("a_detail"),
    trace_id=bindparam("a_trace_id"),
    span_id=bindparam("a_span_id"),
    remote_code=bindparam("a_remote_code"),
    remote_text=bindparam("a_remote_text"),
)


def record_attempts(
    conn: Connection,
    finished: Sequence[FinishedAttempt],
    *,
    worker_id: str,
    signing: SigningKeys | None = None,
) -> list[bool]:
    """Store several attempts and move their deliveries on, in the caller's transaction;
    per attempt, False when this worker no longer held the delivery.

    Breaker results are applied per channel in the given order, a run of successes as one
    statement (a success after a success changes nothing).
    """
    if not finished:
        return []
    ids = [f.claimed.id for f in finished]
    # Locked (PostgreSQL) so that no lapsed-lease claim slips in before the updates below.
    still_held = set(
        conn.execute(
            select(deliveries.c.id)
            .where(
                deliveries.c.id.in_(ids),
                deliveries.c.state == DeliveryState.SENDING.value,
                deliveries.c.lease_owner == worker_id,
            )
            .with_for_update()
        ).scalars()
    )
    held = [f.claimed.id in still_held for f in finished]
    moves = [_move_params(f, worker_id) for f, ok in zip(finished, held, strict=True) if ok]
    delivered = [m for m in moves if "m_receipt_json" in m]
    others = [m for m in moves if "m_receipt_json" not in m]
    if delivered:
        conn.execute(_MOVE_DELIVERED, delivered)
    if others:
        conn.execute(_MOVE_ON, others)
    conn.execute(
        _INSERT_ATTEMPT,
        [
            {
                "a_delivery_id": f.claimed.id,
                "a_worker_id": worker_id,
                "a_started_at": f.attempt.started_at,
                "a_ended_at": f.attempt.ended_at,
                "a_outcome": f.verdict.outcome.value,
                "a_error_class": f.verdict.error_class,
                "a_http_status": f.verdict.http_status,
                "a_duration_ms": f.attempt.duration_ms,
                "a_detail": None if ok else "lease lost before the result was recorded",
                "a_trace_id": f.attempt.trace_id,
                "a_span_id": f.attempt.span_id,
                "a_remote_code": f.verdict.remote.code if f.verdict.remote else None,
                "a_remote_text": f.verdict.remote.text if f.verdict.remote else None,
            }
            for f, ok in zip(finished, held, strict=True)
        ],
    )
    _apply_breaker_results(conn, finished)
    _record_outcome_events(conn, finished, held, signing)
    return held


def _record_outcome_events(
    conn: Connection,
    finished: Sequence[FinishedAttempt],
    held: Sequence[bool],
    signing: SigningKeys | None,
) -> None:
    """Delivered and dead-lettered deliveries tell their senders and get their signed evidence,
    in this same transaction."""
    ended: dict[DeliveryState, list[str]] = {DeliveryState.DELIVERED: [], DeliveryState.FAILED: []}
    for f, ok in zip(finished, held, strict=True):
        if ok and f.step.state in ended:
            ended[f.step.state].append(f.claimed.id)
    if not any(ended.values()):
        return
    now = max(f.attempt.ended_at for f in finished)
    record_delivery_events(
        conn, EventType.DELIVERY_DELIVERED, ended[DeliveryState.DELIVERED], now=now
    )
    record_delivery_events(conn, EventType.DELIVERY_FAILED, ended[DeliveryState.FAILED], now=now)
    if signing is not None:
        ids = ended[DeliveryState.DELIVERED] + ended[DeliveryState.FAILED]
        record_evidence(conn, signing, ids, now=now)


def _apply_breaker_results(conn: Connection, finished: Sequence[FinishedAttempt]) -> None:
    """Breaker inputs in the given order, as if applied one by one. A success changes only a
    channel whose row shows failures or a breaker not closed; one read for the whole batch
    finds those, so a healthy channel's row is neither written nor locked."""
    relevant = [f for f in finished if f.verdict.outcome is not Outcome.PERMANENT]
    if not relevant:
        return  # permanent errors say nothing about the destination's health
    unwell = set(
        conn.execute(
            select(channel_states.c.channel).where(
                channel_states.c.channel.in_({f.claimed.channel for f in relevant}),
                (channel_states.c.breaker_state != BreakerState.CLOSED.value)
                | (channel_states.c.consecutive_failures != 0),
            )
        ).scalars()
    )
    for f in relevant:
        channel = f.claimed.channel
        success = f.verdict.outcome is Outcome.DELIVERED
        if success and channel not in unwell:
            continue
        record_channel_result(
            conn, channel, success=success, policy=f.breaker, now=f.attempt.ended_at
        )
        if success:
            unwell.discard(channel)
        else:
            unwell.add(channel)


def record_attempt(
    conn: Connection,
    claimed: ClaimedDelivery,
    *,
    worker_id: str,
    verdict: Verdict,
    step: Step,
    attempt: AttemptRecord,
    breaker: BreakerPolicy,
    signing: SigningKeys | None = None,
) -> bool:
    """Store one attempt and move the delivery on; False when this worker no longer held it."""
    [held] = record_attempts(
        conn,
        [FinishedAttempt(claimed, verdict, step, attempt, breaker)],
        worker_id=worker_id,
        signing=signing,
    )
    return held
