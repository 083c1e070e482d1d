"""Code lists of the canonical message v1.

Every closed list is a ``StrEnum`` whose values are the wire codes of SCHEMA.md. Country codes
are not an enum: they are upper-case ISO 3166-1 alpha-2 strings checked against
``ISO_3166_ALPHA2`` plus ``XK`` (Kosovo*, user-assigned, as the EU uses it). Channels are open:
any registered adapter may add one, so a channel is a name pattern here and intake checks that
it is registered.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

_ISO_3166_ALPHA2_TEXT = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS YE YT ZA ZM ZW
"""

#: ISO 3166-1 alpha-2, officially assigned codes (249).
ISO_3166_ALPHA2: frozenset[str] = frozenset(_ISO_3166_ALPHA2_TEXT.split())

#: Kosovo* has no ISO code; the EU and others use the user-assigned ``XK``.
KOSOVO = "XK"

#: Every country code the canonical message accepts.
COUNTRY_CODES: frozenset[str] = ISO_3166_ALPHA2 | {KOSOVO}

COUNTRY_PATTERN = r"^[A-Z]{2}$"
CHANNEL_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"


def _known_country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise PydanticCustomError(
            "country_code", "must be an ISO 3166-1 alpha-2 code in upper case, or XK"
        )
    return code


#: Marks a code list the published JSON Schema defines once and refers to (``jsonschema.py``).
CODE_LIST_MARK = "x-marri-code-list"
COUNTRY_CODE_SCHEMA = {"type": "string", "pattern": COUNTRY_PATTERN, CODE_LIST_MARK: "CountryCode"}

CountryCode = Annotated[
    str,
    StringConstraints(pattern=COUNTRY_PATTERN),
    AfterValidator(_known_country),
    WithJsonSchema(COUNTRY_CODE_SCHEMA),
]
"""Upper-case ISO 3166-1 alpha-2 code, or ``XK``."""

Channel = Annotated[str, StringConstraints(pattern=CHANNEL_PATTERN)]
"""A destination channel id (``europol``, ``pcc_see``, or one a registered adapter adds)."""


class Kind(StrEnum):
    """Message kinds; ``alert`` is an early warning."""

    information = "information"
    request = "request"
    reply = "reply"
    alert = "alert"


class Priority(StrEnum):
    """How fast the sender needs the message handled."""

    routine = "routine"
    urgent = "urgent"
    immediate = "immediate"


class CrimeArea(StrEnum):
    """Crime areas the message concerns."""

    trafficking_in_human_beings = "trafficking_in_human_beings"
    migrant_smuggling = "migrant_smuggling"
    document_fraud = "document_fraud"
    money_laundering = "money_laundering"
    organised_crime = "organised_crime"
    illegal_border_crossing = "illegal_border_crossing"
    labour_exploitation = "labour_exploitation"
    other = "other"


class ExploitationType(StrEnum):
    """Forms of exploitation in trafficking cases."""

    sexual = "sexual"
    labour = "labour"
    begging = "begging"
    criminal_activities = "criminal_activities"
    forced_marriage = "forced_marriage"
    organ_removal = "organ_removal"
    illegal_adoption = "illegal_adoption"
    domestic_servitude = "domestic_servitude"
    other = "other"


class Purpose(StrEnum):
    """Purposes of processing the sender states (Europol Art. 19, Frontex Art. 87)."""

    prevention = "prevention"
    investigation = "investigation"
    prosecution = "prosecution"
    victim_identification = "victim_identification"
    risk_analysis = "risk_analysis"
    early_warning = "early_warning"
    strategic_analysis = "strategic_analysis"
    operational_analysis = "operational_analysis"
    cross_checking = "cross_checking"


class Instrument(StrEnum):
    """Legal instruments a message may rest on."""

    pcc_see = "pcc_see"
    pcc_see_automated_exchange = "pcc_see_automated_exchange"
    europol_regulation = "europol_regulation"
    europol_agreement = "europol_agreement"
    interpol_rpd = "interpol_rpd"
    frontex_regulation = "frontex_regulation"
    selec_convention = "selec_convention"
    bilateral = "bilateral"
    national_law = "national_law"


class Classification(StrEnum):
    """Security classification of the whole message."""

    unclassified = "unclassified"
    restricted = "restricted"
    confidential = "confidential"


class Restriction(StrEnum):
    """Handling restriction; maps to Europol H0, H1, H2, H3."""

    none = "none"
    no_judicial_use = "no_judicial_use"
    no_dissemination = "no_dissemination"
    other = "other"


class OnwardTransfer(StrEnum):
    """Whether recipients may pass the data on."""

    allowed = "allowed"
    with_consent = "with_consent"
    prohibited = "prohibited"


class SourceReliability(StrEnum):
    """Source evaluation (Europol Art. 29): A reliable … X cannot be assessed."""

    A = "A"
    B = "B"
    C = "C"
    X = "X"


class InformationAccuracy(StrEnum):
    """Information evaluation (Europol Art. 29): 1 not in doubt … 4 not corroborated."""

    CONFIRMED = "1"
    KNOWN_TO_SOURCE = "2"
    CORROBORATED = "3"
    NOT_CORROBORATED = "4"


class CaseCharacter(StrEnum):
    """Character of the matter (Interpol Constitution Art. 3 screens the last four)."""

    ordinary_law = "ordinary_law"
    political = "political"
    military = "military"
    religious = "religious"
    racial = "racial"


class PersonRole(StrEnum):
    """A person's role in the case (Interpol RPD Art. 44 asks for it)."""

    victim = "victim"
    suspect = "suspect"
    witness = "witness"
    facilitator = "facilitator"
    missing = "missing"
    unidentified = "unidentified"
    other = "other"


class Sex(StrEnum):
    """Sex as recorded."""

    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Script(StrEnum):
    """ISO 15924 script of a written name."""

    Latn = "Latn"
    Cyrl = "Cyrl"
    Grek = "Grek"
    Arab = "Arab"


class NameKind(StrEnum):
    """What a name is to its person."""

    primary = "primary"
    alias = "alias"
    maiden = "maiden"
    latin_transcription = "latin_transcription"


class SpecialCategory(StrEnum):
    """Special categories of personal data (Europol Art. 30)."""

    ethnic_origin = "ethnic_origin"
    political_opinion = "political_opinion"
    religion = "religion"
    health = "health"
    sex_life = "sex_life"
    genetic = "genetic"
    biometric = "biometric"


class DocumentType(StrEnum):
    """Kinds of identity and travel documents."""

    passport = "passport"
    id_card = "id_card"
    visa = "visa"
    residence_permit = "residence_permit"
    travel_document = "travel_document"
    driving_licence = "driving_licence"
    other = "other"


class DocumentStatus(StrEnum):
    """What is known about a document's authenticity."""

    genuine = "genuine"
    forged = "forged"
    counterfeit = "counterfeit"
    stolen = "stolen"
    lost = "lost"
    fraudulently_obtained = "fraudulently_obtained"
    unknown = "unknown"


class VehicleType(StrEnum):
    """Kinds of vehicles; boats and aircraft matter to EUROSUR (Frontex Art. 89)."""

    car = "car"
    van = "van"
    truck = "truck"
    bus = "bus"
    boat = "boat"
    aircraft = "aircraft"
    other = "other"


class LocationKind(StrEnum):
    """Kinds of places."""

    border_crossing_point = "border_crossing_point"
    city = "city"
    address = "address"
    area = "area"
    sea = "sea"


class OrganisationKind(StrEnum):
    """Kinds of organisations."""

    company = "company"
    criminal_group = "criminal_group"
    ngo = "ngo"
    authority = "authority"
    other = "other"


class CommunicationKind(StrEnum):
    """Means of communication."""

    phone = "phone"
    email = "email"
    social_media = "social_media"
    messaging_app = "messaging_app"
    other = "other"


class EventKind(StrEnum):
    """Kinds of events in a case."""

    recruitment = "recruitment"
    transport = "transport"
    border_crossing = "border_crossing"
    exploitation = "exploitation"
    interception = "interception"
    rescue = "rescue"
    arrest = "arrest"
    other = "other"


class LinkKind(StrEnum):
    """Kinds of links between two entities."""

    holder_of = "holder_of"
    uses = "uses"
    member_of = "member_of"
    travels_with = "travels_with"
    recruited_by = "recruited_by"
    exploited_by = "exploited_by"
    owner_of = "owner_of"
    associated_with = "associated_with"


class RouteRole(StrEnum):
    """The role of a country on a route."""

    origin = "origin"
    transit = "transit"
    destination = "destination"
