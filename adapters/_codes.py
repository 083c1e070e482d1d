"""Code tables: how each canonical code is written on one channel, checked complete at start-up.

``mappings/<channel>/codes.yaml`` has one entry per canonical code list (the snake_case names in
``CODE_LISTS``). Each entry states, for every code of that list, either the channel's value
(``map``) or why the code is never sent (``not_sent``, code → reason)::

    channel: europol
    lists:
      sex:
        map: {female: F, male: M, unknown: U}
        not_sent: {other: "profile has no value for it; the person is sent without sex"}
      country:
        default: iso_alpha2          # every ISO 3166-1 alpha-2 code is sent as itself
        overrides: {XK: XK}          # XK is not ISO: it must be stated (mapped or not_sent)
        not_sent: {}

``country`` is the one list that may declare ``default: iso_alpha2``; ``XK`` must still appear
explicitly under ``overrides`` or ``not_sent``. A code that is neither mapped nor dropped, a code
the canonical schema does not know, or a list missing altogether raises ``MappingError`` naming
the channel, the list and the code, so a gap is found when the gateway starts, not when a
message meets it.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CODE_LISTS",
    "CodeTable",
    "MappingError",
    "NotSent",
    "canonical_code_lists",
    "load_code_table",
]

# Canonical code list name → the name of its type in ``gateway.schema.codes``.
CODE_LISTS: dict[str, str] = {
    "kind": "Kind",
    "priority": "Priority",
    "crime_area": "CrimeArea",
    "exploitation_type": "ExploitationType",
    "purpose": "Purpose",
    "person_role": "PersonRole",
    "sex": "Sex",
    "script": "Script",
    "name_kind": "NameKind",
    "special_category": "SpecialCategory",
    "document_type": "DocumentType",
    "document_status": "DocumentStatus",
    "vehicle_type": "VehicleType",
    "location_kind": "LocationKind",
    "organisation_kind": "OrganisationKind",
    "communication_kind": "CommunicationKind",
    "event_kind": "EventKind",
    "link_kind": "LinkKind",
    "route_role": "RouteRole",
    "restriction": "Restriction",
    "classification": "Classification",
    "country": "COUNTRY_CODES",
}

KOSOVO = "XK"


class MappingError(Exception):
    """A code table that is incomplete or inconsistent with the canonical code lists."""


@dataclass(frozen=True)
class NotSent:
    """The channel deliberately never receives this code; ``reason`` says why."""

    reason: str


def _codes_of(obj: Any) -> tuple[str, ...]:
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return tuple(str(member.value) for member in obj)
    args = typing.get_args(obj)
    if args:
        return tuple(str(arg) for arg in args)
    if isinstance(obj, Collection) and not isinstance(obj, str):
        return tuple(str(item) for item in obj)
    raise TypeError(f"cannot read codes from {obj!r}")


def canonical_code_lists() -> dict[str, tuple[str, ...]]:
    """Every canonical code list, read from the enums in ``gateway.schema.codes``."""
    from gateway.schema import codes

    lists: dict[str, tuple[str, ...]] = {}
    for list_name, type_name in CODE_LISTS.items():
        source = getattr(codes, type_name, None)
        if source is None:
            raise MappingError(f"canonical code list {list_name!r} ({type_name}) not found")
        lists[list_name] = (
            tuple(sorted(_codes_of(source))) if list_name == "country" else (_codes_of(source))
        )
    return lists


@dataclass(frozen=True)
class CodeTable:
    """Canonical code → channel value (or ``NotSent``) for one channel, complete by construction."""

    channel: str
    entries: Mapping[str, Mapping[str, str | NotSent]]
    # ``entries`` with NotSent as None: ``value`` runs ~150 times per rendered message, so the
    # answer is looked up once here instead of tested on every call.
    _sent: Mapping[str, Mapping[str, str | None]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        sent = {
            list_name: {
                code: None if isinstance(mapped, NotSent) else mapped
                for code, mapped in codes.items()
            }
            for list_name, codes in self.entries.items()
        }
        object.__setattr__(self, "_sent", sent)

    def map(self, list_name: str, code: str) -> str | NotSent:
        """The channel's value for ``code``; a code the table lacks is a programming error."""
        try:
            return self.entries[list_name][code]
        except KeyError:
            raise MappingError(
                f"{self.channel}: no entry for code {code!r} in list {list_name!r}"
            ) from None

    def value(self, list_name: str, code: str) -> str | None:
        """The channel's value, or None when the code is not sent."""
        try:
            return self._sent[list_name][code]
        except KeyError:
            self.map(list_name, code)  # raises MappingError naming the list and the code
            raise

    def values(self, list_name: str, codes: Collection[str]) -> list[str]:
        """Channel values of the codes that are sent, in input order, without repeats."""
        out: list[str] = []
        for code in codes:
            mapped = self.value(list_name, code)
            if mapped is not None and mapped not in out:
                out.append(mapped)
        return out


def _as_str_map(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise MappingError(f"{where}: expected a mapping")
    out: dict[str, str] = {}
    for key, val in raw.items():
        if not isinstance(val, str | int) or isinstance(val, bool) or str(val).strip() == "":
            raise MappingError(f"{where}: code {key!r} needs a non-empty text value")
        out[str(key)] = str(val)
    return out


def _build_list(  # noqa: C901  a flat run of checks, each naming the mistake in the file
    channel: str, list_name: str, raw: Any, canonical: tuple[str, ...]
) -> dict[str, str | NotSent]:
    where = f"{channel}: list {list_name!r}"
    if not isinstance(raw, Mapping):
        raise MappingError(f"{where}: expected a mapping with 'map' and 'not_sent'")
    allowed = {"map", "not_sent"} | ({"default", "overrides"} if list_name == "country" else set())
    unknown_keys = set(raw) - allowed
    if unknown_keys:
        raise MappingError(f"{where}: unknown keys {sorted(unknown_keys)}")
    mapped = _as_str_map(raw.get("map"), f"{where} map")
    not_sent = _as_str_map(raw.get("not_sent"), f"{where} not_sent")
    if list_name == "country":
        overrides = _as_str_map(raw.get("overrides"), f"{where} overrides")
        if KOSOVO not in overrides and KOSOVO not in not_sent and KOSOVO not in mapped:
            raise MappingError(
                f"{where}: code {KOSOVO!r} must be stated explicitly (overrides or not_sent)"
            )
        default = raw.get("default")
        if default not in (None, "iso_alpha2"):
            raise MappingError(f"{where}: default must be 'iso_alpha2'")
        if default == "iso_alpha2":
            base = {code: code for code in canonical if code != KOSOVO and code not in not_sent}
            mapped = {**base, **mapped}
        mapped.update(overrides)
    for code in [*mapped, *not_sent]:
        if code not in canonical:
            raise MappingError(f"{where}: code {code!r} is not a canonical code")
    both = set(mapped) & set(not_sent)
    if both:
        raise MappingError(f"{where}: code {sorted(both)[0]!r} is both mapped and not sent")
    entries: dict[str, str | NotSent] = {}
    for code in canonical:
        if code in mapped:
            entries[code] = mapped[code]
        elif code in not_sent:
            entries[code] = NotSent(not_sent[code])
        else:
            raise MappingError(f"{where}: code {code!r} is neither mapped nor listed as not_sent")
    return entries


def load_code_table(
    channel: str,
    path: Path,
    canonical: Mapping[str, tuple[str, ...]] | None = None,
) -> CodeTable:
    """Read and check ``path`` against the canonical lists; raise ``MappingError`` on any gap."""
    lists = canonical if canonical is not None else canonical_code_lists()
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except OSError as exc:
        raise MappingError(f"{channel}: mapping file {path} cannot be read") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{channel}: mapping file {path} is not valid YAML") from exc
    if not isinstance(raw, Mapping) or not isinstance(raw.get("lists"), Mapping):
        raise MappingError(f"{channel}: mapping file {path} needs a top-level 'lists' mapping")
    if raw.get("channel") != channel:
        declared_channel = raw.get("channel")
        raise MappingError(f"{channel}: mapping file {path} declares channel {declared_channel!r}")
    declared = raw["lists"]
    extra = set(declared) - set(lists)
    if extra:
        raise MappingError(f"{channel}: unknown code list {sorted(extra)[0]!r}")
    entries: dict[str, dict[str, str | NotSent]] = {}
    for list_name, codes in lists.items():
        if list_name not in declared:
            raise MappingError(f"{channel}: list {list_name!r} is missing from {path.name}")
        entries[list_name] = _build_list(channel, list_name, declared[list_name], codes)
    return CodeTable(channel=channel, entries=entries)


class CodeCollector:
    """Code look-ups for one render that also collect the codes the channel cannot send.

    A render keeps going after a missing required code (so every problem is reported at once);
    the problems, as (JSON path, rule) pairs without values, end up in one ``RenderError``.
    """

    def __init__(self, codes: CodeTable) -> None:
        self.codes = codes
        self.violations: list[tuple[str, str]] = []

    def code(self, list_name: str, code: object) -> str | None:
        return self.codes.value(list_name, str(code))

    def required(self, list_name: str, code: object, path: str) -> str:
        mapped = self.code(list_name, code)
        if mapped is None:
            self.violations.append((path, f"{list_name} code not sent on this channel"))
            return "OTHER"
        return mapped

    def country(self, code: str | None) -> str | None:
        return None if code is None else self.code("country", code)
