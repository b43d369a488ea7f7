"""The append-only verification log: every lookup, with facility, time, method and result.

On the server the log is written in batches by a background thread so that a lookup stays
one query; `flush()` writes what is pending (called on shutdown and before the log is read).
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select

from .. import config
from .schema import verification


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
    def __init__(self, engine: Engine, *, buffered: bool = False, interval: float = 0.2, max_pending: int = 2000):
        self.engine = engine
        self.buffered = buffered
        self.interval = interval
        self.max_pending = max_pending
        self._pending: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        if buffered:
            self._thread = threading.Thread(target=self._run, name="verification-log", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def record(self, entry: Verification) -> None:
        row = dict(entry.__dict__)  # not dataclasses.asdict: it deep-copies, and this is the hot path
        if not self.buffered:
            with self.engine.begin() as conn:
                conn.execute(insert(verification), [row])
            return
        with self._lock:
            self._pending.append(row)
            full = len(self._pending) >= self.max_pending
        if full:
            self._wake.set()

    def flush(self) -> int:
        with self._lock:
            rows, self._pending = self._pending, []
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(verification), rows)
        return len(rows)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

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
