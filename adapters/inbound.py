"""The inbound half of the adapter contract: answers a channel sends back to the gateway.

A channel answers in one of two ways, and its adapter declares which:

- **push** — the channel calls us: the adapter has ``parse_inbound(body, headers)``, which the
  gateway's ``POST /v1/channels/{channel}/inbound`` runs on the bytes it received;
- **poll** — we must fetch: the adapter has ``async poll(context)``, which a poller task runs
  with a cursor the gateway keeps in its database.

Both give ``InboundMessage`` values: the channel's own message id (the idempotency key), what
the answer refers to, and its content with every code still in the channel's own vocabulary
(the gateway maps codes back through the channel's code table, so one table serves both
directions). A body that cannot be read raises ``InboundError``, whose text names the rule
broken and paths, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

__all__ = [
    "DEFAULT_MAX_INBOUND_BYTES",
    "InboundError",
    "InboundMessage",
    "InboundName",
    "InboundPerson",
    "InboundPoller",
    "InboundReceiver",
    "PollBatch",
    "PollContext",
    "inbound_mode",
]

DEFAULT_MAX_INBOUND_BYTES = 1_048_576

InboundProblem = Literal["malformed", "too_large", "schema_invalid"]


class InboundError(ValueError):
    """Bytes from a channel that are not an answer its profile describes; nothing is stored.

    ``problem`` is ``malformed`` (not XML/JSON, or unsafe XML), ``too_large`` or
    ``schema_invalid``; ``problems`` are paths and rules without values.
    """

    def __init__(self, problem: InboundProblem, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problem: InboundProblem = problem
        self.problems = problems or []


@dataclass(frozen=True)
class InboundName:
    """One written form of a name, in the script the channel wrote it in (ISO 15924)."""

    given: str | None
    family: str | None
    script: str = "Latn"


@dataclass(frozen=True)
class InboundPerson:
    """A person in an answer; codes are the channel's own values, not yet mapped back."""

    names: tuple[InboundName, ...]
    role: str | None = None
    sex: str | None = None
    nationalities: tuple[str, ...] = ()
    birth_date: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """One answer from a channel, as its profile describes it.

    ``channel_message_id`` is the channel's own id for this answer (repeats carry the same one).
    ``in_reply_to`` is the originator reference the channel echoes (our message id as the
    outbound payload carried it); ``channel_reference`` is the channel's own case, response or
    request reference, which may also be the receipt reference it gave for our delivery.
    ``codes`` holds message-level codes by canonical code list (``restriction``,
    ``classification``), in the channel's values.
    """

    channel: str
    channel_message_id: str
    subject: str
    in_reply_to: str | None = None
    channel_reference: str | None = None
    from_country: str | None = None
    from_agency: str | None = None
    sent_at: datetime | None = None
    text: str | None = None
    codes: Mapping[str, str] = field(default_factory=dict)
    persons: tuple[InboundPerson, ...] = ()


@dataclass(frozen=True)
class PollContext:
    """What ``poll`` needs besides the adapter: where, from which cursor, within which limits."""

    url: str
    cursor: str | None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    verify: Any = True
    max_bytes: int = DEFAULT_MAX_INBOUND_BYTES
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PollBatch:
    """Answers fetched in one poll and the cursor to ask from next time (None: unchanged)."""

    messages: tuple[InboundMessage, ...]
    cursor: str | None


@runtime_checkable
class InboundReceiver(Protocol):
    """An adapter whose channel pushes its answers to the gateway."""

    name: ClassVar[str]
    inbound_schema_files: ClassVar[tuple[str, ...]]

    def parse_inbound(self, body: bytes, headers: Mapping[str, str]) -> InboundMessage:
        """Parse (hardened parser) and check (the inbound schema) one pushed answer."""
        ...


@runtime_checkable
class InboundPoller(Protocol):
    """An adapter whose channel must be asked for its answers."""

    name: ClassVar[str]
    inbound_schema_files: ClassVar[tuple[str, ...]]
    poll_path: ClassVar[str]

    async def poll(self, context: PollContext) -> PollBatch:
        """Fetch the answers after ``context.cursor``; raises the delivery error classes."""
        ...


def inbound_mode(adapter: object) -> Literal["push", "poll"] | None:
    """How the adapter's channel answers, or None when it declares no inbound side."""
    if callable(getattr(adapter, "parse_inbound", None)):
        return "push"
    if callable(getattr(adapter, "poll", None)):
        return "poll"
    return None
