"""Interpol adapter: notice JSON from canonical messages, checked and delivered over real HTTP."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from adapters.base import SendContext
from adapters.errors import PermanentError, RenderError
from adapters.interpol import InterpolAdapter
from adapters.interpol.render import interpol_date
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage
from simulators import SimulatorServer, build_simulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

BASE: dict[str, Any] = {
    "schema": "marri.exchange/1",
    "message_id": "6f1c2d7e-8a9b-4c3d-9e2f-1a2b3c4d5e6f",
    "sent_at": "2026-11-20T09:30:00+01:00",
    "sender": {"country": "RS", "agency": "Border Police Directorate"},
    "kind": "request",
    "subject": "Recruitment through false job adverts",
    "crime_areas": ["trafficking_in_human_beings"],
    "purposes": ["investigation"],
    "legal_basis": [{"instrument": "interpol_rpd", "article": "83"}],
    "handling": {"classification": "restricted", "retention_until": "2031-12-31"},
    "case": {
        "reference": "KU-123/2026",
        "warrant": {
            "issued_by": "Higher Court Belgrade",
            "issued_on": "2026-10-01",
            "offence": "Trafficking in human beings",
            "max_penalty_years": 12,
        },
    },
    "destinations": [{"channel": "interpol", "product": "red_notice_request"}],
    "persons": [
        {
            "ref": "p1",
            "role": "suspect",
            "names": [{"given": "Ђорђе", "family": "Шћекић", "script": "Cyrl"}],
            "sex": "male",
            "birth_date": "1985-03-07",
            "nationalities": ["RS"],
        }
    ],
}


def message(**changes: Any) -> CanonicalMessage:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return CanonicalMessage.model_validate(data)


def render(msg: CanonicalMessage, product: str = "red_notice_request") -> dict[str, Any]:
    payload = InterpolAdapter().render(msg, Decision(channel="interpol", product=product))
    assert payload.product == product
    document: dict[str, Any] = json.loads(payload.body)
    return document


def examples_for(channel: str) -> list[Any]:
    """Every example message that names ``channel``, as pytest params with the file's name."""
    found = []
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if any(d["channel"] == channel for d in data["destinations"]):
            found.append(pytest.param(data, id=path.stem))
    return found


@pytest.mark.parametrize(
    ("canonical", "expected"),
    [("1985-03-07", "1985/03/07"), ("1985-03", "1985/03"), ("1985", "1985"), (None, None)],
)
def test_interpol_date_keeps_what_is_known(canonical: str | None, expected: str | None) -> None:
    assert interpol_date(canonical) == expected


@pytest.mark.parametrize("birth_date", ["1985-03-07", "1985-03", "1985"])
def test_rendered_birth_dates_use_slashes_and_stay_partial(birth_date: str) -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["birth_date"] = birth_date
    person = render(message(persons=persons))["persons"][0]
    assert person["date_of_birth"] == birth_date.replace("-", "/")


@pytest.mark.parametrize(
    ("sex", "sex_id"), [("female", "F"), ("male", "M"), ("unknown", "U"), ("other", "U")]
)
def test_sex_maps_to_interpol_sex_id(sex: str, sex_id: str) -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["sex"] = sex
    assert render(message(persons=persons))["persons"][0]["sex_id"] == sex_id


def test_cyrillic_names_go_out_in_latin_with_the_original_kept() -> None:
    person = render(message())["persons"][0]
    assert (person["forename"], person["name"]) == ("Đorđe", "Šćekić")
    assert (person["forename_original"], person["name_original"]) == ("Ђорђе", "Шћекић")
    assert person["original_script"] == "Cyrl"


def test_a_cyrillic_place_of_birth_goes_out_in_latin_with_the_original() -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["birth_place"] = {"country": "RS", "place": "Ниш"}
    person = render(message(persons=persons))["persons"][0]
    assert (person["place_of_birth"], person["place_of_birth_original"]) == ("Niš", "Ниш")
    persons[0]["birth_place"] = {"country": "RS", "place": "Novi Sad"}
    person = render(message(persons=persons))["persons"][0]
    assert person["place_of_birth"] == "Novi Sad"
    assert "place_of_birth_original" not in person


def test_macedonian_names_follow_the_persons_country() -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["names"] = [{"given": "Жаклина", "family": "Чупоска", "script": "Cyrl"}]
    persons[0]["nationalities"] = ["MK"]
    person = render(message(persons=persons))["persons"][0]
    assert (person["forename"], person["name"]) == ("Zhaklina", "Chuposka")


def test_a_senders_latin_transcription_wins_and_aliases_are_kept() -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["names"] = [
        {"given": "Ђорђе", "family": "Шћекић", "script": "Cyrl"},
        {"given": "Djordje", "family": "Scekic", "kind": "latin_transcription"},
        {"given": "Đole", "family": "Šćekić", "kind": "alias"},
    ]
    person = render(message(persons=persons))["persons"][0]
    assert (person["forename"], person["name"]) == ("Djordje", "Scekic")
    assert person["name_original"] == "Шћекић"
    assert person["aliases"] == [{"kind": "ALIAS", "forename": "Đole", "name": "Šćekić"}]


def test_a_name_without_latin_form_is_refused_by_path() -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["names"] = [{"given": "\u0645\u062d\u0645\u062f", "script": "Arab"}]
    with pytest.raises(RenderError) as info:
        render(message(persons=persons), "diffusion")
    assert info.value.violations == [
        ("$.persons[0].names", "no Latin form: add a latin_transcription name")
    ]
    persons[0]["names"].append({"given": "Mohammed", "kind": "latin_transcription"})
    person = render(message(persons=persons), "diffusion")["persons"][0]
    assert person["forename"] == "Mohammed"
    assert person["original_script"] == "Arab"


def test_red_notice_carries_the_warrant_on_the_suspect() -> None:
    document = render(message())
    (warrant,) = document["persons"][0]["arrest_warrants"]
    assert warrant["issuing_country_id"] == "RS"
    assert warrant["charge"] == "Trafficking in human beings"
    assert warrant["issued_on"] == "2026/10/01"
    assert document["profile"] == "interpol-notice-1.0"


def test_red_notice_without_warrant_is_refused_without_personal_data() -> None:
    with pytest.raises(RenderError) as info:
        render(message(case={"reference": "KU-123/2026"}))
    assert ("$.case.warrant", "red_notice_request needs the arrest warrant or judgment") in (
        info.value.violations
    )
    text = str(info.value) + repr(info.value.violations)
    assert "Ђорђе" not in text
    assert "Đorđe" not in text


def test_red_notice_without_penalty_names_the_field() -> None:
    case = copy.deepcopy(BASE["case"])
    del case["warrant"]["max_penalty_years"]
    with pytest.raises(RenderError) as info:
        render(message(case=case))
    assert [path for path, _ in info.value.violations] == ["$.case.warrant.max_penalty_years"]


def test_yellow_notice_needs_a_missing_person_and_purple_a_description() -> None:
    with pytest.raises(RenderError):
        render(message(), "yellow_notice_request")
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["role"] = "missing"
    assert render(message(persons=persons), "yellow_notice_request")["persons"][0]["status_id"] == (
        "MISSING_PERSON"
    )
    with pytest.raises(RenderError) as info:
        render(message(), "purple_notice_request")
    assert info.value.violations[0][0] == "$.summary"


def test_render_is_deterministic() -> None:
    adapter = InterpolAdapter()
    decision = Decision(channel="interpol", product="diffusion")
    assert adapter.render(message(), decision).body == adapter.render(message(), decision).body


def test_schema_rejects_a_tampered_document_naming_paths_not_values() -> None:
    adapter = InterpolAdapter()
    payload = adapter.render(message(), Decision(channel="interpol", product="red_notice_request"))
    document = json.loads(payload.body)
    document["persons"][0]["sex_id"] = "Z"
    document["persons"][0]["arrest_warrants"] = []
    document["persons"][0]["nickname"] = "Đole"
    problems = adapter.validate_payload(json.dumps(document).encode())
    assert "$.persons[0].sex_id: fails 'enum'" in problems
    assert any(p.startswith("$.persons[0]: properties not allowed: nickname") for p in problems)
    assert any("contains" in p for p in problems)  # red notice lost its warrant
    assert not any("Đole" in p for p in problems)
    assert adapter.validate_payload(b"{not json") == ["$: not JSON (JSONDecodeError)"]


@pytest.mark.parametrize("data", examples_for("interpol"))
async def test_examples_render_validate_and_arrive(data: dict[str, Any]) -> None:
    msg = CanonicalMessage.model_validate(data)
    (destination,) = [d for d in data["destinations"] if d["channel"] == "interpol"]
    adapter = InterpolAdapter()
    product = destination.get("product", adapter.default_product)
    payload = adapter.render(msg, Decision(channel="interpol", product=product))
    assert adapter.validate_payload(payload.body) == []
    simulator = build_simulator(adapter)
    key = str(uuid.uuid4())
    with SimulatorServer(simulator) as server:
        try:
            context = SendContext(url=server.url, idempotency_key=key, read_timeout_s=5)
            first = await adapter.send(payload, context)
            again = await adapter.send(payload, context)
        finally:
            await adapter.aclose()
    assert first.http_status == 201
    assert not first.duplicate
    assert again.duplicate
    assert again.reference == first.reference
    (entry,) = simulator.inbox()
    assert entry.idempotency_key == key
    assert json.loads(entry.body)["product"] == product


async def test_simulator_refuses_a_payload_outside_the_profile() -> None:
    adapter = InterpolAdapter()
    payload = adapter.render(message(), Decision(channel="interpol", product="diffusion"))
    broken = type(payload)(
        body=b'{"profile": "x"}', content_type=payload.content_type, product=payload.product
    )
    simulator = build_simulator(adapter)
    with SimulatorServer(simulator) as server:
        try:
            context = SendContext(url=server.url, idempotency_key=str(uuid.uuid4()))
            with pytest.raises(PermanentError) as info:
                await adapter.send(broken, context)
        finally:
            await adapter.aclose()
    assert info.value.http_status == 400
    assert simulator.inbox() == []
