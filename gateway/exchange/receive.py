"""Storing answers from channels: accept means stored, idempotent on the channel's message id.

A pushed answer is authenticated as its channel (the channel's own credential or a client
certificate named for it, never a sender's token), parsed by the channel's adapter (hardened
parser, inbound schema), correlated, made canonical and stored in one transaction before the
channel gets its answer. The same channel message id with the same bytes gets the original
answer again; with other bytes it is a conflict. An answer that matches nothing is stored all
the same, flagged ``unmatched`` for operators.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from adapters.inbound import InboundError, InboundMessage, InboundReceiver, inbound_mode
from gateway.errors import ErrorKind, GatewayError
from gateway.exchange.canonical import CanonicalReply, build_reply
from gateway.exchange.correlate import Correlation, correlate
from gateway.exchange.hooks import ReplyStored, on_reply_stored
from gateway.schema import Violation
from gateway.security.audit import append_audit
from gateway.security.mtls import certificate_names
from gateway.store.crypto import Keyring, message_aad
from gateway.store.tables import inbound_messages, messages, utcnow
from gateway.telemetry import log_event

if TYPE_CHECKING:
    from adapters._codes import CodeTable
    from gateway.config import Settings
    from gateway.store.engine import Store

__all__ = ["InboundAnswer", "InboundService", "inbound_aad", "reply_aad"]

log = logging.getLogger("gateway.exchange")

_PROBLEM_KINDS = {
    "malformed": ErrorKind.INVALID,
    "too_large": ErrorKind.TOO_LARGE,
    "schema_invalid": ErrorKind.UNPROCESSABLE,
}


def inbound_aad(inbound_id: str) -> bytes:
    """Associated data sealing a raw inbound body: a blob cannot be moved to another row."""
    return b"marri:inbound:" + inbound_id.encode("ascii")


def reply_aad(inbound_id: str) -> bytes:
    """Associated data sealing a canonical reply, distinct from the raw body's."""
    return b"marri:reply:" + inbound_id.encode("ascii")


class ChannelLookup(Protocol):
    """What the service needs of the adapter registry."""

    def get(self, name: str) -> Any: ...

    def names(self) -> list[str]: ...

    def entry(self, name: str) -> Any: ...


@dataclass(frozen=True)
class InboundAnswer:
    """What the channel is told: ``new`` False when this is a repeat of a stored answer."""

    new: bool
    body: dict[str, Any]


@dataclass(frozen=True)
class _Prepared:
    row: dict[str, Any]
    stored: ReplyStored


class InboundService:
    """Receives answers for every channel; one instance per process."""

    def __init__(
        self, *, store: Store, keyring: Keyring, registry: ChannelLookup, settings: Settings
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.registry = registry
        self.settings = settings

    def receiver(self, channel: str) -> InboundReceiver:
        """The adapter of a channel that pushes its answers; NOT_FOUND for any other."""
        if channel not in self.registry.names():
            raise GatewayError(ErrorKind.NOT_FOUND, "unknown_channel", "no such channel")
        adapter = self.registry.get(channel)
        if inbound_mode(adapter) != "push":
            raise GatewayError(
                ErrorKind.NOT_FOUND, "no_push_inbound", "this channel does not push answers"
            )
        receiver: InboundReceiver = adapter
        return receiver

    def max_bytes(self, channel: str) -> int:
        """The largest inbound body the channel may send; 1 MiB when it is not configured."""
        settings = self.settings.channel(channel)
        return settings.inbound_max_bytes if settings is not None else 1_048_576

    def authenticate(
        self, channel: str, authorization: str | None, client_cert_pem: str | None
    ) -> None:
        """Admit only the channel itself: its configured credential or certificate."""
        settings = self.settings.channel(channel)
        if (
            client_cert_pem is not None
            and settings is not None
            and set(certificate_names(client_cert_pem)) & set(settings.inbound_cert_names)
        ):
            return
        scheme, _, credential = (authorization or "").partition(" ")
        expected = settings.inbound_token if settings is not None else None
        if expected is None and not (settings and settings.inbound_cert_names):
            raise GatewayError(
                ErrorKind.UNAUTHENTICATED,
                "inbound_not_configured",
                "no credential is configured for answers from this channel",
            )
        if (
            expected is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(
                hashlib.sha256(credential.strip().encode()).digest(),
                hashlib.sha256(expected.get_secret_value().encode()).digest(),
            )
        ):
            return
        raise GatewayError(
            ErrorKind.UNAUTHENTICATED,
            "bad_channel_credential",
            "answers from this channel need its own credential",
        )

    async def receive_push(
        self, channel: str, body: bytes, headers: Mapping[str, str]
    ) -> InboundAnswer:
        """Parse one pushed answer and store it; GatewayError for what cannot be read."""
        adapter = self.receiver(channel)
        try:
            answer = adapter.parse_inbound(body, headers)
        except InboundError as exc:
            violations = [_violation(p, exc.problem) for p in exc.problems]
            raise GatewayError(
                _PROBLEM_KINDS[exc.problem], f"inbound_{exc.problem}", str(exc), violations
            ) from None
        return await self.store_answer(channel, answer, raw=body, via="push")

    async def store_answer(
        self, channel: str, answer: InboundMessage, *, raw: bytes, via: str
    ) -> InboundAnswer:
        """Store ``answer`` (durably, once per channel message id) and say what became of it."""
        if answer.channel != channel or not answer.channel_message_id:
            raise GatewayError(ErrorKind.UNPROCESSABLE, "inbound_schema_invalid",
                               "the answer names no message id of this channel")  # fmt: skip
        digest = hashlib.sha256(raw).hexdigest()
        key = answer.channel_message_id
        existing = await self.store.read(lambda conn: _find(conn, channel, key))
        if existing is not None:
            return _replay(existing, digest)
        prepared = await self.store.read(lambda conn: self._prepare(conn, answer, raw, digest, via))
        try:
            await self.store.write(lambda conn: _insert(conn, prepared))
        except IntegrityError:
            stored = await self.store.read(lambda conn: _find(conn, channel, key))
            if stored is None:
                raise
            return _replay(stored, digest)
        log_event(log, logging.INFO, "inbound.stored", **{"marri.channel": channel})
        return InboundAnswer(new=True, body=json.loads(prepared.row["response_json"]))

    def _prepare(
        self, conn: Connection, answer: InboundMessage, raw: bytes, digest: str, via: str
    ) -> _Prepared:
        channel = answer.channel
        inbound_id = str(uuid.uuid4())
        now = utcnow()
        match = correlate(
            conn, channel, [answer.in_reply_to, answer.channel_reference], answer.from_country
        )
        reply = self._canonical(conn, answer, match, now) if match is not None else None
        status = (
            "unmatched" if match is None else "matched" if reply and reply.message else "invalid"
        )
        reply_id = reply.message["message_id"] if reply and reply.message else None
        unmapped = len(reply.unmapped) if reply else 0
        body_key, body_blob = self.keyring.encrypt(raw, aad=inbound_aad(inbound_id))
        reply_key = reply_blob = None
        if reply is not None:
            document = {
                "message": reply.message,
                "unmapped": [u.as_dict() for u in reply.unmapped],
                "problems": list(reply.problems),
            }
            sealed = json.dumps(document, ensure_ascii=False).encode("utf-8")
            reply_key, reply_blob = self.keyring.encrypt(sealed, aad=reply_aad(inbound_id))
        response = {
            "inbound_id": inbound_id,
            "channel": channel,
            "channel_message_id": answer.channel_message_id,
            "status": status,
            "message_id": match.message_id if match else None,
            "delivery_id": match.delivery_id if match else None,
            "reply_id": reply_id,
            "unmapped_codes": unmapped,
            "received_at": now.isoformat(),
        }
        row = {
            "id": inbound_id,
            "channel": channel,
            "channel_message_id": answer.channel_message_id,
            "via": via,
            "content_sha256": digest,
            "received_at": now,
            "status": status,
            "message_id": match.message_id if match else None,
            "delivery_id": match.delivery_id if match else None,
            "sender_country": match.sender_country if match else None,
            "channel_reference": answer.channel_reference,
            "in_reply_to": answer.in_reply_to,
            "unmapped_codes": unmapped,
            "body_ciphertext": body_blob,
            "body_key_id": body_key,
            "reply_ciphertext": reply_blob,
            "reply_key_id": reply_key,
            "response_json": json.dumps(response),
            # Unmatched, it belongs to no message whose purge would take it: its own date.
            "expires_at": (
                now + timedelta(days=self.settings.retention_unmatched_answer_days)
                if status == "unmatched"
                else None
            ),
        }
        stored = ReplyStored(
            inbound_id=inbound_id,
            channel=channel,
            channel_message_id=answer.channel_message_id,
            status=status,
            received_at=now,
            reply_id=reply_id,
            message_id=match.message_id if match else None,
            delivery_id=match.delivery_id if match else None,
            sender_country=match.sender_country if match else None,
            unmapped_codes=unmapped,
        )
        return _Prepared(row, stored)

    def _canonical(
        self, conn: Connection, answer: InboundMessage, match: Correlation, now: Any
    ) -> CanonicalReply:
        original = conn.execute(
            select(messages.c.body_ciphertext, messages.c.body_key_id).where(
                messages.c.id == match.message_id
            )
        ).one()
        if original.body_ciphertext is None:
            return CanonicalReply(None, (), ("$: the original message's content was purged",))
        plain = self.keyring.decrypt(
            original.body_key_id, original.body_ciphertext, aad=message_aad(match.message_id)
        )
        adapter = self.registry.get(answer.channel)
        codes: CodeTable = self.registry.entry(answer.channel).codes
        return build_reply(
            answer,
            json.loads(plain),
            codes,
            reply_id=str(uuid.uuid4()),
            received_at=now,
            seat_country=getattr(adapter, "seat_country", match.sender_country),
        )


def polled_bytes(answer: InboundMessage) -> bytes:
    """What is sealed for a polled answer (no raw bytes of its own): its fields as JSON."""
    return json.dumps(dataclasses.asdict(answer), default=str, sort_keys=True).encode("utf-8")


def _violation(problem_text: str, problem: str) -> Violation:
    path, _, rule = problem_text.partition(": ")
    return Violation(path or "/", problem, rule or problem_text)


@dataclass(frozen=True)
class _Existing:
    content_sha256: str
    response_json: str


def _find(conn: Connection, channel: str, channel_message_id: str) -> _Existing | None:
    row = conn.execute(
        select(inbound_messages.c.content_sha256, inbound_messages.c.response_json).where(
            inbound_messages.c.channel == channel,
            inbound_messages.c.channel_message_id == channel_message_id,
        )
    ).first()
    return None if row is None else _Existing(row.content_sha256, row.response_json)


def _replay(existing: _Existing, digest: str) -> InboundAnswer:
    if existing.content_sha256 != digest:
        raise GatewayError(
            ErrorKind.CONFLICT,
            "channel_message_id_conflict",
            "this channel message id was already used for an answer with different content",
        )
    return InboundAnswer(new=False, body=json.loads(existing.response_json))


def _insert(conn: Connection, prepared: _Prepared) -> None:
    """The answer, its audit entry and whatever the reply hooks write: one transaction."""
    conn.execute(inbound_messages.insert(), prepared.row)
    stored = prepared.stored
    append_audit(
        conn,
        actor=f"channel:{stored.channel}",
        action="reply.received" if stored.status == "matched" else f"inbound.{stored.status}",
        subject=f"inbound:{stored.inbound_id}",
        details={
            "channel": stored.channel,
            "status": stored.status,
            "message_id": stored.message_id,
            "delivery_id": stored.delivery_id,
            "unmapped_codes": stored.unmapped_codes,
        },
    )
    on_reply_stored(conn, stored)
