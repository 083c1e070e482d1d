"""Who is party to what, and since when: ``mappings/parties.yaml`` and the channels' own files.

Instruments several channels rely on (Convention 108, ...) live in the shared
``mappings/parties.yaml``; an instrument only one channel relies on lives in that channel's
mapping folder (``mappings/<channel>/parties.yaml``, same format), so a channel is added or
removed with its folder. The files are merged into one table at load; an instrument defined in
two files is a load error naming both.

Each instrument (Interpol membership, the SELEC Convention, an agreement with Europol, ...)
lists countries with the date from which they are bound, whether that fact is confirmed by a
source, and the source itself. Rules see, for the day of the transfer, the codes of the
parties in force (``parties.<instrument>``) and the codes whose entry is not confirmed
(``parties.unconfirmed.<instrument>``), so that a rule can hold a message for review instead of
resting on an unverified fact. Legal officers' changes are laid over this table
(``gateway.policy.overlay``).

Dates may be partial (``2008``, ``2008-06``): a party known only by year or month counts from
the last day of that period, so the table never makes a country a party earlier than it was.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gateway.policy.errors import PolicyLoadError

UNCONFIRMED = "unconfirmed"
_INSTRUMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_ENTRY_KEYS = frozenset({"country", "party", "since", "until", "confirmed", "source", "note"})
_INSTRUMENT_KEYS = frozenset({"title", "cite", "entries"})


@dataclass(frozen=True)
class PartyEntry:
    """One country's standing under one instrument."""

    country: str
    party: bool
    since: date | None
    until: date | None
    confirmed: bool
    source: str
    note: str = ""
    # Set when the entry comes from a legal officer's change stored in the database (the
    # overlay) rather than the shipped file: who made it, on which day, and its change number.
    changed_by: str = ""
    changed_on: date | None = None
    change_seq: int | None = None

    def in_force_on(self, day: date) -> bool:
        """A party on ``day``: listed as a party, on or after ``since`` and before ``until``."""
        if not self.party:
            return False
        if self.since is not None and day < self.since:
            return False
        return self.until is None or day < self.until


@dataclass(frozen=True)
class Instrument:
    """An instrument and the countries it lists."""

    name: str
    title: str
    cite: str
    entries: tuple[PartyEntry, ...]
    # The file the instrument is defined in: the shared table or a channel's own.
    file: Path = Path()

    def entry(self, country: str) -> PartyEntry | None:
        """The country's entry in this instrument, or None when it is not listed."""
        return next((e for e in self.entries if e.country == country), None)

    def parties_on(self, day: date) -> list[str]:
        """The countries that are parties on ``day``, sorted."""
        return sorted(e.country for e in self.entries if e.in_force_on(day))

    def unconfirmed(self) -> list[str]:
        """The countries whose entry no source confirms yet, sorted."""
        return sorted(e.country for e in self.entries if not e.confirmed)


class PartiesTable:
    """The loaded, validated table; ``lists_on`` gives what rule expressions see."""

    def __init__(
        self,
        path: Path,
        instruments: Mapping[str, Instrument],
        digest: str,
        *,
        facts_version: int = 0,
    ) -> None:
        self.path = path
        self.instruments = dict(instruments)
        self.digest = digest
        # The newest database change folded into this table (0: the shipped file alone).
        self.facts_version = facts_version
        self._lists_on = lru_cache(maxsize=1024)(self._compute_lists_on)

    def names(self) -> list[str]:
        """The instrument names in the table, sorted."""
        return sorted(self.instruments)

    def lists_on(
        self,
        day: date,
        names: frozenset[str] | None = None,
        countries: frozenset[str] | None = None,
        unconfirmed: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Party codes in force on ``day`` per instrument, plus the unconfirmed codes.

        ``names`` limits the result to the instruments some rule refers to and ``countries``
        to the countries a message involves: membership tests on those stay exact, and the
        expression engine does not convert codes no test can ask about; ``unconfirmed`` limits
        ``parties.unconfirmed`` in the same way.
        """
        return self._lists_on(day, names, countries, unconfirmed)

    def _compute_lists_on(
        self,
        day: date,
        names: frozenset[str] | None,
        countries: frozenset[str] | None,
        unconfirmed: frozenset[str] | None,
    ) -> dict[str, Any]:
        chosen = [i for n, i in sorted(self.instruments.items()) if names is None or n in names]

        def keep(codes: list[str]) -> list[str]:
            return codes if countries is None else [c for c in codes if c in countries]

        lists: dict[str, Any] = {i.name: keep(i.parties_on(day)) for i in chosen}
        lists[UNCONFIRMED] = {
            i.name: keep(i.unconfirmed())
            for i in self.instruments.values()
            if unconfirmed is None or i.name in unconfirmed
        }
        return lists


def parse_partial_date(value: object, *, file: Path, where: str) -> date | None:
    """A date, or ``YYYY`` / ``YYYY-MM`` read as the last day of that year or month."""
    if value is None:
        return None
    if isinstance(value, date):
        return value
    text = str(value)
    match = _PARTIAL_DATE.match(text)
    if match is None:
        raise PolicyLoadError(file, f"{where}: '{text}' is not a date (YYYY, YYYY-MM, YYYY-MM-DD)")
    year = int(match.group(1))
    month = int(match.group(2) or 12)
    try:
        day = int(match.group(3) or calendar.monthrange(year, month)[1])
        return date(year, month, day)
    except ValueError:
        raise PolicyLoadError(file, f"{where}: '{text}' is not a valid date") from None


def _entry(raw: object, *, file: Path, where: str) -> PartyEntry:
    if not isinstance(raw, dict):
        raise PolicyLoadError(file, f"{where}: an entry must be a mapping")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise PolicyLoadError(file, f"{where}: unknown keys {sorted(unknown)}")
    country = raw.get("country")
    if not isinstance(country, str) or not _COUNTRY.match(country):
        raise PolicyLoadError(file, f"{where}: country must be an upper-case two-letter code")
    where = f"{where} ({country})"
    confirmed = raw.get("confirmed")
    if not isinstance(confirmed, bool):
        raise PolicyLoadError(file, f"{where}: confirmed must be true or false")
    party = raw.get("party", True)
    if not isinstance(party, bool):
        raise PolicyLoadError(file, f"{where}: party must be true or false")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise PolicyLoadError(file, f"{where}: every entry needs a source")
    since = parse_partial_date(raw.get("since"), file=file, where=f"{where} since")
    until = parse_partial_date(raw.get("until"), file=file, where=f"{where} until")
    if since is not None and until is not None and until <= since:
        raise PolicyLoadError(file, f"{where}: until must be after since")
    note = raw.get("note", "")
    return PartyEntry(country, party, since, until, confirmed, source.strip(), str(note or ""))


def load_parties(path: Path, channel_files: Sequence[Path] = ()) -> PartiesTable:
    """Read and validate the shared ``parties.yaml`` and the channels' own ``channel_files``,
    merged; any problem, or an instrument defined twice, stops the start with PolicyLoadError."""
    instruments: dict[str, Instrument] = {}
    defined_in: dict[str, Path] = {}
    digest = hashlib.sha256()
    for file in (path, *channel_files):
        raw_bytes, document = _read(file)
        # Each file's name goes into the digest too: moving a fact is a change of the table.
        digest.update(f"{file.name}:{len(raw_bytes)}:".encode() + raw_bytes)
        for name, body in document["instruments"].items():
            if name in defined_in:
                raise PolicyLoadError(
                    file, f"instrument {name} is defined in {defined_in[name]} already"
                )
            instruments[name] = _instrument(name, body, file)
            defined_in[name] = file
    return PartiesTable(path, instruments, digest.hexdigest())


def _read(path: Path) -> tuple[bytes, dict[str, Any]]:
    """One parties file's bytes and document, checked to hold an ``instruments`` mapping."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise PolicyLoadError(path, f"cannot be read ({exc.__class__.__name__})") from None
    try:
        document = yaml.load(raw_bytes, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise PolicyLoadError(path, f"is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("instruments"), dict):
        raise PolicyLoadError(path, "must be a mapping with an 'instruments' mapping")
    return raw_bytes, document


def _instrument(name: object, body: object, path: Path) -> Instrument:
    """One instrument of the file, checked; the error names the instrument and what is wrong."""
    if not isinstance(name, str) or not _INSTRUMENT_NAME.match(name) or name == UNCONFIRMED:
        raise PolicyLoadError(path, f"instrument name {name!r} is not allowed")
    if not isinstance(body, dict):
        raise PolicyLoadError(path, f"instrument {name}: must be a mapping")
    unknown = set(body) - _INSTRUMENT_KEYS
    if unknown:
        raise PolicyLoadError(path, f"instrument {name}: unknown keys {sorted(unknown)}")
    entries_raw = body.get("entries")
    if not isinstance(entries_raw, list) or not entries_raw:
        raise PolicyLoadError(path, f"instrument {name}: entries must be a non-empty list")
    entries = tuple(
        _entry(e, file=path, where=f"instrument {name} entry {i}")
        for i, e in enumerate(entries_raw)
    )
    seen: set[str] = set()
    for entry in entries:
        if entry.country in seen:
            raise PolicyLoadError(path, f"instrument {name}: {entry.country} listed twice")
        seen.add(entry.country)
    for key in ("title", "cite"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            raise PolicyLoadError(path, f"instrument {name}: {key} is required")
    return Instrument(name, body["title"], body["cite"], entries, path)
