"""The adapter contract: one class per destination channel.

An adapter turns a canonical message (already redacted by its policy decision) into the exact
bytes its channel takes (``render``), and moves those stored bytes over the channel's transport
(``send``). Rendering happens once, at intake; every delivery attempt sends the same bytes.

The contract is the base class ``Adapter`` itself rather than a ``Protocol`` beside a base: the
worker, the registry and the conformance kit call the whole lifecycle (``aclose``, ``status``,
``ping``) on every adapter, so each adapter must have it, and a base gives the honest defaults
once (nothing to close, cannot reconcile, cannot check) where a protocol would make every
channel write them out. The registry then checks one thing, ``issubclass``, instead of probing
methods one by one. Channels normally subclass one of the transport families in
``adapters/families/`` (SOAP over WSDL, XML over HTTP, JSON over HTTP), which subclass this.
"""

from __future__ import annotations

import abc
import enum
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from adapters._codes import CodeTable

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage

__all__ = [
    "Adapter",
    "Payload",
    "PayloadSigner",
    "Reachability",
    "Receipt",
    "SendContext",
    "Unreconciled",
]


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
class PayloadSigner:
    """The gateway's active signing key, as ``sign`` needs it: an EC P-256 key and its id.

    The id is what the gateway's published JWK set names the public half by.
    """

    key_id: str
    private_key: EllipticCurvePrivateKey = field(repr=False)


@dataclass(frozen=True)
class SendContext:
    """Everything ``send`` needs besides the bytes; built by the worker for each attempt."""

    url: str
    idempotency_key: str
    traceparent: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    # True verifies against the system's CAs; a context carries a channel's own CA bundle or
    # client certificate for mutual TLS. Destination URLs come only from configuration.
    verify: ssl.SSLContext | bool = True
    max_reply_bytes: int = 1_048_576


@dataclass(frozen=True)
class Receipt:
    """The destination's acknowledgement of one delivery."""

    reference: str | None
    http_status: int
    duplicate: bool = False
    details: Mapping[str, str] = field(default_factory=dict)


class Unreconciled(enum.Enum):
    """``status`` found no receipt: the worker sends the stored bytes again (same key)."""

    # The channel offers no way to ask about a delivery (the default).
    CANNOT_RECONCILE = "cannot_reconcile"
    # The destination was asked and has no record of the delivery.
    NOT_RECEIVED = "not_received"


class Reachability(enum.Enum):
    """What ``ping`` learnt; a destination that cannot be reached raises a delivery error."""

    # The destination answered over the channel's transport; nothing was delivered.
    ANSWERED = "answered"
    # The channel has no way to check without delivering something (the default).
    CANNOT_CHECK = "cannot_check"


class Adapter(abc.ABC):
    """One destination channel.

    Class attributes describe the channel and are checked by the registry when it loads:
    ``name`` is the channel id used everywhere (entry point, ``adapters/<name>/``,
    ``mappings/<name>/``, simulator, metric labels). Capabilities are class attributes too, so
    the gateway asks the adapter instead of keeping lists of channel names.
    """

    name: ClassVar[str]
    profile_version: ClassVar[str]
    products: ClassVar[tuple[str, ...]]
    default_product: ClassVar[str]
    content_type: ClassVar[str]
    schema_files: ClassVar[tuple[str, ...]]
    # One delivery (and one payload) per recipient country named in ``destinations[].to``.
    per_recipient: ClassVar[bool] = False
    # A destination of this channel must name at least one recipient country in ``to``.
    needs_recipients: ClassVar[bool] = False

    def __init__(self, codes: CodeTable) -> None:
        """The registry constructs every adapter as ``cls(codes)`` with its checked table."""
        self.codes = codes

    @abc.abstractmethod
    def render(
        self, message: CanonicalMessage, decision: Decision, recipient: str | None = None
    ) -> Payload:
        """Pure and deterministic: the same message and decision give the same bytes.

        The output is validated against the adapter's own schema before it is returned; a
        message the profile cannot express raises ``RenderError`` (no personal data in it).
        """

    @abc.abstractmethod
    def validate_payload(self, body: bytes) -> list[str]:
        """Problems found checking ``body`` against the channel's schema; empty when valid.

        ``render`` applies the same check before it returns (to the tree or document it has
        just built, which is what parsing its bytes would give); the channel's simulator runs it
        on arrival. The problems name paths and rules, never values.
        """

    def sign(self, payload: Payload, signer: PayloadSigner) -> Payload:
        """The rendered payload carrying the gateway's signature in its transport's form.

        Called once at intake, after ``render``; the signed bytes are what is stored, hashed and
        sent. The transport families implement it (``adapters/_signing.py`` has the forms); a
        channel that subclasses none must write its own.
        """
        raise NotImplementedError(f"{self.name} does not say how its payloads are signed")

    def verify_signature(self, body: bytes, headers: Mapping[str, str], keys: KeySet) -> bytes:
        """The payload as rendered, once its signature checks out against ``keys``.

        The receiving side's check (the simulators run it): ``headers`` are the request's, in
        lower case. Raises ``SignatureInvalid`` for a missing, unknown or broken signature.
        """
        raise NotImplementedError(f"{self.name} does not say how its payloads are signed")

    def without_signature(self, body: bytes) -> bytes:
        """The payload as rendered, its signature taken off unchecked: what a receiver that
        does not check signatures reads (a simulator given no keys). Default: unchanged."""
        return body

    @abc.abstractmethod
    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        """Transport only: POST the stored bytes, honouring the context's timeouts.

        Puts ``context.idempotency_key`` and ``context.traceparent`` on the wire. Raises only
        ``TransientError``, ``PermanentError`` or ``OutcomeUnknown``.
        """

    async def status(self, probe: Receipt, context: SendContext) -> Receipt | Unreconciled:
        """After ``OutcomeUnknown``: the destination's receipt for the delivery, if it has one.

        ``probe`` carries what was stored of the last attempt (``reference``, ``http_status``)
        and ``details["idempotency_key"]``; ``context`` is the attempt's, as ``send`` gets it.
        The default cannot ask; the worker then resends. Raises only the delivery errors (the
        worker resends on any of them).
        """
        return Unreconciled.CANNOT_RECONCILE

    async def ping(self, context: SendContext) -> Reachability:
        """Check that the destination at ``context.url`` answers, without delivering anything.

        Raises ``TransientError`` when it cannot be reached and ``PermanentError`` when it never
        will be as configured (TLS verification, an unusable URL). The default cannot check.
        """
        return Reachability.CANNOT_CHECK

    async def aclose(self) -> None:
        """Close what the adapter opened on the running event loop (shutdown, test teardown).

        Safe to call more than once; the adapter stays usable and opens anew when it sends
        again. The default has nothing open.
        """
        return None
