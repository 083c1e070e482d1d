"""Every channel renders an event's time alike whichever field the sender put it in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.registry import AdapterRegistry, load_registry
from contract_tests import kit
from gateway.schema import CanonicalMessage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMES = {"e1": ("at_time", "2026-05-29T23:15:00+02:00"), "e2": ("at_date", "2026-05")}


@pytest.fixture(scope="module")
def registry() -> AdapterRegistry:
    return load_registry()


def _message(channel: str, *, deprecated: bool) -> CanonicalMessage:
    """The alert example aimed at ``channel``, its events timed by the new fields or by ``at``."""
    data: dict[str, Any] = json.loads(
        (EXAMPLES / "me-early-warning-alert.json").read_text(encoding="utf-8")
    )
    data["destinations"] = [{"channel": channel, "to": ["RS"]}]
    data["events"] = [
        {"ref": ref, "kind": "border_crossing", **{"at" if deprecated else field: value}}
        for ref, (field, value) in TIMES.items()
    ]
    return CanonicalMessage.model_validate(data, context={"today": kit.CASE_TODAY})


@pytest.mark.parametrize("channel", ["europol", "frontex", "selec", "pcc_see", "interpol"])
def test_new_and_deprecated_fields_render_the_same_bytes(
    registry: AdapterRegistry, channel: str
) -> None:
    adapter = registry.get(channel)
    new = kit.render_for_kit(adapter, _message(channel, deprecated=False)).body
    old = kit.render_for_kit(adapter, _message(channel, deprecated=True)).body
    assert new == old
    if channel != "interpol":  # Interpol's diffusion carries no events
        assert b"2026-05-29T23:15:00+02:00" in new
        assert b"2026-05<" in new
