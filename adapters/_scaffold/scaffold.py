"""Write the files of a new channel: adapter package, mappings, simulator, one contract case.

Everything a sixth channel needs outside ``gateway/``; the generated code table maps every
canonical code (upper-cased identity, ISO country codes as themselves, ``XK`` stated) so the
channel registers at once, and each value is there to be reviewed against the real profile.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

import yaml

from adapters._codes import canonical_code_lists
from adapters.registry import NAME_PATTERN, in_tree_channels

TEMPLATES = Path(__file__).resolve().parent


class ScaffoldError(Exception):
    """The channel cannot be scaffolded (bad name, files already there)."""


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Adapter"


def _code_table(name: str) -> str:
    lists: dict[str, object] = {}
    for list_name, codes in canonical_code_lists().items():
        if list_name == "country":
            lists[list_name] = {"default": "iso_alpha2", "overrides": {"XK": "XK"}}
        elif list_name == "script":
            lists[list_name] = {"map": {code: code for code in codes}}
        else:
            lists[list_name] = {"map": {code: code.upper() for code in codes}}
    header = (
        f"# Canonical codes -> the {name}-1.0 profile, generated as upper-cased identities.\n"
        "# Review every value against the destination's code lists; list a code under not_sent\n"
        "# with a reason when the channel must never receive it. XK (Kosovo*) stays explicit.\n"
    )
    body = yaml.safe_dump({"channel": name, "lists": lists}, sort_keys=False, width=100)
    return header + body


def _render(template: str, **values: str) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


def plan_files(name: str) -> dict[str, str]:
    """Relative path → content of every file the new channel needs."""
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(f"channel name must match {NAME_PATTERN.pattern}")
    values = {
        "name": name,
        "Class": class_name(name),
        "case_suffix": _suffix(name),
    }
    return {
        f"adapters/{name}/__init__.py": (
            f'"""The {name} channel."""\n\nfrom adapters.{name}.adapter import {values["Class"]}'
            f'\n\n__all__ = ["{values["Class"]}"]\n'
        ),
        f"adapters/{name}/adapter.py": _render("adapter.py.tmpl", **values),
        f"adapters/{name}/render.py": _render("render.py.tmpl", **values),
        f"adapters/{name}/schema/{name}-1.0.schema.json": _render("schema.json.tmpl", **values),
        f"mappings/{name}/codes.yaml": _code_table(name),
        f"mappings/{name}/rules.yaml": _render("rules.yaml.tmpl", **values),
        f"mappings/{name}/parties.yaml": _render("parties.yaml.tmpl", **values),
        f"mappings/{name}/cases.yaml": _render("cases.yaml.tmpl", **values),
        f"mappings/{name}/message.json": _render("case_input.json.tmpl", **values),
        f"simulators/{name}.py": _render("simulator.py.tmpl", **values),
        f"contract_tests/cases/{name}/basic/input.json": _render("case_input.json.tmpl", **values),
        f"contract_tests/cases/{name}/basic/decision.json": _render(
            "case_review_decision.json.tmpl", **values
        ),
        f"contract_tests/cases/{name}/no_personal_data/input.json": _render(
            "case_no_personal_data.json.tmpl", **values
        ),
        f"contract_tests/cases/{name}/no_personal_data/decision.json": _render(
            "case_allow_decision.json.tmpl", **values
        ),
    }


def _suffix(name: str) -> str:
    # Deterministic 12 hex digits from the name (no hash randomisation, no clock).
    digits = "".join(f"{ord(ch):02x}" for ch in name)
    return (digits + "0" * 12)[:12]


def scaffold(name: str, root: Path) -> list[Path]:
    """Write the new channel's files under ``root``; refuse to overwrite anything."""
    if name in in_tree_channels():
        raise ScaffoldError(f"{name} is already a channel of this gateway")
    files = plan_files(name)
    existing = [rel for rel in files if (root / rel).exists()]
    if existing or (root / "adapters" / name).exists():
        raise ScaffoldError(f"{name}: files already exist ({', '.join(existing) or 'adapters'})")
    written = []
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
