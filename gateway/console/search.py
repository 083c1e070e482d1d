"""The console's one search box: a message id, a delivery id, a trace id or a case reference.

The form is a POST (with the session's CSRF token) so that a case reference, which may be
personal data, never lands in an address, a browser history or an access log. One hit opens
the message (at the delivery that matched); several are listed; none says so, without
repeating what was typed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.flash import see_other
from gateway.console.session import Session
from gateway.console.web import check_csrf, context_of, current_session, render

router = APIRouter()


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> HTMLResponse:
    """The search page with nothing searched yet (where a sign-in after a search comes back)."""
    return render(
        request,
        "search.html",
        {"title": "Search", "nav": "messages", "hits": [], "searched": False},
        session=session,
    )


@router.post("/search", response_model=None)
async def search(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    q: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Straight to the one message found, or the list of those found."""
    check_csrf(session, csrf)
    hits = await context_of(request).services.search.find(session.identity, q)
    if len(hits) == 1:
        hit = hits[0]
        anchor = f"#d-{hit.delivery_id}" if hit.delivery_id else ""
        return see_other(request, f"/messages/{hit.message_id}{anchor}")
    page: HTMLResponse = render(
        request,
        "search.html",
        {"title": "Search", "nav": "messages", "hits": hits, "searched": bool(q.strip())},
        session=session,
        status_code=200 if hits else 404,
    )
    return page
