"""The adapter contract: one class per destination channel.

An adapter turns a canonical message (already redacted by its policy decision) into the exact
bytes its channel takes (``render``), and moves those stored bytes over the channel's transport
(``send``). Rendering happens once, at intake; every delivery attempt sends the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage


@dataclass(frozen=True)
class Payload:
    """What a channel receives for one delivery: bytes plus the headers the transport adds."""

    body: bytes
    content_type: str
    product: str
    recipient: str | None = None
    # Transport hints that belong with the bytes (e.g. SOAPAction); never personal data.
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendContext:
    """Everything ``send`` needs besides the bytes; built by the worker for each attempt."""

    url: str
    idempotency_key: str
    traceparent: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    # An ssl.SSLContext or True; destination URLs come only from configuration.
    verify: Any = True
    max_reply_bytes: int = 1_048_576


@dataclass(frozen=True)
class Receipt:
    """The destination's acknowledgement of one delivery."""

    reference: str | None
    http_status: int
    duplicate: bool = False
    details: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Adapter(Protocol):
    """One destination channel.

    Class attributes describe the channel and are checked against the code by the contract kit:
    ``name`` is the channel id used everywhere (entry point, ``adapters/<name>/``,
    ``mappings/<name>/``, simulator, metric labels).
    """

    name: ClassVar[str]
    profile_version: ClassVar[str]
    products: ClassVar[tuple[str, ...]]
    default_product: ClassVar[str]
    content_type: ClassVar[str]
    schema_files: ClassVar[tuple[str, ...]]
    # True when the channel needs one delivery per recipient country (``destinations[].to``).
    per_recipient: ClassVar[bool]

    def render(
        self, message: CanonicalMessage, decision: Decision, recipient: str | None = None
    ) -> Payload:
        """Pure and deterministic: the same message and decision give the same bytes.

        The output is validated against the adapter's own schema before it is returned; a
        message the profile cannot express raises ``RenderError`` (no personal data in it).
        """
        ...

    def validate_payload(self, body: bytes) -> list[str]:
        """Problems found checking ``body`` against the channel's schema; empty when valid.

        ``render`` applies the same check before it returns (to the tree or document it has
        just built, which is what parsing its bytes would give); the channel's simulator runs it
        on arrival. The problems name paths and rules, never values.
        """
        ...

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        """Transport only: POST the stored bytes, honouring the context's timeouts.

        Puts ``context.idempotency_key`` and ``context.traceparent`` on the wire. Raises only
        ``TransientError``, ``PermanentError`` or ``OutcomeUnknown``.
        """
        ...
