"""``InterpolAdapter``: draft diffusions and notice requests as JSON, posted over HTTPS REST."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import jsonschema_rs

from adapters._codes import CodeTable, load_code_table
from adapters._http import HttpChannel, parse_json_receipt
from adapters._render import checked_payload, product_for
from adapters.base import Payload, Receipt, SendContext
from adapters.interpol.render import PROFILE, render_document
from adapters.source import RenderSource, source_for

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage

SCHEMA_DIR = Path(__file__).parent / "schema"
SCHEMA_FILE = "interpol-notice-1.0.schema.json"
CODES_FILE = Path(__file__).resolve().parents[2] / "mappings" / "interpol" / "codes.yaml"


@cache
def _validator() -> jsonschema_rs.Draft202012Validator:
    # jsonschema-rs: the same Draft 2020-12 semantics as the reference validator, ~60x faster.
    schema = json.loads((SCHEMA_DIR / SCHEMA_FILE).read_text(encoding="utf-8"))
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


def document_problems(document: Any) -> list[str]:
    """``validate_payload`` of a document already read from JSON (or about to be written)."""
    validator = _validator()
    if validator.is_valid(document):
        return []
    return sorted(_problem(error) for error in validator.iter_errors(document))


class InterpolAdapter:
    """Interpol via the NCB: diffusions (default) and red/yellow/blue/green/purple requests."""

    name: ClassVar[str] = "interpol"
    profile_version: ClassVar[str] = PROFILE
    products: ClassVar[tuple[str, ...]] = (
        "diffusion",
        "red_notice_request",
        "yellow_notice_request",
        "blue_notice_request",
        "green_notice_request",
        "purple_notice_request",
    )
    default_product: ClassVar[str] = "diffusion"
    content_type: ClassVar[str] = "application/json"
    schema_files: ClassVar[tuple[str, ...]] = (f"schema/{SCHEMA_FILE}",)
    per_recipient: ClassVar[bool] = False

    def __init__(self, codes: CodeTable | None = None) -> None:
        # The registry passes the checked table; standalone use loads the shipped one.
        self.codes = codes if codes is not None else load_code_table(self.name, CODES_FILE)
        self._http = HttpChannel(self.name)

    def render(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None = None,
        *,
        source: RenderSource | None = None,
    ) -> Payload:
        """Pure: the JSON document for the decision's product, validated before it is returned."""
        product = product_for(self, decision)
        data = source_for(message, source).data
        document = render_document(data, product, self.codes)
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        # The document just written out is what parsing the body would give back (string keys,
        # lists, JSON scalars only), so it is checked without reading the body again.
        return checked_payload(
            self, body.encode("utf-8"), product=product, problems=document_problems(document)
        )

    def validate_payload(self, body: bytes) -> list[str]:
        """Problems against interpol-notice-1.0.schema.json: paths and rules, never values."""
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return [f"$: not JSON ({type(exc).__name__})"]
        return document_problems(document)

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        """POST the stored JSON; the NCB endpoint answers with a JSON receipt."""
        return await self._http.send(payload, context, parse_json_receipt)

    async def aclose(self) -> None:
        await self._http.aclose()
