"""Every example message through intake, then the worker, to the real channel simulators
(real adapters, real transports over 127.0.0.1), with faults injected on the way."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.api.app import create_app
from gateway.config import Settings
from gateway.context import build_context
from gateway.delivery.worker import DeliveryWorker
from simulators import Fault, SimulatorSet, start_simulators
from tests.conftest import example_paths, issue_tokens, make_settings
from tests.delivery._support import delivery_row

CHANNELS = ["europol", "frontex", "interpol", "pcc_see", "selec"]


@pytest.fixture
def simulators() -> Iterator[SimulatorSet]:
    with start_simulators(CHANNELS) as running:
        yield running


def channel_config(urls: dict[str, str]) -> dict[str, Any]:
    return {
        name: {
            "url": url,
            "connect_timeout_s": 1.0,
            "read_timeout_s": 1.0,
            "retry": {"max_attempts": 10, "initial_backoff_s": 0.05, "max_backoff_s": 0.5},
            "breaker": {"failure_threshold": 100, "open_s": 1},
        }
        for name, url in urls.items()
    }


async def test_examples_reach_every_allowed_channel_through_faults(
    db_url: str, tmp_path: Path, simulators: SimulatorSet
) -> None:
    settings: Settings = make_settings(
        db_url,
        tmp_path,
        channels=channel_config(dict(simulators)),
        worker_poll_interval_s=0.02,
        lease_s=5.0,
    )
    for name in CHANNELS:
        simulators.simulator(name).inject(
            Fault("status", status=503, retry_after="0"),
            Fault("drop"),
            Fault("timeout", seconds=1.5),
        )
    context = build_context(settings)
    try:
        tokens = issue_tokens(context.store)
        app = create_app(context)
        expected: dict[str, str] = {}  # idempotency key -> delivery id
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as client:
            for path in example_paths():
                data = json.loads(path.read_text(encoding="utf-8"))
                data["message_id"] = str(uuid.uuid4())
                answer = await client.post(
                    "/v1/messages",
                    content=json.dumps(data).encode(),
                    headers={
                        "Authorization": f"Bearer {tokens.sender(data['sender']['country'])}",
                        "Content-Type": "application/json",
                    },
                )
                assert answer.status_code == 202, (path.name, answer.text)
                for delivery in answer.json()["deliveries"]:
                    if delivery["state"] == "queued":
                        key = f"{data['message_id']}:{delivery['channel']}:"
                        key += delivery["recipient"] or "-"
                        expected[key] = delivery["id"]
        assert len(expected) >= 6
        worker = DeliveryWorker(
            store=context.store,
            keyring=context.keyring,
            registry=context.registry,
            settings=settings,
        )
        run = asyncio.create_task(worker.run(grace_s=2))
        deadline = asyncio.get_running_loop().time() + 60
        while any(delivery_row(context.store, i).state != "delivered" for i in expected.values()):
            states = {i: delivery_row(context.store, i).state for i in expected.values()}
            assert "failed" not in states.values(), states
            assert asyncio.get_running_loop().time() < deadline, states
            await asyncio.sleep(0.1)
        worker.stop()
        await run
    finally:
        context.close()
    arrived: dict[str, str] = {}
    for name in CHANNELS:
        sim = simulators.simulator(name)
        for entry in sim.inbox():
            assert entry.idempotency_key is not None
            arrived[entry.idempotency_key] = name
        assert sim.stats["rejected"] == 0
    assert set(arrived) == set(expected)
    # The dropped and timed-out requests were stored before the answer was lost: their resends
    # came with the same key and were absorbed as duplicates.
    assert sum(simulators.simulator(n).stats["duplicates"] for n in CHANNELS) >= 1
