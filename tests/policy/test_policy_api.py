"""End to end through the intake API: the legal-basis decisions a national system sees for
Kosovo*, PCC SEE Arts. 3 and 31, Interpol RPD Art. 83 and Frontex Arts. 89 and 90 — and that
what a redaction removes is really absent from the stored payload."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.context import GatewayContext
from gateway.store.crypto import payload_aad
from gateway.store.tables import deliveries
from tests.api.helpers import auth, dumps, row_counts, variant
from tests.conftest import Tokens

pytestmark = pytest.mark.asyncio

AL_PCC = "al-victim-identification-pcc-see.json"
ME_ALERT = "me-early-warning-alert.json"
AL_YELLOW = "al-yellow-notice-request.json"
MK_FRONTEX = "mk-smuggling-interception-frontex.json"
XK_EUROPOL = "xk-europol-information.json"


async def submit(client: httpx.AsyncClient, tokens: Tokens, data: dict[str, Any]) -> Any:
    response = await client.post(
        "/v1/messages", content=dumps(data), headers=auth(tokens.sender(data["sender"]["country"]))
    )
    assert response.status_code == 202, response.text
    return response.json()["deliveries"]


def rules_of(delivery: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in delivery["decision"]["findings"]]


def by_channel(found: list[dict[str, Any]], channel: str) -> list[dict[str, Any]]:
    return [d for d in found if d["channel"] == channel]


def stored_payload(context: GatewayContext, delivery_id: str) -> bytes:
    row = context.store.read_sync(
        lambda c: c.execute(select(deliveries).where(deliveries.c.id == delivery_id)).one()
    )
    return context.keyring.decrypt(
        row.payload_key_id, row.payload_ciphertext, aad=payload_aad(delivery_id)
    )


async def test_kosovo_reaches_europol_but_not_interpol_selec_or_pcc_see(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    data = variant(ME_ALERT)
    data["sender"]["country"] = "XK"
    found = await submit(client, tokens, data)
    (interpol,) = by_channel(found, "interpol")
    assert interpol["state"] == "blocked"
    assert "interpol.art4_sender_member" in rules_of(interpol)
    (selec,) = by_channel(found, "selec")
    assert selec["state"] == "blocked"
    assert "selec.member_sender" in rules_of(selec)
    pcc = by_channel(found, "pcc_see")
    assert {d["recipient"] for d in pcc} == {"AL", "BA", "MK", "RS"}
    assert all(d["state"] == "blocked" and "pcc_see.party_sender" in rules_of(d) for d in pcc)
    (europol,) = by_channel(found, "europol")
    assert europol["state"] == "queued"
    assert europol["decision"]["outcome"] == "allow"


async def test_pcc_see_art3_exchange_with_personal_data_is_blocked(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    found = await submit(
        client, tokens, variant(AL_PCC, legal_basis=[{"instrument": "pcc_see", "article": "3"}])
    )
    (delivery,) = found
    assert delivery["state"] == "blocked"
    finding = next(
        f for f in delivery["decision"]["findings"] if f["rule"] == "pcc_see.art3_no_personal_data"
    )
    assert finding["cite"] == "PCC SEE Convention Art. 3"
    assert "payload_sha256" not in delivery


async def test_pcc_see_personal_data_without_deletion_deadline_is_blocked(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    data = variant(AL_PCC)
    del data["handling"]["retention_until"]
    (delivery,) = await submit(client, tokens, data)
    assert delivery["state"] == "blocked"
    assert rules_of(delivery) == ["pcc_see.art31_deletion_deadline"]


@pytest.mark.parametrize(
    ("warrant", "rule"),
    [(None, "interpol.rpd83_warrant"), ({"max_penalty_years": 1}, "interpol.rpd83_penalty")],
)
async def test_red_notice_request_needs_warrant_and_two_years(
    client: httpx.AsyncClient, tokens: Tokens, warrant: dict[str, Any] | None, rule: str
) -> None:
    data = variant(
        AL_YELLOW, destinations=[{"channel": "interpol", "product": "red_notice_request"}]
    )
    data["persons"][0]["role"] = "suspect"
    if warrant is not None:
        data["case"]["warrant"] = warrant
    (delivery,) = await submit(client, tokens, data)
    assert delivery["state"] == "blocked"
    assert rule in rules_of(delivery)
    assert delivery["product"] == "red_notice_request"


async def test_eurosur_event_report_is_delivered_without_personal_data(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    data = variant(MK_FRONTEX)
    (frontex,) = by_channel(await submit(client, tokens, data), "frontex")
    assert frontex["state"] == "queued"
    assert frontex["decision"]["outcome"] == "redact"
    assert rules_of(frontex) == ["frontex.art89_no_personal_data"]
    assert "$.persons[0]" in frontex["decision"]["redacted"]
    payload = stored_payload(context, frontex["id"]).decode("utf-8")
    for person in data["persons"]:
        for name in person["names"]:
            for part in (name.get("given"), name.get("family")):
                assert part is None or part not in payload
    for communication in data.get("communications", []):
        assert communication["value"] not in payload
    assert data["vehicles"][0]["registration"] not in payload


async def test_frontex_operational_data_drops_a_witness_not_linked_to_a_suspect(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    data = variant(XK_EUROPOL)
    data["persons"].append(
        {"ref": "w-1", "role": "witness", "names": [{"given": "Qendresa", "family": "Zzyzxova"}]}
    )
    (frontex,) = by_channel(await submit(client, tokens, data), "frontex")
    assert frontex["decision"]["outcome"] == "redact"
    assert rules_of(frontex) == ["frontex.art90_victims_witnesses_linked"]
    assert frontex["decision"]["redacted"] == [f"$.persons[{len(data['persons']) - 1}]"]
    payload = stored_payload(context, frontex["id"]).decode("utf-8")
    assert "Zzyzxova" not in payload
    suspect_family = data["persons"][0]["names"][0]["family"]
    assert suspect_family in payload


async def test_dry_run_answers_the_cli_report_and_stores_nothing(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    before = row_counts(context.store)
    data = variant(ME_ALERT)
    response = await client.post(
        "/v1/messages/check", content=dumps(data), headers=auth(tokens.sender("ME"))
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["channels"]["pcc_see"]["outcome"] == "review"
    assert report["channels"]["pcc_see"]["recipients"]["AL"] == {
        "outcome": "allow",
        "findings": [],
        "redacted": [],
    }
    # The channel says which findings made its outcome: BA's evaluation is not confirmed.
    assert set(report["channels"]["pcc_see"]) == {"outcome", "findings", "recipients"}
    assert [(f["rule"], f["recipients"]) for f in report["channels"]["pcc_see"]["findings"]] == [
        ("pcc_see.art31_data_protection_level", ["BA"])
    ]
    assert set(report["channels"]["europol"]) == {"outcome", "findings", "redacted"}

    wrong_country = await client.post(
        "/v1/messages/check", content=dumps(data), headers=auth(tokens.sender("AL"))
    )
    assert wrong_country.status_code == 403
    data.pop("subject")
    invalid = await client.post(
        "/v1/messages/check", content=dumps(data), headers=auth(tokens.operator)
    )
    assert invalid.status_code == 422
    assert "$.subject" in json.dumps(invalid.json())
    anonymous = await client.post("/v1/messages/check", content=dumps(data))
    assert anonymous.status_code == 401
    assert row_counts(context.store) == before


async def _check(client: httpx.AsyncClient, tokens: Tokens, data: dict[str, Any]) -> Any:
    response = await client.post(
        "/v1/messages/check",
        content=dumps(data),
        headers=auth(tokens.sender(data["sender"]["country"])),
    )
    assert response.status_code == 200, response.text
    return response.json()["channels"]


async def test_frontex_operational_data_of_a_victim_alone_is_refused_citing_art_90(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """No suspect for the victim to supplement: a legal refusal, not a 422 of the render."""
    data = variant(XK_EUROPOL)
    data["persons"][0]["role"] = "victim"
    frontex = (await _check(client, tokens, data))["frontex"]
    assert frontex["outcome"] == "deny"
    finding = next(f for f in frontex["findings"] if f["rule"] == "frontex.art90_suspect_required")
    assert "Art. 90" in finding["cite"]
    (delivery,) = by_channel(await submit(client, tokens, data), "frontex")
    assert delivery["state"] == "blocked"
    assert "frontex.art90_suspect_required" in rules_of(delivery)
    assert "payload_sha256" not in delivery


async def test_yellow_notice_for_a_victim_who_is_not_missing_is_refused_citing_art_90(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    data = variant(AL_YELLOW)
    data["persons"][0]["role"] = "victim"
    interpol = (await _check(client, tokens, data))["interpol"]
    assert interpol["outcome"] == "deny"
    assert [f["cite"] for f in interpol["findings"] if f["outcome"] == "deny"] == [
        "Interpol Rules on the Processing of Data Art. 90"
    ]
    (delivery,) = await submit(client, tokens, data)
    assert delivery["state"] == "blocked"
    assert "interpol.rpd90_yellow_notice_subject" in rules_of(delivery)


async def test_red_notice_after_a_judgment_is_held_on_its_sentence_not_denied(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """A judgment for an offence with a short maximum penalty is judged on the sentence,
    which a legal officer reads: held with its payload rendered, neither denied nor a 422."""
    data = variant(
        AL_YELLOW, destinations=[{"channel": "interpol", "product": "red_notice_request"}]
    )
    data["persons"][0]["role"] = "suspect"
    data["case"]["warrant"] = {"offence": "trafficking", "max_penalty_years": 1, "judgment": True}
    (delivery,) = await submit(client, tokens, data)
    assert delivery["state"] == "held"
    assert rules_of(delivery) == ["interpol.rpd83_sentence"]
    assert delivery["payload_sha256"]
