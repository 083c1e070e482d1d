"""Signed evidence that a delivery ended: the gateway's non-repudiation of receipt.

When the worker records a delivery as delivered or failed, the same transaction stores one
evidence record: a compact JWS (ES256, ``typ`` ``marri-evidence+jws``, ``kid`` naming the
gateway key) over a JSON object of ids and hashes, never personal data:

    delivery_id, message_id, sender_country, channel, recipient, product, outcome,
    payload {sha256, size, content_type}   the exact signed bytes that were sent
    receipt {reference, http_status, duplicate} | null, error {class, http_status} | null,
    decision {outcome, pack_hash, rules}, accepted_at, ended_at, attempts,
    key_id, issued_at

Anyone holding the gateway's published JWK set (``GET /v1/keys/signing``) verifies it with any
JOSE library; no gateway code is needed (docs/security.md shows how).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from joserfc import jws
from sqlalchemy import Connection, func, select

from gateway.security.signing_key import JWS_ALGORITHM, SigningKeys
from gateway.store.signature_tables import evidence
from gateway.store.tables import attempts, deliveries, messages

EVIDENCE_TYPE = "marri-evidence+jws"
EVIDENCE_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _receipt(row: Any) -> dict[str, Any] | None:
    if row.receipt_json is None:
        return None
    raw = json.loads(row.receipt_json)
    return {
        "reference": raw.get("reference"),
        "http_status": raw.get("http_status"),
        "duplicate": bool(raw.get("duplicate")),
    }


def evidence_claims(row: Any, *, key_id: str, now: datetime) -> dict[str, Any]:
    """What one ended delivery's record states, from its row as the ending left it."""
    delivered = row.state == "delivered"
    return {
        "evidence_version": EVIDENCE_VERSION,
        "delivery_id": row.id,
        "message_id": row.message_id,
        "sender_country": row.sender_country,
        "channel": row.channel,
        "recipient": row.recipient,
        "product": row.product,
        "outcome": row.state,
        "payload": {
            "sha256": row.payload_sha256,
            "size": row.payload_size,
            "content_type": row.content_type,
        },
        "receipt": _receipt(row) if delivered else None,
        "error": None
        if delivered
        else {"class": row.last_error_class, "http_status": row.last_http_status},
        "decision": {
            "outcome": row.decision_outcome,
            "pack_hash": row.pack_hash,
            "rules": [finding["rule"] for finding in json.loads(row.findings_json)],
        },
        "accepted_at": _iso(row.received_at),
        "ended_at": _iso(row.updated_at),
        "attempts": int(row.attempt_rows),
        "key_id": key_id,
        "issued_at": now.isoformat(),
    }


def sign_evidence(keys: SigningKeys, claims: dict[str, Any]) -> str:
    """The compact JWS over ``claims`` by the active key."""
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    header = {"alg": JWS_ALGORITHM, "kid": keys.active_id, "typ": EVIDENCE_TYPE}
    return str(jws.serialize_compact(header, payload.encode("ascii"), keys.active.jose_key()))


_ATTEMPT_ROWS = (
    select(func.count())
    .where(attempts.c.delivery_id == deliveries.c.id)
    .scalar_subquery()
    .label("attempt_rows")
)
_ENDED = select(
    deliveries,
    messages.c.sender_country,
    messages.c.received_at,
    _ATTEMPT_ROWS,
).join(messages, messages.c.id == deliveries.c.message_id)


def record_evidence(
    conn: Connection, keys: SigningKeys, delivery_ids: Sequence[str], *, now: datetime
) -> int:
    """Sign and store one record per ended delivery, in the caller's transaction."""
    if not delivery_ids:
        return 0
    rows = conn.execute(_ENDED.where(deliveries.c.id.in_(list(delivery_ids)))).all()
    records = [
        {
            "delivery_id": row.id,
            "message_id": row.message_id,
            "key_id": keys.active_id,
            "created_at": now,
            "record_jws": sign_evidence(keys, evidence_claims(row, key_id=keys.active_id, now=now)),
        }
        for row in rows
    ]
    if records:
        conn.execute(evidence.insert(), records)
    return len(records)


def evidence_of(conn: Connection, delivery_id: str) -> list[tuple[str, str, datetime]]:
    """A delivery's records, oldest first: (key id, JWS, when it was stored)."""
    query = (
        select(evidence.c.key_id, evidence.c.record_jws, evidence.c.created_at)
        .where(evidence.c.delivery_id == delivery_id)
        .order_by(evidence.c.id)
    )
    return [(row.key_id, row.record_jws, row.created_at) for row in conn.execute(query)]
