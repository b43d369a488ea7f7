"""The registry as the interfaces use it: authentication, lookups with their audit trail,
and the insurer operations."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from sqlalchemy import Engine, desc, select

from .. import config
from ..domain import charset, numbers
from ..domain.card import CardPolicy
from ..domain.dates import parse_date
from ..domain.errors import InputError, Unauthorized, collect
from ..domain.frozen import quick_init
from ..policy import load_policy
from . import operations
from .audit import Verification, VerificationLog
from .lookup import LookupResult, evaluate_card, evaluate_numbers
from .schema import facility, verification
from .security import api_key_hash
from .store import Reader

if TYPE_CHECKING:
    from .aio import AsyncLookups

VERIFICATION_METHODS = ("my_number_card", "smartphone")
# Who a key speaks for: a facility looks up, an insurer writes for its members, a reviewer (審査支払機関)
# reviews claims, an analyst reads every statistic and what-if (stats/).
ROLES = ("facility", "insurer", "reviewer", "analyst")


def _clock() -> float:  # the clock of the key and facility caches (tests move it)
    return time.monotonic()


@dataclass(frozen=True)
class Principal:
    role: str  # facility | insurer | reviewer | analyst (ROLES)
    subject: str  # facility code | insurer number | payer (reviewer) | "all" (analyst)
    label: str = ""


@quick_init  # one per number inquiry, on the hot path
@dataclass(frozen=True)
class NumberQuery:
    insurer_number: str
    symbol: str | None
    number: str
    branch: str | None
    birth_date: dt.date


def parse_number_query(insurer_number: object, symbol: object, number: object, branch: object, birth_date: object) -> NumberQuery:
    """Validate the 被保険者番号等 of a number inquiry, naming each bad field."""
    try:  # the usual case, every field good: no closures (a lookup's hot path)
        return NumberQuery(
            numbers.parse_insurer_number(insurer_number).value, numbers.normalise_symbol(symbol) or None,
            numbers.normalise_member_number(number), numbers.normalise_branch(branch) or None, parse_date(birth_date, "birth_date"))
    except InputError:
        pass  # checked again field by field, to name every bad one
    out: dict = {}

    def put(key, fn):  # noqa: ANN001, ANN202
        def check():  # noqa: ANN202
            out[key] = fn()
        return check

    collect(
        put("insurer_number", lambda: numbers.parse_insurer_number(insurer_number).value),
        put("symbol", lambda: numbers.normalise_symbol(symbol) or None),
        put("number", lambda: numbers.normalise_member_number(number)),
        put("branch", lambda: numbers.normalise_branch(branch) or None),
        put("birth_date", lambda: parse_date(birth_date, "birth_date")),
    )
    return NumberQuery(**out)


def _unknown_insurer(query: NumberQuery) -> InputError:
    return InputError("insurer_number", f"unknown insurer {query.insurer_number}")


class Registry:
    """One per process. Thread-safe."""

    def __init__(
        self,
        engine: Engine,
        *,
        buffered_log: bool = False,
        card_policy: Callable[[dt.date], CardPolicy] | None = None,
        repertoire: str | None = None,
    ):
        self.engine = engine
        # Reads without a transaction: no BEGIN/ROLLBACK round trips around a single SELECT.
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.reader = Reader(engine)
        self.log = VerificationLog(engine, buffered=buffered_log)
        # R-B2/R-B3 from the policy data in force that day (read once per day and process).
        self.card_policy = card_policy or functools.lru_cache(maxsize=64)(lambda day: load_policy().at(day).card)
        self.repertoire = repertoire or charset.default_repertoire()
        self._keys: dict[str, tuple[float, Principal]] = {}
        self._keys_lock = threading.Lock()
        self._facilities: dict[str, tuple[float, dict | None]] = {}

    # ------------------------------------------------------------ access

    KEY_TTL = 5.0  # seconds a key is trusted without re-reading it: a revocation reaches every worker within this

    def authenticate(self, key: str | None) -> Principal:
        digest = self._digest(key)
        return self._cached_principal(digest) or self._principal(digest, self._key_row(digest))

    async def authenticate_async(self, key: str | None) -> Principal:
        """`authenticate` on the event loop (see start_async)."""
        digest = self._digest(key)
        return self._cached_principal(digest) or self._principal(digest, await self.aio.key_row(digest))

    def principal_of(self, digest: str) -> Principal:
        """The principal of a key by its digest (a revoked or unknown key: Unauthorized)."""
        return self._cached_principal(digest) or self._principal(digest, self._key_row(digest))

    @staticmethod
    def _digest(key: str | None) -> str:
        if not key:
            raise Unauthorized("X-API-Key", "an API key is required")
        if len(key) > 200:
            raise Unauthorized("X-API-Key", "unknown API key")
        return api_key_hash(key)

    def _cached_principal(self, digest: str) -> Principal | None:
        cached = self._keys.get(digest)
        if cached is not None and _clock() - cached[0] < self.KEY_TTL:
            return cached[1]
        return None

    def _key_row(self, digest: str) -> tuple | None:
        with self.reader.connection() as raw:
            rows = self.reader.key.run(raw, {"digest": digest})
        return rows[0] if rows else None

    def _principal(self, digest: str, row: tuple | None) -> Principal:
        """The key's row (role, subject, label) as read now: remembered for KEY_TTL seconds."""
        if row is None:
            with self._keys_lock:
                self._keys.pop(digest, None)
            raise Unauthorized("X-API-Key", "unknown API key")
        found = Principal(*row)
        with self._keys_lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = (_clock(), found)
        return found

    def forget_key(self, digest: str) -> None:
        """Drop a key from this process's cache at once (after revoking it here)."""
        with self._keys_lock:
            self._keys.pop(digest, None)

    FACILITY_TTL = 60.0  # seconds a facility's row (name, online, smartphone…) is reused

    def facility(self, code: str) -> dict | None:
        cached = self._facilities.get(code)
        if cached is not None and time.monotonic() - cached[0] < self.FACILITY_TTL:
            return cached[1]
        with self.autocommit.connect() as conn:
            row = conn.execute(select(facility).where(facility.c.code == code)).mappings().first()
        found = {str(k): v for k, v in row.items()} if row else None
        self._facilities[code] = (time.monotonic(), found)
        return found

    # ------------------------------------------------------------ lookups (RULES F.1)

    def lookup_by_card(
        self,
        facility_code: str,
        serial: str,
        *,
        identity: str = "face",
        day: dt.date | None = None,
        limit_consent: bool = False,
        method: str = "my_number_card",
        channel: str = "api",
    ) -> LookupResult:
        serial, day = self._card_query(serial, method, day)
        with self.reader.connection() as raw:
            found = self.reader.source(raw).by_card(serial)
        result = self._card_result(found, day, identity, limit_consent)
        self.log.record(self._verification(facility_code, result, method, identity, channel))
        return result

    def lookup_by_numbers(
        self,
        facility_code: str,
        query: NumberQuery,
        *,
        day: dt.date | None = None,
        limit_consent: bool = False,
        channel: str = "api",
    ) -> LookupResult:
        day = day or config.today()
        with self.reader.connection() as raw:
            source = self.reader.source(raw)
            records = source.by_numbers(query.insurer_number, query.symbol, query.number, query.branch, query.birth_date)
            if not records and not source.insurer_exists(query.insurer_number):
                raise _unknown_insurer(query)
        result = evaluate_numbers(records, day, limit_consent=limit_consent, repertoire=self.repertoire)
        self.log.record(self._verification(facility_code, result, "number_inquiry", None, channel))
        return result

    # The same lookups on the server's event loop (PostgreSQL, aio.py): the same checks, the
    # same evaluation and log entry; the rows and the log's group commit are awaited.

    async def lookup_by_card_async(
        self, facility_code: str, serial: str, *, identity: str = "face", day: dt.date | None = None, limit_consent: bool = False,
        method: str = "my_number_card", channel: str = "api",
    ) -> LookupResult:
        serial, day = self._card_query(serial, method, day)
        result = self._card_result(await self.aio.by_card(serial), day, identity, limit_consent)
        await self.aio.record(self._verification(facility_code, result, method, identity, channel))
        return result

    async def lookup_by_numbers_async(
        self, facility_code: str, query: NumberQuery, *, day: dt.date | None = None, limit_consent: bool = False, channel: str = "api",
    ) -> LookupResult:
        day = day or config.today()
        aio = self.aio
        records = await aio.by_numbers(query.insurer_number, query.symbol, query.number, query.branch, query.birth_date)
        if not records and not await aio.insurer_exists(query.insurer_number):
            raise _unknown_insurer(query)
        result = evaluate_numbers(records, day, limit_consent=limit_consent, repertoire=self.repertoire)
        await aio.record(self._verification(facility_code, result, "number_inquiry", None, channel))
        return result

    @staticmethod
    def _card_query(serial: str, method: str, day: dt.date | None) -> tuple[str, dt.date]:
        if method not in VERIFICATION_METHODS:
            raise InputError("method", f"must be one of {', '.join(VERIFICATION_METHODS)}")
        serial = (serial or "").strip().upper()
        if not serial or len(serial) > 16:
            raise InputError("card_serial", "must be 1–16 characters")
        return serial, day or config.today()

    def _card_result(self, found, day: dt.date, identity: str, limit_consent: bool) -> LookupResult:  # noqa: ANN001
        return evaluate_card(found, day, identity=identity, limit_consent=limit_consent, policy=self.card_policy(day), repertoire=self.repertoire)

    def lookup_verified_qualification(
        self, facility_code: str, qualification_id: int, *, day: dt.date | None = None, channel: str = "fhir"
    ) -> LookupResult | None:
        """One qualification as a number inquiry would return it — only for a facility whose
        verification log holds that person (None otherwise, as for an unknown id: nothing is
        revealed). 限度額 data when the patient consented at that facility's latest
        verification. Logged like every lookup."""
        day = day or config.today()
        with self.reader.connection() as raw:
            records = self.reader.source(raw).by_qualification(qualification_id)
        if not records:
            return None
        self.log.flush()
        with self.autocommit.connect() as conn:
            latest = conn.execute(
                select(verification.c.limit_consent)
                .where(verification.c.facility_code == facility_code, verification.c.person_id == records[0].person.id)
                .order_by(desc(verification.c.at), desc(verification.c.id))
                .limit(1)
            ).first()
        if latest is None:
            return None
        result = evaluate_numbers(records, day, limit_consent=bool(latest.limit_consent), repertoire=self.repertoire)
        self.log.record(self._verification(facility_code, result, "number_inquiry", None, channel))
        return result

    @staticmethod
    def _verification(facility_code: str, result: LookupResult, method: str, identity: str | None, channel: str) -> Verification:
        return Verification(
            facility_code=facility_code,
            at=config.now(),
            as_of=result.as_of,
            method=method,
            identity=identity,
            result=result.validity.value if result.validity else "error",
            error=result.error,
            person_id=result.person_id,
            qualification_id=result.qualification.id if result.qualification else None,
            channel=channel,
            limit_consent=result.limit_consent,
        )

    # ------------------------------------------------------------ the event loop (aio.py)

    aio: "AsyncLookups | None" = None

    async def start_async(self) -> None:
        """Answer lookups on the running event loop from now on (PostgreSQL; the application's
        lifespan calls this on the server's loop). Nothing on SQLite: its lookups stay threaded."""
        if self.engine.dialect.name != "postgresql" or self.aio is not None:
            return
        from .aio import AsyncLookups

        self.aio = AsyncLookups(self.engine, self.reader, wait=self.log.wait)

    def async_here(self) -> bool:
        """Whether the lookups may be awaited here: started, and on this very loop."""
        aio = self.aio
        if aio is None:
            return False
        try:
            return asyncio.get_running_loop() is aio.loop
        except RuntimeError:
            return False

    def async_on(self, loop: asyncio.AbstractEventLoop) -> bool:
        """`async_here` for a caller that knows its loop (the server's protocol): without
        asking asyncio, whose get_running_loop costs a getpid system call on Python 3.11."""
        aio = self.aio
        return aio is not None and aio.loop is loop

    async def stop_async(self) -> None:
        aio, self.aio = self.aio, None
        if aio is not None:
            await aio.close()

    # ------------------------------------------------------------ insurer operations

    def operate(self, insurer_number: str, kind: str, data: object) -> operations.OperationResult:
        return operations.run(self.engine, insurer_number, kind, data)

    def compliance(self, insurer_number: str, since: dt.date | None = None) -> dict:
        return operations.compliance(self.engine, insurer_number, since)

    def close(self) -> None:
        self.log.close()
        self.reader.close()
