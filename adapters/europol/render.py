"""Canonical message → siena-1.0 request body: pure functions, one per entity kind.

Nothing here reads a clock or a random source: the message id of the envelope derives from the
canonical ``message_id`` and the channel, so the same message always gives the same bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from lxml import etree

from adapters._codes import CodeCollector, CodeTable
from adapters._names import latin_or_none
from adapters.errors import RenderError
from gateway.schema.message import (
    CanonicalMessage,
    Communication,
    Document,
    Event,
    Link,
    Location,
    Organisation,
    Person,
    Vehicle,
)

SE = "urn:marri:gateway:profile:siena-envelope:1.0"
UE = "urn:marri:gateway:profile:umf-entities:1.0"
PROFILE = "siena-1.0"
# Fixed namespace for deriving envelope ids (uuid5) from the canonical message id.
ID_NAMESPACE = uuid.UUID("6f1c1d2e-8a4b-5c3d-9e7f-0a1b2c3d4e5f")


def envelope_id(message_id: uuid.UUID, channel: str, recipient: str | None) -> str:
    """The id this channel's copy of the message carries; stable across renders and retries."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{message_id}/{channel}/{recipient or '-'}"))


def _se(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{SE}}}{tag}")
    if text is not None:
        child.text = text
    return child


def _ue(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{UE}}}{tag}")
    if text is not None:
        child.text = text
    return child


def _opt(parent: etree._Element, tag: str, text: str | None, ns: str = UE) -> None:
    if text is not None:
        etree.SubElement(parent, f"{{{ns}}}{tag}").text = text


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class _Renderer(CodeCollector):
    """Holds the code table and collects problems; builds one SienaMessage element."""

    def codes_of(
        self, parent: etree._Element, tag: str, list_name: str, codes: Iterable[str]
    ) -> None:
        values = self.codes.values(list_name, [str(c) for c in codes])
        if values:
            holder = _se(parent, tag)
            for value in values:
                _se(holder, "Code", value)

    # -- header ------------------------------------------------------------------------

    def header(self, root: etree._Element, msg: CanonicalMessage, recipient: str | None) -> None:
        head = _se(root, "Header")
        head.set("profile", PROFILE)
        _se(head, "MessageId", envelope_id(msg.message_id, "europol", recipient))
        _se(head, "OriginatorMessageId", str(msg.message_id))
        if msg.in_reply_to is not None:
            _se(head, "InReplyTo", str(msg.in_reply_to))
        _se(head, "Created", msg.sent_at.isoformat())
        originator = _se(head, "Originator")
        sender_country = self.country(msg.sender.country)
        if sender_country is None:
            self.violations.append(("$.sender.country", "country not sent on this channel"))
            sender_country = "ZZ"
        _se(originator, "Country", sender_country)
        _se(originator, "Agency", msg.sender.agency)
        _opt(originator, "Unit", msg.sender.unit, SE)
        _se(head, "MessageType", self.required("kind", msg.kind, "$.kind"))
        _se(head, "Priority", self.required("priority", msg.priority, "$.priority"))
        handling = _se(head, "Handling")
        h = msg.handling
        _se(handling, "HandlingCode", self.required("restriction", h.restriction, "$.handling"))
        _opt(handling, "HandlingText", h.restriction_text, SE)
        _se(handling, "Classification", self.required("classification", h.classification, "$"))
        _se(handling, "OnwardTransfer", str(h.onward_transfer).upper())
        _opt(handling, "RetainUntil", _iso(h.retention_until), SE)
        if msg.evaluation is not None:
            evaluation = _se(head, "Evaluation")
            _se(evaluation, "Source", str(msg.evaluation.source))
            _se(evaluation, "Information", str(msg.evaluation.information))
        self.codes_of(head, "Purposes", "purpose", msg.purposes)
        self.codes_of(head, "CrimeAreas", "crime_area", msg.crime_areas)
        self.codes_of(head, "ExploitationTypes", "exploitation_type", msg.exploitation_types)
        for basis in msg.legal_basis:
            element = _se(head, "LegalBasis")
            element.set("instrument", str(basis.instrument).upper())
            if basis.article is not None:
                element.set("article", basis.article)
        case = msg.case
        if case is not None and (case.reference or case.operation or case.opened_on):
            case_el = _se(head, "Case")
            _opt(case_el, "CaseReference", case.reference, SE)
            _opt(case_el, "Operation", case.operation, SE)
            _opt(case_el, "OpenedOn", _iso(case.opened_on), SE)

    # -- entities ----------------------------------------------------------------------

    def person(self, parent: etree._Element, person: Person, index: int) -> None:
        el = _ue(parent, "Person")
        el.set("id", person.ref)
        _ue(el, "Role", self.required("person_role", person.role, f"$.persons[{index}].role"))
        country = person.birth_place.country if person.birth_place else None
        for name in person.names:
            name_el = _ue(el, "Name")
            name_el.set("script", self.code("script", name.script) or "Zyyy")
            name_el.set("type", self.required("name_kind", name.kind, f"$.persons[{index}].names"))
            _opt(name_el, "GivenName", name.given)
            _opt(name_el, "FamilyName", name.family)
            if str(name.script) != "Latn":
                _opt(
                    name_el, "LatinGivenName", latin_or_none(name.given, str(name.script), country)
                )
                _opt(
                    name_el,
                    "LatinFamilyName",
                    latin_or_none(name.family, str(name.script), country),
                )
        if person.sex is not None:
            _opt(el, "Sex", self.code("sex", person.sex))
        _opt(el, "DateOfBirth", person.birth_date)
        if person.birth_place is not None:
            place = _ue(el, "PlaceOfBirth")
            _opt(place, "Country", self.country(person.birth_place.country))
            _opt(place, "Place", person.birth_place.place)
        for nationality in person.nationalities:
            _opt(el, "Nationality", self.country(nationality))
        if person.is_minor is not None:
            _ue(el, "Minor", "true" if person.is_minor else "false")
        _opt(el, "Description", person.description)
        for category in self.codes.values("special_category", person.special_categories):
            _ue(el, "SpecialCategory", category)

    def document(self, parent: etree._Element, doc: Document, index: int) -> None:
        el = _ue(parent, "Document")
        el.set("id", doc.ref)
        if doc.holder is not None:
            el.set("holder", doc.holder)
        _ue(el, "DocumentType", self.required("document_type", doc.type, f"$.documents[{index}]"))
        _opt(el, "DocumentNumber", doc.number)
        _opt(el, "IssuingCountry", self.country(doc.issuing_country))
        _opt(el, "DateOfIssue", _iso(doc.issued_on))
        _opt(el, "DateOfExpiry", _iso(doc.valid_until))
        if doc.status is not None:
            _opt(el, "DocumentStatus", self.code("document_status", doc.status))

    def vehicle(self, parent: etree._Element, vehicle: Vehicle, index: int) -> None:
        el = _ue(parent, "Vehicle")
        el.set("id", vehicle.ref)
        _ue(el, "VehicleType", self.required("vehicle_type", vehicle.type, f"$.vehicles[{index}]"))
        _opt(el, "Make", vehicle.make)
        _opt(el, "Model", vehicle.model)
        _opt(el, "Colour", vehicle.colour)
        _opt(el, "RegistrationNumber", vehicle.registration)
        _opt(el, "RegistrationCountry", self.country(vehicle.registration_country))
        _opt(el, "VIN", vehicle.vin)

    def location(self, parent: etree._Element, loc: Location, index: int) -> None:
        el = _ue(parent, "Location")
        el.set("id", loc.ref)
        _ue(el, "LocationType", self.required("location_kind", loc.kind, f"$.locations[{index}]"))
        _opt(el, "Country", self.country(loc.country))
        _opt(el, "Place", loc.place)
        _opt(el, "Address", loc.address)
        _opt(el, "Latitude", None if loc.lat is None else repr(float(loc.lat)))
        _opt(el, "Longitude", None if loc.lon is None else repr(float(loc.lon)))

    def organisation(self, parent: etree._Element, org: Organisation, index: int) -> None:
        el = _ue(parent, "Organisation")
        el.set("id", org.ref)
        kind = self.required("organisation_kind", org.kind, f"$.organisations[{index}]")
        _ue(el, "OrganisationType", kind)
        _opt(el, "Name", org.name)
        _opt(el, "Country", self.country(org.country))

    def communication(self, parent: etree._Element, com: Communication, index: int) -> None:
        el = _ue(parent, "Communication")
        el.set("id", com.ref)
        if com.owner is not None:
            el.set("owner", com.owner)
        kind = self.required("communication_kind", com.kind, f"$.communications[{index}]")
        _ue(el, "CommunicationType", kind)
        _ue(el, "Value", com.value)

    def event(self, parent: etree._Element, event: Event, index: int) -> None:
        el = _ue(parent, "Event")
        el.set("id", event.ref)
        if event.location is not None:
            el.set("location", event.location)
        _ue(el, "EventType", self.required("event_kind", event.kind, f"$.events[{index}]"))
        when = event.when
        if when is not None:
            _ue(el, "When", when if isinstance(when, str) else when.isoformat())
        if event.persons_count is not None:
            _ue(el, "PersonsCount", str(event.persons_count))
        _opt(el, "Description", event.description)
        for ref in event.involved:
            _ue(el, "Involved", ref)

    def link(self, parent: etree._Element, link: Link, index: int) -> None:
        el = _ue(parent, "Link")
        el.set("from", link.from_)
        el.set("to", link.to)
        el.set("type", self.required("link_kind", link.kind, f"$.links[{index}].kind"))

    def entities(self, body: etree._Element, msg: CanonicalMessage) -> None:
        if not (
            msg.persons
            or msg.documents
            or msg.vehicles
            or msg.locations
            or msg.organisations
            or msg.communications
            or msg.events
            or msg.links
        ):
            return
        holder = etree.SubElement(body, f"{{{UE}}}Entities", nsmap={"ue": UE})
        for i, person in enumerate(msg.persons):
            self.person(holder, person, i)
        for i, document in enumerate(msg.documents):
            self.document(holder, document, i)
        for i, vehicle in enumerate(msg.vehicles):
            self.vehicle(holder, vehicle, i)
        for i, location in enumerate(msg.locations):
            self.location(holder, location, i)
        for i, organisation in enumerate(msg.organisations):
            self.organisation(holder, organisation, i)
        for i, communication in enumerate(msg.communications):
            self.communication(holder, communication, i)
        for i, event in enumerate(msg.events):
            self.event(holder, event, i)
        for i, link in enumerate(msg.links):
            self.link(holder, link, i)

    def body(self, root: etree._Element, msg: CanonicalMessage) -> None:
        body = _se(root, "Body")
        _se(body, "Subject", msg.subject)
        _opt(body, "Summary", msg.summary, SE)
        self.entities(body, msg)
        if msg.route:
            route = _se(body, "Route")
            for index, step in enumerate(msg.route):
                country = self.country(step.country)
                if country is None:
                    continue
                step_el = _se(route, "Step")
                step_el.set("country", country)
                step_el.set("role", self.required("route_role", step.role, f"$.route[{index}]"))
            if len(route) == 0:
                body.remove(route)
        stats = msg.statistics
        if stats is not None:
            stats_el = _se(body, "Statistics")
            for tag, value in (
                ("PersonsIntercepted", stats.persons_intercepted),
                ("VictimsIdentified", stats.victims_identified),
                ("SuspectsArrested", stats.suspects_arrested),
            ):
                if value is not None:
                    _se(stats_el, tag, str(value))
            for code, count in sorted(stats.by_nationality.items()):
                country = self.country(code)
                if country is not None:
                    _se(stats_el, "ByNationality", str(count)).set("country", country)
        for att in msg.attachments:
            el = _se(body, "Attachment", att.content_base64)
            el.set("id", att.ref)
            el.set("mediaType", att.media_type)
            if att.filename is not None:
                el.set("fileName", att.filename)
            el.set("size", str(att.size))
            el.set("sha256", att.sha256.lower())


def build_siena_message(
    message: CanonicalMessage,
    codes: CodeTable,
    recipient: str | None = None,
    *,
    parent: etree._Element | None = None,
) -> etree._Element:
    """The SienaMessage element for ``message`` (built inside ``parent`` when given); raises
    ``RenderError`` listing paths."""
    renderer = _Renderer(codes)
    tag, nsmap = f"{{{SE}}}SienaMessage", {"se": SE}
    root = (
        etree.Element(tag, nsmap=nsmap)
        if parent is None
        else etree.SubElement(parent, tag, nsmap=nsmap)
    )
    renderer.header(root, message, recipient)
    renderer.body(root, message)
    if renderer.violations:
        raise RenderError("message cannot be expressed in siena-1.0", renderer.violations)
    return root
