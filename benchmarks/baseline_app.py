"""The baseline for intake: the gateway's HTTP stack doing nothing but a durable insert.

Same FastAPI and uvicorn set-up as ``marri-gateway serve``, same ``Store`` (SQLite WAL with
``synchronous=FULL`` and one writer thread, or the PostgreSQL pool), the same request bytes
stored in one row. What the gateway does on top (authentication, validation, five decisions,
five renders, encryption, six rows and an audit entry) is the difference the ratio shows.

    python -m benchmarks.baseline_app --database-url URL --port N [--processes K]

With ``--processes`` it runs as many server processes as the gateway under comparison does
(uvicorn's supervisor; each process its own ``Store``).
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from fastapi import FastAPI, Request, Response
from sqlalchemy import Column, Connection, Integer, LargeBinary, MetaData, Table

from gateway.store.engine import Store
from gateway.store.tables import UTCDateTime, utcnow
from gateway.telemetry.setup import FRAMEWORK_TELEMETRY

metadata = MetaData()
inbox = Table(
    "bench_inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)
ACCEPTED = b'{"status":"accepted"}'
DATABASE_URL_VARIABLE = "BENCH_BASELINE_DATABASE_URL"


def create_app(store: Store) -> FastAPI:
    app = FastAPI(telemetry=FRAMEWORK_TELEMETRY)  # as the gateway's apps

    @app.post("/insert", status_code=202)
    async def insert(request: Request) -> Response:
        body = await request.body()

        def write(conn: Connection) -> None:
            conn.execute(inbox.insert().values(body=body, received_at=utcnow()))

        await store.write(write)
        return Response(ACCEPTED, status_code=202, media_type="application/json")

    @app.post("/noop", status_code=202)
    async def noop(request: Request) -> Response:
        await request.body()
        return Response(ACCEPTED, status_code=202, media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_environment() -> FastAPI:
    """One process of a multi-process baseline: its own store on the shared database."""
    store = Store(os.environ[DATABASE_URL_VARIABLE])
    return create_app(store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    store = Store(args.database_url)
    metadata.create_all(store.write_engine)
    if args.processes > 1:
        store.close()
        os.environ[DATABASE_URL_VARIABLE] = args.database_url
        uvicorn.run(
            "benchmarks.baseline_app:app_from_environment",
            factory=True,
            workers=args.processes,
            host="127.0.0.1",
            port=args.port,
            log_level="info",
            access_log=False,
        )
        return
    try:
        uvicorn.run(
            create_app(store), host="127.0.0.1", port=args.port, log_level="info", access_log=False
        )
    finally:
        store.close()


if __name__ == "__main__":
    main()
