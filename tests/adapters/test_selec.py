"""SelecAdapter: addressing through the National Focal Point, what selec-1.0 leaves out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters import RenderError, SendContext, load_registry
from adapters._xml import parse_xml
from adapters.selec.adapter import SelecAdapter
from adapters.selec.render import SL
from gateway.policy.decision import Decision
from gateway.schema.message import CanonicalMessage
from simulators import start_simulators

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "contract_tests/cases/selec/minimal-request/input.json"
NS = {"sl": SL}


@pytest.fixture(scope="module")
def adapter() -> SelecAdapter:
    found = load_registry(only=["selec"]).get("selec")
    assert isinstance(found, SelecAdapter)
    return found


def raw_case() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(CASE.read_text(encoding="utf-8"))
    return raw


def message(raw: dict[str, Any]) -> CanonicalMessage:
    return CanonicalMessage.model_validate(raw, context={"today": date(2026, 1, 1)})


def decision(*recipients: str) -> Decision:
    return Decision(channel="selec", product="information_exchange", recipients=recipients)


def rendered(adapter: SelecAdapter, raw: dict[str, Any], *recipients: str) -> etree._Element:
    envelope = parse_xml(adapter.render(message(raw), decision(*recipients)).body)
    request = envelope.find(f".//{{{SL}}}SelecRequest")
    assert request is not None
    return request


def test_addressed_to_the_decisions_member_states_via_the_focal_point(
    adapter: SelecAdapter,
) -> None:
    root = rendered(adapter, raw_case(), "ME", "RS")
    assert root.xpath("//sl:Addressees/sl:MemberState/text()", namespaces=NS) == ["ME", "RS"]
    assert root.find(".//sl:NationalFocalPoint", namespaces=NS).get("country") == "AL"
    only_me = rendered(adapter, raw_case(), "ME")
    assert only_me.xpath("//sl:Addressees/sl:MemberState/text()", namespaces=NS) == ["ME"]
    assert only_me.findtext("sl:RequestId", namespaces=NS) != root.findtext(
        "sl:RequestId", namespaces=NS
    )


def test_evaluation_handling_and_onward_transfer_travel(adapter: SelecAdapter) -> None:
    raw = raw_case()
    raw["handling"]["onward_transfer"] = "prohibited"
    raw["handling"]["retention_until"] = "2027-03-01"
    root = rendered(adapter, raw, "ME")
    evaluation = root.find("sl:Evaluation", namespaces=NS)
    assert (evaluation.get("source"), evaluation.get("information")) == ("B", "3")
    assert root.findtext("sl:Handling/sl:Restriction", namespaces=NS) == "NO_DISSEMINATION"
    assert root.findtext("sl:Handling/sl:OnwardTransfer", namespaces=NS) == "PROHIBITED"
    assert root.findtext("sl:Handling/sl:DeleteBy", namespaces=NS) == "2027-03-01"


def test_kosovo_is_not_sent(adapter: SelecAdapter) -> None:
    raw = raw_case()
    raw["persons"] = [
        {
            "ref": "p1",
            "role": "suspect",
            "sex": "other",
            "names": [{"given": "Arben", "family": "Gashi"}],
            "nationalities": ["XK", "AL"],
        }
    ]
    root = rendered(adapter, raw, "ME")
    assert root.xpath("//sl:Subject/sl:Citizenship/text()", namespaces=NS) == ["AL"]
    assert root.find(".//sl:Subject/sl:Gender", namespaces=NS) is None
    with pytest.raises(RenderError) as info:
        adapter.render(message(raw), decision("XK"))
    assert ("$.destinations.to[0]", "not a SELEC addressee") in info.value.violations
    raw["sender"]["country"] = "XK"
    with pytest.raises(RenderError) as sender_info:
        adapter.render(message(raw), decision("ME"))
    assert sender_info.value.violations[0][0] == "$.sender.country"
    assert "Gashi" not in str(sender_info.value.violations)


def test_no_recipients_refused(adapter: SelecAdapter) -> None:
    with pytest.raises(RenderError, match=r"selec-1\.0"):
        adapter.render(message(raw_case()), decision())


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[str, Any]]:
    with start_simulators(["selec"], registry=load_registry(only=["selec"])) as running:
        yield running["selec"], running.simulator("selec")


async def test_delivered_through_zeep_and_deduplicated(
    adapter: SelecAdapter, simulator: tuple[str, Any]
) -> None:
    url, sim = simulator
    sim.clear()
    payload = adapter.render(message(raw_case()), decision("ME", "RS"))
    context = SendContext(url=url, idempotency_key="selec-1", traceparent=None)
    try:
        first = await adapter.send(payload, context)
        second = await adapter.send(payload, context)
    finally:
        await adapter.aclose()
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.reference == second.reference
    assert sim.stats["accepted"] == 1
