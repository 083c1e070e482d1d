"""Fetching answers from channels that must be polled: one GET, capped, errors made ours.

Polling is rare next to delivering (one request per channel every few seconds), so each poll
opens its own short-lived client rather than sharing the delivery pool. Failures become the
delivery error classes (``translate_httpx_errors``, ``classify_status``); an answer larger than
``context.max_bytes`` is refused before it is read whole.
"""

from __future__ import annotations

import httpx

from adapters._http import classify_status, translate_httpx_errors
from adapters.errors import PermanentError
from adapters.inbound import PollContext

__all__ = ["fetch_after"]


async def fetch_after(channel: str, context: PollContext, *, accept: str) -> bytes:
    """GET ``context.url`` with ``after=<cursor>``; the body of a 2xx answer."""
    params = {"after": context.cursor} if context.cursor else {}
    timeout = httpx.Timeout(
        connect=context.connect_timeout_s,
        read=context.read_timeout_s,
        write=context.read_timeout_s,
        pool=context.connect_timeout_s,
    )
    headers = {"Accept": accept, **context.headers}
    with translate_httpx_errors(channel):
        async with (
            httpx.AsyncClient(
                verify=context.verify, follow_redirects=False, timeout=timeout
            ) as client,
            client.stream("GET", context.url, params=params, headers=headers) as response,
        ):
            error = classify_status(channel, response.status_code, response.headers)
            if error is not None:
                raise error
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > context.max_bytes:
                    raise PermanentError(
                        f"{channel}: poll answer larger than {context.max_bytes} bytes"
                    )
                chunks.append(chunk)
    return b"".join(chunks)
