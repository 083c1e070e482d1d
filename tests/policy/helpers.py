"""Helpers for the policy tests: examples with small changes, decisions per channel."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from gateway.policy import Decision, PolicyEngine
from gateway.schema import CanonicalMessage, derive_facts, parse_message

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MAPPINGS = ROOT / "mappings"
TODAY = date(2026, 1, 1)  # retention deadlines in the examples lie after this day

DELETE = object()
Patch = dict[str, Any] | Callable[[dict[str, Any]], None] | None


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """``persons.0.role`` = value; DELETE removes the key or list item."""
    parts = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    node: Any = data
    for part in parts[:-1]:
        node = node[part]
    last = parts[-1]
    if value is DELETE:
        del node[last]
    else:
        node[last] = copy.deepcopy(value)


def example_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def build(name: str, patch: Patch = None) -> CanonicalMessage:
    """An example, changed by a dict of dotted paths or by a function, parsed and validated."""
    data = example_data(name)
    if callable(patch):
        patch(data)
    elif patch:
        for dotted, value in patch.items():
            set_path(data, dotted, value)
    return parse_message(json.dumps(data).encode(), today=TODAY)


def strip_personal_data(data: dict[str, Any]) -> None:
    """Remove persons, communications, document numbers and vehicle ids, and what pointed at
    them, leaving a valid message without personal data."""
    removed = {p["ref"] for p in data.get("persons", [])}
    removed |= {c["ref"] for c in data.get("communications", [])}
    data["persons"] = []
    data["communications"] = []
    for document in data.get("documents", []):
        document.pop("number", None)
        document.pop("holder", None)
    for vehicle in data.get("vehicles", []):
        vehicle.pop("registration", None)
        vehicle.pop("vin", None)
    data["links"] = [
        link
        for link in data.get("links", [])
        if link["from"] not in removed and link["to"] not in removed
    ]
    for event in data.get("events", []):
        event["involved"] = [r for r in event.get("involved", []) if r not in removed]


def decide(engine: PolicyEngine, message: CanonicalMessage, channel: str) -> Decision:
    """The decision for ``channel`` with every named recipient at once."""
    destination = next(d for d in message.destinations if d.channel == channel)
    return engine.decide(
        message, derive_facts(message), destination, recipients=tuple(destination.to)
    )


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
