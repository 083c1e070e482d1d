"""``GET /v1/messages/{id}/trace``: the whole timeline of one message, with its trace id."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from gateway.api.deps import get_context, require_roles
from gateway.api.errors import ApiError
from gateway.api.models import ErrorBody
from gateway.security.identity import Identity
from gateway.telemetry.timeline import message_trace

router = APIRouter(prefix="/v1", tags=["messages"])

READERS = ("sender", "operator", "approver", "auditor", "admin")


@router.get(
    "/messages/{message_id}/trace",
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
    identity: Annotated[Identity, Depends(require_roles(*READERS))],
) -> dict[str, Any]:
    context = get_context(request)
    view = await context.store.read(lambda conn: message_trace(conn, str(message_id)))
    if view is None or not identity.can_see_country(view["sender"]["country"]):
        raise ApiError(404, "not_found", "no such message")
    return view
