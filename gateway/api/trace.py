"""``GET /v1/messages/{id}/trace``: the whole timeline of one message, with its trace id."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import AnswerSummary, Decision, ErrorBody, RemoteErrorOut, SenderSummary
from gateway.security.identity import Identity
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["messages"])


class PayloadOut(BaseModel):
    """The stored payload's hash and size; the bytes are never shown."""

    sha256: str
    size: int
    content_type: str | None


class AttemptOut(BaseModel):
    """One send attempt: when, how long, and what came of it."""

    number: int
    started_at: str | None
    ended_at: str | None
    duration_ms: float | None
    outcome: str | None
    error_class: str | None
    http_status: int | None
    detail: str | None
    remote: RemoteErrorOut | None = Field(
        None, description="the destination's own error code and text, scrubbed and bounded"
    )
    worker_id: str
    trace_id: str | None = Field(description="the message's trace, which the attempt is part of")
    span_id: str | None


class DeliveryTraceOut(BaseModel):
    """One delivery's decision, payload, attempts and receipt."""

    id: str
    channel: str
    recipient: str | None
    product: str
    state: str
    decision: Decision
    payload: PayloadOut | None
    idempotency_key: str
    attempt_count: int
    next_attempt_at: str | None
    last_error_class: str | None
    last_http_status: int | None
    delivered_at: str | None
    receipt: dict[str, Any] | None
    attempts: list[AttemptOut]


class ActionOut(BaseModel):
    """An audited action taken on the message or one of its deliveries."""

    seq: int
    at: str | None
    actor: str
    action: str
    subject: str
    reason: str | None
    details: dict[str, Any]


class EventOut(BaseModel):
    """One line of the timeline merged from intake, decisions, attempts, replies and actions."""

    at: str | None
    type: str = Field(
        description="received, validated, signature, decision, rendered, attempt, receipt, "
        "reply, action or notification"
    )
    summary: str
    delivery_id: str | None = None
    channel: str | None = None
    recipient: str | None = None


class NotificationAttemptOut(BaseModel):
    """One try at telling a subscriber."""

    number: int
    started_at: str
    ended_at: str
    outcome: str
    error_class: str | None
    http_status: int | None
    duration_ms: float | None


class NotificationOut(BaseModel):
    """One of the message's events sent to one subscriber."""

    webhook_id: str = Field(description="the webhook-id header, the same on every retry")
    event_id: str
    event_type: str
    sequence: int = Field(description="the event's inbox cursor")
    subscription_id: str
    receiver: str = Field(description="the subscriber's host")
    state: str
    attempt_count: int
    last_http_status: int | None
    last_error_class: str | None
    delivered_at: str | None
    attempts: list[NotificationAttemptOut]


class SignatureOut(BaseModel):
    """The sending agency's detached JWS that verified at intake."""

    signed_by: str = Field(description="country and agency whose key verified the signature")
    country: str
    agency: str
    kid: str = Field(description="the key id in the JWS header, registered for that agency")
    alg: str
    verified_at: str
    jws: str = Field(description="the compact JWS as sent (header..signature, detached)")


class TraceOut(BaseModel):
    """Everything that happened to one message, for an operator following it."""

    message_id: str
    trace_id: str | None = Field(description="OpenTelemetry trace id of the intake")
    traceparent: str | None = Field(description="the intake span's W3C context")
    status: str
    sender: SenderSummary
    kind: str
    priority: str
    received_at: str | None
    content_purged: bool
    signature: SignatureOut | None = Field(
        None, description="the sender's verified signature; null for an unsigned message"
    )
    deliveries: list[DeliveryTraceOut]
    actions: list[ActionOut]
    replies: list[AnswerSummary] = Field(description="answers the channels sent back")
    notifications: list[NotificationOut] = Field(
        description="the events of this message sent to subscribers, with their attempts"
    )
    events: list[EventOut] = Field(description="everything above, in time order")


@router.get(
    "/messages/{message_id}/trace",
    operation_id="getTrace",
    response_model=TraceOut,
    summary="Timeline of one message: decisions, payloads, attempts, receipts, actions",
    description=(
        "Received, validated, each channel's decision with its findings and citations, the "
        "rendered payload's hash and size, every attempt with timing and error class, receipts "
        "and operator actions, in time order, with the OpenTelemetry trace id of the intake. "
        "Another country's message answers 404 like a missing one."
    ),
    responses={
        401: {"model": ErrorBody, "description": "no valid token"},
        403: {"model": ErrorBody, "description": "the token may not do this"},
        404: {"model": ErrorBody, "description": "unknown or not yours"},
    },
)
async def get_trace(
    message_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_MESSAGES))],
) -> dict[str, Any]:
    """The message's full trace; another country's message answers as a missing one."""
    return await get_context(request).services.messages.trace(identity, str(message_id))
