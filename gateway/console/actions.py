"""State-changing forms: delivery actions, channel re-drive, and the audited payload read.

Each form carries the session's CSRF token and a reason; each calls the delivery services the
API uses, which check the state transition, the role and the operator's countries, and write
the audit entry in the same transaction as the change.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, select

from gateway.console.services import perform_delivery_action, redrive_dead_letters
from gateway.console.session import Session
from gateway.console.web import (
    Forbidden,
    NotFound,
    check_csrf,
    context_of,
    current_session,
    render,
)
from gateway.security.audit import append_audit
from gateway.store.crypto import payload_aad
from gateway.store.tables import deliveries, messages

router = APIRouter()

PAYLOAD_ROLES = ("operator", "admin")


def _delivery_row(conn: Connection, delivery_id: str) -> Any:
    return conn.execute(
        select(
            deliveries.c.id,
            deliveries.c.message_id,
            deliveries.c.channel,
            deliveries.c.state,
            deliveries.c.payload_ciphertext,
            deliveries.c.payload_key_id,
            deliveries.c.payload_sha256,
            deliveries.c.content_type,
            messages.c.sender_country,
        )
        .select_from(deliveries.join(messages, deliveries.c.message_id == messages.c.id))
        .where(deliveries.c.id == delivery_id)
    ).first()


async def _visible_delivery(request: Request, session: Session, delivery_id: str) -> Any:
    context = context_of(request)
    row = await context.store.read(lambda conn: _delivery_row(conn, delivery_id))
    if row is None or not session.identity.can_see_country(row.sender_country):
        raise NotFound
    return row


async def delivery_action(
    request: Request,
    delivery_id: UUID,
    action: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(session, csrf)
    row = await _visible_delivery(request, session, str(delivery_id))
    problem = await perform_delivery_action(
        context_of(request), session.identity, action, str(delivery_id), reason.strip() or None
    )
    prefix = request.app.state.prefix
    response = Response(status_code=303)
    query = f"?notice={action}" if problem is None else f"?problem={problem}"
    response.headers["Location"] = f"{prefix}/messages/{row.message_id}{query}#d-{row.id}"
    return response


@router.post("/channels/{channel}/redrive")
async def channel_redrive(
    request: Request,
    channel: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(session, csrf)
    result = await redrive_dead_letters(
        context_of(request), session.identity, channel, reason.strip() or None
    )
    prefix = request.app.state.prefix
    response = Response(status_code=303)
    query = f"notice=requeued_{result}" if isinstance(result, int) else f"problem={result}"
    response.headers["Location"] = f"{prefix}/?{query}"
    return response


@router.get("/deliveries/{delivery_id}/payload", response_class=HTMLResponse)
async def payload_form(
    request: Request,
    delivery_id: UUID,
    session: Annotated[Session, Depends(current_session)],
) -> HTMLResponse:
    if session.identity.role not in PAYLOAD_ROLES:
        raise Forbidden
    row = await _visible_delivery(request, session, str(delivery_id))
    return render(
        request,
        "payload.html",
        {"title": "Read payload", "d": row, "body": None, "nav": "messages"},
        session=session,
    )


def _read_and_audit(conn: Connection, session: Session, row: Any, reason: str) -> None:
    append_audit(
        conn,
        actor=session.identity.actor,
        action="payload.read",
        subject=f"delivery:{row.id}",
        reason=reason,
        details={
            "message_id": row.message_id,
            "channel": row.channel,
            "payload_sha256": row.payload_sha256,
            "via": "console",
        },
    )


@router.post("/deliveries/{delivery_id}/payload", response_class=HTMLResponse)
async def payload_read(
    request: Request,
    delivery_id: UUID,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """Show the stored payload after recording who read it and why."""
    check_csrf(session, csrf)
    if session.identity.role not in PAYLOAD_ROLES:
        raise Forbidden
    row = await _visible_delivery(request, session, str(delivery_id))
    if len(reason.strip()) < 5:
        return render(
            request,
            "payload.html",
            {
                "title": "Read payload",
                "d": row,
                "body": None,
                "error": "Give the reason for reading this payload (at least 5 characters).",
                "nav": "messages",
            },
            session=session,
            status_code=422,
        )
    context = context_of(request)
    await context.store.write(lambda conn: _read_and_audit(conn, session, row, reason.strip()))
    body = None
    if row.payload_ciphertext is not None and row.payload_key_id is not None:
        body = context.keyring.decrypt(
            row.payload_key_id, row.payload_ciphertext, aad=payload_aad(row.id)
        ).decode("utf-8", errors="replace")
    return render(
        request,
        "payload.html",
        {"title": "Payload", "d": row, "body": body, "nav": "messages"},
        session=session,
    )


# Registered last so that ``/deliveries/{id}/payload`` is matched by its own route first.
router.add_api_route("/deliveries/{delivery_id}/{action}", delivery_action, methods=["POST"])
