"""Named redaction selectors: what a ``redact`` rule may remove, resolved to concrete paths.

A selector is a name, optionally with arguments after a colon (``persons_by_role:victim,witness``).
Resolving one against a message gives the JSON paths it covers in that message
(``$.persons[1]``, ``$.documents[0].number``); the decision records those paths and
``apply_redactions`` removes exactly them, plus whatever pointed at a removed entity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.policy.vocabulary import CRAFT_TYPES, unlinked_victims_or_witnesses
from gateway.schema import CanonicalMessage
from gateway.schema.codes import PersonRole

Steps = tuple[str | int, ...]
Resolver = Callable[[CanonicalMessage, tuple[str, ...]], list[Steps]]

_ROLES = frozenset(r.value for r in PersonRole)


@dataclass(frozen=True)
class Selector:
    """A named set of message fields a redaction can remove; ``takes_roles`` allows
    ``name:role,...``.
    """

    name: str
    description: str
    takes_roles: bool
    resolve: Resolver


def _all(list_name: str) -> Resolver:
    def resolve(message: CanonicalMessage, _args: tuple[str, ...]) -> list[Steps]:
        return [(list_name, i) for i in range(len(getattr(message, list_name)))]

    return resolve


def _persons_by_role(message: CanonicalMessage, roles: tuple[str, ...]) -> list[Steps]:
    return [("persons", i) for i, p in enumerate(message.persons) if p.role.value in roles]


def _document_numbers(message: CanonicalMessage, _args: tuple[str, ...]) -> list[Steps]:
    return [("documents", i, "number") for i, d in enumerate(message.documents) if d.number]


def _road_vehicle_ids(message: CanonicalMessage, _args: tuple[str, ...]) -> list[Steps]:
    paths: list[Steps] = []
    for i, vehicle in enumerate(message.vehicles):
        if vehicle.type.value in CRAFT_TYPES:
            continue
        if vehicle.registration:
            paths.append(("vehicles", i, "registration"))
        if vehicle.vin:
            paths.append(("vehicles", i, "vin"))
    return paths


def _special_categories(message: CanonicalMessage, roles: tuple[str, ...]) -> list[Steps]:
    paths: list[Steps] = []
    for i, person in enumerate(message.persons):
        if not person.special_categories or (roles and person.role.value not in roles):
            continue
        paths.append(("persons", i, "special_categories"))
        if person.description is not None:
            paths.append(("persons", i, "description"))
    return paths


def _unlinked(message: CanonicalMessage, _args: tuple[str, ...]) -> list[Steps]:
    return [("persons", i) for i in unlinked_victims_or_witnesses(message)]


SELECTORS: dict[str, Selector] = {
    s.name: s
    for s in (
        Selector("persons", "every person", takes_roles=False, resolve=_all("persons")),
        Selector(
            "persons_by_role",
            "the persons with one of the given roles (persons_by_role:victim,witness)",
            takes_roles=True,
            resolve=_persons_by_role,
        ),
        Selector(
            "victims_or_witnesses_without_suspect",
            "victims and witnesses with no link to a suspect or facilitator",
            takes_roles=False,
            resolve=_unlinked,
        ),
        Selector("documents", "every document", takes_roles=False, resolve=_all("documents")),
        Selector(
            "documents.number",
            "the number of every document",
            takes_roles=False,
            resolve=_document_numbers,
        ),
        Selector(
            "communications",
            "every communication",
            takes_roles=False,
            resolve=_all("communications"),
        ),
        Selector(
            "vehicles.registration_except_boat_aircraft",
            "registration and VIN of every vehicle that is not a boat or an aircraft",
            takes_roles=False,
            resolve=_road_vehicle_ids,
        ),
        Selector(
            "special_categories",
            "the special-category markers and the description of every person who has them "
            "(special_categories:victim,witness limits it to those roles)",
            takes_roles=True,
            resolve=_special_categories,
        ),
        Selector("attachments", "every attachment", takes_roles=False, resolve=_all("attachments")),
    )
}


def parse_selector(text: str) -> tuple[Selector, tuple[str, ...]]:
    """The selector and its arguments; ValueError names what is wrong."""
    name, _, arg_text = text.partition(":")
    selector = SELECTORS.get(name.strip())
    if selector is None:
        raise ValueError(f"unknown redact selector '{name}'; known: {', '.join(SELECTORS)}")
    args = tuple(a.strip() for a in arg_text.split(",") if a.strip())
    if args and not selector.takes_roles:
        raise ValueError(f"redact selector '{name}' takes no arguments")
    if selector.name == "persons_by_role" and not args:
        raise ValueError("persons_by_role needs at least one role")
    unknown = [a for a in args if a not in _ROLES]
    if unknown:
        raise ValueError(f"redact selector '{name}': unknown roles {unknown}")
    return selector, args


def resolve_selectors(message: CanonicalMessage, selectors: tuple[str, ...]) -> list[Steps]:
    """The concrete paths (as steps, ``("persons", 1)``) the selectors cover in ``message``."""
    paths: list[Steps] = []
    for text in selectors:
        selector, args = parse_selector(text)
        paths.extend(selector.resolve(message, args))
    return paths
