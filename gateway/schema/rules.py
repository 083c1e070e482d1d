"""Message-wide rules: reply linkage, one entry per channel, unique refs, resolvable references.

The checks read either a validated ``CanonicalMessage`` or the raw JSON object, and skip what
they cannot read (a field error elsewhere reports that). So ``parse_message`` can report these
problems together with field errors instead of making the sender fix one round at a time.
Each problem is ``(location, type, text)``; the location points at the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.schema.codes import Kind

Problem = tuple[tuple[str | int, ...], str, str]

#: Entity lists whose items carry a ``ref``; refs are unique across all of them.
REF_LISTS = (
    "persons",
    "documents",
    "vehicles",
    "locations",
    "organisations",
    "communications",
    "events",
    "attachments",
)

# (list, field, allowed target lists or None for any, text when the kind does not fit)
_SINGLE_REFERENCES: tuple[tuple[str, str, frozenset[str] | None, str], ...] = (
    ("documents", "holder", frozenset({"persons"}), "must refer to a person"),
    (
        "communications",
        "owner",
        frozenset({"persons", "organisations"}),
        "must refer to a person or an organisation",
    ),
    ("events", "location", frozenset({"locations"}), "must refer to a location"),
    ("links", "from", None, ""),
    ("links", "to", None, ""),
)

_ALIASES = {"from": "from_", "schema": "schema_"}
_KINDS = frozenset(k.value for k in Kind)


def _get(obj: Any, key: str) -> Any:
    # dict, not Mapping: an ABC check per field would dominate the cost of these rules
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, _ALIASES.get(key, key), None)


def _items(obj: Any, key: str) -> Sequence[Any]:
    value = _get(obj, key)
    if isinstance(value, tuple | list):
        return value
    return ()


def _reply_linkage(message: Any) -> list[Problem]:
    kind = _get(message, "kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        return []
    has_link = _get(message, "in_reply_to") is not None
    if kind == Kind.reply and not has_link:
        return [(("in_reply_to",), "missing", "required when kind is reply")]
    if kind != Kind.reply and has_link:
        return [(("in_reply_to",), "forbidden", "allowed only when kind is reply")]
    return []


def _one_entry_per_channel(message: Any) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, destination in enumerate(_items(message, "destinations")):
        channel = _get(destination, "channel")
        if not isinstance(channel, str):
            continue
        if channel in seen:
            problems.append(
                (
                    ("destinations", index, "channel"),
                    "duplicate_channel",
                    "a channel appears once; list its recipients in one destination",
                )
            )
        seen.add(channel)
    return problems


def _refs(message: Any) -> tuple[dict[str, str], list[Problem]]:
    """Each ref's owning entity list (first use wins) and the problems of refs used again."""
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for list_name in REF_LISTS:
        for index, item in enumerate(_items(message, list_name)):
            ref = _get(item, "ref")
            if not isinstance(ref, str):
                continue
            if ref in owners:
                problems.append(
                    (
                        (list_name, index, "ref"),
                        "duplicate_ref",
                        "ref already used by another entity in this message",
                    )
                )
            else:
                owners[ref] = list_name
    return owners, problems


def _check_reference(
    owners: Mapping[str, str],
    ref: Any,
    loc: tuple[str | int, ...],
    allowed: frozenset[str] | None,
    wrong_kind_text: str,
) -> list[Problem]:
    if not isinstance(ref, str):
        return []
    owner = owners.get(ref)
    if owner is None:
        return [(loc, "broken_reference", "no entity in this message has this ref")]
    if allowed is not None and owner not in allowed:
        return [(loc, "broken_reference", wrong_kind_text)]
    return []


def _references_resolve(message: Any, owners: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    for list_name, field, allowed, text in _SINGLE_REFERENCES:
        for index, item in enumerate(_items(message, list_name)):
            problems += _check_reference(
                owners, _get(item, field), (list_name, index, field), allowed, text
            )
    for index, event in enumerate(_items(message, "events")):
        for position, ref in enumerate(_items(event, "involved")):
            problems += _check_reference(
                owners, ref, ("events", index, "involved", position), None, ""
            )
    return problems


def message_rule_problems(message: Any) -> list[Problem]:
    """Every message-wide problem, for a validated message or its raw JSON object."""
    owners, duplicates = _refs(message)
    return (
        _reply_linkage(message)
        + _one_entry_per_channel(message)
        + duplicates
        + _references_resolve(message, owners)
    )
