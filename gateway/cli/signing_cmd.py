"""``keys signing init|rotate|list``: the gateway's own signing keys (payloads, evidence, audit).

Like the sealing keys, the file is created only by ``init`` or on a first start, never over
records that need the keys in it; ``rotate`` adds a key and keeps the old ones published.
"""

from __future__ import annotations

import json

import typer

from gateway.cli._common import cli_actor, out, refuse, settings
from gateway.security.audit import append_audit
from gateway.security.audit_keys import install_chain_keys
from gateway.security.signing_key import (
    SigningKeyError,
    SigningKeys,
    create_signing_keys,
    read_signing_keys,
    save_signing_keys,
    signed_data_key_ids,
)
from gateway.store.engine import Store

signing_app = typer.Typer(
    help="The gateway's signing keys (payloads, evidence records, audit heads).",
    no_args_is_help=True,
)


def _audit(action: str, details: dict[str, object]) -> None:
    store = Store(settings().database_url)
    try:
        store.write_sync(
            lambda conn: append_audit(
                conn, actor=cli_actor(), action=action, subject="signing-keys", details=details
            )
        )
    finally:
        store.close()


def _read() -> SigningKeys:
    try:
        return read_signing_keys(settings().signing_key_file)
    except SigningKeyError as exc:
        refuse(str(exc))


@signing_app.command("init")
def signing_init() -> None:
    """Create the signing key file (mode 0600) when there is none and no record needs one."""
    path = settings().signing_key_file
    if path.exists():
        refuse(f"the signing key file {path} already exists; nothing was changed")
    store = Store(settings().database_url)
    try:
        needed = store.read_sync(signed_data_key_ids)
    finally:
        store.close()
    if needed:
        refuse(
            f"the database holds records signed or keyed with {', '.join(needed)}: restore the "
            f"signing key file {path} instead"
        )
    keys = create_signing_keys(path)
    install_chain_keys(keys)
    _audit("signing_keys.created", {"active": keys.active_id})
    out.print(f"[green]created {path}[/green] with signing key {keys.active_id}")


@signing_app.command("rotate")
def signing_rotate() -> None:
    """A new active signing key; old ones stay published, so what they signed still verifies.

    Running processes sign with the new key once they restart.
    """
    rotated = _read().with_new_active_key()
    save_signing_keys(rotated, settings().signing_key_file)
    install_chain_keys(rotated)
    _audit("signing_keys.rotated", {"active": rotated.active_id})
    out.print(f"[green]active signing key is now {rotated.active_id}[/green]")
    out.print("restart the gateway's processes to sign with it; older keys stay published")


@signing_app.command("list")
def signing_list(
    *,
    jwks: bool = typer.Option(False, "--jwks", help="print the public JWK set instead"),
) -> None:
    """Key ids, which one is active and when each was made (reads only)."""
    keys = _read()
    if jwks:
        print(json.dumps(keys.public_jwks(), indent=2))
        return
    for key in sorted(keys.keys.values(), key=lambda k: k.created_at):
        marker = "active" if key.key_id == keys.active_id else "      "
        out.print(f"{marker}  {key.key_id}  created {key.created_at}")
