"""Test fixtures. Registry tests run on SQLite and, when a PostgreSQL server answers (or
ONSHI_TEST_PG_URL is set), on PostgreSQL too; with CI=true PostgreSQL is required."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from onshi.registry import db, schema

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TABLES = ", ".join(t.name for t in schema.TABLES_IN_LOAD_ORDER)


def _pg_base_url() -> str | None:
    url = os.environ.get("ONSHI_TEST_PG_URL")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
        return DEFAULT_PG
    except OSError:
        return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


PG_BASE = _pg_base_url()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_BASE else [])


def pytest_report_header(config):  # noqa: ANN001, ANN201
    return f"registry backends: {', '.join(BACKENDS)}" + ("" if PG_BASE else " (no PostgreSQL: set ONSHI_TEST_PG_URL)")


def pytest_sessionstart(session):  # noqa: ANN001, ANN201
    if _in_ci() and not PG_BASE:
        raise pytest.UsageError("CI=true: PostgreSQL is required for the registry tests but none answers at 127.0.0.1:5432 and ONSHI_TEST_PG_URL is unset")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:  # noqa: ANN001
    path = tmp_path_factory.mktemp("template") / "registry.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database():  # noqa: ANN201
    """A scratch database of our own on the PostgreSQL server, migrated once."""
    if not PG_BASE:
        yield None
        return
    from sqlalchemy.engine import make_url

    base = make_url(db.config.database_url(PG_BASE))
    name = f"onshi_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name)
    engine = db.make_engine(url.render_as_string(hide_password=False))
    db.migrate(engine)
    engine.dispose()
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path, sqlite_template, pg_database):  # noqa: ANN001, ANN201
    """An empty, migrated registry on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "registry.sqlite3"
        shutil.copy(sqlite_template, path)
        eng = db.make_engine(f"sqlite:///{path}")
    else:
        eng = db.make_engine(pg_database, pool_size=5)
        with eng.begin() as conn:
            # The verification log refuses TRUNCATE (a trigger); a scratch database between tests may.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    yield eng
    eng.dispose()


@pytest.fixture
def today(monkeypatch):  # noqa: ANN001, ANN201
    """Set the system's today: `today("2026-05-12")`."""

    def set_today(day: str) -> None:
        monkeypatch.setenv("ONSHI_TODAY", day)

    set_today("2026-05-12")
    return set_today


@pytest.fixture
def world(engine, today):  # noqa: ANN001, ANN201
    """A registry with the four example insurers, two facilities and their keys (factories.World)."""
    from factories import World

    return World.build(engine)
