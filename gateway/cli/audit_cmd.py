"""``audit verify``: recompute the audit log's hash chain and check its head."""

from __future__ import annotations

import typer

from gateway.cli._common import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, err, out, settings
from gateway.security.audit import ChainHead, verify_chain
from gateway.store.engine import Store

audit_app = typer.Typer(help="The audit log: verify its hash chain.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    expect_head: str = typer.Option(
        None, help="a head printed by an earlier verify (SEQ:SHA256), kept outside the database"
    ),
) -> None:
    """Exit 0 when every entry is intact and the head matches; 1 at the first broken entry."""
    kept: ChainHead | None = None
    if expect_head:
        try:
            kept = ChainHead.parse(expect_head)
        except ValueError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(EXIT_INVALID) from None
    store = Store(settings().database_url)
    try:
        report = store.read_sync(lambda conn: verify_chain(conn, expect_head=kept))
    finally:
        store.close()
    if not report.intact:
        err.print(
            f"[red]audit chain BROKEN at seq {report.first_bad_seq}: {report.problem}[/red] "
            f"({report.entries} entries checked)"
        )
        raise typer.Exit(EXIT_REFUSED)
    out.print(f"[green]audit chain intact[/green]: {report.entries} entries")
    if report.head is not None:
        out.print(f"head: {report.head}")
    raise typer.Exit(EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command group to the CLI; the entry point calls every module's register."""
    app.add_typer(audit_app, name="audit")
