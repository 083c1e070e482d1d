"""Shared bits of the command line: settings, consoles, exit codes."""

from __future__ import annotations

import os
import pwd
import socket
from typing import NoReturn

import typer
from rich.console import Console

from gateway.config import Settings, get_settings

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_INVALID = 2


def settings() -> Settings:
    return get_settings()


def refuse(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """One line on stderr, never wrapped or read as markup, then exit with ``code``."""
    err.print(message, style="red", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def cli_actor() -> str:
    """Who ran a command, for the audit log: ``cli:<OS user>@<host>``.

    The user comes from the effective uid, not from ``$USER``; under sudo the invoking user is
    named too, since the uid is then root's.
    """
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        user = f"uid:{os.geteuid()}"
    invoker = os.environ.get("SUDO_USER")
    if invoker and invoker != user:
        user = f"{user}(sudo:{invoker})"
    return f"cli:{user}@{socket.gethostname()}"


def install_chain_keys_from_file() -> None:
    """Key this command's audit appends with the gateway's signing key file, when there is
    one (never created here); an unusable file is named on stderr and left out."""
    from pydantic import ValidationError

    from gateway.security.audit_keys import install_chain_keys
    from gateway.security.signing_key import SigningKeyError, read_signing_keys

    try:
        path = settings().signing_key_file
    except ValidationError:
        return  # the command itself reports unusable settings
    if not path.exists():
        return
    try:
        install_chain_keys(read_signing_keys(path))
    except SigningKeyError as exc:
        err.print(f"warning: {exc}", style="yellow", markup=False, soft_wrap=True)
