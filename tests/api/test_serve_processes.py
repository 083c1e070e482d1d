"""``serve --processes N``: several API processes share the port and the store."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select

from gateway.store.engine import Store
from gateway.store.tables import deliveries, messages
from tests.api.gateway_process import GatewayProcess, free_port
from tests.api.helpers import auth, dumps, variant
from tests.conftest import issue_tokens


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


def test_two_processes_accept_durably_and_stop_together(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    tokens = issue_tokens(store)
    server = GatewayProcess(
        {
            "MARRI_DATABASE_URL": db_url,
            "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
            "MARRI_SIGNING_KEY_FILE": str(tmp_path / "signing-key.json"),
            "MARRI_WORKER_ENABLED": "false",
            "MARRI_TEST_LOG": str(tmp_path / "gateway.log"),
        },
        free_port(),
        args=("--processes", "2"),
    )
    server.start(timeout=60)
    try:
        assert server.proc is not None
        deadline = time.monotonic() + 30
        while len(_children(server.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        children = _children(server.proc.pid)
        assert len(children) >= 2, "uvicorn should run two API processes"

        def send(_n: int) -> tuple[str, int]:
            data = variant()
            with httpx.Client(timeout=30) as http:
                reply = http.post(
                    server.url + "/v1/messages",
                    content=dumps(data),
                    headers=auth(tokens.sender("AL")),
                )
            return data["message_id"], reply.status_code

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(60)))
        assert {status for _, status in answers} == {202}
        ids = {message_id for message_id, _ in answers}
        stored = store.read_sync(
            lambda conn: set(
                conn.execute(select(messages.c.id).where(messages.c.id.in_(ids))).scalars()
            )
        )
        assert stored == ids
        per_message = store.read_sync(
            lambda conn: conn.execute(
                select(func.count()).select_from(deliveries).where(deliveries.c.message_id.in_(ids))
            ).scalar()
        )
        assert per_message >= len(ids)
    finally:
        server.stop()
        store.close()
    assert server.proc is not None
    assert server.proc.returncode is not None
    # uvicorn's supervisor signals its children and they finish their graceful shutdown on
    # their own clock: give them the same grace a deployment would before calling one stuck.
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children), "a child outlived SIGTERM to the supervisor"
