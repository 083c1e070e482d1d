"""Decisions dated by the transfer: facts are read on the day given, and the decision says
which facts, as of which day and facts version, it rested on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.policy import PolicyEngine
from gateway.policy.overlay import FactAction, FactChange, apply_overlay, checked_entry
from gateway.schema import CanonicalMessage, derive_facts, parse_message
from tests.conftest import EXAMPLES

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
INSTRUMENT = "europol_operational_agreement"


def _message() -> CanonicalMessage:
    data = json.loads((EXAMPLES / "me-early-warning-alert.json").read_text(encoding="utf-8"))
    data["destinations"] = [{"channel": "europol"}]
    data["crime_areas"] = ["trafficking_in_human_beings"]
    return parse_message(json.dumps(data).encode())


def _engine_with(since: date, until: date, *, confirmed: bool = True) -> PolicyEngine:
    shipped = PolicyEngine.load(MAPPINGS)
    entry = checked_entry(
        shipped.parties,
        INSTRUMENT,
        "ME",
        party=True,
        since=since,
        until=until,
        confirmed=confirmed,
        source="test source",
        note="",
    )
    change = FactChange(
        7, INSTRUMENT, FactAction.SET, entry, "legal:abc", datetime(2026, 1, 5, tzinfo=UTC)
    )
    return shipped.with_parties(apply_overlay(shipped.parties, [change]))


def test_the_same_message_is_decided_by_the_facts_of_the_day_given() -> None:
    engine = _engine_with(date(2014, 12, 31), date(2027, 1, 1))
    message = _message()
    destination = message.destinations[0]
    facts = derive_facts(message)
    inside = engine.decide(message, facts, destination, recipients=(), on=date(2026, 12, 31))
    after = engine.decide(message, facts, destination, recipients=(), on=date(2027, 1, 1))
    before = engine.decide(message, facts, destination, recipients=(), on=date(2014, 12, 30))

    assert inside.outcome == "allow"
    assert after.outcome == before.outcome == "deny"
    [refusal] = [f for f in after.findings if f.outcome == "deny"]
    line = next(x for x in refusal.facts if x.startswith(f"{INSTRUMENT} ME:"))
    assert "until 2027-01-01), NOT in force on 2027-01-01" in line
    assert "confirmed by legal on 2026-01-05, source test source" in line


def test_a_decision_records_the_facts_it_rested_on_with_their_day_and_version() -> None:
    engine = _engine_with(date(2014, 12, 31), date(2027, 1, 1))
    message = _message()
    day = date(2026, 6, 1)
    decision = engine.decide(
        message, derive_facts(message), message.destinations[0], recipients=(), on=day
    )
    assert decision.basis is not None
    assert (decision.basis.as_of, decision.basis.facts_version) == (day, 7)
    assert any(
        x.startswith(f"{INSTRUMENT} ME:") and "in force on 2026-06-01" in x
        for x in decision.basis.facts
    )
    # Only the instruments the channel's rules read, for the countries of the delivery.
    assert all(x.split(" ", 1)[0].startswith("europol_") for x in decision.basis.facts)
    assert all(x.split(" ")[1] == "ME:" for x in decision.basis.facts)


def test_without_a_day_the_facts_of_the_sending_day_apply() -> None:
    engine = _engine_with(date(2014, 12, 31), date(2026, 6, 1))
    message = _message()
    sent = engine.decide(message, derive_facts(message), message.destinations[0], recipients=())
    # The example was sent on 2026-06-02, the day after the agreement ended.
    assert sent.outcome == "deny"
    assert sent.basis is not None
    assert sent.basis.as_of == date(2026, 6, 2)
