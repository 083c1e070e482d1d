"""Flash messages: the one way a banner ("Done: ...", "Not done: ...") reaches a page.

A form's answer is a redirect that carries its outcome in a short-lived signed cookie, never in
the URL: a link with ``?notice=`` or ``?problem=`` text shows nothing, so nobody can make the
console say words of their choosing. The page that follows shows the banner once and clears the
cookie.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from gateway.console.session import sign, verify

FLASH_COOKIE = "marri_console_flash"
FLASH_SECONDS = 120
KINDS = ("notice", "problem")
MAX_TEXT = 400
# What a refusal's code means, in the words the console shows after "Not done:".
PROBLEM_TEXTS = {
    "forbidden": "your role may not do this",
    "regional_scope_required": "this acts on every country and needs a regional token",
    "reason_required": "give a reason",
    "same_person": "the token that sent a message cannot review it",
    "invalid_state_transition": "not possible in the delivery's current state",
    "state_changed": "the delivery changed meanwhile; reload and try again",
    "unknown_channel": "no such channel",
    "unknown_action": "no such action",
}


@dataclass(frozen=True)
class Flash:
    """One banner: ``kind`` notice or problem, the outcome's ``code``, and the server's text."""

    kind: str
    code: str
    text: str
    detail: str = ""


def see_other(request: Request, path: str, flash: Flash | None = None) -> Response:
    """A 303 to a console ``path``, with the banner the next page shows."""
    response = Response(status_code=303)
    response.headers["Location"] = request.app.state.prefix + path
    if flash is not None:
        value = sign(
            request.app.state.session_key,
            {
                "flash": [flash.kind, flash.code, flash.text[:MAX_TEXT], flash.detail[:40]],
                "exp": time.time() + FLASH_SECONDS,
            },
        )
        response.set_cookie(
            FLASH_COOKIE,
            value,
            max_age=FLASH_SECONDS,
            path=request.app.state.prefix,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


def notice(code: str, text: str, detail: str = "") -> Flash:
    """A "Done" banner."""
    return Flash("notice", code, text, detail)


def problem(code: str, text: str | None = None) -> Flash:
    """A "Not done" banner; without ``text``, the code's own words."""
    return Flash("problem", code, text or PROBLEM_TEXTS.get(code, code.replace("_", " ")))


def taken(request: Request) -> Flash | None:
    """The banner waiting for this page, if a signed one is there."""
    payload = verify(request.app.state.session_key, request.cookies.get(FLASH_COOKIE))
    parts = payload.get("flash") if payload else None
    if not (isinstance(parts, list) and len(parts) == 4 and all(isinstance(p, str) for p in parts)):
        return None
    kind, code, text, detail = parts
    if kind not in KINDS:
        return None
    return Flash(kind, code, text, detail)


def clear(request: Request, response: Response) -> None:
    """Drop the cookie once its banner is on a page."""
    response.delete_cookie(FLASH_COOKIE, path=request.app.state.prefix)
