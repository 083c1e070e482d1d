"""Signing in to the console over HTTP, as a browser would."""

from __future__ import annotations

import re

import httpx


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, token: str, next_path: str = "") -> httpx.Response:
    client.cookies.clear()
    form = await client.get("/console/login")
    return await client.post(
        "/console/login", data={"token": token, "csrf": csrf_of(form.text), "next": next_path}
    )


async def banner(client: httpx.AsyncClient, answer: httpx.Response) -> tuple[str, str, str]:
    """Follow a form's redirect: the banner the next page shows (kind, code, detail)."""
    assert answer.status_code == 303, answer.text
    page = await client.get(answer.headers["location"])
    found = re.search(r'data-flash="(\w+)" data-code="([\w.]+)" data-detail="([^"]*)"', page.text)
    assert found is not None, "no banner on the page after the redirect"
    kind, code, detail = found.groups()
    return kind, code, detail
