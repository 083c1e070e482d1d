"""The database: tables, migrations, encryption of personal data at rest, and queries."""

# Registers the signature tables in the shared metadata whenever the store is used.
from gateway.store import signature_tables as _signature_tables  # noqa: F401
