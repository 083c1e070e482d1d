"""Intake: durable accepts per second of a five-channel message, against the bare insert.

Both servers run as their own process on 127.0.0.1 and face the same wrk load (one thread, 32
connections, a fresh message_id per request). The gateway runs with its worker disabled, so the
figure is intake alone: authenticate, validate, decide and render five deliveries, encrypt,
commit (SQLite ``synchronous=FULL``), answer 202.
"""

from __future__ import annotations

import statistics
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks._procs import ProcessGroup, free_port, gateway_command, wait_http
from benchmarks._setup import ID_MARKER, message_with_id
from benchmarks._wrk import WrkResult, run_wrk, write_script


@dataclass(frozen=True)
class LoadPlan:
    warmup_s: float
    seconds: float
    repeats: int
    connections: int = 32


def _median(results: list[WrkResult]) -> dict[str, float]:
    return {
        "per_s": statistics.median(r.requests_per_s for r in results),
        "p50_ms": statistics.median(r.p50_ms for r in results),
        "p99_ms": statistics.median(r.p99_ms for r in results),
        "non_2xx": sum(r.non_2xx for r in results),
        "socket_errors": sum(r.socket_errors for r in results),
        "requests": sum(r.requests for r in results),
    }


def measure(
    url: str, body_file: Path, run_dir: Path, plan: LoadPlan, token: str = ""
) -> dict[str, float]:
    script = write_script(run_dir)

    def once(seconds: float) -> WrkResult:
        return run_wrk(
            url,
            script=script,
            body_file=body_file,
            id_prefix=uuid.uuid4().hex[:8],
            id_marker=ID_MARKER,
            token=token,
            seconds=seconds,
            connections=plan.connections,
        )

    once(plan.warmup_s)
    return _median([once(plan.seconds) for _ in range(plan.repeats)])


def preflight(base_url: str, template: bytes, token: str) -> dict[str, Any]:
    """One message through the API first: it must be accepted with five queued deliveries,
    or the load figures below would measure refusals."""
    body = message_with_id(template, str(uuid.uuid4()))
    reply = httpx.post(
        f"{base_url}/v1/messages",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )
    if reply.status_code != 202:
        raise RuntimeError(
            f"the benchmark message was refused: HTTP {reply.status_code} {reply.text[:300]}"
        )
    states = {d["channel"]: d["state"] for d in reply.json()["deliveries"]}
    return states


def run_gateway(
    group: ProcessGroup,
    env: dict[str, str],
    template: bytes,
    token: str,
    run_dir: Path,
    plan: LoadPlan,
    processes: int = 1,
) -> dict[str, Any]:
    port = free_port()
    command = gateway_command(
        "serve", "--host", "127.0.0.1", "--port", str(port), "--processes", str(processes)
    )
    server = group.start("gateway-intake", command, env)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", server)
    try:
        states = preflight(base, template, token)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; gateway log: {server.tail(6)}") from None
    body_file = run_dir / "five-channel.json"
    body_file.write_bytes(template)
    figures = measure(f"{base}/v1/messages", body_file, run_dir, plan, token)
    rss = server.peak_rss_mb()
    server.stop()
    return {
        "intake_msgs_per_s": round(figures["per_s"], 1),
        "intake_p50_ms": round(figures["p50_ms"], 2),
        "intake_p99_ms": round(figures["p99_ms"], 2),
        "intake_non_2xx": int(figures["non_2xx"]),
        "intake_socket_errors": int(figures["socket_errors"]),
        "intake_deliveries_per_message": states,
        "rss_mb_peak_intake": round(rss, 1) if rss else None,
    }


def run_baseline(
    group: ProcessGroup,
    database_url: str,
    template: bytes,
    run_dir: Path,
    plan: LoadPlan,
    processes: int = 1,
    body_name: str = "five-channel.json",
) -> dict[str, Any]:
    port = free_port()
    server = group.start(
        "baseline-insert",
        [
            sys.executable,
            "-m",
            "benchmarks.baseline_app",
            "--database-url",
            database_url,
            "--port",
            str(port),
            "--processes",
            str(processes),
        ],
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", server)
    body_file = run_dir / body_name
    body_file.write_bytes(template)
    figures = measure(f"{base}/insert", body_file, run_dir, plan)
    server.stop()
    return {
        "baseline_insert_per_s": round(figures["per_s"], 1),
        "baseline_insert_p50_ms": round(figures["p50_ms"], 2),
        "baseline_insert_p99_ms": round(figures["p99_ms"], 2),
    }


def loadgen_ceiling(
    group: ProcessGroup, database_url: str, template: bytes, run_dir: Path, plan: LoadPlan
) -> dict[str, Any]:
    """wrk against a trivial endpoint of the same server stack: the most this load generator
    and this stack can show on this machine (they share its cores)."""
    port = free_port()
    server = group.start(
        "loadgen-ceiling",
        [
            sys.executable,
            "-m",
            "benchmarks.baseline_app",
            "--database-url",
            database_url,
            "--port",
            str(port),
        ],
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", server)
    body_file = run_dir / "five-channel.json"
    body_file.write_bytes(template)
    figures = measure(f"{base}/noop", body_file, run_dir, plan)
    server.stop()
    return {
        "loadgen_ceiling_per_s": round(figures["per_s"], 1),
        "loadgen": f"wrk -t1 -c{plan.connections}",
    }
