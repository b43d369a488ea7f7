"""Engines and migrations. The same Alembic migrations build SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import random
import time
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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


T = TypeVar("T")
RETRY_STATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction for writes whose rules span rows (read, check, write): SERIALIZABLE on
    PostgreSQL (a concurrent transaction that would change what was read makes one of the two
    fail, see `retrying`), BEGIN IMMEDIATE on SQLite (one writer at a time from the start, so
    a reader never has to upgrade its lock)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        return
    with engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn, conn.begin():
        # See `retrying`: every write holds the turn lock shared; one that has lost often enough
        # holds it alone (taken first, before any row), so no other write transaction runs beside
        # it (the issuance run's batches, READ COMMITTED, do not take it: they can still conflict).
        lock = "pg_advisory_xact_lock" if _taking_turns.get() else "pg_advisory_xact_lock_shared"
        conn.execute(text(f"SELECT {lock}(:key)"), {"key": TURN_KEY})
        yield conn


def is_retryable(exc: BaseException) -> bool:
    """A conflict with a concurrent transaction: running the work again sees its result."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        return state in RETRY_STATES or "database is locked" in str(exc.orig)
    return False


UNAVAILABLE_CLASSES = ("08", "53")  # connection exception, insufficient resources (53300 too many connections)
UNAVAILABLE_STATES = {"57P01", "57P02", "57P03"}  # admin/crash shutdown, cannot connect now


def is_unavailable(exc: BaseException) -> bool:
    """The database could not take the work now (no pooled connection free in time, the
    server's connection limit, a lost or refused connection): nothing was stored, and the
    same request may succeed later — a 503 with Retry-After for the client, never a 500. A
    bench overloading the server (`onshi bench national --rate 1370` on two cores) met these."""
    if isinstance(exc, (PoolTimeout, TimeoutError)):  # SQLAlchemy's pool; the async lookup path's pool (registry/aio.py)
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    state = getattr(orig, "sqlstate", None)
    if state:
        return state[:2] in UNAVAILABLE_CLASSES or state in UNAVAILABLE_STATES
    try:  # psycopg raised before any server answer (connection refused or reset): no SQLSTATE
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(orig, psycopg.OperationalError)


_taking_turns: ContextVar[bool] = ContextVar("onshi_taking_turns", default=False)
# The advisory lock of `write_transaction`s that take turns (a fixed key: it names a queue, it
# guards no secret).
TURN_KEY = int.from_bytes(hashlib.blake2b(b"onshi:write-turns", digest_size=8).digest(), "big", signed=True)
TAKE_TURNS_AFTER = 3  # lost rounds before a request queues for its turn


def retrying(work: Callable[[], T], attempts: int = 20, pause: float = 0.25) -> T:
    """Run `work` (one whole transaction) again while it loses to a concurrent one: each run
    sees what the winner committed, so its own checks answer (a replay, a named 409). Gives
    the last conflict up after `attempts`; the random backoff (doubling, at most `pause`
    seconds) spreads a burst on one row out, so every round lets at least one through.

    Under overload SERIALIZABLE can make the same request lose round after round (its
    transaction stays open longer than the others', so it is the one aborted): after
    TAKE_TURNS_AFTER lost rounds its `write_transaction`s first take the turn lock (a
    transaction-scoped advisory lock, PostgreSQL) exclusively, where every other write holds it
    shared: it waits for the writes in flight, then runs with no other writer beside it, and
    the 409 only comes when a conflict outlasts all the attempts (`onshi bench national`
    overloaded 10×: 12 acquisitions were 409 before, 1 with a turn lock among the losers only)."""
    for attempt in range(attempts):
        token = _taking_turns.set(attempt >= TAKE_TURNS_AFTER)
        try:
            return work()
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts - 1:
                raise
        finally:
            _taking_turns.reset(token)
        time.sleep(random.uniform(0, min(pause, 0.002 * 2**attempt)))
    raise AssertionError("unreachable")


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """`name`'s work one at a time across processes: a PostgreSQL advisory lock held by a
    connection of its own for the whole work (several transactions, other processes' COPY), or
    RuntimeError at once if another process holds it. SQLite: nothing (its writers already
    take turns, and a second load fails on the first's keys)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.blake2b(f"onshi:{name}".encode(), digest_size=8).digest(), "big", signed=True)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
        conn.commit()  # a session lock: no transaction is left open while the work runs
        if not held:
            raise RuntimeError(f"another {name} is running on this database")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()


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
    from .bulk import restore_deferred

    restore_deferred(engine)  # what an interrupted seed dropped, so that the downgrade finds it
    if engine.dialect.name == "postgresql":  # emptied first: the downgrades that rewrite rows or rebuild indexes (0008, 0012) then cost nothing
        from .schema import metadata

        with engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            # not the tables that refuse TRUNCATE (the verification log, 0008): nothing refers to them, so no CASCADE reaches them
            refusing = {r[0] for r in conn.execute(text("SELECT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal AND tgtype & 32 <> 0"))}
            tables = [t.name for t in metadata.sorted_tables if t.name in present and t.name not in refusing]
            if tables:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    command.downgrade(alembic_config(engine), "base")
    migrate(engine)
