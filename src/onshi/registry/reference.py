"""照会番号 (a facility's own patient number) and bulk requests of the facility interface.

- `ReferenceNumbers`: a facility registers (照会番号, 保険者番号, 記号, 番号, 枝番); results for
  that facility then carry the 照会番号 when the returned qualification's numbers match.
  It is never a lookup key.
- `BulkRequests`: a bulk inquiry or bulk registration as received, its processing state and,
  once processed, its answer, so that the second round trip (by 受付番号) survives a restart.
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata
from dataclasses import dataclass

import orjson
from sqlalchemy import Engine, and_, bindparam, insert, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import config
from ..domain import numbers
from ..domain.errors import InputError, collect
from .schema import bulk_request, reference_number
from .store import Reader, _Compiled

REFERENCE_NUMBER_MAX = 50


# ---------------------------------------------------------------- 照会番号


@dataclass(frozen=True)
class ReferenceEntry:
    reference_number: str
    insurer_number: str  # normalised (6 or 8 digits)
    symbol: str
    number: str
    branch: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.insurer_number, self.symbol, self.number, self.branch)


def parse_reference_entry(reference: object, insurer_number: object, symbol: object, number: object, branch: object) -> ReferenceEntry:
    """Validate one registration, naming each bad field (reference_number, insurer_number,
    symbol, number, branch). Numbers are normalised as lookups normalise them."""
    out: dict = {}

    def put(key, fn):  # noqa: ANN001, ANN202
        def check():  # noqa: ANN202
            out[key] = fn()
        return check

    def ref() -> str:
        text = unicodedata.normalize("NFKC", str(reference or "")).strip()
        if not text:
            raise InputError("reference_number", "is required")
        if len(text) > REFERENCE_NUMBER_MAX:
            raise InputError("reference_number", f"is longer than {REFERENCE_NUMBER_MAX} characters")
        if any(unicodedata.category(c).startswith("C") for c in text):
            raise InputError("reference_number", "contains control characters")
        return text

    collect(
        put("reference_number", ref),
        put("insurer_number", lambda: numbers.parse_insurer_number(insurer_number).value),
        put("symbol", lambda: numbers.normalise_symbol(symbol)),
        put("number", lambda: numbers.normalise_member_number(number)),
        put("branch", lambda: numbers.normalise_branch(branch)),
    )
    return ReferenceEntry(**out)


class ReferenceIndex:
    """A facility's 照会番号 by 被保険者番号等, for answering many results at once."""

    def __init__(self, rows: list[tuple[str, str, str, str, str]]):
        self._exact: dict[tuple[str, str, str, str], str] = {}
        self._no_branch: dict[tuple[str, str, str], str] = {}
        for ref, insurer, symbol, number, branch in rows:
            self._exact[(insurer, symbol, number, branch)] = ref
            if not branch:
                self._no_branch[(insurer, symbol, number)] = ref

    def find(self, insurer: str, symbol: str, number: str, branch: str) -> str | None:
        """Exact numbers first; a registration without 枝番 matches any 枝番."""
        return self._exact.get((insurer, symbol or "", number, branch or "")) or self._no_branch.get((insurer, symbol or "", number))

    def __len__(self) -> int:
        return len(self._exact)


def _upsert(engine: Engine):  # noqa: ANN202
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(reference_number)
    return stmt.on_conflict_do_update(
        index_elements=["facility_code", "insurer_number", "number", "symbol", "branch"],
        set_={"reference_number": stmt.excluded.reference_number, "registered_at": stmt.excluded.registered_at},
    )


_R = reference_number.c
FIND_QUERY = select(_R.reference_number, _R.insurer_number, _R.symbol, _R.number, _R.branch).where(
    _R.facility_code == bindparam("facility"), _R.insurer_number == bindparam("insurer"), _R.number == bindparam("number"),
    _R.symbol == bindparam("symbol"), or_(_R.branch == bindparam("branch"), _R.branch == literal_column("''")),
)


class ReferenceNumbers:
    """`reader`: the registry's lookup connections — `find` is on the path of every result,
    so it runs as one precompiled query on them (store.py) rather than through a session."""

    def __init__(self, engine: Engine, reader: Reader | None = None):
        self.engine = engine
        self.reader = reader
        self._find = _Compiled(FIND_QUERY, engine) if reader is not None else None

    def register(self, facility_code: str, entries: list[ReferenceEntry]) -> int:
        """Store (or replace) the 照会番号 of each entry, atomically. Returns the count."""
        if not entries:
            return 0
        now = config.now()
        rows = [
            dict(facility_code=facility_code, reference_number=e.reference_number, insurer_number=e.insurer_number,
                 symbol=e.symbol, number=e.number, branch=e.branch, registered_at=now)
            for e in {e.key: e for e in entries}.values()  # the last registration of the same numbers wins
        ]
        with self.engine.begin() as conn:
            for i in range(0, len(rows), 1000):
                conn.execute(_upsert(self.engine), rows[i:i + 1000])
        return len(rows)

    def find(self, facility_code: str, insurer: str, symbol: str, number: str, branch: str) -> str | None:
        params = {"facility": facility_code, "insurer": insurer, "number": number, "symbol": symbol or "", "branch": branch or ""}
        if self.reader is not None:
            with self.reader.connection() as raw:
                rows = self._find.run(raw, params)
        else:
            with self.engine.connect() as conn:
                rows = conn.execute(FIND_QUERY, params).all()
        return ReferenceIndex([tuple(x) for x in rows]).find(insurer, symbol, number, branch)

    def index(self, facility_code: str) -> ReferenceIndex:
        r = reference_number.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(r.reference_number, r.insurer_number, r.symbol, r.number, r.branch).where(r.facility_code == facility_code)).all()
        return ReferenceIndex([tuple(x) for x in rows])


# ---------------------------------------------------------------- bulk requests

RECEIVED, PROCESSING, DONE, FAILED = "received", "processing", "done", "failed"
KINDS = ("inquiry", "registration")


@dataclass(frozen=True)
class BulkRequest:
    reception_number: str
    facility_code: str
    kind: str
    status: str
    as_of: dt.date | None
    entries: int
    request: dict
    result: str | None
    normal: int | None
    errors: int | None


def new_reception_number() -> str:
    """受付番号: yyyyMMddHHmmss (JST) and 6 random digits — not guessable by another facility."""
    now = config.now().astimezone(config.JST)
    return now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}"


def _row(r) -> BulkRequest:  # noqa: ANN001
    as_of = r.as_of
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    return BulkRequest(r.reception_number, r.facility_code, r.kind, r.status, as_of, r.entries, orjson.loads(r.request), r.result, r.normal, r.errors)


class BulkRequests:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, facility_code: str, kind: str, request: dict, entries: int, as_of: dt.date | None = None) -> str:
        if kind not in KINDS:
            raise ValueError(kind)
        reception = new_reception_number()
        with self.engine.begin() as conn:
            conn.execute(
                insert(bulk_request).values(
                    reception_number=reception, facility_code=facility_code, kind=kind, status=RECEIVED, as_of=as_of,
                    entries=entries, request=orjson.dumps(request).decode(), received_at=config.now(),
                )
            )
        return reception

    def get(self, reception_number: str, facility_code: str) -> BulkRequest | None:
        """The request, only for the facility that sent it."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(bulk_request).where(bulk_request.c.reception_number == reception_number, bulk_request.c.facility_code == facility_code)
            ).first()
        return _row(r) if r else None

    def claim(self, *, stale_after: dt.timedelta = dt.timedelta(minutes=10)) -> BulkRequest | None:
        """Take the oldest request waiting to be processed (or one whose processor died:
        claimed longer ago than `stale_after`). Safe when several processes poll."""
        c = bulk_request.c
        now = config.now()
        waiting = or_(c.status == RECEIVED, and_(c.status == PROCESSING, c.claimed_at < now - stale_after))
        with self.engine.connect() as conn:
            candidates = conn.execute(select(c.reception_number, c.status, c.claimed_at).where(waiting).order_by(c.received_at).limit(5)).all()
        for reception, status, claimed_at in candidates:
            with self.engine.begin() as conn:
                same_claim = c.claimed_at.is_(None) if claimed_at is None else c.claimed_at == claimed_at
                done = conn.execute(
                    update(bulk_request).where(c.reception_number == reception, c.status == status, same_claim).values(status=PROCESSING, claimed_at=now)
                ).rowcount
                if done == 1:
                    r = conn.execute(select(bulk_request).where(c.reception_number == reception)).first()
                    return _row(r)
        return None

    def finish(self, reception_number: str, result: str, normal: int, errors: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(bulk_request).where(bulk_request.c.reception_number == reception_number).values(
                    status=DONE, result=result, normal=normal, errors=errors, finished_at=config.now()
                )
            )

    def fail(self, reception_number: str) -> None:
        """Processing raised: the second round trip answers with an error rather than 処理中 forever."""
        with self.engine.begin() as conn:
            conn.execute(update(bulk_request).where(bulk_request.c.reception_number == reception_number).values(status=FAILED, finished_at=config.now()))

    def pending(self) -> int:
        c = bulk_request.c
        with self.engine.connect() as conn:
            return len(conn.execute(select(c.reception_number).where(c.status.in_((RECEIVED, PROCESSING)))).all())
