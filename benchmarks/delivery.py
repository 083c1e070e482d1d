"""Delivery: the worker draining a backlog into the simulators, against posting the same stored
payloads straight to them with the same client library (httpx), in the same run.

The backlog is what the intake section left (five queued deliveries per accepted message). The
worker processes are started, given a moment to warm up, and the delivered count is read from
the store at the start and end of a fixed window. Then the workers are stopped and stored
payloads (those still queued first) are decrypted and posted directly under keys of their own,
per channel with as many requests in flight as the workers allowed themselves (channel
concurrency x worker processes).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks._procs import ProcessGroup, gateway_command
from gateway.config import ChannelSettings
from gateway.store.crypto import load_or_create_keyring, payload_aad
from gateway.store.engine import Store
from gateway.store.tables import deliveries


def state_counts(store: Store) -> Counter[str]:
    rows = store.read_sync(
        lambda conn: conn.execute(
            select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
        ).all()
    )
    return Counter({state: count for state, count in rows})


def run_workers(
    group: ProcessGroup,
    env: dict[str, str],
    store: Store,
    *,
    processes: int,
    warmup_s: float,
    window_s: float,
) -> dict[str, Any]:
    before = state_counts(store)
    backlog = before["queued"]
    if backlog == 0:
        raise RuntimeError("no backlog to drain (the intake section stored nothing)")
    workers = [
        group.start(f"worker-{i}", gateway_command("worker", "--id", f"bench-{i}"), env)
        for i in range(processes)
    ]
    deadline = time.monotonic() + 30
    while state_counts(store)["delivered"] == 0:
        if not all(w.alive() for w in workers):
            raise RuntimeError(
                f"a worker exited: {next(w for w in workers if not w.alive()).tail()}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError("the workers delivered nothing within 30 s")
        time.sleep(0.05)
    time.sleep(warmup_s)
    start_count, start_t = state_counts(store)["delivered"], time.monotonic()
    end_count, end_t = start_count, start_t
    while time.monotonic() - start_t < window_s:
        time.sleep(0.25)
        counts = state_counts(store)
        end_count, end_t = counts["delivered"], time.monotonic()
        if counts["queued"] == 0 and counts["sending"] == 0:
            break  # the backlog ran out before the window did
    rss = [w.peak_rss_mb() or 0.0 for w in workers]
    for worker in workers:
        worker.stop()
    after = state_counts(store)
    if end_t <= start_t or end_count <= start_count:
        raise RuntimeError(f"no deliveries in the measuring window (states {dict(after)})")
    return {
        "deliveries_per_s": round((end_count - start_count) / (end_t - start_t), 1),
        "delivery_window_s": round(end_t - start_t, 1),
        "delivery_backlog": backlog,
        "delivery_states_after": dict(after),
        "delivery_worker_processes": processes,
        "rss_mb_peak_worker": round(max(rss), 1),
    }


async def _post_all(
    items: list[tuple[str, bytes, dict[str, str]]], urls: dict[str, str], in_flight: int
) -> tuple[float, Counter[int]]:
    by_channel: dict[str, list[tuple[bytes, dict[str, str]]]] = {}
    for channel, body, headers in items:
        by_channel.setdefault(channel, []).append((body, headers))
    statuses: Counter[int] = Counter()

    async def drain(channel: str, work: list[tuple[bytes, dict[str, str]]]) -> None:
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            queue = list(reversed(work))

            async def one_lane() -> None:
                while queue:
                    body, headers = queue.pop()
                    try:
                        reply = await client.post(urls[channel], content=body, headers=headers)
                    except httpx.HTTPError:
                        statuses[0] += 1  # transport error, counted as status 0
                        continue
                    statuses[reply.status_code] += 1

            await asyncio.gather(*(one_lane() for _ in range(in_flight)))

    began = time.perf_counter()
    await asyncio.gather(*(drain(c, w) for c, w in by_channel.items()))
    return time.perf_counter() - began, statuses


def run_direct_posts(
    store: Store, keys_path: Path, urls: dict[str, str], *, in_flight: int, limit: int
) -> dict[str, Any]:
    """The same stored payloads, decrypted and posted with httpx straight to the simulators."""
    keyring = load_or_create_keyring(keys_path)
    rows = store.read_sync(
        lambda conn: conn.execute(
            select(
                deliveries.c.id,
                deliveries.c.channel,
                deliveries.c.idempotency_key,
                deliveries.c.payload_ciphertext,
                deliveries.c.payload_key_id,
                deliveries.c.content_type,
                deliveries.c.payload_headers_json,
            )
            .where(deliveries.c.payload_ciphertext.is_not(None))
            # Deliveries the worker has not reached first; if it drained them all, any others.
            .order_by((deliveries.c.state == "queued").desc(), deliveries.c.id)
            .limit(limit)
        ).all()
    )
    if not rows:
        raise RuntimeError("no stored payloads to post directly")
    items = []
    for row in rows:
        body = keyring.decrypt(row.payload_key_id, row.payload_ciphertext, aad=payload_aad(row.id))
        # A key of its own, so that no simulator answers a direct post as a repeat of the
        # worker's delivery (a cheaper path than a real acceptance).
        key = f"{row.idempotency_key}:direct"
        headers = {"Content-Type": row.content_type, "Idempotency-Key": key}
        headers.update(json.loads(row.payload_headers_json or "{}"))
        items.append((row.channel, body, headers))
    elapsed, statuses = asyncio.run(_post_all(items, urls, in_flight))
    return {
        "baseline_posts_per_s": round(len(items) / elapsed, 1),
        "baseline_posts": len(items),
        "baseline_posts_status": {str(k): v for k, v in sorted(statuses.items())},
        "baseline_in_flight_per_channel": in_flight,
    }


def default_concurrency() -> int:
    return ChannelSettings(url="http://127.0.0.1/").concurrency
