"""Each registered adapter has a rule pack that knows the adapter's products, so a decision's
product is always one the adapter renders."""

from __future__ import annotations

from adapters.registry import load_registry
from gateway.policy import PolicyEngine

from .helpers import MAPPINGS


def test_every_registered_channel_has_a_pack_with_its_products() -> None:
    registry = load_registry(MAPPINGS)
    engine = PolicyEngine.load(MAPPINGS, required_channels=registry.names())
    for adapter in registry:
        pack = engine.pack(adapter.name)
        assert set(pack.products) == set(adapter.products), adapter.name
        assert pack.default_product == adapter.default_product, adapter.name
