"""The FastAPI application: routers are registered here, one per file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from gateway.api import (
    activity,
    audit,
    check,
    events,
    facts,
    health,
    inbound,
    messages,
    metrics,
    operator,
    review,
    schema,
    search,
    sender_keys,
    signing,
    trace,
)
from gateway.api.contract import openapi_document
from gateway.api.errors import install_error_handlers
from gateway.config import get_settings
from gateway.console import create_console
from gateway.context import GatewayContext, build_context
from gateway.delivery.runner import worker_lifespan
from gateway.exchange.poller import running_pollers
from gateway.security.enforce import authorize, install_security
from gateway.telemetry.setup import FRAMEWORK_TELEMETRY

ROUTERS = [
    check.router,  # before messages: its path is more specific
    messages.router,
    trace.router,
    schema.router,
    health.router,
    metrics.router,
    audit.router,
    activity.router,  # before operator: its path is more specific
    operator.router,
    review.router,
    inbound.router,
    facts.router,
    events.router,
    search.router,
    sender_keys.router,
    signing.router,
]


def create_app(context: GatewayContext, *, close_context: bool = False) -> FastAPI:
    """An app bound to one process context (tests build one per back end).

    With ``close_context`` the app owns the context and closes it when the server stops.
    """
    app = FastAPI(
        telemetry=FRAMEWORK_TELEMETRY,
        title="MARRI exchange gateway",
        version="1",
        description=(
            "National systems send ONE canonical message; the gateway checks, per destination, "
            "the legal basis, renders what each channel takes and delivers it durably."
        ),
        # Every route passes the authorisation table first (gateway/security/policy_table.py).
        dependencies=[Depends(authorize)],
        # Serve runs the delivery worker in the same process when settings.worker_enabled.
        lifespan=_lifespan(context, close_context=close_context),
    )
    app.state.context = context
    app.state.token_cache = {}
    install_error_handlers(app)
    install_security(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/console", create_console(context))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """One API process of ``serve --processes N``: each builds its own context (store
    connections, keys, rule packs, adapters) from the same environment."""
    return create_app(build_context(get_settings()), close_context=True)


def _lifespan(context: GatewayContext, *, close_context: bool) -> Callable[[Any], Any]:
    run_worker = worker_lifespan(context)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            async with run_worker(app), _pollers(context):
                yield
        finally:
            if close_context:
                context.close()

    return lifespan


@asynccontextmanager
async def _pollers(context: GatewayContext) -> AsyncIterator[None]:
    """Channels that must be asked for their answers are polled where the worker runs."""
    if not context.settings.worker_enabled:
        yield
        return
    async with running_pollers(context.inbound):
        yield
