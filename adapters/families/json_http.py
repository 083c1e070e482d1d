"""JSON documents over HTTP, checked against the channel's one JSON Schema (Draft 2020-12).

The channel renders a document of JSON types (string keys, lists, scalars); ``checked`` writes
it canonically (sorted keys, no spaces, UTF-8) and checks the document itself, which is what
reading the bytes back would give, so render never parses its own output.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import jsonschema_rs

from adapters._render import checked_payload
from adapters._signing import SIGNATURE_HEADER, sign_json, verify_json
from adapters.base import Payload, PayloadSigner
from adapters.families.http import HttpAdapter

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

__all__ = ["JsonHttpAdapter", "json_path"]


@cache
def _validator(schema_path: Path) -> jsonschema_rs.Draft202012Validator:
    # jsonschema-rs: the same Draft 2020-12 semantics as the reference validator, far faster.
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(schema)


def json_path(parts: Sequence[str | int]) -> str:
    """``$.persons[0].sex_id`` from a validator's instance path."""
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _problem(error: jsonschema_rs.ValidationError) -> str:
    """One schema violation as path and rule; the instance value is never quoted."""
    where = json_path(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return f"{where}: required property missing: {kind.property}"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return f"{where}: properties not allowed: {', '.join(sorted(kind.unexpected))}"
    return f"{where}: fails '{kind.name}'"


class JsonHttpAdapter(HttpAdapter):
    """A channel of JSON documents checked against ``json_schema``."""

    content_type: ClassVar[str] = "application/json"
    json_schema: ClassVar[Path]

    def document_problems(self, document: Any) -> list[str]:
        """``validate_payload`` of a document already read from JSON (or about to be written)."""
        validator = _validator(self.json_schema)
        if validator.is_valid(document):
            return []
        return sorted(_problem(error) for error in validator.iter_errors(document))

    def validate_payload(self, body: bytes) -> list[str]:
        """Problems against the channel's JSON Schema: paths and rules, never values."""
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return [f"$: not JSON ({type(exc).__name__})"]
        return self.document_problems(document)

    def checked(self, document: Any, *, product: str, recipient: str | None = None) -> Payload:
        """``document`` written out as the payload ``render`` returns, once it is valid."""
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return checked_payload(
            self,
            body.encode("utf-8"),
            product=product,
            recipient=recipient,
            problems=self.document_problems(document),
        )

    def sign(self, payload: Payload, signer: PayloadSigner) -> Payload:
        """A detached JWS over the body in the ``X-Marri-Signature`` header; the body is kept."""
        headers = {**payload.headers, SIGNATURE_HEADER: sign_json(payload.body, signer)}
        return dataclasses.replace(payload, headers=headers)

    def verify_signature(self, body: bytes, headers: Mapping[str, str], keys: KeySet) -> bytes:
        """``body`` unchanged, once the detached JWS in its header holds."""
        verify_json(body, headers.get(SIGNATURE_HEADER.lower()), keys)
        return body
