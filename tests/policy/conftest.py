"""Fixtures for the policy tests: the shipped engine and a private copy of the mappings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.policy import PolicyEngine

from .helpers import MAPPINGS


@pytest.fixture(scope="session")
def engine() -> PolicyEngine:
    return PolicyEngine.load(MAPPINGS)


@pytest.fixture
def mappings_copy(tmp_path: Path) -> Path:
    """A private copy of the rule packs and parties tables (shared and the channels' own) to
    break or change."""
    target = tmp_path / "mappings"
    target.mkdir()
    shutil.copy(MAPPINGS / "parties.yaml", target / "parties.yaml")
    for pack in MAPPINGS.glob("*/rules.yaml"):
        (target / pack.parent.name).mkdir()
        for name in ("rules.yaml", "parties.yaml"):
            if (pack.parent / name).is_file():
                shutil.copy(pack.parent / name, target / pack.parent.name / name)
    return target
