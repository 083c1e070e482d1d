"""What rule expressions see: the named variables and how they are built from a message.

Variables (the whole vocabulary; a pack using anything else fails to load):

- ``message``     the canonical message dumped by alias, absent optional fields left out (use
                  ``has(message.case)``). Identifying values and free text (names, numbers,
                  descriptions, addresses, ...) appear only as ``true``: rules decide on codes
                  and structure, never on what a name says, and no value can leak through an
                  expression.
- ``facts``       the schema's derived facts plus the policy facts below.
- ``sender``      ``country``, ``agency``.
- ``destination`` ``channel``, ``product`` (the pack's default when the sender named none),
                  ``recipients`` (the countries this decision is for).
- ``parties``     ``parties.<instrument>``: of the countries the message involves (its
                  sender and every destination's recipients), those party on the message's
                  date; ``parties.unconfirmed.<instrument>``: those whose entry no source
                  confirms. Limiting the lists to the message's countries keeps membership
                  tests exact and their conversion cheap; do not count the lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from gateway.schema import CanonicalMessage, DerivedFacts
from gateway.schema.message import Person

VARIABLES = ("message", "facts", "sender", "destination", "parties")

# Keys whose values identify someone or are free text: rules see only that they are present.
OPAQUE_KEYS = frozenset(
    {
        "subject",
        "summary",
        "agency",
        "unit",
        "contact",
        "given",
        "family",
        "description",
        "place",
        "address",
        "lat",
        "lon",
        "number",
        "registration",
        "vin",
        "make",
        "model",
        "colour",
        "name",
        "value",
        "filename",
        "content_base64",
        "sha256",
        "reference",
        "operation",
        "offence",
        "issued_by",
        "restriction_text",
    }
)

SUSPECT_ROLES = frozenset({"suspect", "facilitator"})
SOUGHT_ROLES = frozenset({"missing", "unidentified"})
LIKENESS_CATEGORIES = frozenset({"biometric", "genetic"})
SUPPLEMENTARY_ROLES = frozenset({"victim", "witness"})
CRAFT_TYPES = frozenset({"boat", "aircraft"})

#: Facts the policy layer adds to the schema's derived facts (documented in docs/rules.md).
POLICY_FACTS: dict[str, str] = {
    "cited_articles": (
        "legal bases as 'instrument:article number' without paragraphs, e.g. 'pcc_see:31' "
        "for article '31(4)(b)'; an entry without article appears as 'instrument:'"
    ),
    "cited_instruments": "the instruments named in legal_basis",
    "has_warrant": "case.warrant is present (a warrant or a judgment)",
    "warrant_is_judgment": (
        "case.warrant.judgment is true (the person is sought to serve a sentence)"
    ),
    "warrant_max_penalty_years": "the warrant's maximum penalty in years; 0 when not stated",
    "yellow_notice_subjects_without_identifiers": (
        "how many missing persons lack a forename, a family name, a known sex or a birth date, "
        "and unidentified persons a known sex or a description"
    ),
    "has_photo_or_biometrics": (
        "an attachment is an image, or a missing or unidentified person's record is marked "
        "biometric or genetic"
    ),
    "case_character": "case.character, or ['ordinary_law'] when there is no case",
    "special_categories_of_victims_or_witnesses": (
        "a victim or witness record is marked as holding special-category data"
    ),
    "victims_or_witnesses_without_suspect": (
        "how many victims and witnesses have no link (either direction) to a suspect or facilitator"
    ),
    "attachment_count": "how many attachments the message carries",
}

_FIELD_BY_ALIAS = {f.alias or name: name for name, f in CanonicalMessage.model_fields.items()}
_ARTICLE_NUMBER = re.compile(r"^\s*(\d+[a-z]?)")


def opaque_view(value: Any) -> Any:
    """The dumped message with identifying values and free text replaced by ``true``."""
    if isinstance(value, dict):
        return {
            k: (True if k in OPAQUE_KEYS else opaque_view(v))
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [opaque_view(v) for v in value]
    return value


def message_view(message: CanonicalMessage, fields: frozenset[str] | None) -> dict[str, Any]:
    """``message`` as rules see it, limited to the top-level ``fields`` some rule refers to."""
    include = (
        None if fields is None else {_FIELD_BY_ALIAS[a] for a in fields if a in _FIELD_BY_ALIAS}
    )
    dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True, include=include)
    view: dict[str, Any] = opaque_view(dumped)
    return view


def _article_key(instrument: str, article: str | None) -> str:
    match = _ARTICLE_NUMBER.match(article or "")
    return f"{instrument}:{match.group(1) if match else ''}"


def persons_linked_to_suspects(message: CanonicalMessage) -> set[str]:
    """Refs of persons with a link, in either direction, to a suspect or facilitator."""
    suspects = {p.ref for p in message.persons if p.role.value in SUSPECT_ROLES}
    linked: set[str] = set()
    for link in message.links:
        if link.from_ in suspects:
            linked.add(link.to)
        if link.to in suspects:
            linked.add(link.from_)
    return linked


def unlinked_victims_or_witnesses(message: CanonicalMessage) -> list[int]:
    """Indexes of victims and witnesses that do not supplement any suspect's data."""
    linked = persons_linked_to_suspects(message)
    return [
        i
        for i, p in enumerate(message.persons)
        if p.role.value in SUPPLEMENTARY_ROLES and p.ref not in linked
    ]


def _lacks_identifiers(person: Person) -> bool:
    """RPD Art. 90's identifiers a record itself carries: a missing person's names, sex and
    birth year; an unidentified person's sex and description (a photograph, fingerprints or DNA
    are ``has_photo_or_biometrics``)."""
    known_sex = person.sex is not None and person.sex.value != "unknown"
    if person.role.value == "missing":
        named = any(n.given and n.family for n in person.names)
        return not (named and known_sex and person.birth_date is not None)
    return not (known_sex and person.description is not None)


def _has_likeness(message: CanonicalMessage) -> bool:
    """Canonical v1 ties no photograph or biometric file to a person: an image attachment, or
    a sought person's record marked biometric or genetic, is the closest it comes."""
    if any(a.media_type.startswith("image/") for a in message.attachments):
        return True
    return any(
        p.role.value in SOUGHT_ROLES
        and LIKENESS_CATEGORIES & {c.value for c in p.special_categories or ()}
        for p in message.persons
    )


def policy_facts(message: CanonicalMessage) -> dict[str, Any]:
    """The facts of ``POLICY_FACTS``, computed once per message."""
    warrant = message.case.warrant if message.case is not None else None
    bases = message.legal_basis
    return {
        "cited_articles": sorted({_article_key(b.instrument.value, b.article) for b in bases}),
        "cited_instruments": sorted({b.instrument.value for b in bases}),
        "has_warrant": warrant is not None,
        "warrant_is_judgment": bool(warrant and warrant.judgment),
        "yellow_notice_subjects_without_identifiers": sum(
            1 for p in message.persons if p.role.value in SOUGHT_ROLES and _lacks_identifiers(p)
        ),
        "has_photo_or_biometrics": _has_likeness(message),
        "warrant_max_penalty_years": float(
            warrant.max_penalty_years if warrant and warrant.max_penalty_years else 0.0
        ),
        "case_character": (
            [c.value for c in message.case.character] if message.case else ["ordinary_law"]
        ),
        "special_categories_of_victims_or_witnesses": any(
            p.special_categories and p.role.value in SUPPLEMENTARY_ROLES for p in message.persons
        ),
        "victims_or_witnesses_without_suspect": len(unlinked_victims_or_witnesses(message)),
        "attachment_count": len(message.attachments),
    }


def facts_view(
    message: CanonicalMessage, facts: DerivedFacts, names: frozenset[str] | None
) -> dict[str, Any]:
    """``facts`` as rules see it: schema facts and policy facts, limited to ``names``."""
    extra = policy_facts(message)
    schema_names = DerivedFacts.__dataclass_fields__
    wanted = names if names is not None else frozenset(schema_names) | frozenset(extra)
    view: dict[str, Any] = {}
    for name in wanted:
        if name in extra:
            view[name] = extra[name]
        elif name in schema_names:
            view[name] = getattr(facts, name)
    return view


def involved_countries(message: CanonicalMessage) -> frozenset[str]:
    """The sender and every recipient named by any destination of the message."""
    found = {message.sender.country}
    for destination in message.destinations:
        found.update(destination.to)
    return frozenset(found)


def fact_names() -> frozenset[str]:
    """Every name ``facts.<name>`` may use."""
    schema_names = set(DerivedFacts.__dataclass_fields__)
    return frozenset(schema_names | set(POLICY_FACTS))


def sender_view(message: CanonicalMessage) -> dict[str, str]:
    """What rule expressions see of the sender: country and agency only."""
    return {"country": message.sender.country, "agency": message.sender.agency}


def destination_view(channel: str, product: str, recipients: Iterable[str]) -> dict[str, Any]:
    """What rule expressions see of one destination."""
    return {"channel": channel, "product": product, "recipients": list(recipients)}


def referenced_attributes(expression: str, variable: str) -> set[str] | None:
    """Attribute names used as ``variable.<name>``; None when the variable is used whole."""
    names = set(re.findall(rf"\b{variable}\s*\.\s*([A-Za-z_]\w*)", expression))
    bare = re.search(rf"\b{variable}\b(?!\s*\.)", expression)
    return None if bare else names


def union_references(found: Iterable[set[str] | None]) -> frozenset[str] | None:
    """Union of referenced attributes; None (everything) as soon as one use is whole."""
    total: set[str] = set()
    for names in found:
        if names is None:
            return None
        total |= names
    return frozenset(total)


def unconfirmed_instruments(expression: str) -> set[str]:
    """The instruments whose unconfirmed list the expression reads, to record them as its basis."""
    return set(re.findall(r"\bparties\s*\.\s*unconfirmed\s*\.\s*([A-Za-z_]\w*)", expression))
