"""Errors of the policy layer.

    PolicyLoadError        a rule pack or the parties table is malformed; raised at start-up,
                           the message names the file, the rule id (where there is one) and
                           the problem, so the process refuses to start with a clear reason.

Evaluation never raises: a rule whose expression fails becomes a ``review`` finding.
"""

from __future__ import annotations

from pathlib import Path


class PolicyLoadError(Exception):
    """A rule pack or the parties table cannot be used."""

    def __init__(self, file: Path | str, problem: str, *, rule: str | None = None) -> None:
        self.file = str(file)
        self.rule = rule
        self.problem = problem
        where = f"{self.file}: rule {rule}" if rule else self.file
        super().__init__(f"{where}: {problem}")
