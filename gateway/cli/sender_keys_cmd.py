"""``keys agency add|list|revoke``: the public keys sender agencies sign their messages with.

Run on the gateway's host, these act for every country (like ``token create``); over the API
only a country's own admin may. Each change is audited with the OS user and host.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import Connection

from gateway.cli._common import EXIT_INVALID, cli_actor, out, refuse, settings
from gateway.cli.keys_cmd import keys_app
from gateway.errors import GatewayError
from gateway.security.sender_keys import SenderKey, get_sender_key, jwk_set, list_sender_keys
from gateway.services.sender_keys import KeyRequest, register_key, revoke_key
from gateway.store.engine import Store
from gateway.store.tables import utcnow

agency_app = typer.Typer(
    help="Sender agencies' public signing keys (JWK sets), with rotation.", no_args_is_help=True
)


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        refuse(f"{option} must be an ISO 8601 time, e.g. 2027-01-01T00:00:00+00:00")
    if stamp.tzinfo is None:
        refuse(f"{option} needs a time-zone offset (e.g. +00:00)")
    return stamp


def _read_jwk(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        refuse(f"{path} is not a readable JSON file")


@agency_app.command("add")
def agency_add(
    country: str = typer.Option(..., help="the agency's country (ISO alpha-2 or XK)"),
    agency: str = typer.Option(..., help="the agency, exactly as its messages name it"),
    jwk: Path = typer.Option(..., help="file with the public key as a JWK (JSON)"),
    kid: str = typer.Option(None, help="key id signatures will name (default: the JWK's kid)"),
    alg: str = typer.Option(None, help="ES256 or EdDSA (default: the JWK's alg)"),
    not_before: str = typer.Option(None, help="valid from, ISO 8601 (default: now)"),
    not_after: str = typer.Option(None, help="valid until, ISO 8601 (default: a year later)"),
) -> None:
    """Register a public key; the current key stays valid, so rotation overlaps."""
    request = KeyRequest(
        country=country.upper(),
        agency=agency,
        jwk=_jwk_object(_read_jwk(jwk)),
        alg=alg,
        kid=kid,
        not_before=_when(not_before, "--not-before"),
        not_after=_when(not_after, "--not-after"),
    )
    store = Store(settings().database_url)
    try:
        key = store.write_sync(
            lambda conn: register_key(conn, request, actor=cli_actor(), now=utcnow())
        )
    except GatewayError as exc:
        refuse(f"{exc.code}: {exc.message}")
    finally:
        store.close()
    out.print(f"[green]registered[/green] key {key.kid} for {key.country} · {key.agency}")
    out.print(
        f"id {key.id}  {key.alg}  valid {key.not_before:%Y-%m-%d} to {key.not_after:%Y-%m-%d}"
    )


def _jwk_object(data: object) -> dict[str, object]:
    if not isinstance(data, dict):
        refuse("the JWK file must hold one JSON object")
    return data


@agency_app.command("list")
def agency_list(
    *,
    country: str = typer.Option(None, help="only this country"),
    agency: str = typer.Option(None, help="only this agency"),
    jwks: bool = typer.Option(False, "--jwks", help="print the valid keys as a JWK set (JSON)"),
) -> None:
    """Every registered key with its status now (reads only)."""
    store = Store(settings().database_url)
    try:
        countries = (country.upper(),) if country else None
        keys = store.read_sync(
            lambda conn: list_sender_keys(conn, countries=countries, agency=agency)
        )
    finally:
        store.close()
    now = utcnow()
    if jwks:
        print(json.dumps(jwk_set(keys, now), indent=2))
        return
    table = Table(title="Sender keys", title_justify="left")
    for column in ("country", "agency", "kid", "alg", "status", "valid from", "until", "id"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.country,
            key.agency,
            key.kid,
            key.alg,
            key.status(now),
            f"{key.not_before:%Y-%m-%d %H:%M}",
            f"{key.not_after:%Y-%m-%d %H:%M}",
            key.id,
        )
    out.print(table)


@agency_app.command("revoke")
def agency_revoke(
    key_id: str = typer.Argument(..., help="the key's id (from 'keys agency list')"),
    reason: str = typer.Option(None, help="why (kept in the audit log)"),
) -> None:
    """Revoke a key at once: signatures it made are refused from now on."""
    store = Store(settings().database_url)
    try:

        def revoke(conn: Connection) -> SenderKey | None:
            key = get_sender_key(conn, key_id)
            if key is None:
                return None
            return revoke_key(conn, key, actor=cli_actor(), reason=reason, now=utcnow())

        revoked = store.write_sync(revoke)
    except GatewayError as exc:
        refuse(f"{exc.code}: {exc.message}")
    finally:
        store.close()
    if revoked is None:
        refuse("no sender key with that id", EXIT_INVALID)
    out.print(f"[green]revoked[/green] key {revoked.kid} of {revoked.country} · {revoked.agency}")


def register(app: typer.Typer) -> None:
    """Add ``keys agency`` under the ``keys`` group (which ``keys_cmd`` adds to the app)."""
    del app  # the group hangs off ``keys``, not off the top level
    if all(group.typer_instance is not agency_app for group in keys_app.registered_groups):
        keys_app.add_typer(agency_app, name="agency")
