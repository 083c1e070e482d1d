"""The permission table is the source the route table and the API edge are built from."""

from __future__ import annotations

import pytest

from gateway.api.errors import STATUS
from gateway.errors import ErrorKind
from gateway.security import policy_table
from gateway.security.policy_table import ROUTE_POLICIES
from gateway.services.permissions import PERMISSIONS, Action

# Actions the console offers without an API route of their own.
CONSOLE_ONLY = {Action.SIGN_IN, Action.READ_PAYLOAD}


def test_every_route_takes_its_roles_from_the_permission_table() -> None:
    for (method, path), policy in ROUTE_POLICIES.items():
        if policy.token_free:
            # Public routes, and a channel's own door (its credential, never a role).
            assert policy.action is None, f"{method} {path}"
            continue
        assert policy.action is not None, f"{method} {path}"
        assert policy.roles is PERMISSIONS[policy.action].roles, f"{method} {path}"
        regional = PERMISSIONS[policy.action].every_country
        assert (policy.scope == "regional") == regional, f"{method} {path}"


def test_every_action_is_reachable_and_every_one_has_a_row() -> None:
    routed = {p.action for p in ROUTE_POLICIES.values() if p.action is not None}
    assert routed | CONSOLE_ONLY == set(Action)
    assert set(PERMISSIONS) == set(Action)


def test_a_route_row_that_disagrees_with_the_table_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="disagrees with the permission table"):
        policy_table._rule("global", Action.PAUSE)
    with pytest.raises(ValueError, match="disagrees with the permission table"):
        policy_table._rule("regional", Action.RETRY)


def test_every_error_kind_has_one_http_status() -> None:
    assert set(STATUS) == set(ErrorKind)
    assert STATUS[ErrorKind.NOT_FOUND] == 404
    assert STATUS[ErrorKind.CONFLICT] == 409
