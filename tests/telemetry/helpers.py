"""Shared by the telemetry and console tests: messages to send and tokens with a scope."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import example_bytes

FIVE_CHANNELS = ("europol", "frontex", "interpol", "pcc_see", "selec")


def message_from(example: str, **changes: Any) -> dict[str, Any]:
    """An example message with a fresh message_id (and any top-level field replaced)."""
    body: dict[str, Any] = json.loads(example_bytes(example))
    body["message_id"] = str(uuid.uuid4())
    body.update(changes)
    return body


def five_channel_message() -> dict[str, Any]:
    """The Montenegrin early warning, addressed to all five channels."""
    body = message_from("me-early-warning-alert.json")
    present = {d["channel"] for d in body["destinations"]}
    for channel in FIVE_CHANNELS:
        if channel not in present:
            body["destinations"].append({"channel": channel})
    return body


def scoped_operator(store: object, countries: tuple[str, ...]) -> str:
    from gateway.security.tokens import issue_token
    from gateway.store.engine import Store

    assert isinstance(store, Store)
    return store.write_sync(
        lambda conn: issue_token(
            conn,
            role="operator",
            label=f"operator {'+'.join(countries)}",
            scope_countries=countries,
        )
    ).token
