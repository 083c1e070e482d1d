"""Events as CloudEvents 1.0 in structured JSON mode (the ``cloudevents`` SDK), the same bytes
for the webhook body and for an inbox entry."""

from __future__ import annotations

import json
from typing import Any

from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent

from gateway.events.inbox import StoredEvent

SOURCE = "urn:marri:gateway"
CONTENT_TYPE = "application/cloudevents+json"


def to_cloudevent(event: StoredEvent) -> CloudEvent:
    """The stored event as a CloudEvent (the SDK checks its attributes)."""
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event.id,
        "type": event.type,
        "source": SOURCE,
        "time": event.occurred_at,
        "datacontenttype": "application/json",
        # The inbox cursor, so a webhook receiver can also resume by pulling.
        "sequence": str(event.seq),
    }
    if event.message_id:
        attributes["subject"] = event.message_id
    return CloudEvent(attributes=attributes, data=event.data)


def structured_body(event: StoredEvent) -> bytes:
    """The JSON body a webhook carries: the event in CloudEvents structured mode."""
    return to_structured_event(to_cloudevent(event)).body


def as_json(event: StoredEvent) -> dict[str, Any]:
    """The same event as a JSON value (an inbox entry)."""
    value: dict[str, Any] = json.loads(structured_body(event))
    return value
