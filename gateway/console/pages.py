"""Read-only pages: channel overview, message list with filters and paging, one message."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from gateway.console.session import Session
from gateway.console.web import context_of, current_session, render
from gateway.delivery.transitions import CANCELLABLE, REVIEWABLE
from gateway.errors import ErrorKind, GatewayError
from gateway.security.identity import Identity
from gateway.services.permissions import Action, may, visible_countries
from gateway.store.states import DeliveryState

router = APIRouter()

PAGE_SIZE = 25
LIVE_REFRESH_S = 5  # how often the Channels page fetches its figures again
MARRI_COUNTRIES = ("AL", "BA", "ME", "MK", "RS", "XK")
COLUMNS = ("queued", "retry_wait", "sending", "unknown", "failed", "blocked", "held", "delivered")
S = DeliveryState
# The console's delivery buttons in page order: the action each performs and the states it
# is offered in (the services check both again when the form is sent).
BUTTONS: tuple[tuple[str, Action, frozenset[DeliveryState]], ...] = (
    ("redrive", Action.REDRIVE, frozenset({S.FAILED})),
    ("retry", Action.RETRY, frozenset({S.RETRY_WAIT, S.UNKNOWN})),
    ("cancel", Action.CANCEL, CANCELLABLE),
    ("release", Action.RELEASE, REVIEWABLE),
    ("reject", Action.REJECT, REVIEWABLE),
)


def actions_for(identity: Identity, state: str) -> tuple[str, ...]:
    """The buttons a delivery in ``state`` shows to this caller."""
    return tuple(
        name for name, action, states in BUTTONS if state in states and may(identity, action)
    )


def zone_of(name: str) -> tzinfo:
    """The browser's zone the form names (``console.js`` fills it in); UTC without one."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def day_bound(text: str | None, zone: tzinfo, *, end: bool = False) -> datetime | None:
    """A date filter from the form (``YYYY-MM-DD``, a day in ``zone``) as a UTC instant: its
    start, or for ``end`` the start of the next day (the end date is inclusive)."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


async def _overview_values(request: Request, session: Session) -> dict[str, Any]:
    services = context_of(request).services
    rows = await services.channels.overview(session.identity)
    activity = await services.activity.last_hour(session.identity, [r.channel for r in rows])
    return {
        "title": "Channels",
        "rows": rows,
        "activity": activity,
        "now": datetime.now(UTC),
        "columns": COLUMNS,
        "nav": "overview",
        "refresh_s": LIVE_REFRESH_S,
        "can_redrive": may(session.identity, Action.REDRIVE),
        "can_switch": may(session.identity, Action.PAUSE),
        "can_test": may(session.identity, Action.TEST_CHANNEL),
    }


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> HTMLResponse:
    """The channels at a glance: counts by state, breaker and pause, and the last hour."""
    values = await _overview_values(request, session)
    return render(request, "overview.html", values, session=session)


@router.get("/channels/live", response_class=HTMLResponse)
async def overview_live(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> HTMLResponse:
    """The overview's tables alone, fetched again by the page every few seconds."""
    values = await _overview_values(request, session)
    return render(request, "channels_live.html", values, session=session)


@router.get("/messages", response_class=HTMLResponse)
async def message_list(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    state: Annotated[str, Query(max_length=20)] = "",
    channel: Annotated[str, Query(max_length=32)] = "",
    recipient: Annotated[str, Query(max_length=2)] = "",
    sender_country: Annotated[str, Query(max_length=2)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    tz: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Messages the operator may see, filtered and paged like the API's listing."""
    context = context_of(request)
    states = [s.value for s in DeliveryState]
    channels = sorted(context.registry.names())
    zone = zone_of(tz)
    try:
        items, next_cursor = await context.services.messages.page(
            session.identity,
            state=state if state in states else None,
            channel=channel if channel in channels else None,
            recipient=recipient.upper() or None,
            sender_country=sender_country.upper() or None,
            since=day_bound(since, zone),
            until=day_bound(until, zone, end=True),
            limit=PAGE_SIZE,
            cursor=cursor or None,
        )
    except GatewayError as exc:
        if exc.kind is not ErrorKind.INVALID:  # a stale cursor shows an empty page
            raise
        items, next_cursor = [], None
    filters = {
        "state": state,
        "channel": channel,
        "recipient": recipient.upper(),
        "sender_country": sender_country.upper(),
        "since": since,
        "until": until,
        "tz": tz if zone is not UTC else "",
    }
    countries = visible_countries(session.identity) or MARRI_COUNTRIES
    return render(
        request,
        "messages.html",
        {
            "title": "Messages",
            "nav": "messages",
            "items": items,
            "next_cursor": next_cursor,
            "filters": filters,
            "filter_query": {k: v for k, v in filters.items() if v},
            "states": states,
            "channels": channels,
            "countries": countries,
            "paged": bool(cursor),
            "can_redrive": may(session.identity, Action.REDRIVE),
            "redrive_query": {k: v for k, v in filters.items() if v and k != "state"},
        },
        session=session,
    )


@router.get("/messages/{message_id}", response_class=HTMLResponse)
async def message_page(
    request: Request,
    message_id: UUID,
    session: Annotated[Session, Depends(current_session)],
) -> HTMLResponse:
    """One message's trace; absent and another country's message both give the 404 page."""
    # Absent and another country's message both answer the 404 page.
    services = context_of(request).services
    view = await services.messages.trace(session.identity, str(message_id))
    for delivery in view["deliveries"]:
        delivery["actions"] = actions_for(session.identity, delivery["state"])
    labels: dict[str, str] = {}
    if may(session.identity, Action.READ_CHANNELS):  # staff read who acted by label
        labels = await services.audit.labels(
            session.identity, {a["actor"] for a in view["actions"]}
        )
    return render(
        request,
        "message.html",
        {
            "title": f"Message {view['message_id']}",
            "nav": "messages",
            "m": view,
            "labels": labels,
            "can_read_payload": may(session.identity, Action.READ_PAYLOAD),
        },
        session=session,
    )
