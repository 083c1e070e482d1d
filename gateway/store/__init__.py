"""The database: tables, migrations, encryption of personal data at rest, and queries."""
