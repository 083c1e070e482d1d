"""Errors an adapter's transport may raise; the worker decides the next state from the class.

    DeliveryError
    ├── TransientError      the destination did not take it this time; retry later
    │                       (connection refused, timeout before sending, 5xx, 429, 503)
    ├── PermanentError      the destination will never take these bytes; dead-letter at once
    │                       (4xx, SOAP client fault, schema rejection, TLS/auth misconfiguration)
    └── OutcomeUnknown      the request left but no verdict came back (read timeout after send,
                            connection dropped mid-reply); reconcile with status() or resend
                            with the same idempotency key

Messages must never contain personal data: name refs, paths, status codes and classes only.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Root of the adapter error tree."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.retry_after_s = retry_after_s


class TransientError(DeliveryError):
    """The destination may take the same bytes later."""


class PermanentError(DeliveryError):
    """The destination will never take these bytes."""


class OutcomeUnknown(DeliveryError):
    """The request was sent but whether it arrived is not known."""


class RenderError(Exception):
    """The message cannot be expressed in the channel's profile (raised by ``render``).

    ``violations`` lists (path, problem) pairs without values so they can be shown to the sender.
    """

    def __init__(self, message: str, violations: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []
