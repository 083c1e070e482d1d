"""Capabilities come from the adapters: intake asks the registry, not a list in the schema."""

from __future__ import annotations

import pytest

from adapters.registry import load_registry
from contract_tests import kit
from gateway.intake import check_destinations
from gateway.schema import CanonicalMessage
from gateway.schema.message import Destination

REGISTRY = load_registry()


def _message_to(*destinations: Destination) -> CanonicalMessage:
    case = kit.golden_cases(["europol"])[0]
    return case.message().model_copy(update={"destinations": destinations})


@pytest.mark.parametrize("channel", REGISTRY.names())
def test_a_destination_without_recipients_is_refused_exactly_where_the_adapter_needs_them(
    channel: str,
) -> None:
    bare = _message_to(Destination(channel=channel))
    problems = [(v.path, v.type) for v in check_destinations(bare, REGISTRY)]
    if REGISTRY.get(channel).needs_recipients:
        assert problems == [("$.destinations[0].to", "missing")]
    else:
        assert problems == []
    addressed = _message_to(Destination(channel=channel, to=("RS",)))
    assert check_destinations(addressed, REGISTRY) == []


def test_the_built_ins_needing_recipients_are_the_bilateral_ones() -> None:
    needing = [name for name in REGISTRY.names() if REGISTRY.get(name).needs_recipients]
    assert needing == ["pcc_see", "selec"]
