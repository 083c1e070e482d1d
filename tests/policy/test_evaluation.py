"""A message's evaluation is made once by the caller and passed to ``decide``: nothing of a
message is kept by the engine, and decisions depend on their arguments alone."""

from __future__ import annotations

import dataclasses
import gc
import weakref
from pathlib import Path

import pytest

from gateway.policy import Decision, PolicyEngine
from gateway.schema import CanonicalMessage, DerivedFacts, derive_facts

from .helpers import build

AL_PCC = "al-victim-identification-pcc-see.json"
FIVE_CHANNELS = "me-early-warning-alert.json"


def _deliveries(message: CanonicalMessage) -> list[tuple[int, tuple[str, ...]]]:
    """(destination index, recipients) of every decision intake makes for ``message``."""
    found: list[tuple[int, tuple[str, ...]]] = []
    for index, destination in enumerate(message.destinations):
        if destination.channel == "pcc_see":
            found += [(index, (r,)) for r in destination.to]
        else:
            found.append((index, tuple(destination.to)))
    return found


def _decide_all(
    engine: PolicyEngine, message: CanonicalMessage, facts: DerivedFacts, *, shared: bool
) -> list[Decision]:
    evaluation = engine.evaluate(message, facts) if shared else None
    return [
        engine.decide(
            message,
            facts,
            message.destinations[index],
            recipients=recipients,
            evaluation=evaluation,
        )
        for index, recipients in _deliveries(message)
    ]


@pytest.mark.parametrize("name", [AL_PCC, FIVE_CHANNELS])
def test_one_evaluation_for_every_delivery_decides_as_each_alone(
    engine: PolicyEngine, name: str
) -> None:
    """Results kept in the evaluation (rules that do not read the destination) are the
    results each decision would reach on its own."""
    message = build(
        name,
        {
            "destinations": [
                {"channel": "pcc_see", "to": ["MK", "BA", "AT", "HU"]},
                {"channel": "europol"},
                {"channel": "selec", "to": ["RS", "MK"]},
            ]
        },
    )
    facts = derive_facts(message)
    shared = _decide_all(engine, message, facts, shared=True)
    alone = _decide_all(engine, message, facts, shared=False)
    assert shared == alone
    assert any(d.findings for d in shared)


def test_the_same_message_decided_with_other_facts_gets_their_answer(
    engine: PolicyEngine,
) -> None:
    message = build(AL_PCC, {"handling.retention_until": None})
    destination = message.destinations[0]
    facts = derive_facts(message)
    without = dataclasses.replace(facts, has_personal_data=False)

    def decide(f: DerivedFacts) -> Decision:
        return engine.decide(message, f, destination, recipients=tuple(destination.to))

    first, other, again = decide(facts), decide(without), decide(facts)
    assert first.findings != other.findings
    assert again == first
    assert other == engine.decide(
        message,
        without,
        destination,
        recipients=tuple(destination.to),
        evaluation=engine.evaluate(message, without),
    )


def test_decide_keeps_nothing_of_the_message_once_it_returns(engine: PolicyEngine) -> None:
    message = build(AL_PCC)
    facts = derive_facts(message)
    destination = message.destinations[0]
    assert engine.decide(message, facts, destination, recipients=("MK",)).outcome == "allow"
    gone = weakref.ref(message)
    del message, facts, destination
    gc.collect()
    assert gone() is None


def test_an_evaluation_frees_its_message_when_the_caller_drops_it(
    engine: PolicyEngine,
) -> None:
    message = build(AL_PCC)
    facts = derive_facts(message)
    evaluation = engine.evaluate(message, facts)
    for recipient in message.destinations[0].to:
        engine.decide(
            message, facts, message.destinations[0], recipients=(recipient,), evaluation=evaluation
        )
    gone = weakref.ref(message)
    del message, facts, evaluation
    gc.collect()
    assert gone() is None


def test_an_evaluation_made_for_another_message_or_facts_is_refused(
    engine: PolicyEngine,
) -> None:
    message, other = build(AL_PCC), build(AL_PCC)
    facts = derive_facts(message)
    destination = message.destinations[0]
    for evaluation in (
        engine.evaluate(other, facts),
        engine.evaluate(message, derive_facts(message)),
    ):
        with pytest.raises(ValueError, match="another message or other facts"):
            engine.decide(message, facts, destination, recipients=("MK",), evaluation=evaluation)


def test_the_policy_package_keeps_no_per_thread_state() -> None:
    package = Path(__file__).resolve().parents[2] / "gateway" / "policy"
    holders = [p.name for p in package.glob("*.py") if "threading" in p.read_text("utf-8")]
    assert holders == []
