"""The console's list of answers from channels that matched no message (kept, never dropped).

An unmatched answer belongs to no country yet, so only staff who see every country get the
list; the content stays sealed, the page shows ids, references, channel and time.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gateway.console.session import Session
from gateway.console.web import Forbidden, context_of, current_session, render
from gateway.exchange.views import unmatched_answers
from gateway.services.permissions import Action, may

router = APIRouter()


@router.get("/inbound/unmatched", response_class=HTMLResponse)
async def unmatched_page(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> HTMLResponse:
    """Answers no sent delivery matched, for those who may see them."""
    if not may(session.identity, Action.READ_UNMATCHED):
        raise Forbidden
    context = context_of(request)
    items = await context.store.read(unmatched_answers)
    return render(
        request,
        "unmatched.html",
        {"title": "Unmatched answers", "nav": "unmatched", "items": items},
        session=session,
    )
