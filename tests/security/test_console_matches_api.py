"""The console and the API give every caller the same answer.

Each caller (both kinds of sender, regional and country-scoped operators, approver, auditor,
admin, legal officer) tries every operator, approver and legal action and every read the
console offers, once over
the API with its bearer token and once in the console over HTTP with a signed-in session, each
time on a delivery of its own in the same state. The two answers (done, or the refusal's code)
and what happened to the delivery must agree; the buttons the console shows must be exactly
the actions the API lets the caller do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from sqlalchemy import update

from gateway.context import GatewayContext
from gateway.security.tokens import issue_token
from gateway.services.permissions import Role
from gateway.store.tables import deliveries
from tests.api.helpers import dumps, variant
from tests.conftest import Tokens
from tests.console.signin import banner, csrf_of, sign_in
from tests.delivery._support import add_delivery, delivery_row

CHANNEL = "interpol"
# delivery action -> the state a fresh delivery is put in for it
DELIVERY_ACTIONS = {
    "retry": "failed",
    "redrive": "failed",
    "cancel": "queued",
    "release": "held",
    "reject": "held",
}
CHANNEL_ACTIONS = ("redrive", "pause", "resume", "test")
# A fact the shipped table leaves unconfirmed; legal actions on it, as the API takes them.
INSTRUMENT, COUNTRY = "europol_operational_agreement", "MK"
SOURCE = "https://example.org/agreements/mk (as the test states it)"
FACT_ACTIONS = {
    "confirm": ("POST", f"/v1/facts/{INSTRUMENT}/{COUNTRY}/confirm", {"source": SOURCE}),
    "withdraw": ("POST", f"/v1/facts/{INSTRUMENT}/{COUNTRY}/withdraw", {"source": SOURCE}),
    "set": (
        "PUT",
        f"/v1/facts/{INSTRUMENT}/{COUNTRY}",
        {"source": SOURCE, "party": True, "since": "2011-01-01", "confirmed": False},
    ),
}


@dataclass(frozen=True)
class Caller:
    name: str
    token: str


def _callers(context: GatewayContext, tokens: Tokens) -> list[Caller]:
    def scoped(role: Role, *countries: str) -> str:
        return context.store.write_sync(
            lambda conn: issue_token(
                conn, role=role, label=f"{role} {countries}", scope_countries=countries
            )
        ).token

    return [
        Caller("sender-AL", tokens.sender("AL")),
        Caller("sender-RS", tokens.sender("RS")),
        Caller("operator", tokens.operator),
        Caller("operator-AL", scoped(Role.OPERATOR, "AL")),
        Caller("operator-RS", scoped(Role.OPERATOR, "RS")),
        Caller("approver", tokens.approver),
        Caller("auditor", tokens.auditor),
        Caller("admin", tokens.admin),
        Caller("legal", scoped(Role.LEGAL)),
    ]


def _api_answer(response: httpx.Response) -> str:
    if response.status_code == 200:
        return "done"
    code: str = response.json()["error"]["code"]
    return code


async def _console_answer(http: httpx.AsyncClient, response: httpx.Response) -> str:
    """done (or requeued_N), or the refusal's code: from the banner the redirect leads to, or
    the error page's status."""
    if response.status_code == 303:
        kind, code, detail = await banner(http, response)
        if kind == "problem":
            return code
        return f"requeued_{detail}" if code == "requeued" else "done"
    if response.status_code == 200:
        return "done"
    return {403: "forbidden", 404: "not_found"}[response.status_code]


async def _console(http: httpx.AsyncClient, token: str) -> str | None:
    """Sign ``http`` in to the console; the session's CSRF value, or None when refused."""
    answer = await sign_in(http, token)
    if answer.status_code != 303:
        return None
    page = await http.get(answer.headers["location"])
    assert page.status_code == 200
    return csrf_of(page.text)


async def test_every_action_and_read_answers_alike_in_api_and_console(
    context: GatewayContext, tokens: Tokens, client: httpx.AsyncClient
) -> None:
    http = client
    message = variant("al-victim-identification-pcc-see.json")
    submitted = await http.post(
        "/v1/messages",
        content=dumps(message),
        headers={
            "Authorization": f"Bearer {tokens.sender('AL')}",
            "Content-Type": "application/json",
        },
    )
    assert submitted.status_code == 202, submitted.text
    message_id = submitted.json()["message_id"]
    payload_of = submitted.json()["deliveries"][0]["id"]

    def fresh(state: str) -> str:
        return add_delivery(context.store, context.keyring, channel=CHANNEL, state=state)

    def one_dead_letter() -> None:
        """Exactly one failed delivery on the channel, so both re-drives find the same."""
        context.store.write_sync(
            lambda conn: conn.execute(
                update(deliveries)
                .where(deliveries.c.channel == CHANNEL, deliveries.c.state == "failed")
                .values(state="cancelled")
            )
        )
        fresh("failed")

    compared: dict[str, dict[str, str]] = {}
    for caller in _callers(context, tokens):
        bearer = {"Authorization": f"Bearer {caller.token}"}
        csrf = await _console(http, caller.token)
        assert csrf is not None, f"{caller.name} could not sign in"
        answers: dict[str, str] = {}

        for action, state in DELIVERY_ACTIONS.items():
            by_api, in_console = fresh(state), fresh(state)
            api = await http.post(
                f"/v1/deliveries/{by_api}/{action}", json={"reason": "checked"}, headers=bearer
            )
            console = await http.post(
                f"/console/deliveries/{in_console}/{action}",
                data={"csrf": csrf, "reason": "checked"},
            )
            where = f"{action} as {caller.name}"
            assert _api_answer(api) == await _console_answer(http, console), where
            after = (delivery_row(context.store, by_api).state,)
            assert after == (delivery_row(context.store, in_console).state,), where
            answers[action] = _api_answer(api)

        for action in CHANNEL_ACTIONS:
            one_dead_letter()
            api = await http.post(
                f"/v1/channels/{CHANNEL}/{action}", json={"reason": "checked"}, headers=bearer
            )
            api_answer = _api_answer(api)
            if action == "redrive" and api_answer == "done":
                api_answer = f"requeued_{api.json()['requeued']}"
            one_dead_letter()
            console = await http.post(
                f"/console/channels/{CHANNEL}/{action}", data={"csrf": csrf, "reason": "checked"}
            )
            console_answer = await _console_answer(http, console)
            assert api_answer == console_answer, f"{action} as {caller.name}"
            answers[action] = api_answer

        # A filtered list's dead letters: confirmed on a page, then re-driven with a reason.
        one_dead_letter()
        api = await http.post(
            "/v1/deliveries/redrive",
            json={"channel": CHANNEL, "reason": "checked"},
            headers=bearer,
        )
        api_answer = _api_answer(api)
        if api_answer == "done":
            api_answer = f"requeued_{api.json()['requeued']}"
        one_dead_letter()
        confirm = await http.get("/console/redrive", params={"channel": CHANNEL})
        console = await http.post(
            "/console/redrive", data={"csrf": csrf, "channel": CHANNEL, "reason": "checked"}
        )
        assert api_answer == await _console_answer(http, console), f"bulk as {caller.name}"
        assert (confirm.status_code == 200) == (api.status_code == 200), f"confirm {caller.name}"
        answers["redrive-filtered"] = api_answer

        reads = {
            "channels": ("/v1/channels", "/console/"),
            "messages": ("/v1/messages?channel=pcc_see", "/console/messages?channel=pcc_see"),
            "message": (f"/v1/messages/{message_id}/trace", f"/console/messages/{message_id}"),
        }
        for read, (api_path, console_path) in reads.items():
            api = await http.get(api_path, headers=bearer)
            console = await http.get(console_path)
            where = f"read {read} as {caller.name}"
            assert _api_answer(api) == await _console_answer(http, console), where
            if api.status_code == 200:
                assert (message_id in api.text) == (message_id in console.text), where
            answers[read] = _api_answer(api)

        # What the console offers is what the API allows: the buttons of a held delivery.
        held = fresh("held")
        page = await http.get(f"/console/messages/{delivery_row(context.store, held).message_id}")
        if page.status_code == 200:
            offered = set(re.findall(rf"/console/deliveries/{held}/(\w+)", page.text))
            offered.discard("payload")  # a read, compared below
            allowed = set()
            for action in ("cancel", "release", "reject"):
                api = await http.post(
                    f"/v1/deliveries/{fresh('held')}/{action}",
                    json={"reason": "checked"},
                    headers=bearer,
                )
                if api.status_code == 200:
                    allowed.add(action)
            assert offered == allowed, f"buttons for {caller.name}"

        # Legal actions on a fact, and what the facts page offers.
        for action, (method, path, body) in FACT_ACTIONS.items():
            api = await http.request(method, path, json=body, headers=bearer)
            form = {"csrf": csrf, "instrument": INSTRUMENT, "country": COUNTRY, "source": SOURCE}
            if action == "set":
                form |= {"party": "yes", "since": "2011-01-01"}
            console = await http.post(f"/console/facts/{action}", data=form)
            assert _api_answer(api) == await _console_answer(http, console), (
                f"fact {action} as {caller.name}"
            )
            answers[f"fact.{action}"] = _api_answer(api)
        api = await http.get("/v1/facts", headers=bearer)
        console = await http.get("/console/facts")
        assert _api_answer(api) == await _console_answer(http, console), (
            f"read facts as {caller.name}"
        )
        answers["facts"] = _api_answer(api)
        if console.status_code == 200:
            offered = set(re.findall(r"/console/facts/(confirm|withdraw|set)", console.text))
            allowed = {a for a in FACT_ACTIONS if answers[f"fact.{a}"] == "done"}
            assert offered == allowed, f"fact forms for {caller.name}"

        # The payload read has no API twin: it follows the same table and tenancy.
        payload = await http.get(f"/console/deliveries/{payload_of}/payload")
        answers["payload"] = await _console_answer(http, payload)
        compared[caller.name] = answers

    # The answers differ between callers where the table says they should.
    assert compared["approver"]["release"] == "done"
    assert compared["admin"]["release"] == "forbidden"  # separation of duties
    assert compared["operator"]["retry"] == "done"
    assert compared["operator-RS"]["retry"] == "not_found"  # another country's delivery
    assert compared["operator-AL"]["pause"] == "regional_scope_required"
    assert compared["operator-RS"]["redrive"] == "requeued_0"
    assert compared["operator"]["redrive-filtered"] == "requeued_1"
    assert compared["approver"]["redrive-filtered"] == "forbidden"
    # a probe touches no country's data: a scoped operator may run it (unconfigured here)
    assert (
        compared["operator-AL"]["test"] == compared["operator"]["test"] == "channel_not_configured"
    )
    assert compared["auditor"]["test"] == "forbidden"
    assert compared["sender-AL"]["message"] == "done"
    assert compared["sender-RS"]["message"] == "not_found"
    assert compared["sender-AL"]["channels"] == "forbidden"
    assert compared["auditor"]["payload"] == "forbidden"
    assert compared["operator-RS"]["payload"] == "not_found"
    assert compared["admin"]["payload"] == "done"
    assert compared["legal"]["fact.confirm"] == "done"
    assert compared["legal"]["fact.set"] == "done"
    assert compared["approver"]["fact.confirm"] == "forbidden"  # facts are the legal role's
    assert compared["admin"]["fact.withdraw"] == "forbidden"
    assert compared["auditor"]["facts"] == "done"
    assert compared["sender-AL"]["facts"] == "forbidden"
    assert compared["legal"]["message"] == "forbidden"  # a legal officer reads no messages
