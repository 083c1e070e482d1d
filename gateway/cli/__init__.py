"""The ``marri-gateway`` command line: one module per command group, registered here.

Command modules import the heavy parts (adapters, policy, API, database) inside the commands,
so that ``--help`` and quick commands start in a fraction of a second.
"""

from __future__ import annotations

import typer

from gateway.cli import (
    adapters_cmd,
    audit_cmd,
    check_cmd,
    db_cmd,
    events_cmd,
    facts_cmd,
    keys_cmd,
    messages_cmd,
    security_cmd,
    sender_keys_cmd,
    serve_cmd,
    token_cmd,
    trace_cmd,
    worker_cmd,
)

app = typer.Typer(
    name="marri-gateway",
    help="MARRI exchange gateway: one canonical message, checked and delivered per channel.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _gateway_keys() -> None:
    """Every command that appends to the audit log keys it as the running gateway does."""
    from gateway.cli._common import install_chain_keys_from_file

    install_chain_keys_from_file()


for module in (
    serve_cmd,
    db_cmd,
    token_cmd,
    messages_cmd,
    adapters_cmd,
    check_cmd,
    facts_cmd,
    worker_cmd,
    trace_cmd,
    audit_cmd,
    keys_cmd,
    sender_keys_cmd,
    security_cmd,
    events_cmd,
):
    module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
