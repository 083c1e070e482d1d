"""The baseline for intake: the gateway's HTTP stack doing nothing but a durable insert.

Same FastAPI and uvicorn set-up as ``marri-gateway serve``, same ``Store`` (SQLite WAL with
``synchronous=FULL`` and one writer thread, or the PostgreSQL pool), the same request bytes
stored in one row. What the gateway does on top (authentication, validation, five decisions,
five renders, encryption, six rows and an audit entry) is the difference the ratio shows.

    python -m benchmarks.baseline_app --database-url URL --port N
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, Request, Response
from sqlalchemy import Column, Connection, Integer, LargeBinary, MetaData, Table

from gateway.store.engine import Store
from gateway.store.tables import UTCDateTime, utcnow

metadata = MetaData()
inbox = Table(
    "bench_inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)
ACCEPTED = b'{"status":"accepted"}'


def create_app(store: Store) -> FastAPI:
    app = FastAPI()

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    store = Store(args.database_url)
    metadata.create_all(store.write_engine)
    try:
        uvicorn.run(
            create_app(store), host="127.0.0.1", port=args.port, log_level="info", access_log=False
        )
    finally:
        store.close()


if __name__ == "__main__":
    main()
