"""Signed evidence of a delivery's end, through intake, the worker and a checking simulator,
on both back ends; verified with the published JWK set and joserfc alone."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from gateway.api.app import create_app
from gateway.context import GatewayContext, build_context
from gateway.delivery.worker import DeliveryWorker
from simulators import Fault, SimulatorSet, start_simulators
from tests.conftest import EXAMPLES, issue_tokens, make_settings
from tests.delivery._support import delivery_row

EXAMPLE = EXAMPLES / "al-victim-identification-pcc-see.json"


def verify_offline(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """What a national system does: the JWK set and joserfc, nothing of the gateway."""
    signed = jws.deserialize_compact(token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert signed.headers()["typ"] == "marri-evidence+jws"
    record: dict[str, Any] = json.loads(signed.payload)
    assert record["key_id"] == signed.headers()["kid"]
    return record


@pytest.fixture
def simulators() -> Iterator[SimulatorSet]:
    with start_simulators(["pcc_see"]) as running:
        yield running


@pytest.fixture
def gateway(db_url: str, tmp_path: Path, simulators: SimulatorSet) -> Iterator[GatewayContext]:
    channels = {
        "pcc_see": {"url": simulators["pcc_see"], "retry": {"max_attempts": 2}},
    }
    settings = make_settings(db_url, tmp_path, channels=channels, worker_poll_interval_s=0.02)
    context = build_context(settings)
    simulators.simulator("pcc_see").trust(context.signing.public_jwks())
    try:
        yield context
    finally:
        context.close()


async def _deliver_one(context: GatewayContext, client: httpx.AsyncClient, token: str) -> str:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["message_id"] = str(uuid.uuid4())
    answer = await client.post(
        "/v1/messages",
        content=json.dumps(data).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    (delivery,) = answer.json()["deliveries"]
    worker = DeliveryWorker(
        store=context.store,
        keyring=context.keyring,
        registry=context.registry,
        settings=context.settings,
        signing=context.signing,
    )
    run = asyncio.create_task(worker.run(grace_s=2))
    deadline = asyncio.get_running_loop().time() + 30
    while delivery_row(context.store, delivery["id"]).state not in ("delivered", "failed"):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    worker.stop()
    await run
    return str(delivery["id"])


async def test_delivered_evidence_verifies_with_the_published_keys_alone(
    gateway: GatewayContext, simulators: SimulatorSet
) -> None:
    tokens = issue_tokens(gateway.store)
    app = create_app(gateway)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        delivery_id = await _deliver_one(gateway, client, tokens.sender("AL"))
        jwks = (await client.get("/v1/keys/signing")).json()  # public: no token
        own = await client.get(
            f"/v1/deliveries/{delivery_id}/evidence",
            headers={"Authorization": f"Bearer {tokens.sender('AL')}"},
        )
        foreign = await client.get(
            f"/v1/deliveries/{delivery_id}/evidence",
            headers={"Authorization": f"Bearer {tokens.sender('RS')}"},
        )
        audit = await client.get(
            "/v1/audit/verify", headers={"Authorization": f"Bearer {tokens.auditor}"}
        )
    assert own.status_code == 200, own.text
    assert foreign.status_code == 404
    # The same process keyed the audit entries of that intake and signed their head.
    assert audit.json()["intact"] is True
    assert audit.json()["keyed"] is True
    (stored,) = own.json()["records"]
    record = verify_offline(stored["jws"], jwks)
    (arrived,) = simulators.simulator("pcc_see").inbox()
    row = delivery_row(gateway.store, delivery_id)
    assert record["outcome"] == "delivered"
    assert record["delivery_id"] == delivery_id
    assert record["channel"] == "pcc_see"
    assert record["recipient"] == "MK"
    assert record["sender_country"] == "AL"
    # The hash is of the signed bytes the channel received.
    assert record["payload"]["sha256"] == hashlib.sha256(arrived.body.encode()).hexdigest()
    assert record["receipt"]["reference"] == arrived.reference
    assert record["decision"]["pack_hash"] == row.pack_hash
    assert record["attempts"] == 1
    assert record["accepted_at"]
    assert record["ended_at"]
    # A changed byte in the record (here: the claimed hash) no longer verifies.
    header, _, signature = stored["jws"].split(".")
    forged = json.dumps({**record, "payload": {**record["payload"], "sha256": "0" * 64}})
    body = base64.urlsafe_b64encode(forged.encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        verify_offline(f"{header}.{body}.{signature}", jwks)


async def test_a_refused_payload_ends_failed_with_signed_evidence(
    gateway: GatewayContext, simulators: SimulatorSet
) -> None:
    tokens = issue_tokens(gateway.store)
    simulators.simulator("pcc_see").inject(Fault("tamper"))
    app = create_app(gateway)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        delivery_id = await _deliver_one(gateway, client, tokens.sender("AL"))
        jwks = (await client.get("/v1/keys/signing")).json()
        answer = await client.get(
            f"/v1/deliveries/{delivery_id}/evidence",
            headers={"Authorization": f"Bearer {tokens.auditor}"},
        )
    (stored,) = answer.json()["records"]
    record = verify_offline(stored["jws"], jwks)
    assert record["outcome"] == "failed"
    assert record["receipt"] is None
    assert record["error"]["class"] == "PermanentError"
    assert simulators.simulator("pcc_see").stats["unsigned"] == 1
