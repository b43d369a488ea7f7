"""The issuance run over the registry (`onshi issuance run --date D [--insurer N]`, its HTTP
twin, and the seed's history): every member of the insurer(s) that the rules of
../shared/domain/ISSUANCE.md send or end something for on run day D, recorded.

    result = run_issuance(engine, day, insurer="39131156")      # start (or resume) and finish a run

Set-based: the candidates come from one SQL statement (candidates.py), are read in batches
(store.load_members: six queries a batch) and decided by `IssuanceEngine.decide_many`; each
batch is recorded and committed in one transaction together with the run's running summary
(on PostgreSQL optionally in several processes, `workers`).
A killed run (kill -9) is resumed by the next start of the same scope and day: the engine sees
the documents the committed batches recorded and sends nothing twice (R-I6a), a partial
batch was rolled back and is decided again, and the unique index `uq_document_run_issue`
makes a duplicate impossible even for two runs at once. A rerun the same day sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from .. import config
from ..domain.errors import Conflict, InputError, NotFound
from ..policy import Policy, load_policy
from ..registry import db
from ..registry.schema import insurer, issuance_run
from .candidates import Selection, all_ids, candidate_ids
from .engine import IssuanceEngine
from .settings import Settings, read_settings
from .store import StaleBatch, Tally, load_members, record

ALL = "*"
BATCH = 5000  # members read, decided and committed at a time
STALE = dt.timedelta(minutes=10)  # a run whose owner is on another host and silent this long is taken over


@dataclass
class RunResult:
    id: int
    scope: str
    day: dt.date
    status: str
    origin: str
    candidates: int | None
    tally: Tally
    resumed: bool = False
    seconds: float | None = None
    error: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    phases: dict[str, float] | None = None  # seconds of this process's attempt: select, read, decide, record

    def to_json(self) -> dict:
        return {
            "run_id": self.id, "scope": self.scope, "date": self.day.isoformat(), "status": self.status, "origin": self.origin,
            "candidates": self.candidates, "resumed": self.resumed, "seconds": self.seconds, "error": self.error,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "summary": self.tally.to_json(), "warnings": self.tally.warnings,
            **({"phases": {k: round(v, 3) for k, v in self.phases.items()}} if self.phases else {}),
        }


@dataclass
class Progress:
    """Callbacks for a progress bar: `total(n)` once, `advance(k)` per batch."""

    total: Callable[[int], None] = lambda n: None
    advance: Callable[[int], None] = lambda k: None


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None, heartbeat: dt.datetime | None, now: dt.datetime) -> bool:
    """A run's process is alive: on this host, its pid exists; elsewhere, it beat within STALE."""
    if heartbeat is not None and heartbeat.tzinfo is None:
        heartbeat = heartbeat.replace(tzinfo=dt.timezone.utc)  # SQLite keeps UTC without its offset
    host, _, pid = (owner or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return True  # this process (a run thread of the server): alive while its thread runs
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return heartbeat is not None and now - heartbeat < STALE


def _scope(insurer_number: str | None) -> str:
    return insurer_number or ALL


def last_done(conn: Connection, scope: str) -> dt.date | None:
    """The day of the scope's last finished run (an insurer's own or an all-insurer run)."""
    scopes = [scope] if scope == ALL else [scope, ALL]
    return conn.execute(select(func.max(issuance_run.c.run_date)).where(issuance_run.c.scope.in_(scopes), issuance_run.c.status == "done")).scalar()


class Started(NamedTuple):
    id: int
    resumed: bool = False  # a killed run of the same scope and day taken over
    replayed: bool = False  # the request id was already used for this run


def start_run(engine: Engine, day: dt.date, insurer_number: str | None = None, *, origin: str = "cli", request_id: str | None = None) -> Started:
    """Open a run (or take over the killed run of the same scope and day; or, for a request id
    used before, answer its run). A live run of the scope is a Conflict; a day before the
    scope's last run is refused."""
    scope = _scope(insurer_number)

    def attempt() -> Started:
        with db.write_transaction(engine) as conn:
            if insurer_number is not None and conn.execute(select(insurer.c.number).where(insurer.c.number == insurer_number)).first() is None:
                raise NotFound("insurer_number", f"unknown insurer {insurer_number}")
            if request_id is not None:
                replay = conn.execute(select(issuance_run.c.id, issuance_run.c.run_date).where(
                    issuance_run.c.scope == scope, issuance_run.c.request_id == request_id)).first()
                if replay is not None:
                    if replay.run_date != day:
                        raise Conflict("request_id", f"'{request_id}' was already used for the run of {replay.run_date.isoformat()}")
                    return Started(replay.id, replayed=True)
            now = config.now()
            live = conn.execute(select(issuance_run).where(issuance_run.c.scope == scope, issuance_run.c.status == "running")).mappings().first()
            if live is not None:
                if owner_alive(live["owner"], live["heartbeat_at"], now):
                    raise Conflict("date", f"run {live['id']} of {scope} for {live['run_date'].isoformat()} is in progress")
                if live["run_date"] == day and request_id is None:
                    conn.execute(update(issuance_run).where(issuance_run.c.id == live["id"]).values(owner=_owner(), heartbeat_at=now))
                    return Started(live["id"], resumed=True)  # resume the killed run
                conn.execute(update(issuance_run).where(issuance_run.c.id == live["id"]).values(
                    status="failed", finished_at=now, error="interrupted (its process ended); what it committed stays recorded"))
            last = last_done(conn, scope)
            if last is not None and day < last:
                raise InputError("date", f"runs go forward in time: the last run of {scope} was on {last.isoformat()}")
            run_id = conn.execute(insert(issuance_run).values(
                scope=scope, run_date=day, status="running", origin=origin, request_id=request_id, owner=_owner(), started_at=now,
                heartbeat_at=now, summary="{}", warnings="[]",
            ).returning(issuance_run.c.id)).scalar_one()
            return Started(run_id)

    try:
        return db.retrying(attempt, attempts=5)
    except DBAPIError as exc:
        if db.is_retryable(exc):
            raise Conflict("date", f"another run of {scope} started at the same time") from None
        raise


def read_run(conn: Connection, run_id: int) -> RunResult | None:
    row = conn.execute(select(issuance_run).where(issuance_run.c.id == run_id)).mappings().first()
    if row is None:
        return None
    tally = Tally.from_json(json.loads(row["summary"] or "{}"), json.loads(row["warnings"] or "[]"))
    seconds = (row["finished_at"] - row["started_at"]).total_seconds() if row["finished_at"] and row["started_at"] else None
    return RunResult(row["id"], row["scope"], row["run_date"], row["status"], row["origin"], row["candidates"], tally, seconds=seconds,
                     error=row["error"], started_at=row["started_at"], finished_at=row["finished_at"])


def selection_for(conn: Connection, engine_: IssuanceEngine, day: dt.date, scope: str) -> tuple[dict[str, Settings], Selection]:
    """The scope's settings and what its run on `day` selects by (after its last finished run)."""
    insurers = None if scope == ALL else [scope]
    settings = read_settings(conn, insurers)
    last = last_done(conn, scope)
    to_all = tuple(n for n, s in settings.items() if engine_.options(s.insurer, day).certificate_to_all)
    since = tuple(n for n in to_all if last is None or settings[n].updated is None or settings[n].updated >= last)
    return settings, Selection(day, engine_.rules(day), insurers, last, engine_.rules(last) if last else None, to_all, since)


def execute_run(engine: Engine, run_id: int, *, policy: Policy | None = None, batch: int = BATCH, progress: Progress | None = None,
                everyone: bool = False, workers: int = 1) -> RunResult:
    """Decide and record a started run, batch by batch; `everyone` decides every member the
    insurers know instead of the SQL candidates (a check of the selection); `workers` > 1 on
    PostgreSQL: batches in that many processes (each batch still one transaction)."""
    progress = progress or Progress()
    began = time.perf_counter()
    phases = {"select": 0.0, "read": 0.0, "decide": 0.0, "record": 0.0}
    with engine.connect() as conn:
        run = conn.execute(select(issuance_run).where(issuance_run.c.id == run_id)).mappings().one()
    day, scope = run["run_date"], run["scope"]
    insurers = None if scope == ALL else [scope]
    try:
        engine_ = IssuanceEngine(policy or load_policy())
        with engine.connect() as conn:
            settings, selection = selection_for(conn, engine_, day, scope)
            ids = all_ids(conn, day, insurers) if everyone else candidate_ids(conn, selection)
        phases["select"] = time.perf_counter() - began
        insurer_objects = {n: s.insurer for n, s in settings.items()}
        progress.total(len(ids))
        chunks = [ids[start:start + batch] for start in range(0, len(ids), batch)]
        if workers > 1 and len(chunks) >= 2 * workers and engine.dialect.name == "postgresql" and policy is None:
            _in_processes(engine, run_id, day, chunks, workers, insurer_objects, settings, len(ids), phases, progress)
        else:
            for chunk in chunks:
                _retrying(lambda: _batch(engine, run_id, day, chunk, engine_, insurer_objects, settings, len(ids), phases))
                progress.advance(len(chunk))
        with db.write_transaction(engine) as conn:
            conn.execute(update(issuance_run).where(issuance_run.c.id == run_id).values(
                status="done", finished_at=config.now(), heartbeat_at=config.now(), candidates=len(ids)))
    except BaseException as exc:
        with db.write_transaction(engine) as conn:
            conn.execute(update(issuance_run).where(issuance_run.c.id == run_id, issuance_run.c.status == "running").values(
                status="failed", finished_at=config.now(), error=f"{type(exc).__name__}: {exc}"[:2000]))
        raise
    result = _result(engine, run_id, began, len(ids))
    result.phases = phases
    return result


def _batch(engine: Engine, run_id: int, day: dt.date, ids: list[int], engine_: IssuanceEngine, insurers: dict, settings: dict[str, Settings],
           candidates: int, phases: dict[str, float]) -> None:
    """One batch: read, decide, record and commit with the run's summary (retried whole when a
    concurrent write conflicts: the retry reads what the other one committed)."""
    t0 = time.perf_counter()
    with engine.connect() as conn:
        loaded = load_members(conn, ids, day)
    t1 = time.perf_counter()
    decisions = engine_.decide_many(loaded.members, insurers, day, insurer_of=loaded.insurer_of)
    t2 = time.perf_counter()
    phases["read"] += t1 - t0
    phases["decide"] += t2 - t1
    with _batch_transaction(engine) as conn:
        tally = record(conn, run_id, loaded, decisions, settings)
        row = conn.execute(select(issuance_run.c.summary, issuance_run.c.warnings, issuance_run.c.status)
                           .where(issuance_run.c.id == run_id).with_for_update(key_share=True)).one()
        # ^ FOR NO KEY UPDATE: another worker's batch waits here, while the foreign keys of document_end
        # (FOR KEY SHARE on this row) do not deadlock with it
        if row.status != "running":
            raise Conflict("run", f"run {run_id} is {row.status}")
        total = Tally.from_json(json.loads(row.summary or "{}"), json.loads(row.warnings or "[]"))
        total.add(tally)
        conn.execute(update(issuance_run).where(issuance_run.c.id == run_id).values(
            summary=json.dumps(total.to_json(), ensure_ascii=False), warnings=json.dumps(total.warnings, ensure_ascii=False),
            heartbeat_at=config.now(), candidates=candidates))
    phases["record"] += time.perf_counter() - t2


_WORKER: dict = {}


def _worker_start(url: str, insurers: dict, settings: dict) -> None:
    _WORKER.update(engine=db.make_engine(url, pool_size=1, max_overflow=0), decider=IssuanceEngine(load_policy()), insurers=insurers, settings=settings)


def _worker_batch(run_id: int, day: dt.date, ids: list[int], candidates: int) -> dict[str, float]:
    phases = {"read": 0.0, "decide": 0.0, "record": 0.0}
    w = _WORKER
    _retrying(lambda: _batch(w["engine"], run_id, day, ids, w["decider"], w["insurers"], w["settings"], candidates, phases))
    return phases


def _in_processes(engine: Engine, run_id: int, day: dt.date, chunks: list[list[int]], workers: int, insurers: dict, settings: dict,
                  candidates: int, phases: dict[str, float], progress: Progress) -> None:
    """The batches in `workers` processes (spawned: no state shared but the database). A worker
    that dies leaves its batch uncommitted: the run fails and is resumed like a killed one."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    url = engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_start, initargs=(url, insurers, settings)) as pool:
        futures = {pool.submit(_worker_batch, run_id, day, chunk, candidates): len(chunk) for chunk in chunks}
        for future in as_completed(futures):
            for name, seconds in future.result().items():
                phases[name] += seconds / workers  # wall time, shared by the workers
            progress.advance(futures[future])


def _batch_transaction(engine: Engine):  # noqa: ANN202
    """A batch's writes: READ COMMITTED on PostgreSQL — the unique index and the locked re-read of
    the documents it ends (store.record) stand against a concurrent run, SERIALIZABLE would only
    add conflicts with the registry's other writers —, BEGIN IMMEDIATE on SQLite."""
    return engine.begin() if engine.dialect.name == "postgresql" else db.write_transaction(engine)


def _retrying(work: Callable[[], None], attempts: int = 8) -> None:
    """A batch again (read, decide, record) while it loses to a concurrent write."""
    for attempt in range(attempts):
        try:
            return db.retrying(work, attempts=3)
        except StaleBatch:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _result(engine: Engine, run_id: int, began: float, candidates: int) -> RunResult:
    with engine.connect() as conn:
        result = read_run(conn, run_id)
    result.candidates = candidates
    result.seconds = round(time.perf_counter() - began, 3)
    return result


def run_issuance(engine: Engine, day: dt.date, insurer_number: str | None = None, *, origin: str = "cli", policy: Policy | None = None,
                 batch: int = BATCH, progress: Progress | None = None, everyone: bool = False, workers: int = 1) -> RunResult:
    """Start (or resume) the run of `insurer_number` (None: every insurer) for `day` and finish it."""
    started = start_run(engine, day, insurer_number, origin=origin)
    result = execute_run(engine, started.id, policy=policy, batch=batch, progress=progress, everyone=everyone, workers=workers)
    result.resumed = started.resumed
    return result


def add_warnings(engine: Engine, run_id: int, messages: list[str]) -> None:
    """Add warnings to a run (the printing's: a character the fonts lack, a letter held back)."""
    if not messages:
        return
    with db.write_transaction(engine) as conn:
        row = conn.execute(select(issuance_run.c.summary, issuance_run.c.warnings).where(issuance_run.c.id == run_id)).one()
        total = Tally.from_json(json.loads(row.summary or "{}"), json.loads(row.warnings or "[]"))
        total.warn(*messages)
        conn.execute(update(issuance_run).where(issuance_run.c.id == run_id).values(
            summary=json.dumps(total.to_json(), ensure_ascii=False), warnings=json.dumps(total.warnings, ensure_ascii=False)))
