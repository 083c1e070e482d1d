"""``worker`` runs delivery workers alone (no API): any number, on any number of hosts, sharing
one PostgreSQL (or one SQLite file on one host). SIGTERM or SIGINT stops claiming, lets
in-flight attempts finish within ``--grace-s`` and hands back the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import typer

from gateway.cli._common import err
from gateway.cli._process import block_absent_sniffio
from gateway.config import get_settings


def worker(
    worker_id: str | None = typer.Option(
        None, "--id", help="worker name (stable names let a restart hand back its own leases)"
    ),
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1, max=64, help="sends in flight per channel (default: settings)"
    ),
    grace_s: float = typer.Option(10.0, "--grace-s", min=0, help="grace period on stop"),
) -> None:
    """Run the delivery worker until SIGTERM or SIGINT."""
    block_absent_sniffio()
    from gateway.cli.serve_cmd import context_or_exit
    from gateway.delivery.runner import run_workers_until_signalled
    from gateway.exchange.poller import running_pollers
    from gateway.telemetry import configure_logging

    settings = get_settings()
    if not settings.all_channels():
        err.print("no channels are configured (MARRI_CHANNELS or MARRI_CHANNELS_FILE)")
        raise typer.Exit(2)
    context = context_or_exit(settings)
    # JSON lines as serve writes them, once it will run (a refusal stays one plain line); one
    # line per HTTP request would drown the worker's own events, so httpx logs warnings only.
    configure_logging()

    async def run() -> None:
        # Channels that must be asked for their answers are polled beside the worker.
        async with running_pollers(context.inbound):
            await run_workers_until_signalled(
                store=context.store,
                keyring=context.keyring,
                registry=context.registry,
                settings=settings,
                worker_id=worker_id,
                concurrency=concurrency,
                grace_s=grace_s,
                signing=context.signing,
            )

    try:
        _event_loop_runner()(run())
    finally:
        context.close()


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop where installed (as ``serve`` gets it through uvicorn): the worker spends much
    of its time in socket writes and event loop turns, which uvloop makes cheaper."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def register(app: typer.Typer) -> None:
    """Add ``worker`` to the CLI."""
    app.command("worker")(worker)
