"""The audit page for auditors and admins: every entry of the log, newest first, filtered by
actor (a token's label or the actor as written), action, subject and days in the browser's
zone; actors are shown by the label their token was given, the token id on hover."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from gateway.console.pages import day_bound, zone_of
from gateway.console.session import Session
from gateway.console.web import context_of, current_session, render
from gateway.services.audit_log import AuditFilter

router = APIRouter()

PAGE_SIZE = 50
Text = Annotated[str, Query(max_length=200)]
Day = Annotated[str, Query(max_length=10)]


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    actor: Text = "",
    action: Annotated[str, Query(max_length=64)] = "",
    subject: Text = "",
    since: Day = "",
    until: Day = "",
    tz: Annotated[str, Query(max_length=64)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """The log as auditors read it; other roles get the console's 403 page."""
    audit = context_of(request).services.audit
    zone = zone_of(tz)
    which = AuditFilter(
        actor=actor.strip() or None,
        action=action or None,
        subject=subject.strip() or None,
        since=day_bound(since, zone),
        until=day_bound(until, zone, end=True),
    )
    found = await audit.recent(session.identity, which, before=before, limit=PAGE_SIZE)
    filters = {
        "actor": actor.strip(),
        "action": action,
        "subject": subject.strip(),
        "since": since,
        "until": until,
        "tz": tz if zone is not UTC else "",
    }
    return render(
        request,
        "audit.html",
        {
            "title": "Audit log",
            "nav": "audit",
            "entries": found["items"],
            "labels": found["labels"],
            "next_before": found["next_before"],
            "actions": await audit.actions(session.identity),
            "filters": filters,
            "filter_query": {k: v for k, v in filters.items() if v},
            "paged": before is not None,
        },
        session=session,
    )
