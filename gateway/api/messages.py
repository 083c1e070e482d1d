"""Messages: intake (POST), status of one message, and the filtered list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from gateway.api.body import read_json_body
from gateway.api.deps import caller_for, get_context
from gateway.api.errors import STATUS
from gateway.api.models import AcceptedMessage, ErrorBody, MessageList, MessageStatusOut
from gateway.errors import ErrorKind, GatewayError
from gateway.schema import SCHEMA_ID
from gateway.security.identity import Identity
from gateway.security.sender_signature import CODES, SIGNATURE_HEADER
from gateway.services.permissions import Action
from gateway.store.states import DeliveryState
from gateway.telemetry import http_server_span, set_attributes

router = APIRouter(prefix="/v1", tags=["messages"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid token"},
    403: {"model": ErrorBody, "description": "the token may not do this"},
}

_SIGNATURE_CODES = "; ".join(f"`{code}`: {text}" for code, text in CODES.items())
SIGNATURE_DESCRIPTION = (
    "The sending agency's detached JWS over the exact request body: JWS compact serialization "
    "(RFC 7515) with an unencoded, detached payload (RFC 7797), i.e. `header..signature` whose "
    'protected header holds `alg` (ES256 or EdDSA), `kid`, `"b64": false` and `"crit": ["b64"]`. '
    "Verified against the keys registered for the message's sender country and agency "
    "(`/v1/sender-keys`). Optional unless the gateway runs with MARRI_SENDER_SIGNATURES=required; "
    "a signature that is sent is always verified."
)


@router.post(
    "/messages",
    operation_id="sendMessage",
    status_code=202,
    response_model=AcceptedMessage,
    summary="Submit a canonical message",
    description=(
        f"Accepts one canonical message ({SCHEMA_ID}). The answer 202 is sent only after the "
        "message and one delivery per destination are durably stored. Repeating the same "
        "message_id with the same content returns the original answer with 200; with other "
        "content, 409. A signature in the Marri-Message-Signature header is verified before "
        "anything is stored, also for a repeat."
    ),
    responses={
        200: {"model": AcceptedMessage, "description": "identical repeat: the original answer"},
        **ERRORS,
        401: {
            "model": ErrorBody,
            "description": f"no valid token, or a signature problem: {_SIGNATURE_CODES}",
        },
        409: {"model": ErrorBody, "description": "message_id reused with different content"},
        413: {"model": ErrorBody, "description": "body too large"},
        415: {"model": ErrorBody, "description": "not application/json"},
        422: {"model": ErrorBody, "description": "every schema violation with its JSON path"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CanonicalMessage"}}
            },
        }
    },
)
async def submit_message(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.SUBMIT))],
    signature: Annotated[
        str | None, Header(alias=SIGNATURE_HEADER, description=SIGNATURE_DESCRIPTION)
    ] = None,
) -> JSONResponse:
    """Accept a canonical message: 202 with its deliveries, 200 replaying an identical repeat."""
    context = get_context(request)
    with http_server_span("POST", "/v1/messages", request.headers.get("traceparent")) as span:
        try:
            raw = await read_json_body(request, context.settings.max_body_bytes)
            answer = await context.intake.accept(raw, identity, signature=signature)
        except GatewayError as exc:
            set_attributes(span, **{"http.response.status_code": STATUS[exc.kind]})
            raise
        set_attributes(span, **{"http.response.status_code": answer.status})
    return JSONResponse(answer.body, status_code=answer.status)


@router.get(
    "/messages/{message_id}",
    operation_id="getMessage",
    response_model=MessageStatusOut,
    summary="Status of one message and each of its deliveries",
    responses={**ERRORS, 404: {"model": ErrorBody, "description": "unknown or not yours"}},
)
async def get_message(
    message_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_MESSAGES))],
) -> dict[str, Any]:
    """A message's status and deliveries; another country's message answers as a missing one."""
    # Another country's message answers exactly like a missing one.
    return await get_context(request).services.messages.status(identity, str(message_id))


@router.get(
    "/messages",
    operation_id="listMessages",
    response_model=MessageList,
    summary="Messages, newest first, filtered and paged",
    responses={**ERRORS, 400: {"model": ErrorBody, "description": "bad cursor"}},
)
async def get_messages(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_MESSAGES))],
    state: Annotated[DeliveryState | None, Query(description="a delivery state")] = None,
    channel: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,31}$")] = None,
    recipient: Annotated[
        str | None,
        Query(pattern=r"^[A-Z]{2}$", description="a country some delivery is addressed to"),
    ] = None,
    sender_country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    since: Annotated[datetime | None, Query(description="received at or after")] = None,
    until: Annotated[datetime | None, Query(description="received before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The caller's messages, newest first, filtered, one cursor page at a time."""
    for stamp in (since, until):
        if stamp is not None and stamp.tzinfo is None:
            raise GatewayError(
                ErrorKind.UNPROCESSABLE,
                "invalid_request",
                "since and until need a time-zone offset",
            )
    items, next_cursor = await get_context(request).services.messages.page(
        identity,
        state=state.value if state else None,
        channel=channel,
        recipient=recipient,
        sender_country=sender_country,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return {"items": items, "next_cursor": next_cursor}
