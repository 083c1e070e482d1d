"""An answer from a channel as a canonical ``kind: reply`` message (schema v1).

The reply belongs to the case of the message it answers, so what the answer does not say
(crime areas, purposes, legal basis, onward transfer, retention) is taken from that message.
Codes come back through the channel's own code table read the other way: a channel value that
exactly one canonical code maps to becomes that code; a value no code maps to, or several do,
is left out of the message and listed in ``unmapped`` with its raw value, never guessed. Names
stay in the script they came in, and a non-Latin name gains its ICAO Latin form as a
``latin_transcription`` name.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters._codes import CodeTable, NotSent
from adapters._names import UnsupportedScript, latin_name
from adapters.inbound import InboundMessage, InboundName, InboundPerson
from gateway.schema import MessageInvalid, parse_message

__all__ = ["CanonicalReply", "Unmapped", "build_reply", "canonical_code"]

SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Arab"})


@dataclass(frozen=True)
class Unmapped:
    """A channel value kept raw: where it would have gone, its code list, the value itself."""

    path: str
    list_name: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """The problem as the answer to the channel reports it: path, list, value, reason."""
        return {"path": self.path, "list": self.list_name, "value": self.value,
                "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class CanonicalReply:
    """The canonical reply (None when schema v1 cannot hold it) and what stayed raw."""

    message: dict[str, Any] | None
    unmapped: tuple[Unmapped, ...]
    problems: tuple[str, ...] = ()


_reverse_cache: dict[tuple[int, str], tuple[CodeTable, dict[str, list[str]]]] = {}


def _reverse(table: CodeTable, list_name: str) -> dict[str, list[str]]:
    key = (id(table), list_name)
    cached = _reverse_cache.get(key)
    if cached is not None and cached[0] is table:
        return cached[1]
    reverse: dict[str, list[str]] = {}
    for code, value in table.entries.get(list_name, {}).items():
        if not isinstance(value, NotSent):
            reverse.setdefault(value, []).append(code)
    _reverse_cache[key] = (table, reverse)
    return reverse


def canonical_code(table: CodeTable, list_name: str, value: str) -> tuple[str | None, str]:
    """The one canonical code ``value`` stands for on this channel, or None and why not."""
    codes = _reverse(table, list_name).get(value, [])
    if len(codes) == 1:
        return codes[0], ""
    return None, "no canonical code maps to it" if not codes else "several canonical codes do"


class _Mapper:
    def __init__(self, table: CodeTable) -> None:
        self.table = table
        self.unmapped: list[Unmapped] = []

    def code(self, list_name: str, value: str | None, path: str) -> str | None:
        if value is None:
            return None
        code, reason = canonical_code(self.table, list_name, value)
        if code is None:
            self.unmapped.append(Unmapped(path, list_name, value, reason))
        return code


def _names(
    names: tuple[InboundName, ...], country: str | None, path: str, mapper: _Mapper
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    latin: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        if name.script not in SCRIPTS or (name.given is None and name.family is None):
            mapper.unmapped.append(
                Unmapped(f"{path}.names[{index}]", "script", name.script, "script not supported")
            )
            continue
        kind = "primary" if not out else "alias"
        out.append(_name(name.given, name.family, name.script, kind))
        if name.script != "Latn":
            # Arabic has no romanisation table here: such a name stays as written only.
            with contextlib.suppress(UnsupportedScript):
                latin.append(
                    _name(
                        latin_name(name.given, name.script, country) if name.given else None,
                        latin_name(name.family, name.script, country) if name.family else None,
                        "Latn",
                        "latin_transcription",
                    )
                )
    return out + latin


def _name(given: str | None, family: str | None, script: str, kind: str) -> dict[str, Any]:
    name: dict[str, Any] = {"script": script, "kind": kind}
    if given:
        name["given"] = given
    if family:
        name["family"] = family
    return name


def _person(person: InboundPerson, index: int, mapper: _Mapper) -> dict[str, Any] | None:
    path = f"$.persons[{index}]"
    nationalities = [
        code
        for i, raw in enumerate(person.nationalities)
        if (code := mapper.code("country", raw, f"{path}.nationalities[{i}]")) is not None
    ]
    country = nationalities[0] if nationalities else None
    names = _names(person.names, country, path, mapper)
    if not names:
        return None
    out: dict[str, Any] = {
        "ref": f"reply-person-{index + 1}",
        # The schema needs a role; "other" when the channel's role has no canonical code
        # (the raw value is listed in ``unmapped``).
        "role": mapper.code("person_role", person.role, f"{path}.role") or "other",
        "names": names,
    }
    sex = mapper.code("sex", person.sex, f"{path}.sex")
    if sex is not None:
        out["sex"] = sex
    if nationalities:
        out["nationalities"] = list(dict.fromkeys(nationalities))
    if person.birth_date:
        out["birth_date"] = person.birth_date
    return out


def build_reply(
    answer: InboundMessage,
    original: Mapping[str, Any],
    table: CodeTable,
    *,
    reply_id: str,
    received_at: datetime,
    seat_country: str,
) -> CanonicalReply:
    """The canonical reply to ``original`` (its canonical JSON) that ``answer`` stands for."""
    mapper = _Mapper(table)
    handling = dict(original["handling"])
    restriction = mapper.code(
        "restriction", answer.codes.get("restriction"), "$.handling.restriction"
    )
    if restriction is not None:
        handling["restriction"] = restriction
        if restriction == "other":
            handling.setdefault(
                "restriction_text", f"restriction set in the {answer.channel} answer"
            )
        else:
            handling.pop("restriction_text", None)
    classification = mapper.code(
        "classification", answer.codes.get("classification"), "$.handling.classification"
    )
    if classification is not None:
        handling["classification"] = classification
    from_country = mapper.code("country", answer.from_country, "$.sender.country")
    sender_country = original["sender"]["country"]
    persons = [
        p for i, raw in enumerate(answer.persons) if (p := _person(raw, i, mapper)) is not None
    ]
    message: dict[str, Any] = {
        "schema": "marri.exchange/1",
        "message_id": reply_id,
        "sent_at": (answer.sent_at or received_at).isoformat(),
        "sender": {
            "country": from_country or seat_country,
            "agency": (answer.from_agency or f"{answer.channel} channel")[:200],
        },
        "kind": "reply",
        "in_reply_to": original["message_id"],
        "priority": original.get("priority", "routine"),
        "subject": answer.subject,
        "crime_areas": original["crime_areas"],
        "purposes": original["purposes"],
        "legal_basis": original["legal_basis"],
        "handling": handling,
        "destinations": [{"channel": answer.channel, "to": [sender_country]}],
    }
    for key in ("exploitation_types", "case"):
        if key in original:
            message[key] = original[key]
    if answer.text:
        message["summary"] = answer.text
    if persons:
        message["persons"] = persons
    try:
        checked = parse_message(json.dumps(message, ensure_ascii=False).encode("utf-8"))
    except MessageInvalid as exc:
        problems = tuple(f"{v.path}: {v.type}" for v in exc.violations)
        return CanonicalReply(None, tuple(mapper.unmapped), problems)
    data = checked.model_dump(mode="json", by_alias=True, exclude_none=True)
    return CanonicalReply(data, tuple(mapper.unmapped))
