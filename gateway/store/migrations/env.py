"""Alembic environment: the gateway's tables, online migrations only."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from gateway.store.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None
connectable = create_engine(url, poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
