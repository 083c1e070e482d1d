"""The facts page: the parties table as decisions read it, and a legal officer's changes.

Reading it is open to staff; the confirm, withdraw and set forms are shown to the legal role
only, and each posts to the same facts service the API and command line use (which checks the
role again and audits the change with its source).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.flash import Flash, problem, see_other
from gateway.console.flash import notice as flash_notice
from gateway.console.session import Session
from gateway.console.web import Forbidden, check_csrf, context_of, current_session, render
from gateway.errors import ErrorKind, GatewayError
from gateway.services.facts import FactChanged, FactEdit
from gateway.services.permissions import Action, role_may

router = APIRouter()

Text = Annotated[str, Form(max_length=2000)]
Name = Annotated[str, Form(max_length=64)]


@router.get("/facts", response_class=HTMLResponse)
async def facts_page(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    instrument: Annotated[str, Query(max_length=64)] = "",
    unconfirmed: Annotated[str, Query(max_length=3)] = "",
) -> HTMLResponse:
    """The parties table for those who may read facts, filtered as asked."""
    if not role_may(session.identity.role, Action.READ_FACTS):
        raise Forbidden
    service = context_of(request).facts
    every = await service.list(session.identity)
    names = sorted({f.instrument for f in every})
    shown = [
        f
        for f in every
        if (not instrument or f.instrument == instrument) and (not unconfirmed or not f.confirmed)
    ]
    return render(
        request,
        "facts.html",
        {
            "title": "Facts",
            "nav": "facts",
            "facts": shown,
            "instruments": names,
            "filters": {"instrument": instrument, "unconfirmed": bool(unconfirmed)},
            "can_change": role_may(session.identity.role, Action.CHANGE_FACTS),
        },
        session=session,
    )


def _back(request: Request, told: Flash, instrument: str = "") -> Response:
    query = f"?{urlencode({'instrument': instrument})}" if instrument else ""
    return see_other(request, f"/facts{query}", told)


def _outcome(request: Request, changed: FactChanged) -> Response:
    fact = changed.fact
    text = (
        f"{changed.action.value} {fact.instrument} {fact.country} (change {changed.change_seq}): "
        f"{len(changed.lifted.released)} held delivery(ies) released, "
        f"{len(changed.lifted.still_held)} still held for other reasons"
    )
    return _back(request, flash_notice(changed.action.value, text), fact.instrument)


def _refused(request: Request, exc: GatewayError) -> Response:
    if exc.kind is ErrorKind.FORBIDDEN:
        raise Forbidden
    return _back(request, problem(exc.code, exc.message))


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise GatewayError(
            ErrorKind.UNPROCESSABLE, "invalid_fact", "dates are written YYYY-MM-DD"
        ) from None


@router.post("/facts/{action}")
async def change_fact(
    request: Request,
    action: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    instrument: Name,
    country: Annotated[str, Form(max_length=2)],
    source: Text = "",
    note: Text = "",
    party: Annotated[str, Form(max_length=3)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
    since: Annotated[str, Form(max_length=10)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A legal officer's confirm, withdraw or set, through the same service as the API and CLI."""
    check_csrf(session, csrf)
    service = context_of(request).facts
    who, country = session.identity, country.strip().upper()
    try:
        if action == "confirm":
            changed = await service.confirm(who, instrument, country, source, note)
        elif action == "withdraw":
            changed = await service.withdraw(who, instrument, country, source, note)
        elif action == "set":
            edit = FactEdit(bool(party), _day(since), _day(until), bool(confirmed), note)
            changed = await service.set(who, instrument, country, source, edit)
        else:
            return _back(request, problem("unknown_action"))
    except GatewayError as exc:
        return _refused(request, exc)
    return _outcome(request, changed)
