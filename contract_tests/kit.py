"""The conformance kit's plumbing: which adapters, which cases, how a case is rendered.

An adapter root is a folder laid out like this repository (``adapters/<id>/``,
``mappings/<id>/``, ``simulators/<id>.py``, ``contract_tests/cases/<id>/``). The repository is
always a root; more come from ``--adapter-root`` or ``MARRI_ADAPTER_ROOTS`` (``os.pathsep``
separated), which is how a freshly scaffolded or out-of-tree channel joins the suite without an
installed entry point.

A golden case is a folder ``contract_tests/cases/<channel>/<case>/`` holding ``input.json`` (a
canonical message), optionally ``decision.json`` and the expected ``payload.xml`` or
``payload.json``, compared byte for byte. ``decision.json`` may set ``product`` and
``recipients`` for the render, and ``expected``: the rule pack's verdict per delivery
(``[{"recipient": null, "outcome": "review", "rules": ["selec.personal_data_unconfirmed"]}]``).
Refresh after a deliberate change with ``python -m contract_tests.refresh [CHANNEL ...]``
(``--decisions`` also records verdicts) and review the diff.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import adapters
import simulators
from adapters.base import Adapter, Payload
from adapters.registry import AdapterRegistry, load_registry
from gateway.policy.decision import Decision
from gateway.schema.message import CanonicalMessage

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = REPO_ROOT / "examples"
ROOTS_ENV = "MARRI_ADAPTER_ROOTS"
# Messages in cases carry retention dates; validate them against a fixed "today".
CASE_TODAY = date(2026, 1, 1)


@dataclass(frozen=True)
class GoldenCase:
    """One folder of expected behaviour for one channel."""

    channel: str
    name: str
    folder: Path

    @property
    def id(self) -> str:
        return f"{self.channel}-{self.name}"

    def message(self) -> CanonicalMessage:
        return load_message(self.folder / "input.json")

    def decision_overrides(self) -> dict[str, Any]:
        path = self.folder / "decision.json"
        if not path.is_file():
            return {}
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    def payload_path(self, adapter: Adapter) -> Path:
        suffix = "json" if "json" in adapter.content_type else "xml"
        return self.folder / f"payload.{suffix}"


def load_message(path: Path) -> CanonicalMessage:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return CanonicalMessage.model_validate(raw, context={"today": CASE_TODAY})


def extra_roots(cli_roots: Sequence[str] = ()) -> list[Path]:
    """Roots beyond the repository: command line first, then the environment."""
    env = [p for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p]
    roots: list[Path] = []
    for raw in [*cli_roots, *env]:
        path = Path(raw).resolve()
        if path != REPO_ROOT and path not in roots:
            roots.append(path)
    return roots


def _adapter_class_in(root: Path, name: str) -> type[Any]:
    module = importlib.import_module(f"adapters.{name}.adapter")
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if obj.__module__ == module.__name__ and getattr(obj, "name", None) == name:
            return obj
    raise LookupError(f"adapters/{name}/adapter.py under {root} defines no adapter named {name}")


def kit_registry(roots: Sequence[Path] = ()) -> AdapterRegistry:
    """The registry plus every adapter found under ``roots`` (their packages join ours): a
    channel scaffolded in another folder runs the kit as if it were in this tree."""
    registered = set(load_registry().names())
    extra_classes: list[type[Any]] = []
    for root in [REPO_ROOT, *roots]:
        for package, folder in ((adapters, root / "adapters"), (simulators, root / "simulators")):
            if folder.is_dir() and str(folder) not in package.__path__:
                package.__path__.append(str(folder))
        for adapter_dir in sorted((root / "adapters").glob("*/adapter.py")):
            name = adapter_dir.parent.name
            if name not in registered and not name.startswith("_"):
                extra_classes.append(_adapter_class_in(root, name))
                registered.add(name)
    return load_registry(extra=extra_classes, extra_mappings=[root / "mappings" for root in roots])


def case_dirs(roots: Sequence[Path] = ()) -> list[Path]:
    return [REPO_ROOT / "contract_tests" / "cases"] + [
        root / "contract_tests" / "cases" for root in roots
    ]


def golden_cases(channels: Iterable[str], roots: Sequence[Path] = ()) -> list[GoldenCase]:
    wanted = set(channels)
    found: list[GoldenCase] = []
    for base in case_dirs(roots):
        for folder in sorted(base.glob("*/*/input.json")):
            channel = folder.parent.parent.name
            if channel in wanted:
                found.append(GoldenCase(channel, folder.parent.name, folder.parent))
    return found


def examples_for(channel: str) -> list[Path]:
    """Every example message that names ``channel`` among its destinations."""
    paths = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if any(d.get("channel") == channel for d in raw.get("destinations", [])):
            paths.append(path)
    return paths


def allow_decision(
    adapter: Adapter, message: CanonicalMessage, overrides: dict[str, Any] | None = None
) -> Decision:
    """The "allow" decision the kit renders with: product and recipients from the message."""
    overrides = overrides or {}
    destination = next((d for d in message.destinations if d.channel == adapter.name), None)
    product = overrides.get("product") or (
        destination.product if destination and destination.product else adapter.default_product
    )
    recipients = tuple(overrides.get("recipients", destination.to if destination else ()))
    return Decision(channel=adapter.name, product=product, recipients=recipients)


def render_for_kit(
    adapter: Adapter, message: CanonicalMessage, overrides: dict[str, Any] | None = None
) -> Payload:
    """Render as intake would for the first (or only) delivery of this channel."""
    decision = allow_decision(adapter, message, overrides)
    recipient = decision.recipients[0] if adapter.per_recipient and decision.recipients else None
    return adapter.render(message, decision, recipient)


def personal_strings(message: CanonicalMessage) -> list[str]:
    """Values that must never appear in an error text: names, numbers, free text."""
    values: list[str | None] = [message.summary]
    for person in message.persons:
        values += [person.description]
        for name in person.names:
            values += [name.given, name.family]
    values += [doc.number for doc in message.documents]
    values += [com.value for com in message.communications]
    for vehicle in message.vehicles:
        values += [vehicle.registration, vehicle.vin]
    return [v for v in values if v and len(v) >= 4]


def decide_case(
    case: GoldenCase, registry: AdapterRegistry, roots: Sequence[Path] = ()
) -> list[dict[str, Any]]:
    """The rule pack's verdict on a case, per delivery: recipient, outcome and rule ids."""
    from gateway.config import get_settings
    from gateway.intake import plan_deliveries
    from gateway.policy import PolicyEngine
    from gateway.schema import derive_facts

    engine = PolicyEngine.load(
        get_settings().mappings_dir,
        required_channels=registry.names(),
        extra_dirs=[root / "mappings" for root in roots],
    )
    message = case.message()
    only = tuple(d for d in message.destinations if d.channel == case.channel)
    message = message.model_copy(update={"destinations": only})
    plans = plan_deliveries(message, derive_facts(message), engine=engine, registry=registry)
    return [
        {
            "recipient": plan.recipient,
            "outcome": plan.decision.outcome,
            "rules": sorted(f.rule for f in plan.decision.findings),
        }
        for plan in plans
    ]
