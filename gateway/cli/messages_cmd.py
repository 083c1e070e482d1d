"""``validate FILE`` and ``send FILE``: what a national system's developer tries first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from gateway.schema import Violation

from gateway.cli._common import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, err, out
from gateway.sandbox_tokens import sender_token_for

DEFAULT_URL = "http://127.0.0.1:8000"


def print_violations(violations: list[Violation]) -> None:
    """List violations on stderr as the API's 422 names them: path, type, message."""
    for v in violations:
        err.print(f"  [bold]{v.path}[/bold]  {v.type}: {v.message}")


def validate(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Check a canonical message against schema v1; violations are listed like the API's 422."""
    from gateway.schema import MessageInvalid, parse_message

    try:
        message = parse_message(file.read_bytes())
    except MessageInvalid as exc:
        err.print(f"[red]{file}: {len(exc.violations)} violation(s)[/red]")
        print_violations(exc.violations)
        raise typer.Exit(EXIT_INVALID) from None
    channels = ", ".join(d.channel for d in message.destinations)
    out.print(f"[green]{file}: valid[/green] (message {message.message_id}, to {channels})")


def send(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    url: str = typer.Option(DEFAULT_URL, envvar="MARRI_URL", help="the gateway's base URL"),
    token: str = typer.Option(
        None, envvar="MARRI_TOKEN", help="sender token (default: the sandbox's for the sender)"
    ),
    timeout: float = typer.Option(30.0, help="seconds to wait for the answer"),
) -> None:
    """POST a message to the gateway and print its answer."""
    import httpx

    body = file.read_bytes()
    if token is None:
        try:
            country = json.loads(body)["sender"]["country"]
        except (ValueError, KeyError, TypeError):
            country = None
        token = sender_token_for(country) if isinstance(country, str) else None
    if token is None:
        err.print("[red]no token: pass --token or set MARRI_TOKEN[/red]")
        raise typer.Exit(EXIT_INVALID)
    try:
        response = httpx.post(
            url.rstrip("/") + "/v1/messages",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        err.print(f"[red]could not reach the gateway at {url}: {type(exc).__name__}[/red]")
        raise typer.Exit(EXIT_REFUSED) from None
    colour = "green" if response.status_code in (200, 202) else "red"
    out.print(f"[{colour}]HTTP {response.status_code}[/{colour}]")
    try:
        print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    except ValueError:
        print(response.text)
    raise typer.Exit(EXIT_OK if response.status_code in (200, 202) else EXIT_REFUSED)


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``send`` to the CLI."""
    app.command("validate")(validate)
    app.command("send")(send)
