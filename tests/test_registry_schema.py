"""The Alembic migrations build exactly the tables of schema.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from onshi.registry import db
from onshi.registry.schema import metadata


def test_migrations_match_the_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_reset_rebuilds_an_empty_registry(engine):
    db.reset(engine)
    assert db.is_empty(engine)
