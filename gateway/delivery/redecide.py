"""A stored delivery decided again, on the day it is put back on its way.

A transfer is lawful or not on the day it happens. When a person releases a held delivery or
puts a failed one back in the queue, or a legal officer's change of facts may lift a hold, the
stored message is decided again for that delivery's channel and recipient with the facts and
the date of that moment. The delivery row then gets the new decision, the facts it rested on
and, when it may go out, a payload rendered from that decision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Connection, select

from adapters.base import Adapter, PayloadSigner
from adapters.errors import RenderError
from gateway.errors import ErrorKind, GatewayError
from gateway.policy import Decision, PolicyEngine, apply_redactions
from gateway.schema import CanonicalMessage, MessageInvalid, derive_facts, parse_message
from gateway.store.crypto import Keyring, message_aad, payload_aad
from gateway.store.facts import LivePolicy
from gateway.store.states import DeliveryState
from gateway.store.tables import deliveries, messages

# Decides one stored delivery again inside the caller's transaction (by delivery id).
# None when the message body is no longer stored: the delivery keeps the decision it has.
Reopener = Callable[[Connection, str], "Redecision | None"]


class AdapterSource(Protocol):
    """What a re-decision needs of the adapter registry."""

    def get(self, name: str) -> Adapter:
        """The adapter registered for channel ``name``."""


@dataclass(frozen=True)
class Redecider:
    """What deciding a stored delivery again takes; one per process."""

    keyring: Keyring
    registry: AdapterSource
    # Signs what is rendered anew, as intake signs it (None: unsigned, MARRI_SIGN_PAYLOADS off).
    signer: PayloadSigner | None = None

    def redecide(
        self, conn: Connection, delivery_id: str, *, engine: PolicyEngine, on: date
    ) -> Redecision | None:
        """The delivery's decision on ``on`` and the row values that record it; None when the
        message body is not stored (a purge cancels the open deliveries of what it purges, so
        only a delivery stored without its message gets here)."""
        row = conn.execute(
            select(
                deliveries.c.channel,
                deliveries.c.recipient,
                deliveries.c.product,
                messages.c.id.label("message_id"),
                messages.c.body_ciphertext,
                messages.c.body_key_id,
                messages.c.received_at,
            )
            .join(messages, messages.c.id == deliveries.c.message_id)
            .where(deliveries.c.id == delivery_id)
        ).first()
        if row is None:
            raise GatewayError(ErrorKind.NOT_FOUND, "not_found", "no such delivery")
        if row.body_ciphertext is None or row.body_key_id is None:
            return None
        raw = self.keyring.decrypt(
            row.body_key_id, row.body_ciphertext, aad=message_aad(row.message_id)
        )
        try:
            # Read as on the day it was accepted: its retention date was valid then.
            message = parse_message(raw, today=row.received_at.date())
        except MessageInvalid:
            raise GatewayError(
                ErrorKind.CONFLICT, "message_unreadable", "the stored message no longer parses"
            ) from None
        destination = next(d for d in message.destinations if d.channel == row.channel)
        recipients = (row.recipient,) if row.recipient else tuple(destination.to or ())
        decision = engine.decide(
            message, derive_facts(message), destination, recipients=recipients, on=on
        )
        values: dict[str, Any] = decision_columns(decision)
        if decision.allows_delivery:
            values |= self._payload(message, decision, delivery_id, row.channel, row.recipient)
        return Redecision(decision, values)

    def _payload(
        self,
        message: CanonicalMessage,
        decision: Decision,
        delivery_id: str,
        channel: str,
        recipient: str | None,
    ) -> dict[str, Any]:
        adapter = self.registry.get(channel)
        try:
            payload = adapter.render(
                apply_redactions(message, decision), decision, recipient=recipient
            )
        except RenderError:
            raise GatewayError(
                ErrorKind.UNPROCESSABLE,
                "not_renderable",
                f"{channel}: the channel's profile cannot express the message as decided now",
            ) from None
        if self.signer is not None:
            payload = adapter.sign(payload, self.signer)
        key_id, blob = self.keyring.encrypt(payload.body, aad=payload_aad(delivery_id))
        return {
            "payload_ciphertext": blob,
            "payload_key_id": key_id,
            "payload_sha256": hashlib.sha256(payload.body).hexdigest(),
            "payload_size": len(payload.body),
            "content_type": payload.content_type,
            "payload_headers_json": json.dumps(dict(payload.headers)),
        }


@dataclass(frozen=True)
class Redecision:
    """A delivery's new decision and the columns to write with its next state."""

    decision: Decision
    values: dict[str, Any]

    @property
    def rules(self) -> list[str]:
        """The ids of the rules whose findings made the decision, as stored on the delivery."""
        return [f.rule for f in self.decision.findings]


def decision_columns(decision: Decision) -> dict[str, Any]:
    """The delivery columns that record a decision and the facts it rested on."""
    return {
        "decision_outcome": decision.outcome,
        "findings_json": json.dumps([f.as_dict() for f in decision.findings]),
        "redacted_json": json.dumps(list(decision.redacted)),
        "pack_hash": decision.pack_hash,
        "decision_basis_json": None
        if decision.basis is None
        else json.dumps(decision.basis.as_dict()),
    }


def reopener(redecider: Redecider, policy: LivePolicy, on: date) -> Reopener:
    """Decides stored deliveries again with the newest facts, as of ``on``."""

    def reopen(conn: Connection, delivery_id: str) -> Redecision | None:
        return redecider.redecide(conn, delivery_id, engine=policy.engine_at(conn), on=on)

    return reopen


def state_after(redecision: Redecision | None, *, approved: bool) -> DeliveryState:
    """Where a delivery put back on its way goes with its new decision.

    A deny blocks it (the law of the day refuses it); a review holds it again unless an
    approver is releasing it, whose release is the review; otherwise it is queued.
    """
    if redecision is None:
        return DeliveryState.QUEUED
    outcome = redecision.decision.outcome
    if outcome == "deny":
        return DeliveryState.BLOCKED
    if outcome == "review" and not approved:
        return DeliveryState.HELD
    return DeliveryState.QUEUED


def reopened(
    conn: Connection,
    row: Any,
    reopen: Reopener | None,
    *,
    approved: bool,
    allowed: frozenset[DeliveryState] | frozenset[str],
    values: dict[str, Any],
) -> tuple[DeliveryState, dict[str, Any], dict[str, Any] | None]:
    """Target, values and audit details of a delivery put back on its way, decided again on
    this day when ``reopen`` is given (a delivery in a state the action does not take is left
    to the transition to refuse)."""
    if reopen is None or row.state not in allowed:
        return DeliveryState.QUEUED, values, None
    redecision = reopen(conn, row.id)
    if redecision is None:
        return DeliveryState.QUEUED, values, {"redecided": False}
    target = state_after(redecision, approved=approved)
    values = values | redecision.values
    if target is not DeliveryState.QUEUED:
        values["next_attempt_at"] = None
    basis = redecision.decision.basis
    details = {
        "outcome": redecision.decision.outcome,
        "rules": redecision.rules,
        "as_of": basis.as_of.isoformat() if basis else None,
        "facts_version": basis.facts_version if basis else None,
    }
    return target, values, details
