"""Answers and the store, on SQLite and PostgreSQL: an answer that quotes only the channel's
own receipt reference is matched through the indexed ``receipt_reference`` column; an answer
that matches nothing gets a retention date, is listed with it, and is erased by the retention
job on that date (its ids stay, audited), while a matched answer waits for its message."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from gateway.config import Settings
from gateway.retention import purge_due
from gateway.store.tables import audit_entries, deliveries, inbound_messages, utcnow
from tests.api.helpers import auth
from tests.conftest import Tokens, make_settings
from tests.exchange.test_inbound_endpoint import (
    CREDENTIAL,
    INBOUND,
    channel_auth,
    reply_to,
    sent_message,
)

KEPT_DAYS = 7


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    channels = {"pcc_see": {"url": "http://127.0.0.1:9/", "inbound_token": CREDENTIAL}}
    return make_settings(
        db_url,
        tmp_path,
        channels=channels,
        worker_enabled=False,
        retention_unmatched_answer_days=KEPT_DAYS,
    )


def _deliver(context: Any, delivery_id: str, reference: str) -> None:
    """As the worker records a delivery the channel took under its own reference; the
    receipt's JSON is left empty so that only the column can match."""
    context.store.write_sync(
        lambda conn: conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(state="delivered", receipt_reference=reference, receipt_json=None)
        )
    )


async def test_an_answer_quoting_only_the_receipt_reference_is_matched(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    [delivery] = accepted["deliveries"]
    # Characters a LIKE pattern would treat as wildcards match only themselves.
    _deliver(context, delivery["id"], "PCC_SEE-77%/2026")
    _, decoy = reply_to(context, None, reference="PCC_SEE-77X/2026")
    _, body = reply_to(context, None, reference="PCC_SEE-77%/2026")
    missed = await client.post(INBOUND, content=decoy, headers=channel_auth())
    assert missed.json()["status"] == "unmatched", missed.text
    answer = await client.post(INBOUND, content=body, headers=channel_auth())
    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], answer.json()["delivery_id"]) == ("matched", delivery["id"])


async def test_an_unmatched_answer_is_kept_until_its_date_then_erased(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, matched_body = reply_to(context, accepted["message_id"])
    assert (await client.post(INBOUND, content=matched_body, headers=channel_auth())).json()[
        "status"
    ] == "matched"
    before = utcnow()
    _, stray_body = reply_to(context, None, reference="PCC_SEE-NOBODY")
    stray = (await client.post(INBOUND, content=stray_body, headers=channel_auth())).json()
    assert stray["status"] == "unmatched"

    [listed] = (await client.get("/v1/inbound/unmatched", headers=auth(tokens.operator))).json()
    expires = listed["expires_at"]
    assert expires is not None
    assert listed["purged_at"] is None
    kept = (
        context.store.read_sync(
            lambda conn: conn.execute(
                select(inbound_messages.c.expires_at).where(
                    inbound_messages.c.id == stray["inbound_id"]
                )
            ).scalar_one()
        )
        - before
    )
    assert timedelta(days=KEPT_DAYS) <= kept < timedelta(days=KEPT_DAYS, minutes=5)

    # The day before: nothing goes. The day after: the stray answer's content is erased.
    early = purge_due(context.store, days=3650, now=before + timedelta(days=KEPT_DAYS - 1))
    assert early.answers == []
    late = purge_due(context.store, days=3650, now=before + timedelta(days=KEPT_DAYS + 1))
    assert late.answers == [stray["inbound_id"]]
    assert late.purged == []  # the matched answer's message is not due: its answer stays
    rows = context.store.read_sync(
        lambda conn: {r.id: r for r in conn.execute(select(inbound_messages))}
    )
    gone = rows.pop(stray["inbound_id"])
    assert (gone.body_ciphertext, gone.reply_ciphertext) == (None, None)
    assert gone.purged_at is not None
    assert gone.channel_message_id  # what came, and when, stays provable
    [matched] = rows.values()
    assert matched.body_ciphertext is not None
    [entry] = context.store.read_sync(
        lambda conn: conn.execute(
            select(audit_entries).where(audit_entries.c.action == "inbound.purged")
        ).all()
    )
    assert entry.subject == f"inbound:{stray['inbound_id']}"
    assert json.loads(entry.details_json) == {"channel": "pcc_see"}
    [after] = (await client.get("/v1/inbound/unmatched", headers=auth(tokens.operator))).json()
    assert after["purged_at"] is not None
    again = purge_due(context.store, days=3650, now=before + timedelta(days=KEPT_DAYS + 2))
    assert again.answers == []
