"""Alembic migrations; the revisions form one linear chain."""
