"""State-changing forms: delivery actions, channel re-drive, pause and resume, and the audited
payload read.

Each form carries the session's CSRF token and a reason, and calls the same service as the
API (``gateway.services``), which checks the permission table, the state transition and the
caller's countries, and writes the audit entry in the same transaction as the change. A refusal
comes back to the page it was asked from, with its code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.flash import Flash, notice, problem, see_other
from gateway.console.session import Session
from gateway.console.web import check_csrf, context_of, current_session, render
from gateway.delivery.transitions import ActionResult
from gateway.errors import ErrorKind, GatewayError
from gateway.security.identity import Identity
from gateway.services.bundle import Services
from gateway.services.probe import ProbeResult

Outcome = TypeVar("Outcome")

router = APIRouter()

DeliveryAction = Callable[[Identity, str, str | None], Awaitable[ActionResult]]


def delivery_actions(services: Services) -> dict[str, DeliveryAction]:
    """The console's delivery buttons, each the service action of the API route of its name."""
    actions = services.deliveries
    return {
        "redrive": actions.redrive,
        "retry": actions.retry,
        "cancel": actions.cancel,
        "release": actions.release,
        "reject": actions.reject,
    }


ACTION_DONE = {
    "redrive": "re-driven",
    "retry": "due now",
    "cancel": "cancelled",
    "release": "released",
    "reject": "rejected",
}


async def _refused(
    request: Request, services: Services, identity: Identity, delivery_id: str, code: str
) -> Response:
    """Back to the delivery's message page with the refusal's code (to the list when the
    caller may not see the message)."""
    try:
        message_id = await services.messages.message_of(identity, delivery_id)
    except GatewayError:
        return see_other(request, "/messages", problem(code))
    return see_other(request, f"/messages/{message_id}#d-{delivery_id}", problem(code))


async def delivery_action(
    request: Request,
    delivery_id: UUID,
    action: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """A form's delivery action (retry, cancel, release, reject) through the service layer."""
    check_csrf(session, csrf)
    services = context_of(request).services
    perform = delivery_actions(services).get(action)
    if perform is None:
        return see_other(request, "/messages", problem("unknown_action"))
    try:
        result = await perform(session.identity, str(delivery_id), reason.strip() or None)
    except GatewayError as exc:
        if exc.kind is ErrorKind.NOT_FOUND:
            raise  # another country's delivery is not there: the 404 page
        return await _refused(request, services, session.identity, str(delivery_id), exc.code)
    page = f"/messages/{result.message_id}#d-{result.delivery_id}"
    done = notice(action, f"{action} — the {result.channel} delivery is {ACTION_DONE[action]}")
    return see_other(request, page, done)


async def _channel_action(
    request: Request,
    session: Session,
    csrf: str,
    told: Callable[[Outcome], Flash],
    act: Callable[[], Awaitable[Outcome]],
) -> Response:
    check_csrf(session, csrf)
    try:
        outcome = await act()
    except GatewayError as exc:
        return see_other(request, "/", problem(exc.code))
    return see_other(request, "/", told(outcome))


@router.post("/channels/{channel}/redrive")
async def channel_redrive(
    request: Request,
    channel: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The console's re-drive of a channel's failed deliveries."""
    channels = context_of(request).services.channels
    return await _channel_action(
        request,
        session,
        csrf,
        lambda done: notice(
            "requeued", f"requeued {done.requeued} dead letters", str(done.requeued)
        ),
        lambda: channels.redrive(session.identity, channel, reason.strip() or None),
    )


@router.post("/channels/{channel}/pause")
async def channel_pause(
    request: Request,
    channel: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The console's pause of a channel."""
    channels = context_of(request).services.channels
    return await _channel_action(
        request,
        session,
        csrf,
        lambda _: notice("paused", f"paused {channel}"),
        lambda: channels.pause(session.identity, channel, reason.strip() or None),
    )


@router.post("/channels/{channel}/resume")
async def channel_resume(
    request: Request,
    channel: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The console's resume of a channel."""
    channels = context_of(request).services.channels
    return await _channel_action(
        request,
        session,
        csrf,
        lambda _: notice("resumed", f"resumed {channel}"),
        lambda: channels.resume(session.identity, channel, reason.strip() or None),
    )


PROBE_TEXTS = {
    "answered": "{channel} answered in {ms:.0f} ms (nothing was delivered)",
    "cannot_check": "{channel} has no connection test; it is checked only by delivering",
    "unreachable": "{channel} did not answer ({error}); deliveries will retry",
    "refused": "{channel} will not work as configured ({error})",
}


@router.post("/channels/{channel}/test")
async def channel_test(
    request: Request,
    channel: str,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The console's "test connection": the adapter's probe, audited."""
    probe = context_of(request).services.probe

    def told(result: ProbeResult) -> Flash:
        text = PROBE_TEXTS[result.outcome].format(
            channel=result.channel, ms=result.duration_ms, error=result.error_class
        )
        # The test ran: what it found is news, not a refusal, whatever the destination said.
        return notice("tested", f"tested — {text}", result.outcome)

    return await _channel_action(
        request,
        session,
        csrf,
        told,
        lambda: probe.test(session.identity, channel, reason.strip() or None),
    )


@router.get("/deliveries/{delivery_id}/payload", response_class=HTMLResponse)
async def payload_form(
    request: Request,
    delivery_id: UUID,
    session: Annotated[Session, Depends(current_session)],
) -> HTMLResponse:
    """The rendered payload of a delivery, for those the service lets see it."""
    services = context_of(request).services
    stored = await services.messages.payload(session.identity, str(delivery_id))
    return render(
        request,
        "payload.html",
        {"title": "Read payload", "d": stored, "body": None, "nav": "messages"},
        session=session,
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
    reads = context_of(request).services.messages
    key = str(delivery_id)
    try:
        shown = await reads.read_payload(session.identity, key, reason, via="console")
    except GatewayError as exc:
        if exc.kind is not ErrorKind.UNPROCESSABLE:
            raise
        stored = await reads.payload(session.identity, key)
        values = {"title": "Read payload", "d": stored, "body": None, "nav": "messages"}
        values["error"] = f"{exc.message.capitalize()}."
        return render(request, "payload.html", values, session=session, status_code=422)
    return render(
        request,
        "payload.html",
        {"title": "Payload", "d": shown, "body": shown.body, "nav": "messages"},
        session=session,
    )


# Registered last so that ``/deliveries/{id}/payload`` is matched by its own route first.
router.add_api_route("/deliveries/{delivery_id}/{action}", delivery_action, methods=["POST"])
