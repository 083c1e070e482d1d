"""Operator actions: retry, cancel, re-drive dead letters, pause and resume channels, and the
channel overview. Operators (and admins) only; every action is audited with its reason, and a
delivery outside the caller's country scope answers 404 as if it did not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from gateway.api.deps import get_context, require_roles
from gateway.api.errors import ApiError
from gateway.api.models import ErrorBody
from gateway.context import GatewayContext
from gateway.delivery.actions import (
    ActionRefused,
    ActionResult,
    cancel_delivery,
    channel_overview,
    redrive_channel,
    retry_delivery,
    switch_channel,
)
from gateway.security.identity import Identity
from gateway.store.tables import deliveries, utcnow

router = APIRouter(prefix="/v1", tags=["operator"])

Operator = Annotated[Identity, Depends(require_roles("operator", "admin"))]
DEFAULT_DEADLINE_S = 24 * 3600.0

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid token"},
    403: {"model": ErrorBody, "description": "the token may not do this"},
    404: {"model": ErrorBody, "description": "unknown, or outside the caller's scope"},
}
STATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": ErrorBody, "description": "not possible in the delivery's current state"},
}


class ActionRequest(BaseModel):
    """Why the operator acts; kept in the audit log."""

    reason: str | None = Field(default=None, max_length=2000)


class DeliveryActionOut(BaseModel):
    delivery_id: str
    message_id: str
    channel: str
    previous_state: str
    state: str
    next_attempt_at: datetime | None


class RedriveOut(BaseModel):
    channel: str
    requeued: int = Field(description="failed deliveries put back in the queue")


class ChannelSwitchOut(BaseModel):
    channel: str
    paused: bool


class ChannelOut(BaseModel):
    channel: str
    configured: bool = Field(description="the channel has a destination URL in settings")
    paused: bool
    breaker_state: Literal["closed", "open", "half_open"]
    consecutive_failures: int
    open_until: datetime | None
    counts: dict[str, int] = Field(description="deliveries by state, within the caller's scope")
    oldest_due_age_s: float | None = Field(
        description="how long the longest-waiting due delivery has been due; null if none"
    )


class ChannelsOut(BaseModel):
    channels: list[ChannelOut]


def action_out(result: ActionResult) -> DeliveryActionOut:
    return DeliveryActionOut(
        delivery_id=result.delivery_id,
        message_id=result.message_id,
        channel=result.channel,
        previous_state=result.previous_state,
        state=result.state,
        next_attempt_at=result.next_attempt_at,
    )


def refused(exc: ActionRefused) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


def deadline_for(context: GatewayContext, channel: str) -> float:
    settings = context.settings.channel(channel)
    return settings.retry.deadline_s if settings else DEFAULT_DEADLINE_S


def _known_channel(context: GatewayContext, channel: str) -> None:
    if channel not in context.registry.names() and context.settings.channel(channel) is None:
        raise ApiError(404, "unknown_channel", "no such channel")


async def channel_of(context: GatewayContext, delivery_id: str) -> str | None:
    """The delivery's channel (to pick its retry settings), or None when absent."""
    return await context.store.read(
        lambda conn: conn.execute(
            select(deliveries.c.channel).where(deliveries.c.id == delivery_id)
        ).scalar()
    )


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryActionOut,
    summary="Retry a delivery now",
    description="failed, retry_wait or unknown → queued and due now, with a fresh set of "
    "attempts and a new deadline.",
    responses=STATE_ERRORS,
)
async def retry_now(
    delivery_id: UUID,
    request: Request,
    identity: Operator,
    body: Annotated[ActionRequest | None, Body()] = None,
) -> DeliveryActionOut:
    context = get_context(request)
    key = str(delivery_id)
    channel = await channel_of(context, key)
    deadline_s = deadline_for(context, channel) if channel else DEFAULT_DEADLINE_S
    reason = body.reason if body else None
    try:
        result = await context.store.write(
            lambda conn: retry_delivery(
                conn, key, identity, reason=reason, now=utcnow(), deadline_s=deadline_s
            )
        )
    except ActionRefused as exc:
        raise refused(exc) from None
    return action_out(result)


@router.post(
    "/deliveries/{delivery_id}/cancel",
    response_model=DeliveryActionOut,
    summary="Cancel a delivery",
    description="held, queued, retry_wait, unknown or failed → cancelled. A delivery being "
    "sent right now cannot be cancelled (409); try again once its attempt ends.",
    responses=STATE_ERRORS,
)
async def cancel(
    delivery_id: UUID,
    request: Request,
    identity: Operator,
    body: Annotated[ActionRequest | None, Body()] = None,
) -> DeliveryActionOut:
    context = get_context(request)
    key = str(delivery_id)
    reason = body.reason if body else None
    try:
        result = await context.store.write(
            lambda conn: cancel_delivery(conn, key, identity, reason=reason, now=utcnow())
        )
    except ActionRefused as exc:
        raise refused(exc) from None
    return action_out(result)


@router.post(
    "/channels/{channel}/redrive",
    response_model=RedriveOut,
    summary="Put a channel's dead letters back in the queue",
    description="Every failed delivery of the channel (within the caller's country scope) → "
    "queued, due now, with a fresh set of attempts.",
    responses=ERRORS,
)
async def redrive(
    channel: str,
    request: Request,
    identity: Operator,
    body: Annotated[ActionRequest | None, Body()] = None,
) -> RedriveOut:
    context = get_context(request)
    _known_channel(context, channel)
    reason = body.reason if body else None
    deadline_s = deadline_for(context, channel)
    count = await context.store.write(
        lambda conn: redrive_channel(
            conn, channel, identity, reason=reason, now=utcnow(), deadline_s=deadline_s
        )
    )
    return RedriveOut(channel=channel, requeued=count)


async def _switch(
    request: Request, channel: str, identity: Identity, body: ActionRequest | None, paused: bool
) -> ChannelSwitchOut:
    context = get_context(request)
    _known_channel(context, channel)
    reason = body.reason if body else None
    try:
        await context.store.write(
            lambda conn: switch_channel(
                conn, channel, identity, paused=paused, reason=reason, now=utcnow()
            )
        )
    except ActionRefused as exc:
        raise refused(exc) from None
    return ChannelSwitchOut(channel=channel, paused=paused)


@router.post(
    "/channels/{channel}/pause",
    response_model=ChannelSwitchOut,
    summary="Pause a channel",
    description="Workers stop claiming the channel's deliveries; they wait without spending "
    "attempts. Needs a regional operator token (it affects every country).",
    responses=ERRORS,
)
async def pause(
    channel: str,
    request: Request,
    identity: Operator,
    body: Annotated[ActionRequest | None, Body()] = None,
) -> ChannelSwitchOut:
    return await _switch(request, channel, identity, body, True)


@router.post(
    "/channels/{channel}/resume",
    response_model=ChannelSwitchOut,
    summary="Resume a paused channel",
    responses=ERRORS,
)
async def resume(
    channel: str,
    request: Request,
    identity: Operator,
    body: Annotated[ActionRequest | None, Body()] = None,
) -> ChannelSwitchOut:
    return await _switch(request, channel, identity, body, False)


@router.get(
    "/channels",
    response_model=ChannelsOut,
    summary="Channels: deliveries by state, breaker, pause, oldest due age",
    responses={401: ERRORS[401], 403: ERRORS[403]},
)
async def list_channels(
    request: Request,
    identity: Annotated[
        Identity, Depends(require_roles("operator", "approver", "auditor", "admin"))
    ],
) -> ChannelsOut:
    context = get_context(request)
    configured = set(context.settings.all_channels())
    known = set(context.registry.names())
    views = await context.store.read(
        lambda conn: channel_overview(
            conn, identity, configured=configured, known=known, now=utcnow()
        )
    )
    return ChannelsOut(
        channels=[ChannelOut.model_validate(view, from_attributes=True) for view in views]
    )
