"""The sandbox's tokens, kept under ./var so that ``make run`` prints them and ``send`` finds them.

Only the sandbox writes this file; a real deployment issues tokens with ``token create``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MARRI_PARTICIPANTS = {
    "AL": "Albanian State Police",
    "BA": "Ministry of Security of Bosnia and Herzegovina",
    "MK": "Ministry of Interior of North Macedonia",
    "ME": "Police Directorate of Montenegro",
    "RS": "Ministry of Interior of Serbia",
    "XK": "Kosovo Police",
}


def tokens_file() -> Path:
    """Where the sandbox keeps the tokens it made; ``MARRI_SANDBOX_TOKENS`` overrides it."""
    return Path(os.environ.get("MARRI_SANDBOX_TOKENS", "var/sandbox-tokens.json"))


def load_sandbox_tokens() -> dict[str, dict[str, str]]:
    """The sandbox tokens by role or sender; empty when the sandbox made none."""
    path = tokens_file()
    if not path.exists():
        return {}
    data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def sender_token_for(country: str) -> str | None:
    """The sandbox token of a sending country, if the sandbox made one."""
    entry = load_sandbox_tokens().get(f"sender:{country}")
    return entry["token"] if entry else None


def role_token_for(name: str) -> str | None:
    """The sandbox token of a staff role (``legal``, ``approver``, ...), if the sandbox made one."""
    entry = load_sandbox_tokens().get(name)
    return entry["token"] if entry else None
