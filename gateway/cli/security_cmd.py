"""``purge`` (retention) and ``token list``: the security chores of an operator's week."""

from __future__ import annotations

import typer

from gateway.cli import token_cmd
from gateway.cli._common import out, settings
from gateway.retention import due_answer_ids, due_message_ids, purge_due
from gateway.security.tokens import list_tokens
from gateway.store.engine import Store
from gateway.store.tables import utcnow


def purge(
    *,
    dry_run: bool = typer.Option(False, help="only count the messages that are due"),
    batch: int = typer.Option(200, min=1, help="messages looked up per round"),
) -> None:
    """Erase bodies, payloads and unmatched answers whose retention ended; ids, hashes and
    decisions stay."""
    current = settings()
    store = Store(current.database_url)
    try:
        if dry_run:
            now = utcnow()
            due = store.read_sync(
                lambda conn: due_message_ids(
                    conn, now=now, days=current.retention_after_delivery_days, limit=1_000_000
                )
            )
            answers = store.read_sync(lambda conn: due_answer_ids(conn, now=now, limit=1_000_000))
            out.print(f"{len(due)} message(s) due for purging")
            out.print(f"{len(answers)} unmatched answer(s) due for purging")
            return
        result = purge_due(store, days=current.retention_after_delivery_days, batch=batch)
    finally:
        store.close()
    out.print(
        f"[green]purged {len(result.purged)} message(s)[/green]; "
        f"{result.cancelled_deliveries} waiting deliveries cancelled; "
        f"{len(result.answers)} expired unmatched answer(s) erased"
    )


def token_list() -> None:
    """Every token: id, role, scope, status and last use (never the token itself)."""
    store = Store(settings().database_url)
    try:
        infos = store.read_sync(list_tokens)
    finally:
        store.close()
    for info in infos:
        scope = info.country or ",".join(info.scope_countries) or "regional"
        last = info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else "never"
        out.print(
            f"{info.id}  {info.role:<8} {scope:<12} {info.status:<7} last used {last}  {info.label}"
        )


def register(app: typer.Typer) -> None:
    """Add ``purge`` and ``token list`` to the CLI; ``token list`` only once, however often it is
    called.
    """
    app.command("purge")(purge)
    if not any(c.name == "list" for c in token_cmd.token_app.registered_commands):
        token_cmd.token_app.command("list")(token_list)
