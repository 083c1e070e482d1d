"""Liveness and readiness for process supervisors and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from gateway.api.deps import get_context
from gateway.errors import ErrorKind, GatewayError

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="getHealth", summary="The process is alive")
async def healthz() -> dict[str, str]:
    """Liveness: answers as long as the process serves requests, whatever the database does."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="getReadiness", summary="The process can reach its database")
async def readyz(request: Request) -> dict[str, str]:
    """Readiness: 503 while the database does not answer, so no traffic is routed here."""
    context = get_context(request)
    try:
        await context.store.read(lambda conn: conn.execute(text("SELECT 1")).scalar())
    except Exception:
        raise GatewayError(
            ErrorKind.UNAVAILABLE, "not_ready", "the database does not answer"
        ) from None
    return {"status": "ready"}
