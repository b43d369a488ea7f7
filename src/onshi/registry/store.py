"""The database source of lookups: one indexed query per lookup.

The statements are SQLAlchemy Core (so they follow the schema), compiled once per dialect
and run on raw DB-API connections in autocommit mode: no ORM, no BEGIN/ROLLBACK round
trips, and psycopg prepares them server-side after a few executions.
"""

from __future__ import annotations

import datetime as dt
import queue
import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import Boolean, Date, Engine, and_, bindparam, literal_column, select

from .lookup import CERTIFICATE_KINDS, CardRow, DocumentRow, PersonRecord, PersonRow, QualificationRow
from .schema import card, document, insurer, person, qualification

_q = qualification.alias("q")
_m = qualification.alias("m")
_d = document.alias("d")
_P_COLS = (person.c.id, person.c.birth_date, person.c.sex)
_Q_COLS = (
    _q.c.id, _q.c.insurer_number, _q.c.symbol, _q.c.number, _q.c.branch, _q.c.relation, _q.c.start, _q.c.end,
    _q.c.registered, insurer.c.name, _q.c.insured_name, _q.c.card_classification, _q.c.loss_reason, _q.c.income,
    _q.c.kouki_ratio, _q.c.limit_category, _q.c.limit_start, _q.c.limit_end, _q.c.limit_issued,
    _q.c.name, _q.c.kana, _q.c.address, _q.c.postcode, _q.c.dv_flag,  # each insurer's own (R-D5)
)
# The certificates held for each qualification (lookup.held_document picks the one of the day).
_D_COLS = (_d.c.id, _d.c.kind, _d.c.issued, _d.c.valid_from, _d.c.expires)
_C_COLS = (card.c.serial, card.c.issued, card.c.card_expires, card.c.cert_expires, card.c.insurance_registered, card.c.revoked)
_NP, _NQ, _NC = len(_P_COLS), len(_Q_COLS), len(_C_COLS)
# The kinds as SQL literals: the statements are compiled once, their parameters are the lookup's.
_D_JOIN = and_(_d.c.qualification_id == _q.c.id, _d.c.kind.in_([literal_column(f"'{k}'") for k in CERTIFICATE_KINDS]))

CARD_QUERY = (
    select(*_C_COLS, *_P_COLS, *_Q_COLS, *_D_COLS)
    .select_from(
        card.join(person, person.c.id == card.c.person_id)
        .outerjoin(_q, _q.c.person_id == person.c.id)
        .outerjoin(insurer, insurer.c.number == _q.c.insurer_number)
        .outerjoin(_d, _D_JOIN)
    )
    .where(card.c.serial == bindparam("serial"))
)


def _by_matched(*conditions):  # noqa: ANN001, ANN202
    """The person of the qualifications `_m` meeting `conditions`, with all their qualifications."""
    return (
        select(_m.c.id, *_P_COLS, *_Q_COLS, *_D_COLS)
        .select_from(
            _m.join(person, person.c.id == _m.c.person_id)
            .join(_q, _q.c.person_id == person.c.id)
            .outerjoin(insurer, insurer.c.number == _q.c.insurer_number)
            .outerjoin(_d, _D_JOIN)
        )
        .where(and_(*conditions))
    )


def _numbers_query(with_symbol: bool, with_branch: bool):  # noqa: ANN202
    conditions = [_m.c.insurer_number == bindparam("insurer"), _m.c.number == bindparam("number"), person.c.birth_date == bindparam("birth")]
    if with_symbol:
        conditions.append(_m.c.symbol == bindparam("symbol"))
    if with_branch:
        conditions.append(_m.c.branch == bindparam("branch"))
    return _by_matched(*conditions)


NUMBERS_QUERIES = {(s, b): _numbers_query(s, b) for s in (False, True) for b in (False, True)}
QUALIFICATION_QUERY = _by_matched(_m.c.id == bindparam("qualification"))  # FHIR Coverage read
INSURER_EXISTS = select(literal_column("1")).select_from(insurer).where(insurer.c.number == bindparam("insurer"))


class _Compiled:
    """A statement compiled for one dialect, with what it takes to run it on a raw cursor."""

    def __init__(self, statement, engine: Engine):  # noqa: ANN001
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.positional = compiled.positiontup if compiled.positional else None
        # SQLite hands back dates as text and booleans as integers.
        converters: list[Callable | None] = []
        for col in statement.selected_columns:
            if engine.dialect.name == "sqlite" and isinstance(col.type, Date):
                converters.append(lambda v: None if v is None else dt.date.fromisoformat(v))
            elif engine.dialect.name == "sqlite" and isinstance(col.type, Boolean):
                converters.append(lambda v: None if v is None else bool(v))
            else:
                converters.append(None)
        self.converters = [(i, c) for i, c in enumerate(converters) if c is not None]

    def run(self, raw, params: dict) -> list:  # noqa: ANN001
        args = tuple(params[name] for name in self.positional) if self.positional is not None else params
        if isinstance(raw, sqlite3.Connection):
            args = tuple(a.isoformat() if isinstance(a, dt.date) else a for a in args) if isinstance(args, tuple) else args
            cur = raw.cursor()
            try:
                cur.execute(self.sql, args)
                rows = cur.fetchall()
            finally:
                cur.close()
        else:  # psycopg: binary results, prepared on first use (about 10 % less per lookup)
            with raw.cursor(binary=True) as cur:
                cur.execute(self.sql, args, prepare=True)
                rows = cur.fetchall()
        if self.converters:
            out = []
            for r in rows:
                r = list(r)
                for i, conv in self.converters:
                    r[i] = conv(r[i])
                out.append(r)
            return out
        return rows


class Reader:
    """Lookups on a bounded pool of raw autocommit connections (thread-safe): at most `size`
    connections; a thread that finds none idle waits for one rather than opening more."""

    def __init__(self, engine: Engine, size: int = 16, wait: float = 30.0):
        self.engine = engine
        self.size, self.wait = size, wait
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._open = 0
        self._lock = threading.Lock()
        self.card = _Compiled(CARD_QUERY, engine)
        self.numbers = {k: _Compiled(v, engine) for k, v in NUMBERS_QUERIES.items()}
        self.qualification = _Compiled(QUALIFICATION_QUERY, engine)
        self.insurer = _Compiled(INSURER_EXISTS, engine)

    def _connect(self):  # noqa: ANN202
        raw = self.engine.pool._creator()  # a fresh DB-API connection, outside SQLAlchemy's pool  # noqa: SLF001
        if isinstance(raw, sqlite3.Connection):
            raw.isolation_level = None  # autocommit
            raw.execute("PRAGMA query_only=ON")
        else:
            raw.autocommit = True
        return raw

    def _take(self):  # noqa: ANN202
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            grow = self._open < self.size
            if grow:
                self._open += 1
        if grow:
            try:
                return self._connect()
            except Exception:
                with self._lock:
                    self._open -= 1
                raise
        try:
            return self._idle.get(timeout=self.wait)
        except queue.Empty:
            raise TimeoutError(f"no registry connection free within {self.wait:.0f} s") from None

    @contextmanager
    def connection(self) -> Iterator:
        raw = self._take()
        ok = False
        try:
            yield raw
            ok = True
        finally:
            if ok:
                self._idle.put(raw)
            else:  # a failed connection is not reused; its place can be taken by a new one
                with self._lock:
                    self._open -= 1
                try:
                    raw.close()
                except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
                    pass

    def source(self, raw) -> "SqlSource":  # noqa: ANN001
        return SqlSource(self, raw)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
            with self._lock:
                self._open -= 1


def _person(row, offset: int) -> PersonRow:  # noqa: ANN001
    pid, birth, sex = row[offset : offset + _NP]
    return PersonRow(pid, "", "", birth, sex)  # name, address and DV flag: on each qualification


def _qualifications(rows, offset: int) -> dict:  # noqa: ANN001
    """The qualifications in `rows` (one row per qualification and certificate), by id."""
    found: dict = {}
    for row in rows:
        v = row[offset : offset + _NQ]
        if v[0] is None:
            continue
        entry = found.get(v[0])
        if entry is None:
            entry = found[v[0]] = (v, {})
        d = row[offset + _NQ : offset + _NQ + len(_D_COLS)]
        if d[0] is not None:
            entry[1][d[0]] = DocumentRow(*d)
    return {
        qid: QualificationRow(
            id=v[0], insurer_number=v[1], symbol=v[2], number=v[3], branch=v[4], relation=v[5], start=v[6], end=v[7],
            registered=v[8], insurer_name=v[9] or "", insured_name=v[10], card_classification=v[11], loss_reason=v[12],
            income=v[13], kouki_ratio=v[14], limit_category=v[15], limit_start=v[16], limit_end=v[17], limit_issued=v[18],
            name=v[19], kana=v[20], address=v[21], postcode=v[22], dv_flag=bool(v[23]),
            documents=tuple(docs.values()),
        )
        for qid, (v, docs) in found.items()
    }


class SqlSource:
    """The registry as a lookup source (see lookup.Source), on one raw connection."""

    def __init__(self, reader: Reader, raw):  # noqa: ANN001
        self.reader, self.raw = reader, raw

    def by_card(self, serial: str) -> tuple[CardRow, PersonRecord] | None:
        rows = self.reader.card.run(self.raw, {"serial": serial})
        if not rows:
            return None
        first = rows[0]
        quals = tuple(_qualifications(rows, _NC + _NP).values())
        return CardRow(*first[:_NC]), PersonRecord(_person(first, _NC), quals)

    def by_numbers(self, insurer_number: str, symbol: str | None, number: str, branch: str | None, birth_date: dt.date) -> list[PersonRecord]:
        params = {"insurer": insurer_number, "number": number, "birth": birth_date}
        if symbol is not None:
            params["symbol"] = symbol
        if branch is not None:
            params["branch"] = branch
        return self._records(self.reader.numbers[(symbol is not None, branch is not None)].run(self.raw, params))

    def by_qualification(self, qualification_id: int) -> list[PersonRecord]:
        """The person holding that qualification, with it as the match (as by_numbers)."""
        return self._records(self.reader.qualification.run(self.raw, {"qualification": qualification_id}))

    @staticmethod
    def _records(rows: list) -> list[PersonRecord]:
        people: dict = {}
        for r in rows:
            entry = people.setdefault(r[1], (_person(r, 1), [], set()))
            entry[1].append(r)
            entry[2].add(r[0])
        out = []
        for p, person_rows, matched in people.values():
            quals = _qualifications(person_rows, 1 + _NP)
            out.append(PersonRecord(p, tuple(quals.values()), tuple(q for qid, q in quals.items() if qid in matched)))
        return out

    def insurer_exists(self, insurer_number: str) -> bool:
        return bool(self.reader.insurer.run(self.raw, {"insurer": insurer_number}))
