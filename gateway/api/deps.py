"""Request dependencies: the process context and the caller's identity."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request

from gateway.api.errors import HeaderedRefusal
from gateway.context import GatewayContext
from gateway.errors import ErrorKind
from gateway.security.identity import Identity
from gateway.security.tokens import hash_token, identity_for_token
from gateway.services.permissions import Action, check

# Verified tokens are remembered briefly so that intake does not read the token table on every
# request; a revocation takes effect within this many seconds.
TOKEN_CACHE_SECONDS = 5.0


def get_context(request: Request) -> GatewayContext:
    """The process context the app was built with, for routers and dependencies."""
    context: GatewayContext = request.app.state.context
    return context


async def authenticate(request: Request) -> Identity:
    """The caller's identity from ``Authorization: Bearer <token>``; 401 otherwise."""
    admitted = getattr(request.state, "identity", None)
    if isinstance(admitted, Identity):  # already established for this request (mutual TLS)
        return admitted
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HeaderedRefusal(
            ErrorKind.UNAUTHENTICATED,
            "unauthenticated",
            "send an API token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = token.strip()
    cache: dict[str, tuple[float, Identity]] = request.app.state.token_cache
    key = hash_token(token)
    cached = cache.get(key)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    context = get_context(request)
    identity = await context.store.read(lambda conn: identity_for_token(conn, token))
    if identity is None:
        cache.pop(key, None)
        raise HeaderedRefusal(
            ErrorKind.UNAUTHENTICATED,
            "unauthenticated",
            "the token is unknown, expired or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    cache[key] = (now + TOKEN_CACHE_SECONDS, identity)
    return identity


def caller_for(action: Action) -> Callable[[Request], Coroutine[Any, Any, Identity]]:
    """A dependency: the caller, when the permission table lets it do ``action`` (else 403)."""

    async def dependency(request: Request) -> Identity:
        identity = await authenticate(request)
        check(identity, action)
        return identity

    return dependency
