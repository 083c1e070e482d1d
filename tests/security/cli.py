"""Running one command group in-process against a given database and key file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from gateway.config import get_settings


def run(
    register: Callable[[typer.Typer], None],
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    db_url: str,
    key_file: Path | None = None,
) -> Result:
    monkeypatch.setenv("MARRI_DATABASE_URL", db_url)
    if key_file is not None:
        monkeypatch.setenv("MARRI_KEY_FILE", str(key_file))
    monkeypatch.delenv("MARRI_KEYS_JSON", raising=False)
    get_settings.cache_clear()
    try:
        root = typer.Typer()
        register(root)

        @root.callback()
        def _root() -> None:
            """Keeps typer from collapsing a single command group."""

        return CliRunner().invoke(root, args)
    finally:
        get_settings.cache_clear()
