"""No personal data in telemetry: seed names, document numbers and phone numbers, run intake
and delivery through successes and failures, then scan every exported span and log line."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simulators import Fault
from tests.telemetry.helpers import five_channel_message
from tests.telemetry.world import World

SEEDED_NAMES = ("Zorica", "Petrović-Vujošević", "Milunka", "Дедовић")
SEEDED_DOCUMENT = "ME7741982QX"
SEEDED_PHONE = "+382 69 555 0142"


def seeded_message() -> dict[str, Any]:
    body = five_channel_message()
    body["persons"].append(
        {
            "ref": "v-9",
            "role": "suspect",
            "names": [
                {"given": SEEDED_NAMES[0], "family": SEEDED_NAMES[1]},
                {"given": SEEDED_NAMES[2], "family": SEEDED_NAMES[3], "script": "Cyrl"},
            ],
            "sex": "female",
            "birth_date": "1990-03-02",
            "nationalities": ["ME"],
        }
    )
    body["documents"] = [
        {
            "ref": "doc-9",
            "type": "passport",
            "number": SEEDED_DOCUMENT,
            "issuing_country": "ME",
            "holder": "v-9",
        }
    ]
    body["communications"].append(
        {"ref": "com-9", "kind": "phone", "value": SEEDED_PHONE, "owner": "v-9"}
    )
    return body


def personal_values(body: dict[str, Any]) -> set[str]:
    """Every name, document number, communication value, contact and free text in the message."""
    values: set[str] = set()
    for person in body.get("persons", []):
        for name in person.get("names", []):
            values.update(v for k, v in name.items() if k in ("given", "family"))
        if person.get("description"):
            values.add(person["description"])
    values.update(d["number"] for d in body.get("documents", []) if d.get("number"))
    values.update(c["value"] for c in body.get("communications", []))
    values.update(v for v in body["sender"].get("contact", {}).values())
    values.update(body[k] for k in ("subject", "summary") if body.get(k))
    # digits of the phone numbers without their spaces, as a careless formatter might print them
    values.update(v.replace(" ", "") for v in list(values) if v.startswith("+"))
    return {v for v in values if len(v) >= 4}


def span_texts(exporter: InMemorySpanExporter) -> list[str]:
    texts = []
    for span in exporter.get_finished_spans():
        texts.append(span.to_json())
        texts.append(json.dumps(dict(span.attributes or {}), ensure_ascii=False))
        for event in span.events:
            texts.append(event.name + json.dumps(dict(event.attributes or {}), ensure_ascii=False))
        texts.append(span.status.description or "")
    return texts


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_no_personal_data_in_spans_or_logs(
    world: World, spans: InMemorySpanExporter, all_logs: pytest.LogCaptureFixture
) -> None:
    body = seeded_message()
    secrets = personal_values(body)
    assert {SEEDED_DOCUMENT, SEEDED_PHONE, *SEEDED_NAMES} <= secrets

    answer = await world.submit(body)
    # a repeat (replay) and a refusal also run through intake's spans
    await world.submit(body, expect=200)
    broken = seeded_message()
    broken["documents"][0]["holder"] = "nobody"
    refused = await world.client.post(
        "/v1/messages", json=broken, headers=world.auth(world.tokens.sender("ME"))
    )
    assert refused.status_code == 422

    await world.release_held(answer)
    world.sims.simulator("interpol").inject(Fault("status", status=503, retry_after="0"))
    world.sims.simulator("frontex").inject(Fault("status", status=400))  # dead letter at once
    world.sims.simulator("europol").inject(Fault("soap_server_fault"))
    world.sims.simulator("selec").inject(Fault("timeout", seconds=1.5))  # outcome unknown
    world.sims.simulator("pcc_see").inject(Fault("malformed"))
    await world.drain()

    view = await world.trace(body["message_id"])
    errors = {a["error_class"] for d in view["deliveries"] for a in d["attempts"]}
    assert {"TransientError", "PermanentError", "OutcomeUnknown"} <= errors
    assert any(d["state"] == "failed" for d in view["deliveries"])

    texts = span_texts(spans)
    assert len(texts) > 40  # intake stages, attempts and client calls were all exported
    logs = [r.getMessage() for r in all_logs.records]
    logs += [r.exc_text or "" for r in all_logs.records]
    # the log lines exist and carry ids, trace ids and error classes instead
    accepted = [line for line in logs if line.startswith("intake.accepted")]
    assert any(body["message_id"] in line and answer["trace_id"] in line for line in accepted)
    assert any(line.startswith("intake.refused") and "invalid_" in line for line in logs)
    for secret in secrets:
        leaking_spans = [t for t in texts if secret in t]
        assert not leaking_spans, f"a span carries a personal value: {leaking_spans[0][:300]}"
        leaking_logs = [line for line in logs if secret in line]
        assert not leaking_logs, f"a log line carries a personal value: {leaking_logs[0][:300]}"
