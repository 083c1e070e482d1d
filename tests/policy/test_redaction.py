"""apply_redactions: exactly the decided paths go, what pointed at them goes too, and the result
is still a valid canonical message; the input is never changed."""

from __future__ import annotations

import json

import pytest

from gateway.policy import Decision, PolicyEngine, apply_redactions
from gateway.policy.redaction import parse_path, with_dependents
from gateway.schema import derive_facts, parse_message

from .helpers import TODAY, build, decide

MK_FRONTEX = "mk-smuggling-interception-frontex.json"
AL_PCC = "al-victim-identification-pcc-see.json"


def _decision(*paths: str) -> Decision:
    return Decision(channel="test", product="p", outcome="redact", redacted=paths)


def test_eurosur_report_keeps_no_personal_data(engine: PolicyEngine) -> None:
    message = build(MK_FRONTEX)
    decision = decide(engine, message, "frontex")
    redacted = apply_redactions(message, decision)
    assert derive_facts(redacted).has_personal_data is False
    assert redacted.persons == ()
    assert redacted.documents == ()
    assert redacted.communications == ()
    assert redacted.vehicles[0].registration is None
    assert redacted.vehicles[0].type.value == "van"
    # Links to removed persons and documents are gone; refs that remain still resolve.
    assert redacted.links == ()
    kept = {v.ref for v in redacted.vehicles} | {loc.ref for loc in redacted.locations}
    assert all(ref in kept for event in redacted.events for ref in event.involved)
    # The statistics, route and locations travel on.
    assert redacted.statistics == message.statistics
    assert redacted.route == message.route


def test_result_round_trips_as_a_valid_message(engine: PolicyEngine) -> None:
    message = build(MK_FRONTEX)
    redacted = apply_redactions(message, decide(engine, message, "frontex"))
    raw = redacted.model_dump_json(by_alias=True, exclude_none=True).encode()
    assert parse_message(raw, today=TODAY) == redacted


def test_removing_a_person_cleans_every_reference() -> None:
    message = build(AL_PCC)
    victim = next(i for i, p in enumerate(message.persons) if p.role.value == "victim")
    ref = message.persons[victim].ref
    paths = with_dependents(message, [f"$.persons[{victim}]"])
    redacted = apply_redactions(message, _decision(*paths))
    assert ref not in {p.ref for p in redacted.persons}
    assert all(ref not in (link.from_, link.to) for link in redacted.links)
    assert all(d.holder != ref for d in redacted.documents)
    assert all(c.owner != ref for c in redacted.communications)
    assert all(ref not in e.involved for e in redacted.events)
    # Every dependent removal is listed, so the decision says exactly what was taken out.
    removed_links = [x for x in message.links if ref in (x.from_, x.to)]
    assert len([p for p in paths if p.startswith("$.links[")]) == len(removed_links) > 0


def test_field_paths_remove_only_that_field() -> None:
    message = build(AL_PCC)
    redacted = apply_redactions(message, _decision("$.documents[0].number"))
    assert redacted.documents[0].number is None
    assert redacted.documents[0].type == message.documents[0].type
    assert len(redacted.documents) == len(message.documents)


def test_input_message_is_not_changed() -> None:
    message = build(MK_FRONTEX)
    before = message.model_dump_json()
    apply_redactions(message, _decision("$.persons[0]", "$.documents[1].number"))
    assert message.model_dump_json() == before


def test_nothing_to_redact_returns_the_same_message() -> None:
    message = build(AL_PCC)
    assert apply_redactions(message, _decision()) is message


@pytest.mark.parametrize("path", ["$.persons[99]", "persons[0]", "$.persons[0]..x"])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="path"):
        apply_redactions(build(AL_PCC), _decision(path))


def test_path_parsing() -> None:
    assert parse_path("$.events[2].involved[0]") == ("events", 2, "involved", 0)


def test_europol_art30_removes_special_categories_of_victims_only(engine: PolicyEngine) -> None:
    def patch(data: dict) -> None:  # type: ignore[type-arg]
        data["persons"][0]["role"] = "victim"
        data["persons"][0]["special_categories"] = ["health"]
        data["persons"][0]["description"] = "free text about health"

    message = build("xk-europol-information.json", patch)
    decision = decide(engine, message, "europol")
    assert decision.outcome != "deny"
    assert set(decision.redacted) == {"$.persons[0].special_categories", "$.persons[0].description"}
    redacted = apply_redactions(message, decision)
    assert redacted.persons[0].special_categories == ()
    assert redacted.persons[0].description is None
    assert json.loads(redacted.model_dump_json())["persons"][0]["role"] == "victim"
