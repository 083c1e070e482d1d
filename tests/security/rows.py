"""Sealed message and delivery rows written straight to the store, for tests that need data
without going through intake."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from gateway.store.crypto import Keyring, message_aad, payload_aad
from gateway.store.engine import Store
from gateway.store.tables import deliveries, messages, utcnow


@dataclass(frozen=True)
class StoredMessage:
    id: str
    body: bytes
    delivery_ids: tuple[str, ...]
    payloads: tuple[bytes, ...]


def store_message(
    store: Store,
    keyring: Keyring,
    *,
    country: str = "AL",
    states: tuple[str, ...] = ("delivered",),
    retention_until: date | None = None,
    updated_at: datetime | None = None,
) -> StoredMessage:
    message_id = str(uuid.uuid4())
    body = json.dumps({"message_id": message_id, "subject": f"case {message_id[:8]}"}).encode()
    now = utcnow()
    key_id, blob = keyring.encrypt(body, aad=message_aad(message_id))
    message_row = {
        "id": message_id,
        "sender_country": country,
        "sender_agency": f"agency {country}",
        "token_id": None,
        "kind": "request",
        "priority": "routine",
        "content_sha256": hashlib.sha256(body).hexdigest(),
        "body_ciphertext": blob,
        "body_key_id": key_id,
        "received_at": now,
        "retention_until": retention_until,
        "response_json": "{}",
    }
    delivery_rows = []
    payloads = []
    for index, state in enumerate(states):
        delivery_id = str(uuid.uuid4())
        payload = f"<payload n='{index}'>{message_id}</payload>".encode()
        payloads.append(payload)
        pkey, pblob = keyring.encrypt(payload, aad=payload_aad(delivery_id))
        delivery_rows.append(
            {
                "id": delivery_id,
                "message_id": message_id,
                "channel": f"channel{index}",
                "recipient": None,
                "product": "product",
                "state": state,
                "priority_rank": 2,
                "decision_outcome": "allow",
                "findings_json": "[]",
                "redacted_json": "[]",
                "pack_hash": "0" * 64,
                "payload_ciphertext": pblob,
                "payload_key_id": pkey,
                "payload_sha256": hashlib.sha256(payload).hexdigest(),
                "payload_size": len(payload),
                "idempotency_key": f"{message_id}:channel{index}:-",
                "attempts": 0,
                "next_attempt_at": now if state in ("queued", "retry_wait") else None,
                "created_at": now,
                "updated_at": updated_at or now,
            }
        )

    def write(conn):  # type: ignore[no-untyped-def]
        conn.execute(messages.insert().values(message_row))
        if delivery_rows:
            conn.execute(deliveries.insert(), delivery_rows)

    store.write_sync(write)
    return StoredMessage(message_id, body, tuple(r["id"] for r in delivery_rows), tuple(payloads))
