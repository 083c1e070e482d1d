"""``db upgrade``: bring the database schema to the latest migration."""

from __future__ import annotations

import typer

from gateway.cli._common import out, settings

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    url: str = typer.Option(None, help="database URL (default: MARRI_DATABASE_URL)"),
) -> None:
    """Apply every pending migration (safe to run again)."""
    from gateway.store.migrate import upgrade

    target = url or settings().database_url
    upgrade(target)
    out.print("[green]database is at the latest schema[/green]")


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group to the CLI; the entry point calls every module's register."""
    app.add_typer(db_app, name="db")
