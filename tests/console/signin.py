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
