"""EuropolAdapter: what the siena-1.0 profile carries, and its delivery through zeep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters import RenderError, SendContext, load_registry
from adapters._soap import SOAP_ENV
from adapters._xml import parse_xml
from adapters.europol.adapter import EuropolAdapter
from adapters.europol.render import SE, UE
from gateway.policy.decision import Decision
from gateway.schema.message import CanonicalMessage
from simulators import start_simulators

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "contract_tests/cases/europol/rs-cyrillic-case/input.json"
NS = {"se": SE, "ue": UE, "soap": SOAP_ENV}
ALLOW = Decision(channel="europol", product="information_exchange")


@pytest.fixture(scope="module")
def adapter() -> EuropolAdapter:
    found = load_registry(only=["europol"]).get("europol")
    assert isinstance(found, EuropolAdapter)
    return found


def raw_case() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(CASE.read_text(encoding="utf-8"))
    return raw


def message(raw: dict[str, Any]) -> CanonicalMessage:
    from datetime import date

    return CanonicalMessage.model_validate(raw, context={"today": date(2026, 1, 1)})


def rendered(adapter: EuropolAdapter, raw: dict[str, Any]) -> etree._Element:
    payload = adapter.render(message(raw), ALLOW)
    return parse_xml(payload.body)


@pytest.mark.parametrize(
    ("restriction", "code"),
    [("none", "H0"), ("no_judicial_use", "H1"), ("no_dissemination", "H2"), ("other", "H3")],
)
def test_restriction_becomes_handling_code(
    adapter: EuropolAdapter, restriction: str, code: str
) -> None:
    raw = raw_case()
    raw["handling"]["restriction"] = restriction
    raw["handling"].pop("restriction_text", None)
    if restriction == "other":
        raw["handling"]["restriction_text"] = "Not to be used for visa decisions"
    root = rendered(adapter, raw)
    assert root.findtext(".//se:Handling/se:HandlingCode", namespaces=NS) == code
    text = root.findtext(".//se:Handling/se:HandlingText", namespaces=NS)
    assert (text is not None) == (restriction == "other")


def test_evaluation_priority_case_and_ids(adapter: EuropolAdapter) -> None:
    raw = raw_case()
    raw["evaluation"] = {"source": "B", "information": "2"}
    raw["priority"] = "immediate"
    root = rendered(adapter, raw)
    assert root.findtext(".//se:Evaluation/se:Source", namespaces=NS) == "B"
    assert root.findtext(".//se:Evaluation/se:Information", namespaces=NS) == "2"
    assert root.findtext(".//se:Priority", namespaces=NS) == "URGENT"
    assert root.findtext(".//se:OriginatorMessageId", namespaces=NS) == raw["message_id"]
    envelope_id = root.findtext(".//se:MessageId", namespaces=NS)
    assert envelope_id not in (None, raw["message_id"])
    raw["message_id"] = "11111111-2222-4333-8444-555555555555"
    assert rendered(adapter, raw).findtext(".//se:MessageId", namespaces=NS) != envelope_id


def test_cyrillic_and_greek_names_get_a_latin_transcription(adapter: EuropolAdapter) -> None:
    raw = raw_case()
    raw["persons"] = [
        {
            "ref": "p1",
            "role": "suspect",
            "names": [
                {"given": "Љубомир", "family": "Ђукановић", "script": "Cyrl"},
                {"given": "Γιώργος", "family": "Παπαδόπουλος", "script": "Grek"},
                {"given": "Ana", "family": "Marić"},
            ],
        }
    ]
    for key in ("documents", "communications", "events", "links", "vehicles", "organisations"):
        raw.pop(key, None)
    names = rendered(adapter, raw).findall(".//ue:Person/ue:Name", namespaces=NS)
    latin = [
        (
            n.get("script"),
            n.findtext("ue:LatinGivenName", namespaces=NS),
            n.findtext("ue:LatinFamilyName", namespaces=NS),
        )
        for n in names
    ]
    assert latin[0] == ("Cyrl", "Ljubomir", "Dukanovic")
    assert latin[1][0] == "Grek"
    assert latin[1][1] is not None
    assert latin[1][1].isascii()
    assert latin[2] == ("Latn", None, None)


def test_unknown_product_refused(adapter: EuropolAdapter) -> None:
    with pytest.raises(RenderError) as info:
        adapter.render(message(raw_case()), Decision(channel="europol", product="red_notice"))
    assert info.value.violations


def test_payload_carries_soap_action_and_validates(adapter: EuropolAdapter) -> None:
    payload = adapter.render(message(raw_case()), ALLOW)
    assert payload.headers["SOAPAction"] == '"urn:marri:gateway:siena:SubmitMessage"'
    assert adapter.validate_payload(payload.body) == []
    tampered = payload.body.replace(b"<se:HandlingCode>H", b"<se:HandlingCode>X")
    problems = adapter.validate_payload(tampered)
    assert problems
    assert any("HandlingCode" in p for p in problems)


@pytest.fixture(scope="module")
def simulator_url(adapter: EuropolAdapter) -> Iterator[tuple[str, Any]]:
    registry = load_registry(only=["europol"])
    with start_simulators(["europol"], registry=registry) as running:
        yield running["europol"], running.simulator("europol")


async def test_delivered_through_zeep_with_soap_action(
    adapter: EuropolAdapter, simulator_url: tuple[str, Any]
) -> None:
    url, simulator = simulator_url
    simulator.clear()
    payload = adapter.render(message(raw_case()), ALLOW)
    try:
        receipt = await adapter.send(payload, SendContext(url=url, idempotency_key="eu-1"))
    finally:
        await adapter.aclose()
    assert receipt.reference is not None
    assert receipt.reference.startswith("EUROPOL-")
    (entry,) = simulator.inbox()
    assert entry.headers["soapaction"] == '"urn:marri:gateway:siena:SubmitMessage"'
    assert entry.content_type == "text/xml; charset=utf-8"
