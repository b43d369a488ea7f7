"""The seed's issuance history in one pass (issue 14): what `history.run_history` records by
playing `run_issuance` on each of the ~50 run days since 2024-12-02, in one pass, in
parallel, about twice as fast as playing it (README "Capacity").

    results = replay_history(engine, today, workers=2)

The same engine decides (`IssuanceEngine.decide_many`), on the same members as of each run
day (store.Facts.members_on, which load_members uses too), and `store.plan` turns its
decisions into the same rows `store.record` writes. What changes is the bookkeeping:

- each member's facts are read once (store.read_facts), not once per run day, and the
  documents the runs send are kept in memory until they are written, once, at the end;
- members are independent (a qualification's documents, events and applications, its
  person's cards and DV flag), so the registry is replayed in parts of qualifications, in
  `workers` processes on PostgreSQL, each part writing its rows in one transaction;
- a member is decided on a run day only when something it is decided on may have changed
  since its last decision: on the first day those the first run's SQL selects (candidates.py,
  among everyone: the played run decides the same), then on the first run day on or
  after each date its decision compares the run day with (`_dates`: its qualification's
  start, end and notification, the loss's recording, each card's issue, registration,
  cancellation, return, replacement and the ends of its grace (R-B2, R-I3d) under each
  policy in force, each event's date and recording, each document's issue, first day, end
  and renewal window (R-I6a), the 70th and 75th birthdays and the 後期 age of R-I3g), every
  run day once it holds an application (R-I3f, as the SQL selects it), and on a day the
  policy changes, when one of those dates moves across it. Between two such days each
  comparison the engine makes with the run day comes out the same, so a member whose
  decision sent and ended nothing still gets nothing: the SQL's candidates (candidates.py)
  are the members the engine acts on (tests/test_issuance_run.py compares them with deciding
  everyone), and so are these, only chosen in memory.

The documents, their ends and the application decisions are those of the played history
(tests/test_seed_history.py compares them on both databases; the replay of 100,000 people
found three kinds of members the SQL missed, now selected: candidates.py "again"), and so are
the runs' summaries except `members` and `candidates` (the members decided, here those woken)
and the warnings (kept here for the members acted on). Document ids are taken from the same
sequence but part by part, so they are not in the played order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from bisect import bisect_left, bisect_right
from dataclasses import replace
from functools import lru_cache

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from .. import config
from ..collector import paused
from ..domain.card import grace_period_end as _grace_end
from ..domain.copay import elderly_start, kouki_start
from ..domain.dates import add_months
from ..policy import load_policy
from ..registry import db
from ..registry.schema import certificate_application, document, document_end, issuance_run, qualification
from .engine import IssuanceEngine
from .history import HISTORY_START, run_days
from .rules import IssuanceRules
from .candidates import candidate_ids
from .run import ALL, RunResult, _owner, read_run, selection_for
from .settings import read_settings
from .store import Facts, Loaded, Tally, _insert, _new_ids, plan, read_facts

ONE_DAY = dt.timedelta(days=1)
grace_period_end = lru_cache(maxsize=1 << 16)(_grace_end)
PART = 20_000  # qualifications replayed (held in memory) at a time by one process
READ = 5000  # qualifications a read asks for (SQLite's limit of parameters)
WRITING = "the seed's history is being written (issuance/replay.py)"


@lru_cache(maxsize=1 << 16)
def _month_start(day: dt.date, months_before: int) -> dt.date:
    return add_months(day.replace(day=1), -months_before) if months_before else day.replace(day=1)


def _kouki_age_day(birth: dt.date, rules: IssuanceRules) -> dt.date | None:
    """R-I3g: the first day a 後期 member is of the automatic age (engine.kouki_automatic)."""
    age = rules.kouki_automatic_age
    if age is None or age <= 0:
        return None
    if rules.kouki_age_on is None:
        return dt.date(birth.year + age, birth.month, 1) if (birth.month, birth.day) == (2, 29) else birth.replace(year=birth.year + age)
    month, day = rules.kouki_age_on
    return dt.date(birth.year + age + ((month, day) < (birth.month, birth.day)), month, day)


def _moving(row: tuple, facts: Facts, rules: IssuanceRules, kouki: bool, documents: bool) -> list[dt.date]:
    """The dates of a member's comparisons that the policy in force (`rules`) sets: from its
    documents (`documents`), or from the rest of its facts."""
    qid, person_id, _, _, end, _, _, birth, _, _ = row
    g, lead, renew = rules.grace_months, rules.grace_lead_months, rules.renewal_lead_months
    out = []
    if documents:
        for d in facts.docs.get(qid, ()):
            if d[4] is not None:
                out.append(_month_start(d[4], renew))
        return out
    # a usable card (R-B2) counts for a registration notice (R-I5) and with an application (R-I7d,
    # decided on every run day); R-I3d for every member
    usable = any(e[0] == "registration_done" for e in facts.events.get(qid, ()))
    for c in facts.cards.get(person_id, ()):
        for expiry in (c[1], c[2]):
            grace = grace_period_end(expiry, g)
            out.append(_month_start(grace, lead))
            if usable:
                out.append(grace + ONE_DAY)
    # (the day a card works again, R-I7d, counts only with an application: decided on every run day)
    if kouki:
        for kind, date, _ in facts.events.get(qid, ()):  # R-I6b: the month before the 75th birthday's month
            if kind == "acquisition" and date == kouki_start(birth):
                out.append(_month_start(date - ONE_DAY, rules.kouki_lead_months))
        aged = _kouki_age_day(birth, rules)
        if aged is not None:
            out.append(aged)
    return out


def _dates(row: tuple, facts: Facts, kouki: bool, documents: bool) -> list[dt.date]:
    """Every date the decision of the member compares a run day with (module docstring): from
    its documents (`documents`, which the runs change), or from the rest of its facts."""
    qid, person_id, _, start, end, _, _, birth, _, notified = row
    out = []
    if documents:
        for d in facts.docs.get(qid, ()):
            out += [d[2], d[2] + ONE_DAY]
            if d[3] is not None:
                out.append(d[3])
            if d[4] is not None:
                out.append(d[4] + ONE_DAY)
    else:
        out += [start, kouki_start(birth), elderly_start(birth)]
        if end is not None:
            out.append(end + ONE_DAY)
        if notified is not None:
            out.append(notified)
        for c in facts.cards.get(person_id, ()):
            out += [x for x in (c[0], c[3], c[4], c[5], c[6]) if x is not None]
        for _, date, recorded in facts.events.get(qid, ()):
            out += [date, recorded]
        for app in facts.applications.get(qid, ()):
            out.append(app[1])
    return out


def _until(decider: IssuanceEngine, settings: dict, days: list[dt.date]) -> dict[str, set[dt.date]]:
    """Each insurer's certificate_until dates over the run days: computed once by the caller of
    the parts (579 insurers × 49 days of option lookups), not once per part."""
    return {n: {decider.options(s.insurer, d).certificate_until for d in days} - {None} for n, s in settings.items()}


class _Part:
    """One part of the registry replayed over the run days."""

    def __init__(self, facts: Facts, days: list[dt.date], decider: IssuanceEngine, settings: dict, run_ids: list[int], first: set[int],
                 until: dict[str, set[dt.date]]):
        self.facts, self.days, self.decider, self.settings, self.run_ids, self.first = facts, days, decider, settings, run_ids, first
        self.insurers = {n: s.insurer for n, s in settings.items()}
        self.rules = [decider.rules(d) for d in days]
        self.keys = [self._key(r) for r in self.rules]
        self.regimes = {key: r for key, r in zip(self.keys, self.rules)}
        self.changes = [i for i in range(1, len(days)) if self.keys[i] != self.keys[i - 1]]
        self.until = until
        self.new_docs: list[tuple[dict, list]] = []  # (row, its held-document list: the expires as it ends)
        self.ends: list[dict] = []
        self.apps: dict[int, tuple] = {}  # application id → (decision, day, run id) of its last change
        self.changed: dict[int, list] = {}  # a document the seed loaded → its held-document list
        self.tallies = [Tally() for _ in days]
        self.decided = [0] * len(days)
        self._next_id = 0
        self.fixed: dict[int, list[int]] = {}  # row → its run days from the facts the runs do not change
        self.held: dict[int, list[int]] = {}  # row → its run days from its documents (again when they change)

    @staticmethod
    def _key(rules: IssuanceRules) -> tuple:
        return (rules.grace_months, rules.grace_lead_months, rules.kouki_automatic_age, rules.kouki_age_on, rules.kouki_granted,
                rules.renewal_lead_months, rules.kouki_lead_months, rules.max_years, rules.notice_annual_end, repr(sorted(rules.defaults.items())))

    def _days(self, k: int, documents: bool) -> list[int]:
        """The run days (indices, sorted) on which the member of row `k` is to be decided again,
        for the dates of its documents (`documents`) or of the rest of its facts."""
        f, days = self.facts, self.days
        row = f.rows[k]
        kouki = self.insurers[row[2]].kind == "kouki"
        first = days[0]
        dates = [x for x in _dates(row, f, kouki, documents) if x > first]
        if not documents:
            dates += [until + ONE_DAY for until in self.until[row[2]] if until + ONE_DAY > first]
        found = {bisect_left(days, x) for x in dates}
        moving = {key: _moving(row, f, rules, kouki, documents) for key, rules in self.regimes.items()}
        for key, values in moving.items():  # a policy's dates count on the run days it is in force
            found.update(j for j in (bisect_left(days, x) for x in values if x > first) if j < len(days) and self.keys[j] == key)
        for c in self.changes:  # a policy change moving one of the member's dates across its day
            before, after = self.rules[c - 1], self.rules[c]
            old, new = moving[self.keys[c - 1]], moving[self.keys[c]]
            day = days[c]
            if len(old) != len(new) or any(min(a, b) <= day < max(a, b) for a, b in zip(old, new)) or \
                    (not documents and kouki and (before.kouki_automatic_age, before.kouki_age_on, before.kouki_granted)
                     != (after.kouki_automatic_age, after.kouki_age_on, after.kouki_granted)) or \
                    (not documents and (before.defaults, before.max_years, before.notice_annual_end)
                     != (after.defaults, after.max_years, after.notice_annual_end)):  # (none so far: everyone, to be sure)
                found.add(c)
        found.discard(len(days))
        return sorted(found)

    def _wake(self, k: int, i: int, acted: bool) -> int | None:
        """The next run day (index) after day `i` to decide the member of row `k` on."""
        f, days = self.facts, self.days
        apps = f.applications.get(f.rows[k][0])
        if apps and i + 1 < len(days) and min(a[1] for a in apps) <= days[i + 1]:
            return i + 1  # R-I3f: an application is looked at on every run day (candidates.py)
        fixed = self.fixed.get(k)
        if fixed is None:
            fixed = self.fixed[k] = self._days(k, False)
        if acted or k not in self.held:
            self.held[k] = self._days(k, True)
        best = None
        for found in (fixed, self.held[k]):
            j = bisect_right(found, i)
            if j < len(found) and (best is None or found[j] < best):
                best = found[j]
        return best

    def run(self) -> None:
        f, days = self.facts, self.days
        doc_of: dict[str, list] = {str(d[0]): d for docs in f.docs.values() for d in docs}
        app_of = {a[0]: a for apps in f.applications.values() for a in apps}
        buckets: list[list[int]] = [[] for _ in days]
        for k, row in enumerate(f.rows):  # the first day: the first run's SQL selection (candidates.py, among everyone)
            notified = row[9]
            if row[0] in self.first:
                at = 0
            elif notified is not None and notified > days[0]:
                at = bisect_left(days, notified)
            else:  # a member the first run leaves alone: from the next date its decision depends on
                at = self._wake(k, 0, False)
            if at is not None and at < len(days):
                buckets[at].append(k)
        for i, day in enumerate(days):
            woken = sorted(set(buckets[i]))
            buckets[i] = []
            loaded = Loaded(day, [], {}, {}, {}, {})
            for k in woken:
                f.add_member(loaded, f.rows[k], day)
            decisions = self.decider.decide_many(loaded.members, self.insurers, day, insurer_of=loaded.insurer_of)
            # the warnings of a member it changed nothing for are those of a member woken here but not selected by the SQL
            decisions = [d if not d.warnings or d.changes_anything or d.application is not None else replace(d, warnings=())
                         for d in decisions]
            todo = plan(loaded, decisions, self.settings, self.run_ids[i])
            self.tallies[i].add(todo.tally)
            self.decided[i] = len(woken)
            sent: dict[tuple[int, str], str] = {}
            for row in todo.documents:
                self._next_id -= 1
                held = [self._next_id, row["kind"], row["issued"], row["valid_from"], row["expires"]]
                f.docs.setdefault(row["qualification_id"], []).append(held)
                doc_of[str(self._next_id)] = held
                sent[(row["qualification_id"], row["kind"])] = str(self._next_id)
                self.new_docs.append((row, held))
            for e in todo.ends:
                held = doc_of[e["document_id"]]
                held[4] = e["valid_until"]
                if held[0] > 0:
                    self.changed[held[0]] = held
                self.ends.append({"document_id": held[0], "run_id": e["run_id"], "replaced_by": int(sent[e["by"]]) if e["by"] else None,
                                  "previous_expires": e["previous_expires"], "valid_until": e["valid_until"], "rules": e["rules"]})
            for d in todo.decided:
                app_of[d["app"]][3] = d["decision"]
                self.apps[d["app"]] = (d["decision"], day, self.run_ids[i])
            acted = {int(d.member_id) for d in decisions if d.changes_anything}
            for k in woken:
                nxt = self._wake(k, i, f.rows[k][0] in acted)
                if nxt is not None:
                    buckets[nxt].append(k)

    def write(self, conn: Connection) -> None:
        """The part's rows, in the caller's transaction."""
        ids = _new_ids(conn, len(self.new_docs)) if self.new_docs else []
        real = {-(n + 1): doc_id for n, doc_id in enumerate(ids)}  # placeholders were -1, -2, …
        rows = []
        for (row, held), doc_id in zip(self.new_docs, ids):
            rows.append({**row, "id": doc_id, "expires": held[4]})
        if rows:
            _insert(conn, document, rows)
        if self.changed:
            _set_expires(conn, [(doc_id, held[4]) for doc_id, held in sorted(self.changed.items())])
        if self.ends:
            _insert(conn, document_end, [{**e, "document_id": real.get(e["document_id"], e["document_id"]),
                                          "replaced_by": real.get(e["replaced_by"], e["replaced_by"])} for e in self.ends])
        if self.apps:
            a = certificate_application
            conn.execute(update(a).where(a.c.id == bindparam("app")).values(decision=bindparam("decision"), decided=bindparam("on"),
                                                                            decided_run=bindparam("run")),
                         [{"app": k, "decision": v[0], "on": v[1], "run": v[2]} for k, v in sorted(self.apps.items())])


def _set_expires(conn: Connection, values: list[tuple[int, dt.date | None]]) -> None:
    """The new ends of documents the seed loaded (R-I7): one statement on PostgreSQL."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE TEMP TABLE replay_expires (id bigint, expires date) ON COMMIT DROP")
        with conn.connection.driver_connection.cursor() as cur, cur.copy("COPY replay_expires (id, expires) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        conn.exec_driver_sql("UPDATE document d SET expires = r.expires FROM replay_expires r WHERE d.id = r.id")
        return
    conn.execute(update(document).where(document.c.id == bindparam("doc")).values(expires=bindparam("until")),
                 [{"doc": k, "until": v} for k, v in values])


def replay_part(conn: Connection, ids: list[int], first: list[int], days: list[dt.date], run_ids: list[int], decider: IssuanceEngine,
                settings: dict, until: dict[str, set[dt.date]] | None = None) -> dict:
    """Read, replay and write the qualifications `ids` (the caller commits): the part's tallies.
    `first`: those of them the first run day's SQL selects; `until`: _until of the same
    arguments, when the caller replays several parts."""
    with paused():  # a part holds its facts, decisions and rows: full collections walked them for nothing (40 % of the time)
        return _replay_part(conn, ids, first, days, run_ids, decider, settings, until or _until(decider, settings, days))


def _replay_part(conn: Connection, ids: list[int], first: list[int], days: list[dt.date], run_ids: list[int], decider: IssuanceEngine,
                 settings: dict, until: dict[str, set[dt.date]]) -> dict:
    parts = [read_facts(conn, ids[n:n + READ]) for n in range(0, len(ids), READ)]
    facts = Facts([r for p in parts for r in p.rows], set().union(*(p.dv for p in parts)), {}, {}, {}, {})
    for p in parts:
        for name in ("cards", "docs", "events", "applications"):
            getattr(facts, name).update(getattr(p, name))
    part = _Part(facts, days, decider, settings, run_ids, set(first), until)
    part.run()
    part.write(conn)
    return {"tallies": [(t.to_json(), t.warnings) for t in part.tallies], "decided": part.decided}


_WORKER: dict = {}


def _worker_start(url: str, days: list[dt.date], run_ids: list[int]) -> None:
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        settings = read_settings(conn, None)
    decider = IssuanceEngine(load_policy())
    _WORKER.update(engine=engine, days=days, run_ids=run_ids, decider=decider, settings=settings, until=_until(decider, settings, days))


def _worker_part(ids: list[int], first: list[int]) -> dict:
    w = _WORKER
    with w["engine"].begin() as conn:
        return replay_part(conn, ids, first, w["days"], w["run_ids"], w["decider"], w["settings"], w["until"])


def replay_history(engine: Engine, today: dt.date, *, start: dt.date = HISTORY_START, workers: int | None = None, part: int = PART,
                   progress: bool = False) -> list[RunResult]:
    """Record the history of every insurer's runs through `today` on a registry that has none
    (after a seed's load): one run per run day (history.run_days), done."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    days = run_days(today, start)
    if not days:
        return []
    with engine.connect() as conn:
        if conn.execute(select(issuance_run.c.id).limit(1)).first() is not None:
            raise RuntimeError("the registry already holds issuance runs: the history is replayed on a fresh seed only")
        ids = [r[0] for r in conn.execute(select(qualification.c.id).order_by(qualification.c.id))]
        # the first run looks among everyone: its SQL selection (a superset of the members it acts on) rather than deciding all
        first = set(candidate_ids(conn, selection_for(conn, IssuanceEngine(load_policy()), days[0], ALL)[1]))
    run_ids = _open_runs(engine, days)
    parts = [ids[n:n + part] for n in range(0, len(ids), part)]
    firsts = [[i for i in chunk if i in first] for chunk in parts]
    workers = max(1, min(workers or os.cpu_count() or 1, len(parts)))
    done: list[dict] = []
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), disable=not progress) as bar:
            task = bar.add_task("issuance history since 2024-12", total=len(ids))
            if workers > 1 and engine.dialect.name == "postgresql":
                done = _in_processes(engine, parts, firsts, days, run_ids, workers, lambda n: bar.advance(task, n))
            else:
                decider = IssuanceEngine(load_policy())
                with engine.connect() as conn:
                    settings = read_settings(conn, None)
                until = _until(decider, settings, days)
                for chunk, chosen in zip(parts, firsts):
                    with db.write_transaction(engine) as conn:
                        done.append(replay_part(conn, chunk, chosen, days, run_ids, decider, settings, until))
                    bar.advance(task, len(chunk))
        _close_runs(engine, run_ids, done)
    except BaseException as exc:
        with db.write_transaction(engine) as conn:
            conn.execute(update(issuance_run).where(issuance_run.c.id.in_(run_ids)).values(error=f"{WRITING}: {type(exc).__name__}: {exc}"[:2000]))
        raise
    with engine.connect() as conn:
        return [read_run(conn, run_id) for run_id in run_ids]


def _in_processes(engine: Engine, parts: list[list[int]], firsts: list[list[int]], days: list[dt.date], run_ids: list[int], workers: int,
                  advance) -> list[dict]:  # noqa: ANN001
    """The parts in `workers` spawned processes; their results in the parts' order."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    url = engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_start, initargs=(url, days, run_ids)) as pool:
        futures = [pool.submit(_worker_part, chunk, chosen) for chunk, chosen in zip(parts, firsts)]
        out = []
        for chunk, future in zip(parts, futures):
            out.append(future.result())
            advance(len(chunk))
    return out


def _open_runs(engine: Engine, days: list[dt.date]) -> list[int]:
    """One run per day, in order, 'failed' (with WRITING) until the history is written."""
    now = config.now()
    with db.write_transaction(engine) as conn:
        return [conn.execute(insert(issuance_run).values(
            scope=ALL, run_date=day, status="failed", origin="seed", owner=_owner(), started_at=now, heartbeat_at=now, summary="{}",
            warnings="[]", error=WRITING,
        ).returning(issuance_run.c.id)).scalar_one() for day in days]


def _close_runs(engine: Engine, run_ids: list[int], done: list[dict]) -> None:
    """Each run's summary: the parts' tallies of its day, in the parts' order (qualification order)."""
    now = config.now()
    with db.write_transaction(engine) as conn:
        for i, run_id in enumerate(run_ids):
            total = Tally()
            for part in done:
                summary, warnings = part["tallies"][i]
                total.add(Tally.from_json(summary, warnings))
            conn.execute(update(issuance_run).where(issuance_run.c.id == run_id).values(
                status="done", finished_at=now, heartbeat_at=now, error=None, candidates=sum(p["decided"][i] for p in done),
                summary=json.dumps(total.to_json(), ensure_ascii=False), warnings=json.dumps(total.warnings, ensure_ascii=False)))


__all__ = ["replay_history", "replay_part"]
