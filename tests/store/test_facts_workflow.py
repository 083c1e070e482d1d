"""Facts as data: a legal officer's change is stored over the shipped table, audited with its
source, followed by every process, and lifts exactly the holds that rested on it; a held
delivery released later is decided on the day of its release.

Each test first puts the fact it works with in a known state through the facts service, so it
holds whatever the shipped ``parties.yaml`` says about it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from gateway.context import GatewayContext, build_context
from gateway.security.identity import Identity
from gateway.security.tokens import issue_token
from gateway.services.channels import ChannelActions
from gateway.services.deliveries import DeliveryActions
from gateway.services.facts import FactEdit
from gateway.services.permissions import Role
from gateway.store.tables import audit_entries, deliveries
from tests.api.helpers import auth, dumps, variant
from tests.conftest import Tokens

EXAMPLE = "me-early-warning-alert.json"
INSTRUMENT = "europol_operational_agreement"
SOURCE = "https://www.europol.europa.eu/partners-collaboration/agreements (operational agreement)"


def legal_token(context: GatewayContext) -> tuple[str, Identity]:
    issued = context.store.write_sync(
        lambda conn: issue_token(conn, role="legal", label="test legal officer")
    )
    return issued.token, issued.identity


def europol_message(*crime_areas: str) -> bytes:
    """A Montenegrin message for Europol alone, about the given crime areas."""
    return dumps(variant(EXAMPLE, destinations=[{"channel": "europol"}], crime_areas=crime_areas))


async def send(client: httpx.AsyncClient, tokens: Tokens, body: bytes) -> dict[str, Any]:
    answer = await client.post("/v1/messages", content=body, headers=auth(tokens.sender("ME")))
    assert answer.status_code == 202, answer.text
    [delivery] = answer.json()["deliveries"]
    result: dict[str, Any] = delivery
    return result


def row(context: GatewayContext, delivery_id: str) -> Any:
    return context.store.read_sync(
        lambda conn: conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).one()
    )


def audit(context: GatewayContext, subject: str) -> list[Any]:
    return context.store.read_sync(
        lambda conn: list(
            conn.execute(
                select(audit_entries)
                .where(audit_entries.c.subject == subject)
                .order_by(audit_entries.c.seq)
            )
        )
    )


def rules_of(delivery: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in delivery["decision"]["findings"]}


async def test_a_confirmed_fact_releases_the_holds_it_alone_made_and_no_other(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    legal, officer = legal_token(context)
    withdrawn = await client.post(
        f"/v1/facts/{INSTRUMENT}/ME/withdraw",
        json={"source": "no source yet states the agreement"},
        headers=auth(legal),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    only_fact = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    fact_and_mandate = await send(client, tokens, europol_message("money_laundering"))
    assert only_fact["state"] == fact_and_mandate["state"] == "held"
    assert rules_of(only_fact) == {"europol.agreement_confirmed"}
    assert rules_of(fact_and_mandate) == {
        "europol.agreement_confirmed",
        "europol.art3_mandate_confirmed",
    }

    confirmed = await client.post(
        f"/v1/facts/{INSTRUMENT}/ME/confirm", json={"source": SOURCE}, headers=auth(legal)
    )

    assert confirmed.status_code == 200, confirmed.text
    answer = confirmed.json()
    assert answer["released"] == [only_fact["id"]]
    assert answer["still_held"] == [fact_and_mandate["id"]]
    assert (answer["fact"]["confirmed"], answer["fact"]["changed_by"]) == (True, "legal")
    released, kept = row(context, only_fact["id"]), row(context, fact_and_mandate["id"])
    assert (released.state, released.decision_outcome) == ("queued", "allow")
    assert released.next_attempt_at is not None
    assert (kept.state, kept.decision_outcome) == ("held", "review")
    basis = json.loads(released.decision_basis_json)
    assert basis["facts_version"] == answer["change_seq"]
    [fact_line] = [f for f in basis["facts"] if f.startswith(f"{INSTRUMENT} ME:")]
    today = datetime.now(UTC).date().isoformat()
    assert f"confirmed by legal on {today}, source {SOURCE}" in fact_line

    [change] = audit(context, f"fact:{INSTRUMENT}:ME")[-1:]
    assert (change.action, change.actor, change.reason) == ("fact.confirm", officer.actor, SOURCE)
    assert json.loads(change.details_json)["after"]["confirmed"] is True
    [*_, lifted] = audit(context, f"delivery:{only_fact['id']}")
    details = json.loads(lifted.details_json)
    assert (lifted.action, lifted.actor) == ("delivery.auto_release", "gateway")
    assert (details["fact_change"], details["changed_by"]) == (answer["change_seq"], officer.actor)
    assert audit(context, f"delivery:{fact_and_mandate['id']}") == []


async def test_a_fact_that_ends_between_hold_and_release_refuses_the_release(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    _, officer = legal_token(context)
    today = datetime.now(UTC).date()
    ends = today + timedelta(days=30)
    await context.facts.set(
        officer,
        INSTRUMENT,
        "ME",
        "agreement in force until its termination takes effect",
        FactEdit(party=True, since=date(2014, 12, 31), until=ends, confirmed=False),
    )
    held = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    assert held["state"] == "held"
    release_day = ends + timedelta(days=5)
    release_at = datetime(release_day.year, release_day.month, release_day.day, 9, tzinfo=UTC)
    reviewer = Identity(token_id="approver-test", role=Role.APPROVER, label="test approver")
    # The approver's release on that later day, with the facts of that day.
    later = DeliveryActions(
        context.store, context.settings, clock=lambda: release_at, reopen_for=context.reopener
    )

    result = await later.release(reviewer, held["id"], "reviewed: transfer is needed")

    assert result.state == "blocked"
    stored = row(context, held["id"])
    assert (stored.state, stored.decision_outcome) == ("blocked", "deny")
    findings = json.loads(stored.findings_json)
    refusing = [f for f in findings if f["outcome"] == "deny"]
    assert refusing, findings
    dated = f"until {ends.isoformat()}), NOT in force on {release_day.isoformat()}"
    assert any(dated in line for f in refusing for line in f["facts"]), refusing
    assert json.loads(stored.decision_basis_json)["as_of"] == release_day.isoformat()
    [*_, entry] = audit(context, f"delivery:{held['id']}")
    details = json.loads(entry.details_json)
    assert (entry.action, details["to"], details["as_of"]) == (
        "delivery.release",
        "blocked",
        release_day.isoformat(),
    )


def give_up(context: GatewayContext, delivery_id: str) -> None:
    """The delivery becomes a dead letter, as when the worker has spent its attempts."""
    context.store.write_sync(
        lambda conn: conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(state="failed", next_attempt_at=None)
        )
    )


async def test_a_fact_that_ends_before_a_redrive_blocks_the_dead_letter_then(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    _, officer = legal_token(context)
    today = datetime.now(UTC).date()
    ends = today + timedelta(days=30)
    await context.facts.set(
        officer,
        INSTRUMENT,
        "ME",
        SOURCE,
        FactEdit(party=True, since=date(2014, 12, 31), until=ends, confirmed=True),
    )
    sent = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    assert sent["state"] == "queued", sent
    give_up(context, sent["id"])
    operator = Identity(token_id="operator-test", role=Role.OPERATOR, label="test operator")
    redrive_day = ends + timedelta(days=1)
    redrive_at = datetime(redrive_day.year, redrive_day.month, redrive_day.day, 9, tzinfo=UTC)
    later = ChannelActions(
        context.store,
        context.settings,
        context.registry.names(),
        clock=lambda: redrive_at,
        reopen_for=context.reopener,
    )

    done = await later.redrive(operator, "europol", "destination back after an outage")

    assert (done.requeued, done.blocked) == (0, [sent["id"]])
    stored = row(context, sent["id"])
    assert (stored.state, stored.decision_outcome) == ("blocked", "deny")
    refusing = [f for f in json.loads(stored.findings_json) if f["outcome"] == "deny"]
    dated = f"until {ends.isoformat()}), NOT in force on {redrive_day.isoformat()}"
    assert any(dated in line for f in refusing for line in f["facts"]), refusing
    [*_, entry] = audit(context, "channel:europol")
    details = json.loads(entry.details_json)
    assert (details["requeued"], details["blocked"], details["as_of"]) == (
        0,
        [sent["id"]],
        redrive_day.isoformat(),
    )


async def test_a_redrive_while_the_fact_holds_puts_the_dead_letter_back_in_the_queue(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    _, officer = legal_token(context)
    await context.facts.confirm(officer, INSTRUMENT, "ME", SOURCE)
    sent = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    give_up(context, sent["id"])
    answer = await client.post(
        "/v1/channels/europol/redrive",
        json={"reason": "destination back after an outage"},
        headers=auth(tokens.operator),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"channel": "europol", "requeued": 1, "held": [], "blocked": []}
    stored = row(context, sent["id"])
    assert (stored.state, stored.attempts) == ("queued", 0)
    basis = json.loads(stored.decision_basis_json)
    assert basis["as_of"] == datetime.now(UTC).date().isoformat()


async def test_a_release_today_is_decided_today_and_goes_out(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    _, officer = legal_token(context)
    await context.facts.withdraw(officer, INSTRUMENT, "ME", "no source yet")
    held = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    answer = await client.post(
        f"/v1/deliveries/{held['id']}/release",
        json={"reason": "the agreement is known to the approver"},
        headers=auth(tokens.approver),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "queued"
    basis = json.loads(row(context, held["id"]).decision_basis_json)
    assert basis["as_of"] == datetime.now(UTC).date().isoformat()


async def test_the_overlay_reaches_another_process_without_a_restart(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    _, officer = legal_token(context)
    other = build_context(context.settings)  # a second process over the same database
    try:
        before = await other.intake.current_engine()
        changed = await context.facts.withdraw(officer, INSTRUMENT, "ME", "source withdrawn")
        after = await other.policy.engine(other.store)
        assert after is not before
        assert after.parties.facts_version == changed.change_seq
        entry = after.parties.instruments[INSTRUMENT].entry("ME")
        assert entry is not None
        assert not entry.confirmed
        answer = await other.intake.accept(
            europol_message("trafficking_in_human_beings"),
            await identity_of(other, tokens.sender("ME")),
        )
        assert answer.body["deliveries"][0]["state"] == "held"
        # Nothing moved: the same engine, no rebuild.
        assert await other.policy.engine(other.store) is after
    finally:
        other.close()


async def identity_of(context: GatewayContext, token: str) -> Identity:
    from gateway.security.tokens import identity_for_token

    identity = await context.store.read(lambda conn: identity_for_token(conn, token))
    assert identity is not None
    return identity
