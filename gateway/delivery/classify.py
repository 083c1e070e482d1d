"""What one send attempt came to: pure, from the receipt or the exception the adapter raised.

    Receipt ................................ delivered
    TransientError ......................... transient (retry later; Retry-After kept)
    PermanentError ......................... permanent (dead letter at once)
    OutcomeUnknown ......................... unknown (reconcile, or resend with the same key)
    anything else an adapter lets escape ... transient, recorded by class name only

Only class names and HTTP statuses are kept from the exception: its text might quote the
payload. The destination's own error (``DeliveryError.remote``) is kept only after it is
scrubbed against the payload that was sent (``classify_result(..., sent=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from adapters.base import Payload, Receipt
from adapters.errors import DeliveryError, OutcomeUnknown, PermanentError, TransientError
from gateway.delivery.remote_detail import RemoteDetail, remote_detail


class Outcome(StrEnum):
    """What one attempt came to; only UNKNOWN needs reconciling before a resend."""

    DELIVERED = "delivered"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    """The classified result of one attempt; free of personal data."""

    outcome: Outcome
    error_class: str | None = None
    http_status: int | None = None
    retry_after_s: float | None = None
    receipt: Receipt | None = None
    # The destination's own error, already scrubbed against what was sent (remote_detail).
    remote: RemoteDetail | None = None

    @property
    def counts_against_channel(self) -> bool:
        """Transient and unknown results say the destination is unwell (breaker input)."""
        return self.outcome in (Outcome.TRANSIENT, Outcome.UNKNOWN)


def classify_result(result: Receipt | BaseException, sent: Payload | None = None) -> Verdict:
    """Map an adapter's receipt or exception to a verdict; with the payload that was sent,
    the destination's own error is kept, scrubbed of it."""
    if isinstance(result, Receipt):
        return Verdict(Outcome.DELIVERED, http_status=result.http_status, receipt=result)
    name = type(result).__name__
    if isinstance(result, DeliveryError):
        retry_after = result.retry_after_s
        if retry_after is not None and retry_after < 0:
            retry_after = None
        if isinstance(result, PermanentError):
            outcome = Outcome.PERMANENT
        elif isinstance(result, OutcomeUnknown):
            outcome = Outcome.UNKNOWN
        elif isinstance(result, TransientError):
            outcome = Outcome.TRANSIENT
        else:  # a DeliveryError outside the three documented classes
            outcome = Outcome.TRANSIENT
        remote = remote_detail(
            result.remote,
            sent.body if sent is not None else None,
            sent.content_type if sent is not None else None,
        )
        return Verdict(outcome, name, result.http_status, retry_after, remote=remote)
    return Verdict(Outcome.TRANSIENT, name)
