"""What gets audited, read back through the auditor endpoints: intake with its decisions,
rule-pack loads and changes; and the endpoints themselves (paging, verify, who may read)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.context import GatewayContext
from gateway.security.rule_audit import ACTION, record_rule_packs
from gateway.store.tables import audit_entries
from tests.api.helpers import dumps, variant
from tests.conftest import Tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def test_intake_and_its_decisions_are_in_the_audit_log(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    message = variant()
    accepted = await client.post(
        "/v1/messages", content=dumps(message), headers=bearer(tokens.sender("AL"))
    )
    assert accepted.status_code == 202
    page = await client.get(
        "/v1/audit",
        params={"subject": f"message:{message['message_id']}"},
        headers=bearer(tokens.auditor),
    )
    assert page.status_code == 200
    [entry] = page.json()["items"]
    assert entry["action"] == "message.accepted"
    assert entry["actor"].startswith("sender:")
    outcomes = {d["channel"]: d["outcome"] for d in entry["details"]["deliveries"]}
    expected = {d["channel"]: d["decision"]["outcome"] for d in accepted.json()["deliveries"]}
    assert outcomes == expected
    # The log never holds the message's content.
    assert message["subject"] not in page.text

    verified = await client.get("/v1/audit/verify", headers=bearer(tokens.auditor))
    assert verified.json()["intact"] is True
    assert verified.json()["head"].startswith(f"{entry['seq']}:")
    for token in (tokens.sender("AL"), tokens.operator, tokens.approver):
        assert (await client.get("/v1/audit", headers=bearer(token))).status_code == 403


async def test_audit_pages_follow_on_without_gaps(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    for _ in range(5):
        data = variant()
        assert (
            await client.post(
                "/v1/messages", content=dumps(data), headers=bearer(tokens.sender("AL"))
            )
        ).status_code == 202
    seen: list[int] = []
    after = 0
    while True:
        page = (
            await client.get(
                "/v1/audit", params={"after": after, "limit": 2}, headers=bearer(tokens.admin)
            )
        ).json()
        seen += [item["seq"] for item in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == sorted(set(seen))
    assert len(seen) >= 5


def test_rule_packs_are_audited_at_start_and_again_only_when_they_change(
    context: GatewayContext,
) -> None:
    def entries() -> list[tuple[str, str]]:
        return context.store.read_sync(
            lambda conn: [
                (r.subject, r.details_json)
                for r in conn.execute(select(audit_entries).where(audit_entries.c.action == ACTION))
            ]
        )

    create_app(context)
    first = entries()
    assert {s for s, _ in first} == {f"rules:{c}" for c in context.engine.channels()}
    create_app(context)
    assert entries() == first

    class Changed:
        def channels(self) -> list[str]:
            return ["europol"]

        def pack_hash(self, channel: str) -> str:
            return "e" * 64

    changed = context.store.write_sync(lambda conn: record_rule_packs(conn, Changed()))
    assert changed == ["europol"]
    last = entries()[-1]
    assert last[0] == "rules:europol"
    assert context.engine.pack_hash("europol") in last[1]
