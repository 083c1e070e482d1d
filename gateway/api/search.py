"""``POST /v1/search``: the console's search box for programs. A POST, so that a case
reference (which may be personal data) travels in the body, never in a logged address."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.security.identity import Identity
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["messages"])


class SearchRequest(BaseModel):
    """What the caller holds."""

    q: str = Field(
        min_length=1,
        max_length=200,
        description="a message id, a delivery id, a trace id or a case reference",
    )


class SearchHit(BaseModel):
    """One message found, and what matched."""

    message_id: str
    matched: str = Field(
        description="message id, delivery id, trace id, trace id of an attempt, case reference"
    )
    received_at: datetime
    sender_country: str
    delivery_id: str | None = None


class SearchOut(BaseModel):
    """The caller's messages that match, newest first (at most 50)."""

    hits: list[SearchHit]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid token"},
    403: {"model": ErrorBody, "description": "the token may not read messages"},
}


@router.post(
    "/search",
    operation_id="searchMessages",
    response_model=SearchOut,
    summary="Find messages by message id, delivery id, trace id or case reference",
    responses=ERRORS,
)
async def search(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_MESSAGES))],
    body: Annotated[SearchRequest, Body()],
) -> SearchOut:
    """Case references are compared by keyed hash; another country's message is not found."""
    hits = await get_context(request).services.search.find(identity, body.q)
    return SearchOut(hits=[SearchHit.model_validate(hit, from_attributes=True) for hit in hits])
