"""``GET /v1/channels/activity``: the Channels page's last hour, for programs and dashboards
(the same figures, for the same caller, as the console shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.security.identity import Identity
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["operator"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid token"},
    403: {"model": ErrorBody, "description": "the token may not read the channels"},
}


class ChannelActivityOut(BaseModel):
    """One channel's last hour, within the caller's countries."""

    channel: str
    delivered_per_min: float = Field(description="attempts delivered per minute, last 5 min")
    failed_per_min: float = Field(description="attempts that did not deliver, per minute")
    p95_ms: float | None = Field(description="95th percentile of attempt time, last 15 min")
    last_success: datetime | None
    oldest_waiting_age_s: float | None = Field(
        description="age of the oldest delivery waiting to be sent, since it was accepted"
    )
    oldest_held_age_s: float | None = Field(
        description="age of the oldest delivery held for review, since it was held"
    )
    delivered_buckets: list[int] = Field(description="last hour in 5-minute buckets, oldest first")
    failed_buckets: list[int]


# The example the published document shows for this answer.
ACTIVITY_EXAMPLE: dict[str, Any] = {
    "channels": [
        {
            "channel": "europol",
            "delivered_per_min": 2.4,
            "failed_per_min": 0.2,
            "p95_ms": 412.0,
            "last_success": "2026-03-04T09:30:03.020000+00:00",
            "oldest_waiting_age_s": 3.1,
            "oldest_held_age_s": None,
            "delivered_buckets": [9, 11, 8, 12, 10, 9, 13, 11, 10, 12, 14, 12],
            "failed_buckets": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1],
        }
    ]
}


class ActivityOut(BaseModel):
    """Every channel's last hour."""

    channels: list[ChannelActivityOut]


@router.get(
    "/channels/activity",
    operation_id="getChannelActivity",
    response_model=ActivityOut,
    summary="Channels: the last hour's attempts, p95, last success, oldest queued and held",
    responses=ERRORS,
)
async def channel_activity(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_CHANNELS))],
) -> ActivityOut:
    """The live figures of the console's Channels page."""
    services = get_context(request).services
    names = [view.channel for view in await services.channels.overview(identity)]
    activity = await services.activity.last_hour(identity, names)
    return ActivityOut(
        channels=[
            ChannelActivityOut.model_validate(view, from_attributes=True)
            for view in activity.values()
        ]
    )
