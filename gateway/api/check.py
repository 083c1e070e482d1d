"""The dry run: ``POST /v1/messages/check`` decides and renders a message, storing nothing.

The answer is the same report ``marri-gateway check --json`` prints: per channel (and per
recipient country where a channel delivers once per country) the outcome, the findings with
their citations, and the paths a redaction removes. A message the schema refuses, or that a
destination cannot express, gets the same 422 as intake would give it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gateway.api.body import read_json_body
from gateway.api.deps import caller_for, get_context
from gateway.api.models import Decision, ErrorBody, Finding
from gateway.intake import not_renderable, plan_deliveries, sender_country_mismatch
from gateway.policy import check_report
from gateway.schema import derive_facts
from gateway.security.identity import Identity
from gateway.services.permissions import Action, bound_to_one_country

router = APIRouter(prefix="/v1", tags=["messages"])


class ChannelFinding(Finding):
    """A finding at channel level; ``recipients`` names the countries it was found for when
    the channel is decided once per recipient country."""

    recipients: list[str] | None = None


class ChannelCheck(BaseModel):
    """One channel's verdict. A channel delivered once per recipient country has
    ``recipients`` instead of redacted, the strongest of their outcomes, and as findings
    those of the recipients with that outcome (the ones that made it)."""

    outcome: str = Field(description="allow, redact, review or deny")
    findings: list[ChannelFinding] | None = None
    redacted: list[str] | None = None
    recipients: dict[str, Decision] | None = None


class CheckReport(BaseModel):
    """Per channel, what the gateway would decide and render for the message."""

    channels: dict[str, ChannelCheck]


@router.post(
    "/messages/check",
    operation_id="checkMessage",
    response_model=CheckReport,
    response_model_exclude_none=True,
    summary="Dry run: decide and render a message without storing it",
    responses={
        401: {"model": ErrorBody, "description": "no valid token"},
        403: {"model": ErrorBody, "description": "the token may not do this"},
        413: {"model": ErrorBody, "description": "body too large"},
        415: {"model": ErrorBody, "description": "not application/json"},
        422: {"model": ErrorBody, "description": "every violation with its JSON path"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CanonicalMessage"}}
            },
        }
    },
)
async def check_message(
    request: Request, identity: Annotated[Identity, Depends(caller_for(Action.CHECK))]
) -> dict[str, Any]:
    """Decide and render for every destination without storing or sending anything."""
    context = get_context(request)
    raw = await read_json_body(request, context.settings.max_body_bytes)
    message = context.intake.validate(raw)
    if bound_to_one_country(identity.role) and message.sender.country != identity.country:
        raise sender_country_mismatch()
    plans = plan_deliveries(
        message,
        derive_facts(message),
        engine=await context.intake.current_engine(),
        registry=context.registry,
        on=datetime.now(UTC).date(),
    )
    problems = [p for plan in plans for p in plan.render_problems]
    if problems:
        raise not_renderable(problems)
    return check_report(plans)
