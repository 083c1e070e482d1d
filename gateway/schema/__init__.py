"""Canonical message v1: models, code lists, parsing with every violation, derived facts."""

from gateway.schema.errors import MessageInvalid, Violation
from gateway.schema.facts import DerivedFacts, derive_facts, person_is_minor
from gateway.schema.jsonschema import canonical_json_schema
from gateway.schema.message import SCHEMA_ID, CanonicalMessage, Destination, Person
from gateway.schema.parse import parse_message

__all__ = [
    "SCHEMA_ID",
    "CanonicalMessage",
    "DerivedFacts",
    "Destination",
    "MessageInvalid",
    "Person",
    "Violation",
    "canonical_json_schema",
    "derive_facts",
    "parse_message",
    "person_is_minor",
]
