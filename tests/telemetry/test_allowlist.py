"""The export boundary drops every attribute, event and status text the allow-list does not
name, whatever a call site set."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from gateway.telemetry import attempt_span, safe_attributes, tracer
from gateway.telemetry.attributes import allowed_attribute

DELIVERY = "0b6f3c1e-8a57-4c36-9f0e-2d7c1b3a4e5f"


def test_values_must_have_the_shape_of_their_key() -> None:
    assert allowed_attribute("marri.channel", "interpol")
    assert not allowed_attribute("marri.channel", "Marko Radunović")
    assert not allowed_attribute("marri.delivery.id", "ME7741982QX")
    assert not allowed_attribute("error.type", "could not parse 'Zorica'")
    assert not allowed_attribute("person.name", "Zorica")
    assert allowed_attribute("http.response.status_code", 503)
    assert not allowed_attribute("http.response.status_code", "503")
    assert safe_attributes({"marri.recipient": "AL", "marri.recipient_name": "Zorica"}) == {
        "marri.recipient": "AL"
    }


def test_leaky_span_is_cleaned_on_the_way_out(spans: InMemorySpanExporter) -> None:
    with tracer().start_as_current_span(
        "careless", kind=SpanKind.INTERNAL, record_exception=True
    ) as span:
        span.set_attribute("person.family", "Radunović")
        span.set_attribute("marri.channel", "not a channel: +382 69 555 0142")
        span.set_attribute("marri.delivery.id", DELIVERY)
        span.add_event("note", {"text": "Zorica Petrović"})
        span.record_exception(ValueError("document ME7741982QX is forged"))
        span.set_status(Status(StatusCode.ERROR, "holder Zorica Petrović unknown"))
    (exported,) = spans.get_finished_spans()
    assert dict(exported.attributes or {}) == {"marri.delivery.id": DELIVERY}
    assert list(exported.events) == []
    assert exported.status.status_code is StatusCode.ERROR
    assert exported.status.description is None
    for secret in ("Radunović", "0142", "Zorica", "ME7741982QX"):
        assert secret not in exported.to_json()


def test_attempt_span_errors_carry_the_class_only(spans: InMemorySpanExporter) -> None:
    try:
        with attempt_span(
            channel="selec",
            delivery_id=DELIVERY,
            message_id=DELIVERY,
            attempt=1,
            creation_traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            previous_traceparent="00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01",
        ):
            raise KeyError("Milunka Дедовић")
    except KeyError:
        pass
    (exported,) = spans.get_finished_spans()
    assert exported.status.description == "KeyError"
    assert (exported.attributes or {})["error.type"] == "KeyError"
    assert "Milunka" not in exported.to_json()
    # one trace per message: the attempt is a child of the intake span, linked to the attempt
    # before it
    assert f"{exported.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert exported.parent is not None
    assert f"{exported.parent.span_id:016x}" == "b7ad6b7169203331"
    (link,) = exported.links
    assert f"{link.context.span_id:016x}" == "00f067aa0ba902b7"
