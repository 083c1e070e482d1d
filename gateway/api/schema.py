"""The canonical schema, published for national systems to build against."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.schema import canonical_json_schema

router = APIRouter(prefix="/v1", tags=["schema"])


@router.get("/schema", summary="JSON Schema of the canonical message v1")
async def get_schema() -> dict[str, Any]:
    """The canonical message JSON Schema the gateway validates against."""
    return canonical_json_schema()
