"""``make bench``: the gateway and the simulators as separate processes on 127.0.0.1, measured
against the bare server stack and the bare transport; figures printed and written to
``benchmarks/results/latest.json``. Method and reading: ``benchmarks/README.md``.

    python -m benchmarks.run                 # both back ends, about 6-8 minutes
    python -m benchmarks.run --quick         # a smoke run, about a minute
    python -m benchmarks.run --quick --only claim --backend sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import claim, delivery, fanout, inbound, intake, signing_cost
from benchmarks._procs import ROOT, ProcessGroup, process_group, start_simulators
from benchmarks._setup import (
    benchmark_mappings,
    five_channel_template,
    fresh_database,
    gateway_env,
    issue_sender_token,
    postgres_available,
    sender_country,
    write_channels,
    write_keys,
)
from benchmarks._wrk import wrk_path

SECTIONS = (
    "loadgen",
    "intake",
    "delivery",
    "signing",
    "fanout",
    "inbound",
    "claim",
    "delivery_inprocess",
)
BACKENDS = ("sqlite", "postgresql")
WORKERS = {"sqlite": 1, "postgresql": 3}
# API processes of ``serve --processes`` (and of the baseline server it is compared with), one
# per core; ``--api-processes`` overrides.
API_PROCESSES = {"sqlite": 2, "postgresql": 2}
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "latest.json"


@dataclass(frozen=True)
class Plan:
    load: intake.LoadPlan
    delivery_warmup_s: float
    delivery_window_s: float
    direct_posts: int
    fanout_rate: float
    fanout_seconds: float
    claim_small: int
    claim_large: int
    claim_repeats: int
    inprocess_messages: int
    budget_s: float


FULL = Plan(intake.LoadPlan(3, 8, 3), 2, 15, 2000, 100, 10, 10_000, 1_000_000, 15, 600, 660)
QUICK = Plan(intake.LoadPlan(1, 3, 1), 1, 4, 300, 100, 3, 10_000, 100_000, 5, 100, 120)


@dataclass
class Run:
    plan: Plan
    only: set[str]
    run_dir: Path
    started: float
    results: dict[str, Any]
    api_processes: dict[str, int]

    def wanted(self, name: str) -> bool:
        return name in self.only

    def section(self, into: dict[str, Any], name: str, fn: Callable[[], dict[str, Any]]) -> None:
        """Run one section; a failure is recorded as text and the run goes on."""
        if time.monotonic() - self.started > self.plan.budget_s:
            into.setdefault("errors", {})[name] = "skipped: the run's time budget is spent"
            return
        began = time.monotonic()
        print(f"  {name} ...", flush=True)
        try:
            into.update(fn())
        except Exception as exc:  # any failure: record it, keep going
            message = f"{type(exc).__name__}: {exc}"[:800]
            into.setdefault("errors", {})[name] = message
            print(f"  {name} failed: {message}", flush=True)
            if os.environ.get("BENCH_TRACEBACK"):
                traceback.print_exc()
        into.setdefault("section_seconds", {})[name] = round(time.monotonic() - began, 1)


def run_backend(run: Run, backend: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "worker_processes": WORKERS[backend],
        "api_processes": run.api_processes[backend],
    }
    if backend == "postgresql":
        missing = postgres_available()
        if missing:
            out["errors"] = {"backend": missing}
            return out
    folder = run.run_dir / backend
    folder.mkdir(parents=True, exist_ok=True)
    template = five_channel_template()
    country, agency = sender_country(template)
    keys = write_keys(folder)
    mappings = benchmark_mappings(folder, country)
    plan = run.plan
    needs_simulators = any(run.wanted(s) for s in ("intake", "delivery", "fanout"))
    with process_group(folder) as group:
        urls: dict[str, str] = {}
        if needs_simulators:
            try:
                urls = start_simulators(group)
            except Exception as exc:
                out["errors"] = {"simulators": f"{type(exc).__name__}: {exc}"[:800]}
                needs_simulators = False
        channels = write_channels(folder, urls)

        if needs_simulators and (run.wanted("intake") or run.wanted("delivery")):
            shared = Shared(group, folder, keys, channels, mappings, urls, template, backend)
            intake_and_delivery(run, out, shared, sign_payloads=True)
            if run.wanted("signing"):
                unsigned: dict[str, Any] = {}
                intake_and_delivery(run, unsigned, shared, sign_payloads=False)
                out["unsigned"] = unsigned
                run.section(out, "signing_cost", lambda: {"signing_cost": signing_cost.run()})
        if needs_simulators and run.wanted("fanout"):
            with fresh_database(backend, folder, "fanout") as db:
                token = issue_sender_token(db.url, country, agency)
                embedded = backend == "sqlite"
                api_env = gateway_env(db.url, keys, channels, mappings, worker_enabled=embedded)
                worker_env = (
                    None
                    if embedded
                    else gateway_env(db.url, keys, channels, mappings, worker_enabled=True)
                )
                api = run.api_processes[backend]
                out["fanout_topology"] = (
                    f"serve --processes {api}, each with its embedded worker"
                    if embedded
                    else f"serve --processes {api} (worker disabled)"
                    f" + {WORKERS[backend]} worker processes"
                )
                run.section(
                    out,
                    "fanout",
                    lambda: fanout.run(
                        group,
                        api_env,
                        worker_env,
                        db.url,
                        template,
                        token,
                        worker_processes=WORKERS[backend],
                        rate=plan.fanout_rate,
                        seconds=plan.fanout_seconds,
                        api_processes=run.api_processes[backend],
                    ),
                )
    if run.wanted("inbound"):
        run_inbound(run, out, group, backend, folder, keys, mappings, template)
    if run.wanted("claim"):
        with fresh_database(backend, folder, "claim") as db:
            run.section(
                out,
                "claim",
                lambda: claim.run(
                    db.url,
                    small=plan.claim_small,
                    large=plan.claim_large,
                    repeats=plan.claim_repeats,
                ),
            )
    if run.wanted("delivery_inprocess"):
        with fresh_database(backend, folder, "inprocess") as db:
            run.section(out, "delivery_inprocess", lambda: inprocess_delivery(run, db.url))
    derive_ratios(out)
    return out


def run_inbound(
    run: Run,
    out: dict[str, Any],
    group: ProcessGroup,
    backend: str,
    folder: Path,
    keys: Path,
    mappings: Path,
    template: bytes,
) -> None:
    """``benchmarks/inbound.py``: answers through the real inbound path, then the bare insert
    of the same bytes."""
    country, agency = sender_country(template)
    processes = run.api_processes[backend]
    answer: list[bytes] = []

    def gateway(db_url: str) -> dict[str, Any]:
        env = gateway_env(
            db_url, keys, inbound.write_channels(folder), mappings, worker_enabled=False
        )
        token = issue_sender_token(db_url, country, agency)
        figures, body = inbound.run_gateway(
            group, env, template, token, mappings, folder, run.plan.load, processes
        )
        answer.append(body)
        return figures

    with fresh_database(backend, folder, "inbound") as db:
        run.section(out, "inbound", lambda: gateway(db.url))
    if answer:
        with fresh_database(backend, folder, "inbound_baseline") as base_db:
            run.section(
                out,
                "inbound_baseline",
                lambda: inbound.run_bare_insert(
                    group, base_db.url, answer[0], folder, run.plan.load, processes
                ),
            )


@dataclass(frozen=True)
class Shared:
    """What the intake and delivery sections of one back end share."""

    group: ProcessGroup
    folder: Path
    keys: Path
    channels: Path
    mappings: Path
    urls: dict[str, str]
    template: bytes
    backend: str


def intake_and_delivery(
    run: Run, out: dict[str, Any], shared: Shared, *, sign_payloads: bool
) -> None:
    """Intake (and its baseline) then delivery on a fresh database, payloads signed or not."""
    group, folder, keys, backend, template = (
        shared.group,
        shared.folder,
        shared.keys,
        shared.backend,
        shared.template,
    )
    plan = run.plan
    country, agency = sender_country(template)
    label = "intake" if sign_payloads else "intake-unsigned"
    with fresh_database(backend, folder, label) as db:
        token = issue_sender_token(db.url, country, agency)
        api_env = gateway_env(
            db.url,
            keys,
            shared.channels,
            shared.mappings,
            worker_enabled=False,
            sign_payloads=sign_payloads,
        )
        load = plan.load if run.wanted("intake") else intake.LoadPlan(1, 5, 1)
        run.section(
            out,
            "intake",
            lambda: intake.run_gateway(
                group,
                api_env,
                template,
                token,
                folder,
                load,
                processes=run.api_processes[backend],
            ),
        )
        if run.wanted("intake") and sign_payloads:
            with fresh_database(backend, folder, "baseline") as base_db:
                run.section(
                    out,
                    "baseline_insert",
                    lambda: intake.run_baseline(
                        group,
                        base_db.url,
                        template,
                        folder,
                        load,
                        processes=run.api_processes[backend],
                    ),
                )
        if run.wanted("delivery"):
            run_delivery(
                run, out, group, api_env, db.url, keys, shared.urls, backend, sign_payloads
            )


def inprocess_delivery(run: Run, database_url: str) -> dict[str, Any]:
    """``benchmarks/delivery_throughput.py``: one in-process worker against the adapters' own
    ``send`` on the same backlog (simulators as threads of the same process)."""
    import argparse as _argparse
    import asyncio

    from benchmarks import delivery_throughput

    figures = asyncio.run(
        delivery_throughput.main_async(
            _argparse.Namespace(
                messages=run.plan.inprocess_messages,
                concurrency=delivery.default_concurrency(),
                database_url=database_url,
            )
        )
    )
    return {"delivery_inprocess": figures}


def run_delivery(
    run: Run,
    out: dict[str, Any],
    group: ProcessGroup,
    env: dict[str, str],
    database_url: str,
    keys: Path,
    urls: dict[str, str],
    backend: str,
    baseline: bool = True,
) -> None:
    from gateway.store.engine import Store

    store = Store(database_url)
    try:
        run.section(
            out,
            "delivery",
            lambda: delivery.run_workers(
                group,
                env,
                store,
                processes=WORKERS[backend],
                warmup_s=run.plan.delivery_warmup_s,
                window_s=run.plan.delivery_window_s,
            ),
        )
        if not baseline:
            return
        run.section(
            out,
            "baseline_posts",
            lambda: delivery.run_direct_posts(
                store,
                keys,
                urls,
                in_flight=delivery.default_concurrency() * WORKERS[backend],
                limit=run.plan.direct_posts,
            ),
        )
    finally:
        store.close()


def derive_ratios(out: dict[str, Any]) -> None:
    unsigned = out.get("unsigned", {})
    for key in ("intake_msgs_per_s", "intake_p99_ms", "deliveries_per_s"):
        if unsigned.get(key) is not None:
            out[f"unsigned_{key}"] = unsigned[key]
    if out.get("intake_msgs_per_s") and out.get("baseline_insert_per_s"):
        out["intake_ratio"] = round(out["intake_msgs_per_s"] / out["baseline_insert_per_s"], 3)
    if out.get("inbound_answers_per_s") and out.get("inbound_baseline_per_s"):
        out["inbound_ratio"] = round(
            out["inbound_answers_per_s"] / out["inbound_baseline_per_s"], 3
        )
    if out.get("deliveries_per_s") and out.get("baseline_posts_per_s"):
        out["delivery_ratio"] = round(out["deliveries_per_s"] / out["baseline_posts_per_s"], 3)
    peaks = [out[k] for k in ("rss_mb_peak_intake", "rss_mb_peak_fanout") if out.get(k)]
    if peaks:
        out["rss_mb_peak"] = max(peaks)


TARGETS: list[tuple[str, str, Callable[[dict[str, Any]], bool | None]]] = [
    ("intake_msgs_per_s", ">= 800", lambda r: _ge(r.get("intake_msgs_per_s"), 800)),
    ("intake_ratio", ">= 0.4", lambda r: _ge(r.get("intake_ratio"), 0.4)),
    ("delivery_ratio", ">= 0.6", lambda r: _ge(r.get("delivery_ratio"), 0.6)),
    ("fanout_p99_ms", "< 100 at 100 msg/s", lambda r: _lt(r.get("fanout_p99_ms"), 100)),
    (
        "claim_ms_large",
        "<= 3 x claim_ms_small",
        lambda r: _le_ratio(r.get("claim_ms_large"), r.get("claim_ms_small"), 3),
    ),
    ("rss_mb_peak", "< 300", lambda r: _lt(r.get("rss_mb_peak"), 300)),
]


def _ge(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def _lt(value: float | None, bound: float) -> bool | None:
    return None if value is None else value < bound


def _le_ratio(large: float | None, small: float | None, factor: float) -> bool | None:
    return None if large is None or small is None else large <= factor * small


def judge(results: dict[str, Any]) -> dict[str, dict[str, str]]:
    verdicts: dict[str, dict[str, str]] = {}
    for backend in BACKENDS:
        if backend not in results:
            continue
        verdicts[backend] = {}
        for key, target, check in TARGETS:
            held = check(results[backend])
            verdicts[backend][f"{key} {target}"] = (
                "not measured" if held is None else ("holds" if held else "MISSED")
            )
    return verdicts


def host_facts() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_model(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="ascii").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def print_summary(results: dict[str, Any]) -> None:
    keys = [
        "intake_msgs_per_s",
        "intake_p50_ms",
        "intake_p99_ms",
        "baseline_insert_per_s",
        "intake_ratio",
        "deliveries_per_s",
        "baseline_posts_per_s",
        "delivery_ratio",
        "fanout_p50_ms",
        "fanout_p99_ms",
        "inbound_answers_per_s",
        "inbound_p99_ms",
        "inbound_baseline_per_s",
        "inbound_ratio",
        "claim_ms_small",
        "claim_ms_large",
        "rss_mb_peak",
        "unsigned_intake_msgs_per_s",
        "unsigned_intake_p99_ms",
        "unsigned_deliveries_per_s",
    ]
    print()
    print(f"{'figure':<24}" + "".join(f"{b:>14}" for b in BACKENDS if b in results))
    for key in keys:
        row = f"{key:<24}"
        for backend in BACKENDS:
            if backend in results:
                value = results[backend].get(key)
                row += f"{'-' if value is None else value:>14}"
        print(row)
    if "loadgen_ceiling_per_s" in results:
        print(f"{'loadgen_ceiling_per_s':<24}{results['loadgen_ceiling_per_s']:>14}")
    for backend, verdicts in results.get("targets", {}).items():
        for target, verdict in verdicts.items():
            print(f"  [{backend}] {target}: {verdict}")
    for backend in BACKENDS:
        for name, message in results.get(backend, {}).get("errors", {}).items():
            print(f"  [{backend}] {name} error: {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run (about a minute)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}"
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true", help="keep the run folder (logs, DBs)")
    parser.add_argument(
        "--api-processes",
        type=int,
        help="serve --processes for the gateway and the baseline server "
        f"(default per back end: {API_PROCESSES})",
    )
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    plan = QUICK if args.quick else FULL
    run_dir = Path(tempfile.mkdtemp(prefix="marri-bench-"))
    api_processes = (
        dict.fromkeys(BACKENDS, args.api_processes) if args.api_processes else dict(API_PROCESSES)
    )
    run = Run(plan, only, run_dir, time.monotonic(), {}, api_processes)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "sections": sorted(only),
        "host": host_facts(),
        "load_average_at_start": os.getloadavg(),
        "load_generator": {"tool": "wrk", "found": wrk_path() is not None},
    }
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    try:
        if run.wanted("loadgen"):
            print("load generator ceiling", flush=True)
            loadgen: dict[str, Any] = {}
            with process_group(run_dir) as group, fresh_database("sqlite", run_dir, "noop") as db:
                run.section(
                    loadgen,
                    "loadgen",
                    lambda: intake.loadgen_ceiling(
                        group, db.url, five_channel_template(), run_dir, plan.load
                    ),
                )
            results.update(loadgen)
        for backend in backends:
            print(f"{backend}", flush=True)
            results[backend] = run_backend(run, backend)
    finally:
        results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        results["duration_s"] = round(time.monotonic() - run.started, 1)
        results["load_average_at_end"] = os.getloadavg()
        results["targets"] = judge(results)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        if args.keep:
            print(f"run folder kept: {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    print_summary(results)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
