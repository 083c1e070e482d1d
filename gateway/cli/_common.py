"""Shared bits of the command line: settings, consoles, exit codes."""

from __future__ import annotations

from rich.console import Console

from gateway.config import Settings, get_settings

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_INVALID = 2


def settings() -> Settings:
    return get_settings()
