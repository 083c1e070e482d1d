"""Golden decisions: the rule pack's verdict on each case that records one in decision.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.registry import AdapterRegistry
from contract_tests import kit


def test_case_decision_matches_the_recorded_verdict(
    golden_case: kit.GoldenCase, kit_registry: AdapterRegistry, kit_roots: list[Path]
) -> None:
    expected = golden_case.decision_overrides().get("expected")
    if expected is None:
        pytest.skip("no verdict recorded (python -m contract_tests.refresh --decisions)")
    assert kit.decide_case(golden_case, kit_registry, kit_roots) == expected, (
        f"{golden_case.id}: the rule pack now decides differently; if intended, run "
        f"python -m contract_tests.refresh --decisions {golden_case.channel} and review"
    )
