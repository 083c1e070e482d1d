"""Review of held deliveries: an approver releases (→ queued) or rejects (→ cancelled) a
delivery the legal-basis rules sent for review. The reason is required and audited; the token
that sent the message can never approve it (four eyes), and senders cannot approve at all."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gateway.api.deps import get_context, require_roles
from gateway.api.models import ErrorBody
from gateway.api.operator import (
    DEFAULT_DEADLINE_S,
    STATE_ERRORS,
    DeliveryActionOut,
    action_out,
    channel_of,
    deadline_for,
    refused,
)
from gateway.delivery.actions import ActionRefused, review_held
from gateway.security.identity import Identity
from gateway.store.tables import utcnow

router = APIRouter(prefix="/v1", tags=["review"])

Approver = Annotated[Identity, Depends(require_roles("approver"))]


class ReviewRequest(BaseModel):
    """The approver's reason, kept in the audit log and on the delivery."""

    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S")


REVIEW_ERRORS = {
    **STATE_ERRORS,
    422: {"model": ErrorBody, "description": "reason missing or empty"},
}


async def _review(
    request: Request, delivery_id: UUID, identity: Identity, reason: str, *, release: bool
) -> DeliveryActionOut:
    context = get_context(request)
    key = str(delivery_id)
    channel = await channel_of(context, key)
    deadline_s = deadline_for(context, channel) if channel else DEFAULT_DEADLINE_S
    try:
        result = await context.store.write(
            lambda conn: review_held(
                conn,
                key,
                identity,
                release=release,
                reason=reason,
                now=utcnow(),
                deadline_s=deadline_s,
            )
        )
    except ActionRefused as exc:
        raise refused(exc) from None
    return action_out(result)


@router.post(
    "/deliveries/{delivery_id}/release",
    response_model=DeliveryActionOut,
    summary="Release a held delivery",
    description="held → queued (due now). Approver role only; not with the token that sent "
    "the message; reason required.",
    responses=REVIEW_ERRORS,
)
async def release(
    delivery_id: UUID, request: Request, identity: Approver, body: ReviewRequest
) -> DeliveryActionOut:
    return await _review(request, delivery_id, identity, body.reason, release=True)


@router.post(
    "/deliveries/{delivery_id}/reject",
    response_model=DeliveryActionOut,
    summary="Reject a held delivery",
    description="held → cancelled. Approver role only; not with the token that sent the "
    "message; reason required.",
    responses=REVIEW_ERRORS,
)
async def reject(
    delivery_id: UUID, request: Request, identity: Approver, body: ReviewRequest
) -> DeliveryActionOut:
    return await _review(request, delivery_id, identity, body.reason, release=False)
