"""Enforcing the authorisation table: one dependency every route of the app runs first.

``authorize`` finds the matched route's row in ``policy_table``, authenticates the caller,
checks the role, charges the caller's rate limit and, for paths that name a message or a
delivery, checks tenancy: another country's message is answered with 404 like a missing one.
Routers may check again (defence in depth), but they cannot forget: a route without a row is
refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Connection, select
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.deps import authenticate, get_context
from gateway.api.errors import HeaderedRefusal
from gateway.api.limits import RateLimiter, RequestTimeoutMiddleware, retry_after_header
from gateway.errors import ErrorKind, GatewayError
from gateway.retention import RetentionScheduler
from gateway.security.identity import Identity
from gateway.security.keys import KeyringRefresher
from gateway.security.last_use import LastUseRecorder
from gateway.security.mtls import client_cert_pem, identity_for_certificate, validate_mapping
from gateway.security.policy_table import RoutePolicy, policy_for_request
from gateway.security.rule_audit import record_rule_packs
from gateway.services.permissions import can_see_country, check
from gateway.store.tables import deliveries, messages


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


def route_policy(request: Request) -> RoutePolicy:
    """The table's row for this request (matched on the path, whatever the router's layout)."""
    path: str = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    # HEAD is answered like GET by the router; it reaches the same data.
    method = "GET" if request.method == "HEAD" else request.method
    found = policy_for_request(method, path)
    if found is None:
        # Deny by default: an endpoint nobody wrote a row for is not reachable.
        raise GatewayError(
            ErrorKind.FORBIDDEN, "forbidden", "this endpoint is not open to any role"
        )
    return found[1]


async def _check_tenancy(request: Request, policy: RoutePolicy, identity: Identity) -> None:
    if policy.scope not in ("message", "delivery"):
        return
    name = "message_id" if policy.scope == "message" else "delivery_id"
    ref = str(request.path_params.get(name, ""))
    lookup = message_country if policy.scope == "message" else delivery_country
    context = get_context(request)
    country = await context.store.read(lambda conn: lookup(conn, ref))
    if country is None or not can_see_country(identity, country):
        raise GatewayError(ErrorKind.NOT_FOUND, "not_found", f"no such {policy.scope}")


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


async def authorize(request: Request) -> Identity | None:
    """The app-wide dependency: None for public routes, else the admitted caller.

    Also notes the token's last use (written at most once a minute, in the background)."""
    policy = route_policy(request)
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
    await _check_tenancy(request, policy, identity)
    request.state.identity = identity
    return identity


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
        UpkeepMiddleware,
        refresher=app.state.keyring_refresher,
        retention=app.state.retention,
    )
    app.add_middleware(RequestTimeoutMiddleware, timeout_s=settings.request_timeout_s)
    context.store.write_sync(lambda conn: record_rule_packs(conn, context.engine))
