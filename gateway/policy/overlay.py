"""Legal officers' changes to the parties table, laid over the shipped parties files.

A change (confirm, withdraw or set) is stored in the database as the whole entry it leaves
behind, with who made it, when, and the source they gave. The newest change for an
(instrument, country) replaces that entry of the shipped file or adds it, so the table a
decision reads is the file as shipped plus every officer's latest word on each fact. The
overlay never adds an instrument: rules are checked against the shipped instrument names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from gateway.policy.parties import Instrument, PartiesTable, PartyEntry

COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_SOURCE = 2000


class FactAction(StrEnum):
    """What a legal officer did to a fact; also the suffix of its audit action."""

    CONFIRM = "confirm"  # a source now states the fact
    WITHDRAW = "withdraw"  # the fact may no longer be relied on: it counts as unconfirmed
    SET = "set"  # a new party, or a changed standing or date


@dataclass(frozen=True)
class FactChange:
    """One stored change: the entry it leaves, who made it and when."""

    seq: int
    instrument: str
    action: FactAction
    entry: PartyEntry
    actor: str
    changed_at: datetime


class FactProblem(ValueError):
    """A change that cannot be made (unknown instrument or country, bad dates, no source)."""


def role_of(actor: str) -> str:
    """``legal:<token id>`` → ``legal``: findings name the role, never a person."""
    return actor.partition(":")[0] or actor


def checked_entry(
    table: PartiesTable,
    instrument: str,
    country: str,
    *,
    party: bool,
    since: date | None,
    until: date | None,
    confirmed: bool,
    source: str,
    note: str,
) -> PartyEntry:
    """The entry a change would leave, validated as the loader validates the file."""
    if instrument not in table.instruments:
        raise FactProblem(f"no instrument '{instrument}'; known: {', '.join(table.names())}")
    if not COUNTRY.match(country):
        raise FactProblem("country must be an upper-case two-letter code")
    source = source.strip()
    if not source:
        raise FactProblem("a change needs a source (where the fact is stated)")
    if len(source) > MAX_SOURCE or len(note) > MAX_SOURCE:
        raise FactProblem(f"source and note are at most {MAX_SOURCE} characters")
    if since is not None and until is not None and until <= since:
        raise FactProblem("until must be after since")
    return PartyEntry(country, party, since, until, confirmed, source, note.strip())


def apply_overlay(table: PartiesTable, changes: Iterable[FactChange]) -> PartiesTable:
    """The shipped table with each fact's newest change in place of (or beside) its entry."""
    newest: dict[tuple[str, str], FactChange] = {}
    version = table.facts_version
    for change in changes:
        version = max(version, change.seq)
        if change.instrument not in table.instruments:
            continue  # an instrument no longer shipped: no rule can read it
        key = (change.instrument, change.entry.country)
        if key not in newest or newest[key].seq < change.seq:
            newest[key] = change
    instruments: dict[str, Instrument] = {}
    for name, instrument in table.instruments.items():
        entries = {e.country: e for e in instrument.entries}
        for (changed_instrument, country), change in sorted(newest.items()):
            if changed_instrument == name:
                entries[country] = replace(
                    change.entry,
                    changed_by=role_of(change.actor),
                    changed_on=change.changed_at.date(),
                    change_seq=change.seq,
                )
        instruments[name] = replace(instrument, entries=tuple(entries.values()))
    return PartiesTable(table.path, instruments, table.digest, facts_version=version)


def describe_entry(instrument: str, entry: PartyEntry, day: date) -> str:
    """One fact as a finding states it, dated: what it says, whether it held on ``day``, and
    where it comes from."""
    standing = "party" if entry.party else "not a party"
    dates = []
    if entry.since is not None:
        dates.append(f"since {entry.since.isoformat()}")
    if entry.until is not None:
        dates.append(f"until {entry.until.isoformat()}")
    if dates:
        standing += f" ({', '.join(dates)})"
    if entry.party:
        standing += (
            f", in force on {day.isoformat()}"
            if entry.in_force_on(day)
            else f", NOT in force on {day.isoformat()}"
        )
    if entry.change_seq is not None and entry.changed_on is not None:
        verb = "confirmed" if entry.confirmed else "marked unconfirmed"
        origin = f"{verb} by {entry.changed_by} on {entry.changed_on.isoformat()}"
    else:
        origin = "confirmed in the shipped table" if entry.confirmed else "unconfirmed"
    return f"{instrument} {entry.country}: {standing}; {origin}, source {entry.source}"
