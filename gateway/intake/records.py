"""What intake stores for an accepted message: one typed record per delivery, one for the message.

The stored rows, the answer the sender gets (and gets again on a repeat) and the audit entry
are all read off these records, so they cannot disagree about a delivery.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from adapters.base import Payload
from gateway.intake.plan import PlannedDelivery
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage
from gateway.security.identity import Identity
from gateway.security.lookup import case_reference_hash
from gateway.security.sender_signature import VerifiedSignature
from gateway.store.crypto import Keyring, message_aad, payload_aad
from gateway.store.states import PRIORITY_RANK, DeliveryState, derive_message_status

if TYPE_CHECKING:
    from gateway.config import Settings

# How long a delivery may keep trying when its channel has no settings of its own.
FALLBACK_DEADLINE_S = 24 * 3600.0


def idempotency_key(message_id: str, channel: str, recipient: str | None) -> str:
    """What the destination receives to recognise a repeat of this delivery."""
    return f"{message_id}:{channel}:{recipient or '-'}"


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` (``version-trace-parent-flags``), if it is one."""
    return traceparent.split("-")[1] if traceparent and traceparent.count("-") == 3 else None


def initial_state(decision: Decision) -> DeliveryState:
    """Where a delivery starts: blocked when denied, held for review, queued otherwise."""
    if decision.outcome == "deny":
        return DeliveryState.BLOCKED
    if decision.outcome == "review":
        return DeliveryState.HELD
    return DeliveryState.QUEUED


@dataclass(frozen=True)
class SealedPayload:
    """A rendered payload as stored: encrypted under the delivery's id, with its digest."""

    key_id: str
    ciphertext: bytes
    sha256: str
    size: int
    content_type: str
    headers: Mapping[str, str]

    @classmethod
    def seal(cls, payload: Payload, delivery_id: str, keyring: Keyring) -> SealedPayload:
        """Encrypt the payload for its delivery row; size and hash are of the plain bytes."""
        key_id, blob = keyring.encrypt(payload.body, aad=payload_aad(delivery_id))
        return cls(
            key_id=key_id,
            ciphertext=blob,
            sha256=hashlib.sha256(payload.body).hexdigest(),
            size=len(payload.body),
            content_type=payload.content_type,
            headers=dict(payload.headers),
        )


@dataclass(frozen=True)
class NewDelivery:
    """One planned delivery of an accepted message, as it is stored and answered."""

    id: str
    message_id: str
    plan: PlannedDelivery
    state: DeliveryState
    priority_rank: int
    created_at: datetime
    deadline_at: datetime
    payload: SealedPayload | None

    def row(self) -> dict[str, Any]:
        """The ``deliveries`` row. Every row names the same columns, payload or not: one
        executemany insert needs that when a blocked delivery sits beside rendered ones."""
        decision = self.plan.decision
        payload = self.payload
        return {
            "id": self.id,
            "message_id": self.message_id,
            "channel": self.plan.channel,
            "recipient": self.plan.recipient,
            "product": self.plan.product,
            "state": self.state.value,
            "priority_rank": self.priority_rank,
            "decision_outcome": decision.outcome,
            "findings_json": json.dumps([f.as_dict() for f in decision.findings]),
            "redacted_json": json.dumps(list(decision.redacted)),
            "pack_hash": decision.pack_hash,
            "decision_basis_json": None
            if decision.basis is None
            else json.dumps(decision.basis.as_dict()),
            "idempotency_key": idempotency_key(
                self.message_id, self.plan.channel, self.plan.recipient
            ),
            "attempts": 0,
            "next_attempt_at": self.created_at if self.state is DeliveryState.QUEUED else None,
            "deadline_at": self.deadline_at,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "payload_ciphertext": payload.ciphertext if payload else None,
            "payload_key_id": payload.key_id if payload else None,
            "payload_sha256": payload.sha256 if payload else None,
            "payload_size": payload.size if payload else None,
            "content_type": payload.content_type if payload else None,
            "payload_headers_json": json.dumps(dict(payload.headers)) if payload else None,
        }

    def view(self) -> dict[str, Any]:
        """The delivery in the answer to the sender."""
        decision = self.plan.decision
        view: dict[str, Any] = {
            "id": self.id,
            "channel": self.plan.channel,
            "recipient": self.plan.recipient,
            "product": self.plan.product,
            "state": self.state.value,
            "decision": {
                "outcome": decision.outcome,
                "findings": [f.as_dict() for f in decision.findings],
                "redacted": list(decision.redacted),
            },
        }
        if self.payload is not None:
            view |= {"payload_sha256": self.payload.sha256, "payload_size": self.payload.size}
        return view

    def audited(self) -> dict[str, Any]:
        """The delivery in the audit entry: ids, channel, outcome and rules, no personal data."""
        return {
            "id": self.id,
            "channel": self.plan.channel,
            "recipient": self.plan.recipient,
            "outcome": self.plan.decision.outcome,
            "rules": [f.rule for f in self.plan.decision.findings],
        }


@dataclass(frozen=True)
class NewMessage:
    """An accepted message with its deliveries, as the one intake transaction stores it."""

    id: str
    sender_country: str
    sender_agency: str
    token_id: str
    actor: str
    kind: str
    priority: str
    content_sha256: str
    body_key_id: str
    body_ciphertext: bytes
    received_at: datetime
    retention_until: date | None
    traceparent: str | None
    deliveries: tuple[NewDelivery, ...]
    # The keyed hash of the case reference, so that operators can find the message by it.
    case_ref_hash: str | None = None
    signature: VerifiedSignature | None = None

    @cached_property
    def response(self) -> dict[str, Any]:
        """The 202's body; stored with the message, so a repeat gets exactly this again."""
        response: dict[str, Any] = {
            "message_id": self.id,
            "status": derive_message_status([d.state.value for d in self.deliveries]).value,
            "received_at": self.received_at.isoformat(),
            "deliveries": [d.view() for d in self.deliveries],
            "links": {
                "self": f"/v1/messages/{self.id}",
                "trace": f"/v1/messages/{self.id}/trace",
            },
            "trace_id": trace_id_of(self.traceparent),
        }
        if self.signature is not None:
            response["signature"] = signature_summary(self.signature)
        return response

    def signature_row(self) -> dict[str, Any] | None:
        """The ``message_signatures`` row of a signed message."""
        signed = self.signature
        if signed is None:
            return None
        return {
            "message_id": self.id,
            "key_id": signed.key_id,
            "country": signed.country,
            "agency": signed.agency,
            "kid": signed.kid,
            "alg": signed.alg,
            "jws": signed.jws,
            "verified_at": signed.verified_at,
        }

    def row(self) -> dict[str, Any]:
        """The ``messages`` row."""
        return {
            "id": self.id,
            "sender_country": self.sender_country,
            "sender_agency": self.sender_agency,
            "token_id": self.token_id,
            "kind": self.kind,
            "priority": self.priority,
            "content_sha256": self.content_sha256,
            "body_ciphertext": self.body_ciphertext,
            "body_key_id": self.body_key_id,
            "received_at": self.received_at,
            "retention_until": self.retention_until,
            "response_json": json.dumps(self.response),
            "traceparent": self.traceparent,
            "trace_id": trace_id_of(self.traceparent),
            "case_ref_hash": self.case_ref_hash,
        }

    def audit(self) -> dict[str, Any]:
        """The ``message.accepted`` audit entry, as ``append_audit`` takes it."""
        return {
            "actor": self.actor,
            "action": "message.accepted",
            "subject": f"message:{self.id}",
            "details": {
                "sender_country": self.sender_country,
                "deliveries": [d.audited() for d in self.deliveries],
                **({} if self.signature is None else {"signed_with": self.signature.kid}),
            },
        }


@dataclass(frozen=True)
class Accepted:
    """What an accepted message is made of, before it is sealed into records."""

    message: CanonicalMessage
    raw: bytes
    digest: str
    identity: Identity
    traceparent: str | None
    signature: VerifiedSignature | None = None


def signature_summary(signed: VerifiedSignature) -> dict[str, str]:
    """The verified signature in the sender's answer (its JWS is in the trace)."""
    return {"kid": signed.kid, "alg": signed.alg, "verified_at": signed.verified_at.isoformat()}


def new_message(
    accepted: Accepted,
    plans: list[PlannedDelivery],
    *,
    keyring: Keyring,
    settings: Settings,
    now: datetime,
) -> NewMessage:
    """The records of an accepted message: the body and each payload sealed, each delivery
    in its first state with its channel's deadline."""
    message = accepted.message
    message_id = str(message.message_id)
    body_key, body_blob = keyring.encrypt(accepted.raw, aad=message_aad(message_id))
    rank = PRIORITY_RANK[str(message.effective_priority)]
    deliveries = tuple(
        _new_delivery(plan, message_id, rank, keyring=keyring, settings=settings, now=now)
        for plan in plans
    )
    return NewMessage(
        id=message_id,
        sender_country=message.sender.country,
        sender_agency=message.sender.agency,
        token_id=accepted.identity.token_id,
        actor=accepted.identity.actor,
        kind=str(message.kind),
        priority=str(message.effective_priority),
        content_sha256=accepted.digest,
        body_key_id=body_key,
        body_ciphertext=body_blob,
        received_at=now,
        retention_until=message.handling.retention_until,
        traceparent=accepted.traceparent,
        deliveries=deliveries,
        case_ref_hash=case_reference_hash(
            keyring, message.case.reference if message.case else None
        ),
        signature=accepted.signature,
    )


def _new_delivery(
    plan: PlannedDelivery,
    message_id: str,
    rank: int,
    *,
    keyring: Keyring,
    settings: Settings,
    now: datetime,
) -> NewDelivery:
    delivery_id = str(uuid.uuid4())
    channel_settings = settings.channel(plan.channel)
    deadline_s = channel_settings.retry.deadline_s if channel_settings else FALLBACK_DEADLINE_S
    return NewDelivery(
        id=delivery_id,
        message_id=message_id,
        plan=plan,
        state=initial_state(plan.decision),
        priority_rank=rank,
        created_at=now,
        deadline_at=now + timedelta(seconds=deadline_s),
        payload=None
        if plan.payload is None
        else SealedPayload.seal(plan.payload, delivery_id, keyring),
    )
