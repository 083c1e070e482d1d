"""Frontex adapter: event reports carry counts only; operational personal data follows Art 90."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.base import SendContext
from adapters.errors import RenderError
from adapters.frontex import FrontexAdapter
from adapters.frontex.common import NAMESPACE, confidence_level
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage
from simulators import SimulatorServer, build_simulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NS = {"f": NAMESPACE}

BASE: dict[str, Any] = {
    "schema": "marri.exchange/1",
    "message_id": "0b7c4a52-3f1e-4d2a-9c8b-7e6f5a4b3c2d",
    "sent_at": "2026-11-18T06:00:00+01:00",
    "sender": {"country": "MK", "agency": "Border Police"},
    "kind": "information",
    "priority": "urgent",
    "subject": "Interception of a van carrying migrants",
    "crime_areas": ["migrant_smuggling", "illegal_border_crossing"],
    "purposes": ["risk_analysis"],
    "legal_basis": [{"instrument": "frontex_regulation", "article": "89"}],
    "handling": {"classification": "restricted", "retention_until": "2031-12-31"},
    "evaluation": {"source": "A", "information": "2"},
    "destinations": [{"channel": "frontex"}],
    "locations": [
        {"ref": "l1", "kind": "border_crossing_point", "country": "MK", "place": "Bogorodica"}
    ],
    "events": [
        {
            "ref": "e1",
            "kind": "interception",
            "at": "2026-11-18T02:10:00+01:00",
            "location": "l1",
            "persons_count": 14,
        }
    ],
    "vehicles": [
        {"ref": "v1", "type": "van", "registration": "SK-1234-AB", "registration_country": "MK"}
    ],
}
PERSONS: list[dict[str, Any]] = [
    {
        "ref": "p1",
        "role": "suspect",
        "names": [{"given": "Горан", "family": "Стојановски", "script": "Cyrl"}],
        "nationalities": ["MK"],
        "sex": "male",
    },
    {"ref": "p2", "role": "victim", "names": [{"given": "Amina"}], "nationalities": ["SY"]},
    {"ref": "p3", "role": "missing", "names": [{"given": "Omar"}], "nationalities": ["SY"]},
    {"ref": "p4", "role": "witness", "names": [{"family": "Hassan"}]},
]


def message(**changes: Any) -> CanonicalMessage:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return CanonicalMessage.model_validate(data)


def render(msg: CanonicalMessage, product: str = "event_report") -> tuple[bytes, etree._Element]:
    payload = FrontexAdapter().render(msg, Decision(channel="frontex", product=product))
    return payload.body, etree.fromstring(payload.body)


def texts(root: etree._Element, xpath: str) -> list[str]:
    found = root.xpath(xpath, namespaces=NS)
    assert isinstance(found, list)
    return [str(value) for value in found]


def test_event_report_without_persons_renders_counts_only() -> None:
    body, root = render(message())
    counts = root.find("f:PersonsCounts", NS)
    assert counts is not None
    assert (counts.get("total"), counts.get("basis")) == ("14", "events")
    assert texts(root, "f:PersonsCounts/f:UnknownNationality/text()") == ["14"]
    assert root.find(".//f:Person", NS) is None
    assert b"SK-1234-AB" not in body  # a van's plate is not a ship or aircraft identifier
    assert texts(root, "f:ImpactLevel/text()") == ["high"]
    assert texts(root, "f:EventTypes/f:EventType/text()") == [
        "FACILITATION_OF_IRREGULAR_MIGRATION",
        "IRREGULAR_BORDER_CROSSING",
    ]
    assert texts(root, "f:Events/f:Event/f:Location/f:Place/text()") == ["Bogorodica"]


def test_event_report_turns_persons_into_nationality_counts_without_names() -> None:
    body, root = render(message(persons=PERSONS))
    counts = root.find("f:PersonsCounts", NS)
    assert counts is not None
    assert (counts.get("total"), counts.get("basis")) == ("4", "persons")
    by_country = {n.get("country"): n.get("count") for n in counts.findall("f:Nationality", NS)}
    assert by_country == {"MK": "1", "SY": "2"}
    assert texts(root, "f:PersonsCounts/f:UnknownNationality/text()") == ["1"]
    for name in ("Горан", "Goran", "Stojanovski", "Amina", "Omar", "Hassan"):
        assert name.encode() not in body


def test_sender_statistics_take_precedence_for_counts() -> None:
    stats = {"persons_intercepted": 14, "by_nationality": {"SY": 9, "AF": 5}}
    _, root = render(message(statistics=stats))
    counts = root.find("f:PersonsCounts", NS)
    assert counts is not None
    assert (counts.get("total"), counts.get("basis")) == ("14", "statistics")
    assert texts(root, "f:Statistics/f:PersonsIntercepted/text()") == ["14"]
    assert root.find("f:PersonsCounts/f:UnknownNationality", NS) is None


def test_intercepted_persons_beyond_the_breakdown_count_as_unknown_nationality() -> None:
    stats = {"persons_intercepted": 20, "by_nationality": {"SY": 9, "AF": 5}}
    _, root = render(message(statistics=stats))
    counts = root.find("f:PersonsCounts", NS)
    assert counts is not None
    assert counts.get("total") == "20"
    assert texts(root, "f:PersonsCounts/f:UnknownNationality/text()") == ["6"]


def test_place_names_reach_frontex_in_latin_script() -> None:
    locations = [{"ref": "l1", "kind": "city", "country": "MK", "place": "Гевгелија"}]
    _, root = render(message(locations=locations))
    assert texts(root, "f:Events/f:Event/f:Location/f:Place/text()") == ["Gevgelija"]


def test_only_vessels_and_aircraft_are_identified_in_event_reports() -> None:
    vehicles = [
        {"ref": "v1", "type": "van", "registration": "SK-1234-AB"},
        {"ref": "v2", "type": "boat", "registration": "BR-77", "registration_country": "ME"},
    ]
    _, root = render(message(vehicles=vehicles))
    craft = root.findall("f:Craft/f:Identification", NS)
    assert [(c.get("type"), c.get("country"), c.text) for c in craft] == [("VESSEL", "ME", "BR-77")]


@pytest.mark.parametrize(
    ("evaluation", "level"),
    [
        ({"source": "A", "information": "1"}, "high"),
        ({"source": "B", "information": "1"}, "high"),
        ({"source": "B", "information": "2"}, "medium"),
        ({"source": "C", "information": "2"}, "medium"),
        ({"source": "C", "information": "3"}, "low"),
        ({"source": "X", "information": "4"}, "low"),
        (None, "not_assessed"),
    ],
)
def test_confidence_level_from_the_evaluation(
    evaluation: dict[str, str] | None, level: str
) -> None:
    assert confidence_level(evaluation) == level


def test_operational_personal_data_sends_suspects_victims_witnesses_only() -> None:
    documents = [
        {"ref": "d1", "type": "passport", "number": "A1234567", "holder": "p1"},
        {"ref": "d2", "type": "passport", "number": "N0000001", "holder": "p3"},
    ]
    communications = [
        {"ref": "c1", "kind": "phone", "value": "+389 70 123 456", "owner": "p1"},
        {"ref": "c2", "kind": "phone", "value": "+963 11 000 000", "owner": "p3"},
    ]
    body, root = render(
        message(persons=PERSONS, documents=documents, communications=communications),
        "operational_personal_data",
    )
    persons = root.findall("f:Persons/f:Person", NS)
    assert [(p.get("ref"), p.get("role")) for p in persons] == [
        ("p1", "SUSPECT"),
        ("p2", "VICTIM"),
        ("p4", "WITNESS"),
    ]
    # The missing person's own identifiers stay behind with her.
    assert b"N0000001" not in body
    assert b"+963 11 000 000" not in body
    assert texts(root, "f:Documents/f:Document/f:Number/text()") == ["A1234567"]
    assert texts(root, "f:Vehicles/f:Vehicle/f:Registration/text()") == ["SK-1234-AB"]
    suspect = persons[0]
    assert texts(suspect, "f:Name/f:GivenName/text()") == ["Goran"]
    assert texts(suspect, "f:OriginalName/f:FamilyName/text()") == ["Стојановски"]


def test_operational_personal_data_needs_a_suspect() -> None:
    with pytest.raises(RenderError) as info:
        render(message(persons=PERSONS[1:]), "operational_personal_data")
    assert info.value.violations == [
        ("$.persons", "operational_personal_data needs a person with role suspect")
    ]


def test_validate_payload_picks_the_schema_by_root_and_names_paths() -> None:
    adapter = FrontexAdapter()
    body, root = render(message())
    assert adapter.validate_payload(body) == []
    impact = root.find("f:ImpactLevel", NS)
    assert impact is not None
    impact.text = "catastrophic"
    problems = adapter.validate_payload(etree.tostring(root))
    assert len(problems) == 1
    assert "ImpactLevel" in problems[0]
    assert "catastrophic" not in problems[0]
    assert adapter.validate_payload(b"<Other/>") == [
        "/: root element is not a frontex-event-1.0 document"
    ]


def examples_for(channel: str) -> list[Any]:
    found = []
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if any(d["channel"] == channel for d in data["destinations"]):
            found.append(pytest.param(data, id=path.stem))
    return found


@pytest.mark.parametrize("data", examples_for("frontex"))
async def test_examples_render_validate_and_arrive(data: dict[str, Any]) -> None:
    msg = CanonicalMessage.model_validate(data)
    (destination,) = [d for d in data["destinations"] if d["channel"] == "frontex"]
    adapter = FrontexAdapter()
    product = destination.get("product", adapter.default_product)
    payload = adapter.render(msg, Decision(channel="frontex", product=product))
    assert adapter.validate_payload(payload.body) == []
    simulator = build_simulator(adapter)
    key = str(uuid.uuid4())
    with SimulatorServer(simulator) as server:
        try:
            context = SendContext(url=server.url, idempotency_key=key, read_timeout_s=5)
            receipt = await adapter.send(payload, context)
        finally:
            await adapter.aclose()
    assert receipt.http_status == 201
    assert receipt.reference
    (entry,) = simulator.inbox()
    assert entry.body.encode() == payload.body
    assert entry.idempotency_key == key
