"""Operator actions: retry, cancel, re-drive dead letters, pause and resume channels, and the
channel overview. The services (``gateway.services``) check the permission table, act and
audit; this router only turns their answers into HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Request
from pydantic import AwareDatetime, BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.delivery.transitions import ActionResult
from gateway.security.identity import Identity
from gateway.services.channels import DeadLetters
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["operator"])

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
    """A delivery before and after an operator action."""

    delivery_id: str
    message_id: str
    channel: str
    previous_state: str
    state: str
    next_attempt_at: datetime | None


class RedriveOut(BaseModel):
    """How many failed deliveries a re-drive put back in the queue."""

    channel: str
    requeued: int = Field(description="failed deliveries put back in the queue")
    held: list[str] = Field(
        default_factory=list,
        description="ids of dead letters that, decided again on the re-drive's day, need a "
        "review: held instead of queued",
    )
    blocked: list[str] = Field(
        default_factory=list,
        description="ids of dead letters that the rules of the re-drive's day refuse: blocked "
        "instead of queued (their findings say why)",
    )


class RedriveMatching(BaseModel):
    """Which dead letters to send again (the message list's filters) and why."""

    reason: str = Field(min_length=1, max_length=2000, description="kept in the audit log")
    channel: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,31}$")
    recipient: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    sender_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    since: AwareDatetime | None = Field(default=None, description="received at or after")
    until: AwareDatetime | None = Field(default=None, description="received before")


class RedriveMatchingOut(BaseModel):
    """What a filtered re-drive did."""

    requeued: int
    held: list[str] = Field(default_factory=list)
    blocked: list[str] = Field(default_factory=list)


class ChannelSwitchOut(BaseModel):
    """A channel's paused flag after pause or resume."""

    channel: str
    paused: bool


class ChannelTestOut(BaseModel):
    """What the channel adapter's probe of its destination found (nothing was delivered)."""

    channel: str
    outcome: Literal["answered", "cannot_check", "unreachable", "refused"]
    duration_ms: float
    error_class: str | None = Field(
        default=None, description="the error's class when the destination did not answer"
    )


class ChannelOut(BaseModel):
    """One channel's configuration and gate as operators see it."""

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
    """Every channel's gate."""

    channels: list[ChannelOut]


def action_out(result: ActionResult) -> DeliveryActionOut:
    """The service's action result as the API answers it."""
    return DeliveryActionOut(
        delivery_id=result.delivery_id,
        message_id=result.message_id,
        channel=result.channel,
        previous_state=result.previous_state,
        state=result.state,
        next_attempt_at=result.next_attempt_at,
    )


def _reason(body: ActionRequest | None) -> str | None:
    return body.reason if body else None


@router.post(
    "/deliveries/{delivery_id}/retry",
    operation_id="retryDelivery",
    response_model=DeliveryActionOut,
    summary="Retry a delivery now",
    description="failed, retry_wait or unknown → queued and due now, with a fresh set of "
    "attempts and a new deadline.",
    responses=STATE_ERRORS,
)
async def retry_now(
    delivery_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.RETRY))],
    body: Annotated[ActionRequest | None, Body()] = None,
) -> DeliveryActionOut:
    """Send a waiting delivery now instead of at its next attempt time."""
    actions = get_context(request).services.deliveries
    return action_out(await actions.retry(identity, str(delivery_id), _reason(body)))


@router.post(
    "/deliveries/{delivery_id}/redrive",
    operation_id="redriveDelivery",
    response_model=DeliveryActionOut,
    summary="Re-drive one dead letter",
    description="failed → queued and due now, with a fresh set of attempts, after deciding it "
    "again with the facts of the day (blocked or held instead when they say so). Audited as "
    "delivery.redrive.",
    responses=STATE_ERRORS,
)
async def redrive_one(
    delivery_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.REDRIVE))],
    body: Annotated[ActionRequest | None, Body()] = None,
) -> DeliveryActionOut:
    """Send a dead letter again."""
    actions = get_context(request).services.deliveries
    return action_out(await actions.redrive(identity, str(delivery_id), _reason(body)))


@router.post(
    "/deliveries/{delivery_id}/cancel",
    operation_id="cancelDelivery",
    response_model=DeliveryActionOut,
    summary="Cancel a delivery",
    description="held, queued, retry_wait, unknown or failed → cancelled. A delivery being "
    "sent right now cannot be cancelled (409); try again once its attempt ends.",
    responses=STATE_ERRORS,
)
async def cancel(
    delivery_id: UUID,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.CANCEL))],
    body: Annotated[ActionRequest | None, Body()] = None,
) -> DeliveryActionOut:
    """Cancel a delivery that is not yet delivered; audited with the reason given."""
    actions = get_context(request).services.deliveries
    return action_out(await actions.cancel(identity, str(delivery_id), _reason(body)))


@router.post(
    "/channels/{channel}/redrive",
    operation_id="redriveChannel",
    response_model=RedriveOut,
    summary="Put a channel's dead letters back in the queue",
    description="Every failed delivery of the channel (within the caller's country scope) is "
    "decided again with the facts of the day and goes → queued, due now, with a fresh set of "
    "attempts; one the day's rules refuse is blocked, one that needs a review is held.",
    responses=ERRORS,
)
async def redrive(
    channel: str,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.REDRIVE))],
    body: Annotated[ActionRequest | None, Body()] = None,
) -> RedriveOut:
    """Put a channel's failed deliveries back in the queue."""
    channels = get_context(request).services.channels
    done = await channels.redrive(identity, channel, _reason(body))
    return RedriveOut(channel=channel, requeued=done.requeued, held=done.held, blocked=done.blocked)


@router.post(
    "/deliveries/redrive",
    operation_id="redriveDeadLetters",
    response_model=RedriveMatchingOut,
    summary="Put the dead letters a filter matches back in the queue",
    description="Every failed delivery that matches (channel, recipient, sender country, "
    "received between; within the caller's country scope) is decided again with the facts of "
    "the day and goes → queued, due now; one the day's rules refuse is blocked, one that needs "
    "a review is held. The reason is required and audited, as delivery.redrive with the filter.",
    responses=ERRORS,
)
async def redrive_matching(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.REDRIVE))],
    body: Annotated[RedriveMatching, Body()],
) -> RedriveMatchingOut:
    """Re-drive a filtered list of dead letters."""
    which = DeadLetters(
        channel=body.channel,
        recipient=body.recipient,
        sender_country=body.sender_country,
        since=body.since,
        until=body.until,
    )
    done = await get_context(request).services.channels.redrive_matching(
        identity, which, body.reason
    )
    return RedriveMatchingOut(requeued=done.requeued, held=done.held, blocked=done.blocked)


@router.post(
    "/channels/{channel}/pause",
    operation_id="pauseChannel",
    response_model=ChannelSwitchOut,
    summary="Pause a channel",
    description="Workers stop claiming the channel's deliveries; they wait without spending "
    "attempts. Needs a regional operator token (it affects every country).",
    responses=ERRORS,
)
async def pause(
    channel: str,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.PAUSE))],
    body: Annotated[ActionRequest | None, Body()] = None,
) -> ChannelSwitchOut:
    """Stop sending on a channel; queued deliveries wait until it is resumed."""
    channels = get_context(request).services.channels
    paused = await channels.pause(identity, channel, _reason(body))
    return ChannelSwitchOut(channel=channel, paused=paused)


@router.post(
    "/channels/{channel}/resume",
    operation_id="resumeChannel",
    response_model=ChannelSwitchOut,
    summary="Resume a paused channel",
    responses=ERRORS,
)
async def resume(
    channel: str,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.RESUME))],
    body: Annotated[ActionRequest | None, Body()] = None,
) -> ChannelSwitchOut:
    """Send on a paused channel again."""
    channels = get_context(request).services.channels
    paused = await channels.resume(identity, channel, _reason(body))
    return ChannelSwitchOut(channel=channel, paused=paused)


@router.post(
    "/channels/{channel}/test",
    operation_id="testChannel",
    response_model=ChannelTestOut,
    summary="Test the connection to a channel's destination",
    description="Runs the channel adapter's probe (``ping``): it reaches the destination over "
    "the channel's transport and delivers nothing. Audited as channel.test with the outcome.",
    responses=ERRORS,
)
async def probe_channel(
    channel: str,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.TEST_CHANNEL))],
    body: Annotated[ActionRequest | None, Body()] = None,
) -> ChannelTestOut:
    """Ask the destination whether it answers."""
    probe = get_context(request).services.probe
    result = await probe.test(identity, channel, _reason(body))
    return ChannelTestOut.model_validate(result, from_attributes=True)


@router.get(
    "/channels",
    operation_id="listChannels",
    response_model=ChannelsOut,
    summary="Channels: deliveries by state, breaker, pause, oldest due age",
    responses={401: ERRORS[401], 403: ERRORS[403]},
)
async def list_channels(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_CHANNELS))],
) -> ChannelsOut:
    """Every channel's configuration, pause flag and breaker."""
    views = await get_context(request).services.channels.overview(identity)
    return ChannelsOut(
        channels=[ChannelOut.model_validate(view, from_attributes=True) for view in views]
    )
