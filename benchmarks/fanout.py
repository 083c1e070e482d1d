"""Fan-out latency: from the moment a client sends a message to the moment the last of its five
deliveries is recorded delivered, at a steady offered rate (100 messages per second).

The client paces itself (one request every 1/rate seconds, each on its own task, so a slow
answer does not slow the offer) and notes the wall-clock send time. Delivery times come from
the store (``delivered_at``, written by the worker when the destination acknowledged). Both
clocks are this host's.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Connection, func, select

from benchmarks._procs import ProcessGroup, free_port, gateway_command, wait_http
from benchmarks._setup import message_with_id
from gateway.store.engine import Store
from gateway.store.tables import deliveries


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def offer(
    url: str, template: bytes, token: str, rate: float, seconds: float
) -> tuple[dict[str, float], list[float], int]:
    """Send at ``rate`` per second for ``seconds``; message id → send time, accept latencies."""
    sent: dict[str, float] = {}
    accept_ms: list[float] = []
    refused = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(message_id: str) -> None:
            nonlocal refused
            body = message_with_id(template, message_id)
            began = time.perf_counter()
            sent_at = time.time()
            try:
                reply = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError:
                refused += 1  # counted, not fatal: the figure says how many were lost
                return
            if reply.status_code == 202:
                sent[message_id] = sent_at
                accept_ms.append((time.perf_counter() - began) * 1000)
            else:
                refused += 1

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for index in range(total):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(str(uuid.uuid4()))))
        await asyncio.gather(*tasks)
    return sent, accept_ms, refused


def delivered_times(store: Store, ids: list[str]) -> dict[str, tuple[int, datetime | None]]:
    out: dict[str, tuple[int, datetime | None]] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        query = (
            select(
                deliveries.c.message_id,
                func.count(deliveries.c.delivered_at),
                func.max(deliveries.c.delivered_at),
            )
            .where(deliveries.c.message_id.in_(chunk))
            .group_by(deliveries.c.message_id)
        )

        def read(conn: Connection, query: Any = query) -> list[Any]:
            return list(conn.execute(query).all())

        rows = store.read_sync(read)
        for message_id, count, last in rows:
            out[message_id] = (count, last)
    return out


def wait_complete(
    store: Store, ids: list[str], *, timeout_s: float
) -> tuple[dict[str, datetime], float]:
    """Until every message has five delivered deliveries, or the time is up; returns the
    last delivery time of each complete message and the wall-clock time the wait ended."""
    deadline = time.monotonic() + timeout_s
    while True:
        times = delivered_times(store, ids)
        complete = {m: last for m, (n, last) in times.items() if n == 5 and last is not None}
        if len(complete) == len(ids) or time.monotonic() > deadline:
            return complete, time.time()
        time.sleep(0.2)


def run(
    group: ProcessGroup,
    api_env: dict[str, str],
    worker_env: dict[str, str] | None,
    database_url: str,
    template: bytes,
    token: str,
    *,
    worker_processes: int,
    rate: float,
    seconds: float,
    drain_timeout_s: float = 20.0,
    api_processes: int = 1,
) -> dict[str, Any]:
    port = free_port()
    api = group.start(
        "gateway-fanout",
        gateway_command(
            "serve", "--host", "127.0.0.1", "--port", str(port), "--processes", str(api_processes)
        ),
        api_env,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", api)
    workers = []
    if worker_env is not None:
        workers = [
            group.start(
                f"fanout-worker-{i}", gateway_command("worker", "--id", f"fan-{i}"), worker_env
            )
            for i in range(worker_processes)
        ]
    store = Store(database_url)
    try:
        # Warm-up: a few messages at the same pace, delivered before the measured ones start,
        # so the measurement begins with warm code paths and an empty queue.
        warm, _, _ = asyncio.run(offer(f"{base}/v1/messages", template, token, rate, 0.2))
        wait_complete(store, list(warm), timeout_s=10.0)
        # First at a tenth of the rate: the pipeline's own latency, without the queueing a
        # saturated machine adds. Then the offered rate itself.
        slow, _, _ = asyncio.run(
            offer(f"{base}/v1/messages", template, token, rate / 10, max(2.0, seconds / 2))
        )
        slow_complete, slow_gave_up = wait_complete(store, list(slow), timeout_s=10.0)
        sent, accept_ms, refused = asyncio.run(
            offer(f"{base}/v1/messages", template, token, rate, seconds)
        )
        if not sent:
            raise RuntimeError(f"no message was accepted ({refused} refused)")
        complete, gave_up_at = wait_complete(store, list(sent), timeout_s=drain_timeout_s)
    finally:
        store.close()
    rss = api.peak_rss_mb()
    for process in [*workers, api]:
        process.stop()
    # A message still incomplete when the wait ended counts with the time waited so far: a
    # lower bound, which is enough to show a missed target.
    latencies = [
        ((complete[m].timestamp() if m in complete else gave_up_at) - sent[m]) * 1000 for m in sent
    ]
    slow_latencies = [
        ((slow_complete[m].timestamp() if m in slow_complete else slow_gave_up) - slow[m]) * 1000
        for m in slow
    ]
    low: dict[str, Any] = {}
    if slow_latencies:
        low = {
            "fanout_low_rate_per_s": rate / 10,
            "fanout_low_rate_p50_ms": round(statistics.median(slow_latencies), 1),
            "fanout_low_rate_p99_ms": round(percentile(slow_latencies, 0.99), 1),
        }
    return low | {
        "fanout_p50_ms": round(statistics.median(latencies), 1),
        "fanout_p99_ms": round(percentile(latencies, 0.99), 1),
        "fanout_offered_per_s": rate,
        "fanout_messages": len(sent),
        "fanout_incomplete": len(sent) - len(complete),
        "fanout_percentiles_are_lower_bounds": len(complete) < len(sent),
        "fanout_refused": refused,
        "fanout_accept_p50_ms": round(statistics.median(accept_ms), 1),
        "fanout_accept_p99_ms": round(percentile(accept_ms, 0.99), 1),
        "rss_mb_peak_fanout": round(rss, 1) if rss else None,
    }
