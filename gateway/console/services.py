"""The console's bridge to the delivery services the operator and review API use."""

from __future__ import annotations

from gateway.context import GatewayContext
from gateway.security.identity import Identity


async def perform_delivery_action(
    context: GatewayContext, identity: Identity, action: str, delivery_id: str, reason: str | None
) -> str | None:
    """Carry out ``action`` on a delivery; None when done, else a short problem code."""
    return "not_available"
