"""Response bodies of the HTTP API, declared so that the OpenAPI document is exact."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ViolationOut(BaseModel):
    """One problem with the request, at the JSON path where it is."""

    path: str = Field(description="JSON path of the offending element, e.g. $.persons[0].role")
    type: str = Field(description="machine-readable kind of problem")
    message: str = Field(description="what is wrong (never echoes the submitted value)")


class ErrorDetail(BaseModel):
    """The body of every error answer."""

    status: int
    code: str
    message: str
    violations: list[ViolationOut] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    error: ErrorDetail


def _absent(value: object) -> bool:
    """A finding whose rule reads no facts has no ``facts`` key, as intake answers it."""
    return value is None


class Finding(BaseModel):
    """One rule finding that shaped a decision, with the instrument it rests on."""

    rule: str
    cite: str = Field(description="instrument and article the rule rests on")
    outcome: str
    message: str
    facts: list[str] | None = Field(
        None,
        exclude_if=_absent,
        description="for a rule reading the parties table: each fact it read, dated on the "
        "day of the decision, with who confirmed it and the source",
    )


class DecisionBasis(BaseModel):
    """Which facts, read for which day, a decision rested on."""

    as_of: str = Field(description="the day the facts were read for (the transfer's day)")
    facts_version: int = Field(description="the newest fact change the decision saw")
    facts: list[str]


class Decision(BaseModel):
    """The legal-basis decision for one delivery and what it removed.

    The same model in the intake answer, the status and the trace; only the trace, which
    shows what the decision rested on, carries ``pack_hash`` and ``basis``."""

    outcome: str = Field(description="allow, redact, review or deny")
    findings: list[Finding]
    redacted: list[str] = Field(description="JSON paths removed before rendering")
    pack_hash: str | None = Field(
        None, exclude_if=_absent, description="trace only: SHA-256 of the rule pack that decided"
    )
    basis: DecisionBasis | None = Field(
        None,
        exclude_if=_absent,
        description="trace only: which facts, as of which day, the decision rested on",
    )


class AnswerSummary(BaseModel):
    """One stored answer from a channel to a message, without its canonical body."""

    inbound_id: str
    channel: str
    channel_message_id: str
    channel_reference: str | None
    in_reply_to: str | None
    via: str = Field(description="push or poll")
    status: str
    received_at: str
    message_id: str | None
    delivery_id: str | None
    unmapped_codes: int


class AcceptedDelivery(BaseModel):
    """One delivery made for an accepted message, with its decision."""

    id: str
    channel: str
    recipient: str | None
    product: str
    state: str
    decision: Decision
    payload_sha256: str | None = None
    payload_size: int | None = None


class Links(BaseModel):
    """Where to read the message's status and its trace."""

    self: str
    trace: str


class AcceptedSignature(BaseModel):
    """The sender's signature that verified (present only on a signed message)."""

    kid: str
    alg: str
    verified_at: datetime


class AcceptedMessage(BaseModel):
    """The answer to an accepted message (202) or to its identical repeat (200)."""

    message_id: str
    status: str
    received_at: datetime
    deliveries: list[AcceptedDelivery]
    links: Links
    trace_id: str | None
    signature: AcceptedSignature | None = Field(
        None, description="the sender's verified signature; absent on an unsigned message"
    )


class RemoteErrorOut(BaseModel):
    """The destination's own error code and text, bounded and scrubbed of what was sent."""

    code: str | None
    text: str | None


class DeliveryStatus(BaseModel):
    """One delivery of a message as it stands now."""

    id: str
    channel: str
    recipient: str | None
    product: str
    state: str
    decision: Decision
    attempts: int
    next_attempt_at: datetime | None
    last_error_class: str | None
    last_http_status: int | None
    last_remote: RemoteErrorOut | None = Field(
        None, description="what the destination said at the latest attempt (scrubbed)"
    )
    delivered_at: datetime | None
    payload_sha256: str | None
    payload_size: int | None
    updated_at: datetime


class SenderSummary(BaseModel):
    """The sending authority of a message: its country and agency."""

    country: str
    agency: str


class MessageStatusOut(BaseModel):
    """A message's overall status and every delivery."""

    message_id: str
    status: str = Field(description="in_progress, delivered, partial, failed or blocked")
    sender: SenderSummary
    kind: str
    priority: str
    received_at: datetime
    retention_until: str | None
    content_purged: bool
    deliveries: list[DeliveryStatus]
    links: Links


class MessageSummary(BaseModel):
    """One message in a listing, without its deliveries."""

    message_id: str
    status: str
    sender_country: str
    kind: str
    priority: str
    received_at: datetime
    channels: list[str]
    delivery_states: dict[str, int]


class MessageList(BaseModel):
    """A page of messages and the cursor to the next."""

    items: list[MessageSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= to get the next page")
