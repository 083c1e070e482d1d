"""The store's tables (SQLAlchemy Core), one schema for SQLite and PostgreSQL.

Times are stored as UTC. Bodies and payloads are stored encrypted (see ``crypto``); everything
else here is free of personal data so that it can be kept after a purge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite wants INTEGER PRIMARY KEY for its rowid alias; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both back ends (SQLite keeps naive text; we add the zone back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; a naive datetime is refused, since its zone cannot be known."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back as an aware UTC datetime, whatever the dialect kept."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sender_country", String(2), nullable=False),
    Column("sender_agency", String(200), nullable=False),
    Column("token_id", String(36), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("body_ciphertext", LargeBinary, nullable=True),
    Column("body_key_id", String(64), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("retention_until", Date, nullable=True),
    Column("purged_at", UTCDateTime, nullable=True),
    Column("response_json", Text, nullable=False),
    Column("traceparent", String(64), nullable=True),
    Column("trace_id", String(32), nullable=True),
    # HMAC of the case reference (``gateway.security.lookup``), never the reference itself.
    Column("case_ref_hash", String(64), nullable=True),
    Index(None, "received_at", "id"),
    Index(None, "trace_id"),
    Index(None, "case_ref_hash"),
    Index(None, "sender_country", "received_at"),
)

# The deliveries a worker claims once ``next_attempt_at`` passed (``queued``, ``retry_wait``,
# ``unknown``). The claim index holds only these rows; claim queries repeat this literal
# clause, which is how SQLite and PostgreSQL see that the partial index applies.
CLAIMABLE_STATES_SQL = "state IN ('queued', 'retry_wait', 'unknown')"

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("recipient", String(2), nullable=True),
    Column("product", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    # 0 immediate, 1 urgent, 2 routine: claimed in ascending order.
    Column("priority_rank", SmallInteger, nullable=False),
    Column("decision_outcome", String(8), nullable=False),
    Column("findings_json", Text, nullable=False),
    Column("redacted_json", Text, nullable=False),
    Column("pack_hash", String(64), nullable=False),
    Column("payload_ciphertext", LargeBinary, nullable=True),
    Column("payload_key_id", String(64), nullable=True),
    Column("payload_sha256", String(64), nullable=True),
    Column("payload_size", Integer, nullable=True),
    Column("content_type", String(100), nullable=True),
    Column("payload_headers_json", Text, nullable=True),
    Column("idempotency_key", String(80), nullable=False, unique=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("deadline_at", UTCDateTime, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_error_class", String(64), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_http_status", Integer, nullable=True),
    Column("receipt_json", Text, nullable=True),
    # The channel's own reference from the receipt, for answers that quote only it.
    Column("receipt_reference", String(200), nullable=True),
    Column("review_actor", String(100), nullable=True),
    Column("review_reason", Text, nullable=True),
    # The facts the current decision rested on, as of which day (``FactsBasis.as_dict``).
    Column("decision_basis_json", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index(None, "state", "priority_rank", "next_attempt_at", "id"),
    Index(None, "message_id"),
    Index(None, "channel", "state"),
    Index(None, "channel", "receipt_reference"),
    # Claim order within a channel, so a claim reads the rows it takes and not the backlog.
    Index(
        "ix_deliveries_claimable",
        "channel",
        "priority_rank",
        "next_attempt_at",
        "id",
        sqlite_where=text(CLAIMABLE_STATES_SQL),
        postgresql_where=text(CLAIMABLE_STATES_SQL),
    ),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("worker_id", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("error_class", String(64), nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("duration_ms", Float, nullable=True),
    Column("detail", Text, nullable=True),
    Column("trace_id", String(32), nullable=True),
    Column("span_id", String(16), nullable=True),
    # The destination's own error code and text, scrubbed and bounded (``delivery.remote``).
    Column("remote_code", String(64), nullable=True),
    Column("remote_text", String(250), nullable=True),
    Index(None, "delivery_id", "number"),
    Index(None, "trace_id"),
    Index(None, "started_at"),  # the Channels page's last hour
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("reason", Text, nullable=True),
    Column("details_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    # NULL: the first, unkeyed chain (SHA-256); 2: keyed (HMAC-SHA-256 with the chain key).
    Column("chain_version", SmallInteger, nullable=True),
    Index(None, "subject"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("country", String(2), nullable=True),
    Column("agency", String(200), nullable=True),
    # JSON list of country codes an operator may see; empty list = regional (all countries).
    Column("scope_countries", Text, nullable=False, default="[]"),
    Column("label", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

# Console sign-ins: a cookie is honoured only while its row lives, so signing out (``ended_at``)
# ends the session on every replica at once. The id is the SHA-256 of the cookie's session id.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("token_id", String(36), ForeignKey("api_tokens.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("ended_at", UTCDateTime, nullable=True),
)

channel_states = Table(
    "channel_states",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("breaker_state", String(16), nullable=False, default="closed"),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("open_until", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    # Transitions counted since the row was made, read as counters by /metrics.
    Column("breaker_opened", Integer, nullable=False, default=0, server_default="0"),
    Column("breaker_half_opened", Integer, nullable=False, default=0, server_default="0"),
    Column("breaker_closed", Integer, nullable=False, default=0, server_default="0"),
)

# Subscriptions of a sender agency to its events; the secret is sealed like payloads.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("country", String(2), nullable=False),
    Column("agency", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("event_types_json", Text, nullable=False),
    Column("secret_ciphertext", LargeBinary, nullable=False),
    Column("secret_key_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    Index(None, "country", "agency"),
)

# The outbox: one row per event, written in the transaction of the state change it reports.
# ``seq`` is the inbox cursor; writers take a lock so that seq order is commit order.
events = Table(
    "events",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("type", String(40), nullable=False),
    Column("country", String(2), nullable=False),
    Column("agency", String(200), nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("priority_rank", SmallInteger, nullable=False),
    Column("data_json", Text, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Index(None, "country", "seq"),
    Index(None, "message_id"),
)

# One webhook delivery of one event to one subscription; ``id`` is its ``webhook-id``, kept
# across retries so that receivers can drop repeats. Claimed with a lease like deliveries.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("event_seq", BigInteger, ForeignKey("events.seq"), nullable=False),
    Column("subscription_id", String(36), ForeignKey("subscriptions.id"), nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("state", String(16), nullable=False),
    Column("priority_rank", SmallInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("deadline_at", UTCDateTime, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_http_status", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index(None, "state", "priority_rank", "next_attempt_at", "event_seq"),
    Index(None, "message_id"),
)

notification_attempts = Table(
    "notification_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("notification_id", String(36), ForeignKey("notifications.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("worker_id", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error_class", String(64), nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("duration_ms", Float, nullable=True),
    Index(None, "notification_id", "number"),
)


# Answers from channels (pushed or polled), one row per channel message id. The received bytes
# and the canonical reply built from them are sealed like every body; ``status`` is
# ``matched`` (correlated to a message and delivery) or ``unmatched`` (kept for operators).
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("channel_message_id", String(200), nullable=False),
    Column("via", String(8), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.id"), nullable=True),
    # Who may see it: the original message's sender country (None while unmatched).
    Column("sender_country", String(2), nullable=True),
    Column("channel_reference", String(200), nullable=True),
    Column("in_reply_to", String(200), nullable=True),
    Column("unmapped_codes", Integer, nullable=False, default=0),
    Column("body_ciphertext", LargeBinary, nullable=True),
    Column("body_key_id", String(64), nullable=True),
    Column("reply_ciphertext", LargeBinary, nullable=True),
    Column("reply_key_id", String(64), nullable=True),
    Column("response_json", Text, nullable=False),
    # An unmatched answer belongs to no message whose purge would take it: it has its own
    # retention date, after which the retention job erases its content (ids stay).
    Column("expires_at", UTCDateTime, nullable=True),
    Column("purged_at", UTCDateTime, nullable=True),
    UniqueConstraint("channel", "channel_message_id"),
    Index(None, "message_id", "received_at"),
    Index(None, "status", "received_at"),
    Index(None, "expires_at"),
)

# Where each polled channel's next poll starts, so a restart neither re-reads nor skips.
inbound_cursors = Table(
    "inbound_cursors",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("cursor", String(200), nullable=True),
    Column("polled_at", UTCDateTime, nullable=True),
    Column("last_error_class", String(64), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)


# Legal officers' changes to the parties table, never updated or deleted: the newest row per
# (instrument, country) is laid over the shipped parties files, and the highest seq is the facts
# version every process compares before it decides.
fact_changes = Table(
    "fact_changes",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("instrument", String(64), nullable=False),
    Column("country", String(2), nullable=False),
    Column("action", String(16), nullable=False),
    Column("party", Boolean, nullable=False),
    Column("since", Date, nullable=True),
    Column("until", Date, nullable=True),
    Column("confirmed", Boolean, nullable=False),
    Column("source", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Index(None, "instrument", "country", "seq"),
)


def utcnow() -> datetime:
    """The store's clock: aware UTC."""
    return datetime.now(UTC)
