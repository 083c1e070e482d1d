"""``GET /metrics``: Prometheus text exposition, computed from the store at scrape time.

The endpoint is public like the health checks: its figures are counts per channel and state,
they name no sender country and hold no personal data. Put it behind the front proxy's network
rules like the rest of the gateway.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from gateway.api.deps import get_context
from gateway.telemetry.gauges import StoreCollector
from gateway.telemetry.metrics import PROCESS_REGISTRY

router = APIRouter(tags=["metrics"])


def _exposition(collector: StoreCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry) + generate_latest(PROCESS_REGISTRY)


@router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "text exposition"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus exposition: process metrics plus queue gauges read from the store."""
    context = get_context(request)
    collector = StoreCollector(context.store, context.registry.names())
    body = await run_in_threadpool(_exposition, collector)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
