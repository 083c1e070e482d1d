"""The canonical schema and the rules beside it, published for national systems to build on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gateway.api.deps import get_context
from gateway.api.errors import STATUS
from gateway.intake.published import KIND_OF, published_rules
from gateway.schema import SCHEMA_ID, canonical_json_schema

router = APIRouter(prefix="/v1", tags=["schema"])


class PublishedRuleOut(BaseModel):
    """One refusal the JSON Schema does not express, and what a refused message is answered."""

    id: str = Field(description="stable name of the rule", examples=["ref_unique"])
    status: int = Field(description="HTTP status of the refusal", examples=[422])
    error: str = Field(description="the answer's error.code", examples=["invalid_message"])
    violation: str | None = Field(
        description="the violation type at path, when the answer lists violations",
        examples=["duplicate_ref"],
    )
    path: str = Field(
        description="JSON path: [*] any index, <list>/<field> a field name, <path> any path",
        examples=["$.<list>[*].ref"],
    )
    description: str
    values: dict[str, Any] | None = Field(
        default=None, description="what this gateway checks against (channels, limits)"
    )


class SchemaRulesOut(BaseModel):
    """The rules beside the JSON Schema of one canonical message version."""

    schema_: str = Field(alias="schema", examples=[SCHEMA_ID])
    json_schema: str = Field(description="where the JSON Schema is", examples=["/v1/schema"])
    rules: list[PublishedRuleOut]


@router.get("/schema", operation_id="getSchema", summary="JSON Schema of the canonical message v1")
async def get_schema() -> dict[str, Any]:
    """The canonical message JSON Schema the gateway validates against."""
    return canonical_json_schema()


@router.get(
    "/schema/rules",
    operation_id="getSchemaRules",
    response_model=SchemaRulesOut,
    summary="The refusals the JSON Schema cannot express, with their error codes",
    description=(
        "Every rule the gateway checks beyond `/v1/schema`: message-wide rules (unique refs, "
        "references that resolve, a deletion deadline after today, attachments against their "
        "size and hash) and this gateway's own (registered channels and their products, "
        "recipients, the sender's token and signature, what each profile can express). Each "
        "names the answer's status and `error.code`, and the violation `type` at its `path`."
    ),
)
async def get_schema_rules(request: Request) -> dict[str, Any]:
    """The published rules for this gateway's registered channels."""
    context = get_context(request)
    rules = published_rules(
        context.registry,
        max_body_bytes=context.settings.max_body_bytes,
        sender_signatures=context.settings.sender_signatures,
    )
    return {
        "schema": SCHEMA_ID,
        "json_schema": "/v1/schema",
        "rules": [{**rule.as_dict(), "status": STATUS[KIND_OF[rule.error]]} for rule in rules],
    }
