"""The tables of signatures: agencies' public keys, each signed message's JWS, and the
gateway's signed evidence of each ended delivery.

They share the store's one ``metadata``; ``gateway.store`` imports this module, so the
migrations and the table comparison always see them.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from gateway.store.tables import BigId, UTCDateTime, metadata

# Sender agencies' public signing keys (JWK sets); never deleted, so old signatures keep theirs.
sender_keys = Table(
    "sender_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("country", String(2), nullable=False),
    Column("agency", String(200), nullable=False),
    Column("kid", String(64), nullable=False),
    Column("alg", String(8), nullable=False),
    Column("jwk_json", Text, nullable=False),
    Column("thumbprint", String(64), nullable=False),
    Column("not_before", UTCDateTime, nullable=False),
    Column("not_after", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    UniqueConstraint("country", "agency", "kid"),
)

# The sender's verified detached JWS of a message (header and signature only, no content).
message_signatures = Table(
    "message_signatures",
    metadata,
    Column("message_id", String(36), ForeignKey("messages.id"), primary_key=True),
    Column("key_id", String(36), ForeignKey("sender_keys.id"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("agency", String(200), nullable=False),
    Column("kid", String(64), nullable=False),
    Column("alg", String(8), nullable=False),
    Column("jws", Text, nullable=False),
    Column("verified_at", UTCDateTime, nullable=False),
)


# A signed evidence record per ended delivery (delivered, failed), written in the transaction
# that ended it: a compact JWS over ids, hashes, the receipt and the decision; no personal data.
# A re-driven delivery that ends again gets another row.
evidence = Table(
    "evidence",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.id"), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("record_jws", Text, nullable=False),
    Index(None, "delivery_id"),
)
