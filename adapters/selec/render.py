"""Canonical message → selec-1.0 request: pure functions, no clock, no random.

The request is addressed through the sender's National Focal Point to the member states the
decision names (``Decision.recipients``, which come from ``destinations[].to``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from lxml import etree

from adapters._codes import CodeCollector, CodeTable
from adapters._names import latin_or_none
from adapters.errors import RenderError
from gateway.schema.message import CanonicalMessage, Person

SL = "urn:marri:gateway:profile:selec-request:1.0"
PROFILE = "selec-1.0"
ID_NAMESPACE = uuid.UUID("0b7e3c52-41d9-5a6e-8f20-93c4d1e5a7b8")


def request_id(message_id: uuid.UUID, recipients: Sequence[str]) -> str:
    """Stable id of this request: the canonical message id, the channel and the addressees."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{message_id}/selec/{','.join(sorted(recipients))}"))


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{SL}}}{tag}")
    if text is not None:
        child.text = text
    return child


def _opt(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        _add(parent, tag, text)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


class _Builder(CodeCollector):
    def subject(self, root: etree._Element, person: Person, index: int) -> None:
        el = _add(root, "Subject")
        el.set("ref", person.ref)
        el.set("role", self.required("person_role", person.role, f"$.persons[{index}].role"))
        birth_country = person.birth_place.country if person.birth_place else None
        for name in person.names:
            name_el = _add(el, "Name")
            script = str(name.script)
            name_el.set("script", self.code("script", script) or "Zyyy")
            name_el.set("kind", self.required("name_kind", name.kind, f"$.persons[{index}].names"))
            _opt(name_el, "Given", name.given)
            _opt(name_el, "Family", name.family)
            if script != "Latn":
                _opt(name_el, "LatinGiven", latin_or_none(name.given, script, birth_country))
                _opt(name_el, "LatinFamily", latin_or_none(name.family, script, birth_country))
        if person.sex is not None:
            _opt(el, "Gender", self.code("sex", person.sex))
        _opt(el, "BirthDate", person.birth_date)
        if person.birth_place is not None:
            _opt(el, "BirthCountry", self.country(person.birth_place.country))
            _opt(el, "BirthPlace", person.birth_place.place)
        for nationality in person.nationalities:
            _opt(el, "Citizenship", self.country(nationality))
        if person.is_minor is not None:
            _add(el, "Minor", "true" if person.is_minor else "false")
        _opt(el, "Remarks", person.description)
        for category in self.codes.values("special_category", person.special_categories):
            _add(el, "SensitiveData", category)

    def header(
        self, root: etree._Element, msg: CanonicalMessage, recipients: Sequence[str]
    ) -> None:
        _add(root, "RequestId", request_id(msg.message_id, recipients))
        _add(root, "OriginatorReference", str(msg.message_id))
        _opt(root, "InReplyTo", None if msg.in_reply_to is None else str(msg.in_reply_to))
        _add(root, "Issued", msg.sent_at.isoformat())
        nfp = _add(root, "NationalFocalPoint")
        sender = self.country(msg.sender.country)
        if sender is None:
            self.violations.append(("$.sender.country", "sender country not sent on this channel"))
            sender = "ZZ"
        nfp.set("country", sender)
        _add(nfp, "Agency", msg.sender.agency)
        _opt(nfp, "Unit", msg.sender.unit)
        addressees = _add(root, "Addressees")
        for index, code in enumerate(recipients):
            member = self.country(code)
            if member is None:
                self.violations.append((f"$.destinations.to[{index}]", "not a SELEC addressee"))
                continue
            _add(addressees, "MemberState", member)
        if not recipients:
            self.violations.append(("$.destinations", "selec needs at least one member state"))
        _add(root, "RequestType", self.required("kind", msg.kind, "$.kind"))
        _add(root, "Urgency", self.required("priority", msg.priority, "$.priority"))
        if msg.evaluation is not None:
            evaluation = _add(root, "Evaluation")
            evaluation.set("source", str(msg.evaluation.source))
            evaluation.set("information", str(msg.evaluation.information))
        h = msg.handling
        handling = _add(root, "Handling")
        _add(handling, "Classification", self.required("classification", h.classification, "$"))
        _add(handling, "Restriction", self.required("restriction", h.restriction, "$.handling"))
        _opt(handling, "RestrictionText", h.restriction_text)
        _add(handling, "OnwardTransfer", str(h.onward_transfer).upper())
        _opt(handling, "DeleteBy", _iso(h.retention_until))
        for purpose in self.codes.values("purpose", msg.purposes):
            _add(root, "Purpose", purpose)
        for area in self.codes.values("crime_area", msg.crime_areas):
            _add(root, "Offence", area)
        for kind in self.codes.values("exploitation_type", msg.exploitation_types):
            _add(root, "Exploitation", kind)
        for basis in msg.legal_basis:
            el = _add(root, "LegalBasis")
            el.set("instrument", str(basis.instrument).upper())
            if basis.article is not None:
                el.set("article", basis.article)
        case = msg.case
        if case is not None and (case.reference or case.operation or case.opened_on):
            case_el = _add(root, "CaseFile")
            _opt(case_el, "Reference", case.reference)
            _opt(case_el, "Operation", case.operation)
            _opt(case_el, "OpenedOn", _iso(case.opened_on))

    def content(  # noqa: C901  one flat block per canonical section, in the XSD's order
        self, root: etree._Element, msg: CanonicalMessage
    ) -> None:
        """The request's body: every canonical section the SELEC XSD carries, in its order."""
        _add(root, "Title", msg.subject)
        _opt(root, "Narrative", msg.summary)
        for i, person in enumerate(msg.persons):
            self.subject(root, person, i)
        for i, doc in enumerate(msg.documents):
            el = _add(root, "IdentityDocument")
            el.set("ref", doc.ref)
            el.set("type", self.required("document_type", doc.type, f"$.documents[{i}].type"))
            if doc.holder is not None:
                el.set("holder", doc.holder)
            _opt(el, "Number", doc.number)
            _opt(el, "IssuedBy", self.country(doc.issuing_country))
            _opt(el, "IssuedOn", _iso(doc.issued_on))
            _opt(el, "ValidUntil", _iso(doc.valid_until))
            if doc.status is not None:
                _opt(el, "Status", self.code("document_status", doc.status))
        for i, vehicle in enumerate(msg.vehicles):
            el = _add(root, "Conveyance")
            el.set("ref", vehicle.ref)
            el.set("type", self.required("vehicle_type", vehicle.type, f"$.vehicles[{i}].type"))
            _opt(el, "Make", vehicle.make)
            _opt(el, "Model", vehicle.model)
            _opt(el, "Colour", vehicle.colour)
            _opt(el, "Plate", vehicle.registration)
            _opt(el, "PlateCountry", self.country(vehicle.registration_country))
            _opt(el, "VIN", vehicle.vin)
        for i, loc in enumerate(msg.locations):
            el = _add(root, "Place")
            el.set("ref", loc.ref)
            el.set("kind", self.required("location_kind", loc.kind, f"$.locations[{i}].kind"))
            _opt(el, "Country", self.country(loc.country))
            _opt(el, "Name", loc.place)
            _opt(el, "Address", loc.address)
            if loc.lat is not None and loc.lon is not None:
                coords = _add(el, "Coordinates")
                coords.set("lat", repr(float(loc.lat)))
                coords.set("lon", repr(float(loc.lon)))
        for i, org in enumerate(msg.organisations):
            el = _add(root, "Entity")
            el.set("ref", org.ref)
            el.set("kind", self.required("organisation_kind", org.kind, f"$.organisations[{i}]"))
            _opt(el, "Name", org.name)
            _opt(el, "Country", self.country(org.country))
        for i, com in enumerate(msg.communications):
            el = _add(root, "Contact", com.value)
            el.set("ref", com.ref)
            el.set("kind", self.required("communication_kind", com.kind, f"$.communications[{i}]"))
            if com.owner is not None:
                el.set("owner", com.owner)
        for i, event in enumerate(msg.events):
            el = _add(root, "Occurrence")
            el.set("ref", event.ref)
            el.set("kind", self.required("event_kind", event.kind, f"$.events[{i}].kind"))
            if event.location is not None:
                el.set("place", event.location)
            when = event.when
            if when is not None:
                _add(el, "When", when if isinstance(when, str) else when.isoformat())
            if event.persons_count is not None:
                _add(el, "PersonsCount", str(event.persons_count))
            _opt(el, "Narrative", event.description)
            for ref in event.involved:
                _add(el, "Involves", ref)
        for i, link in enumerate(msg.links):
            el = _add(root, "Relation")
            el.set("from", link.from_)
            el.set("to", link.to)
            el.set("kind", self.required("link_kind", link.kind, f"$.links[{i}].kind"))
        for i, step in enumerate(msg.route):
            country = self.country(step.country)
            if country is not None:
                el = _add(root, "RouteStep")
                el.set("country", country)
                el.set("role", self.required("route_role", step.role, f"$.route[{i}].role"))
        self.figures(root, msg)
        for att in msg.attachments:
            el = _add(root, "AttachmentNotice")
            el.set("ref", att.ref)
            el.set("mediaType", att.media_type)
            el.set("size", str(att.size))
            el.set("sha256", att.sha256.lower())

    def figures(self, root: etree._Element, msg: CanonicalMessage) -> None:
        stats = msg.statistics
        if stats is None:
            return
        rows: list[tuple[str, int, str | None]] = [
            (name, value, None)
            for name, value in (
                ("PERSONS_INTERCEPTED", stats.persons_intercepted),
                ("VICTIMS_IDENTIFIED", stats.victims_identified),
                ("SUSPECTS_ARRESTED", stats.suspects_arrested),
            )
            if value is not None
        ]
        for code, count in sorted(stats.by_nationality.items()):
            country = self.country(code)
            if country is not None:
                rows.append(("BY_NATIONALITY", count, country))
        if not rows:
            return
        figures = _add(root, "Figures")
        for name, value, country in rows:
            figure = _add(figures, "Figure", str(value))
            figure.set("name", name)
            if country is not None:
                figure.set("country", country)


def build_selec_request(
    message: CanonicalMessage,
    codes: CodeTable,
    recipients: Sequence[str],
    *,
    parent: etree._Element | None = None,
) -> etree._Element:
    """The SelecRequest element (built inside ``parent`` when given); raises ``RenderError``
    listing paths the profile cannot carry."""
    builder = _Builder(codes)
    tag, nsmap = f"{{{SL}}}SelecRequest", {"sl": SL}
    root = (
        etree.Element(tag, nsmap=nsmap)
        if parent is None
        else etree.SubElement(parent, tag, nsmap=nsmap)
    )
    root.set("profile", PROFILE)
    builder.header(root, message, recipients)
    builder.content(root, message)
    if builder.violations:
        raise RenderError("message cannot be expressed in selec-1.0", builder.violations)
    return root
