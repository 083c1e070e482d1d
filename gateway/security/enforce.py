"""Enforcing the authorisation table: one dependency every route of the app runs first.

``authorize`` finds the matched route's row in ``policy_table``, authenticates the caller,
checks the role, charges the caller's rate limit and, for paths that name a message or a
delivery, checks tenancy: another country's message is answered with 404 like a missing one.
Routers may check again (defence in depth), but they cannot forget: a route without a row is
refused.

A request that may carry a body is admitted the same way before the body is read
(``admit_before_body``, run by ``gateway.api.body.BodyGuardMiddleware`` in front of the router),
then capped (``body_cap``): no one without a token makes the gateway read a byte of a body.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Connection, select
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.body import BodyGuardMiddleware
from gateway.api.deps import authenticate, get_context
from gateway.api.errors import HeaderedRefusal, refusal_response
from gateway.api.inbound import admit_channel
from gateway.api.limits import RateLimiter, RequestTimeoutMiddleware, retry_after_header
from gateway.errors import ErrorKind, GatewayError
from gateway.retention import RetentionScheduler
from gateway.security.identity import Identity
from gateway.security.keys import KeyringRefresher
from gateway.security.last_use import LastUseRecorder
from gateway.security.mtls import client_cert_pem, identity_for_certificate, validate_mapping
from gateway.security.policy_table import MatchedRoute, match_request
from gateway.security.rule_audit import record_rule_packs
from gateway.services.permissions import can_see_country, check
from gateway.store.tables import deliveries, messages

# Routes whose body is a canonical message or a channel's answer (the channel's own cap, checked
# by its handler, may be smaller); the others take small JSON bodies.
LARGE_BODY_ROUTES = frozenset(
    {
        ("POST", "/v1/messages"),
        ("POST", "/v1/messages/check"),
        ("POST", "/v1/channels/{channel}/inbound"),
    }
)
SMALL_BODY_BYTES = 64 * 1024


def message_country(conn: Connection, message_id: str) -> str | None:
    """The sender country of a message, for tenancy checks; None when it does not exist."""
    country: str | None = conn.execute(
        select(messages.c.sender_country).where(messages.c.id == message_id)
    ).scalar()
    return country


def delivery_country(conn: Connection, delivery_id: str) -> str | None:
    """The sender country of the message a delivery belongs to; None when it does not exist."""
    country: str | None = conn.execute(
        select(messages.c.sender_country)
        .select_from(deliveries.join(messages, deliveries.c.message_id == messages.c.id))
        .where(deliveries.c.id == delivery_id)
    ).scalar()
    return country


def matched_route(request: Request) -> MatchedRoute | None:
    """The table's row for this request, matched on the path before (or whatever) routing."""
    path: str = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    # HEAD is answered like GET by the router; it reaches the same data.
    method = "GET" if request.method == "HEAD" else request.method
    return match_request(method, path)


async def _check_tenancy(request: Request, matched: MatchedRoute, identity: Identity) -> None:
    scope = matched.policy.scope
    if scope not in ("message", "delivery"):
        return
    ref = matched.params.get("message_id" if scope == "message" else "delivery_id", "")
    lookup = message_country if scope == "message" else delivery_country
    context = get_context(request)
    country = await context.store.read(lambda conn: lookup(conn, ref))
    if country is None or not can_see_country(identity, country):
        raise GatewayError(ErrorKind.NOT_FOUND, "not_found", f"no such {scope}")


async def _certificate_identity(request: Request) -> Identity | None:
    """Mutual TLS: the identity a verified client certificate maps to (no bearer token sent)."""
    pem = client_cert_pem(request.scope)
    if pem is None or request.headers.get("authorization"):
        return None
    context = get_context(request)
    mapping = context.settings.client_cert_identities
    identity = await context.store.read(lambda conn: identity_for_certificate(conn, pem, mapping))
    if identity is None:
        raise GatewayError(
            ErrorKind.UNAUTHENTICATED,
            "unauthenticated",
            "the client certificate is not mapped to a caller",
        )
    request.state.identity = identity
    return identity


async def _admit(request: Request, matched: MatchedRoute) -> Identity | None:
    """The caller of a token route, admitted: identity, role, rate limit, tenancy."""
    policy = matched.policy
    if policy.token_free:
        return None
    identity = await _certificate_identity(request) or await authenticate(request)
    assert policy.action is not None  # every row but the public ones names its action
    check(identity, policy.action)  # the role, and a regional action's need for a regional token
    state = request.app.state
    wait_s = state.rate_limiter.acquire(identity.token_id)
    if wait_s > 0:
        raise HeaderedRefusal(
            ErrorKind.RATE_LIMITED,
            "rate_limited",
            "too many requests for this token; retry later",
            headers={"Retry-After": retry_after_header(wait_s)},
        )
    state.last_use.note(identity.token_id)
    await _check_tenancy(request, matched, identity)
    request.state.identity = identity
    return identity


async def authorize(request: Request) -> Identity | None:
    """The app-wide dependency: None for public routes, else the admitted caller.

    A request with a body was admitted before it was read (``admit_before_body``); it is not
    charged twice. Also notes the token's last use (written at most once a minute, in the
    background)."""
    if getattr(request.state, "admitted", False):
        admitted = getattr(request.state, "identity", None)
        return admitted if isinstance(admitted, Identity) else None
    matched = matched_route(request)
    if matched is None:
        # Deny by default: an endpoint nobody wrote a row for is not reachable.
        raise GatewayError(
            ErrorKind.FORBIDDEN, "forbidden", "this endpoint is not open to any role"
        )
    return await _admit(request, matched)


async def admit_before_body(request: Request) -> None:
    """Admit the caller of a request that may carry a body, before a byte of it is read.

    A channel's push is admitted on the channel's own credential. A path without a row has no
    route either: the router answers it (404, 405) without reading the body."""
    matched = matched_route(request)
    if matched is None:
        return
    if matched.policy.scope == "channel":
        admit_channel(request, matched.params["channel"])
    else:
        await _admit(request, matched)
    request.state.admitted = True


def body_cap(request: Request) -> int:
    """The most a route's body may hold: a message or a channel's answer may take up to
    ``MARRI_MAX_BODY_BYTES``; every other body is a reason, a fact's source or a subscription."""
    matched = matched_route(request)
    largest: int = get_context(request).settings.max_body_bytes
    if matched is None or (request.method, matched.template) in LARGE_BODY_ROUTES:
        return largest
    return min(SMALL_BODY_BYTES, largest)


class UpkeepMiddleware:
    """Cheap periodic chores driven by request traffic (health probes included, so an idle
    process does them too): a look at the key file at most every few seconds, the shared
    keyring updated in place for intake, the in-process worker and the console alike; and the
    retention purge, started in a thread about once an hour."""

    def __init__(
        self, app: ASGIApp, refresher: KeyringRefresher, retention: RetentionScheduler
    ) -> None:
        self.app = app
        self.refresher = refresher
        self.retention = retention

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """On each request, re-read the key file if due and start a due purge, then serve."""
        if scope["type"] == "http":
            self.refresher.maybe_refresh()
            self.retention.maybe_start()
        await self.app(scope, receive, send)


def install_security(app: FastAPI) -> None:
    """Per-app state the dependency uses, the request deadline, and (once per start) an audit
    entry for each rule pack that changed since the last start."""
    context: Any = app.state.context
    settings = context.settings
    validate_mapping(settings.client_cert_identities)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.last_use = LastUseRecorder(context.store.write)
    key_file = settings.key_file if settings.keys_json is None else None
    app.state.keyring_refresher = KeyringRefresher(context.keyring, key_file)
    app.state.retention = RetentionScheduler(
        context.store, days=settings.retention_after_delivery_days
    )
    app.add_middleware(
        BodyGuardMiddleware,
        admit=admit_before_body,
        cap_for=body_cap,
        refuse=lambda _, exc: refusal_response(exc),
    )
    app.add_middleware(
        UpkeepMiddleware,
        refresher=app.state.keyring_refresher,
        retention=app.state.retention,
    )
    app.add_middleware(RequestTimeoutMiddleware, timeout_s=settings.request_timeout_s)
    context.store.write_sync(lambda conn: record_rule_packs(conn, context.engine))
