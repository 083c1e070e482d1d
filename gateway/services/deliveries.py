"""Operator and approver actions on one delivery: retry, cancel, release, reject.

Every action takes the same steps, in ``DeliveryActions._act``: the permission table, then, in
one transaction, the delivery under a row lock (another country's answers like a missing one),
the move the action plans for it, the state change and the audit entry. What differs between
actions is only the plan: the ``_*_move`` methods are where a delivery is moved on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from gateway.config import Settings
from gateway.delivery.redecide import Reopener, reopened
from gateway.delivery.transitions import (
    CANCELLABLE,
    RETRYABLE,
    REVIEWABLE,
    ActionResult,
    DeliveryRef,
    Move,
    apply_move,
    fresh_round,
    lock_delivery,
)
from gateway.errors import ErrorKind, GatewayError
from gateway.events.outbox import record_delivery_events, transition_event
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.services.permissions import Action, can_see_country, check
from gateway.store.engine import Store
from gateway.store.states import DeliveryState
from gateway.store.tables import utcnow

DEFAULT_DEADLINE_S = 24 * 3600.0
DEAD_LETTER = frozenset({DeliveryState.FAILED})

# (transaction, the delivery, who acts, why, now) -> where the delivery goes. A planner may
# read more in the transaction (a release could decide the delivery again) or refuse.
Planner = Callable[[Connection, DeliveryRef, Identity, str | None, datetime], Move]


def deadline_s(settings: Settings, channel: str) -> float:
    """How long a delivery put back in the queue has: its channel's retry deadline."""
    channel_settings = settings.channel(channel)
    return channel_settings.retry.deadline_s if channel_settings else DEFAULT_DEADLINE_S


def required_reason(reason: str | None) -> str:
    """Review decisions are kept with their reason; a blank one is refused."""
    if reason is None or not reason.strip():
        raise GatewayError(
            ErrorKind.UNPROCESSABLE, "reason_required", "give the reason for this decision"
        )
    return reason.strip()


class DeliveryActions:
    """The delivery actions of one process (built once, with the process context)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        reopen_for: Callable[[date], Reopener] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        # Decides a delivery put back on its way again, on the day it is (release, retry).
        self._reopen_for = reopen_for

    def _reopen(self, now: datetime) -> Reopener | None:
        return None if self._reopen_for is None else self._reopen_for(now.date())

    async def retry(self, identity: Identity, delivery_id: str, reason: str | None) -> ActionResult:
        """Make a waiting delivery due now; audited with the reason."""
        return await self._act(identity, Action.RETRY, delivery_id, reason, self._retry_move)

    async def redrive(
        self, identity: Identity, delivery_id: str, reason: str | None
    ) -> ActionResult:
        """Send one dead letter again, decided again on the day; audited as delivery.redrive."""
        return await self._act(identity, Action.REDRIVE, delivery_id, reason, self._redrive_move)

    async def cancel(
        self, identity: Identity, delivery_id: str, reason: str | None
    ) -> ActionResult:
        """Cancel a delivery that is not yet delivered; audited with the reason."""
        return await self._act(identity, Action.CANCEL, delivery_id, reason, self._cancel_move)

    async def release(
        self, identity: Identity, delivery_id: str, reason: str | None
    ) -> ActionResult:
        """Release a held delivery to the queue; an approver must give a reason."""
        check(identity, Action.RELEASE)
        why = required_reason(reason)
        return await self._act(identity, Action.RELEASE, delivery_id, why, self._release_move)

    async def reject(
        self, identity: Identity, delivery_id: str, reason: str | None
    ) -> ActionResult:
        """Reject a held delivery for good; an approver must give a reason."""
        check(identity, Action.REJECT)
        why = required_reason(reason)
        return await self._act(identity, Action.REJECT, delivery_id, why, self._reject_move)

    def _retry_move(
        self, conn: Connection, ref: DeliveryRef, who: Identity, why: str | None, now: datetime
    ) -> Move:
        values = fresh_round(now, deadline_s(self._settings, ref.channel))
        # Decided again on the retry's day: a deny blocks it, a review holds it again.
        target, values, decided = reopened(
            conn, ref, self._reopen(now), approved=False, allowed=RETRYABLE, values=values
        )
        return Move(RETRYABLE, target, values, decided)

    def _redrive_move(
        self, conn: Connection, ref: DeliveryRef, who: Identity, why: str | None, now: datetime
    ) -> Move:
        values = fresh_round(now, deadline_s(self._settings, ref.channel))
        target, values, decided = reopened(
            conn, ref, self._reopen(now), approved=False, allowed=DEAD_LETTER, values=values
        )
        return Move(DEAD_LETTER, target, values, decided)

    def _cancel_move(
        self, conn: Connection, ref: DeliveryRef, who: Identity, why: str | None, now: datetime
    ) -> Move:
        return Move(CANCELLABLE, DeliveryState.CANCELLED, {"next_attempt_at": None})

    def _release_move(
        self, conn: Connection, ref: DeliveryRef, who: Identity, why: str | None, now: datetime
    ) -> Move:
        _four_eyes(ref, who)
        values: dict[str, Any] = {"review_actor": who.actor, "review_reason": why}
        values |= fresh_round(now, deadline_s(self._settings, ref.channel))
        # Decided again on the release's day: a deny of that day blocks it instead.
        target, values, decided = reopened(
            conn, ref, self._reopen(now), approved=True, allowed=REVIEWABLE, values=values
        )
        return Move(REVIEWABLE, target, values, decided)

    def _reject_move(
        self, conn: Connection, ref: DeliveryRef, who: Identity, why: str | None, now: datetime
    ) -> Move:
        _four_eyes(ref, who)
        values = {"review_actor": who.actor, "review_reason": why, "next_attempt_at": None}
        return Move(REVIEWABLE, DeliveryState.CANCELLED, values)

    async def _act(
        self,
        identity: Identity,
        action: Action,
        delivery_id: str,
        reason: str | None,
        plan: Planner,
    ) -> ActionResult:
        check(identity, action)
        now = self._clock()

        def change(conn: Connection) -> ActionResult:
            ref = lock_delivery(conn, delivery_id)
            if ref is None or not can_see_country(identity, ref.sender_country):
                raise GatewayError(ErrorKind.NOT_FOUND, "not_found", "no such delivery")
            move = plan(conn, ref, identity, reason, now)
            result = apply_move(conn, ref, move, verb=action.value, now=now)
            append_audit(
                conn,
                actor=identity.actor,
                action=action.value,
                subject=f"delivery:{ref.id}",
                reason=reason,
                details={
                    "message_id": ref.message_id,
                    "channel": ref.channel,
                    "from": ref.state,
                    "to": result.state,
                    **(move.details or {}),
                },
            )
            told = transition_event(ref.state, result.state)
            if told is not None:  # the sender learns of it in the same transaction
                record_delivery_events(conn, told, [ref.id], now=now)
            return result

        return await self._store.write(change)


def _four_eyes(ref: DeliveryRef, identity: Identity) -> None:
    """The token that sent a message never decides its review."""
    if ref.token_id is not None and ref.token_id == identity.token_id:
        raise GatewayError(
            ErrorKind.FORBIDDEN,
            "same_person",
            "a message cannot be reviewed with the token that sent it",
        )
