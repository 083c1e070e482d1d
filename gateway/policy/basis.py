"""The facts a decision rests on: the parties-table entries its rules read, dated.

A rule reads an instrument through ``parties.<instrument>`` or
``parties.unconfirmed.<instrument>``; for the countries of one delivery (sender and recipients)
those entries are what the decision depended on. Each finding lists the ones its rule read,
and the decision records all of them with the day and facts version they were read for, so a
decision can be explained (and re-checked) later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from gateway.policy.decision import FactsBasis, Finding
from gateway.policy.overlay import describe_entry
from gateway.policy.pack import Rule
from gateway.policy.parties import UNCONFIRMED, PartiesTable
from gateway.policy.vocabulary import unconfirmed_instruments


def rule_instruments(rule: Rule, parties: PartiesTable) -> frozenset[str]:
    """The instruments a rule's expression reads (all of them when it uses ``parties`` whole)."""
    named = rule.references["parties"]
    if named is None or (UNCONFIRMED in named and not unconfirmed_instruments(rule.expression)):
        return frozenset(parties.names())
    return frozenset((named - {UNCONFIRMED}) | unconfirmed_instruments(rule.expression))


class BasisWriter:
    """Dated fact lines for decisions, remembered per instruments, countries and day: the same
    few combinations recur for every message, and a decision must stay cheap."""

    def __init__(self, parties: PartiesTable, rules: Iterable[Rule]) -> None:
        self._parties = parties
        self._instruments = {rule.id: rule_instruments(rule, parties) for rule in rules}
        self._lines: dict[tuple[frozenset[str], tuple[str, ...], date], tuple[str, ...]] = {}
        self._read: dict[tuple[str, ...], frozenset[str]] = {}

    def instruments_of(self, rule_id: str) -> frozenset[str]:
        """The instruments whose party lists the rule reads; empty for a rule that reads none."""
        return self._instruments.get(rule_id, frozenset())

    def _line(self, instrument: str, country: str, day: date) -> str:
        entry = self._parties.instruments[instrument].entry(country)
        if entry is None:
            return f"{instrument} {country}: not listed (neither a party nor confirmed)"
        return describe_entry(instrument, entry, day)

    def lines(
        self, instruments: frozenset[str], countries: tuple[str, ...], day: date
    ) -> tuple[str, ...]:
        """One line per instrument and country (``countries`` sorted, without repeats)."""
        key = (instruments, countries, day)
        found = self._lines.get(key)
        if found is None:
            found = tuple(self._line(i, c, day) for i in sorted(instruments) for c in countries)
            if len(self._lines) < 4096:
                self._lines[key] = found
        return found

    def basis(self, rule_ids: tuple[str, ...], countries: tuple[str, ...], day: date) -> FactsBasis:
        """What a decision made by ``rule_ids`` for ``countries`` on ``day`` rested on."""
        read = self._read.get(rule_ids)
        if read is None:
            read = frozenset().union(*(self.instruments_of(r) for r in rule_ids))
            if len(self._read) < 1024:
                self._read[rule_ids] = read
        return FactsBasis(day, self._parties.facts_version, self.lines(read, countries, day))

    def attach(
        self,
        findings: list[Finding],
        rule_ids: tuple[str, ...],
        countries: Iterable[str],
        day: date,
    ) -> tuple[tuple[Finding, ...], FactsBasis]:
        """Each finding with the facts its rule read, and the decision's whole basis."""
        chosen = tuple(sorted(set(countries)))
        dated = tuple(
            Finding(f.rule, f.cite, f.outcome, f.message, self.lines(read, chosen, day))
            if (read := self.instruments_of(f.rule))
            else f
            for f in findings
        )
        return dated, self.basis(rule_ids, chosen, day)
