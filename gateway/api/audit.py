"""Auditor endpoints: the audit log, paged, and a verification of its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.security.identity import Identity
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1/audit", tags=["audit"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid token"},
    403: {"model": ErrorBody, "description": "only auditors and admins read the audit log"},
    429: {"model": ErrorBody, "description": "rate limit reached; see Retry-After"},
}


class AuditEntryOut(BaseModel):
    """One audit entry as the API shows it; the reason is the actor's own words."""

    seq: int
    at: datetime
    actor: str = Field(description="role and token id, or 'cli' / 'gateway'")
    action: str
    subject: str
    reason: str | None
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str


class AuditPage(BaseModel):
    """A page of the audit log, oldest first, with where the next page starts."""

    items: list[AuditEntryOut]
    next_after: int | None = Field(description="pass as ?after= for the next page")


class ChainVerification(BaseModel):
    """Whether the hash chain of the audit log holds, and where it first breaks if not."""

    intact: bool
    entries: int
    first_bad_seq: int | None
    problem: str | None
    head: str | None = Field(description="SEQ:SHA256 of the newest entry; keep it elsewhere")
    keyed: bool = Field(
        default=False,
        description="the chain is keyed (HMAC under the gateway's key) and its head signed",
    )


@router.get(
    "",
    operation_id="listAuditEntries",
    response_model=AuditPage,
    summary="Audit entries in order, oldest first, paged by sequence number",
    responses=ERRORS,
)
async def list_audit(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_AUDIT))],
    after: Annotated[int, Query(ge=0, le=2**62, description="entries after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    subject: Annotated[str | None, Query(max_length=200, description="e.g. message:<id>")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Page through the audit log, optionally for one subject or action."""
    audit = get_context(request).services.audit
    return await audit.page(identity, after=after, limit=limit, subject=subject, action=action)


@router.get(
    "/verify",
    operation_id="verifyAuditChain",
    response_model=ChainVerification,
    summary="Recompute the hash chain and check its head",
    responses=ERRORS,
)
async def verify_audit(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_AUDIT))],
) -> dict[str, Any]:
    """Recompute the audit log's hash chain; an emptied or edited log is not intact."""
    report = await get_context(request).services.audit.verify(identity)
    return {
        "intact": report.intact,
        "entries": report.entries,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
        "head": str(report.head) if report.head else None,
        "keyed": report.keyed,
    }
