"""``facts list|confirm|withdraw|set``: a legal officer keeps the parties table's facts.

Changes are stored in the database over the shipped parties files (``mappings/parties.yaml``
and each channel's ``mappings/<channel>/parties.yaml``) and take effect
on the next decision of every gateway process; a change prints the held deliveries it
released. Each command acts with a legal officer's token (``--token`` or ``MARRI_TOKEN``; in
the sandbox, its ``legal`` token), which the audit log names with the source given.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.table import Table

from gateway.cli._common import EXIT_INVALID, EXIT_REFUSED, err, out, settings
from gateway.sandbox_tokens import role_token_for

if TYPE_CHECKING:
    from gateway.context import GatewayContext
    from gateway.security.identity import Identity
    from gateway.services.facts import FactChanged

T = TypeVar("T")

facts_app = typer.Typer(
    help="Read and change the facts of the parties table.", no_args_is_help=True
)

WHO_HELP = "a legal officer's API token (default: the sandbox's legal token)"
SOURCE_HELP = "where the fact is stated (URL and what it says)"


def _run(token: str | None, act: Callable[[GatewayContext, Identity], Coroutine[Any, Any, T]]) -> T:
    """Build the process context, find who the token stands for, and run one action."""
    from gateway.context import build_context
    from gateway.errors import GatewayError
    from gateway.security.tokens import identity_for_token
    from gateway.services.permissions import Role

    token = token or role_token_for(Role.LEGAL)
    if not token:
        err.print("[red]no token: pass --token or set MARRI_TOKEN[/red]")
        raise typer.Exit(EXIT_INVALID)
    context = build_context(settings())
    try:
        identity = context.store.read_sync(lambda conn: identity_for_token(conn, token))
        if identity is None:
            err.print("[red]the token is unknown, expired or revoked[/red]")
            raise typer.Exit(EXIT_REFUSED)
        try:
            return asyncio.run(act(context, identity))
        except GatewayError as exc:
            err.print(f"[red]{exc.code}: {exc.message}[/red]")
            raise typer.Exit(EXIT_REFUSED) from None
    finally:
        context.close()


def _day(text: str | None, option: str) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]{option} must be a date written YYYY-MM-DD[/red]")
        raise typer.Exit(EXIT_INVALID) from None


def _print_change(changed: FactChanged) -> None:
    fact = changed.fact
    out.print(
        f"[green]{changed.action.value}[/green] {fact.instrument} {fact.country} "
        f"(change {changed.change_seq}): "
        f"{'party' if fact.party else 'not a party'}, "
        f"{'confirmed' if fact.confirmed else 'unconfirmed'}, source {fact.source}"
    )
    lifted = changed.lifted
    out.print(f"released {len(lifted.released)} held delivery(ies)")
    for delivery_id in lifted.released:
        out.print(f"  {delivery_id}")
    if lifted.still_held:
        out.print(f"still held for other reasons: {len(lifted.still_held)}")


@facts_app.command("list")
def facts_list(
    *,
    instrument: str = typer.Option(None, help="only this instrument's facts"),
    unconfirmed: bool = typer.Option(False, "--unconfirmed", help="only unconfirmed facts"),
    as_json: bool = typer.Option(False, "--json", help="print the facts as JSON"),
    token: str = typer.Option(None, envvar="MARRI_TOKEN", help=WHO_HELP),
) -> None:
    """Every fact as the next decision reads it, with who changed it and its source."""
    facts = _run(token, lambda ctx, who: ctx.facts.list(who, instrument))
    facts = [f for f in facts if not unconfirmed or not f.confirmed]
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in facts], indent=2, ensure_ascii=False))
        return
    table = Table("instrument", "country", "party", "since", "until", "confirmed", "changed")
    for f in facts:
        table.add_row(
            f.instrument,
            f.country,
            "yes" if f.party else "no",
            f.since.isoformat() if f.since else "",
            f.until.isoformat() if f.until else "",
            "yes" if f.confirmed else "NO",
            f"{f.changed_by} {f.changed_on.isoformat()}" if f.changed_on else "shipped",
        )
    out.print(table)


@facts_app.command("confirm")
def facts_confirm(
    instrument: str = typer.Argument(..., help="e.g. interpol_members"),
    country: str = typer.Argument(..., help="two-letter code, e.g. ME"),
    source: str = typer.Option(..., help=SOURCE_HELP),
    note: str = typer.Option("", help="anything a later reader should know"),
    token: str = typer.Option(None, envvar="MARRI_TOKEN", help=WHO_HELP),
) -> None:
    """A source states the fact: confirm it; holds resting only on it are released."""
    changed = _run(
        token, lambda ctx, who: ctx.facts.confirm(who, instrument, country, source, note)
    )
    _print_change(changed)


@facts_app.command("withdraw")
def facts_withdraw(
    instrument: str = typer.Argument(..., help="e.g. interpol_members"),
    country: str = typer.Argument(..., help="two-letter code, e.g. ME"),
    source: str = typer.Option(..., help="why the fact may no longer be relied on"),
    note: str = typer.Option("", help="anything a later reader should know"),
    token: str = typer.Option(None, envvar="MARRI_TOKEN", help=WHO_HELP),
) -> None:
    """The fact may no longer be relied on: it counts as unconfirmed from now on."""
    changed = _run(
        token, lambda ctx, who: ctx.facts.withdraw(who, instrument, country, source, note)
    )
    _print_change(changed)


@facts_app.command("set")
def facts_set(
    *,
    instrument: str = typer.Argument(..., help="e.g. europol_operational_agreement"),
    country: str = typer.Argument(..., help="two-letter code, e.g. ME"),
    source: str = typer.Option(..., help=SOURCE_HELP),
    party: bool = typer.Option(True, "--party/--not-party", help="a party, or confirmed not"),
    since: str = typer.Option(None, help="in force from (YYYY-MM-DD)"),
    until: str = typer.Option(None, help="in force until, that day excluded (YYYY-MM-DD)"),
    confirmed: bool = typer.Option(True, "--confirmed/--unconfirmed", help="a source states it"),
    note: str = typer.Option("", help="anything a later reader should know"),
    token: str = typer.Option(None, envvar="MARRI_TOKEN", help=WHO_HELP),
) -> None:
    """Add a party to an instrument, or change a party's standing or dates."""
    from gateway.services.facts import FactEdit

    edit = FactEdit(party, _day(since, "--since"), _day(until, "--until"), confirmed, note)
    changed = _run(token, lambda ctx, who: ctx.facts.set(who, instrument, country, source, edit))
    _print_change(changed)


def register(app: typer.Typer) -> None:
    """Add the ``facts`` command group to the CLI; the entry point calls every module's register."""
    app.add_typer(facts_app, name="facts")
