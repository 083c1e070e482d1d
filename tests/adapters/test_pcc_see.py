"""PCC SEE adapter: one payload per receiving party, naming the article and the deadline."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.base import SendContext
from adapters.errors import (
    DeliveryError,
    OutcomeUnknown,
    PermanentError,
    RenderError,
    TransientError,
)
from adapters.pcc_see import PccSeeAdapter
from adapters.pcc_see.common import NAMESPACE
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage
from simulators import Fault, SimulatorServer, build_simulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NS = {"p": NAMESPACE}
DECISION = Decision(channel="pcc_see", product="message")

BASE: dict[str, Any] = {
    "schema": "marri.exchange/1",
    "message_id": "3e0f6a1b-9c2d-4e5f-8a7b-6c5d4e3f2a1b",
    "sent_at": "2026-11-19T10:00:00+01:00",
    "sender": {"country": "RS", "agency": "Ministry of Interior", "unit": "NCU Belgrade"},
    "kind": "information",
    "subject": "Smuggling route through the Preševo valley",
    "crime_areas": ["migrant_smuggling"],
    "purposes": ["prevention"],
    "legal_basis": [
        {"instrument": "pcc_see", "article": "6"},
        {"instrument": "national_law", "article": "12"},
    ],
    "handling": {"classification": "restricted", "retention_until": "2030-06-30"},
    "destinations": [{"channel": "pcc_see", "to": ["MK", "AL", "ME"]}],
    "persons": [
        {
            "ref": "p1",
            "role": "facilitator",
            "names": [{"given": "Небојша", "family": "Ђукић", "script": "Cyrl"}],
            "nationalities": ["RS"],
        }
    ],
}


def message(**changes: Any) -> CanonicalMessage:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return CanonicalMessage.model_validate(data)


def texts(root: etree._Element, xpath: str) -> list[str]:
    found = root.xpath(xpath, namespaces=NS)
    assert isinstance(found, list)
    return [str(value) for value in found]


def test_one_payload_per_recipient_naming_article_deadline_and_units() -> None:
    adapter = PccSeeAdapter()
    msg = message()
    payloads = {r: adapter.render(msg, DECISION, recipient=r) for r in ("MK", "AL", "ME")}
    for recipient, payload in payloads.items():
        assert payload.recipient == recipient
        root = etree.fromstring(payload.body)
        assert texts(root, "p:Recipient/p:Country/text()") == [recipient]
        assert texts(root, "p:Recipient/p:CentralUnit/text()") == [f"PCCSEE-NCU-{recipient}"]
        assert texts(root, "p:Sender/p:CentralUnit/text()") == ["PCCSEE-NCU-RS"]
        assert texts(root, "p:LegalBasis/p:Article/text()") == ["6"]
        assert texts(root, "p:LegalBasis/p:OtherBasis/@instrument") == ["national_law"]
        assert texts(root, "p:Handling/p:DeletionDeadline/text()") == ["2030-06-30"]
        assert adapter.validate_payload(payload.body) == []
    assert len({p.body for p in payloads.values()}) == 3


def test_names_in_latin_with_the_cyrillic_original() -> None:
    payload = PccSeeAdapter().render(message(), DECISION, recipient="MK")
    root = etree.fromstring(payload.body)
    names = root.findall("p:Persons/p:Person/p:Name", NS)
    assert [(n.get("script"), n.get("latinOf")) for n in names] == [
        ("Latn", "Cyrl"),
        ("Cyrl", None),
    ]
    assert texts(root, "p:Persons/p:Person/p:Name/p:FamilyName/text()") == ["Đukić", "Ђукић"]
    assert texts(root, "p:Persons/p:Person/@role") == ["FACILITATOR"]


@pytest.mark.parametrize("recipient", [None, "HU"])
def test_recipient_must_be_one_of_the_destinations_parties(recipient: str | None) -> None:
    with pytest.raises(RenderError) as info:
        PccSeeAdapter().render(message(), DECISION, recipient=recipient)
    assert info.value.violations[0][0] == "$.destinations"


def test_without_a_pcc_see_article_nothing_renders() -> None:
    basis = [{"instrument": "national_law", "article": "12"}]
    with pytest.raises(RenderError) as info:
        PccSeeAdapter().render(message(legal_basis=basis), DECISION, recipient="MK")
    assert [path for path, _ in info.value.violations] == ["$.legal_basis"]


def test_personal_data_needs_a_deletion_deadline() -> None:
    handling = {"classification": "restricted"}
    with pytest.raises(RenderError) as info:
        PccSeeAdapter().render(message(handling=handling), DECISION, recipient="MK")
    assert [path for path, _ in info.value.violations] == ["$.handling.retention_until"]
    assert "Ђукић" not in repr(info.value.violations)
    # Art 3 general information without personal data may go without one.
    general = message(
        handling=handling, persons=[], legal_basis=[{"instrument": "pcc_see", "article": "3"}]
    )
    root = etree.fromstring(PccSeeAdapter().render(general, DECISION, recipient="MK").body)
    assert root.find("p:Handling/p:DeletionDeadline", NS) is None
    assert texts(root, "p:LegalBasis/p:Article/text()") == ["3"]


def test_render_is_deterministic() -> None:
    adapter = PccSeeAdapter()
    assert (
        adapter.render(message(), DECISION, recipient="AL").body
        == adapter.render(message(), DECISION, recipient="AL").body
    )


def examples_for(channel: str) -> list[Any]:
    found = []
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if any(d["channel"] == channel for d in data["destinations"]):
            found.append(pytest.param(data, id=path.stem))
    return found


@pytest.mark.parametrize("data", examples_for("pcc_see"))
async def test_examples_render_per_recipient_and_arrive(data: dict[str, Any]) -> None:
    msg = CanonicalMessage.model_validate(data)
    (destination,) = [d for d in data["destinations"] if d["channel"] == "pcc_see"]
    articles = [b["article"] for b in data["legal_basis"] if b["instrument"] == "pcc_see"]
    adapter = PccSeeAdapter()
    simulator = build_simulator(adapter)
    with SimulatorServer(simulator) as server:
        try:
            for recipient in destination["to"]:
                payload = adapter.render(msg, DECISION, recipient=recipient)
                context = SendContext(
                    url=server.url, idempotency_key=str(uuid.uuid4()), read_timeout_s=5
                )
                receipt = await adapter.send(payload, context)
                assert receipt.http_status == 201
        finally:
            await adapter.aclose()
    inbox = simulator.inbox()
    assert len(inbox) == len(destination["to"])
    for entry, recipient in zip(inbox, destination["to"], strict=True):
        root = etree.fromstring(entry.body.encode())
        assert texts(root, "p:Recipient/p:Country/text()") == [recipient]
        assert texts(root, "p:LegalBasis/p:Article/text()") == articles
        deadline = data["handling"].get("retention_until")
        assert texts(root, "p:Handling/p:DeletionDeadline/text()") == (
            [deadline] if deadline else []
        )


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(kind="status", status=503, retry_after="7"), TransientError),
        (Fault(kind="status", status=422), PermanentError),
        (Fault(kind="malformed"), OutcomeUnknown),
        (Fault(kind="drop"), OutcomeUnknown),
    ],
    ids=["503", "422", "malformed", "drop"],
)
async def test_destination_faults_become_delivery_errors(
    fault: Fault, error: type[DeliveryError]
) -> None:
    adapter = PccSeeAdapter()
    payload = adapter.render(message(), DECISION, recipient="MK")
    simulator = build_simulator(adapter)
    simulator.inject(fault)
    key = str(uuid.uuid4())
    with SimulatorServer(simulator) as server:
        try:
            context = SendContext(url=server.url, idempotency_key=key, read_timeout_s=5)
            with pytest.raises(error) as info:
                await adapter.send(payload, context)
            # The same bytes under the same key are taken (or recognised) on the next attempt.
            receipt = await adapter.send(payload, context)
        finally:
            await adapter.aclose()
    if fault.retry_after is not None:
        assert info.value.retry_after_s == 7.0
    assert receipt.reference
    assert receipt.duplicate == (fault.kind in ("malformed", "drop"))
    assert len(simulator.inbox()) == 1
