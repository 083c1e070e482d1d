"""Who may call which endpoint: ONE table of endpoint, role and scope.

Every route the application serves must appear here; ``gateway.security.enforce.authorize``
looks the matched route up on every request and refuses what the table does not allow, and a
test walks ``app.routes`` so a new endpoint without a row fails the suite (and is refused at
run time: deny by default).

Scopes say which data a caller reaches once its role is admitted:

- ``public``   no token at all (health, the published schema, API docs);
- ``global``   nothing country-specific (the caller's role is the whole check);
- ``regional`` acts on every country at once (pausing a channel): the caller must not be
               limited to some countries (a scoped operator gets 403);
- ``filtered`` a list the handler filters by the caller's countries (``visible_countries``);
- ``message``  the path names a message; it must be from a country the caller may see,
               otherwise the answer is 404, exactly as for a missing one;
- ``delivery`` the path names a delivery; the same rule via its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gateway.security.identity import Role

Scope = Literal["public", "global", "regional", "filtered", "message", "delivery"]


@dataclass(frozen=True)
class RoutePolicy:
    roles: frozenset[Role]
    scope: Scope

    @property
    def public(self) -> bool:
        return self.scope == "public"


def _rule(scope: Scope, *roles: Role) -> RoutePolicy:
    return RoutePolicy(frozenset(roles), scope)


PUBLIC = _rule("public")
READERS: tuple[Role, ...] = ("sender", "operator", "approver", "auditor", "admin")
STAFF: tuple[Role, ...] = ("operator", "approver", "auditor", "admin")
OPERATORS: tuple[Role, ...] = ("operator", "admin")
AUDITORS: tuple[Role, ...] = ("auditor", "admin")

# (method, path template) → policy, grouped by path; one line per endpoint.
ROUTE_POLICIES: dict[tuple[str, str], RoutePolicy] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # Counts per channel and state only; scraped by Prometheus without a token.
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/v1/schema"): PUBLIC,
    ("GET", "/v1/audit"): _rule("global", *AUDITORS),
    ("GET", "/v1/audit/verify"): _rule("global", *AUDITORS),
    ("GET", "/v1/channels"): _rule("global", *STAFF),
    ("POST", "/v1/channels/{channel}/pause"): _rule("regional", *OPERATORS),
    ("POST", "/v1/channels/{channel}/resume"): _rule("regional", *OPERATORS),
    # Re-drives only the dead letters of the caller's own countries.
    ("POST", "/v1/channels/{channel}/redrive"): _rule("filtered", *OPERATORS),
    ("POST", "/v1/deliveries/{delivery_id}/retry"): _rule("delivery", *OPERATORS),
    ("POST", "/v1/deliveries/{delivery_id}/cancel"): _rule("delivery", *OPERATORS),
    # Separation of duties: only approvers release or reject what policy held for review.
    ("POST", "/v1/deliveries/{delivery_id}/release"): _rule("delivery", "approver"),
    ("POST", "/v1/deliveries/{delivery_id}/reject"): _rule("delivery", "approver"),
    ("GET", "/v1/messages"): _rule("filtered", *READERS),
    ("POST", "/v1/messages"): _rule("global", "sender"),
    ("POST", "/v1/messages/check"): _rule("global", *READERS),
    ("GET", "/v1/messages/{message_id}"): _rule("message", *READERS),
    ("GET", "/v1/messages/{message_id}/trace"): _rule("message", *READERS),
}

# Routes Starlette serves itself (API documentation); no data behind them.
PUBLIC_DOC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})

# Path prefixes served by a mounted application that does its own sign-in (the console).
SELF_AUTHENTICATING_MOUNTS = frozenset({"/console"})


def policy_for(method: str, path_template: str) -> RoutePolicy | None:
    """The row for a route template, or None: a route without a row is refused."""
    return ROUTE_POLICIES.get((method.upper(), path_template))


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


# Literal templates first, so that /v1/audit/verify never reads as /v1/audit/{something}.
_PATTERNS = sorted(
    ((method, template, _template_pattern(template)) for method, template in ROUTE_POLICIES),
    key=lambda item: (item[1].count("{"), item[1]),
)


def policy_for_request(method: str, path: str) -> tuple[str, RoutePolicy] | None:
    """The template and row matching a concrete request path, or None."""
    method = method.upper()
    for row_method, template, pattern in _PATTERNS:
        if row_method == method and pattern.match(path):
            return template, ROUTE_POLICIES[(row_method, template)]
    return None
