"""The seed at scale (issue 14 item 1, registry/seedgen.py): the same rows whatever the number
of worker processes and on either database, and a population whose shares match the figures
the generator is built on (compared as shares within a tolerance, not row by row)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sqlalchemy import select, text

from onshi.domain.numbers import PREFECTURES
from onshi.registry import db, schema, seed, seeddata as S, seedgen as G

TODAY = dt.date(2026, 11, 30)
TABLES = (schema.person, schema.resident, schema.qualification, schema.card, schema.document, schema.member_event,
          schema.certificate_application)


def _rows(engine) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Every row of the loaded tables, ids included (those of events and applications too: they
    are the generator's, not the order in which the workers' chunks reached the database)."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            out[table.name] = sorted(tuple(str(v) for v in r) for r in conn.execute(select(*table.columns)))
    return out


@pytest.mark.registry
def test_the_same_seed_gives_the_same_rows_whatever_the_workers_and_the_database(engine, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    if engine.dialect.name != "postgresql":
        pytest.skip("the parallel load is PostgreSQL's")
    monkeypatch.setattr(G, "CHUNK", 1500)  # three chunks; the workers get each chunk's bounds from the parent
    lite = db.make_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    db.migrate(lite)
    seed.seed_registry(lite, 4000, seed=3, today=TODAY, progress=False, history=False)
    expected = _rows(lite)
    lite.dispose()
    assert len(expected["person"]) == 4000 and len(expected["member_event"]) > 0
    for workers in (1, 3):
        seed.seed_registry(engine, 4000, seed=3, today=TODAY, progress=False, history=False, workers=workers)
        assert _rows(engine) == expected, workers
        with engine.connect() as conn:  # the indexes and constraints are back after the load
            assert conn.execute(text("SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'qualification'")).scalar() >= 5
            assert conn.execute(text("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'document'::regclass")).scalar() >= 2
            assert conn.execute(text("SELECT COUNT(*) FROM setting WHERE name = 'deferred_indexes'")).scalar() == 0
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in schema.TABLES_IN_LOAD_ORDER)} RESTART IDENTITY CASCADE"))


@pytest.mark.registry
def test_a_tiny_population_with_empty_tables_loads_the_same_on_postgresql(engine, tmp_path) -> None:  # noqa: ANN001
    """3 people: no event and no application for a 資格確認書, tables COPYd with no row."""
    if engine.dialect.name != "postgresql":
        pytest.skip("compares the binary COPY with SQLite's rows")
    lite = db.make_engine(f"sqlite:///{tmp_path / 'tiny.sqlite3'}")
    db.migrate(lite)
    seed.seed_registry(lite, 3, seed=1, today=TODAY, progress=False, history=False)
    expected = _rows(lite)
    lite.dispose()
    assert expected["member_event"] == expected["certificate_application"] == [] and len(expected["person"]) == 3
    seed.seed_registry(engine, 3, seed=1, today=TODAY, progress=False, history=False, workers=1)
    assert _rows(engine) == expected


def test_two_seeds_at_once_leave_one_population(engine) -> None:  # noqa: ANN001
    """Both would find the registry empty: the second is refused (another seed running, or the
    registry no longer empty) and the first's rows stand alone, indexes and keys rebuilt."""
    import threading

    start, done, errors = threading.Barrier(2), [], []

    def run() -> None:
        start.wait()
        try:
            done.append(seed.seed_registry(engine, 3000, seed=5, today=TODAY, progress=False, history=False, workers=1))
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(done) == 1 and len(errors) == 1, (done, errors)
    assert "another seed is running" in errors[0] or "not empty" in errors[0]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM person")).scalar() == 3000
        assert conn.execute(text("SELECT COUNT(DISTINCT id) FROM person")).scalar() == 3000


@pytest.mark.registry
def test_an_interrupted_index_build_is_finished_by_the_next_reset(engine) -> None:  # noqa: ANN001
    """bulk._build resumes past what exists: an index already built, a foreign key added NOT
    VALID but not yet validated; restore_deferred builds the rest and validates every key."""
    from onshi.registry import bulk

    if engine.dialect.name != "postgresql":
        pytest.skip("the deferred indexes are PostgreSQL's")
    seed.seed_registry(engine, 500, seed=2, today=TODAY, progress=False, history=False, workers=1)

    def state() -> tuple:
        with engine.connect() as conn:
            return (sorted(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).scalars()),
                    sorted(conn.execute(text("SELECT conname || ':' || convalidated FROM pg_constraint")).scalars()))

    before = state()
    bulk.deferred_indexes(engine, seed.LOADED)
    with engine.connect() as conn:
        saved = json.loads(conn.execute(text("SELECT value FROM setting WHERE name = 'deferred_indexes'")).scalar_one())
    with engine.begin() as conn:  # what a build interrupted half-way left
        conn.execute(text(next(b for b in saved["builds"] if '"person_pkey"' in b)))
        conn.execute(text(next(f for f in saved["foreign"] if "REFERENCES person(id)" in f) + " NOT VALID"))
    assert state() != before
    bulk.restore_deferred(engine)
    assert state() == before and all(c.endswith(":true") for c in before[1])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM setting WHERE name = 'deferred_indexes'")).scalar() == 0


@pytest.fixture(scope="module")
def chunk():  # noqa: ANN201
    tables = G.Tables(40_000, 1, TODAY)
    return G._Chunk(tables, 40_000, 1, 0, 1, 40_000, b"k" * 32)


def _share(mask) -> float:  # noqa: ANN001
    return float(np.mean(mask))


def test_people_follow_the_age_pyramid_the_prefectures_and_the_households(chunk) -> None:  # noqa: ANN001
    c = chunk
    bands = np.asarray(S.AGE_BANDS) / sum(S.AGE_BANDS)
    assert _share(c.age >= 65) == pytest.approx(bands[13:].sum(), abs=0.02)
    assert _share(c.age < 15) == pytest.approx(bands[:3].sum(), abs=0.015)
    assert _share(c.sex[(c.age >= 90)] == 1) == pytest.approx(0.30, abs=0.05)  # MALE_SHARE of the oldest bands
    pref = c.h_pref[c.home]
    population = np.asarray(S.PREF_POPULATION) / sum(S.PREF_POPULATION)
    assert _share(pref == 13) == pytest.approx(population[12], abs=0.015)
    assert _share(pref == 47) == pytest.approx(population[46], abs=0.005)
    size = np.bincount(c.home)
    assert 1.5 < np.mean(size[size > 0]) < 2.0  # persons a household, as the per-person generator made them
    assert _share(size[c.home] == 1) == pytest.approx(0.35, abs=0.05)  # people living alone (or on their own in the generator)
    adults = (c.age >= 40) & (c.age < 60)
    assert _share(np.isin(np.flatnonzero(adults), c.partner[c.partner >= 0]) | np.isin(np.flatnonzero(adults), c.head[c.partner >= 0])) > 0.55
    variant = np.array([not n.split()[0].isascii() and any(n.startswith(v) for v, _, _ in S.VARIANT_SURNAMES) for n in c.name])
    assert _share(variant) == pytest.approx(S.VARIANT_SHARE, abs=0.006)
    okinawa = np.array([n.split()[0] in {s for s, _ in S.OKINAWA_SURNAMES} for n in c.name])
    assert _share(okinawa[pref == 47]) > 0.3
    assert all(a.startswith(PREFECTURES[p - 1]) for a, p in zip(c.h_address[:500], c.h_pref[:500]))


def test_insurance_mix_job_changes_and_kouki(chunk) -> None:  # noqa: ANN001
    q, c = chunk.q, chunk
    current = q["end"] == G.NONE
    kinds = q["kind"][current]
    assert _share(kinds == 0) == pytest.approx(0.31, abs=0.06)  # 協会けんぽ: about 4 in 10 of employees' insurance
    assert _share(kinds == 4) == pytest.approx(_share(c.age >= 75), abs=0.01)  # every 75+ in 後期 (R-P4)
    kouki = np.flatnonzero(q["kind"] == 4)
    assert (q["start"][kouki] >= G.anniversary(c.birth[q["person"][kouki]], 75)).all()
    ended = np.flatnonzero((q["end"] != G.NONE) & (q["kind"] != 3))  # job changes: the next one starts the day after
    following = set(zip(q["person"].tolist(), q["start"].tolist()))
    assert len(ended) > len(c.age) * 0.005 and all((p, e + 1) in following for p, e in zip(q["person"][ended].tolist(), q["end"][ended].tolist()))
    unregistered = current & (q["registered"] == G.NONE) & (q["start"] > G.day(TODAY) - 120) & (q["start"] < G.day(TODAY) - 15)
    assert 0 < unregistered.sum() < len(c.age) * 0.01  # R-I1: a few new qualifications not in the system yet
    ratio = q["ratio"][kouki]
    assert _share(ratio == 10) == pytest.approx(0.73, abs=0.03)


def test_card_holding_and_registration_match_the_national_figures(chunk) -> None:  # noqa: ANN001
    """79.9 % hold a My Number card and 87.8 % of holders registered it for insurance use, so
    about 70 % of members hold a registered card (R-S3) — checked on 2025-10-31."""
    c, q, cards = chunk, chunk.q, chunk.c
    d = G.day(dt.date(2025, 10, 31))
    member = np.zeros(c.n, bool)
    member[q["person"][(q["start"] <= d) & ((q["end"] == G.NONE) | (q["end"] >= d))]] = True
    live = (cards["issued"] <= d) & ((cards["revoked"] == G.NONE) | (cards["revoked"] > d))
    grace = np.minimum(G.grace_end(cards["cert"]), G.grace_end(cards["card"]))
    stands = live & (cards["registered"] != G.NONE) & (cards["registered"] <= d) & (d <= grace)
    holder = np.zeros(c.n, bool)
    holder[cards["person"][live]] = True
    registered = np.zeros(c.n, bool)
    registered[cards["person"][stands]] = True
    assert _share(holder) == pytest.approx(0.799, abs=0.02)
    assert registered.sum() / holder.sum() == pytest.approx(0.878, abs=0.02)
    assert registered[member].mean() == pytest.approx(0.70, abs=0.02)
    old = member & (c.age >= 85)
    assert registered[old].mean() < registered[member & (c.age < 75) & (c.age >= 20)].mean() - 0.15  # the oldest register less
    # R-B4: some cards renewed past their grace period, some never renewed
    lapsed = (cards["revoked"] != G.NONE) & (cards["revoked"] > grace)
    assert 0 < lapsed.sum() < len(cards["person"]) * 0.1
