"""Every command the deployment guide tells an operator to run exists in the command line."""

from __future__ import annotations

import re

from tests.deploy.checks import ROOT, command_path, help_exits_cleanly

GUIDE = ROOT / "docs" / "deploy.md"


def test_every_marri_gateway_command_in_the_guide_exists() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    mentions = [
        m.group(1).split()
        for m in re.finditer(r"marri-gateway((?:\s+[a-z][\w-]*)+)", text.replace("\\\n", " "))
    ]
    assert len(mentions) >= 8
    paths = {tuple(command_path(words)) for words in mentions}
    for path in paths:
        help_exits_cleanly(list(path))
    assert {("db", "upgrade"), ("keys", "rotate"), ("worker",), ("serve",)} <= paths
