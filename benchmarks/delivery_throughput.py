"""Worker throughput against the bare transport, measured in one run and reported as a ratio.

1. Intake stores N messages (the examples, cycled) in a fresh store; the queued deliveries are
   the backlog.
2. Bare: every queued delivery's stored payload is decrypted and posted straight to its channel's
   simulator with the channel adapter's own ``send`` (the same httpx transport the worker uses),
   with ``concurrency`` requests in flight per channel, once before and once after the worker
   run (their mean is the baseline). Keys get a suffix so that the simulators treat them as new
   deliveries, not as repeats.
3. Worker: one ``DeliveryWorker`` (same concurrency per channel) drains the same backlog; the
   time runs from its start to the moment the last delivery is recorded as delivered.

CPU per delivery is this process's CPU time (every thread: event loop, store executors,
simulators) over a half, divided by the deliveries; the worker's own cost per delivery is the
worker half's figure minus the bare half's, since the simulators' share is the same in both.

Both halves run in this process against the same simulators (threads here too), so they share
the machine the same way. The worker's extra cost is the claim and record transactions (with
``synchronous=FULL`` on SQLite), decryption and the span per attempt.

    .venv/bin/python -m benchmarks.delivery_throughput [--messages 1000] [--concurrency 8]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from adapters.base import Payload, SendContext
from gateway.cli._process import block_absent_sniffio
from gateway.config import ChannelSettings, Settings
from gateway.context import build_context
from gateway.delivery.worker import DeliveryWorker
from gateway.security.tokens import issue_token
from gateway.store.crypto import payload_aad
from gateway.store.migrate import upgrade
from gateway.store.tables import deliveries
from simulators import start_simulators

CHANNELS = ["europol", "frontex", "interpol", "pcc_see", "selec"]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


async def load_backlog(context: Any, messages: int) -> int:
    """Accept ``messages`` messages through intake; the number of queued deliveries."""
    templates = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    identities: dict[str, Any] = {}
    for data in templates:
        country = data["sender"]["country"]
        if country not in identities:
            issued = context.store.write_sync(
                lambda conn, c=country: issue_token(
                    conn, role="sender", label="bench", country=c, agency="Bench agency"
                )
            )
            identities[country] = issued.identity
    for index in range(messages):
        data = dict(templates[index % len(templates)])
        data["message_id"] = str(uuid.uuid4())
        await context.intake.accept(
            json.dumps(data).encode(), identities[data["sender"]["country"]]
        )
    count: int = context.store.read_sync(
        lambda conn: conn.execute(
            select(func.count()).select_from(deliveries).where(deliveries.c.state == "queued")
        ).scalar_one()
    )
    return count


def stored_work(context: Any) -> list[tuple[str, Payload, str]]:
    """(channel, payload, idempotency key) of every queued delivery, decrypted once."""
    rows = context.store.read_sync(
        lambda conn: conn.execute(select(deliveries).where(deliveries.c.state == "queued")).all()
    )
    work: list[tuple[str, Payload, str]] = []
    for row in rows:
        body = context.keyring.decrypt(
            row.payload_key_id, row.payload_ciphertext, aad=payload_aad(row.id)
        )
        headers = json.loads(row.payload_headers_json or "{}")
        payload = Payload(body, row.content_type, row.product, row.recipient, headers)
        work.append((row.channel, payload, row.idempotency_key))
    return work


@dataclass(frozen=True)
class Spent:
    """Wall-clock and process CPU seconds of one half."""

    wall_s: float
    cpu_s: float


async def bare_transport(
    context: Any, urls: dict[str, str], concurrency: int, work: list[Any], tag: str
) -> Spent:
    """Post every stored payload straight to its simulator."""
    limits = {name: asyncio.Semaphore(concurrency) for name in CHANNELS}

    async def one(channel: str, payload: Payload, key: str) -> None:
        async with limits[channel]:
            await context.registry.get(channel).send(
                payload, SendContext(url=urls[channel], idempotency_key=f"{key}:{tag}")
            )

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(*item) for item in work))
    return Spent(time.perf_counter() - began, time.process_time() - cpu)


async def worker_drain(context: Any, settings: Settings, concurrency: int, backlog: int) -> Spent:
    """Run one worker until it has delivered the whole backlog."""
    worker = DeliveryWorker(
        store=context.store,
        keyring=context.keyring,
        registry=context.registry,
        settings=settings,
        concurrency=concurrency,
    )
    began, cpu = time.perf_counter(), time.process_time()
    run = asyncio.create_task(worker.run(grace_s=5))
    # The worker's own count, so that watching does not add load to the store.
    while worker.stats.by_outcome.get("delivered", 0) < backlog:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    spent = Spent(time.perf_counter() - began, time.process_time() - cpu)
    worker.stop()
    await run
    return spent


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    block_absent_sniffio()  # as the ``worker`` and ``serve`` commands do
    with tempfile.TemporaryDirectory() as tmp, start_simulators(CHANNELS) as urls:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        upgrade(database_url)
        settings = Settings(
            database_url=database_url,
            key_file=Path(tmp) / "keys.json",
            channels={
                name: ChannelSettings(url=url, concurrency=args.concurrency)
                for name, url in urls.items()
            },
            worker_poll_interval_s=0.01,
        )
        context = build_context(settings)
        try:
            backlog = await load_backlog(context, args.messages)
            work = stored_work(context)
            # Bare runs before and after the worker, so drifting machine load hits both sides.
            before = await bare_transport(context, dict(urls), args.concurrency, work, "bare1")
            worker = await worker_drain(context, settings, args.concurrency, backlog)
            after = await bare_transport(context, dict(urls), args.concurrency, work, "bare2")
            bare_s = (before.wall_s + after.wall_s) / 2
            bare_cpu_s = (before.cpu_s + after.cpu_s) / 2
        finally:
            context.close()
    return {
        "database": database_url.split(":")[0],
        "messages": args.messages,
        "deliveries": backlog,
        "concurrency_per_channel": args.concurrency,
        "bare_per_s": round(backlog / bare_s, 1),
        "bare_before_after_per_s": [
            round(backlog / before.wall_s, 1),
            round(backlog / after.wall_s, 1),
        ],
        "worker_per_s": round(backlog / worker.wall_s, 1),
        "worker_over_bare": round(bare_s / worker.wall_s, 3),
        "bare_cpu_ms_per_delivery": round(1000 * bare_cpu_s / backlog, 3),
        "worker_cpu_ms_per_delivery": round(1000 * worker.cpu_s / backlog, 3),
        "worker_own_cpu_ms_per_delivery": round(1000 * (worker.cpu_s - bare_cpu_s) / backlog, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
