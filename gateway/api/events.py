"""Events for national systems: webhook subscriptions of a sender agency and the inbox.

A sender token manages its own agency's subscriptions and reads its own country's inbox; no
other role has a country and agency to be told about.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.events.outbox import EVENT_TYPES
from gateway.events.subscriptions import SECRET_PREFIX
from gateway.security.identity import Identity
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["events"])

EventTypeName = Literal[
    "delivery.delivered",
    "delivery.failed",
    "delivery.held",
    "delivery.released",
    "delivery.rejected",
    "reply.received",
    "message.expired",
]
assert set(EventTypeName.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]


class SubscriptionIn(BaseModel):
    """A subscription asked for: where to POST, which events, optionally the secret."""

    model_config = {"extra": "forbid"}

    url: str = Field(
        min_length=1,
        max_length=2048,
        description="where events are POSTed: https (http only where the deployment allows "
        "it) on a public address or one of the deployment's allowed networks; no credentials",
    )
    event_types: list[EventTypeName] = Field(min_length=1, max_length=len(EVENT_TYPES))
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="a Standard Webhooks secret (whsec_ and base64 of 24-64 bytes); "
        "generated when left out",
    )

    @field_validator("secret")
    @classmethod
    def _secret_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        raw = value.removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("secret must be whsec_ followed by base64") from None
        if not 24 <= len(key) <= 64:
            raise ValueError("secret must hold 24 to 64 bytes")
        return SECRET_PREFIX + raw


class SubscriptionOut(BaseModel):
    """A subscription as listed; the secret is never shown again."""

    id: str
    country: str
    agency: str
    url: str
    event_types: list[str]
    created_at: str


class SubscriptionCreated(SubscriptionOut):
    """The answer to a new subscription: the one time its secret is shown."""

    secret: str = Field(description="the signing secret; shown only in this answer")


class SubscriptionList(BaseModel):
    """The calling agency's live subscriptions."""

    items: list[SubscriptionOut]


class InboxPage(BaseModel):
    """One page of the inbox and the cursor to read on from."""

    items: list[dict[str, Any]] = Field(description="CloudEvents 1.0, oldest first")
    next_cursor: str = Field(description="pass as ?after= to read on; unchanged when empty")


@router.post(
    "/subscriptions",
    operation_id="createSubscription",
    status_code=201,
    response_model=SubscriptionCreated,
    responses={
        422: {
            "model": ErrorBody,
            "description": "a malformed field, or a URL the gateway does not call "
            "(`webhook_url_refused`: not http(s), http where https is required, credentials "
            "in it, or a host that does not resolve or resolves to a loopback, private, "
            "link-local, multicast, unspecified or reserved address)",
        }
    },
    summary="Subscribe this agency to its events (signed webhooks)",
)
async def create(
    request: Request,
    body: SubscriptionIn,
    identity: Annotated[Identity, Depends(caller_for(Action.SUBSCRIBE))],
) -> SubscriptionCreated:
    """A new subscription of the calling agency."""
    created, secret = await get_context(request).services.events.subscribe(
        identity, url=body.url, event_types=list(body.event_types), secret=body.secret
    )
    return SubscriptionCreated(**created.as_dict(), secret=secret)


@router.get(
    "/subscriptions",
    operation_id="listSubscriptions",
    response_model=SubscriptionList,
    summary="This agency's subscriptions (without secrets)",
)
async def list_(
    request: Request, identity: Annotated[Identity, Depends(caller_for(Action.SUBSCRIBE))]
) -> SubscriptionList:
    """The calling agency's subscriptions."""
    found = await get_context(request).services.events.subscriptions(identity)
    return SubscriptionList(items=[SubscriptionOut(**s.as_dict()) for s in found])


@router.delete(
    "/subscriptions/{subscription_id}",
    operation_id="deleteSubscription",
    status_code=204,
    responses={404: {"model": ErrorBody}},
    summary="End a subscription; notifications not yet sent are dropped (the inbox keeps them)",
)
async def delete(
    request: Request,
    subscription_id: Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")],
    identity: Annotated[Identity, Depends(caller_for(Action.SUBSCRIBE))],
) -> Response:
    """End one of the calling agency's subscriptions; 404 for any other."""
    await get_context(request).services.events.unsubscribe(identity, subscription_id)
    return Response(status_code=204)


@router.get(
    "/inbox",
    operation_id="readInbox",
    response_model=InboxPage,
    responses={422: {"model": ErrorBody}},
    summary="This country's events after a cursor, oldest first (the pull side of webhooks)",
)
async def inbox(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_EVENTS))],
    after: Annotated[
        str, Query(pattern=r"^[0-9]{1,18}$", description="the last cursor read; 0 = start")
    ] = "0",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InboxPage:
    """The calling country's events after ``after``, oldest first."""
    items, cursor = await get_context(request).services.events.inbox(
        identity, after=int(after), limit=limit
    )
    return InboxPage(items=items, next_cursor=str(cursor))
