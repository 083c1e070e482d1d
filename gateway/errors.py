"""The one error root of the gateway: what went wrong, said without HTTP.

Intake, the action services and the stores raise ``GatewayError`` with a ``kind`` (what sort
of refusal it is), a stable ``code`` (what clients and tests match on) and a message that never
carries a submitted value. Only the API edge turns a kind into an HTTP status, and only the
console turns it into a page, so the layers below stay free of transport words.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from gateway.schema.errors import Violation


class ErrorKind(StrEnum):
    """What sort of refusal an error is; the API edge maps each to one HTTP status."""

    INVALID = "invalid"  # the request itself is malformed
    UNAUTHENTICATED = "unauthenticated"  # no identity, or one that is not valid
    FORBIDDEN = "forbidden"  # an identity that may not do this
    NOT_FOUND = "not_found"  # nothing with that id that this identity may see
    CONFLICT = "conflict"  # the thing is not in a state that allows the action
    TOO_LARGE = "too_large"  # a body over its cap
    UNSUPPORTED_MEDIA = "unsupported_media"  # a body of a type the route does not take
    UNPROCESSABLE = "unprocessable"  # well-formed, but its content is refused
    RATE_LIMITED = "rate_limited"  # too many requests for now
    UNAVAILABLE = "unavailable"  # a part the action needs is not there now


class GatewayError(Exception):
    """A refusal: nothing was changed, and the caller is told why in one stable code."""

    def __init__(
        self,
        kind: ErrorKind,
        code: str,
        message: str,
        violations: Iterable[Violation] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.violations = list(violations)

    def __repr__(self) -> str:
        return f"GatewayError({self.kind.value}, {self.code!r})"
