"""Which action each endpoint performs, and where its data lies: the route table.

The roles come from the permission table (``gateway.services.permissions``), so the API and
the console, which asks the same table, cannot disagree about who may do what.

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
- ``delivery`` the path names a delivery; the same rule via its message;
- ``channel``  called by a channel, not by a person or national system: no API token is asked
               for (nor honoured); the handler admits only the channel's own credential.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gateway.services.permissions import PERMISSIONS, Action, Role

Scope = Literal["public", "global", "regional", "filtered", "message", "delivery", "channel"]


@dataclass(frozen=True)
class RoutePolicy:
    """A route's row: the action it performs (None: public) and where its data lies."""

    action: Action | None
    scope: Scope

    @property
    def public(self) -> bool:
        """True for routes anyone may call, such as health and the schema."""
        return self.scope == "public"

    @property
    def token_free(self) -> bool:
        """No API token is checked (a ``channel`` route checks the channel's credential)."""
        return self.scope in ("public", "channel")

    @property
    def roles(self) -> frozenset[Role]:
        """Who may call the route: the permission table's row for its action, never a copy."""
        return PERMISSIONS[self.action].roles if self.action is not None else frozenset()


def _rule(scope: Scope, action: Action) -> RoutePolicy:
    # "regional" restates the permission table's every_country; a row that disagrees is a bug.
    if (scope == "regional") != PERMISSIONS[action].every_country:
        raise ValueError(f"{action}: route scope {scope!r} disagrees with the permission table")
    return RoutePolicy(action, scope)


PUBLIC = RoutePolicy(None, "public")
# Called by a channel: no API token is asked for (or honoured); the handler checks the
# channel's own credential.
CHANNEL = RoutePolicy(None, "channel")

# (method, path template) → policy, grouped by path; one line per endpoint.
ROUTE_POLICIES: dict[tuple[str, str], RoutePolicy] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # Counts per channel and state only; scraped by Prometheus without a token.
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/v1/schema"): PUBLIC,
    ("GET", "/v1/schema/rules"): PUBLIC,
    # The gateway's public keys, for anyone verifying what it signed.
    ("GET", "/v1/keys/signing"): PUBLIC,
    ("GET", "/v1/audit"): _rule("global", Action.READ_AUDIT),
    ("GET", "/v1/audit/verify"): _rule("global", Action.READ_AUDIT),
    ("GET", "/v1/channels"): _rule("filtered", Action.READ_CHANNELS),
    ("GET", "/v1/channels/activity"): _rule("filtered", Action.READ_CHANNELS),
    ("POST", "/v1/channels/{channel}/pause"): _rule("regional", Action.PAUSE),
    ("POST", "/v1/channels/{channel}/resume"): _rule("regional", Action.RESUME),
    # Re-drives only the dead letters of the caller's own countries.
    ("POST", "/v1/channels/{channel}/redrive"): _rule("filtered", Action.REDRIVE),
    # A probe of the destination: it reads and changes no country's data.
    ("POST", "/v1/channels/{channel}/test"): _rule("global", Action.TEST_CHANNEL),
    # Answers pushed by a channel, authenticated as that channel by the handler.
    ("POST", "/v1/channels/{channel}/inbound"): CHANNEL,
    # Unmatched answers belong to no country yet: only tokens that see every country.
    ("GET", "/v1/inbound/unmatched"): _rule("regional", Action.READ_UNMATCHED),
    # Re-drives only the dead letters of the caller's own countries.
    ("POST", "/v1/deliveries/redrive"): _rule("filtered", Action.REDRIVE),
    ("GET", "/v1/deliveries/{delivery_id}/evidence"): _rule("delivery", Action.READ_MESSAGES),
    ("POST", "/v1/deliveries/{delivery_id}/retry"): _rule("delivery", Action.RETRY),
    ("POST", "/v1/deliveries/{delivery_id}/redrive"): _rule("delivery", Action.REDRIVE),
    ("POST", "/v1/deliveries/{delivery_id}/cancel"): _rule("delivery", Action.CANCEL),
    ("POST", "/v1/deliveries/{delivery_id}/release"): _rule("delivery", Action.RELEASE),
    ("POST", "/v1/deliveries/{delivery_id}/reject"): _rule("delivery", Action.REJECT),
    ("GET", "/v1/messages"): _rule("filtered", Action.READ_MESSAGES),
    ("POST", "/v1/messages"): _rule("global", Action.SUBMIT),
    ("POST", "/v1/messages/check"): _rule("global", Action.CHECK),
    ("GET", "/v1/messages/{message_id}"): _rule("message", Action.READ_MESSAGES),
    ("GET", "/v1/messages/{message_id}/trace"): _rule("message", Action.READ_MESSAGES),
    ("GET", "/v1/messages/{message_id}/replies"): _rule("message", Action.READ_MESSAGES),
    # Finds only the caller's own countries' messages.
    ("POST", "/v1/search"): _rule("filtered", Action.READ_MESSAGES),
    ("GET", "/v1/facts"): _rule("global", Action.READ_FACTS),
    ("POST", "/v1/facts/{instrument}/{country}/confirm"): _rule("global", Action.CHANGE_FACTS),
    ("POST", "/v1/facts/{instrument}/{country}/withdraw"): _rule("global", Action.CHANGE_FACTS),
    ("PUT", "/v1/facts/{instrument}/{country}"): _rule("global", Action.CHANGE_FACTS),
    # A sender's own agency's subscriptions and its own country's events; the handlers filter.
    ("GET", "/v1/subscriptions"): _rule("filtered", Action.SUBSCRIBE),
    ("POST", "/v1/subscriptions"): _rule("filtered", Action.SUBSCRIBE),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): _rule("filtered", Action.SUBSCRIBE),
    ("GET", "/v1/inbox"): _rule("filtered", Action.READ_EVENTS),
    # A country's admin manages its agencies' signing keys; the handlers check the country.
    ("GET", "/v1/sender-keys"): _rule("filtered", Action.MANAGE_SENDER_KEYS),
    ("POST", "/v1/sender-keys"): _rule("filtered", Action.MANAGE_SENDER_KEYS),
    ("POST", "/v1/sender-keys/{key_id}/revoke"): _rule("filtered", Action.MANAGE_SENDER_KEYS),
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
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


# Literal templates first, so that /v1/audit/verify never reads as /v1/audit/{something}.
_PATTERNS = sorted(
    ((method, template, _template_pattern(template)) for method, template in ROUTE_POLICIES),
    key=lambda item: (item[1].count("{"), item[1]),
)


@dataclass(frozen=True)
class MatchedRoute:
    """A concrete request path matched to its row, with the values of the template's names.

    Matched before routing, so that a caller is admitted before the body is read."""

    template: str
    policy: RoutePolicy
    params: dict[str, str]


def match_request(method: str, path: str) -> MatchedRoute | None:
    """The row matching a concrete request path and the path's parameters, or None."""
    method = method.upper()
    for row_method, template, pattern in _PATTERNS:
        found = pattern.match(path) if row_method == method else None
        if found is not None:
            return MatchedRoute(template, ROUTE_POLICIES[(row_method, template)], found.groupdict())
    return None


def policy_for_request(method: str, path: str) -> tuple[str, RoutePolicy] | None:
    """The template and row matching a concrete request path, or None."""
    matched = match_request(method, path)
    return (matched.template, matched.policy) if matched else None
