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
What the destination itself said (a SOAP fault, a JSON error) rides along as ``remote``, apart
from the message: it is the destination's text and may quote what it was sent, so it is never
logged or put in a span, and the gateway keeps only a scrubbed, bounded excerpt of it.
"""

from __future__ import annotations

from dataclasses import dataclass

# What is kept of a destination's own words before the gateway scrubs them.
MAX_REMOTE_CODE = 64
MAX_REMOTE_TEXT = 500


@dataclass(frozen=True)
class RemoteError:
    """A destination's own error: its code (SOAP faultcode, JSON error code) and text, cut to
    a bound; unscrubbed, so it stays in memory until the gateway scrubs it."""

    code: str | None = None
    text: str | None = None

    @classmethod
    def bounded(cls, code: object, text: object) -> RemoteError | None:
        """The error with both parts cut to their bounds; None when neither is a string."""
        kept_code = code.strip()[:MAX_REMOTE_CODE] if isinstance(code, str) else None
        kept_text = text.strip()[:MAX_REMOTE_TEXT] if isinstance(text, str) else None
        if not kept_code and not kept_text:
            return None
        return cls(kept_code or None, kept_text or None)


class DeliveryError(Exception):
    """Root of the adapter error tree."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        retry_after_s: float | None = None,
        remote: RemoteError | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.retry_after_s = retry_after_s
        self.remote = remote


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
