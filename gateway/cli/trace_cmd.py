"""``trace ID``: a message's timeline from the gateway's trace API, readable in a terminal."""

from __future__ import annotations

from typing import Any

import httpx
import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gateway.cli._common import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, err, out

DEFAULT_URL = "http://127.0.0.1:8000"

STATE_STYLES = {
    "delivered": "green",
    "queued": "blue",
    "sending": "blue",
    "retry_wait": "yellow",
    "unknown": "yellow",
    "failed": "bold red",
    "blocked": "red",
    "held": "magenta",
    "cancelled": "dim",
}


def _time(value: str | None) -> str:
    return (value or "").replace("T", " ")[:19]


def render_trace(view: dict[str, Any]) -> RenderableType:
    """The trace API's answer as a header, a delivery table and a timeline."""
    header = Text()
    header.append(f"message {view['message_id']}", style="bold")
    header.append(f"  {view['status']}\n")
    header.append(f"from {view['sender']['country']} · {view['sender']['agency']}")
    header.append(
        f" · {view['kind']}, {view['priority']} · received {_time(view['received_at'])}\n"
    )
    header.append(f"trace id {view.get('trace_id') or '-'}", style="cyan")
    signature = view.get("signature")
    if signature:
        header.append(
            f"\nsigned by {signature['signed_by']} key {signature['kid']} ({signature['alg']}), "
            f"verified {_time(signature['verified_at'])}",
            style="green",
        )
    else:
        header.append("\nnot signed by the sender", style="dim")

    deliveries = Table(title="Deliveries", title_justify="left", expand=False)
    for column in ("channel", "state", "decision", "payload", "attempts", "receipt"):
        deliveries.add_column(column)
    for d in view["deliveries"]:
        where = d["channel"] + (f"→{d['recipient']}" if d["recipient"] else "")
        rules = ", ".join(f["rule"] for f in d["decision"]["findings"])
        decision = d["decision"]["outcome"] + (f" ({rules})" if rules else "")
        payload = f"{d['payload']['size']} B {d['payload']['sha256'][:12]}" if d["payload"] else "-"
        receipt = (d.get("receipt") or {}).get("reference") or "-"
        deliveries.add_row(
            where,
            Text(d["state"], style=STATE_STYLES.get(d["state"], "")),
            decision,
            payload,
            str(len(d["attempts"])),
            receipt,
        )
    said = [(d, a) for d in view["deliveries"] for a in d["attempts"] if a.get("remote")]

    timeline = Table(title="Timeline", title_justify="left", show_edge=False, expand=False)
    for column in ("at", "event", "channel", "what"):
        timeline.add_column(column)
    for e in view["events"]:
        where = (e.get("channel") or "") + (f"→{e['recipient']}" if e.get("recipient") else "")
        timeline.add_row(_time(e["at"]), e["type"], where, e["summary"])
    parts: list[RenderableType] = [header, Text(""), deliveries, Text(""), timeline]
    if said:
        failures = Table(title="What destinations said", title_justify="left", expand=False)
        for column in ("channel", "attempt", "HTTP", "code", "text"):
            failures.add_column(column)
        for d, a in said:
            failures.add_row(
                d["channel"],
                str(a["number"]),
                str(a["http_status"] or "-"),
                a["remote"]["code"] or "-",
                a["remote"]["text"] or "-",
            )
        parts[3:3] = [Text(""), failures]
    if view.get("replies"):
        replies = Table(title="Replies", title_justify="left", expand=False)
        for column in ("received", "channel", "answer", "reference", "via", "status", "raw codes"):
            replies.add_column(column)
        for r in view["replies"]:
            replies.add_row(
                _time(r["received_at"]),
                r["channel"],
                r["channel_message_id"],
                r["channel_reference"] or "-",
                r["via"],
                r["status"],
                str(r["unmapped_codes"]),
            )
        parts[4:4] = [replies, Text("")]
    return Group(*parts)


def trace(
    message_id: str = typer.Argument(..., help="the message_id"),
    url: str = typer.Option(DEFAULT_URL, envvar="MARRI_URL", help="the gateway's base URL"),
    token: str = typer.Option(..., envvar="MARRI_TOKEN", help="an operator/auditor token"),
    timeout: float = typer.Option(30.0, help="seconds to wait for the answer"),
) -> None:
    """Show a message's timeline: decisions, payloads, attempts, receipts, actions, trace id."""
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/v1/messages/{message_id}/trace",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        err.print(f"[red]could not reach the gateway at {url}: {type(exc).__name__}[/red]")
        raise typer.Exit(EXIT_REFUSED) from None
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.reason_phrase
        err.print(f"[red]HTTP {response.status_code}: {message}[/red]")
        raise typer.Exit(EXIT_INVALID if response.status_code == 404 else EXIT_REFUSED)
    out.print(render_trace(response.json()))
    raise typer.Exit(EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("trace")(trace)
