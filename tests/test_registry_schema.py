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


def test_reset_empties_a_seeded_registry_with_its_history_and_log(engine):
    """On PostgreSQL reset empties the tables before the downgrades (not the verification log,
    which refuses TRUNCATE: its table is dropped), on SQLite the downgrades drop them."""
    from onshi.registry.seed import seed_registry

    seed_registry(engine, people=60, seed=3, progress=False, history=True, workers=1)
    with engine.begin() as conn:
        logged = conn.exec_driver_sql("INSERT INTO verification (at, as_of, facility_code, method, result, channel) "
                             "SELECT CURRENT_TIMESTAMP, CURRENT_DATE, code, 'my_number_card', 'valid', 'api' FROM facility LIMIT 3").rowcount
        assert logged == 3
        assert conn.exec_driver_sql("SELECT count(*) FROM issuance_run").scalar() > 0
    db.reset(engine)
    assert db.is_empty(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM verification").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM issuance_run").scalar() == 0


def test_the_migrations_give_the_codes_their_collation(engine):
    """Alembic's comparison does not look at collations: the columns schema.Code declares are
    COLLATE "C" on PostgreSQL (migration 0012), and no other column has a collation of its own."""
    declared = {(t.name, c.name): c.type.dialect_impl(engine.dialect).collation
                for t in metadata.sorted_tables for c in t.columns if hasattr(c.type.dialect_impl(engine.dialect), "collation")}
    declared = {k: v for k, v in declared.items() if v}
    if engine.dialect.name != "postgresql":
        assert declared == {}  # SQLite compares bytes (BINARY) already
        return
    with engine.connect() as conn:
        found = {(t, c): coll for t, c, coll in conn.exec_driver_sql(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND collation_name IS NOT NULL AND table_name <> 'alembic_version'")}
    assert found == declared
    assert declared[("person", "my_number_hash")] == "C" and declared[("qualification", "symbol")] == "C"
