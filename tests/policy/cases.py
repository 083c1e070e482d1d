"""Rule cases from the channels' mapping folders: ``mappings/<channel>/cases.yaml``.

Each case names a rule, an example message and two small changes of it: one the rule passes,
one it fails. The cases live with the channel, so adding or removing a channel never edits a
central list. A change is a mapping applied in this order: ``strip_personal_data: true``,
``delete: [dotted paths]``, ``set: {dotted path: value}``, ``append: {dotted path: item}``;
absent or null leaves the example as it is. ``unconfirm: [[instrument, country], ...]``
decides both messages on a parties table in which those entries no source confirms.
The example is a file next to ``cases.yaml`` when one has that name, else one of examples/.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.policy import PolicyEngine
from gateway.policy.pack import channel_folders
from gateway.policy.parties import PartiesTable

from .helpers import DELETE, EXAMPLES, MAPPINGS, set_path, strip_personal_data

CASES_FILE = "cases.yaml"
_CHANGE_KEYS = frozenset({"strip_personal_data", "delete", "set", "append"})
_CASE_KEYS = frozenset({"rule", "example", "channel", "passes", "fails", "unconfirm", "note"})


@dataclass(frozen=True)
class Case:
    rule: str
    example: Path
    channel: str
    passes: dict[str, Any] | None
    fails: dict[str, Any] | None
    unconfirm: tuple[tuple[str, str], ...] = ()
    file: Path = Path()

    def data(self, which: str) -> dict[str, Any]:
        """The example changed as ``passes`` or ``fails`` says."""
        data: dict[str, Any] = json.loads(self.example.read_text(encoding="utf-8"))
        apply_change(data, getattr(self, which))
        return data

    def engine(self, shipped: PolicyEngine) -> PolicyEngine:
        """The engine to decide with: the shipped one, or one with entries unconfirmed."""
        if not self.unconfirm:
            return shipped
        return shipped.with_parties(unconfirmed(shipped.parties, self.unconfirm))


def apply_change(data: dict[str, Any], change: dict[str, Any] | None) -> None:
    if not change:
        return
    if change.get("strip_personal_data"):
        strip_personal_data(data)
    for dotted in change.get("delete", []):
        set_path(data, dotted, DELETE)
    for dotted, value in change.get("set", {}).items():
        set_path(data, dotted, value)
    for dotted, item in change.get("append", {}).items():
        node: Any = data
        for part in dotted.split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        node.append(item)


def unconfirmed(table: PartiesTable, pairs: tuple[tuple[str, str], ...]) -> PartiesTable:
    instruments = dict(table.instruments)
    for name, country in pairs:
        instrument = instruments[name]
        entries = tuple(
            dataclasses.replace(e, confirmed=False) if e.country == country else e
            for e in instrument.entries
        )
        instruments[name] = dataclasses.replace(instrument, entries=entries)
    return PartiesTable(table.path, instruments, table.digest)


def _case(raw: Any, file: Path) -> Case:
    where = f"{file}: case {raw!r:.80}"
    if not isinstance(raw, dict) or set(raw) - _CASE_KEYS or "rule" not in raw:
        raise ValueError(f"{where}: a case is a mapping of {sorted(_CASE_KEYS)} with a rule")
    for which in ("passes", "fails"):
        change = raw.get(which)
        if change is not None and (not isinstance(change, dict) or set(change) - _CHANGE_KEYS):
            raise ValueError(f"{where}: {which} takes only {sorted(_CHANGE_KEYS)}")
    example = file.parent / raw["example"]
    if not example.is_file():
        example = EXAMPLES / raw["example"]
    if not example.is_file():
        raise ValueError(f"{where}: no example {raw['example']}")
    return Case(
        rule=raw["rule"],
        example=example,
        channel=raw.get("channel", file.parent.name),
        passes=raw.get("passes"),
        fails=raw.get("fails"),
        unconfirm=tuple((str(i), str(c)) for i, c in raw.get("unconfirm", [])),
        file=file,
    )


def discover(mappings: Path = MAPPINGS) -> list[Case]:
    """Every channel folder's cases, in folder order."""
    cases: list[Case] = []
    for folder in channel_folders([mappings]):
        file = folder / CASES_FILE
        if file.is_file():
            document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            cases += [_case(raw, file) for raw in document.get("cases", [])]
    return cases
