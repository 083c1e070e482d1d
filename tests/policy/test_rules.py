"""Every rule of every pack: one message it passes and one it fails, both small changes of an
example. The cases live in each channel's mapping folder (``mappings/<channel>/cases.yaml``,
read by ``tests/policy/cases.py``); a rule without a case fails ``test_every_rule_has_a_case``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.policy import PolicyEngine
from gateway.schema import CanonicalMessage, parse_message

from .cases import Case, apply_change, discover
from .helpers import MAPPINGS, TODAY, decide

CASES = discover()
# A rule with two cases gets ids rule-0 and rule-1.
CASE_IDS = [f"{c.rule}-{[d.rule for d in CASES[:i]].count(c.rule)}" for i, c in enumerate(CASES)]


def _message(case: Case, which: str) -> CanonicalMessage:
    return parse_message(json.dumps(case.data(which)).encode(), today=TODAY)


def _rule_findings(engine: PolicyEngine, case: Case, which: str) -> list[Any]:
    return list(decide(case.engine(engine), _message(case, which), case.channel).findings)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_rule_passes(engine: PolicyEngine, case: Case) -> None:
    assert case.rule not in [f.rule for f in _rule_findings(engine, case, "passes")]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_rule_fails_with_its_outcome(engine: PolicyEngine, case: Case) -> None:
    _, rule = engine.rule(case.rule)
    findings = [f for f in _rule_findings(engine, case, "fails") if f.rule == case.rule]
    assert len(findings) == 1
    assert findings[0].outcome == rule.outcome
    assert findings[0].cite == rule.cite
    assert findings[0].message == rule.message


def test_every_rule_has_a_case(engine: PolicyEngine) -> None:
    assert {rule.id for _, rule in engine.rules()} - {c.rule for c in CASES} == set()


def test_a_case_names_a_rule_of_its_own_channel(engine: PolicyEngine) -> None:
    """A case file belongs to its channel: it cannot test (or cover) another channel's rule."""
    for case in CASES:
        pack, _ = engine.rule(case.rule)
        assert pack.channel == case.file.parent.name == case.channel, case


def test_cases_are_discovered_from_the_channel_folders(mappings_copy: Path) -> None:
    """A channel folder's cases come and go with it; no central list names them."""
    import shutil

    for case_file in MAPPINGS.glob("*/cases.yaml"):
        shutil.copy(case_file, mappings_copy / case_file.parent.name / "cases.yaml")
    shipped = discover(mappings_copy)
    assert {c.channel for c in shipped} == {p.parent.name for p in MAPPINGS.glob("*/rules.yaml")}
    shutil.rmtree(mappings_copy / "selec")
    assert {c.channel for c in discover(mappings_copy)} == {c.channel for c in shipped} - {"selec"}


def test_a_change_applies_in_its_documented_order() -> None:
    data: dict[str, Any] = {"persons": [{"ref": "p"}], "links": [], "a": {"b": 1, "c": 2}}
    apply_change(
        data,
        {
            "strip_personal_data": True,
            "delete": ["a.c"],
            "set": {"a.b": 3},
            "append": {"persons": {"ref": "q"}},
        },
    )
    assert data["persons"] == [{"ref": "q"}]
    assert data["a"] == {"b": 3}


@pytest.fixture(scope="module")
def registry() -> Any:
    """The registered adapters and any adapter package here not registered yet, as the kit
    sees them: a channel's cases run before its entry point is written."""
    from contract_tests.kit import kit_registry

    return kit_registry()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_legal_refusals_are_decisions_not_render_errors(
    engine: PolicyEngine, registry: Any, case: Case
) -> None:
    """Each case's messages either render or are denied by a rule: a legal reason never
    surfaces as the render's not_renderable (which intake and check turn into a 422)."""
    from gateway.intake import plan_deliveries
    from gateway.schema import derive_facts

    for which in ("passes", "fails"):
        message = _message(case, which)
        plans = plan_deliveries(
            message, derive_facts(message), engine=case.engine(engine), registry=registry
        )
        assert [p for plan in plans for p in plan.render_problems] == []
