"""Claim cost against table size: the same claim over 10,000 and 1,000,000 delivery rows.

Rows are generated in SQL (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL). The
backlog is the same in both: 2,000 due rows (``queued``, spread over the five channels and three
priorities) among the first 10,000; every further row is delivered history, as in a store that
has run for months. The question is whether claiming slows down as history grows. Each timed
claim runs in its own write transaction that is rolled back afterwards, so every repeat sees the
same table and the figure is the claim's query work (the commit, one fsync on SQLite, is
excluded).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from gateway.store.engine import Store
from gateway.store.tables import UTCDateTime, messages, utcnow

CHANNELS = ("europol", "interpol", "frontex", "selec", "pcc_see")
PER_CHANNEL = 10  # deliveries claimed per channel and claim: 50 per claim
MESSAGE_ID = "00000000-0000-4000-8000-00000000c1a1"

_COLUMNS = (
    "id, message_id, channel, product, state, priority_rank, decision_outcome, findings_json,"
    " redacted_json, pack_hash, idempotency_key, attempts, next_attempt_at, created_at,"
    " updated_at, delivered_at"
)
_VALUES = """
    {id_expr}, :message_id,
    CASE n % 5 WHEN 0 THEN 'europol' WHEN 1 THEN 'interpol' WHEN 2 THEN 'frontex'
               WHEN 3 THEN 'selec' ELSE 'pcc_see' END,
    'bench',
    CASE WHEN n < :due_below AND (n / 5) % 5 = 0 THEN 'queued' ELSE 'delivered' END,
    (n / 25) % 3, 'allow', '[]', '[]', 'bench', {id_expr}, 0,
    CASE WHEN n < :due_below AND (n / 5) % 5 = 0 THEN :due ELSE NULL END,
    :past, :past,
    CASE WHEN n < :due_below AND (n / 5) % 5 = 0 THEN NULL ELSE :past END
"""
SQLITE_FILL = (
    "WITH RECURSIVE seq(n) AS (SELECT :start UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < :stop)"
    f" INSERT INTO deliveries ({_COLUMNS}) SELECT"
    + _VALUES.format(id_expr="printf('bench-%012d', n)")
    + " FROM seq"
)
POSTGRES_FILL = (
    f"INSERT INTO deliveries ({_COLUMNS}) SELECT"
    + _VALUES.format(id_expr="'bench-' || lpad(n::text, 12, '0')")
    + " FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint) - 1) AS seq(n)"
)


def _insert_message(conn: Connection) -> None:
    now = utcnow()
    conn.execute(
        messages.insert().values(
            id=MESSAGE_ID,
            sender_country="ME",
            sender_agency="benchmark",
            kind="alert",
            priority="routine",
            content_sha256="0" * 64,
            received_at=now,
            response_json="{}",
        )
    )


def fill(store: Store, start: int, stop: int, due_below: int) -> float:
    """Add rows ``start``..``stop-1`` (a fifth of those below ``due_below`` due, the rest
    delivered history); returns the seconds it took."""
    now = utcnow()
    sql = SQLITE_FILL if store.is_sqlite else POSTGRES_FILL
    statement = text(sql).bindparams(
        bindparam("due", type_=UTCDateTime()),
        bindparam("past", type_=UTCDateTime()),
    )
    began = time.perf_counter()
    store.write_sync(
        lambda conn: conn.execute(
            statement,
            {
                "start": start,
                "stop": stop,
                "due_below": due_below,
                "message_id": MESSAGE_ID,
                "due": now - timedelta(minutes=5),
                "past": now - timedelta(hours=1),
            },
        )
    )
    store.write_sync(lambda conn: conn.exec_driver_sql("ANALYZE"))
    return time.perf_counter() - began


def time_claims(store: Store, repeats: int) -> float:
    """Median milliseconds of one claim of up to 50 due deliveries (5 channels x 10)."""
    from gateway.delivery.claim import claim_due_deliveries

    wants = dict.fromkeys(CHANNELS, PER_CHANNEL)
    samples: list[float] = []
    for index in range(repeats + 2):  # two warm-up claims
        with store.write_engine.connect() as conn:
            transaction = conn.begin()
            began = time.perf_counter()
            claimed = claim_due_deliveries(
                conn, worker_id="bench", now=utcnow(), lease_s=60.0, wants=wants
            )
            elapsed = time.perf_counter() - began
            transaction.rollback()
        if len(claimed) != len(CHANNELS) * PER_CHANNEL:
            raise RuntimeError(f"a claim returned {len(claimed)} deliveries, expected 50")
        if index >= 2:
            samples.append(elapsed * 1000)
    return statistics.median(samples)


def run(database_url: str, *, small: int, large: int, repeats: int) -> dict[str, Any]:
    store = Store(database_url)
    try:
        store.write_sync(_insert_message)
        fill_small_s = fill(store, 0, small, due_below=small)
        claim_small = time_claims(store, repeats)
        fill_large_s = fill(store, small, large, due_below=small)
        claim_large = time_claims(store, repeats)
    finally:
        store.close()
    return {
        "claim_ms_small": round(claim_small, 3),
        "claim_ms_large": round(claim_large, 3),
        "claim_rows_small": small,
        "claim_rows_large": large,
        "claim_large_over_small": round(claim_large / claim_small, 2),
        "claim_due_rows": small // 5,
        "claim_fill_s": round(fill_small_s + fill_large_s, 1),
    }
