"""Why a delivery failed: the destination's own status, error code and text, kept scrubbed of
what was sent, and shown in the status and trace API, the CLI and the console."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from adapters._remote import remote_error_of
from adapters._soap import fault_envelope
from adapters.errors import MAX_REMOTE_TEXT, RemoteError
from gateway.api.app import create_app
from gateway.cli import app as cli_app
from gateway.delivery.remote_detail import MAX_TEXT, remote_detail
from simulators import Fault
from tests.telemetry.helpers import message_from
from tests.telemetry.test_pii import SEEDED_DOCUMENT, SEEDED_NAMES
from tests.telemetry.test_story import console_page
from tests.telemetry.world import LiveServer, World

NAME = "Dragana"


def test_the_destinations_error_is_read_from_json_and_soap_faults() -> None:
    nested = b'{"error": {"code": "E_REF", "message": "reference unknown"}}'
    assert remote_error_of(nested, "application/json") == RemoteError("E_REF", "reference unknown")
    problem = b'{"type": "about:blank", "title": "Bad", "detail": "missing handling code"}'
    said = remote_error_of(problem, "application/problem+json")
    assert said == RemoteError("about:blank", "missing handling code")
    oauth = b'{"error": "invalid_token", "error_description": "expired"}'
    assert remote_error_of(oauth, "application/json") == RemoteError("invalid_token", "expired")
    fault = fault_envelope("Client.E_EVAL", "evaluation code missing")
    assert remote_error_of(fault, "text/xml") == RemoteError(
        "soapenv:Client.E_EVAL", "evaluation code missing"
    )
    assert remote_error_of(b"<html>busy</html>", "text/html") is None
    assert remote_error_of(b"not json", "application/json") is None
    long = json.dumps({"code": "X", "message": "y" * 5000}).encode()
    bounded = remote_error_of(long, "application/json")
    assert bounded is not None
    assert bounded.text is not None
    assert len(bounded.text) == MAX_REMOTE_TEXT


def test_the_kept_text_loses_what_was_sent_and_what_looks_personal() -> None:
    sent = json.dumps({"forename": NAME, "name": "Kovač", "note": "the car was red"}).encode()
    said = RemoteError(
        "E_PERSON",
        f"No match for {NAME} kovač (born 1990-03-02, doc {SEEDED_DOCUMENT}, "
        f"'{SEEDED_NAMES[0]}', mail z@x.example); the car check failed",
    )
    kept = remote_detail(said, sent, "application/json")
    assert kept is not None
    assert kept.code == "E_PERSON"
    assert kept.text is not None
    # positive control: the destination's own words are kept
    assert kept.text.startswith("No match for […]")
    assert "check failed" in kept.text
    for value in (NAME, "kovač", "1990", SEEDED_DOCUMENT, SEEDED_NAMES[0], "z@x.example", "car"):
        assert value not in kept.text
    # a code that repeats a value that was sent is not kept; nor is one without a code's shape
    assert remote_detail(RemoteError(f"NO_{NAME}", None), sent, "application/json") is None
    assert remote_detail(RemoteError("two words", "ok"), sent, "application/json") is not None
    huge = remote_detail(RemoteError(None, "failed " * 200), sent, "application/json")
    assert huge is not None
    assert huge.text is not None
    assert len(huge.text) <= MAX_TEXT
    # without the payload there is nothing to scrub against, so nothing is kept
    assert remote_detail(said, None, None) is None


async def test_a_failed_delivery_shows_the_destinations_code_and_text(world: World) -> None:
    body = message_from("al-yellow-notice-request.json")
    person = body["persons"][0]["names"][0]
    text = f"warrant reference check failed for {person['given']} {person['family']}"
    world.sims.simulator("interpol").inject(
        Fault("status", status=422, code="WARRANT_UNVERIFIED", text=text)
    )
    answer = await world.submit(body)
    await world.release_held(answer)
    await world.drain()
    message_id = body["message_id"]

    status = await world.client.get(
        f"/v1/messages/{message_id}", headers=world.auth(world.tokens.operator)
    )
    (failed,) = [d for d in status.json()["deliveries"] if d["channel"] == "interpol"]
    assert failed["state"] == "failed"
    assert failed["last_http_status"] == 422
    expected = {"code": "WARRANT_UNVERIFIED", "text": "warrant reference check failed for […]"}
    assert failed["last_remote"] == expected

    view = await world.trace(message_id)
    (delivery,) = [d for d in view["deliveries"] if d["channel"] == "interpol"]
    (attempt,) = delivery["attempts"]
    assert attempt["http_status"] == 422
    assert attempt["remote"] == expected
    assert any("code WARRANT_UNVERIFIED" in e["summary"] for e in view["events"])
    for value in (person["given"], person["family"]):
        assert value not in json.dumps(view, ensure_ascii=False)

    page = await console_page(world, f"/console/messages/{message_id}", world.tokens.operator)
    assert (
        '<td data-testid="remote-interpol-1"><span class="mono">WARRANT_UNVERIFIED</span> · '
        "warrant reference check failed for […]</td>"
    ) in page
    assert person["family"] not in page

    with LiveServer(create_app(world.context)) as server:
        result = CliRunner().invoke(
            cli_app,
            ["trace", message_id, "--url", server.url, "--token", world.tokens.operator],
            env={"COLUMNS": "220"},
        )
    assert result.exit_code == 0, result.output
    assert "What destinations said" in result.output
    assert "WARRANT_UNVERIFIED" in result.output
    assert "warrant reference check failed for […]" in result.output


async def test_a_soap_fault_keeps_its_faultcode_and_string(world: World) -> None:
    body = message_from("xk-europol-information.json")
    world.sims.simulator("europol").inject(
        Fault("soap_client_fault", code="E_EVALUATION", text="Invalid evaluation code")
    )
    answer = await world.submit(body)
    await world.release_held(answer)
    await world.drain()
    view = await world.trace(body["message_id"])
    (delivery,) = [d for d in view["deliveries"] if d["channel"] == "europol"]
    assert delivery["state"] == "failed"
    assert delivery["attempts"][0]["error_class"] == "PermanentError"
    assert delivery["attempts"][0]["remote"] == {
        "code": "soapenv:Client.E_EVALUATION",
        "text": "Invalid evaluation code",
    }
