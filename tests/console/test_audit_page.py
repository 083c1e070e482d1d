"""The audit page: auditors and admins read the log newest first, filtered by actor (a token's
label), action, subject and day; actors appear by label; other roles are refused."""

from __future__ import annotations

import re

from tests.console.signin import csrf_of, sign_in
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World


def rows(html: str) -> list[str]:
    table = html.split('data-testid="audit-entries"', 1)
    if len(table) == 1:
        return []
    body = table[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


async def test_auditors_filter_the_log_and_read_actors_by_label(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    answer = await world.submit(body)
    held = next(d for d in answer["deliveries"] if d["state"] == "held")
    await sign_in(world.client, world.tokens.operator)
    page = await world.client.get(f"/console/messages/{body['message_id']}")
    await world.client.post(
        f"/console/deliveries/{held['id']}/cancel",
        data={"csrf": csrf_of(page.text), "reason": "sent twice"},
    )

    await sign_in(world.client, world.tokens.operator)
    refused = await world.client.get("/console/audit")
    assert refused.status_code == 403
    assert "Audit</a>" not in (await world.client.get("/console/messages")).text

    await sign_in(world.client, world.tokens.auditor)
    everything = await world.client.get("/console/audit")
    assert everything.status_code == 200
    assert 'href="/console/audit" aria-current="page"' in everything.text
    cancel = await world.client.get("/console/audit", params={"action": "delivery.cancel"})
    (entry,) = rows(cancel.text)
    assert "sent twice" in entry
    assert f"delivery:{held['id']}" in entry
    assert "operator" in entry  # the operator token's label, not only its id
    label = re.search(r'<span title="operator:[0-9a-f-]{36}">([^<]+)</span>', entry)
    assert label is not None

    assert label.group(1) == "test operator"
    by_label = await world.client.get("/console/audit", params={"actor": "OPERATOR"})
    assert [r for r in rows(by_label.text) if "delivery.cancel" in r]
    assert not [r for r in rows(by_label.text) if "message.accepted" in r]  # a sender did that
    by_subject = await world.client.get("/console/audit", params={"subject": "delivery:"})
    assert all("delivery:" in r for r in rows(by_subject.text))
    assert rows(by_subject.text)
    nothing = await world.client.get("/console/audit", params={"since": "2100-01-01"})
    assert rows(nothing.text) == []
    assert "No entries match" in nothing.text

    # the message page names actors by label too, for staff
    message = await world.client.get(f"/console/messages/{body['message_id']}")
    assert label.group(0) in message.text
