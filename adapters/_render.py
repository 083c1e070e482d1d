"""What every adapter's ``render`` ends with: the product it renders, and its own schema check.

A payload leaves ``render`` only after the adapter's ``validate_payload`` found nothing; the
problems become a ``RenderError`` naming paths and rules, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.base import Adapter, Payload
from adapters.errors import RenderError

if TYPE_CHECKING:
    from gateway.policy.decision import Decision


def product_for(adapter: Adapter, decision: Decision) -> str:
    """The decision's product (or the channel's default), refused when the channel lacks it."""
    product = decision.product or adapter.default_product
    if product not in adapter.products:
        raise RenderError(
            f"{adapter.name}: unknown product {product!r}", [("$.destinations", "unknown product")]
        )
    return product


def checked_payload(
    adapter: Adapter,
    body: bytes,
    *,
    product: str,
    recipient: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Payload:
    """``body`` as a Payload once it passes the adapter's own schema check."""
    problems = adapter.validate_payload(body)
    if problems:
        raise RenderError(
            f"{adapter.name}: rendered {product} fails the {adapter.profile_version} schema",
            # validate_payload's problems are "<path>: <rule>" and never carry values.
            [(path, rule.strip()) for path, _, rule in (p.partition(":") for p in problems)],
        )
    return Payload(
        body=body,
        content_type=adapter.content_type,
        product=product,
        recipient=recipient,
        headers=dict(headers or {}),
    )
