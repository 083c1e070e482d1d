"""Answers from the channels: the push endpoint, a message's replies, the unmatched list.

``POST /v1/channels/{channel}/inbound`` is called by a channel, not by a national system: it is
authenticated with the channel's own credential (or a client certificate named for the
channel) and a sender's API token is refused there. The answer is stored before the 202.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.api.body import read_capped
from gateway.api.deps import caller_for, get_context
from gateway.api.errors import HeaderedRefusal
from gateway.api.models import AnswerSummary, ErrorBody
from gateway.errors import ErrorKind, GatewayError
from gateway.exchange.views import message_replies, unmatched_answers
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.security.mtls import client_cert_pem
from gateway.services.permissions import Action, bound_to_one_country

router = APIRouter(prefix="/v1", tags=["replies"])

XML_TYPES = frozenset({"text/xml", "application/xml", "application/soap+xml"})


def _refusal(exc: GatewayError) -> GatewayError:
    """A channel without the right credential is told how to authenticate."""
    if exc.kind is ErrorKind.UNAUTHENTICATED:
        return HeaderedRefusal(exc.kind, exc.code, exc.message, {"WWW-Authenticate": "Bearer"})
    return exc


class InboundOut(BaseModel):
    """How the gateway took one answer from a channel: stored, matched or not."""

    inbound_id: str
    channel: str
    channel_message_id: str = Field(description="the channel's own id of this answer")
    status: str = Field(description="matched, unmatched (kept for operators) or invalid")
    message_id: str | None = Field(description="the message this answers, when matched")
    delivery_id: str | None
    reply_id: str | None = Field(description="message_id of the canonical kind: reply message")
    unmapped_codes: int = Field(description="channel codes kept raw: no canonical code for them")
    received_at: str


class AnswerSummaryOut(AnswerSummary):
    """One stored answer to a message, without its canonical body, with its retention."""

    expires_at: str | None = Field(
        description="an unmatched answer's retention date: its content is erased then"
    )
    purged_at: str | None = Field(description="when its content was erased, if it was")


class UnmappedOut(BaseModel):
    """A channel value the reply could not map to a canonical code, kept for operators."""

    path: str
    list: str
    value: str = Field(description="the channel's value, as it came")
    reason: str


class ReplyOut(AnswerSummaryOut):
    """An answer with its canonical reply and what did not map."""

    reply: dict[str, Any] | None = Field(description="the canonical message (kind: reply)")
    unmapped: list[UnmappedOut]
    problems: list[str]


class RepliesOut(BaseModel):
    """Every answer to one message, oldest first."""

    message_id: str
    replies: list[ReplyOut] = Field(description="oldest first")


def admit_channel(request: Request, channel: str) -> None:
    """Admit only the channel itself (its credential or certificate), before its body is read."""
    service = get_context(request).inbound
    try:
        service.receiver(channel)
        service.authenticate(
            channel, request.headers.get("authorization"), client_cert_pem(request.scope)
        )
    except GatewayError as exc:
        raise _refusal(exc) from None


async def _read_xml_body(request: Request, max_bytes: int) -> bytes:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in XML_TYPES and media_type != "application/json":
        raise GatewayError(
            ErrorKind.UNSUPPORTED_MEDIA, "unsupported_media_type", "send the answer as XML"
        )
    return await read_capped(request, max_bytes)


@router.post(
    "/channels/{channel}/inbound",
    operation_id="receiveChannelAnswer",
    response_model=InboundOut,
    status_code=202,
    summary="An answer pushed by a channel (channel credential or certificate, not a token)",
    description=(
        "The channel's own answer format (its inbound schema in the adapter's schema folder). "
        "202 once stored; 200 with the same answer for a repeat of the same channel message "
        "id and bytes; 409 when that id came before with other bytes. An answer that matches "
        "no message is stored too (status unmatched) and listed for operators."
    ),
    responses={
        200: {"model": InboundOut, "description": "a repeat: the original answer"},
        400: {"model": ErrorBody, "description": "not well-formed, or unsafe XML"},
        401: {"model": ErrorBody, "description": "not this channel's credential"},
        404: {"model": ErrorBody, "description": "no such channel, or it does not push"},
        409: {"model": ErrorBody, "description": "channel message id reused with other bytes"},
        413: {"model": ErrorBody, "description": "body over the channel's cap"},
        415: {"model": ErrorBody, "description": "not XML or JSON"},
        422: {"model": ErrorBody, "description": "fails the channel's inbound schema"},
    },
)
async def receive_inbound(
    request: Request,
    channel: Annotated[str, Path(max_length=32, pattern=r"^[a-z][a-z0-9_]{1,31}$")],
) -> JSONResponse:
    """A channel pushes an answer; the channel's own credential authenticates it, not a token."""
    service = get_context(request).inbound
    admit_channel(request, channel)
    try:
        body = await _read_xml_body(request, service.max_bytes(channel))
        answer = await service.receive_push(channel, body, dict(request.headers))
    except GatewayError as exc:
        raise _refusal(exc) from None
    return JSONResponse(answer.body, status_code=202 if answer.new else 200)


@router.get(
    "/messages/{message_id}/replies",
    operation_id="getReplies",
    response_model=RepliesOut,
    summary="Replies the channels sent to one message, in canonical form",
    description=(
        "Each answer correlated to the message: the canonical kind: reply message (names in "
        "the scripts they came in plus their ICAO Latin form; codes mapped back through the "
        "channel's code table) and the channel values no canonical code stands for, kept raw. "
        "Another country's message answers 404 like a missing one."
    ),
    responses={404: {"model": ErrorBody, "description": "unknown or not yours"}},
)
async def get_replies(
    message_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_MESSAGES))],
) -> dict[str, Any]:
    """The answers to a message, for the country that sent it (others get 404)."""
    context = get_context(request)
    mid = str(message_id)
    replies = await context.store.read(lambda conn: message_replies(conn, context.keyring, mid))
    if not bound_to_one_country(identity.role) and replies:
        # Staff reading personal data in answers is audited like a payload read.
        await context.store.write(
            lambda conn: append_audit(
                conn,
                actor=identity.actor,
                action="replies.read",
                subject=f"message:{mid}",
                details={"replies": len(replies)},
            )
        )
    return {"message_id": mid, "replies": replies}


@router.get(
    "/inbound/unmatched",
    operation_id="listUnmatchedAnswers",
    response_model=list[AnswerSummaryOut],
    summary="Answers from channels that matched no message (newest first)",
    description=(
        "Kept, never dropped: an answer whose references match no message sent on that "
        "channel, or one that could not be expressed as a canonical reply. No content is shown "
        "here; the answer's bytes stay sealed until its retention date (`expires_at`, "
        "`MARRI_RETENTION_UNMATCHED_ANSWER_DAYS` after it came), when the retention job erases "
        "them (`purged_at`). Needs a token that sees every country."
    ),
)
async def get_unmatched(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_UNMATCHED))],
) -> list[dict[str, Any]]:
    """Answers no sent delivery matched, kept for operators to look at."""
    context = get_context(request)
    return await context.store.read(unmatched_answers)
