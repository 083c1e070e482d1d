"""Sender keys managed over the API (a country's own admin only) and the CLI, audited; the
example signer for national developers, end to end. Both back ends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.cli import keys_cmd, sender_keys_cmd
from gateway.context import GatewayContext
from gateway.security.tokens import issue_token
from gateway.store.tables import audit_entries
from tests.api.helpers import dumps, variant
from tests.conftest import EXAMPLES, Tokens
from tests.security.cli import run
from tests.security.signing import HEADER, new_pair

AGENCY = "Albanian State Police"


def _admin(
    context: GatewayContext, *, scope: tuple[str, ...] = (), country: str | None = None
) -> str:
    return context.store.write_sync(
        lambda conn: issue_token(
            conn, role="admin", label="country admin", scope_countries=scope, country=country
        )
    ).token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _audited(context: GatewayContext, action: str) -> list[dict[str, Any]]:
    def read(conn: Any) -> list[dict[str, Any]]:
        rows = conn.execute(
            select(audit_entries.c.actor, audit_entries.c.details_json, audit_entries.c.reason)
            .where(audit_entries.c.action == action)
            .order_by(audit_entries.c.seq)
        )
        return [{"actor": r.actor, "reason": r.reason, **json.loads(r.details_json)} for r in rows]

    return context.store.read_sync(read)


async def test_a_country_admin_registers_lists_and_revokes_its_agencies_keys(
    client: httpx.AsyncClient, context: GatewayContext
) -> None:
    admin_al = _admin(context, scope=("AL",))
    _, public = new_pair("ES256", "asp-1")
    added = await client.post(
        "/v1/sender-keys",
        headers=_auth(admin_al),
        json={"country": "AL", "agency": AGENCY, "jwk": public},
    )
    assert added.status_code == 201, added.text
    key = added.json()
    assert (key["kid"], key["alg"], key["status"]) == ("asp-1", "ES256", "valid")
    assert "d" not in key["jwk"]

    listing = await client.get("/v1/sender-keys", headers=_auth(admin_al))
    assert [k["id"] for k in listing.json()["items"]] == [key["id"]]
    assert listing.json()["jwks"]["keys"][0]["kid"] == "asp-1"

    revoked = await client.post(
        f"/v1/sender-keys/{key['id']}/revoke", headers=_auth(admin_al), json={"reason": "lost"}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    listing = await client.get("/v1/sender-keys?country=AL", headers=_auth(admin_al))
    assert listing.json()["jwks"] == {"keys": []}
    again = await client.post(f"/v1/sender-keys/{key['id']}/revoke", headers=_auth(admin_al))
    assert again.status_code == 409

    [entry] = _audited(context, "sender_key.added")
    assert (entry["country"], entry["kid"], entry["actor"]) == ("AL", "asp-1", entry["actor"])
    assert entry["actor"].startswith("admin:")
    [revocation] = _audited(context, "sender_key.revoked")
    assert revocation["reason"] == "lost"


async def test_only_that_countrys_admin_manages_its_keys(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    admin_al = _admin(context, scope=("AL",))
    admin_rs = _admin(context, country="RS")
    _, public = new_pair("ES256", "asp-1")
    body = {"country": "AL", "agency": AGENCY, "jwk": public}

    for token in (admin_rs, tokens.admin):  # another country's admin; a regional admin
        refused = await client.post("/v1/sender-keys", headers=_auth(token), json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "country_admin_required"
    for token in (tokens.sender("AL"), tokens.operator, tokens.auditor):
        refused = await client.post("/v1/sender-keys", headers=_auth(token), json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"

    added = await client.post("/v1/sender-keys", headers=_auth(admin_al), json=body)
    assert added.status_code == 201
    key_id = added.json()["id"]
    # Serbia's admin neither sees nor revokes Albania's key: it answers like a missing one.
    listing = await client.get("/v1/sender-keys", headers=_auth(admin_rs))
    assert listing.json()["items"] == []
    refused = await client.get("/v1/sender-keys?country=AL", headers=_auth(admin_rs))
    assert refused.status_code == 403
    revoke = await client.post(f"/v1/sender-keys/{key_id}/revoke", headers=_auth(admin_rs))
    assert revoke.status_code == 404
    assert _audited(context, "sender_key.revoked") == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"d": "c2VjcmV0LXZhbHVl"}, 422, "private_key_refused"),
        ({"alg": "RS256"}, 422, "algorithm_refused"),
        ({"crv": "P-384"}, 422, "key_type_mismatch"),
        ({"x": "AAAA"}, 422, "invalid_key"),
        ({"kid": "bad kid!"}, 422, "invalid_kid"),
    ],
)
async def test_unusable_keys_are_refused_with_a_code(
    client: httpx.AsyncClient,
    context: GatewayContext,
    change: dict[str, str],
    status: int,
    code: str,
) -> None:
    _, public = new_pair("ES256", "asp-1")
    body = {"country": "AL", "agency": AGENCY, "jwk": {**public, **change}}
    response = await client.post(
        "/v1/sender-keys", headers=_auth(_admin(context, scope=("AL",))), json=body
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "c2VjcmV0LXZhbHVl" not in response.text  # a private member is never echoed


async def test_a_kid_or_key_registered_twice_is_a_conflict(
    client: httpx.AsyncClient, context: GatewayContext
) -> None:
    token = _admin(context, scope=("AL", "RS"))
    _, public = new_pair("EdDSA", "asp-1")
    first = {"country": "AL", "agency": AGENCY, "jwk": public}
    assert (
        await client.post("/v1/sender-keys", headers=_auth(token), json=first)
    ).status_code == 201
    _, other = new_pair("EdDSA", "asp-1")
    same_kid = await client.post(
        "/v1/sender-keys", headers=_auth(token), json={**first, "jwk": other}
    )
    assert (same_kid.status_code, same_kid.json()["error"]["code"]) == (409, "kid_taken")
    elsewhere = await client.post(
        "/v1/sender-keys",
        headers=_auth(token),
        json={
            "country": "RS",
            "agency": "Ministry of Interior",
            "jwk": {k: v for k, v in public.items() if k != "kid"},
            "kid": "rs-1",
        },
    )
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (
        409,
        "key_already_registered",
    )


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, db_url: str) -> Any:
    def register(app: Any) -> None:
        keys_cmd.register(app)
        sender_keys_cmd.register(app)

    return run(register, args, monkeypatch, db_url=db_url)


def _example(*args: str) -> str:
    """Run examples/sign_message.py as a national developer would, outside the gateway."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "sign_message.py"), *args],
        check=True, timeout=60, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


async def test_the_example_signer_and_the_cli_work_end_to_end(
    client: httpx.AsyncClient,
    context: GatewayContext,
    tokens: Tokens,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private, public = tmp_path / "asp.private.jwk", tmp_path / "asp.public.jwk"
    _example("keygen", "--alg", "EdDSA", "--kid", "asp-2027-01", "--private", str(private),
             "--public", str(public))  # fmt: skip
    assert private.stat().st_mode & 0o077 == 0
    assert "d" not in json.loads(public.read_text())

    added = _cli(
        ["keys", "agency", "add", "--country", "AL", "--agency", AGENCY, "--jwk", str(public)],
        monkeypatch,
        db_url,
    )
    assert added.exit_code == 0, added.output
    assert "asp-2027-01" in added.output
    private_refused = _cli(
        ["keys", "agency", "add", "--country", "AL", "--agency", AGENCY, "--jwk", str(private)],
        monkeypatch,
        db_url,
    )
    assert private_refused.exit_code != 0
    assert "private_key_refused" in private_refused.output

    message = tmp_path / "message.json"
    message.write_bytes(dumps(variant()))
    signature = _example("sign", "--key", str(private), str(message))
    headers = {**_auth(tokens.sender("AL")), HEADER: signature}
    response = await client.post("/v1/messages", content=message.read_bytes(), headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["signature"]["kid"] == "asp-2027-01"

    listed = _cli(["keys", "agency", "list", "--jwks"], monkeypatch, db_url)
    jwks = json.loads(listed.output)
    [key_id] = [line.split()[1] for line in added.output.splitlines() if line.startswith("id ")]
    assert jwks["keys"][0]["kid"] == "asp-2027-01"
    revoked = _cli(["keys", "agency", "revoke", key_id, "--reason", "rotated"], monkeypatch, db_url)
    assert revoked.exit_code == 0, revoked.output
    [entry] = _audited(context, "sender_key.revoked")
    assert entry["actor"].startswith("cli:")

    response = await client.post("/v1/messages", content=message.read_bytes(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_key_revoked"
