"""Recording an attempt: the attempt row, the delivery's next state and the channel's breaker,
in ONE short transaction guarded by the lease (``lease_owner = me``), so a worker whose lease
was taken over records what it saw but never overwrites the newer owner's state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from gateway.config import BreakerPolicy
from gateway.delivery.breaker import record_channel_result
from gateway.delivery.claim import ClaimedDelivery
from gateway.delivery.classify import Outcome, Verdict
from gateway.delivery.schedule import Step
from gateway.store.states import DeliveryState
from gateway.store.tables import attempts, deliveries


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
    if verdict.retry_after_s is not None:
        parts.append(f"Retry-After {verdict.retry_after_s:g}s")
    if step.reason:
        parts.append(f"stopped: {step.reason}")
    return "; ".join(parts)


def record_attempt(
    conn: Connection,
    claimed: ClaimedDelivery,
    *,
    worker_id: str,
    verdict: Verdict,
    step: Step,
    attempt: AttemptRecord,
    breaker: BreakerPolicy,
) -> bool:
    """Store the attempt and move the delivery on; False when this worker no longer held it."""
    now = attempt.ended_at
    values: dict[str, object] = {
        "state": step.state.value,
        "next_attempt_at": step.next_attempt_at,
        "lease_owner": None,
        "lease_until": None,
        "last_error_class": verdict.error_class,
        "last_http_status": verdict.http_status,
        "last_error": None if verdict.outcome is Outcome.DELIVERED else _summary(verdict, step),
        "updated_at": now,
    }
    if step.state is DeliveryState.DELIVERED:
        receipt = verdict.receipt
        values["delivered_at"] = now
        values["receipt_json"] = json.dumps(
            {
                "reference": receipt.reference if receipt else None,
                "http_status": receipt.http_status if receipt else None,
                "duplicate": receipt.duplicate if receipt else False,
            }
        )
    held = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.id == claimed.id,
            deliveries.c.state == DeliveryState.SENDING.value,
            deliveries.c.lease_owner == worker_id,
        )
        .values(values)
    ).rowcount
    number = (
        conn.execute(
            select(func.count()).select_from(attempts).where(attempts.c.delivery_id == claimed.id)
        ).scalar_one()
        + 1
    )
    conn.execute(
        attempts.insert().values(
            delivery_id=claimed.id,
            number=number,
            worker_id=worker_id,
            started_at=attempt.started_at,
            ended_at=attempt.ended_at,
            outcome=verdict.outcome.value,
            error_class=verdict.error_class,
            http_status=verdict.http_status,
            duration_ms=attempt.duration_ms,
            detail=None if held else "lease lost before the result was recorded",
            trace_id=attempt.trace_id,
            span_id=attempt.span_id,
        )
    )
    if verdict.outcome is not Outcome.PERMANENT:
        record_channel_result(
            conn,
            claimed.channel,
            success=verdict.outcome is Outcome.DELIVERED,
            policy=breaker,
            now=now,
        )
    return held == 1
