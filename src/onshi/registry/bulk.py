"""Bulk loading for large generated populations (`onshi seed`).

PostgreSQL: COPY … FROM STDIN through psycopg 3, ids assigned by the generator and the
sequences moved past them afterwards. SQLite: executemany. Either way one transaction, so
a failed load leaves the registry empty.
"""

from __future__ import annotations

import datetime as dt
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

    def finish(self, id_tables: Sequence[str] = ()) -> None:
        """Commit, move the id sequences past the ids written, and refresh planner statistics."""
        cur = self._conn.cursor()
        if self.dialect == "postgresql":
            for table in id_tables:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
        self._raw.commit()
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
