"""The database source of lookups: one indexed query per lookup.

The statements are SQLAlchemy Core (so they follow the schema), compiled once per dialect
and run on raw DB-API connections in autocommit mode: no ORM, no BEGIN/ROLLBACK round
trips, and psycopg prepares them server-side after a few executions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import queue
import re
import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import ARRAY, Boolean, Date, Engine, Integer, String, and_, bindparam, cast, func, literal_column, or_, select, union_all

from .lookup import CERTIFICATE_KINDS, CardRow, DocumentRow, PersonRecord, PersonRow, QualificationRow
from .schema import api_key, card, document, insurer, person, qualification

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

def _by_card(condition):  # noqa: ANN001, ANN202
    return (
        select(*_C_COLS, *_P_COLS, *_Q_COLS, *_D_COLS)
        .select_from(
            card.join(person, person.c.id == card.c.person_id)
            .outerjoin(_q, _q.c.person_id == person.c.id)
            .outerjoin(insurer, insurer.c.number == _q.c.insurer_number)
            .outerjoin(_d, _D_JOIN)
        )
        .where(condition)
    )


CARD_QUERY = _by_card(card.c.serial == bindparam("serial"))


def _by_matched(*conditions, keys=None):  # noqa: ANN001, ANN202
    """The person of the qualifications `_m` meeting `conditions`, with all their qualifications
    (`keys`: a batch's table of inquiries, whose `ord` — the inquiry's place in the batch —
    leads each row)."""
    return (
        select(*(() if keys is None else (keys.c.ord,)), _m.c.id, *_P_COLS, *_Q_COLS, *_D_COLS)
        .select_from(
            *(() if keys is None else (keys,)),
            _m.join(person, person.c.id == _m.c.person_id)
            .join(_q, _q.c.person_id == person.c.id)
            .outerjoin(insurer, insurer.c.number == _q.c.insurer_number)
            .outerjoin(_d, _D_JOIN),
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
# The principal of an API key by its digest (a revoked key has none).
KEY_QUERY = select(api_key.c.role, api_key.c.subject, api_key.c.label).where(api_key.c.key_hash == bindparam("digest"), api_key.c.revoked_at.is_(None))


# PostgreSQL, the event loop's batches (aio.py): the lookups that arrive together, in one
# statement — the same joins, one index probe per lookup, one round trip for them all.
def _array(name: str, column):  # noqa: ANN001, ANN202
    # Text without the column's length: a cast to VARCHAR(n) would cut a longer value and match.
    return cast(bindparam(name), ARRAY(String() if isinstance(column.type, String) else column.type))


CARD_BATCH = _by_card(card.c.serial == func.any(_array("serials", card.c.serial)))  # rows lead with the serial

# The four kinds of number inquiry: with or without 記号, with or without 枝番 (each compares
# the columns of ix_qualification_numbers it was given, so each keeps its index probe).
NUMBER_VARIANTS = tuple((s, b) for s in (False, True) for b in (False, True))


def variant_tag(variant: tuple[bool, bool]) -> str:
    """The suffix of a variant's parameters in a batch (`insurers_11`…)."""
    return f"{int(variant[0])}{int(variant[1])}"


def _numbers_batch(with_symbol: bool, with_branch: bool):  # noqa: ANN202
    """NUMBERS_QUERIES[with_symbol, with_branch] for the inquiries of a batch of that variant:
    the same equalities (the index's columns), one inquiry a row of `k`; rows lead with the
    inquiry's place in the whole batch (`ords_…`, 1-based)."""
    tag = variant_tag((with_symbol, with_branch))
    arrays = {"ord": cast(bindparam(f"ords_{tag}"), ARRAY(Integer())), "insurer": _array(f"insurers_{tag}", _m.c.insurer_number),
              "number": _array(f"numbers_{tag}", _m.c.number), "birth": _array(f"births_{tag}", person.c.birth_date)}
    if with_symbol:
        arrays["symbol"] = _array(f"symbols_{tag}", _m.c.symbol)
    if with_branch:
        arrays["branch"] = _array(f"branches_{tag}", _m.c.branch)
    k = func.unnest(*arrays.values()).table_valued(*arrays).render_derived(name=f"k{tag}")
    conditions = [_m.c.insurer_number == k.c.insurer, _m.c.number == k.c.number, person.c.birth_date == k.c.birth]
    if with_symbol:
        conditions.append(_m.c.symbol == k.c.symbol)
    if with_branch:
        conditions.append(_m.c.branch == k.c.branch)
    return _by_matched(*conditions, keys=k)


def numbers_batch(variants: tuple[tuple[bool, bool], ...]):  # noqa: ANN201
    """One statement for the number inquiries of a batch, whatever their variants: each
    variant's query over its own arrays, UNION ALL. Before, each variant was a statement of
    its own, and a turn of the loop with two kinds of inquiry cost two round trips (0.39
    statements a lookup by numbers against 0.27 by card, `strace -c` on the worker)."""
    parts = [_numbers_batch(*v) for v in variants]
    return parts[0] if len(parts) == 1 else union_all(*parts)


KEY_BATCH = select(api_key.c.key_hash, api_key.c.role, api_key.c.subject, api_key.c.label).where(
    api_key.c.key_hash == func.any(_array("digests", api_key.c.key_hash)), api_key.c.revoked_at.is_(None))


class _Compiled:
    """A statement compiled for one dialect, with what it takes to run it on a raw cursor."""

    def __init__(self, statement, engine: Engine):  # noqa: ANN001
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        # The same with every parameter sent in binary (psycopg's %(name)b): the event loop's
        # batches pass arrays, which psycopg's text dumper quotes element by element in Python
        # (a regular expression per element); binary, a batch of number inquiries is dumped in
        # about two thirds of the time (aio.py).
        self.binary_sql = re.sub(r"%\((\w+)\)s", r"%(\1)b", self.sql) if engine.dialect.name == "postgresql" else self.sql
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
        self.key = _Compiled(KEY_QUERY, engine)
        if engine.dialect.name == "postgresql":  # the event loop's batches (aio.py)
            self.card_batch, self.key_batch = _Compiled(CARD_BATCH, engine), _Compiled(KEY_BATCH, engine)
            self._numbers_batches: dict[tuple, _Compiled] = {}  # by the variants a batch holds (numbers_batch)

    def numbers_batch(self, variants: tuple[tuple[bool, bool], ...]) -> _Compiled:
        """The batch statement for inquiries of these variants (sorted), compiled when first met."""
        compiled = self._numbers_batches.get(variants)
        if compiled is None:
            compiled = self._numbers_batches[variants] = _Compiled(numbers_batch(variants), self.engine)
        return compiled

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


# QualificationRow is built positionally from a row (about a third quicker than by keyword on
# the lookups' hot path): its fields must come in the order of _Q_COLS, with the documents
# after limit_issued. Checked here, at import, rather than trusted.
_Q_FIELDS = ("id", "insurer_number", "symbol", "number", "branch", "relation", "start", "end", "registered", "insurer_name",
             "insured_name", "card_classification", "loss_reason", "income", "kouki_ratio", "limit_category", "limit_start",
             "limit_end", "limit_issued", "documents", "name", "kana", "address", "postcode", "dv_flag")
if tuple(f.name for f in dataclasses.fields(QualificationRow)) != _Q_FIELDS or len(_Q_FIELDS) != _NQ + 1:
    raise RuntimeError("QualificationRow's fields moved: store._qualifications builds it from the row's columns in order")
_ND = len(_D_COLS)


def _qualifications(rows, offset: int) -> dict:  # noqa: ANN001
    """The qualifications in `rows` (one row per qualification and certificate), by id."""
    found: dict = {}
    docs_at = offset + _NQ
    for row in rows:
        qid = row[offset]
        if qid is None:
            continue
        entry = found.get(qid)
        if entry is None:
            entry = found[qid] = (row[offset:docs_at], {})
        if row[docs_at] is not None:
            entry[1][row[docs_at]] = DocumentRow(*row[docs_at : docs_at + _ND])
    return {
        qid: QualificationRow(*v[:9], v[9] or "", *v[10:19], tuple(docs.values()), *v[19:23], bool(v[23]))
        for qid, (v, docs) in found.items()
    }


def card_found(rows: list) -> tuple[CardRow, PersonRecord] | None:
    """The card and its person from the rows of CARD_QUERY (None: no such card)."""
    if not rows:
        return None
    first = rows[0]
    quals = tuple(_qualifications(rows, _NC + _NP).values())
    return CardRow(*first[:_NC]), PersonRecord(_person(first, _NC), quals)


def matched_records(rows: list, start: int = 0) -> list[PersonRecord]:
    """The persons of the rows of a numbers or qualification query, each with the
    qualifications that matched (`start`: the columns before the matched id, a batch's)."""
    people: dict = {}
    for r in rows:
        entry = people.get(r[start + 1])
        if entry is None:
            entry = people[r[start + 1]] = (_person(r, start + 1), [], set())
        entry[1].append(r)
        entry[2].add(r[start])
    out = []
    for p, person_rows, matched in people.values():
        quals = _qualifications(person_rows, start + 1 + _NP)
        out.append(PersonRecord(p, tuple(quals.values()), tuple(q for qid, q in quals.items() if qid in matched)))
    return out


def numbers_params(insurer_number: str, symbol: str | None, number: str, branch: str | None, birth_date: dt.date) -> tuple[tuple[bool, bool], dict]:
    """(the key of the NUMBERS_QUERIES variant, its parameters) of a number inquiry."""
    params = {"insurer": insurer_number, "number": number, "birth": birth_date}
    if symbol is not None:
        params["symbol"] = symbol
    if branch is not None:
        params["branch"] = branch
    return (symbol is not None, branch is not None), params


class SqlSource:
    """The registry as a lookup source (see lookup.Source), on one raw connection."""

    def __init__(self, reader: Reader, raw):  # noqa: ANN001
        self.reader, self.raw = reader, raw

    def by_card(self, serial: str) -> tuple[CardRow, PersonRecord] | None:
        return card_found(self.reader.card.run(self.raw, {"serial": serial}))

    def by_numbers(self, insurer_number: str, symbol: str | None, number: str, branch: str | None, birth_date: dt.date) -> list[PersonRecord]:
        variant, params = numbers_params(insurer_number, symbol, number, branch, birth_date)
        return matched_records(self.reader.numbers[variant].run(self.raw, params))

    def by_qualification(self, qualification_id: int) -> list[PersonRecord]:
        """The person holding that qualification, with it as the match (as by_numbers)."""
        return matched_records(self.reader.qualification.run(self.raw, {"qualification": qualification_id}))

    def insurer_exists(self, insurer_number: str) -> bool:
        return bool(self.reader.insurer.run(self.raw, {"insurer": insurer_number}))
