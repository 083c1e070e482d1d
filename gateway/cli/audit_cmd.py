"""``audit verify|export-head``: recompute the audit log's chain, check its (signed) head."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from gateway.cli._common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_REFUSED,
    err,
    install_chain_keys_from_file,
    out,
    refuse,
    settings,
)
from gateway.security.audit import ChainHead
from gateway.security.audit_keys import (
    export_document,
    head_claims,
    installed_keys,
    read_export,
    sign_head,
    verify_head,
)
from gateway.security.audit_verify import ChainReport, verify_chain
from gateway.store.engine import Store
from gateway.store.tables import utcnow

audit_app = typer.Typer(
    help="The audit log: verify its hash chain, export its signed head.", no_args_is_help=True
)


def _kept_head(
    expect_head: str | None, signed_head: Path | None, jwks: Path | None
) -> ChainHead | None:
    """The head kept outside the database: plain ``SEQ:SHA256`` or a signed export."""
    try:
        if signed_head is not None:
            claims = verify_head(read_export(signed_head.read_text(encoding="utf-8")), _jwks(jwks))
            return ChainHead(int(claims["seq"]), str(claims["hash"]))
        return ChainHead.parse(expect_head) if expect_head else None
    except (OSError, ValueError) as exc:
        refuse(f"the kept head is not usable: {exc}")


def _jwks(path: Path | None) -> dict[str, Any]:
    """The gateway's public keys: a published JWK set, or the ones in the signing key file."""
    if path is not None:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    keys = installed_keys()
    if keys is None:
        refuse(f"no signing key file at {settings().signing_key_file}; pass --jwks FILE")
    return keys.public_jwks()


def _report(kept: ChainHead | None) -> ChainReport:
    store = Store(settings().database_url)
    try:
        return store.read_sync(lambda conn: verify_chain(conn, expect_head=kept))
    finally:
        store.close()


@audit_app.command("verify")
def audit_verify(
    expect_head: str = typer.Option(
        None, help="a head printed by an earlier verify (SEQ:SHA256), kept outside the database"
    ),
    signed_head: Path = typer.Option(
        None,
        "--signed-head",
        help="a head written by 'audit export-head' and kept elsewhere; its signature is checked "
        "first, then the log must still hold that head",
    ),
    jwks: Path = typer.Option(
        None, help="the gateway's published JWK set (default: the signing key file's keys)"
    ),
) -> None:
    """Exit 0 when every entry is intact and the head matches; 1 at the first broken entry."""
    install_chain_keys_from_file()
    if expect_head and signed_head:
        err.print("[red]give --expect-head or --signed-head, not both[/red]")
        raise typer.Exit(EXIT_INVALID)
    report = _report(_kept_head(expect_head, signed_head, jwks))
    if not report.intact:
        err.print(
            f"[red]audit chain BROKEN at seq {report.first_bad_seq}: {report.problem}[/red] "
            f"({report.entries} entries checked)"
        )
        raise typer.Exit(EXIT_REFUSED)
    keyed = " (keyed, head signed)" if report.keyed else ""
    out.print(f"[green]audit chain intact[/green]: {report.entries} entries{keyed}")
    if report.head is not None:
        out.print(f"head: {report.head}")
    raise typer.Exit(EXIT_OK)


@audit_app.command("export-head")
def audit_export_head(
    file: Path = typer.Argument(..., help="where to write the signed head (keep it elsewhere)"),
) -> None:
    """Check the log, then write its head signed by the gateway (for 'verify --signed-head')."""
    install_chain_keys_from_file()
    keys = installed_keys()
    if keys is None:
        refuse(f"no signing key file at {settings().signing_key_file}: nothing to sign with")
    report = _report(None)
    if not report.intact or report.head is None:
        refuse(f"not exported: the audit chain is not intact ({report.problem or 'empty log'})")
    claims = {
        **head_claims(report.head.seq, report.entries, report.head.entry_hash, utcnow()),
        "key_id": keys.active_id,
    }
    file.write_text(export_document(sign_head(keys, claims), claims), encoding="utf-8")
    out.print(f"[green]wrote {file}[/green]: head {report.head}, {report.entries} entries")


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command group to the CLI; the entry point calls every module's register."""
    app.add_typer(audit_app, name="audit")
