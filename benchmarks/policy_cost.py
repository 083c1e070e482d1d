"""What the legal-basis check costs per message: all five rule packs, every recipient.

Each round decides a NEW message object as intake does: its inputs converted once
(``engine.evaluate``), then one decision per delivery. The message reaches europol, interpol,
frontex, selec and pcc_see (four recipients, one decision each), i.e. 8 decisions and every rule
that applies. Prints the minimum, the median and the 99th percentile in microseconds, wall clock
and CPU time of the thread (the latter is less disturbed by other processes on a busy machine).

    .venv/bin/python benchmarks/policy_cost.py [--rounds N] [--example FILE] [--as-is]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

from gateway.policy import PolicyEngine
from gateway.schema import derive_facts, parse_message

ROOT = Path(__file__).resolve().parents[1]
PER_RECIPIENT = {"pcc_see"}


def five_channel_message(example: Path) -> bytes:
    data = json.loads(example.read_text(encoding="utf-8"))
    channels = {d["channel"] for d in data["destinations"]}
    extra = {
        "europol": {"channel": "europol"},
        "interpol": {"channel": "interpol"},
        "frontex": {"channel": "frontex", "product": "event_report"},
        "selec": {"channel": "selec", "to": ["AL", "MK", "RS"]},
        "pcc_see": {"channel": "pcc_see", "to": ["AL", "BA", "MK", "RS"]},
    }
    data["destinations"] += [d for name, d in extra.items() if name not in channels]
    return json.dumps(data).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument(
        "--example", type=Path, default=ROOT / "examples/me-early-warning-alert.json"
    )
    parser.add_argument(
        "--as-is", action="store_true", help="only the example's own destinations, not all five"
    )
    args = parser.parse_args()

    engine = PolicyEngine.load(ROOT / "mappings")
    raw = args.example.read_bytes() if args.as_is else five_channel_message(args.example)
    base = parse_message(raw, today=date(2026, 1, 1))
    decisions_per_message = sum(
        len(d.to) if d.channel in PER_RECIPIENT else 1 for d in base.destinations
    )

    decide_us: list[float] = []
    decide_cpu_us: list[float] = []
    facts_us: list[float] = []
    for _ in range(args.rounds):
        message = base.model_copy()  # a new object, as every message intake decides
        t0 = time.perf_counter()
        facts = derive_facts(message)
        t1 = time.perf_counter()
        c1 = time.thread_time()
        evaluation = engine.evaluate(message, facts)
        for destination in message.destinations:
            groups = (
                [(r,) for r in destination.to]
                if destination.channel in PER_RECIPIENT
                else [tuple(destination.to)]
            )
            for group in groups:
                engine.decide(message, facts, destination, recipients=group, evaluation=evaluation)
        t2 = time.perf_counter()
        decide_cpu_us.append((time.thread_time() - c1) * 1e6)
        facts_us.append((t1 - t0) * 1e6)
        decide_us.append((t2 - t1) * 1e6)

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[int(len(ordered) * 0.99) - 1]
        return (
            f"min {ordered[0]:7.1f} us   median {statistics.median(ordered):7.1f} us   "
            f"p99 {p99:7.1f} us"
        )

    rules = sum(len(engine.pack(c).rules) for c in engine.channels())
    channels = ", ".join(d.channel for d in base.destinations)
    print(f"message: {args.example.name} to {channels}: {decisions_per_message} decisions")
    print(f"rules loaded: {rules} in {len(engine.channels())} packs; rounds: {args.rounds}")
    print(f"decide, all channels and recipients, wall: {summary(decide_us)}")
    print(f"decide, all channels and recipients, CPU:  {summary(decide_cpu_us)}")
    print(f"derive_facts (schema, once per message): {summary(facts_us)}")


if __name__ == "__main__":
    main()
