"""Review of held deliveries: an approver releases (→ queued) or rejects (→ cancelled) a
delivery the legal-basis rules sent for review. The reason is required and audited; the token
that sent the message can never approve it (four eyes), and senders cannot approve at all."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.api.operator import STATE_ERRORS, DeliveryActionOut, action_out
from gateway.security.identity import Identity
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["review"])


class ReviewRequest(BaseModel):
    """The approver's reason, kept in the audit log and on the delivery."""

    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S")


REVIEW_ERRORS = {
    **STATE_ERRORS,
    422: {"model": ErrorBody, "description": "reason missing or empty"},
}


@router.post(
    "/deliveries/{delivery_id}/release",
    operation_id="releaseDelivery",
    response_model=DeliveryActionOut,
    summary="Release a held delivery",
    description="held → queued (due now). Approver role only; not with the token that sent "
    "the message; reason required.",
    responses=REVIEW_ERRORS,
)
async def release(
    delivery_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.RELEASE))],
    body: ReviewRequest,
) -> DeliveryActionOut:
    """An approver lets a held delivery go; the reason is audited."""
    actions = get_context(request).services.deliveries
    return action_out(await actions.release(identity, str(delivery_id), body.reason))


@router.post(
    "/deliveries/{delivery_id}/reject",
    operation_id="rejectDelivery",
    response_model=DeliveryActionOut,
    summary="Reject a held delivery",
    description="held → cancelled. Approver role only; not with the token that sent the "
    "message; reason required.",
    responses=REVIEW_ERRORS,
)
async def reject(
    delivery_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.REJECT))],
    body: ReviewRequest,
) -> DeliveryActionOut:
    """An approver refuses a held delivery for good; the reason is audited."""
    actions = get_context(request).services.deliveries
    return action_out(await actions.reject(identity, str(delivery_id), body.reason))
