"""After a re-drive the attempt numbers go on: the spans, the trace API and the console show the
attempts table's numbers, and the re-driven attempt links to the one before it."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from gateway.store.tables import attempts
from simulators import Fault
from tests.telemetry.helpers import message_from
from tests.telemetry.test_story import console_page
from tests.telemetry.world import World


async def test_a_redriven_delivery_numbers_on(world: World, spans: InMemorySpanExporter) -> None:
    world.sims.simulator("interpol").inject(Fault("status", status=400))  # dead letter at once
    body = message_from("al-yellow-notice-request.json")
    answer = await world.submit(body)
    await world.release_held(answer)
    await world.drain()
    view = await world.trace(body["message_id"])
    (delivery,) = view["deliveries"]
    assert delivery["state"] == "failed"

    redrive = await world.client.post(
        "/v1/channels/interpol/redrive",
        json={"reason": "the destination fixed its validation"},
        headers=world.auth(world.tokens.operator),
    )
    assert redrive.status_code == 200, redrive.text
    # decided again on its day: the review rule holds it again until an approver releases it
    await world.release_held(await world.trace(body["message_id"]))
    await world.drain()

    view = await world.trace(body["message_id"])
    (delivery,) = view["deliveries"]
    assert delivery["state"] == "delivered"
    stored = await world.context.store.read(
        lambda conn: conn.execute(
            select(attempts.c.number, attempts.c.span_id)
            .where(attempts.c.delivery_id == delivery["id"])
            .order_by(attempts.c.id)
        ).all()
    )
    assert [r.number for r in stored] == [1, 2]
    assert [(a["number"], a["span_id"]) for a in delivery["attempts"]] == [
        (r.number, r.span_id) for r in stored
    ]
    sends = {
        f"{s.context.span_id:016x}": s
        for s in spans.get_finished_spans()
        if s.kind is SpanKind.PRODUCER
    }
    first, second = (sends[r.span_id] for r in stored)
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes["marri.attempt.number"] == 1
    assert second.attributes["marri.attempt.number"] == 2
    assert [link.context.span_id for link in second.links] == [first.context.span_id]
    assert second.context.trace_id == first.context.trace_id

    page = await console_page(
        world, f"/console/messages/{body['message_id']}", world.tokens.operator
    )
    assert '<dd data-testid="attempts-interpol">2</dd>' in page
    assert page.count("<tr><td>1</td>") == 1
    assert page.count("<tr><td>2</td>") == 1
