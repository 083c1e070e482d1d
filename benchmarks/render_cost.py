"""Rendering cost per channel: ``python -m benchmarks.render_cost [--repeat 5] [--number 200]``.

``--bench-message`` instead times what intake renders for ``make bench``'s five-channel message
(``benchmarks/_setup.py``): one payload per delivery, per channel and in total. ``--cpu`` times
with the process's CPU clock rather than the wall clock (steadier when other work shares the
host).

For every registered adapter and every golden case and example naming it, times ``render``
(build + serialise + schema validation, exactly what intake pays) and ``validate_payload`` alone,
and reports µs per call, best of ``--repeat`` runs of ``--number`` calls; ``build≈`` is
render minus validation (building and serialising the document; a lower bound, as render
checks the document it built while ``validate_payload`` parses the bytes first). Each render
gets one of several copies of its input in turn, as intake never renders one message object
twice. In ``--bench-message``'s total, as at intake, one ``RenderSource`` per message serves
all its renders (the JSON dump made once, PCC SEE's tree copied for its next recipient); the
figure per delivery prepares a source for each render. For the SOAP channels it also times the
alternative the profile did not take: zeep's ``create_message`` for the same request (the body
parsed back into zeep objects first, outside the timing), so the choice of hand-built lxml
envelopes is a measured one (``zeep create`` includes serialising).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from adapters._soap import SoapService
from adapters._xml import parse_xml
from adapters.base import Adapter
from adapters.registry import AdapterRegistry
from adapters.source import RenderSource, render_payload
from benchmarks._setup import five_channel_template, message_with_id
from contract_tests import kit
from gateway.policy.decision import Decision
from gateway.schema.message import CanonicalMessage

CLOCK: Callable[[], float] = time.perf_counter


def best_us(call: Callable[[], object], number: int, repeat: int) -> float:
    """µs per call, best of ``repeat`` runs: the least disturbed by other load on the host."""
    call()
    runs = []
    for _ in range(repeat):
        start = CLOCK()
        for _ in range(number):
            call()
        runs.append((CLOCK() - start) / number * 1e6)
    return min(runs)


# Distinct copies of the benchmark message, taken in turn: intake never renders the same
# message object twice, so nothing a render keeps from the previous message may help here.
BENCH_MESSAGE_COPIES = 64

Delivery = tuple[str, Adapter, Decision, str | None]


def bench_message_deliveries(registry: AdapterRegistry) -> tuple[list[Delivery], Iterator[Any]]:
    """(label, adapter, decision, recipient) for every delivery intake plans for the benchmark
    message, and an endless supply of copies of that message, each with its own id."""
    template = five_channel_template()
    messages = [
        CanonicalMessage.model_validate(json.loads(message_with_id(template, str(uuid.uuid4()))))
        for _ in range(BENCH_MESSAGE_COPIES)
    ]
    deliveries: list[Delivery] = []
    for destination in messages[0].destinations:
        adapter = registry.get(destination.channel)
        product = destination.product or adapter.default_product
        recipients = tuple(destination.to or ())
        groups = (
            [(r,) for r in recipients] if adapter.per_recipient and recipients else [recipients]
        )
        for group in groups:
            recipient = group[0] if adapter.per_recipient and group else None
            decision = Decision(channel=adapter.name, product=product, recipients=group)
            label = adapter.name + (f" → {recipient}" if recipient else "")
            deliveries.append((label, adapter, decision, recipient))
    return deliveries, itertools.cycle(messages)


def bench_message(registry: AdapterRegistry, number: int, repeat: int) -> dict[str, float]:
    """µs per delivery and for the whole message (all its renders in turn), best of runs."""
    deliveries, messages = bench_message_deliveries(registry)
    figures: dict[str, float] = {}
    for label, adapter, decision, recipient in deliveries:

        def one(a: Adapter = adapter, d: Decision = decision, r: str | None = recipient) -> None:
            render_payload(a, RenderSource(next(messages)), d, r)

        figures[label] = round(best_us(one, number, repeat), 1)

    def all_renders() -> None:
        source = RenderSource(next(messages))
        for _, adapter, decision, recipient in deliveries:
            render_payload(adapter, source, decision, recipient)

    figures["total"] = round(best_us(all_renders, number, repeat), 1)
    return figures


def copies_of(message: CanonicalMessage) -> Iterator[CanonicalMessage]:
    """Copies of ``message`` in turn, so that each render meets a message object it has not seen
    (as at intake), whatever a channel keeps from the message it rendered last."""
    return itertools.cycle([message.model_copy(deep=True) for _ in range(BENCH_MESSAGE_COPIES)])


def inputs_for(adapter: Adapter) -> list[tuple[str, CanonicalMessage, dict[str, Any]]]:
    found = [
        (case.name, case.message(), case.decision_overrides())
        for case in kit.golden_cases([adapter.name])
    ]
    found += [(p.stem, kit.load_message(p), {}) for p in kit.examples_for(adapter.name)]
    return found


def zeep_create_us(service: SoapService, body: bytes, number: int, repeat: int) -> float:
    """zeep serialising the same request from objects (what render would cost via zeep)."""
    envelope = parse_xml(body)
    request = envelope[0][0]
    element = service.operation.input.body
    value = element.parse(request, service.client.wsdl.types)
    operation = service.operation.name
    service_name = next(iter(service.client.wsdl.services))
    proxy = service.client.bind(service_name)
    del proxy

    def create() -> object:
        created = service.client.create_message(  # type: ignore[no-untyped-call]
            service.client.service, operation, **{k: value[k] for k in value}
        )
        return etree.tostring(created, encoding="UTF-8", xml_declaration=True)

    return best_us(create, number, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render_cost", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--bench-message", action="store_true", help="time the benchmark message's renders only"
    )
    parser.add_argument("--cpu", action="store_true", help="time with the process CPU clock")
    args = parser.parse_args(argv)
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    registry = kit.kit_registry()
    if args.bench_message:
        figures = bench_message(registry, args.number, args.repeat)
        print("benchmark message, render µs per delivery (best of runs):")
        for label, value in figures.items():
            print(f"  {label:14} {value:8.1f}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        return 0
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        adapter = registry.get(name)
        for label, message, overrides in inputs_for(adapter):
            payload = kit.render_for_kit(adapter, message, overrides)
            copies = copies_of(message)

            def render_once(
                a: Adapter = adapter, m: Any = copies, o: dict[str, Any] = overrides
            ) -> object:
                return kit.render_for_kit(a, next(m), o)

            def validate_once(a: Adapter = adapter, b: bytes = payload.body) -> object:
                return a.validate_payload(b)

            row: dict[str, Any] = {
                "channel": name,
                "input": label,
                "bytes": len(payload.body),
                "render_us": round(
                    best_us(render_once, args.number, args.repeat),
                    1,
                ),
                "validate_us": round(
                    best_us(validate_once, args.number, args.repeat),
                    1,
                ),
            }
            service = getattr(adapter, "service", None)
            if isinstance(service, SoapService):
                try:
                    row["zeep_create_message_us"] = round(
                        zeep_create_us(service, payload.body, args.number, args.repeat), 1
                    )
                except Exception as exc:  # measured alternative only; report, do not fail
                    row["zeep_create_message_us"] = f"n/a ({type(exc).__name__})"
            rows.append(row)
    for row in rows:
        row["build_us"] = round(row["render_us"] - row["validate_us"], 1)
    print(
        f"{'channel':9} {'input':34} {'bytes':>6} {'render µs':>10} {'validate':>9}"
        f" {'build≈':>8} {'zeep create':>12}"
    )
    for row in rows:
        print(
            f"{row['channel']:9} {row['input'][:34]:34} {row['bytes']:>6} {row['render_us']:>10}"
            f" {row['validate_us']:>9} {row['build_us']:>8}"
            f" {row.get('zeep_create_message_us', ''):>12}"
        )
    print("\nrender µs per channel (median over its inputs):")
    for name in registry.names():
        values = [r["render_us"] for r in rows if r["channel"] == name]
        if values:
            print(f"  {name:9} {statistics.median(values):8.1f}  (over {len(values)} inputs)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
