"""``serve`` as a real process, exporting to an OTLP receiver and logging JSON lines: the trace
id a message is given opens every span of it, and the log tells each accepted message, decision
and attempt under that trace id without a personal value or a token in it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.store.engine import Store
from simulators import Fault, SimulatorSet, start_simulators
from tests.api.gateway_process import GatewayProcess, free_port
from tests.conftest import Tokens, issue_tokens
from tests.telemetry.helpers import FIVE_CHANNELS
from tests.telemetry.otlp import OtlpReceiver, ReceivedSpan
from tests.telemetry.test_pii import SEEDED_NAMES, personal_values, seeded_message

pytestmark = pytest.mark.slow

SERVER, PRODUCER = 2, 4  # OTLP span kinds
TERMINAL = {"delivered", "failed", "blocked", "cancelled"}
REFUSAL_TEXT = f"no record for {SEEDED_NAMES[0]}: reference check failed"


@dataclass
class Run:
    """What one served message left behind: its trace view, the spans, the log lines."""

    answer: dict[str, Any]
    view: dict[str, Any]
    spans: list[ReceivedSpan]
    log_text: str
    lines: list[dict[str, Any]]
    tokens: Tokens
    secrets: set[str]


def _wait_for_terminal(url: str, message_id: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        view: dict[str, Any] = httpx.get(
            f"{url}/v1/messages/{message_id}/trace",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        if all(d["state"] in TERMINAL for d in view["deliveries"]):
            return view
        assert time.monotonic() < deadline, [d["state"] for d in view["deliveries"]]
        time.sleep(0.3)


def _channels_file(path: Path, sims: SimulatorSet) -> Path:
    retry = {"max_attempts": 3, "initial_backoff_s": 0.05, "max_backoff_s": 0.2}
    channels = {
        name: {"url": url, "read_timeout_s": 5.0, "retry": retry}
        for name, url in dict(sims).items()
    }
    path.write_text(json.dumps(channels), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from gateway.store.migrate import upgrade

    tmp = tmp_path_factory.mktemp("serve-telemetry")
    db_url = f"sqlite:///{tmp / 'gateway.db'}"
    upgrade(db_url)
    store = Store(db_url)
    tokens = issue_tokens(store)
    store.close()
    sims = start_simulators(FIVE_CHANNELS)
    log = tmp / "serve.log"
    with OtlpReceiver() as receiver:
        server = GatewayProcess(
            {
                "MARRI_DATABASE_URL": db_url,
                "MARRI_KEY_FILE": str(tmp / "keys.json"),
                "MARRI_SIGNING_KEY_FILE": str(tmp / "signing-key.json"),
                "MARRI_CHANNELS_FILE": str(_channels_file(tmp / "channels.json", sims)),
                "MARRI_TEST_LOG": str(log),
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            },
            free_port(),
        )
        try:
            server.start(timeout=60)
            body = seeded_message()
            sims.simulator("interpol").inject(Fault("status", status=503, retry_after="0"))
            sims.simulator("frontex").inject(
                Fault("status", status=422, code="E_REFERENCE", text=REFUSAL_TEXT)
            )
            reply = httpx.post(
                server.url + "/v1/messages",
                json=body,
                headers={"Authorization": f"Bearer {tokens.sender('ME')}"},
                timeout=30,
            )
            assert reply.status_code == 202, reply.text
            answer = reply.json()
            for d in answer["deliveries"]:
                if d["state"] == "held":
                    released = httpx.post(
                        f"{server.url}/v1/deliveries/{d['id']}/release",
                        json={"reason": "legal basis confirmed by the duty legal officer"},
                        headers={"Authorization": f"Bearer {tokens.approver}"},
                        timeout=30,
                    )
                    assert released.status_code == 200, released.text
            view = _wait_for_terminal(server.url, body["message_id"], tokens.operator)
        finally:
            server.stop()  # a graceful stop flushes the span batch on exit
            sims.stop()
        spans = receiver.trace(answer["trace_id"])
    text = log.read_text(encoding="utf-8")
    lines = []
    for raw in text.splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return Run(answer, view, spans, text, lines, tokens, personal_values(body))


def test_the_trace_id_opens_intake_decide_render_and_every_attempt(run: Run) -> None:
    trace_id = run.answer["trace_id"]
    assert run.view["trace_id"] == trace_id
    by_name: dict[str, list[ReceivedSpan]] = {}
    for s in run.spans:
        by_name.setdefault(s.name, []).append(s)
    (intake,) = by_name["POST /v1/messages"]
    assert intake.kind == SERVER
    assert intake.service == "marri-gateway"
    assert intake.attributes["http.request.method"] == "POST"
    assert intake.attributes["http.route"] == "/v1/messages"
    assert intake.attributes["http.response.status_code"] == 202
    deliveries = run.view["deliveries"]
    for stage in ("validate", "commit"):
        assert [s.parent_span_id for s in by_name[stage]] == [intake.span_id]
    for stage in ("decide", "render"):
        spans = by_name[stage]
        assert len(spans) == len(deliveries)
        assert {s.parent_span_id for s in spans} == {intake.span_id}
        assert {s.attributes["marri.channel"] for s in spans} == {d["channel"] for d in deliveries}

    sends = {s.span_id: s for s in run.spans if s.kind == PRODUCER}
    attempts = [(d, a) for d in deliveries for a in d["attempts"]]
    assert len(attempts) > len(deliveries)  # the 503 was retried
    assert set(sends) == {a["span_id"] for _, a in attempts}
    for d in deliveries:
        previous = None
        for a in d["attempts"]:
            send = sends[a["span_id"]]
            assert a["trace_id"] == trace_id
            assert send.name == f"send {d['channel']}"
            assert send.parent_span_id == intake.span_id
            assert send.attributes["marri.attempt.number"] == a["number"]
            assert send.links == ([] if previous is None else [(trace_id, previous)])
            previous = a["span_id"]
            # the transport's CLIENT span hangs under its attempt, in the same trace
            clients = [s for s in run.spans if s.parent_span_id == a["span_id"]]
            assert [c.name for c in clients] == ["POST"]
    failed = next(d for d in deliveries if d["channel"] == "frontex")
    (client,) = [s for s in run.spans if s.parent_span_id == failed["attempts"][0]["span_id"]]
    assert client.attributes["error.type"] == "422"


def test_the_log_has_a_json_line_per_message_decision_attempt_and_action(run: Run) -> None:
    trace_id = run.answer["trace_id"]
    message_id = run.answer["message_id"]
    assert run.lines, run.log_text[:2000]
    events = [line for line in run.lines if "event" in line]
    accepted = [e for e in events if e["event"] == "intake.accepted"]
    assert [e["marri.message.id"] for e in accepted] == [message_id]
    assert accepted[0]["trace_id"] == trace_id
    assert accepted[0]["span_id"]
    decided = [e for e in events if e["event"] == "intake.decided"]
    assert sorted(e["marri.channel"] for e in decided) == sorted(
        d["channel"] for d in run.view["deliveries"]
    )
    attempts = [e for e in events if e["event"] == "delivery.attempt"]
    recorded = {(a["span_id"], a["number"]) for d in run.view["deliveries"] for a in d["attempts"]}
    assert {(e["span_id"], e["marri.attempt.number"]) for e in attempts} == recorded
    assert all(e["trace_id"] == trace_id for e in [*decided, *attempts])
    actions = [e for e in events if e["event"] == "audit.appended"]
    assert "delivery.release" in {e["marri.action"] for e in actions}
    # every line of ours carries the trace of the moment it was written in
    assert all("trace_id" in e for e in [*accepted, *decided, *attempts])
    assert all(e["level"] and e["logger"] and e["ts"] for e in run.lines)


def test_the_log_holds_no_personal_value_and_no_token(run: Run) -> None:
    # positive control: the ids the log must carry are there, so the scan below can see
    assert run.answer["message_id"] in run.log_text
    assert "E_REFERENCE" not in run.log_text  # the destination's words are kept, not logged
    assert run.secrets
    for secret in run.secrets:
        assert secret not in run.log_text, f"the log carries a personal value ({len(secret)})"
    tokens = [*run.tokens.senders.values(), run.tokens.operator, run.tokens.approver]
    for token in tokens:
        assert token not in run.log_text
    frontex = next(d for d in run.view["deliveries"] if d["channel"] == "frontex")
    said = frontex["attempts"][0]["remote"]
    assert said["code"] == "E_REFERENCE"
    assert "reference check failed" in said["text"]
    assert SEEDED_NAMES[0] not in said["text"]
