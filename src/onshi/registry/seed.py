"""A deterministic, realistic population for demos and load tests (`onshi seed`).

Given (people, seed, today) the registry always receives the same rows:

- insurers with valid check digits (R-P5): 47 協会けんぽ branches, 健保組合, 共済組合,
  市町村国保 and 47 後期高齢者医療広域連合, always including the four insurers of the example
  case files (01130012, 06139984, 138057, 39131156); random demo keys for one facility and
  01130012 (printed once; `onshi keys` makes the others);
- facilities (医科 / 歯科 / 調剤) spread over the prefectures, a few paper-claim ones (R-T4);
- people following Japan's 2025 age pyramid, in households: employees with their
  dependents on one 記号・番号 (枝番 00, 01, …), 国保 households, 後期高齢者 from the 75th
  birthday (R-P4), recent job changes whose new qualification is not registered yet (R-I1, F.1);
- My Number cards whose certificates expire in the renewal waves of 電子証明書の更新必要件数
  (seed 002), with renewals, grace periods and lapses (R-B1–B4);
- the documents insurers sent: the old insurance cards (A6) and the employee insurers'
  FY2024 お知らせ (R-I4d); then the history of the insurers' issuance runs since 2024-12-02
  (issuance/history.py: the real runs, monthly, over what the seed recorded — acquisitions,
  losses, applications, returned cards, each insurer's options), which sends every 資格確認書
  and 資格情報のお知らせ from then on (R-I3 … R-I7, R-T3).

The reference data and the catalogue are in seeddata.py, the people are drawn in columns by
seedgen.py (numpy, chunk by chunk; the same rows whatever the number of workers). The 個人番号
exists only inside the generator, as input to the keyed hash of security.my_number_hash.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.exc import IntegrityError

from .. import config
from ..domain.card import card_status
from ..domain.numbers import PREFECTURES
from . import db, schema
from .bulk import BulkWriter, _quoted, deferred_indexes
from .keys import demo_keys, put_setting

Date = dt.date

# ---------------------------------------------------------------- public API


@dataclass
class SeedSummary:
    people: int
    qualifications: int
    cards: int
    documents: int
    insurers: int
    facilities: int
    seconds: float
    demo_facility_code: str
    demo_facility_key: str
    demo_insurer_number: str
    demo_insurer_key: str
    rows: int = 0  # every row written by the load (all tables)
    history_seconds: float | None = None  # of `seconds`: the issuance history's (None: not written)


DEMO_INSURER = "01130012"  # 協会けんぽ東京支部


def _progress(enabled: bool):  # noqa: ANN202
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), disable=not enabled,
    )


HISTORY_AUTO = 1_000_000  # `history=None`: write the issuance history up to this many people (see seed_registry)
LOADED = ("person", "resident", "qualification", "card", "document", "member_event", "certificate_application")


def seed_registry(engine: Engine, people: int, seed: int = 1, today: Date | None = None, progress: bool = True,
                  history: bool | None = None, workers: int | None = None) -> SeedSummary:
    """Fill an empty registry with `people` people and everything around them.

    The same (people, seed, today) always gives the same rows (with the same
    ONSHI_MYNUMBER_KEY) whatever `workers`, except the API keys: random demo keys for the demo
    facility and insurer (SeedSummary, shown once), and the `demo` setting that lets `onshi
    serve` make fresh ones on each start.

    The people come from registry/seedgen.py in chunks of seedgen.CHUNK. PostgreSQL: the
    indexes and constraints of the loaded tables are dropped, `workers` processes (default:
    one per core) generate chunks and COPY each in its own transaction while the others
    generate, then the indexes and constraints are built again and ANALYZE runs; a failed load
    is truncated. SQLite: one process, one transaction.

    history: write the insurers' issuance runs since 2024-12-02 after the load, as playing them
    (issuance/history.py) would, replayed in one pass by `workers` processes (issuance/replay.py);
    None (the default) writes them up to HISTORY_AUTO people — beyond, the history takes several
    times the load (README "Capacity").
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    with db.exclusive(engine, "seed"):  # two seeds at once would both find the registry empty
        try:
            return _seed(engine, people, seed, today, progress, history, workers)
        except (IntegrityError, sqlite3.IntegrityError) as exc:  # SQLite: another seed's transaction committed its rows first
            raise RuntimeError("the registry is not empty: another seed wrote it first; use --reset") from exc


def _seed(engine: Engine, people: int, seed: int, today: Date | None, progress: bool, history: bool | None, workers: int | None) -> SeedSummary:
    from . import seedgen

    if not db.is_empty(engine):
        raise RuntimeError("registry is not empty; use --reset")
    today = today or config.today()
    history = people <= HISTORY_AUTO if history is None else history
    began = time.perf_counter()
    tables = seedgen.Tables(people, seed, today)
    catalogue = tables.cat
    counts: dict[str, int] = defaultdict(int)
    chunks = [(i, first + 1, min(seedgen.CHUNK, people - first)) for i, first in enumerate(range(0, people, seedgen.CHUNK))]
    with _progress(progress) as bar:
        task = bar.add_task(f"seeding {people:,} people", total=people)
        with BulkWriter(engine) as writer:
            writer.write("insurer", ("number", "name", "kind", "prefecture"), catalogue.insurers)
            writer.write("facility", ("code", "name", "prefecture", "online", "smartphone", "mobile_consent"), catalogue.facilities)
            writer.write("issuance_setting", ("insurer_number", "options", "certificate_form"), catalogue.issuance_settings)
            if engine.dialect.name != "postgresql":
                key = config.mynumber_key()
                for index, first, size in chunks:
                    rows = seedgen.generate(tables, people, seed, index, first, size, key)
                    for table in LOADED:
                        writer.write(table, tuple(rows[table]), seedgen.python_rows(rows[table]))
                        counts[table] += len(next(iter(rows[table].values())).values)
                    bar.advance(task, size)
                writer.finish(("person", "qualification", "document", "member_event", "certificate_application"))
            else:
                writer.commit()
        if engine.dialect.name == "postgresql":
            _load_postgres(engine, people, seed, today, chunks, workers or os.cpu_count() or 1, counts, lambda n: bar.advance(task, n))
            bar.update(task, description="indexes, constraints, statistics")
            with BulkWriter(engine) as writer:  # _load_postgres analysed every table it wrote
                writer.finish(("person", "qualification", "document", "member_event", "certificate_application"), analyze=False)
    history_seconds = None
    if history:  # the insurers' issuance runs since 2024-12-02
        from ..issuance.replay import replay_history

        t0 = time.perf_counter()
        replay_history(engine, today, workers=workers or os.cpu_count() or 1, progress=progress)
        history_seconds = round(time.perf_counter() - t0, 2)
    with engine.connect() as conn:
        counts["document"] = conn.execute(text("SELECT COUNT(*) FROM document")).scalar_one()
    facility_code = catalogue.facilities[0][0]
    with engine.begin() as conn:  # a demo database: `onshi serve` makes fresh demo keys on each start
        put_setting(conn, "demo_facility", facility_code)
    facility_key, insurer_key = demo_keys(engine, facility_code, DEMO_INSURER)
    return SeedSummary(
        people=counts["person"], qualifications=counts["qualification"], cards=counts["card"], documents=counts["document"],
        insurers=len(catalogue.insurers), facilities=len(catalogue.facilities), seconds=round(time.perf_counter() - began, 2),
        demo_facility_code=facility_code, demo_facility_key=facility_key, demo_insurer_number=DEMO_INSURER, demo_insurer_key=insurer_key,
        rows=sum(counts.values()) + len(catalogue.insurers) + len(catalogue.facilities) + len(catalogue.issuance_settings),
        history_seconds=history_seconds,
    )


# ---------------------------------------------------------------- PostgreSQL: parallel COPY

_WORKER: dict = {}


def _worker_init(url: str, people: int, seed: int, today: Date, key: bytes) -> None:
    import psycopg

    from . import seedgen

    types = {t: seedgen.pg_types(schema.metadata.tables[t]) for t in LOADED}
    _WORKER.update(tables=seedgen.Tables(people, seed, today), conn=psycopg.connect(url), people=people, seed=seed, key=key, types=types)


def _worker_chunk(chunk: tuple[int, int, int]) -> dict[str, int]:
    """Generate one chunk and COPY it in one transaction (each table one binary COPY)."""
    from . import seedgen

    w = _WORKER
    index, first, size = chunk
    rows = seedgen.generate(w["tables"], w["people"], w["seed"], index, first, size, w["key"])
    conn = w["conn"]
    counts = {}
    with conn.cursor() as cur:
        for table in LOADED:
            columns, data = seedgen.copy_binary(rows[table], w["types"][table])
            with cur.copy(f"COPY {table} ({_quoted(columns)}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(memoryview(data))
            counts[table] = len(next(iter(rows[table].values())).values)
    conn.commit()
    return counts


def _load_postgres(engine: Engine, people: int, seed: int, today: Date, chunks: list, workers: int, counts: dict, advance) -> None:  # noqa: ANN001
    """Drop the loaded tables' indexes and constraints, COPY the chunks from `workers`
    processes, build the indexes and constraints again (two at a time) and ANALYZE what the
    seed wrote."""
    import multiprocessing as mp

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    restore = deferred_indexes(engine, LOADED, analyze=[t.name for t in schema.TABLES_IN_LOAD_ORDER])  # every table, as ANALYZE would
    try:
        with mp.get_context("spawn").Pool(workers, _worker_init, (url, people, seed, today, config.mynumber_key())) as pool:
            for (index, _, size), done in zip(chunks, pool.imap_unordered(_worker_chunk, chunks)):
                for table, n in done.items():
                    counts[table] += n
                advance(size)
    except BaseException:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(LOADED)}, insurer, facility, issuance_setting CASCADE"))
        restore()
        raise
    restore()


SAMPLE_WINDOW = 16  # consecutive ids looked at per stratum and try
SAMPLE_TRIES = 8
SAMPLE_BATCH = 2000  # ids per query


def sample_people(engine: Engine, k: int, seed: int = 1, today: Date | None = None) -> list[dict]:
    """k seeded people spread over the population (one per id stratum) who on `today` hold
    a valid, registered qualification and a usable insurance-registered card (R-B1–B4,
    F.1), with a facility to ask from (keys: registry.keys.attach_keys).

    Returns fewer than k only when the registry holds fewer such people in reach.
    """
    today = today or config.today()
    if k <= 0:
        return []
    rng = random.Random(f"onshi-sample:{seed}:{k}:{today.isoformat()}")
    p, q, c, f = schema.person, schema.qualification, schema.card, schema.facility
    ids = bindparam("ids", expanding=True)
    person_q = select(p.c.id, p.c.birth_date, p.c.sex).where(p.c.id.in_(ids))
    qual_q = select(q.c.id, q.c.person_id, q.c.insurer_number, q.c.symbol, q.c.number, q.c.branch, q.c.relation, q.c.start,
                    q.c.end, q.c.registered, q.c.name, q.c.kana, q.c.address).where(q.c.person_id.in_(ids))
    card_q = select(c.c.serial, c.c.person_id, c.c.issued, c.c.card_expires, c.c.cert_expires, c.c.insurance_registered,
                    c.c.revoked).where(c.c.person_id.in_(ids))
    with engine.connect() as conn:
        lo, hi = conn.execute(text("SELECT MIN(id), MAX(id) FROM person")).one()
        online = conn.execute(select(f.c.code, f.c.prefecture).where(f.c.online.is_(True)).order_by(f.c.code)).all()
        if lo is None or not online:
            return []
        by_pref: dict[int, list[str]] = defaultdict(list)
        for code, pref in online:
            by_pref[pref].append(code)

        def eligible(batch: list[int]) -> dict[int, dict]:
            found: dict[int, dict] = {}
            for i in range(0, len(batch), SAMPLE_BATCH):
                part = batch[i:i + SAMPLE_BATCH]
                quals: dict[int, list] = defaultdict(list)
                for row in conn.execute(qual_q, {"ids": part}):
                    if row.registered is not None and row.registered <= today and row.start <= today and (row.end is None or row.end >= today):
                        quals[row.person_id].append(row)
                cards: dict[int, object] = {}
                for row in conn.execute(card_q, {"ids": part}):
                    if row.person_id in quals and row.issued <= today and (row.revoked is None or row.revoked > today) and card_status(
                        today, card_expires=row.card_expires, cert_expires=row.cert_expires, insurance_registered=row.insurance_registered
                    ).usable:
                        cards[row.person_id] = row
                for row in conn.execute(person_q, {"ids": [pid for pid in part if pid in cards]}):
                    found[row.id] = {"person": row, "qualification": max(quals[row.id], key=lambda r: r.start), "card": cards[row.id]}
            return found

        strata = [(lo + (hi - lo + 1) * s // k, lo + (hi - lo + 1) * (s + 1) // k - 1) for s in range(k)]
        chosen: dict[int, dict] = {}
        spare: dict[int, dict] = {}
        pending = [s for s in range(k) if strata[s][0] <= strata[s][1]]
        for _ in range(SAMPLE_TRIES):
            if not pending:
                break
            windows = {}
            for s in pending:
                a, b = strata[s]
                start = a + rng.randrange(max(1, b - a + 2 - SAMPLE_WINDOW))
                window = list(range(start, min(b, start + SAMPLE_WINDOW - 1) + 1))
                rng.shuffle(window)
                windows[s] = window
            found = eligible(sorted({pid for w in windows.values() for pid in w}))
            for s, window in windows.items():
                hits = [pid for pid in window if pid in found]
                if hits:
                    chosen[s] = found[hits[0]]
                spare.update((pid, found[pid]) for pid in hits[1:])
            pending = [s for s in pending if s not in chosen]
        picked = [chosen[s] for s in sorted(chosen)]
        used = {r["person"].id for r in picked}
        picked += [spare[pid] for pid in sorted(spare) if pid not in used][: k - len(picked)]
    out = []
    for r in picked:
        person, qual, card = r["person"], r["qualification"], r["card"]
        pref = next((i for i, name in enumerate(PREFECTURES, start=1) if (qual.address or "").startswith(name)), None)
        codes = by_pref.get(pref) or [code for code, _ in online]
        facility_code = codes[rng.randrange(len(codes))]
        out.append({
            "person_id": person.id,
            "name": qual.name,
            "kana": qual.kana,
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "card_serial": card.serial,
            "qualification_id": qual.id,
            "insurer_number": qual.insurer_number,
            "symbol": qual.symbol,
            "number": qual.number,
            "branch": qual.branch,
            "relation": qual.relation,
            "facility_code": facility_code,
        })
    return out
