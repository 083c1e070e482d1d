"""``keys init|list|rotate|reencrypt|retire``: encryption keys at rest, rotated without downtime.

No command here but ``init`` creates a key file: a fresh key over sealed rows would leave them
unreadable, so a missing file is reported, never replaced.
"""

from __future__ import annotations

import time
from functools import partial

import typer

from gateway.cli._common import EXIT_INVALID, EXIT_REFUSED, cli_actor, err, out, refuse, settings
from gateway.config import Settings
from gateway.security.audit import append_audit
from gateway.security.keys import (
    REFRESH_INTERVAL_S,
    SEALED_COLUMNS,
    load_keyring,
    reencrypt_batch,
    rows_per_key,
    sealed_key_ids,
)
from gateway.store.crypto import Keyring, KeyringError, load_or_create_keyring, save_keyring
from gateway.store.engine import Store

keys_app = typer.Typer(
    help="Encryption keys for bodies and payloads at rest.", no_args_is_help=True
)


def _audit(store: Store, action: str, details: dict[str, object]) -> None:
    store.write_sync(
        lambda conn: append_audit(
            conn, actor=cli_actor(), action=action, subject="keyring", details=details
        )
    )


def reencrypt_all(store: Store, keyring: Keyring, *, batch: int) -> dict[str, int]:
    """Move every sealed row to the active key, one short transaction per batch."""
    moved: dict[str, int] = {}
    for sealed in SEALED_COLUMNS:
        total = 0
        while True:
            count = store.write_sync(
                partial(reencrypt_batch, keyring=keyring, sealed=sealed, limit=batch)
            )
            total += count
            if count == 0:
                break
        moved[sealed.label] = total
    return moved


def _keyring(current: Settings) -> Keyring:
    try:
        return load_keyring(current)
    except KeyringError as exc:
        refuse(str(exc))


@keys_app.command("list")
def keys_list() -> None:
    """Key ids, which one is active, and how many rows each still protects (reads only)."""
    current = settings()
    missing_file = current.keys_json is None and not current.key_file.exists()
    keyring = Keyring(active_id="") if missing_file else _keyring(current)
    store = Store(current.database_url)
    try:
        counts = store.read_sync(rows_per_key)
    finally:
        store.close()
    if missing_file:
        err.print(
            f"the key file {current.key_file} does not exist; rows need the keys listed below",
            style="red",
            markup=False,
            soft_wrap=True,
        )
    for key_id in sorted(set(keyring.keys) | set(counts)):
        marker = "active" if key_id == keyring.active_id else "      "
        known = "" if key_id in keyring.keys else "  MISSING FROM KEYRING"
        out.print(f"{marker}  {key_id}  rows={counts.get(key_id, 0)}{known}")
    if missing_file:
        raise typer.Exit(EXIT_REFUSED)


@keys_app.command("init")
def keys_init(
    *,
    over_sealed_rows: bool = typer.Option(
        False,
        "--over-sealed-rows",
        help="create the key even though stored rows are sealed with keys that are lost "
        "(those rows stay unreadable)",
    ),
) -> None:
    """Create the key file (mode 0600) when there is none; an existing one is never replaced."""
    current = settings()
    _require_key_file(current)
    if current.key_file.exists():
        refuse(f"the key file {current.key_file} already exists; nothing was changed")
    store = Store(current.database_url)
    try:
        needed = sealed_key_ids(store)
        if needed and not over_sealed_rows:
            refuse(
                f"the database holds rows sealed with key(s) {', '.join(needed)}: restore the "
                f"key file {current.key_file} instead (or pass --over-sealed-rows to give them up)"
            )
        keyring = load_or_create_keyring(current.key_file)
        _audit(store, "keys.created", {"active": keyring.active_id, "unreadable": needed})
    finally:
        store.close()
    out.print(f"[green]created {current.key_file}[/green] with active key {keyring.active_id}")


def _require_key_file(current: Settings) -> None:
    if current.keys_json is not None:
        err.print(
            "[red]keys come from MARRI_KEYS_JSON, which this command cannot rewrite[/red]\n"
            "use 'keys rotate --print-only', deploy the printed keyring to every process, "
            "then run 'keys reencrypt'"
        )
        raise typer.Exit(EXIT_INVALID)


@keys_app.command("rotate")
def keys_rotate(
    *,
    batch: int = typer.Option(500, min=1, help="rows per transaction while re-encrypting"),
    print_only: bool = typer.Option(
        False, help="print the new keyring (for MARRI_KEYS_JSON) and change nothing"
    ),
    reencrypt: bool = typer.Option(
        True,
        help="re-encrypt every row now; --no-reencrypt only adds the new active key (restart "
        "processes that do not re-read the key file, then run 'keys reencrypt')",
    ),
    settle_s: float = typer.Option(
        2 * REFRESH_INTERVAL_S,
        min=0,
        help="seconds to wait after saving the key file, so that running processes load the "
        "new key before any row is sealed with it",
    ),
) -> None:
    """Make a new active key, save it, and re-encrypt every body and payload under it."""
    current = settings()
    rotated = _keyring(current).with_new_active_key()
    if print_only:
        print(rotated.to_json(), end="")
        return
    _require_key_file(current)
    # The key file changes first; running processes re-read it within REFRESH_INTERVAL_S, and
    # only then are rows moved to the new key, so no reader meets a key it does not have.
    save_keyring(rotated, current.key_file)
    store = Store(current.database_url)
    try:
        _audit(store, "keys.rotated", {"active": rotated.active_id})
        if not reencrypt:
            out.print(f"[green]active key is now {rotated.active_id}[/green]; rows not moved yet")
            return
        if settle_s:
            out.print(f"waiting {settle_s:g} s for running processes to load the new key ...")
            time.sleep(settle_s)
        moved = reencrypt_all(store, rotated, batch=batch)
        _audit(store, "keys.reencrypted", {"active": rotated.active_id, "rows": moved})
    finally:
        store.close()
    out.print(f"[green]active key is now {rotated.active_id}[/green]")
    for label, count in moved.items():
        out.print(f"  re-encrypted {count} row(s) of {label}")
    out.print("old keys stay until 'marri-gateway keys retire'")


@keys_app.command("reencrypt")
def keys_reencrypt(
    batch: int = typer.Option(500, min=1, help="rows per transaction"),
) -> None:
    """Move every row still under an older key to the active key (safe to run again)."""
    current = settings()
    keyring = _keyring(current)
    store = Store(current.database_url)
    try:
        moved = reencrypt_all(store, keyring, batch=batch)
        _audit(store, "keys.reencrypted", {"active": keyring.active_id, "rows": moved})
    finally:
        store.close()
    for label, count in moved.items():
        out.print(f"re-encrypted {count} row(s) of {label}")


@keys_app.command("retire")
def keys_retire(
    key_ids: list[str] = typer.Argument(None, help="key ids (default: every inactive key)"),
) -> None:
    """Remove keys that no row needs any more; refuses while a row still uses one."""
    current = settings()
    _require_key_file(current)
    keyring = _keyring(current)
    wanted = set(key_ids or []) or (set(keyring.keys) - {keyring.active_id})
    if keyring.active_id in wanted:
        err.print("[red]the active key cannot be retired; rotate first[/red]")
        raise typer.Exit(EXIT_INVALID)
    unknown = wanted - set(keyring.keys)
    if unknown:
        err.print(f"[red]not in the keyring: {', '.join(sorted(unknown))}[/red]")
        raise typer.Exit(EXIT_INVALID)
    store = Store(current.database_url)
    try:
        counts = store.read_sync(rows_per_key)
        still_used = sorted(k for k in wanted if counts.get(k, 0))
        if still_used:
            err.print(
                f"[red]still protecting rows: {', '.join(still_used)}; "
                "run 'keys reencrypt' first[/red]"
            )
            raise typer.Exit(EXIT_INVALID)
        save_keyring(keyring.without_keys(wanted), current.key_file)
        _audit(store, "keys.retired", {"retired": sorted(wanted)})
    finally:
        store.close()
    out.print(f"[green]retired {len(wanted)} key(s)[/green]")


def register(app: typer.Typer) -> None:
    """Add the ``keys`` command group to the CLI; the entry point calls every module's register."""
    from gateway.cli.signing_cmd import signing_app

    keys_app.add_typer(signing_app, name="signing")
    app.add_typer(keys_app, name="keys")
