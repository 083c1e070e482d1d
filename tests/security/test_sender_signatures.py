"""Senders sign: a detached JWS over the exact body, verified against the agency's keys.

Runs on SQLite and PostgreSQL (the ``db_url`` fixture); ``mode`` is the deployment setting
MARRI_SENDER_SIGNATURES, "required" unless a test asks for "optional".
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from sqlalchemy import select

from gateway.cli.trace_cmd import render_trace
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.store.signature_tables import message_signatures, sender_keys
from gateway.store.tables import audit_entries, utcnow
from tests.api.helpers import dumps, row_counts, variant
from tests.conftest import Tokens, make_settings
from tests.security.signing import (
    HEADER,
    AgencyKey,
    b64url,
    expire,
    hand_made,
    hs256_with_public_key,
    register,
    signer,
    unrelated_private,
)

AGENCY = "Albanian State Police"  # sender.agency of the AL example
SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


@pytest.fixture
def mode() -> str:
    return "required"


@pytest.fixture
def settings(db_url: str, tmp_path: Path, mode: str) -> Settings:
    return make_settings(db_url, tmp_path, sender_signatures=mode)


def _headers(token: str, signature: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if signature is not None:
        headers[HEADER] = signature
    return headers


async def _post(
    client: httpx.AsyncClient, token: str, body: bytes, signature: str | None
) -> httpx.Response:
    return await client.post("/v1/messages", content=body, headers=_headers(token, signature))


def _refused(response: httpx.Response, code: str, message: dict[str, Any]) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (401, code)
    # No personal data (or any other part of the message) comes back in the refusal.
    for value in (message["message_id"], message["sender"]["unit"], json.dumps(message)[:80]):
        assert value not in response.text


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_a_signed_message_is_stored_with_its_signature_and_shown(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens, alg: str
) -> None:
    key = register(context, "AL", AGENCY, kid=f"asp-{alg.lower()}", alg=alg)
    message = variant()
    body = dumps(message)
    signature = key.sign(body)

    accepted = await _post(client, tokens.sender("AL"), body, signature)

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["signature"]["kid"] == key.kid
    trace = await client.get(
        f"/v1/messages/{message['message_id']}/trace", headers=_headers(tokens.operator, None)
    )
    shown = trace.json()["signature"]
    assert shown["signed_by"] == f"AL · {AGENCY}"
    assert (shown["kid"], shown["alg"], shown["jws"]) == (key.kid, alg, signature)
    assert any(
        e["type"] == "signature" and f"signed by {AGENCY} key {key.kid}" in e["summary"]
        for e in trace.json()["events"]
    )
    terminal = Console(record=True, width=200)
    terminal.print(render_trace(trace.json()))  # what `marri-gateway trace` prints
    assert f"signed by AL · {AGENCY} key {key.kid} ({alg})" in terminal.export_text()

    def stored(conn: Any) -> tuple[Any, Any]:
        row = conn.execute(select(message_signatures)).one()
        entry = conn.execute(
            select(audit_entries.c.details_json).where(audit_entries.c.action == "message.accepted")
        ).scalar_one()
        return row, json.loads(entry)

    row, audited = context.store.read_sync(stored)
    assert (row.message_id, row.key_id, row.jws) == (message["message_id"], key.id, signature)
    assert audited["signed_with"] == key.kid


async def test_an_unsigned_message_is_refused_when_signatures_are_required(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    message = variant()
    before = row_counts(context.store)
    response = await _post(client, tokens.sender("AL"), dumps(message), None)
    _refused(response, "signature_required", message)
    assert row_counts(context.store) == before


def _tamper(body: bytes) -> bytes:
    """One byte changed inside a string value: still valid JSON, still the same message_id."""
    index = body.index(b"Anti-Trafficking")
    return body[:index] + b"a" + body[index + 1 :]


BAD_CASES = [
    "changed_byte",
    "wrong_key",
    "other_agency_key",
    "expired",
    "not_yet_valid",
    "revoked",
    "alg_none",
    "hs256",
    "missing_crit",
    "b64_true",
    "embedded_jwk",
    "attached_payload",
    "not_a_jws",
    "algorithm_of_another_key",
    "kid_with_nul",
    "deep_header",
]


def _bad_signature(
    case: str, context: GatewayContext, key: AgencyKey, body: bytes
) -> tuple[bytes, str, str]:
    """(body sent, signature header, expected code) for one hostile case."""
    good = {"alg": "ES256", "kid": key.kid, "b64": False, "crit": ["b64"]}
    if case == "changed_byte":
        return _tamper(body), key.sign(body), "signature_invalid"
    if case == "wrong_key":
        return body, signer.sign(body, unrelated_private("ES256", key.kid)), "signature_invalid"
    if case == "other_agency_key":
        other = register(context, "AL", "Albanian Border Police", kid="abp-1")
        return body, other.sign(body), "signature_key_unknown"
    if case in ("expired", "not_yet_valid", "revoked"):
        late = register(
            context,
            "AL",
            AGENCY,
            kid=f"{case}-key",
            not_before=utcnow() + timedelta(days=1) if case == "not_yet_valid" else None,
        )
        if case == "expired":
            expire(context, late.id)
        if case == "revoked":
            context.store.write_sync(
                lambda conn: conn.execute(
                    sender_keys.update()
                    .where(sender_keys.c.id == late.id)
                    .values(revoked_at=utcnow())
                )
            )
        return body, late.sign(body), f"signature_key_{case}"
    if case == "alg_none":
        return body, hand_made({**good, "alg": "none"}), "signature_algorithm_refused"
    if case == "hs256":
        public = context.store.read_sync(
            lambda conn: json.loads(
                conn.execute(
                    select(sender_keys.c.jwk_json).where(sender_keys.c.id == key.id)
                ).scalar_one()
            )
        )
        return body, hs256_with_public_key(body, key, public), "signature_algorithm_refused"
    if case == "missing_crit":
        header = {k: v for k, v in good.items() if k != "crit"}
        return body, hand_made(header, b"x" * 64), "signature_header_invalid"
    if case == "b64_true":
        return body, hand_made({**good, "b64": True}, b"x" * 64), "signature_header_invalid"
    if case == "embedded_jwk":
        header = {**good, "jwk": unrelated_private("ES256", "x")}
        return body, hand_made(header, b"x" * 64), "signature_header_invalid"
    if case == "attached_payload":
        head, _, sig = key.sign(body).split(".")
        return body, f"{head}.eyJhIjoxfQ.{sig}", "signature_malformed"
    if case == "not_a_jws":
        return body, "not a signature", "signature_malformed"
    if case == "kid_with_nul":  # PostgreSQL refuses NUL in text: it must not reach a query
        return (
            body,
            hand_made({**good, "kid": "asp\u0000-1"}, b"x" * 64),
            "signature_header_invalid",
        )
    if case == "deep_header":
        return body, f"{b64url(b'[' * 1500)}..{b64url(b'x' * 64)}", "signature_malformed"
    assert case == "algorithm_of_another_key"
    return body, hand_made({**good, "alg": "EdDSA"}, b"x" * 64), "signature_algorithm_refused"


@pytest.mark.parametrize("case", BAD_CASES)
async def test_a_bad_signature_is_refused_with_its_code_and_nothing_is_stored(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens, case: str
) -> None:
    key = register(context, "AL", AGENCY, kid="asp-1")
    message = variant()
    sent, signature, code = _bad_signature(case, context, key, dumps(message))
    before = row_counts(context.store)
    response = await _post(client, tokens.sender("AL"), sent, signature)
    _refused(response, code, message)
    assert row_counts(context.store) == before


@pytest.mark.parametrize("mode", ["optional"])
async def test_optional_mode_takes_unsigned_messages_but_still_refuses_a_bad_signature(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    key = register(context, "AL", AGENCY, kid="asp-1")
    unsigned = variant()
    accepted = await _post(client, tokens.sender("AL"), dumps(unsigned), None)
    assert accepted.status_code == 202, accepted.text
    assert "signature" not in accepted.json()
    trace = await client.get(
        f"/v1/messages/{unsigned['message_id']}/trace", headers=_headers(tokens.operator, None)
    )
    assert trace.json()["signature"] is None
    terminal = Console(record=True, width=200)
    terminal.print(render_trace(trace.json()))
    assert "not signed by the sender" in terminal.export_text()

    message = variant()
    body = dumps(message)
    _refused(
        await _post(client, tokens.sender("AL"), _tamper(body), key.sign(body)),
        "signature_invalid",
        message,
    )
    signed = await _post(client, tokens.sender("AL"), body, key.sign(body))
    assert signed.status_code == 202, signed.text


@pytest.mark.parametrize("mode", ["optional", "required"])
async def test_a_replayed_message_id_is_verified_like_a_new_message(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens, mode: str
) -> None:
    key = register(context, "AL", AGENCY, kid="asp-1")
    message = variant()
    body = dumps(message)
    first = await _post(client, tokens.sender("AL"), body, key.sign(body))
    assert first.status_code == 202, first.text

    forged = signer.sign(body, unrelated_private("ES256", key.kid))
    _refused(await _post(client, tokens.sender("AL"), body, forged), "signature_invalid", message)
    unsigned = await _post(client, tokens.sender("AL"), body, None)
    if mode == "required":
        _refused(unsigned, "signature_required", message)
    else:
        assert unsigned.status_code == 200  # the original answer, nothing new stored
    again = await _post(client, tokens.sender("AL"), body, key.sign(body))
    assert again.status_code == 200
    assert again.json() == first.json()


async def test_rotation_two_keys_overlap_then_the_old_one_is_revoked(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    old = register(context, "AL", AGENCY, kid="asp-2026")
    new = register(context, "AL", AGENCY, kid="asp-2027")
    for key in (old, new):
        message = variant()
        body = dumps(message)
        response = await _post(client, tokens.sender("AL"), body, key.sign(body))
        assert response.status_code == 202, response.text
        assert response.json()["signature"]["kid"] == key.kid

    await context.services.sender_keys.revoke(_cli_admin("AL"), old.id)

    message = variant()
    body = dumps(message)
    _refused(
        await _post(client, tokens.sender("AL"), body, old.sign(body)),
        "signature_key_revoked",
        message,
    )
    assert (await _post(client, tokens.sender("AL"), body, new.sign(body))).status_code == 202


async def test_an_albanian_key_cannot_sign_for_serbia(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    albanian = register(context, "AL", AGENCY, kid="shared-kid")
    message = variant("rs-cyrillic-case-europol-selec.json")
    body = dumps(message)
    response = await _post(client, tokens.sender("RS"), body, albanian.sign(body))
    _refused(response, "signature_key_unknown", message)
    # The same kid registered for the Serbian agency does not make the Albanian key valid.
    register(context, "RS", message["sender"]["agency"], kid="shared-kid")
    response = await _post(client, tokens.sender("RS"), body, albanian.sign(body))
    _refused(response, "signature_invalid", message)


def _cli_admin(country: str) -> Any:
    from gateway.security.identity import Identity, Role

    return Identity(token_id="t", role=Role.ADMIN, label="admin", scope_countries=(country,))


async def test_the_header_and_every_refusal_code_are_documented(
    client: httpx.AsyncClient,
) -> None:
    from gateway.security.sender_signature import CODES

    document = (await client.get("/openapi.json")).json()
    post = document["paths"]["/v1/messages"]["post"]
    [parameter] = [p for p in post["parameters"] if p["name"] == HEADER]
    assert parameter["in"] == "header"
    assert "RFC 7797" in parameter["description"]
    docs = SECURITY_DOC.read_text(encoding="utf-8")
    assert "## What X-Road / Domibus promise — what we do" in docs
    for code in CODES:
        assert f"`{code}`" in post["responses"]["401"]["description"], code
        assert f"`{code}`" in docs, code


@pytest.mark.parametrize("mode", ["optional", "required"])
async def test_the_published_rules_name_the_signature_checks_of_this_gateway(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens, mode: str
) -> None:
    from gateway.security.sender_signature import CODES

    rules = {r["id"]: r for r in (await client.get("/v1/schema/rules")).json()["rules"]}
    verifies = rules["sender_signature_verifies"]
    assert (verifies["status"], verifies["values"]["header"]) == (401, HEADER)
    assert set(verifies["values"]["codes"]) == set(CODES)
    assert ("sender_signature_sent" in rules) == (mode == "required")
    # What the rule says is what the API answers.
    key = register(context, "AL", AGENCY, kid="asp-1")
    message = variant()
    body = dumps(message)
    answer = await _post(client, tokens.sender("AL"), _tamper(body), key.sign(body))
    assert (answer.status_code, answer.json()["error"]["code"]) == (
        verifies["status"],
        verifies["error"],
    )
    if mode == "required":
        sent = rules["sender_signature_sent"]
        unsigned = await _post(client, tokens.sender("AL"), dumps(variant()), None)
        assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (
            sent["status"],
            sent["error"],
        )
