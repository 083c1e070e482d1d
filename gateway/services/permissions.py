"""The one permission table: which roles may do what, and how far across countries they reach.

Role names are written here and nowhere else. The API's route table
(``gateway.security.policy_table``) takes each route's roles from ``PERMISSIONS``, the services
check the same rows before they act, and the console asks them which pages and buttons to
offer, so the three cannot disagree.

Separation of duties: only approvers release or reject what the legal-basis rules held for
review; admins run the gateway but do not approve transfers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TYPE_CHECKING

from gateway.errors import ErrorKind, GatewayError

if TYPE_CHECKING:
    from gateway.security.identity import Identity


class Role(StrEnum):
    """What a token (or a mapped client certificate) stands for."""

    SENDER = "sender"
    OPERATOR = "operator"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMIN = "admin"
    LEGAL = "legal"  # a legal officer: keeps the parties table's facts


ROLES: tuple[Role, ...] = tuple(Role)


class Reach(Enum):
    """Whose messages a role's callers see."""

    OWN_COUNTRY = "own_country"  # the one country the token was issued for
    SCOPE = "scope"  # the token's countries; a token without any is regional (every country)
    EVERY_COUNTRY = "every_country"
    NO_COUNTRY = "no_country"  # the role works on no country's messages


REACH: dict[Role, Reach] = {
    Role.SENDER: Reach.OWN_COUNTRY,
    Role.OPERATOR: Reach.SCOPE,
    Role.APPROVER: Reach.SCOPE,
    Role.AUDITOR: Reach.EVERY_COUNTRY,
    Role.ADMIN: Reach.EVERY_COUNTRY,
    # Facts concern no country's messages; a legal officer reads none of them.
    Role.LEGAL: Reach.NO_COUNTRY,
}


class Action(StrEnum):
    """Everything some roles may do and others may not. A state change's value is also the
    ``action`` of its audit entry."""

    SUBMIT = "message.submit"
    CHECK = "message.check"
    READ_MESSAGES = "message.read"  # the list, one message's status and its trace
    READ_CHANNELS = "channel.read"
    READ_AUDIT = "audit.read"
    READ_PAYLOAD = "payload.read"  # a rendered payload in clear (audited, console only)
    SIGN_IN = "console.sign_in"
    RETRY = "delivery.retry"
    CANCEL = "delivery.cancel"
    RELEASE = "delivery.release"
    REJECT = "delivery.reject"
    REDRIVE = "delivery.redrive"  # dead letters back on their way: one, a list or a channel
    PAUSE = "channel.pause"
    RESUME = "channel.resume"
    TEST_CHANNEL = "channel.test"  # the adapter's probe of its destination (audited)
    # Answers from channels that matched no message (no country yet, so regional callers only).
    READ_UNMATCHED = "inbound.read_unmatched"
    READ_FACTS = "fact.read"
    CHANGE_FACTS = "fact.change"  # confirm, withdraw, set
    SUBSCRIBE = "events.subscribe"  # the caller's own agency's webhook subscriptions
    READ_EVENTS = "events.read"  # the caller's own country's inbox
    # A sender agency's public signing keys: list, register, revoke (one country's trust).
    MANAGE_SENDER_KEYS = "sender_key.manage"


@dataclass(frozen=True)
class Permission:
    """Who may do an action. ``every_country``: it acts on all countries at once (pausing a
    channel), so a caller limited to some countries may not, whatever its role.
    ``named_country``: it changes one country's own trust settings, so only a token issued
    for that country (its country or scope) may, never a regional one."""

    roles: frozenset[Role]
    every_country: bool = False
    named_country: bool = False


def _may(*roles: Role, every_country: bool = False, named_country: bool = False) -> Permission:
    return Permission(frozenset(roles), every_country=every_country, named_country=named_country)


_READERS = (Role.SENDER, Role.OPERATOR, Role.APPROVER, Role.AUDITOR, Role.ADMIN)
_STAFF = (Role.OPERATOR, Role.APPROVER, Role.AUDITOR, Role.ADMIN)
_OPERATORS = (Role.OPERATOR, Role.ADMIN)

PERMISSIONS: dict[Action, Permission] = {
    Action.SUBMIT: _may(Role.SENDER),
    Action.CHECK: _may(*_READERS),
    Action.READ_MESSAGES: _may(*_READERS),
    Action.READ_CHANNELS: _may(*_STAFF),
    Action.READ_AUDIT: _may(Role.AUDITOR, Role.ADMIN),
    Action.READ_PAYLOAD: _may(*_OPERATORS),
    # The console shows messages: whoever may read them may sign in to read them there.
    Action.SIGN_IN: _may(*_READERS, Role.LEGAL),
    Action.RETRY: _may(*_OPERATORS),
    Action.CANCEL: _may(*_OPERATORS),
    Action.RELEASE: _may(Role.APPROVER),
    Action.REJECT: _may(Role.APPROVER),
    Action.REDRIVE: _may(*_OPERATORS),  # reaches only the dead letters of the caller's countries
    Action.PAUSE: _may(*_OPERATORS, every_country=True),
    Action.RESUME: _may(*_OPERATORS, every_country=True),
    Action.TEST_CHANNEL: _may(*_OPERATORS),
    Action.READ_UNMATCHED: _may(*_STAFF, every_country=True),
    # Facts of the parties table: staff read them; only legal officers change them.
    Action.READ_FACTS: _may(*_STAFF, Role.LEGAL),
    Action.CHANGE_FACTS: _may(Role.LEGAL),
    # Events are told to the sending agency: only a token bound to one has them.
    Action.SUBSCRIBE: _may(Role.SENDER),
    Action.READ_EVENTS: _may(Role.SENDER),
    # Whoever registers a key decides who may sign as that country's agencies: that country's
    # admin alone (an admin token issued with --country or --scope for it).
    Action.MANAGE_SENDER_KEYS: _may(Role.ADMIN, named_country=True),
}


def role_may(role: str, action: Action) -> bool:
    """The role check alone (what a route admits before it knows the caller's countries)."""
    return role in PERMISSIONS[action].roles


def refusal(identity: Identity, action: Action) -> GatewayError | None:
    """Why ``identity`` may not do ``action``, or None when it may."""
    permission = PERMISSIONS[action]
    if identity.role not in permission.roles:
        return GatewayError(ErrorKind.FORBIDDEN, "forbidden", "this token's role may not do this")
    if permission.every_country and not sees_every_country(identity):
        return GatewayError(
            ErrorKind.FORBIDDEN,
            "regional_scope_required",
            "this acts on every country at once; it needs a regional token",
        )
    return None


def named_countries(identity: Identity) -> tuple[str, ...]:
    """The countries a token was issued for by name (its country, or its scope)."""
    if identity.scope_countries:
        return identity.scope_countries
    return (identity.country,) if identity.country else ()


def country_refusal(identity: Identity, action: Action, country: str) -> GatewayError | None:
    """Why ``identity`` may not do ``action`` for ``country``'s data, or None when it may."""
    refused = refusal(identity, action)
    if refused is not None:
        return refused
    if PERMISSIONS[action].named_country and country not in named_countries(identity):
        return GatewayError(
            ErrorKind.FORBIDDEN,
            "country_admin_required",
            "only a token issued for this country may do this for it",
        )
    return None


def check_country(identity: Identity, action: Action, country: str) -> None:
    """Raise the refusal of ``action`` on ``country``'s data, if any."""
    refused = country_refusal(identity, action, country)
    if refused is not None:
        raise refused


def may(identity: Identity, action: Action) -> bool:
    """Whether the permission table lets the caller take the action (to offer it in the console)."""
    return refusal(identity, action) is None


def check(identity: Identity, action: Action) -> None:
    """Raise the refusal, if any: every service calls this before it reads or changes data."""
    refused = refusal(identity, action)
    if refused is not None:
        raise refused


def bound_to_one_country(role: str) -> bool:
    """Tokens of this role are issued for one country and agency, and act as them."""
    return REACH[Role(role)] is Reach.OWN_COUNTRY


def visible_countries(identity: Identity) -> tuple[str, ...] | None:
    """The sender countries whose messages the caller sees; None means every country."""
    reach = REACH[Role(identity.role)]
    if reach is Reach.EVERY_COUNTRY:
        return None
    if reach is Reach.OWN_COUNTRY:
        return (identity.country,) if identity.country else ()
    if reach is Reach.NO_COUNTRY:
        return ()
    return identity.scope_countries or None


def sees_every_country(identity: Identity) -> bool:
    """True for roles bound to no country (operators, approvers, ...)."""
    return visible_countries(identity) is None


def can_see_country(identity: Identity, country: str) -> bool:
    """Tenancy: another country's message is, for this caller, a message that does not exist."""
    visible = visible_countries(identity)
    return visible is None or country in visible
