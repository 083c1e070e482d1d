"""Channel operations from the console and the API: the live figures of the last hour, the
adapter's connection test (audited), and re-driving a filtered list's dead letters."""

from __future__ import annotations

import json

from sqlalchemy import select

from gateway.security.identity import Identity
from gateway.security.tokens import identity_for_token
from gateway.store.tables import audit_entries
from simulators import Fault
from tests.console.signin import banner, csrf_of, sign_in
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World


def _audit(world: World, action: str) -> list[tuple[str, str | None, dict[str, object]]]:
    return world.context.store.read_sync(
        lambda conn: [
            (r.subject, r.reason, json.loads(r.details_json))
            for r in conn.execute(
                select(audit_entries)
                .where(audit_entries.c.action == action)
                .order_by(audit_entries.c.seq)
            )
        ]
    )


async def test_the_last_hour_counts_attempts_and_ages(world: World) -> None:
    world.sims.simulator("frontex").inject(Fault("status", status=400))
    await world.submit(message_from("xk-europol-information.json"))
    await world.submit(message_from("me-early-warning-alert.json"))  # holds some deliveries
    await world.drain()
    activity = await world.context.services.activity.last_hour(
        _operator(world), ["europol", "frontex"]
    )
    europol, frontex = activity["europol"], activity["frontex"]
    assert sum(europol.delivered_buckets) >= 1
    assert europol.delivered_buckets[-1] == sum(europol.delivered_buckets)  # all just now
    assert europol.delivered_per_min > 0
    assert europol.p95_ms is not None
    assert europol.last_success is not None
    assert sum(frontex.failed_buckets) == 1
    assert frontex.failed_per_min == 0.2  # one in the last five minutes
    assert frontex.last_success is None
    held = [a for a in activity.values() if a.oldest_held_age_s is not None]
    assert held, "the early warning holds a delivery for review"

    api = await world.client.get("/v1/channels/activity", headers=world.auth(world.tokens.operator))
    assert api.status_code == 200
    by_channel = {c["channel"]: c for c in api.json()["channels"]}
    assert by_channel["frontex"]["failed_buckets"] == frontex.failed_buckets
    assert by_channel["europol"]["p95_ms"] == europol.p95_ms
    senders = await world.client.get(
        "/v1/channels/activity", headers=world.auth(world.tokens.sender("XK"))
    )
    assert senders.status_code == 403

    await sign_in(world.client, world.tokens.operator)
    live = await world.client.get("/console/channels/live")
    assert live.status_code == 200
    assert "<html" not in live.text  # the tables alone, for the page to swap in
    assert 'data-testid="failed-rate-frontex">0.2<' in live.text
    assert "<svg" in live.text
    assert "frontex: 0 delivered, 1 failed in the last hour" in live.text
    page = await world.client.get("/console/")
    assert 'data-live-src="/console/channels/live"' in page.text
    assert '<meta http-equiv="refresh"' in page.text  # inside <noscript>, for no script


def _operator(world: World) -> Identity:
    identity = world.context.store.read_sync(
        lambda conn: identity_for_token(conn, world.tokens.operator)
    )
    assert identity is not None
    return identity


async def test_test_connection_runs_the_adapters_probe_and_is_audited(world: World) -> None:
    await sign_in(world.client, world.tokens.operator)
    overview = await world.client.get("/console/")
    assert "Test selec" in overview.text
    answered = await world.client.post(
        "/console/channels/selec/test", data={"csrf": csrf_of(overview.text), "reason": "check"}
    )
    kind, code, outcome = await banner(world.client, answered)
    assert (kind, code, outcome) == ("notice", "tested", "answered")
    api = await world.client.post(
        "/v1/channels/selec/test", headers=world.auth(world.tokens.operator)
    )
    assert api.json()["outcome"] == "answered"

    world.sims.servers["selec"].stop()  # the destination goes away
    down = await world.client.post(
        "/v1/channels/selec/test", headers=world.auth(world.tokens.operator)
    )
    assert down.status_code == 200
    assert down.json()["outcome"] == "unreachable"
    assert down.json()["error_class"] == "TransientError"
    entries = _audit(world, "channel.test")
    assert [(s, d["outcome"]) for s, _, d in entries] == [
        ("channel:selec", "answered"),
        ("channel:selec", "answered"),
        ("channel:selec", "unreachable"),
    ]
    assert entries[0][1] == "check"
    refused = await world.client.post(
        "/v1/channels/selec/test", headers=world.auth(world.tokens.auditor)
    )
    assert refused.status_code == 403


async def test_the_dead_letters_of_a_filtered_list_are_redriven_after_confirmation(
    world: World,
) -> None:
    world.sims.simulator("frontex").inject(*[Fault("status", status=400)] * 2)
    kosovo = message_from("xk-europol-information.json")
    macedonian = message_from("mk-smuggling-interception-frontex.json")
    await world.submit(kosovo)
    await world.submit(macedonian)
    await world.drain()
    await sign_in(world.client, world.tokens.operator)
    listing = await world.client.get(
        "/console/messages", params={"state": "failed", "sender_country": "XK"}
    )
    link = "/console/redrive?sender_country=XK"
    assert link in listing.text
    confirm = await world.client.get(link)
    assert 'data-testid="redrive-count">1<' in confirm.text
    done = await world.client.post(
        "/console/redrive",
        data={"csrf": csrf_of(confirm.text), "sender_country": "XK", "reason": "fixed"},
    )
    assert done.headers["location"] == "/console/messages?sender_country=XK"
    assert await banner(world.client, done) == ("notice", "requeued", "1")
    ((subject, reason, details),) = _audit(world, "delivery.redrive")
    assert subject == "deliveries:filtered"
    assert reason == "fixed"
    assert details["filter"] == {
        "channel": None,
        "recipient": None,
        "sender_country": "XK",
        "since": None,
        "until": None,
    }
    await world.drain()
    states = {
        m["message_id"]: [d["state"] for d in (await world.trace(m["message_id"]))["deliveries"]]
        for m in (kosovo, macedonian)
    }
    assert "failed" not in states[kosovo["message_id"]]
    assert "failed" in states[macedonian["message_id"]]  # not in the filter: left alone
