"""The append-only verification log: every lookup, with facility, time, method and result.

An answered lookup is logged: `record` returns only once its entry is committed, so a crash
(kill -9, power) can lose a lookup only together with its answer. On the server the entries
are written by a background thread with group commit: every lookup that arrives while one
batch is being committed goes into the next batch, so under load one commit covers many
lookups and each waits at most about two commits. Database triggers refuse UPDATE, DELETE
and (PostgreSQL) TRUNCATE on the table.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import Engine, insert, select

from .. import config
from ..domain.errors import ServiceError
from ..domain.frozen import quick_init
from .schema import verification


class LogUnavailable(ServiceError):
    """The entry could not be committed: the lookup is not answered (an answer needs its log)."""

    status = 503
    title = "Service unavailable"


class _Batch:
    """Entries committed together, and the event their lookups wait on."""

    __slots__ = ("rows", "done", "error")

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.done = threading.Event()
        self.error: BaseException | None = None


@quick_init  # one per lookup, on the hot path
@dataclass(frozen=True)
class Verification:
    facility_code: str
    at: dt.datetime
    as_of: dt.date
    method: str  # my_number_card | smartphone | number_inquiry
    identity: str | None
    result: str  # valid invalid invalid_new not_found multiple error
    error: str | None
    person_id: int | None
    qualification_id: int | None
    channel: str
    limit_consent: bool = False  # the patient consented to 限度額 data at this verification


class VerificationLog:
    def __init__(self, engine: Engine, *, buffered: bool = False, idle: float = 1.0, wait: float = 30.0):
        self.engine = engine
        self.buffered = buffered
        self.idle = idle  # the writer's sleep when nothing arrives
        self.wait = wait  # how long a lookup waits for its commit before it is refused (503)
        self._batch = _Batch()
        self._lock = threading.Lock()  # guards _batch
        self._writing = threading.Lock()  # one commit at a time (the thread, flush, close)
        self._wake = threading.Event()
        self._stop = False
        self._deferred = threading.local()  # the batches a `deferred()` block waits for at its end
        self._thread: threading.Thread | None = None
        if buffered:
            self._thread = threading.Thread(target=self._run, name="verification-log", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def record(self, entry: Verification) -> None:
        """Log one lookup; returns once the entry is committed (raises LogUnavailable if not)."""
        row = dict(entry.__dict__)  # not dataclasses.asdict: it deep-copies, and this is the hot path
        if not self.buffered:
            with self.engine.begin() as conn:
                conn.execute(insert(verification), [row])
            return
        with self._lock:
            batch = self._batch
            batch.rows.append(row)
        self._wake.set()
        pending = getattr(self._deferred, "batches", None)
        if pending is not None:
            pending[id(batch)] = batch
            return
        self._wait(batch)

    def _wait(self, batch: _Batch) -> None:
        if not batch.done.wait(self.wait):
            raise LogUnavailable("verification", "the verification log did not answer in time: the lookup is not answered")
        if batch.error is not None:
            raise LogUnavailable("verification", "the verification log could not be written: the lookup is not answered")

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Many lookups answered together (a bulk inquiry): their entries are committed in
        groups as usual, and the block waits for all of them at its end, before the answer is
        stored — instead of one commit wait per lookup."""
        if not self.buffered or getattr(self._deferred, "batches", None) is not None:
            yield
            return
        self._deferred.batches = {}
        try:
            yield
        finally:
            batches, self._deferred.batches = self._deferred.batches, None
        for batch in batches.values():
            self._wait(batch)

    def flush(self) -> int:
        """Commit what is waiting now and release the lookups that wait on it."""
        with self._writing:
            with self._lock:
                batch, self._batch = self._batch, _Batch()
            try:
                if batch.rows:
                    with self.engine.begin() as conn:
                        conn.execute(insert(verification), batch.rows)
            except Exception as exc:  # noqa: BLE001 - any failure refuses the waiting lookups (503), the writer goes on
                batch.error = exc
            finally:
                batch.done.set()
        return len(batch.rows)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.idle)
            self._wake.clear()
            self.flush()  # what arrived during the previous commit: the next group

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None and self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self.flush()

    def for_facility(self, facility_code: str, day: dt.date | None = None) -> list[dict]:
        """A facility's verifications on one day (JST), oldest first."""
        self.flush()
        day = day or config.today()
        # Stored in UTC (SQLite keeps it without an offset); the day is a JST day.
        start = dt.datetime.combine(day, dt.time.min, config.JST).astimezone(dt.timezone.utc)
        end = start + dt.timedelta(days=1)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(verification)
                .where(verification.c.facility_code == facility_code, verification.c.at >= start, verification.c.at < end)
                .order_by(verification.c.at, verification.c.id)
            ).mappings().all()
        out = []
        for r in rows:
            item = {str(k): v for k, v in r.items()}  # plain str keys (column names are str subclasses)
            at = item["at"]
            item["at"] = (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).astimezone(config.JST)
            out.append(item)
        return out
