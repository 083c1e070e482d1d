"""Canonical message → interpol-notice-1.0 JSON document (pure; no clock, no randomness).

Person fields follow Interpol's public notice model (``forename``, ``name``, ``date_of_birth``
as ``YYYY/MM/DD``, ``sex_id``, ``nationalities``, ``arrest_warrants``). Names go out in Latin
script; a name written in another script keeps its original beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters._codes import CodeTable
from adapters._names import UnsupportedScript, latin_parts, person_country, romanised
from adapters.errors import RenderError

PROFILE = "interpol-notice-1.0"
SUSPECT_STATUSES = frozenset({"SUSPECT"})
MISSING_STATUSES = frozenset({"MISSING_PERSON", "UNIDENTIFIED_PERSON"})

Json = dict[str, Any]


def interpol_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` → ``YYYY/MM/DD``; partial ``YYYY`` and ``YYYY-MM`` keep their length."""
    return value.replace("-", "/") if value else None


def render_document(message: Mapping[str, Any], product: str, codes: CodeTable) -> Json:
    """The JSON document for ``product``; raises ``RenderError`` when the product lacks data."""
    sender = message["sender"]
    persons, problems = _persons(message, codes)
    doc: Json = {
        "profile": PROFILE,
        "product": product,
        "message_id": message["message_id"],
        "sent_at": message["sent_at"],
        "requesting_country_id": codes.value("country", sender["country"]),
        "requesting_authority": _authority(sender),
        "message_type": codes.value("kind", message["kind"]),
        "priority": codes.value("priority", _effective_priority(message)),
        "subject": message["subject"],
        "crime_areas": codes.values("crime_area", message["crime_areas"]),
        "exploitation_types": codes.values(
            "exploitation_type", message.get("exploitation_types", [])
        ),
        "purposes": codes.values("purpose", message["purposes"]),
        "legal_basis": [_drop_none(dict(entry)) for entry in message["legal_basis"]],
        "handling": _handling(message["handling"], codes),
        "persons": persons,
        "documents": _documents(message, codes),
    }
    optional: Json = {
        "in_reply_to": message.get("in_reply_to"),
        "summary": message.get("summary"),
        "evaluation": message.get("evaluation"),
        "case": _case(message.get("case")),
    }
    doc.update(_drop_none(optional))
    problems.extend(_product_problems(message, product, persons))
    if problems:
        raise RenderError(f"interpol: message cannot be expressed as {product}", problems)
    return doc


def _effective_priority(message: Mapping[str, Any]) -> str:
    priority = str(message.get("priority", "routine"))
    return "urgent" if message["kind"] == "alert" and priority == "routine" else priority


def _authority(sender: Mapping[str, Any]) -> str:
    unit = sender.get("unit")
    return f"{sender['agency']} / {unit}" if unit else str(sender["agency"])


def _handling(handling: Mapping[str, Any], codes: CodeTable) -> Json:
    return _drop_none(
        {
            "classification": codes.value("classification", handling["classification"]),
            "restriction": codes.value("restriction", handling.get("restriction", "none")),
            "restriction_text": handling.get("restriction_text"),
            "onward_transfer": str(handling.get("onward_transfer", "with_consent")).upper(),
            "retention_until": interpol_date(handling.get("retention_until")),
        }
    )


def _case(case: Mapping[str, Any] | None) -> Json | None:
    if not case:
        return None
    return _drop_none(
        {
            "reference": case.get("reference"),
            "operation": case.get("operation"),
            "opened_on": interpol_date(case.get("opened_on")),
            "character": [str(c).upper() for c in case.get("character", ["ordinary_law"])],
        }
    )


def _warrants(message: Mapping[str, Any], codes: CodeTable) -> list[Json]:
    warrant = (message.get("case") or {}).get("warrant")
    if not warrant:
        return []
    return [
        _drop_none(
            {
                "issuing_country_id": codes.value("country", message["sender"]["country"]),
                "charge": warrant.get("offence"),
                "issued_by": warrant.get("issued_by"),
                "issued_on": interpol_date(warrant.get("issued_on")),
                "reference": warrant.get("reference"),
                "max_penalty_years": warrant.get("max_penalty_years"),
                "judgment": warrant.get("judgment"),
            }
        )
    ]


def _persons(
    message: Mapping[str, Any], codes: CodeTable
) -> tuple[list[Json], list[tuple[str, str]]]:
    warrants = _warrants(message, codes)
    out: list[Json] = []
    problems: list[tuple[str, str]] = []
    for index, person in enumerate(message.get("persons", [])):
        path = f"$.persons[{index}]"
        status = codes.value("person_role", person["role"])
        country = person_country(person, message["sender"]["country"])
        try:
            main, aliases = _names(person["names"], country, codes)
        except UnsupportedScript:
            problems.append((f"{path}.names", "no Latin form: add a latin_transcription name"))
            continue
        birth = person.get("birth_place") or {}
        entry: Json = {
            "ref": person["ref"],
            "status_id": status,
            **main,
            "aliases": aliases,
            "date_of_birth": interpol_date(person.get("birth_date")),
            "sex_id": codes.value("sex", person["sex"]) if person.get("sex") else None,
            "nationalities": codes.values("country", person.get("nationalities", [])),
            "country_of_birth_id": codes.value("country", birth["country"])
            if birth.get("country")
            else None,
            "place_of_birth": romanised(birth["place"], country) if birth.get("place") else None,
            "place_of_birth_original": _original_if_changed(birth.get("place"), country),
            "is_minor": person.get("is_minor"),
            "distinguishing_marks": person.get("description"),
            "arrest_warrants": warrants if status in SUSPECT_STATUSES else [],
        }
        out.append(_drop_none(entry))
    return out, problems


def _names(
    names: list[Mapping[str, Any]], country: str | None, codes: CodeTable
) -> tuple[Json, list[Json]]:
    """The main name (primary, else the first) and the aliases, each Latin plus original."""
    transcription = next((n for n in names if n.get("kind") == "latin_transcription"), None)
    named = [n for n in names if n.get("kind") != "latin_transcription"] or [
        transcription or names[0]
    ]
    main = next((n for n in named if n.get("kind", "primary") == "primary"), named[0])
    main_fields = _name_fields(main, country, transcription)
    aliases = [
        {
            "kind": codes.value("name_kind", str(n.get("kind", "primary"))),
            **_name_fields(n, country, None),
        }
        for n in named
        if n is not main
    ]
    return main_fields, aliases


def _name_fields(
    name: Mapping[str, Any], country: str | None, transcription: Mapping[str, Any] | None
) -> Json:
    given, family = latin_parts(name, country, transcription)
    script = str(name.get("script", "Latn"))
    fields: Json = {"forename": given, "name": family}
    if script != "Latn":
        fields.update(
            {
                "original_script": script,
                "forename_original": name.get("given"),
                "name_original": name.get("family"),
            }
        )
    return _drop_none(fields)


def _documents(message: Mapping[str, Any], codes: CodeTable) -> list[Json]:
    return [
        _drop_none(
            {
                "ref": doc["ref"],
                "type_id": codes.value("document_type", doc["type"]),
                "number": doc.get("number"),
                "issuing_country_id": codes.value("country", doc["issuing_country"])
                if doc.get("issuing_country")
                else None,
                "issued_on": interpol_date(doc.get("issued_on")),
                "valid_until": interpol_date(doc.get("valid_until")),
                "status_id": codes.value("document_status", doc["status"])
                if doc.get("status")
                else None,
                "holder_ref": doc.get("holder"),
            }
        )
        for doc in message.get("documents", [])
    ]


def _product_problems(
    message: Mapping[str, Any], product: str, persons: list[Json]
) -> list[tuple[str, str]]:
    """What the product needs beyond the common fields (RPD Arts 82-83 and 88-96, in outline).

    The legal conditions are rules of mappings/interpol/rules.yaml, which deny such a message
    before it is rendered; these checks only keep the profile from emitting an empty notice.
    """
    statuses = {p["status_id"] for p in persons}
    warrant = (message.get("case") or {}).get("warrant") or {}
    problems: list[tuple[str, str]] = []
    if (
        product in ("red_notice_request", "green_notice_request")
        and not statuses & SUSPECT_STATUSES
    ):
        problems.append(("$.persons", f"{product} needs a person with role suspect or facilitator"))
    if product == "red_notice_request":
        if not warrant:
            problems.append(
                ("$.case.warrant", "red_notice_request needs the arrest warrant or judgment")
            )
        else:
            for field in ("offence", "max_penalty_years"):
                if warrant.get(field) is None:
                    problems.append((f"$.case.warrant.{field}", "required for red_notice_request"))
    if product == "yellow_notice_request" and not statuses & MISSING_STATUSES:
        problems.append(
            ("$.persons", "yellow_notice_request needs a missing or unidentified person")
        )
    if product == "blue_notice_request" and not persons:
        problems.append(("$.persons", "blue_notice_request needs at least one person"))
    if product == "purple_notice_request" and not message.get("summary"):
        problems.append(("$.summary", "purple_notice_request needs the modus operandi described"))
    return problems


def _original_if_changed(text: str | None, country: str | None) -> str | None:
    """The text as the sender wrote it, when the Latin form had to differ from it."""
    return text if text and romanised(text, country) != text else None


def _drop_none(values: Mapping[str, Any]) -> Json:
    return {key: value for key, value in values.items() if value is not None}
