"""``token create|revoke``: API tokens are shown once and stored only as a hash."""

from __future__ import annotations

from datetime import timedelta

import typer
from sqlalchemy import Connection

from gateway.cli._common import EXIT_INVALID, cli_actor, err, out, settings
from gateway.security.audit import append_audit
from gateway.security.tokens import IssuedToken, TokenError, issue_token, revoke_token
from gateway.store.engine import Store
from gateway.store.tables import utcnow

token_app = typer.Typer(help="Create and revoke API tokens.", no_args_is_help=True)


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., help="sender, operator, approver, auditor, admin or legal"),
    country: str = typer.Option(None, help="sender's country (ISO alpha-2 or XK)"),
    agency: str = typer.Option(None, help="sender's agency"),
    scope: list[str] = typer.Option(
        [], help="a country an operator or approver may see (repeat; none = regional)"
    ),
    label: str = typer.Option("", help="what the token is for"),
    expires_days: int = typer.Option(0, help="days until the token expires (0 = never)"),
) -> None:
    """Create a token and print it once."""
    store = Store(settings().database_url)
    expires = utcnow() + timedelta(days=expires_days) if expires_days > 0 else None
    try:

        def create(conn: Connection) -> IssuedToken:
            issued = issue_token(
                conn,
                role=role,
                label=label or f"{role} {country or ''}".strip(),
                country=country,
                agency=agency,
                scope_countries=tuple(scope),
                expires_at=expires,
            )
            append_audit(
                conn,
                actor=cli_actor(),
                action="token.created",
                subject=f"token:{issued.identity.token_id}",
                details={"role": role, "country": issued.identity.country},
            )
            return issued

        issued = store.write_sync(create)
    except TokenError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_INVALID) from None
    finally:
        store.close()
    out.print(f"token id: {issued.identity.token_id}")
    out.print("token (shown once, store it now):")
    print(issued.token)


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(..., help="the token's id")) -> None:
    """Revoke a token at once."""
    store = Store(settings().database_url)
    try:

        def revoke(conn: Connection) -> bool:
            done = revoke_token(conn, token_id)
            if done:
                append_audit(
                    conn, actor=cli_actor(), action="token.revoked", subject=f"token:{token_id}"
                )
            return done

        done = store.write_sync(revoke)
    finally:
        store.close()
    if not done:
        err.print("[red]no live token with that id[/red]")
        raise typer.Exit(EXIT_INVALID)
    out.print("[green]revoked[/green]")


def register(app: typer.Typer) -> None:
    """Add the ``token`` command group to the CLI; the entry point calls every module's register."""
    app.add_typer(token_app, name="token")
