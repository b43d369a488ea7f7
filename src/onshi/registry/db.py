"""Engines and migrations. The same Alembic migrations build SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text

from .. import config
from . import schema

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = config.database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            if not url.endswith(":memory:") and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", False)
    return create_engine(url, **kwargs)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (creates it on an empty database)."""
    command.upgrade(alembic_config(engine), revision)


def is_empty(engine: Engine) -> bool:
    """True when the registry holds no person yet (a fresh or unseeded database)."""
    if not inspect(engine).has_table("person"):
        return True
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM person LIMIT 1")).first() is None


def table_names() -> list[str]:
    return [t.name for t in schema.TABLES_IN_LOAD_ORDER]


def reset(engine: Engine) -> None:
    """Drop every registry table and build the schema again (`onshi seed --reset`)."""
    command.downgrade(alembic_config(engine), "base")
    migrate(engine)
