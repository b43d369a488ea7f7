"""`onshi bench stats`: the simulation's speed (one month for N people: visits/s, and the
claims built, filed and reviewed after it) and the rates' (every figure by every grouping for
a month of N verifications on PostgreSQL), with `pgbench -S` on the same server for the ratio.

The month of N verifications is generated in SQL from the registry's qualifications and
facilities (a person has about ten verifications at up to three facilities; about 45 % by
card) with one claim per patient and facility, in a scratch schema (`stats_bench`, dropped
afterwards): the registry's own verification log is append-only and stays untouched. Every
rate is computed from the rows, then the month is summarized (stats/summary.py) and every rate
computed from the summary — the two answers must be the same. The registration rate (R-S3)
runs on the registry's own members and cards either way.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Callable

from sqlalchemy import Engine, MetaData, func, select, text

from .. import config
from ..claims.models import parse_month
from ..domain.dates import end_of_month
from ..domain.errors import InputError
from ..registry import db
from ..registry.schema import claim, person, simulation_month, stats_summary, stats_summary_month, verification
from ..stats.rates import every_rate
from ..stats.summary import summarize
from ..stats.simulate import simulate as simulate_months

SCHEMA = "stats_bench"


def run(engine: Engine, *, people: int, month: str, verifications: int, workers: int | None, simulate: bool = True, rates: bool = True,
        pgbench: bool = True, say: Callable = print) -> dict:
    first = parse_month(month)
    report: dict = {"database": engine.url.render_as_string(hide_password=True), "month": f"{first:%Y-%m}", "machine_note": "shared machine"}
    if simulate:
        report["simulation"] = _simulation(engine, people, first, workers, say)
    if rates:
        if engine.dialect.name != "postgresql":
            report["rates"] = {"skipped": "the rates benchmark runs on PostgreSQL"}
        else:
            report["rates"] = _rates(engine, first, verifications, say)
    if pgbench and engine.dialect.name == "postgresql":
        from .lookup import pgbench_select

        try:
            fig = pgbench_select(engine.url.render_as_string(hide_password=False), 10, 8, 2)
        except Exception as exc:  # noqa: BLE001 — pgbench failing (another run on its database) must not lose the figures
            fig, report["pgbench_error"] = None, str(exc)
        report["pgbench_tps"] = round(fig.per_second) if fig else None
    return report


def _simulation(engine: Engine, people: int, month: dt.date, workers: int | None, say: Callable) -> dict:
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(person)).scalar_one()
        done = conn.execute(select(simulation_month.c.status).where(simulation_month.c.month == month)).scalar()
    if total < people:
        raise InputError("people", f"the registry holds {total:,} people: seed at least {people:,} (onshi seed --people {people})")
    if done is not None:
        raise InputError("month", f"{month:%Y-%m} was already simulated in this database: choose another --month")
    share = min(1.0, people / total)
    say(f"simulating {month:%Y-%m} for {people:,} of {total:,} people…")
    began = time.perf_counter()
    [r] = simulate_months(engine, month, month, seed=1, people_share=share, workers=workers)
    seconds = time.perf_counter() - began
    return {
        "people": r.people, "visits": r.visits, "verifications": r.verifications, "claims": r.claims, "returned": r.returned,
        "workers": workers, "steps_seconds": r.seconds, "visits_per_second": round(r.visits / r.seconds["visits"]) if r.seconds.get("visits") else None,
        "total_seconds": round(seconds, 1),
    }


def _rates(engine: Engine, month: dt.date, n: int, say: Callable) -> dict:
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    scratch = MetaData(schema=SCHEMA)
    for table in (verification, claim, stats_summary, stats_summary_month):
        table.to_metadata(scratch, schema=SCHEMA)
    scratch.create_all(engine)
    work = db.make_engine(engine.url.render_as_string(hide_password=False), pool_size=2, connect_args={"options": f"-c search_path={SCHEMA},public"})
    try:
        say(f"generating {n:,} verifications for {month:%Y-%m} in the scratch schema {SCHEMA}…")
        began = time.perf_counter()
        claims = _generate(work, month, n)
        generated = time.perf_counter() - began
        say(f"generated in {generated:.0f} s ({claims:,} claims); every rate from the rows…")
        raw_timings: dict = {}
        began = time.perf_counter()
        raw = every_rate(work, month, use_summary=False, timings=raw_timings)
        raw_seconds = time.perf_counter() - began
        say(f"from the rows in {raw_seconds:.1f} s; summarizing the month…")
        built = summarize(work, month)
        say(f"summarized in {built['seconds']:.1f} s ({built['rows']:,} rows); every rate from the summary…")
        timings, per_figure = [], {}
        for _ in range(2):  # the second run is the figure: the first warms the cache
            per_figure = {}
            began = time.perf_counter()
            out = every_rate(work, month, timings=per_figure)
            timings.append(time.perf_counter() - began)
        same = _table(out) == _table(raw)
        if not same:
            raise RuntimeError("the rates from the summary differ from the rates from the rows")
        return {"verifications": n, "claims": claims, "figures": len(out), "generate_seconds": round(generated, 1),
                "raw_seconds": round(raw_seconds, 2), "raw_per_figure": raw_timings,
                "summary_seconds": built["seconds"], "summary_rows": built["rows"],
                "every_rate_seconds": [round(t, 2) for t in timings], "per_figure": per_figure, "same_answer": same,
                "national": {k: v[0].rate for k, v in out.items() if k.endswith(":all")}}
    finally:
        work.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


def _generate(work: Engine, month: dt.date, n: int) -> int:
    start, end = month, end_of_month(month)
    days = (end - start).days + 1
    with work.begin() as conn:
        conn.execute(text("SELECT setseed(0.13)"))
        conn.execute(text("CREATE TEMP TABLE bench_people ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY q.id) AS n, q.person_id, q.id AS qid "
                          "FROM public.qualification q WHERE q.start <= :end AND (q.\"end\" IS NULL OR q.\"end\" >= :start)"), {"start": start, "end": end})
        conn.execute(text("CREATE TEMP TABLE bench_facility ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY code) AS n, code FROM public.facility"))
        np_ = conn.execute(text("SELECT count(*) FROM bench_people")).scalar_one()
        nf = conn.execute(text("SELECT count(*) FROM bench_facility")).scalar_one()
        conn.execute(text("ANALYZE bench_people; ANALYZE bench_facility"))
        conn.execute(text(
            "INSERT INTO verification (facility_code, at, as_of, method, identity, result, error, person_id, qualification_id, channel) "
            "SELECT f.code, :at, (:start)::date + ((g::bigint * 7919) % :days)::int, "
            "CASE WHEN ((p.person_id * 17 + g % 5) % 100) < 45 THEN 'my_number_card' ELSE 'number_inquiry' END, "
            "CASE WHEN ((p.person_id * 17 + g % 5) % 100) < 45 THEN 'face' END, 'valid', NULL, p.person_id, p.qid, 'bench' "
            "FROM generate_series(1, :n) AS g "
            "JOIN bench_people p ON p.n = 1 + ((g::bigint * 2654435761) % :np) "
            "JOIN bench_facility f ON f.n = 1 + ((p.person_id * 31 + g % 3) % :nf)"
        ), {"at": config.now(), "start": start, "days": days, "n": n, "np": np_, "nf": nf})
        conn.execute(text(
            "INSERT INTO claim (facility_code, payer, care_month, patient_ref, receipt_kind, insurer_number, symbol, number, branch, "
            "qualification_id, unknown, name, birth_date, copay_percent, days, days_mask, first_day, last_day, points, status, origin, created_at) "
            "SELECT v.facility_code, '1', :start, 'B' || v.person_id, '1112', q.insurer_number, q.symbol, q.number, q.branch, q.id, false, "
            "'ベンチ', p.birth_date, 30, 1, 1, :start, :start, 75, 'filed', 'bench', :at "
            "FROM (SELECT DISTINCT facility_code, person_id, qualification_id FROM verification) v "
            "JOIN public.qualification q ON q.id = v.qualification_id JOIN public.person p ON p.id = v.person_id"
        ), {"start": start, "at": config.now()})
        claims = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
    with work.connect() as conn:
        conn.execute(text("ANALYZE verification"))
        conn.execute(text("ANALYZE claim"))
        conn.commit()
    return claims


def _table(rates: dict) -> dict:
    return {k: [(r.month, r.group, r.numerator, r.denominator) for r in v] for k, v in rates.items()}


def print_report(report: dict) -> None:
    print(f"onshi bench stats — {report['database']}, month {report['month']} (machine shared with other work)")
    s = report.get("simulation")
    if s:
        st = s["steps_seconds"]
        print(f"  simulate: {s['people']:,} people → {s['visits']:,} visits, {s['verifications']:,} verifications in {st.get('visits', 0):.1f} s "
              f"= {s['visits_per_second']:,} visits/s; claims {s['claims']:,}: build {st.get('build', 0):.1f} s, file {st.get('file', 0):.1f} s, "
              f"review {st.get('review', 0):.1f} s; the month in {s['total_seconds']:.0f} s")
    r = report.get("rates")
    if r and "skipped" not in r:
        print(f"  every rate ({r['figures']} figures × groupings) for {r['verifications']:,} verifications and {r['claims']:,} claims "
              f"(generated in {r['generate_seconds']:.0f} s):")
        print(f"    from the rows: {r['raw_seconds']:.2f} s ({_figures(r['raw_per_figure'])})")
        print(f"    summary of the month: built in {r['summary_seconds']:.2f} s, {r['summary_rows']:,} rows")
        print(f"    from the summary: {r['every_rate_seconds'][-1]:.2f} s (first run {r['every_rate_seconds'][0]:.2f} s; "
              f"{_figures(r['per_figure'])}); the same answer: {'yes' if r['same_answer'] else 'NO'}")
    elif r:
        print(f"  rates: {r['skipped']}")
    if report.get("simulation", {}).get("steps_seconds", {}).get("summary") is not None:
        print(f"  the simulated month summarized in {report['simulation']['steps_seconds']['summary']:.1f} s")
    if report.get("pgbench_tps"):
        print(f"  pgbench -S (-c8 -j2, 10 s) on the same server: {report['pgbench_tps']:,} tps")


def _figures(timings: dict) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
