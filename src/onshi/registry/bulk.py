"""Bulk loading for large generated populations (`onshi seed`).

PostgreSQL: COPY … FROM STDIN through psycopg 3, ids assigned by the generator and the
sequences moved past them afterwards. SQLite: executemany. Either way one transaction, so
a failed load leaves the registry empty.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterable, Sequence

from sqlalchemy import Engine


def _quoted(columns: Sequence[str]) -> str:
    # "end" is a reserved word; quote every column alike.
    return ", ".join(f'"{c}"' for c in columns)


def _sqlite_value(value: object) -> object:
    # SQLAlchemy's SQLite Date type stores ISO strings; the sqlite3 date adapter is deprecated.
    if isinstance(value, dt.datetime):  # DateTime: naive UTC, as SQLAlchemy writes it
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    return value.isoformat() if isinstance(value, dt.date) else value


class BulkWriter:
    """Writes rows table by table inside one transaction; `finish` commits."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        self._raw = engine.raw_connection()
        self._conn = self._raw.driver_connection
        self._done = False

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        if self.dialect == "postgresql":
            with self._conn.cursor() as cur, cur.copy(f"COPY {table} ({_quoted(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cur = self._conn.cursor()
            cur.executemany(
                f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({marks})",
                (tuple(_sqlite_value(v) for v in row) for row in rows),
            )
            cur.close()

    def commit(self) -> None:
        """Commit what was written so far; the writer stays open for more (no ANALYZE)."""
        self._raw.commit()

    def finish(self, id_tables: Sequence[str] = (), analyze: bool = True) -> None:
        """Commit, move the id sequences past the ids written, and refresh planner statistics
        (analyze=False: the caller has)."""
        cur = self._conn.cursor()
        if self.dialect == "postgresql":
            for table in id_tables:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
        self._raw.commit()
        if analyze:
            cur.execute("ANALYZE")
            if self.dialect == "postgresql":
                self._raw.commit()
        cur.close()
        self._done = True

    def close(self) -> None:
        if not self._done:
            self._raw.rollback()
        self._raw.close()

    def __enter__(self) -> "BulkWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


DEFERRED = "deferred_indexes"  # the setting that holds what a bulk load dropped, until it is built again


_ADD = re.compile(r'ALTER TABLE (\S+) ADD CONSTRAINT "([^"]+)"')
_INDEX = re.compile(r"CREATE (?:UNIQUE )?INDEX (\S+) ON (?:public\.)?(\S+)")
BUILDERS = 2  # connections building at once (the server has two cores; each build may add parallel workers)


def _build(engine: Engine, builds: Sequence[str], foreign: Sequence[str], analyze: Sequence[str] = ()) -> None:
    """Build what deferred_indexes dropped, then refresh the statistics of `analyze`:
    1. primary keys, unique constraints and indexes, BUILDERS at a time, the tables taking turns;
    2. the foreign keys added NOT VALID (catalog only: they hold from then on);
    3. per table, on BUILDERS connections: VALIDATE its foreign keys (it checks every loaded
       row as ADD CONSTRAINT would, but locks the referenced table only in ROW SHARE mode, so
       that the tables that point at one table are checked at once), then ANALYZE.
    What already exists (a build interrupted half-way) is left as it is."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    def run(statements: Sequence[str]) -> None:
        for statement in statements:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
                conn.execute(text(statement))

    def table_of(statement: str) -> str:
        m = _ADD.match(statement) or _INDEX.match(statement)
        return m.group(1) if m.re is _ADD else m.group(2)

    def name_of(statement: str) -> str:
        m = _ADD.match(statement)
        return m.group(2) if m else _INDEX.match(statement).group(1)

    tables = {table_of(s) for s in [*builds, *foreign]} | set(analyze)
    with engine.connect() as conn:
        present = set(conn.execute(text("SELECT conname FROM pg_constraint UNION SELECT relname FROM pg_class WHERE relkind = 'i'")).scalars())
        valid = set(conn.execute(text("SELECT conname FROM pg_constraint WHERE contype = 'f' AND convalidated")).scalars())
        size = dict(conn.execute(text("SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relkind = 'r'")).all())
    # each table's constraints (ACCESS EXCLUSIVE) then its indexes, the tables taking turns,
    # largest first: two builds at once are mostly on two tables, and do not wait on each other
    todo = [s for s in builds if name_of(s) not in present]
    rank = {s: sum(table_of(o) == table_of(s) for o in todo[:i]) for i, s in enumerate(todo)}
    with ThreadPoolExecutor(max_workers=BUILDERS) as pool:
        list(pool.map(lambda s: run([s]), sorted(todo, key=lambda s: (rank[s], -size.get(table_of(s), 0)))))
    run([f"{s} NOT VALID" for s in foreign if name_of(s) not in present])
    per_table: dict[str, list[str]] = {t: [] for t in sorted(tables, key=lambda t: -size.get(t, 0))}
    for s in foreign:
        if name_of(s) not in valid:
            per_table[table_of(s)].append(f'ALTER TABLE {table_of(s)} VALIDATE CONSTRAINT "{name_of(s)}"')
    for t in analyze:
        per_table[t].append(f"ANALYZE {t}")
    with ThreadPoolExecutor(max_workers=BUILDERS) as pool:
        list(pool.map(run, [v for v in per_table.values() if v]))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM setting WHERE name = :n"), {"n": DEFERRED})


def restore_deferred(engine: Engine) -> None:
    """Build again what an interrupted bulk load dropped (kept in the `deferred_indexes` setting)."""
    import json

    from sqlalchemy import inspect, text

    if engine.dialect.name != "postgresql" or not inspect(engine).has_table("setting"):
        return
    with engine.connect() as conn:
        pending = conn.execute(text("SELECT value FROM setting WHERE name = :n"), {"n": DEFERRED}).scalar()
    if pending:
        saved = json.loads(pending)
        _build(engine, saved["builds"], saved["foreign"])


def deferred_indexes(engine: Engine, tables: Sequence[str], analyze: Sequence[str] = ()):  # noqa: ANN201
    """PostgreSQL: drop the indexes and constraints of `tables` (and the foreign keys that
    point at them) before a bulk load; returns the function that builds them again (_build:
    primary keys, unique constraints and indexes two at a time, each with a large
    maintenance_work_mem, then the foreign keys, which check the loaded rows) and ANALYZEs
    `analyze`. What was dropped
    is kept in the `deferred_indexes` setting until it is built again, so that an interrupted
    load is repaired by `restore_deferred` (db.reset, the next seed). Elsewhere: a no-op."""
    import json

    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return lambda: None
    restore_deferred(engine)
    names = list(tables)
    with engine.begin() as conn:
        rel = "ARRAY[" + ", ".join(f"'{t}'::regclass" for t in names) + "]"
        constraints = conn.execute(text(
            f"SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE contype IN ('p', 'u', 'f') AND (conrelid = ANY({rel}) OR (contype = 'f' AND confrelid = ANY({rel}))) ORDER BY conname"
        )).all()
        indexes = conn.execute(text(
            f"SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = ANY({rel}) "
            f"AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = pg_index.indexrelid) ORDER BY 1"
        )).all()
        builds = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, k, d in constraints if k != "f"] + [d for _, d in indexes]
        foreign = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, k, d in constraints if k == "f"]
        conn.execute(text("INSERT INTO setting (name, value) VALUES (:n, :v)"), {"n": DEFERRED, "v": json.dumps({"builds": builds, "foreign": foreign})})
        for table, name, kind, _ in sorted(constraints, key=lambda c: c[2] != "f"):  # foreign keys first
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
    return lambda: _build(engine, builds, foreign, analyze)
