"""The console over HTTP: sign-in and session, CSRF, tenancy, actions, audited payload reads."""

from __future__ import annotations

from sqlalchemy import select

from gateway.security.tokens import identity_for_token, revoke_token
from gateway.store.tables import audit_entries
from simulators import Fault
from tests.console.signin import banner, csrf_of, sign_in
from tests.telemetry.helpers import message_from, scoped_operator
from tests.telemetry.world import World


async def test_sign_in_sets_a_strict_http_only_signed_session(world: World) -> None:
    unsigned = await world.client.get("/console/messages")
    assert unsigned.status_code == 303
    assert unsigned.headers["location"] == "/console/login?next=%2Fconsole%2Fmessages"

    answer = await sign_in(world.client, world.tokens.operator, "/console/messages")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/messages"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("marri_console=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    assert world.tokens.operator not in cookie  # the token itself is never in the cookie
    page = await world.client.get("/console/messages")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    value = world.client.cookies["marri_console"]
    body, mac = value.split(".")
    world.client.cookies.set("marri_console", body[:-2] + "xx." + mac, path="/console")
    assert (await world.client.get("/console/messages")).status_code == 303


async def test_sign_in_refusals(world: World) -> None:
    form = await world.client.get("/console/login")
    no_csrf = await world.client.post(
        "/console/login", data={"token": world.tokens.operator, "csrf": "forged"}
    )
    assert no_csrf.status_code == 400
    form = await world.client.get("/console/login")
    refused = await world.client.post(
        "/console/login", data={"token": "mgw_not-a-token", "csrf": csrf_of(form.text)}
    )
    assert refused.status_code == 401
    assert "cannot sign in" in refused.text
    away = await sign_in(world.client, world.tokens.operator, "//evil.example/console/")
    assert away.headers["location"] == "/console/"


async def test_a_sender_signs_in_to_read_its_own_countrys_messages_only(world: World) -> None:
    montenegrin = message_from("me-early-warning-alert.json")
    serbian = message_from("rs-cyrillic-case-europol-selec.json")
    await world.submit(montenegrin)
    await world.submit(serbian)
    answer = await sign_in(world.client, world.tokens.sender("ME"))
    # the channel overview is staff's: a sender lands on its messages instead
    assert answer.headers["location"] == "/console/messages"
    listing = await world.client.get("/console/messages")
    assert montenegrin["message_id"] in listing.text
    assert serbian["message_id"] not in listing.text
    assert 'href="/console/"' not in listing.text  # no link to the overview
    assert (await world.client.get("/console/")).status_code == 403
    page = await world.client.get(f"/console/messages/{montenegrin['message_id']}")
    assert page.status_code == 200
    assert "/console/deliveries/" not in page.text  # no action buttons, no payload link
    assert (await world.client.get(f"/console/messages/{serbian['message_id']}")).status_code == 404


async def test_revoked_token_ends_the_session(world: World) -> None:
    token = scoped_operator(world.context.store, ("ME",))
    await sign_in(world.client, token)
    assert (await world.client.get("/console/")).status_code == 200
    identity = world.context.store.read_sync(lambda conn: identity_for_token(conn, token))
    assert identity is not None
    world.context.store.write_sync(lambda conn: revoke_token(conn, identity.token_id))
    assert (await world.client.get("/console/")).status_code == 303


async def test_scoped_operator_sees_only_its_countries(world: World) -> None:
    montenegrin = message_from("me-early-warning-alert.json")
    serbian = message_from("rs-cyrillic-case-europol-selec.json")
    await world.submit(montenegrin)
    await world.submit(serbian)
    await sign_in(world.client, scoped_operator(world.context.store, ("RS",)))

    listing = await world.client.get("/console/messages")
    assert serbian["message_id"] in listing.text
    assert montenegrin["message_id"] not in listing.text
    hidden = await world.client.get(f"/console/messages/{montenegrin['message_id']}")
    assert hidden.status_code == 404
    assert montenegrin["message_id"] not in hidden.text
    mine = await world.client.get(f"/console/messages/{serbian['message_id']}")
    assert mine.status_code == 200

    # the overview counts only Serbian deliveries (the Montenegrin PCC SEE ones are queued)
    overview = await world.client.get("/console/")
    assert "Held for review on selec" in overview.text
    assert "Queued on europol" in overview.text
    assert "Queued on pcc_see" not in overview.text

    # actions on another country's delivery answer like a missing one
    answer = await world.trace(montenegrin["message_id"])
    other = answer["deliveries"][0]["id"]
    csrf = csrf_of(mine.text)
    refused = await world.client.post(
        f"/console/deliveries/{other}/cancel", data={"csrf": csrf, "reason": "x"}
    )
    assert refused.status_code == 404
    assert (await world.trace(montenegrin["message_id"]))["deliveries"][0]["state"] == answer[
        "deliveries"
    ][0]["state"]


async def test_list_filters_and_paging(world: World) -> None:
    ids = []
    for _ in range(27):
        body = message_from("xk-europol-information.json")
        await world.submit(body)
        ids.append(body["message_id"])
    montenegrin = message_from("me-early-warning-alert.json")
    await world.submit(montenegrin)
    await sign_in(world.client, world.tokens.operator)

    first = await world.client.get("/console/messages", params={"sender_country": "XK"})
    assert montenegrin["message_id"] not in first.text
    shown_first = [i for i in ids if i in first.text]
    assert len(shown_first) == 25
    assert 'rel="next"' in first.text
    next_href = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await world.client.get(next_href.replace("&amp;", "&"))
    shown_second = [i for i in ids if i in second.text]
    assert len(shown_second) == 2
    assert not set(shown_first) & set(shown_second)
    assert 'rel="next"' not in second.text

    frontex = await world.client.get("/console/messages", params={"channel": "frontex"})
    assert ids[-1] in frontex.text
    assert montenegrin["message_id"] not in frontex.text  # not addressed to Frontex
    held = await world.client.get("/console/messages", params={"state": "held"})
    assert montenegrin["message_id"] in held.text
    assert not [i for i in ids if i in held.text]


async def test_actions_need_csrf_and_are_audited(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    answer = await world.submit(body)
    held = next(d for d in answer["deliveries"] if d["state"] == "held")
    await sign_in(world.client, world.tokens.approver)
    page = await world.client.get(f"/console/messages/{body['message_id']}")
    assert f"/console/deliveries/{held['id']}/release" in page.text

    forged = await world.client.post(
        f"/console/deliveries/{held['id']}/release", data={"csrf": "forged", "reason": "ok ok"}
    )
    assert forged.status_code == 403
    no_reason = await world.client.post(
        f"/console/deliveries/{held['id']}/release", data={"csrf": csrf_of(page.text)}
    )
    assert (await banner(world.client, no_reason))[:2] == ("problem", "reason_required")
    done = await world.client.post(
        f"/console/deliveries/{held['id']}/release",
        data={"csrf": csrf_of(page.text), "reason": "agreement confirmed"},
    )
    assert done.status_code == 303
    assert (await banner(world.client, done))[:2] == ("notice", "release")
    view = await world.trace(body["message_id"])
    released = next(d for d in view["deliveries"] if d["id"] == held["id"])
    assert released["state"] == "queued"
    (entry,) = [a for a in view["actions"] if a["action"] == "delivery.release"]
    assert entry["reason"] == "agreement confirmed"
    # an approver may not cancel (an operator action)
    cancel = await world.client.post(
        f"/console/deliveries/{held['id']}/cancel", data={"csrf": csrf_of(page.text)}
    )
    assert (await banner(world.client, cancel))[:2] == ("problem", "forbidden")

    # reasons are shown escaped
    other = next(d for d in answer["deliveries"] if d["state"] == "held" and d["id"] != held["id"])
    await world.client.post(
        f"/console/deliveries/{other['id']}/reject",
        data={"csrf": csrf_of(page.text), "reason": "<script>alert(1)</script>"},
    )
    shown = await world.client.get(f"/console/messages/{body['message_id']}")
    assert "<script>alert(1)</script>" not in shown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text


async def test_reading_a_payload_asks_for_a_reason_and_is_audited(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    answer = await world.submit(body)
    delivery = next(d for d in answer["deliveries"] if d["channel"] == "interpol")
    path = f"/console/deliveries/{delivery['id']}/payload"

    await sign_in(world.client, world.tokens.auditor)
    assert (await world.client.get(path)).status_code == 403

    await sign_in(world.client, world.tokens.operator)
    form = await world.client.get(path)
    assert form.status_code == 200
    assert "Radunović" not in form.text  # nothing shown before the reason is given
    short = await world.client.post(path, data={"csrf": csrf_of(form.text), "reason": "x"})
    assert short.status_code == 422
    assert "Radunović" not in short.text

    def reads() -> list[tuple[str, str | None, str]]:
        return world.context.store.read_sync(
            lambda conn: [
                (r.subject, r.reason, r.actor)
                for r in conn.execute(
                    select(audit_entries).where(audit_entries.c.action == "payload.read")
                )
            ]
        )

    assert reads() == []
    shown = await world.client.post(
        path, data={"csrf": csrf_of(form.text), "reason": "checking a complaint, case 17/26"}
    )
    assert shown.status_code == 200
    assert "Radunović" in shown.text or "RADUNOVIC" in shown.text.upper()
    ((subject, reason, actor),) = reads()
    assert subject == f"delivery:{delivery['id']}"
    assert reason == "checking a complaint, case 17/26"
    assert actor.startswith("operator:")


async def test_channel_redrive_from_the_overview_is_confirmed_with_a_reason(
    world: World,
) -> None:
    body = message_from("xk-europol-information.json")
    world.sims.simulator("frontex").inject(Fault("status", status=400))
    await world.submit(body)
    await world.drain()
    await sign_in(world.client, world.tokens.operator)
    overview = await world.client.get("/console/")
    assert "Re-drive 1 on frontex…" in overview.text
    assert 'href="/console/redrive?channel=frontex"' in overview.text
    confirm = await world.client.get("/console/redrive", params={"channel": "frontex"})
    assert confirm.status_code == 200
    assert 'data-testid="redrive-count">1<' in confirm.text
    form = {"csrf": csrf_of(confirm.text), "channel": "frontex"}
    no_reason = await world.client.post("/console/redrive", data=form)
    assert await banner(world.client, no_reason) == ("problem", "reason_required", "")
    assert (await world.trace(body["message_id"]))["deliveries"][1]["state"] == "failed"

    done = await world.client.post("/console/redrive", data=form | {"reason": "schema fixed"})
    assert done.headers["location"] == "/console/"
    assert await banner(world.client, done) == ("notice", "requeued", "1")
    await world.drain()
    view = await world.trace(body["message_id"])
    frontex = next(d for d in view["deliveries"] if d["channel"] == "frontex")
    assert frontex["state"] == "delivered"
    (event,) = [e for e in view["events"] if e["type"] == "action" and e["channel"] == "frontex"]
    assert event["summary"].startswith("delivery.redrive by operator:")
    assert event["summary"].endswith("(whole channel)")
    (entry,) = [a for a in view["actions"] if a["action"] == "delivery.redrive"]
    assert entry["reason"] == "schema fixed"
    again = await world.client.get("/console/")
    assert "Re-drive 1 on frontex" not in again.text
