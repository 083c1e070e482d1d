"""One message to five channels, one channel failing twice: the trace API, the console, the CLI
and the exported spans tell the same story under one trace id."""

from __future__ import annotations

import re
import uuid

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from typer.testing import CliRunner

from gateway.api.app import create_app
from gateway.cli import app as cli_app
from simulators import Fault
from tests.telemetry.helpers import FIVE_CHANNELS, five_channel_message
from tests.telemetry.world import LiveServer, World

FLAKY = "interpol"


def _hex(value: int, width: int) -> str:
    return f"{value:0{width}x}"


async def console_page(world: World, path: str, token: str) -> str:
    login = await world.client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf is not None
    signed_in = await world.client.post(
        "/console/login", data={"token": token, "csrf": csrf.group(1), "next": path}
    )
    assert signed_in.status_code == 303, signed_in.text
    page = await world.client.get(path)
    assert page.status_code == 200
    return page.text


async def test_one_story_one_trace_id(world: World, spans: InMemorySpanExporter) -> None:
    body = five_channel_message()
    answer = await world.submit(body)
    await world.release_held(answer)
    world.sims.simulator(FLAKY).inject(Fault("status", status=503), Fault("status", status=503))
    await world.drain()

    message_id = body["message_id"]
    trace_id = answer["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)

    # -- the trace API ------------------------------------------------------------------------
    view = await world.trace(message_id)
    assert view["trace_id"] == trace_id
    assert {d["channel"] for d in view["deliveries"]} == set(FIVE_CHANNELS)
    assert all(d["state"] == "delivered" for d in view["deliveries"]), view["deliveries"]
    flaky = next(d for d in view["deliveries"] if d["channel"] == FLAKY)
    assert [a["error_class"] for a in flaky["attempts"]] == [
        "TransientError",
        "TransientError",
        None,
    ]
    assert [a["http_status"] for a in flaky["attempts"]][:2] == [503, 503]
    others = [d for d in view["deliveries"] if d["channel"] != FLAKY]
    assert all(len(d["attempts"]) == 1 for d in others)
    released = [a for a in view["actions"] if a["action"] == "delivery.release"]
    assert len(released) == sum(d["state"] == "held" for d in answer["deliveries"])
    types = [e["type"] for e in view["events"]]
    assert types[:2] == ["received", "validated"]
    assert types.count("receipt") == len(view["deliveries"])
    assert types.count("attempt") == sum(len(d["attempts"]) for d in view["deliveries"])

    # -- the exported spans ---------------------------------------------------------------------
    finished: list[ReadableSpan] = list(spans.get_finished_spans())
    intake = [s for s in finished if s.name == "POST /v1/messages"]
    assert len(intake) == 1
    root = intake[0]
    assert _hex(root.context.trace_id, 32) == trace_id
    assert root.kind is SpanKind.SERVER
    assert view["traceparent"].split("-")[2] == _hex(root.context.span_id, 16)
    children = [
        s for s in finished if s.parent is not None and s.parent.span_id == root.context.span_id
    ]
    names = [s.name for s in children]
    assert {"validate", "commit"} <= set(names)
    assert names.count("decide") == names.count("render") == len(view["deliveries"])
    assert root.attributes is not None
    assert root.attributes["http.request.method"] == "POST"
    assert root.attributes["http.route"] == "/v1/messages"
    assert root.attributes["http.response.status_code"] == 202
    planned = {
        e.attributes["marri.channel"]: e
        for e in root.events
        if e.name == "planned" and e.attributes is not None
    }
    assert set(planned) == set(FIVE_CHANNELS)
    for event in planned.values():
        assert event.attributes is not None
        assert event.attributes["marri.decision.outcome"] != "deny"
        assert event.attributes["marri.payload.size"] > 0
    assert all(s.context.trace_id == root.context.trace_id for s in children)

    attempt_spans = {
        _hex(s.context.span_id, 16): s for s in finished if s.kind is SpanKind.PRODUCER
    }
    for d in view["deliveries"]:
        assert d["attempts"], d
        previous = None
        for a in d["attempts"]:
            span = attempt_spans[a["span_id"]]
            assert a["trace_id"] == trace_id
            assert _hex(span.context.trace_id, 32) == a["trace_id"]
            assert span.attributes["marri.attempt.number"] == a["number"]
            assert span.attributes is not None
            assert span.attributes["messaging.operation.type"] == "send"
            assert span.attributes["messaging.destination.name"] == d["channel"]
            assert span.attributes["messaging.message.id"] == d["id"]
            # a child of the intake span; a retry links to the attempt that came before it
            assert span.parent is not None
            assert span.parent.span_id == root.context.span_id
            linked = [_hex(ln.context.span_id, 16) for ln in span.links]
            assert linked == ([] if previous is None else [previous])
            previous = a["span_id"]
            expected = "receipt" if a["outcome"] == "delivered" else "retry_scheduled"
            assert [e.name for e in span.events] == [expected]
            if a["error_class"]:
                assert span.status.status_code is StatusCode.ERROR
                assert span.attributes["error.type"] == a["error_class"]

    # the CLIENT child's traceparent is what each destination received
    clients = [s for s in finished if s.kind is SpanKind.CLIENT]
    by_parent: dict[int, list[ReadableSpan]] = {}
    for s in clients:
        assert s.parent is not None
        by_parent.setdefault(s.parent.span_id, []).append(s)
    for d in view["deliveries"]:
        delivered = d["attempts"][-1]
        (client_span,) = by_parent[int(delivered["span_id"], 16)]
        flags = _hex(int(client_span.context.trace_flags), 2)
        expected = f"00-{delivered['trace_id']}-{_hex(client_span.context.span_id, 16)}-{flags}"
        inbox = world.sims.simulator(d["channel"]).inbox()
        received = [e.traceparent for e in inbox if e.idempotency_key == d["idempotency_key"]]
        assert received == [expected]
    flaky_clients = [
        by_parent[int(a["span_id"], 16)][0] for a in flaky["attempts"] if a["error_class"]
    ]
    assert [c.attributes["http.response.status_code"] for c in flaky_clients] == [503, 503]

    # -- the console ----------------------------------------------------------------------------
    page = await console_page(world, f"/console/messages/{message_id}", world.tokens.operator)
    assert trace_id in page
    for d in view["deliveries"]:
        assert f'data-testid="state-{d["channel"]}">Delivered<' in page
    assert page.count('<td class="mono">TransientError</td>') == 2

    # -- the CLI, against the gateway on a real port -----------------------------------------
    with LiveServer(create_app(world.context)) as server:
        result = CliRunner().invoke(
            cli_app,
            ["trace", message_id, "--url", server.url, "--token", world.tokens.operator],
            env={"COLUMNS": "200"},
        )
    assert result.exit_code == 0, result.output
    assert trace_id in result.output
    for channel in FIVE_CHANNELS:
        assert channel in result.output
    assert result.output.count("TransientError") == 2
    assert result.output.count("delivered") >= len(view["deliveries"])

    with LiveServer(create_app(world.context)) as server:
        base = ["--url", server.url]
        missing = CliRunner().invoke(
            cli_app, ["trace", str(uuid.uuid4()), *base, "--token", world.tokens.operator]
        )
        hidden = CliRunner().invoke(
            cli_app, ["trace", message_id, *base, "--token", world.tokens.sender("RS")]
        )
    assert missing.exit_code == hidden.exit_code == 2
    assert "HTTP 404" in missing.output
    assert "HTTP 404" in hidden.output
    assert trace_id not in hidden.output
