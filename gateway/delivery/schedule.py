"""When a delivery is tried next, or that it is not: pure, from the stored attempt count.

The back-off is tenacity's exponential wait with a little jitter on top of a floor
(``wait_exponential_jitter``), asked with a synthetic ``RetryCallState`` so that the schedule
lives in the store (``next_attempt_at``) rather than in a sleeping coroutine. A destination's
``Retry-After`` wins when it asks for longer. A delivery that would be due after its deadline,
or has used its attempts, becomes a dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from gateway.config import RetryPolicy
from gateway.delivery.classify import Outcome, Verdict
from gateway.store.states import DeliveryState


@dataclass(frozen=True)
class Step:
    """The delivery's next state and, when it will be tried again, when."""

    state: DeliveryState
    next_attempt_at: datetime | None = None
    reason: str | None = None  # why it stopped: "permanent", "attempts", "deadline"


def backoff_s(policy: RetryPolicy, attempts_done: int) -> float:
    """Seconds to wait after the ``attempts_done``-th failed attempt (1-based)."""
    wait = wait_exponential_jitter(
        multiplier=policy.initial_backoff_s,
        max=policy.max_backoff_s,
        exp_base=2,
        # Jitter below the floor keeps every gap longer than the one before it.
        jitter=policy.initial_backoff_s / 2,
    )
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = max(1, attempts_done)
    return float(wait(state))


def next_step(
    verdict: Verdict,
    *,
    attempts_done: int,
    now: datetime,
    deadline_at: datetime | None,
    policy: RetryPolicy,
) -> Step:
    """Where a delivery goes after an attempt with this verdict."""
    if verdict.outcome is Outcome.DELIVERED:
        return Step(DeliveryState.DELIVERED)
    if verdict.outcome is Outcome.PERMANENT:
        return Step(DeliveryState.FAILED, reason="permanent")
    if attempts_done >= policy.max_attempts:
        return Step(DeliveryState.FAILED, reason="attempts")
    wait = backoff_s(policy, attempts_done)
    if verdict.retry_after_s is not None:
        wait = max(wait, verdict.retry_after_s)
    due = now + timedelta(seconds=wait)
    if deadline_at is not None and due > deadline_at:
        return Step(DeliveryState.FAILED, reason="deadline")
    state = (
        DeliveryState.UNKNOWN if verdict.outcome is Outcome.UNKNOWN else DeliveryState.RETRY_WAIT
    )
    return Step(state, due)
