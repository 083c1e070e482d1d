"""A message sent to each channel gets that channel's reply back, over real HTTP: pushed to the
inbound endpoint (europol, selec, pcc_see) or fetched by the poller (interpol, frontex), stored
in canonical form, correlated to the original message and delivery, and told to the sender as a
signed CloudEvent at its subscribed receiver (verified with the standardwebhooks library) and
in its inbox."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.events.subscriptions import new_secret
from tests.conftest import EXAMPLES
from tests.events._support import running_receiver
from tests.exchange._support import bearer, replies, round_trip, wait_for

# An example each channel's rules let through, and the delivery the reply must match.
CASES = {
    "europol": "rs-cyrillic-case-europol-selec.json",
    "selec": "rs-cyrillic-case-europol-selec.json",
    "pcc_see": "al-victim-identification-pcc-see.json",
    "interpol": "al-yellow-notice-request.json",
    "frontex": "mk-smuggling-interception-frontex.json",
}


def send(url: str, token: str, example: str, channel: str) -> tuple[str, dict[str, Any]]:
    """Send ``example`` to ``channel`` only, as the token's agency; the message id and the
    202's body."""
    data = json.loads((EXAMPLES / example).read_text(encoding="utf-8"))
    data["message_id"] = str(uuid.uuid4())
    data["sender"]["agency"] = f"Test agency {data['sender']['country']}"
    data["destinations"] = [d for d in data["destinations"] if d["channel"] == channel]
    answer = httpx.post(
        f"{url}/v1/messages",
        content=json.dumps(data).encode(),
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    return data["message_id"], answer.json()


def release_held(url: str, approver: str, accepted: dict[str, Any]) -> list[dict[str, Any]]:
    """Release what the rules held for review (as an approver would); the deliveries sent."""
    for delivery in accepted["deliveries"]:
        if delivery["state"] == "held":
            released = httpx.post(
                f"{url}/v1/deliveries/{delivery['id']}/release",
                json={"reason": "confirmed for the test"},
                headers=bearer(approver),
            )
            assert released.status_code == 200, released.text
    return [d for d in accepted["deliveries"] if d["state"] in ("held", "queued")]


@pytest.mark.parametrize("channel", sorted(CASES))
def test_a_sent_message_gets_its_channels_reply_in_canonical_form(
    db_url: str, tmp_path: Path, channel: str
) -> None:
    secret = new_secret()
    with round_trip(db_url, tmp_path) as rt, running_receiver(secret) as (hook, receiver, got):
        example = json.loads((EXAMPLES / CASES[channel]).read_text(encoding="utf-8"))
        country = example["sender"]["country"]
        sender = bearer(rt.tokens.sender(country))
        subscribed = httpx.post(
            f"{rt.url}/v1/subscriptions",
            json={"url": hook, "event_types": ["reply.received"], "secret": secret},
            headers=sender,
        )
        assert subscribed.status_code == 201, subscribed.text
        message_id, accepted = send(rt.url, rt.tokens.sender(country), CASES[channel], channel)
        queued = release_held(rt.url, rt.tokens.approver, accepted)
        assert queued, accepted
        found = wait_for(
            lambda: replies(rt, message_id, rt.tokens.sender(country)).json(),
            lambda body: len(body["replies"]) >= len(queued),
        )
        pushed = wait_for(
            lambda: [e for e in got.events if e["subject"] == message_id],
            lambda events: len(events) >= len(queued),
        )
        inbox = httpx.get(f"{rt.url}/v1/inbox?limit=500", headers=sender).json()["items"]
        codes = rt.context.registry.entry(channel).codes
    # Signed CloudEvents the standardwebhooks receiver accepted, the same as the inbox's.
    assert receiver.rejected == 0
    assert all(e["specversion"] == "1.0" and e["type"] == "reply.received" for e in pushed)
    told = [e for e in inbox if e["type"] == "reply.received" and e["subject"] == message_id]
    assert sorted(e["id"] for e in told) == sorted(e["id"] for e in pushed)
    assert {e["data"]["delivery_id"] for e in pushed} == {d["id"] for d in queued}
    assert {e["data"]["reply_id"] for e in pushed} == {
        r["reply"]["message_id"] for r in found["replies"]
    }
    assert {e["data"]["channel"] for e in pushed} == {channel}
    by_delivery = {r["delivery_id"]: r for r in found["replies"]}
    assert set(by_delivery) == {d["id"] for d in queued}
    for reply in found["replies"]:
        assert reply["channel"] == channel
        assert reply["status"] == "matched"
        assert reply["via"] == ("poll" if channel in ("interpol", "frontex") else "push")
        assert reply["message_id"] == message_id
        expected_unmapped = []
        if channel != "frontex":
            # The simulator names a suspect in its own code; if several canonical roles share
            # that code on this channel, the role is not guessed but kept raw.
            sent_role = codes.value("person_role", "suspect")
            sharing = [c for c, v in codes.entries["person_role"].items() if v == sent_role]
            if len(sharing) > 1:
                expected_unmapped = [
                    {
                        "path": "$.persons[0].role",
                        "list": "person_role",
                        "value": sent_role,
                        "reason": "several canonical codes do",
                    }
                ]
        assert reply["unmapped"] == expected_unmapped
        assert reply["unmapped_codes"] == len(expected_unmapped)
        canonical = reply["reply"]
        assert canonical["kind"] == "reply"
        assert canonical["in_reply_to"] == message_id
        assert canonical["destinations"] == [{"channel": channel, "to": [country]}]
        # The channel's codes came back through its own table.
        assert canonical["handling"]["restriction"] == "no_dissemination"
        assert canonical["handling"]["classification"] == "restricted"
        if channel == "frontex":
            assert canonical["persons"] == []  # EUROSUR feedback carries no persons
            continue
        (person,) = canonical["persons"]
        assert person["role"] == ("other" if expected_unmapped else "suspect")
        assert person["sex"] == "male"
        assert person["nationalities"] == ["RS"]
        assert {"given": "Јован", "family": "Петровић", "script": "Cyrl", "kind": "primary"} in (
            person["names"]
        )
        assert {
            "given": "Jovan",
            "family": "Petrovic",
            "script": "Latn",
            "kind": "latin_transcription",
        } in person["names"]
