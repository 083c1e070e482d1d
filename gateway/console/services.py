"""The console's bridge to the delivery services the operator and review API use.

The services check the state transition and the caller's countries and write the audit entry
in the same transaction; the role check mirrors the API's authorisation table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from gateway.context import GatewayContext
from gateway.delivery.actions import (
    ActionRefused,
    cancel_delivery,
    redrive_channel,
    retry_delivery,
    review_held,
)
from gateway.security.identity import Identity
from gateway.store.tables import deliveries, utcnow

DEFAULT_DEADLINE_S = 24 * 3600.0
OPERATOR_ROLES = ("operator", "admin")
APPROVER_ROLES = ("approver", "admin")
# console action -> roles allowed
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "redrive": OPERATOR_ROLES,  # a dead letter back to the queue (the API's retry)
    "retry": OPERATOR_ROLES,
    "cancel": OPERATOR_ROLES,
    "release": APPROVER_ROLES,
    "reject": APPROVER_ROLES,
}


def _deadline_s(context: GatewayContext, channel: str | None) -> float:
    settings = context.settings.channel(channel) if channel else None
    return settings.retry.deadline_s if settings else DEFAULT_DEADLINE_S


def _channel_of(conn: Connection, delivery_id: str) -> str | None:
    channel: str | None = conn.execute(
        select(deliveries.c.channel).where(deliveries.c.id == delivery_id)
    ).scalar()
    return channel


async def perform_delivery_action(
    context: GatewayContext, identity: Identity, action: str, delivery_id: str, reason: str | None
) -> str | None:
    """Carry out ``action`` on a delivery; None when done, else a short problem code."""
    roles = ACTION_ROLES.get(action)
    if roles is None:
        return "unknown_action"
    if identity.role not in roles:
        return "not_your_role"
    if action in ("release", "reject") and not reason:
        return "reason_required"
    channel = await context.store.read(lambda conn: _channel_of(conn, delivery_id))
    deadline_s = _deadline_s(context, channel)
    now = utcnow()
    change: Callable[[Connection], Any]
    if action in ("retry", "redrive"):

        def change(conn: Connection) -> Any:
            return retry_delivery(
                conn, delivery_id, identity, reason=reason, now=now, deadline_s=deadline_s
            )
    elif action == "cancel":

        def change(conn: Connection) -> Any:
            return cancel_delivery(conn, delivery_id, identity, reason=reason, now=now)
    else:

        def change(conn: Connection) -> Any:
            return review_held(
                conn,
                delivery_id,
                identity,
                release=action == "release",
                reason=reason or "",
                now=now,
                deadline_s=deadline_s,
            )

    try:
        await context.store.write(change)
    except ActionRefused as exc:
        return exc.code
    return None


async def redrive_dead_letters(
    context: GatewayContext, identity: Identity, channel: str, reason: str | None
) -> int | str:
    """Every dead letter of a channel (in the operator's countries) back to the queue."""
    if identity.role not in OPERATOR_ROLES:
        return "not_your_role"
    if channel not in context.registry.names():
        return "unknown_channel"
    deadline_s = _deadline_s(context, channel)
    count: int = await context.store.write(
        lambda conn: redrive_channel(
            conn, channel, identity, reason=reason, now=utcnow(), deadline_s=deadline_s
        )
    )
    return count
