"""Classification, back-off schedule and breaker transitions: pure functions, no I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import Receipt
from adapters.errors import OutcomeUnknown, PermanentError, TransientError
from gateway.config import BreakerPolicy, RetryPolicy
from gateway.delivery.breaker import BreakerState, ChannelGate, after_failure, after_success
from gateway.delivery.classify import Outcome, classify_result
from gateway.delivery.schedule import backoff_s, next_step
from gateway.store.states import DeliveryState

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=6, initial_backoff_s=2.0, max_backoff_s=60.0)


def test_classification_follows_the_error_tree() -> None:
    assert classify_result(Receipt("R-1", 201)).outcome is Outcome.DELIVERED
    assert classify_result(PermanentError("x", http_status=400)).outcome is Outcome.PERMANENT
    assert classify_result(OutcomeUnknown("x")).outcome is Outcome.UNKNOWN
    verdict = classify_result(TransientError("x", http_status=503, retry_after_s=7))
    assert (verdict.outcome, verdict.http_status, verdict.retry_after_s) == (
        Outcome.TRANSIENT,
        503,
        7,
    )


def test_unexpected_exception_is_transient_by_class_name_only() -> None:
    verdict = classify_result(KeyError("Jane Doe"))
    assert verdict.outcome is Outcome.TRANSIENT
    assert verdict.error_class == "KeyError"
    assert "Jane" not in repr(verdict)


def test_permanent_error_is_a_dead_letter_at_once() -> None:
    step = next_step(
        classify_result(PermanentError("x", http_status=422)),
        attempts_done=1,
        now=NOW,
        deadline_at=NOW + timedelta(hours=1),
        policy=POLICY,
    )
    assert step.state is DeliveryState.FAILED
    assert step.reason == "permanent"


def test_transient_gaps_grow_and_are_capped() -> None:
    gaps = [backoff_s(POLICY, n) for n in range(1, 9)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps[:6]))
    assert gaps[0] >= POLICY.initial_backoff_s
    assert max(gaps) <= POLICY.max_backoff_s
    assert gaps[-1] == POLICY.max_backoff_s


def test_transient_until_the_attempt_limit_then_dead_letter() -> None:
    transient = classify_result(TransientError("x", http_status=503))
    states = [
        next_step(
            transient,
            attempts_done=n,
            now=NOW,
            deadline_at=NOW + timedelta(days=1),
            policy=POLICY,
        )
        for n in range(1, POLICY.max_attempts + 1)
    ]
    assert [s.state for s in states[:-1]] == [DeliveryState.RETRY_WAIT] * (POLICY.max_attempts - 1)
    assert states[-1].state is DeliveryState.FAILED
    assert states[-1].reason == "attempts"


@pytest.mark.parametrize(("retry_after", "expected_floor"), [(30.0, 30.0), (0.5, 2.0)])
def test_retry_after_wins_only_when_later(retry_after: float, expected_floor: float) -> None:
    step = next_step(
        classify_result(TransientError("x", http_status=503, retry_after_s=retry_after)),
        attempts_done=1,
        now=NOW,
        deadline_at=NOW + timedelta(days=1),
        policy=POLICY,
    )
    assert step.next_attempt_at is not None
    wait = (step.next_attempt_at - NOW).total_seconds()
    assert wait >= expected_floor
    assert wait < max(retry_after, 2.0 + 1.0) + 0.01


def test_due_after_the_deadline_is_a_dead_letter() -> None:
    step = next_step(
        classify_result(TransientError("x", http_status=503, retry_after_s=120)),
        attempts_done=1,
        now=NOW,
        deadline_at=NOW + timedelta(seconds=60),
        policy=POLICY,
    )
    assert (step.state, step.reason) == (DeliveryState.FAILED, "deadline")


def test_unknown_outcome_is_resent_later_as_unknown() -> None:
    step = next_step(
        classify_result(OutcomeUnknown("x")),
        attempts_done=1,
        now=NOW,
        deadline_at=NOW + timedelta(days=1),
        policy=POLICY,
    )
    assert step.state is DeliveryState.UNKNOWN
    assert step.next_attempt_at is not None
    assert step.next_attempt_at > NOW


def test_breaker_opens_at_threshold_probes_and_closes() -> None:
    policy = BreakerPolicy(failure_threshold=3, open_s=30)
    gate = ChannelGate("alpha")
    for _ in range(2):
        gate = after_failure(gate, policy, NOW)
    assert gate.breaker is BreakerState.CLOSED
    assert gate.mode(NOW) == "closed"
    gate = after_failure(gate, policy, NOW)
    assert gate.breaker is BreakerState.OPEN
    assert gate.mode(NOW + timedelta(seconds=29)) == "blocked"
    assert gate.mode(NOW + timedelta(seconds=30)) == "probe"
    probing = ChannelGate("alpha", breaker=BreakerState.HALF_OPEN, consecutive_failures=3)
    reopened = after_failure(probing, policy, NOW)
    assert reopened.breaker is BreakerState.OPEN
    assert reopened.open_until == NOW + timedelta(seconds=30)
    closed = after_success(probing)
    assert (closed.breaker, closed.consecutive_failures) == (BreakerState.CLOSED, 0)


def test_paused_channel_is_never_claimable() -> None:
    assert ChannelGate("alpha", paused=True).mode(NOW) == "blocked"
