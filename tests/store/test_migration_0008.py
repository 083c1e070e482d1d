"""Migration 0008 on SQLite and PostgreSQL: receipts stored before it get their reference in
the indexed column (a reference longer than the column stays in the receipt alone), and
unmatched answers stored before it get their retention date."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import select, update

from gateway.store.crypto import load_or_create_keyring
from gateway.store.engine import Store
from gateway.store.migrate import alembic_config, upgrade
from gateway.store.tables import deliveries, inbound_messages, utcnow
from tests.delivery._support import add_delivery


def test_existing_receipts_and_unmatched_answers_are_backfilled(
    db_url: str, tmp_path: Path
) -> None:
    command.downgrade(alembic_config(db_url), "0007")
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    store = Store(db_url)
    try:
        receipts = {
            "short": json.dumps({"reference": "SIENA-2026-000042", "http_status": 200}),
            "long": json.dumps({"reference": "R" * 201, "http_status": 200}),
            "none": json.dumps({"reference": None, "http_status": 200}),
        }
        ids = {}
        for name, receipt in receipts.items():
            ids[name] = add_delivery(store, keyring, channel="europol", state="delivered")
            store.write_sync(
                lambda conn, i=ids[name], r=receipt: conn.execute(
                    update(deliveries).where(deliveries.c.id == i).values(receipt_json=r)
                )
            )
        received = utcnow()
        answers = {"unmatched": str(uuid.uuid4()), "matched": str(uuid.uuid4())}
        for status, inbound_id in answers.items():
            store.write_sync(
                lambda conn, s=status, i=inbound_id: conn.execute(
                    inbound_messages.insert().values(
                        id=i,
                        channel="pcc_see",
                        channel_message_id=f"PCC-{i}",
                        via="push",
                        content_sha256="0" * 64,
                        received_at=received,
                        status=s,
                        unmapped_codes=0,
                        response_json="{}",
                    )
                )
            )
        store.close()
        upgrade(db_url)
        store = Store(db_url)
        references = store.read_sync(
            lambda conn: dict(
                conn.execute(select(deliveries.c.id, deliveries.c.receipt_reference)).all()
            )
        )
        assert references == {
            ids["short"]: "SIENA-2026-000042",
            ids["long"]: None,
            ids["none"]: None,
        }
        expiry = store.read_sync(
            lambda conn: dict(
                conn.execute(select(inbound_messages.c.id, inbound_messages.c.expires_at)).all()
            )
        )
        assert expiry[answers["matched"]] is None
        assert expiry[answers["unmatched"]] - received == timedelta(days=90)
    finally:
        store.close()
        upgrade(db_url)
