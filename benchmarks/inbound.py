"""Inbound: answers from a channel parsed and stored per second, against the bare insert of the
same bytes.

The gateway runs as its own process (worker disabled) and takes PCC SEE answers at
``POST /v1/channels/pcc_see/inbound`` under wrk load (one thread, 32 connections), each with a
fresh channel message id, every one a reply to the same sent message. That is the real inbound
path: the channel's credential, the body cap, the hardened XML parser and the answer's XSD,
correlation to the message and delivery, the canonical reply (the original opened, codes mapped
back, names in their scripts and ICAO Latin), both sealed, the ``reply.received`` event and the
audit entry, one commit, 202. The baseline is the same HTTP stack doing one durable insert of
the same answer bytes (``benchmarks/baseline_app.py``, as for intake).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from benchmarks._procs import ProcessGroup, free_port, gateway_command, wait_http
from benchmarks._setup import ID_MARKER, message_with_id
from benchmarks.intake import LoadPlan, measure, run_baseline

CHANNEL = "pcc_see"
CREDENTIAL = "bench-inbound-credential"  # a benchmark's throwaway channel credential
CHANNELS = ("europol", "interpol", "frontex", "selec", "pcc_see")
PATH = f"/v1/channels/{CHANNEL}/inbound"


def write_channels(run_dir: Path) -> Path:
    """Every channel configured (nothing is sent: the worker is off), PCC SEE with the
    credential its answers come with."""
    entries: dict[str, dict[str, str]] = {name: {"url": "http://127.0.0.1:9/"} for name in CHANNELS}
    entries[CHANNEL]["inbound_token"] = CREDENTIAL
    path = run_dir / "inbound-channels.json"
    path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return path


def answer_template(mappings: Path, message_id: str) -> bytes:
    """A PCC SEE simulator's reply to ``message_id`` in its own format, its channel message id
    ``ID_MARKER`` (wrk puts a fresh one in each request)."""
    from adapters.registry import load_registry
    from simulators import build_simulator
    from simulators._answers import AnswerPlan, default_answer
    from simulators._base import InboxEntry

    simulator = build_simulator(load_registry(mappings).get(CHANNEL))
    entry = InboxEntry("PCC_SEE-BENCH", f"{message_id}:{CHANNEL}:ME", None, None, {}, "")
    plan = AnswerPlan(options={"message_id": ID_MARKER, "in_reply_to": message_id})
    body, _ = simulator.answer_payload(default_answer(simulator, entry, plan))
    if body.count(ID_MARKER.encode()) != 1:
        raise RuntimeError("the answer must carry its channel message id exactly once")
    return body


def _sent_message(base: str, template: bytes, token: str) -> str:
    """One message accepted for every channel; its id, which the answers reply to."""
    message_id = str(uuid.uuid4())
    reply = httpx.post(
        f"{base}/v1/messages",
        content=message_with_id(template, message_id),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )
    if reply.status_code != 202:
        raise RuntimeError(f"the message was refused: HTTP {reply.status_code} {reply.text[:300]}")
    return message_id


def preflight(base: str, answer: bytes) -> None:
    """One answer first: it must be stored and matched, or the load would measure refusals."""
    reply = httpx.post(
        f"{base}{PATH}",
        content=answer.replace(ID_MARKER.encode(), str(uuid.uuid4()).encode(), 1),
        headers={"Authorization": f"Bearer {CREDENTIAL}", "Content-Type": "application/xml"},
        timeout=30,
    )
    if reply.status_code != 202 or reply.json().get("status") != "matched":
        raise RuntimeError(f"the answer was not matched: HTTP {reply.status_code} {reply.text}")


def run_gateway(
    group: ProcessGroup,
    env: dict[str, str],
    template: bytes,
    token: str,
    mappings: Path,
    run_dir: Path,
    plan: LoadPlan,
    processes: int = 1,
) -> tuple[dict[str, Any], bytes]:
    """The inbound figures, and the answer bytes the baseline is to insert."""
    port = free_port()
    command = gateway_command(
        "serve", "--host", "127.0.0.1", "--port", str(port), "--processes", str(processes)
    )
    server = group.start("gateway-inbound", command, env)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", server)
    try:
        answer = answer_template(mappings, _sent_message(base, template, token))
        preflight(base, answer)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; gateway log: {server.tail(6)}") from None
    body_file = run_dir / "pcc-see-answer.xml"
    body_file.write_bytes(answer)
    figures = measure(f"{base}{PATH}", body_file, run_dir, plan, CREDENTIAL)
    server.stop()
    return {
        "inbound_answers_per_s": round(figures["per_s"], 1),
        "inbound_p50_ms": round(figures["p50_ms"], 2),
        "inbound_p99_ms": round(figures["p99_ms"], 2),
        "inbound_non_2xx": int(figures["non_2xx"]),
        "inbound_answer_bytes": len(answer),
    }, answer


def run_bare_insert(
    group: ProcessGroup,
    database_url: str,
    answer: bytes,
    run_dir: Path,
    plan: LoadPlan,
    processes: int = 1,
) -> dict[str, Any]:
    """The bare durable insert of the same answer bytes."""
    figures = run_baseline(
        group, database_url, answer, run_dir, plan, processes=processes, body_name="answer.xml"
    )
    return {
        "inbound_baseline_per_s": figures["baseline_insert_per_s"],
        "inbound_baseline_p99_ms": figures["baseline_insert_p99_ms"],
    }
