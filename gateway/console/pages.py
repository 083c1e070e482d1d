"""Read-only pages: channel overview, message list with filters and paging, one message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from gateway.api.messages import visible_countries
from gateway.console.overview import COLUMNS, channel_overview
from gateway.console.session import Session
from gateway.console.web import NotFound, context_of, current_session, render
from gateway.store.queries import BadCursor, MessageFilter, list_messages
from gateway.store.states import DeliveryState
from gateway.telemetry.timeline import message_trace

router = APIRouter()

PAGE_SIZE = 25
# What each role may do to a delivery in a given state (the services check again).
OPERATOR_ACTIONS: dict[str, tuple[str, ...]] = {
    "failed": ("redrive", "cancel"),
    "retry_wait": ("retry", "cancel"),
    "unknown": ("retry", "cancel"),
    "queued": ("cancel",),
    "held": ("cancel",),
}
APPROVER_ACTIONS: dict[str, tuple[str, ...]] = {"held": ("release", "reject")}


def actions_for(role: str, state: str) -> tuple[str, ...]:
    found: tuple[str, ...] = ()
    if role in ("operator", "admin"):
        found += OPERATOR_ACTIONS.get(state, ())
    if role in ("approver", "admin"):
        found += APPROVER_ACTIONS.get(state, ())
    return found


def _day(text: str | None, *, end: bool = False) -> datetime | None:
    """A date filter from the form (``YYYY-MM-DD``, UTC); the end date is inclusive."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return day.replace(hour=23, minute=59, second=59, microsecond=999999) if end else day


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> HTMLResponse:
    context = context_of(request)
    visible = visible_countries(session.identity)
    rows = await context.store.read(
        lambda conn: channel_overview(conn, context.registry.names(), visible)
    )
    return render(
        request,
        "overview.html",
        {
            "title": "Channels",
            "rows": rows,
            "columns": COLUMNS,
            "nav": "overview",
            "can_redrive": session.identity.role in ("operator", "admin"),
        },
        session=session,
    )


@router.get("/messages", response_class=HTMLResponse)
async def message_list(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    state: Annotated[str, Query(max_length=20)] = "",
    channel: Annotated[str, Query(max_length=32)] = "",
    sender_country: Annotated[str, Query(max_length=2)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    context = context_of(request)
    states = [s.value for s in DeliveryState]
    channels = sorted(context.registry.names())
    flt = MessageFilter(
        state=state if state in states else None,
        channel=channel if channel in channels else None,
        sender_country=sender_country.upper() or None,
        since=_day(since),
        until=_day(until, end=True),
        visible_countries=visible_countries(session.identity),
    )
    try:
        items, next_cursor = await context.store.read(
            lambda conn: list_messages(conn, flt, limit=PAGE_SIZE, cursor=cursor or None)
        )
    except BadCursor:
        items, next_cursor = [], None
    filters = {
        "state": state,
        "channel": channel,
        "sender_country": sender_country.upper(),
        "since": since,
        "until": until,
    }
    countries = session.identity.scope_countries or ("AL", "BA", "ME", "MK", "RS", "XK")
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
        },
        session=session,
    )


async def visible_trace(request: Request, session: Session, message_id: str) -> dict[str, Any]:
    """The message's trace, or NotFound when it is absent or outside the operator's countries."""
    context = context_of(request)
    view = await context.store.read(lambda conn: message_trace(conn, message_id))
    if view is None or not session.identity.can_see_country(view["sender"]["country"]):
        raise NotFound
    return view


@router.get("/messages/{message_id}", response_class=HTMLResponse)
async def message_page(
    request: Request,
    message_id: UUID,
    session: Annotated[Session, Depends(current_session)],
) -> HTMLResponse:
    view = await visible_trace(request, session, str(message_id))
    for delivery in view["deliveries"]:
        delivery["actions"] = actions_for(session.identity.role, delivery["state"])
    return render(
        request,
        "message.html",
        {
            "title": f"Message {view['message_id']}",
            "nav": "messages",
            "m": view,
            "can_read_payload": session.identity.role in ("operator", "admin"),
        },
        session=session,
    )
