"""Derived facts, with the minor boundary read protectively."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from gateway.schema import derive_facts, parse_message, person_is_minor
from gateway.schema.codes import PersonRole
from gateway.schema.message import Person

from .conftest import TODAY, encode


def _person(**fields: Any) -> Person:
    return Person.model_validate(
        {"ref": "p", "role": "victim", "names": [{"given": "A"}], **fields}
    )


@pytest.mark.parametrize(
    ("birth_date", "on", "minor"),
    [
        ("2008-03-04", date(2026, 3, 3), True),  # the day before the 18th birthday
        ("2008-03-04", date(2026, 3, 4), False),  # the 18th birthday itself: adult
        ("2008-03", date(2026, 3, 30), True),  # could be born on 31 March
        ("2008-03", date(2026, 3, 31), False),  # 18 whichever day of March 2008
        ("2008", date(2026, 12, 30), True),  # could be born on 31 December 2008
        ("2008", date(2026, 12, 31), False),
        ("2007", date(2026, 1, 1), False),
        ("2008-02-29", date(2026, 2, 28), True),  # leap-day birthday: of age on 1 March
        ("2008-02-29", date(2026, 3, 1), False),
        ("1990", date(2026, 1, 1), False),
    ],
)
def test_minor_from_birth_date(birth_date: str, on: date, minor: bool) -> None:
    assert person_is_minor(_person(birth_date=birth_date), on) is minor


def test_explicit_is_minor_wins() -> None:
    assert person_is_minor(_person(birth_date="1990", is_minor=True), date(2026, 1, 1)) is True
    assert person_is_minor(_person(birth_date="2015", is_minor=False), date(2026, 1, 1)) is False


def test_unknown_age_is_not_counted() -> None:
    assert person_is_minor(_person(), date(2026, 1, 1)) is False


def test_has_minors_reads_age_on_the_day_sent(doc: dict[str, Any]) -> None:
    doc["sent_at"] = "2026-03-03T23:30:00+01:00"
    doc["persons"][1]["birth_date"] = "2008-03-04"
    assert derive_facts(parse_message(encode(doc), today=TODAY)).has_minors is True
    doc["sent_at"] = "2026-03-04T00:30:00+01:00"
    assert derive_facts(parse_message(encode(doc), today=TODAY)).has_minors is False


def test_persons_by_role_has_every_role(doc: dict[str, Any]) -> None:
    doc["persons"].append({"ref": "p3", "role": "victim", "names": [{"given": "B"}]})
    facts = derive_facts(parse_message(encode(doc), today=TODAY))
    assert set(facts.persons_by_role) == {role.value for role in PersonRole}
    assert facts.persons_by_role["victim"] == 2
    assert facts.persons_by_role["suspect"] == 1
    assert facts.persons_by_role["witness"] == 0
    assert facts.roles == ["suspect", "victim"]
    assert facts.person_count == 3


def _strip_personal(doc: dict[str, Any]) -> dict[str, Any]:
    for name in ("persons", "documents", "vehicles", "communications", "links"):
        doc[name] = []
    doc["events"][0]["involved"] = ["l1"]
    return doc


def test_no_personal_data_in_a_statistics_report(doc: dict[str, Any]) -> None:
    doc = _strip_personal(doc)
    doc["statistics"] = {"persons_intercepted": 12, "by_nationality": {"SY": 7, "AF": 5}}
    facts = derive_facts(parse_message(encode(doc), today=TODAY))
    assert facts.has_personal_data is False
    assert facts.has_minors is False
    assert facts.countries == ["AF", "AL", "MK", "SY"]


@pytest.mark.parametrize(
    ("field", "item", "personal"),
    [
        ("documents", {"ref": "d", "type": "passport"}, False),
        ("documents", {"ref": "d", "type": "passport", "number": "N1"}, True),
        ("communications", {"ref": "c", "kind": "phone", "value": "+1"}, True),
        ("vehicles", {"ref": "v", "type": "truck"}, False),
        ("vehicles", {"ref": "v", "type": "truck", "vin": "W0L000051T2123456"}, True),
        ("persons", {"ref": "p", "role": "witness", "names": [{"given": "W"}]}, True),
    ],
)
def test_what_counts_as_personal_data(
    doc: dict[str, Any], field: str, item: dict[str, Any], personal: bool
) -> None:
    doc = _strip_personal(doc)
    doc[field] = [item]
    assert derive_facts(parse_message(encode(doc), today=TODAY)).has_personal_data is personal


@pytest.mark.parametrize(
    ("vehicles", "road", "only_craft"),
    [
        ([{"ref": "b", "type": "boat", "registration": "BR-1"}], False, True),
        ([{"ref": "b", "type": "aircraft", "registration": "YU-ABC"}], False, True),
        (
            [
                {"ref": "b", "type": "boat", "registration": "BR-1"},
                {"ref": "c", "type": "car", "registration": "AA 1"},
            ],
            True,
            False,
        ),
        ([{"ref": "b", "type": "boat"}], False, False),
    ],
)
def test_boat_and_aircraft_ids(
    doc: dict[str, Any], vehicles: list[dict[str, Any]], road: bool, only_craft: bool
) -> None:
    doc = _strip_personal(doc)
    doc["vehicles"] = vehicles
    facts = derive_facts(parse_message(encode(doc), today=TODAY))
    assert facts.has_vehicle_registrations is road
    assert facts.has_only_boat_or_aircraft_ids is only_craft


def test_craft_ids_next_to_persons_are_not_only_craft_ids(doc: dict[str, Any]) -> None:
    doc["vehicles"] = [{"ref": "v1", "type": "boat", "registration": "BR-1"}]
    facts = derive_facts(parse_message(encode(doc), today=TODAY))
    assert facts.has_only_boat_or_aircraft_ids is False
    assert facts.has_vehicle_registrations is False


def test_special_categories(doc: dict[str, Any]) -> None:
    assert derive_facts(parse_message(encode(doc), today=TODAY)).has_special_categories is False
    doc["persons"][1]["special_categories"] = ["health"]
    assert derive_facts(parse_message(encode(doc), today=TODAY)).has_special_categories is True


def test_facts_are_json_for_the_rule_engine(doc: dict[str, Any]) -> None:
    facts = derive_facts(parse_message(encode(doc), today=TODAY)).as_dict()
    assert json.loads(json.dumps(facts)) == facts
    assert facts["has_documents"] is True
    assert facts["has_communications"] is True
    assert facts["countries"] == ["AL", "MK"]
