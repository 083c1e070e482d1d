"""Bulk re-drive with care: a channel's dead letters, or those of a filtered message list, are
sent again only after a page that says how many it will take and asks why.

The confirmation page is a GET that changes nothing; the re-drive itself is a POST with the
session's CSRF token and a reason, which the service requires and audits as
``delivery.redrive`` with the filter and what became of each dead letter.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.flash import notice, problem, see_other
from gateway.console.pages import day_bound, zone_of
from gateway.console.session import Session
from gateway.console.web import check_csrf, context_of, current_session, render
from gateway.errors import ErrorKind, GatewayError
from gateway.services.channels import DeadLetters

router = APIRouter()

Short = Annotated[str, Query(max_length=32)]
FormShort = Annotated[str, Form(max_length=32)]
SHOWN = 25


def _filters(
    channel: str, recipient: str, sender_country: str, since: str, until: str, tz: str
) -> tuple[DeadLetters, dict[str, str]]:
    """The dead letters the form names, and the same filter as the form's own fields."""
    zone = zone_of(tz)
    which = DeadLetters(
        channel=channel or None,
        recipient=recipient.upper() or None,
        sender_country=sender_country.upper() or None,
        since=day_bound(since, zone),
        until=day_bound(until, zone, end=True),
    )
    fields = {
        "channel": channel,
        "recipient": recipient.upper(),
        "sender_country": sender_country.upper(),
        "since": since,
        "until": until,
        "tz": tz,
    }
    return which, {k: v for k, v in fields.items() if v}


@router.get("/redrive", response_class=HTMLResponse)
async def confirm_redrive(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    channel: Short = "",
    recipient: Short = "",
    sender_country: Short = "",
    since: Short = "",
    until: Short = "",
    tz: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """How many dead letters a re-drive would take, and the form that asks why."""
    which, fields = _filters(channel, recipient, sender_country, since, until, tz)
    ids = await context_of(request).services.channels.dead_letters(session.identity, which)
    return render(
        request,
        "redrive.html",
        {
            "title": "Re-drive dead letters",
            "nav": "overview" if set(fields) <= {"channel"} else "messages",
            "ids": ids[:SHOWN],
            "count": len(ids),
            "fields": fields,
            "list_query": urlencode({**fields, "state": "failed"}),
        },
        session=session,
    )


@router.post("/redrive")
async def redrive(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
    channel: FormShort = "",
    recipient: FormShort = "",
    sender_country: FormShort = "",
    since: FormShort = "",
    until: FormShort = "",
    tz: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Re-drive what the confirmation page showed, with the reason given there."""
    check_csrf(session, csrf)
    which, fields = _filters(channel, recipient, sender_country, since, until, tz)
    channels = context_of(request).services.channels
    back = f"/redrive?{urlencode(fields)}"
    try:
        done = await channels.redrive_matching(session.identity, which, reason.strip() or None)
    except GatewayError as exc:
        if exc.kind is ErrorKind.NOT_FOUND:
            raise
        return see_other(request, back, problem(exc.code))
    text = f"requeued {done.requeued} dead letters"
    if done.held or done.blocked:
        text += f" ({len(done.held)} held for review, {len(done.blocked)} blocked by the rules)"
    target = "/" if set(fields) <= {"channel"} else f"/messages?{urlencode(fields)}"
    return see_other(request, target, notice("requeued", text, str(done.requeued)))
