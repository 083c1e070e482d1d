"""Intake: validate → decide → render → store, in one place.

``plan_deliveries`` is the pure part (no I/O) shared by intake and the dry run;
``IntakeService.accept`` adds authentication checks, idempotency and the one durable transaction
after which the 202 is sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from adapters.base import Adapter, Payload
from adapters.errors import RenderError
from gateway.policy import apply_redactions
from gateway.policy.decision import Decision
from gateway.schema import (
    CanonicalMessage,
    DerivedFacts,
    Destination,
    MessageInvalid,
    Violation,
    derive_facts,
    parse_message,
)
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.store.crypto import Keyring, message_aad, payload_aad
from gateway.store.states import PRIORITY_RANK, DeliveryState, derive_message_status
from gateway.store.tables import deliveries, messages, utcnow
from gateway.store.wakeup import announce_new_deliveries, deliveries_stored
from gateway.telemetry import (
    current_traceparent,
    intake_span,
    log_event,
    record_planned,
    set_attributes,
    stage_span,
)
from gateway.telemetry.metrics import count_refusal

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.store.engine import Store


log = logging.getLogger("gateway.intake")


class Decider(Protocol):
    """What intake needs of the policy engine."""

    def decide(
        self,
        message: CanonicalMessage,
        facts: DerivedFacts,
        destination: Destination,
        *,
        recipients: tuple[str, ...],
    ) -> Decision: ...


class AdapterLookup(Protocol):
    """What intake needs of the adapter registry."""

    def get(self, name: str) -> Adapter: ...

    def names(self) -> list[str]: ...


@dataclass(frozen=True)
class PlannedDelivery:
    """One delivery the message asks for: its decision and, unless denied, its payload."""

    channel: str
    recipient: str | None
    product: str
    decision: Decision
    payload: Payload | None
    render_problems: tuple[Violation, ...] = ()


class IntakeRefused(Exception):
    """The request is refused; nothing was stored. Maps to one HTTP status and error code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        violations: Iterable[Violation] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.violations = list(violations)


@dataclass(frozen=True)
class IntakeAnswer:
    status: int  # 202 new, 200 replay of the original answer
    body: dict[str, Any] = field(default_factory=dict)


def content_hash(raw: bytes) -> str:
    """Hash of the message's content, independent of key order and white space."""
    canonical = json.dumps(
        json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_destinations(message: CanonicalMessage, registry: AdapterLookup) -> list[Violation]:
    """Every named channel is registered and every product is one the channel offers."""
    problems: list[Violation] = []
    known = set(registry.names())
    for index, destination in enumerate(message.destinations):
        path = f"$.destinations[{index}]"
        if destination.channel not in known:
            problems.append(
                Violation(
                    f"{path}.channel",
                    "unknown_channel",
                    f"no adapter is registered for this channel; known: {', '.join(sorted(known))}",
                )
            )
            continue
        adapter = registry.get(destination.channel)
        if destination.product is not None and destination.product not in adapter.products:
            problems.append(
                Violation(
                    f"{path}.product",
                    "unknown_product",
                    f"the channel offers: {', '.join(adapter.products)}",
                )
            )
    return problems


def plan_deliveries(
    message: CanonicalMessage,
    facts: DerivedFacts,
    *,
    engine: Decider,
    registry: AdapterLookup,
) -> list[PlannedDelivery]:
    """Decide and render every requested delivery; pure (no storage, no network)."""
    plans: list[PlannedDelivery] = []
    for index, destination in enumerate(message.destinations):
        adapter = registry.get(destination.channel)
        product = destination.product or adapter.default_product
        recipients = tuple(destination.to or ())
        groups: list[tuple[str, ...]] = (
            [(r,) for r in recipients] if adapter.per_recipient and recipients else [recipients]
        )
        for group in groups:
            recipient = group[0] if adapter.per_recipient and group else None
            decision = engine.decide(message, facts, destination, recipients=group)
            payload: Payload | None = None
            problems: tuple[Violation, ...] = ()
            error_type: str | None = None
            if decision.outcome != "deny":
                try:
                    payload = adapter.render(
                        apply_redactions(message, decision), decision, recipient=recipient
                    )
                except RenderError as exc:
                    error_type = type(exc).__name__
                    problems = tuple(
                        Violation(
                            f"$.destinations[{index}]" if not p.startswith("$") else p,
                            "not_renderable",
                            f"{destination.channel}: {text}",
                        )
                        for p, text in (exc.violations or [("", str(exc))])
                    )
            # An event on the intake span, not a span per delivery: spans were a measurable
            # share of intake's CPU; the event's time marks when this delivery was planned.
            record_planned(
                **{
                    "marri.channel": destination.channel,
                    "marri.recipient": recipient,
                    "marri.decision.outcome": decision.outcome,
                    "marri.decision.rules": [f.rule for f in decision.findings],
                    "marri.payload.size": len(payload.body) if payload is not None else None,
                    "error.type": error_type,
                }
            )
            plans.append(
                PlannedDelivery(
                    destination.channel, recipient, product, decision, payload, problems
                )
            )
    return plans


def _decision_view(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome,
        "findings": [f.as_dict() for f in decision.findings],
        "redacted": list(decision.redacted),
    }


def _initial_state(decision: Decision) -> DeliveryState:
    if decision.outcome == "deny":
        return DeliveryState.BLOCKED
    if decision.outcome == "review":
        return DeliveryState.HELD
    return DeliveryState.QUEUED


class IntakeService:
    """Accepts canonical messages durably; one instance per process."""

    def __init__(
        self,
        *,
        store: Store,
        keyring: Keyring,
        engine: Decider,
        registry: AdapterLookup,
        settings: Settings,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.engine = engine
        self.registry = registry
        self.settings = settings

    def validate(self, raw: bytes, *, today: date | None = None) -> CanonicalMessage:
        """Parse and check the message against the schema and the registered channels."""
        try:
            message = parse_message(raw, today=today, max_depth=self.settings.max_json_depth)
        except MessageInvalid as exc:
            raise IntakeRefused(
                422, "invalid_message", "the message does not match the schema", exc.violations
            ) from None
        problems = check_destinations(message, self.registry)
        if problems:
            raise IntakeRefused(422, "invalid_destination", "a destination is not usable", problems)
        return message

    async def accept(
        self, raw: bytes, identity: Identity, *, traceparent: str | None = None
    ) -> IntakeAnswer:
        """Accept in one SERVER span; its context (not the caller's) is stored as traceparent."""
        with intake_span(traceparent) as span:
            try:
                answer = await self._accept(raw, identity, current_traceparent())
            except IntakeRefused as exc:
                count_refusal(exc.code)
                refusal = {"marri.refusal.code": exc.code, "marri.violations": len(exc.violations)}
                set_attributes(span, **{"marri.intake.outcome": "refused"}, **refusal)
                log_event(log, logging.INFO, "intake.refused", **refusal)
                raise
            outcome = "accepted" if answer.status == 202 else "replayed"
            facts = {
                "marri.message.id": answer.body.get("message_id"),
                "marri.deliveries": len(answer.body.get("deliveries", [])),
            }
            set_attributes(span, **{"marri.intake.outcome": outcome}, **facts)
            log_event(log, logging.INFO, f"intake.{outcome}", **facts)
            return answer

    async def _accept(
        self, raw: bytes, identity: Identity, traceparent: str | None
    ) -> IntakeAnswer:
        with stage_span("validate"):
            message = self.validate(raw)
        if message.sender.country != identity.country:
            raise IntakeRefused(
                403,
                "sender_country_mismatch",
                "sender.country is not the country this token was issued for",
                [Violation("$.sender.country", "forbidden", "must be the token's country")],
            )
        digest = content_hash(raw)
        message_id = str(message.message_id)

        # Repeats are rare: the insert finds them by the primary key (``_store_new``) rather
        # than a read before planning that every new message would pay for.
        facts = derive_facts(message)
        plans = plan_deliveries(message, facts, engine=self.engine, registry=self.registry)
        problems = [p for plan in plans for p in plan.render_problems]
        if problems:
            # A repeat still gets its original answer, even if the rules changed meanwhile.
            existing = await self.store.read(lambda conn: _find_existing(conn, message_id))
            if existing is not None:
                return _replay(existing, digest)
            raise IntakeRefused(
                422,
                "not_renderable",
                "a destination's profile cannot express the message",
                problems,
            )

        records = self._records(message, raw, digest, identity, plans, traceparent)
        try:
            with stage_span("commit", **{"marri.deliveries": len(records.deliveries)}):
                await self.store.write(lambda conn: _store_new(conn, records))
        except IntegrityError:
            # Stored before, or by a concurrent request with the same message_id.
            stored = await self.store.read(lambda conn: _find_existing(conn, message_id))
            if stored is None:
                raise
            return _replay(stored, digest)
        if records.deliveries:
            deliveries_stored()  # wakes this process's worker now, not at its next poll
        return IntakeAnswer(202, records.response)

    def _records(
        self,
        message: CanonicalMessage,
        raw: bytes,
        digest: str,
        identity: Identity,
        plans: list[PlannedDelivery],
        traceparent: str | None,
    ) -> _Records:
        now = utcnow()
        message_id = str(message.message_id)
        body_key, body_blob = self.keyring.encrypt(raw, aad=message_aad(message_id))
        rank = PRIORITY_RANK[str(message.effective_priority)]
        delivery_rows: list[dict[str, Any]] = []
        delivery_views: list[dict[str, Any]] = []
        for plan in plans:
            delivery_id = str(uuid.uuid4())
            state = _initial_state(plan.decision)
            channel_settings = self.settings.channel(plan.channel)
            deadline_s = channel_settings.retry.deadline_s if channel_settings else 24 * 3600.0
            row: dict[str, Any] = {
                "id": delivery_id,
                "message_id": message_id,
                "channel": plan.channel,
                "recipient": plan.recipient,
                "product": plan.product,
                "state": state.value,
                "priority_rank": rank,
                "decision_outcome": plan.decision.outcome,
                "findings_json": json.dumps([f.as_dict() for f in plan.decision.findings]),
                "redacted_json": json.dumps(list(plan.decision.redacted)),
                "pack_hash": plan.decision.pack_hash,
                "idempotency_key": f"{message_id}:{plan.channel}:{plan.recipient or '-'}",
                "attempts": 0,
                "next_attempt_at": now if state is DeliveryState.QUEUED else None,
                "deadline_at": now + timedelta(seconds=deadline_s),
                "created_at": now,
                "updated_at": now,
                # Every row names the same columns: one executemany insert needs that when a
                # blocked delivery (no payload) sits beside rendered ones.
                "payload_ciphertext": None,
                "payload_key_id": None,
                "payload_sha256": None,
                "payload_size": None,
                "content_type": None,
                "payload_headers_json": None,
            }
            view: dict[str, Any] = {
                "id": delivery_id,
                "channel": plan.channel,
                "recipient": plan.recipient,
                "product": plan.product,
                "state": state.value,
                "decision": _decision_view(plan.decision),
            }
            if plan.payload is not None:
                key_id, blob = self.keyring.encrypt(plan.payload.body, aad=payload_aad(delivery_id))
                sha = hashlib.sha256(plan.payload.body).hexdigest()
                row |= {
                    "payload_ciphertext": blob,
                    "payload_key_id": key_id,
                    "payload_sha256": sha,
                    "payload_size": len(plan.payload.body),
                    "content_type": plan.payload.content_type,
                    "payload_headers_json": json.dumps(dict(plan.payload.headers)),
                }
                view |= {"payload_sha256": sha, "payload_size": len(plan.payload.body)}
            delivery_rows.append(row)
            delivery_views.append(view)

        trace_id = (
            traceparent.split("-")[1] if traceparent and traceparent.count("-") == 3 else None
        )
        response = {
            "message_id": message_id,
            "status": derive_message_status([r["state"] for r in delivery_rows]).value,
            "received_at": now.isoformat(),
            "deliveries": delivery_views,
            "links": {
                "self": f"/v1/messages/{message_id}",
                "trace": f"/v1/messages/{message_id}/trace",
            },
            "trace_id": trace_id,
        }
        message_row = {
            "id": message_id,
            "sender_country": message.sender.country,
            "sender_agency": message.sender.agency,
            "token_id": identity.token_id,
            "kind": str(message.kind),
            "priority": str(message.effective_priority),
            "content_sha256": digest,
            "body_ciphertext": body_blob,
            "body_key_id": body_key,
            "received_at": now,
            "retention_until": message.handling.retention_until,
            "response_json": json.dumps(response),
            "traceparent": traceparent,
            "trace_id": trace_id,
        }
        audit = {
            "actor": identity.actor,
            "action": "message.accepted",
            "subject": f"message:{message_id}",
            "details": {
                "sender_country": message.sender.country,
                "deliveries": [
                    {
                        "id": v["id"],
                        "channel": v["channel"],
                        "recipient": v["recipient"],
                        "outcome": v["decision"]["outcome"],
                        "rules": [f["rule"] for f in v["decision"]["findings"]],
                    }
                    for v in delivery_views
                ],
            },
        }
        return _Records(message_row, delivery_rows, audit, response)


@dataclass(frozen=True)
class _Records:
    message: dict[str, Any]
    deliveries: list[dict[str, Any]]
    audit: dict[str, Any]
    response: dict[str, Any]


@dataclass(frozen=True)
class _Existing:
    content_sha256: str
    response_json: str


def _find_existing(conn: Connection, message_id: str) -> _Existing | None:
    row = conn.execute(
        select(messages.c.content_sha256, messages.c.response_json).where(
            messages.c.id == message_id
        )
    ).first()
    return None if row is None else _Existing(row.content_sha256, row.response_json)


def _store_new(conn: Connection, records: _Records) -> None:
    """Insert everything in the caller's transaction.

    A message that is already there fails on its primary key (IntegrityError): the caller
    then reads the stored answer. Checking first would cost every new message a query.
    """
    conn.execute(messages.insert(), records.message)
    if records.deliveries:
        conn.execute(deliveries.insert(), records.deliveries)
        announce_new_deliveries(conn)
    append_audit(conn, **records.audit)


def _replay(existing: _Existing, digest: str) -> IntakeAnswer:
    if existing.content_sha256 != digest:
        raise IntakeRefused(
            409,
            "message_id_conflict",
            "this message_id was already used for a message with different content",
        )
    body: dict[str, Any] = json.loads(existing.response_json)
    return IntakeAnswer(200, body)
