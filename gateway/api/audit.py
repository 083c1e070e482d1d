"""Auditor endpoints: the audit log, paged, and a verification of its hash chain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from gateway.api.deps import get_context, require_roles
from gateway.api.models import ErrorBody
from gateway.security.audit import HEAD_SEQ, verify_chain
from gateway.security.identity import Identity
from gateway.store.tables import audit_entries

router = APIRouter(prefix="/v1/audit", tags=["audit"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid token"},
    403: {"model": ErrorBody, "description": "only auditors and admins read the audit log"},
    429: {"model": ErrorBody, "description": "rate limit reached; see Retry-After"},
}


class AuditEntryOut(BaseModel):
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
    items: list[AuditEntryOut]
    next_after: int | None = Field(description="pass as ?after= for the next page")


class ChainVerification(BaseModel):
    intact: bool
    entries: int
    first_bad_seq: int | None
    problem: str | None
    head: str | None = Field(description="SEQ:SHA256 of the newest entry; keep it elsewhere")


def _page(
    conn: Connection,
    *,
    after: int,
    limit: int,
    subject: str | None,
    action: str | None,
) -> dict[str, Any]:
    query = select(audit_entries).where(audit_entries.c.seq > max(after, HEAD_SEQ))
    if subject is not None:
        query = query.where(audit_entries.c.subject == subject)
    if action is not None:
        query = query.where(audit_entries.c.action == action)
    rows = conn.execute(query.order_by(audit_entries.c.seq).limit(limit + 1)).all()
    items = [
        {
            "seq": r.seq,
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "subject": r.subject,
            "reason": r.reason,
            "details": json.loads(r.details_json),
            "prev_hash": r.prev_hash,
            "entry_hash": r.entry_hash,
        }
        for r in rows[:limit]
    ]
    next_after = items[-1]["seq"] if len(rows) > limit else None
    return {"items": items, "next_after": next_after}


@router.get(
    "",
    response_model=AuditPage,
    summary="Audit entries in order, oldest first, paged by sequence number",
    responses=ERRORS,
)
async def list_audit(
    request: Request,
    _: Annotated[Identity, Depends(require_roles("auditor", "admin"))],
    after: Annotated[int, Query(ge=0, le=2**62, description="entries after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    subject: Annotated[str | None, Query(max_length=200, description="e.g. message:<id>")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    context = get_context(request)
    return await context.store.read(
        lambda conn: _page(conn, after=after, limit=limit, subject=subject, action=action)
    )


@router.get(
    "/verify",
    response_model=ChainVerification,
    summary="Recompute the hash chain and check its head",
    responses=ERRORS,
)
async def verify_audit(
    request: Request,
    _: Annotated[Identity, Depends(require_roles("auditor", "admin"))],
) -> dict[str, Any]:
    context = get_context(request)
    report = await context.store.read(verify_chain)
    return {
        "intact": report.intact,
        "entries": report.entries,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
        "head": str(report.head) if report.head else None,
    }
