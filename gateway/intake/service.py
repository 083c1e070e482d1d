"""Accepting a message: validate, plan, and store it in one durable transaction.

``IntakeService.accept`` adds to the plan the authentication checks, idempotency and the one
transaction after which the 202 is sent. Every refusal is a ``GatewayError``; nothing is
stored when one is raised.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from adapters.base import PayloadSigner
from gateway.errors import ErrorKind, GatewayError
from gateway.intake.plan import AdapterLookup, Decider, check_destinations, plan_deliveries
from gateway.intake.records import Accepted, new_message
from gateway.intake.store import StoredAnswer, find_stored, store_new
from gateway.schema import CanonicalMessage, MessageInvalid, Violation, derive_facts, parse_message
from gateway.security.identity import Identity
from gateway.security.sender_keys import find_signing_key
from gateway.security.sender_signature import (
    SignatureClaim,
    VerifiedSignature,
    read_claim,
    refused,
    verify_claim,
)
from gateway.store.crypto import Keyring
from gateway.store.facts import LivePolicy
from gateway.store.tables import utcnow
from gateway.store.wakeup import deliveries_stored
from gateway.telemetry import (
    current_traceparent,
    intake_span,
    log_event,
    set_attributes,
    stage_span,
)
from gateway.telemetry.metrics import count_refusal

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.store.engine import Store


log = logging.getLogger("gateway.intake")


@dataclass(frozen=True)
class IntakeAnswer:
    """The HTTP status and body the sender gets, the same again for a replayed message."""

    status: int  # 202 new, 200 replay of the original answer
    body: dict[str, Any] = field(default_factory=dict)


def content_hash(raw: bytes) -> str:
    """Hash of the message's content, independent of key order and white space."""
    canonical = json.dumps(
        json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sender_country_mismatch() -> GatewayError:
    """A sender token used for a message from another country."""
    return GatewayError(
        ErrorKind.FORBIDDEN,
        "sender_country_mismatch",
        "sender.country is not the country this token was issued for",
        [Violation("$.sender.country", "forbidden", "must be the token's country")],
    )


def not_renderable(problems: Iterable[Violation]) -> GatewayError:
    """A destination whose profile cannot express the message."""
    return GatewayError(
        ErrorKind.UNPROCESSABLE,
        "not_renderable",
        "a destination's profile cannot express the message",
        problems,
    )


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
        policy: LivePolicy | None = None,
        signer: PayloadSigner | None = None,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.engine = engine
        self.registry = registry
        self.settings = settings
        # Follows the facts legal officers change in the database; without it, the shipped ones.
        self.policy = policy
        # Signs every rendered payload before it is stored (None: unsigned).
        self.signer = signer

    async def current_engine(self) -> Decider:
        """The engine for the newest facts (one indexed read when they did not move)."""
        return self.engine if self.policy is None else await self.policy.engine(self.store)

    def validate(self, raw: bytes, *, today: date | None = None) -> CanonicalMessage:
        """Parse and check the message against the schema and the registered channels."""
        try:
            message = parse_message(raw, today=today, max_depth=self.settings.max_json_depth)
        except MessageInvalid as exc:
            raise GatewayError(
                ErrorKind.UNPROCESSABLE,
                "invalid_message",
                "the message does not match the schema",
                exc.violations,
            ) from None
        problems = check_destinations(message, self.registry)
        if problems:
            raise GatewayError(
                ErrorKind.UNPROCESSABLE,
                "invalid_destination",
                "a destination is not usable",
                problems,
            )
        return message

    async def accept(
        self,
        raw: bytes,
        identity: Identity,
        *,
        traceparent: str | None = None,
        signature: str | None = None,
    ) -> IntakeAnswer:
        """Accept in one SERVER span; its context (not the caller's) is stored as traceparent.

        ``signature``: the sender's detached JWS over ``raw``, as the request header carried it.
        """
        with intake_span(traceparent) as span:
            try:
                answer = await self._accept(raw, identity, current_traceparent(), signature)
            except GatewayError as exc:
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

    def signature_claim(self, signature: str | None) -> SignatureClaim | None:
        """The signature's structure, checked before the body is read; None when unsigned
        (refused when this gateway requires signatures)."""
        if signature is None:
            if self.settings.sender_signatures == "required":
                raise refused("signature_required")
            return None
        return read_claim(signature)

    async def verify_signature(
        self, claim: SignatureClaim, raw: bytes, message: CanonicalMessage
    ) -> VerifiedSignature:
        """Verify with the declared sender agency's key: no other agency's key is consulted."""
        country, agency = message.sender.country, message.sender.agency
        key = await self.store.read(lambda conn: find_signing_key(conn, country, agency, claim.kid))
        return verify_claim(claim, key, raw, now=utcnow())

    async def _accept(
        self, raw: bytes, identity: Identity, traceparent: str | None, signature: str | None
    ) -> IntakeAnswer:
        claim = self.signature_claim(signature)
        with stage_span("validate"):
            message = self.validate(raw)
        if message.sender.country != identity.country:
            raise sender_country_mismatch()
        # Before any look at stored messages: a replayed message_id is verified like a new one.
        verified = None
        if claim is not None:
            with stage_span("verify_signature"):
                verified = await self.verify_signature(claim, raw, message)
        digest = content_hash(raw)
        message_id = str(message.message_id)

        # Repeats are rare: the insert finds them by the primary key (``store_new``) rather
        # than a read before planning that every new message would pay for.
        facts = derive_facts(message)
        engine = await self.current_engine()
        plans = plan_deliveries(
            message,
            facts,
            engine=engine,
            registry=self.registry,
            on=utcnow().date(),
            signer=self.signer,
        )
        for plan in plans:
            log_event(
                log,
                logging.INFO,
                "intake.decided",
                **{
                    "marri.message.id": message_id,
                    "marri.channel": plan.channel,
                    "marri.recipient": plan.recipient,
                    "marri.decision.outcome": plan.decision.outcome,
                    "marri.decision.rules": [f.rule for f in plan.decision.findings],
                },
            )
        problems = [p for plan in plans for p in plan.render_problems]
        if problems:
            # A repeat still gets its original answer, even if the rules changed meanwhile.
            existing = await self.store.read(lambda conn: find_stored(conn, message_id))
            if existing is not None:
                return _replay(existing, digest)
            raise not_renderable(problems)

        record = new_message(
            Accepted(message, raw, digest, identity, traceparent, verified),
            plans,
            keyring=self.keyring,
            settings=self.settings,
            now=utcnow(),
        )
        try:
            with stage_span("commit", **{"marri.deliveries": len(record.deliveries)}):
                await self.store.write(lambda conn: store_new(conn, record))
        except IntegrityError:
            # Stored before, or by a concurrent request with the same message_id.
            stored = await self.store.read(lambda conn: find_stored(conn, message_id))
            if stored is None:
                raise
            return _replay(stored, digest)
        if record.deliveries:
            deliveries_stored()  # wakes this process's worker now, not at its next poll
        return IntakeAnswer(202, record.response)


def _replay(existing: StoredAnswer, digest: str) -> IntakeAnswer:
    if existing.content_sha256 != digest:
        raise GatewayError(
            ErrorKind.CONFLICT,
            "message_id_conflict",
            "this message_id was already used for a message with different content",
        )
    body: dict[str, Any] = json.loads(existing.response_json)
    return IntakeAnswer(200, body)
