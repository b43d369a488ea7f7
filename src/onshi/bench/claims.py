"""`onshi bench claims`: review throughput (claims/s) against a seeded registry, and what a
national month (about 143,000,000 claims, R-R5 figures of seed 002) would take.

The claims are generated from the registry itself, for the month before today's: mostly
claims on a qualification valid on every care day (変更なし), the job changes of the seed
billed on their ended qualification (振替, or 返戻 when the new insurer has not registered),
months that straddle the change (分割), a few wrong numbers (返戻) and `unknown` 不詳 claims
(most identifiable, some with a wrong address). Only the review is timed.

On PostgreSQL the claims tables live in a scratch schema (`claims_bench`, dropped afterwards
unless --keep), so the registry's own tables and migrations are left alone; on SQLite they
go to the migrated claims tables and are deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time

from sqlalchemy import Engine, MetaData, delete, insert, or_, select, text

from .. import config
from ..claims import review
from ..claims.models import days_mask
from ..domain.dates import end_of_month
from ..domain.names import fold_address, fold_kana
from ..registry import db
from ..registry.schema import claim, claim_review, facility, person, qualification, review_run

SCHEMA = "claims_bench"
NATIONAL_MONTH = 143_000_000
COLUMNS = (
    "facility_code", "payer", "care_month", "billing_month", "receipt_no", "patient_ref", "basis", "receipt_kind", "insurer_number",
    "symbol", "number", "branch", "qualification_id", "unknown", "relation", "name", "kana", "birth_date", "sex", "copay_percent",
    "days", "days_mask", "first_day", "last_day", "points", "copay_amount", "remarks", "kana_key", "address_key", "checks", "status",
    "origin", "created_at",
)


def _days(rng: random.Random, lo: int, hi: int) -> list[int]:
    k = 1 if (x := rng.random()) < 0.6 else 2 if x < 0.85 else 3 if x < 0.95 else rng.randint(4, 8)
    span = list(range(lo, hi + 1))
    return sorted(rng.sample(span, min(k, len(span))))


def generate(conn, n: int, unknown: int, seed: int, care: dt.date, billing: dt.date) -> list[tuple]:  # noqa: ANN001
    """The month's claims as rows of COLUMNS, drawn from the registry's qualifications."""
    rng = random.Random(seed)
    last = end_of_month(care)
    previous = (care - dt.timedelta(days=1)).replace(day=1)
    q, p = qualification, person
    quals = conn.execute(
        select(q.c.id, q.c.insurer_number, q.c.symbol, q.c.number, q.c.branch, q.c.start, q.c.end, q.c.relation, p.c.birth_date, p.c.sex,
               q.c.name, q.c.kana, q.c.address)
        .join_from(q, p, p.c.id == q.c.person_id)
        .where(q.c.registered.is_not(None), q.c.registered <= last, q.c.start <= last, or_(q.c.end.is_(None), q.c.end >= previous))
        .order_by(q.c.id)
    ).all()
    facilities = list(conn.execute(select(facility.c.code).order_by(facility.c.code)).scalars()) or ["1310000017"]
    rng.shuffle(quals)
    now = config.now()
    receipts: dict[tuple[str, str], int] = {}
    rows: list[tuple] = []

    def add(q, days: list[int], *, number: str | None = None, unknown_remarks: dict | None = None) -> None:  # noqa: ANN001
        fac = facilities[rng.randrange(len(facilities))]
        insurer = "77777777" if unknown_remarks else q.insurer_number
        kouki = insurer.startswith("39")
        payer = "2" if len(insurer) == 6 or kouki or (unknown_remarks and unknown_remarks["insurance_kind"] != "shaho") else "1"
        receipts[(fac, payer)] = receipts.get((fac, payer), 0) + 1
        points = 291 + 75 * (len(days) - 1)
        copay = 10 if kouki else 30
        rows.append((
            fac, payer, care, billing, receipts[(fac, payer)], f"B{len(rows)}", "unknown" if unknown_remarks else "current",
            "1318" if kouki else ("1116" if q.relation == "family" else "1112"), insurer,
            "7777" if unknown_remarks else q.symbol, "77777777" if unknown_remarks else (number or q.number), "" if unknown_remarks else q.branch,
            None if unknown_remarks else q.id, bool(unknown_remarks), q.relation, q.name, q.kana, q.birth_date, q.sex, copay, len(days),
            days_mask(days), care.replace(day=days[0]), care.replace(day=days[-1]), points, (points * copay + 50) // 100 * 10,
            json.dumps(unknown_remarks, ensure_ascii=False) if unknown_remarks else None,
            fold_kana(q.kana) if unknown_remarks else None, fold_address(unknown_remarks["address"]) if unknown_remarks else None,
            None, "filed", "bench", now,
        ))

    i = 0
    while len(rows) < n - unknown and quals:
        q = quals[i % len(quals)]
        i += 1
        lo = q.start.day if q.start >= care else 1
        end = q.end if q.end is not None and q.end < last else last
        if q.end is not None and q.end < care:  # ended last month: billed on the ended one (R-D2)
            add(q, _days(rng, 1, last.day))
        elif q.end is not None and q.end < last and rng.random() < 0.5:  # the month straddles the change
            before, after = _days(rng, lo, end.day), _days(rng, end.day + 1, last.day)
            add(q, sorted(set(before + after)))
        elif rng.random() < 0.0005:  # numbers mistyped at the desk
            add(q, _days(rng, lo, end.day), number=q.number + "9")
        else:
            add(q, _days(rng, lo, end.day))
    for q in rng.sample(quals, min(unknown, len(quals))):
        address = q.address if rng.random() < 0.8 else "北海道札幌市中央区北1条西2丁目"
        remarks = {"kana": q.kana, "insurance_kind": "shaho", "insurer_name": "不明", "employer": "不明", "address": address,
                   "contact_phone": "090-0000-0000", "contact_date": billing.isoformat()}
        add(q, _days(rng, 1, last.day), unknown_remarks=remarks if address else None)
    return rows


def scratch_schema(engine: Engine) -> Engine:
    """PostgreSQL: empty claims tables in the schema SCHEMA (made anew), and an engine whose
    search path finds them before the registry's own (public)."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    scratch = MetaData(schema=SCHEMA)
    for table in (claim, review_run, claim_review):
        table.to_metadata(scratch, schema=SCHEMA)
    scratch.create_all(engine)
    return db.make_engine(engine.url.render_as_string(hide_password=False), pool_size=2, connect_args={"options": f"-c search_path={SCHEMA},public"})


def drop_scratch_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


def _load_postgresql(engine: Engine, rows: list[tuple]) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy(f"COPY claim ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute("ANALYZE claim")
        raw.commit()
    finally:
        raw.close()


def run(engine: Engine, *, claims: int, unknown: int, seed: int, keep: bool = False, progress=None) -> dict:  # noqa: ANN001
    say = progress.print if progress is not None else (lambda *a, **k: None)
    today = config.today()
    billing = today.replace(day=1)
    care = (billing - dt.timedelta(days=1)).replace(day=1)
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        work = scratch_schema(engine)
    else:
        work = engine
        with engine.begin() as conn:
            _clean_sqlite(conn)
    try:
        started = time.perf_counter()
        with work.connect() as conn:
            rows = generate(conn, claims, unknown, seed, care, billing)
        generated = time.perf_counter() - started
        say(f"generated {len(rows):,} claims for {care:%Y-%m} in {generated:.1f} s")
        started = time.perf_counter()
        if postgres:
            _load_postgresql(work, rows)
        else:
            with work.begin() as conn:
                for i in range(0, len(rows), 5000):
                    conn.execute(insert(claim), [dict(zip(COLUMNS, r)) for r in rows[i:i + 5000]])
        loaded = time.perf_counter() - started
        say(f"loaded in {loaded:.1f} s; reviewing against the registry as of {today.isoformat()}…")
        del rows
        timings: dict = {}
        started = time.perf_counter()
        with work.begin() as conn:
            run_id = review.run(conn, billing, today, timings=timings)
        seconds = time.perf_counter() - started
        with work.connect() as conn:
            summary = json.loads(conn.execute(select(review_run.c.summary).where(review_run.c.id == run_id)).scalar_one())
            people = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
    finally:
        if postgres:
            work.dispose()
            if not keep:
                drop_scratch_schema(engine)
        elif not keep:
            with engine.begin() as conn:
                _clean_sqlite(conn)
    rate = summary["claims"] / seconds if seconds else 0.0
    national = NATIONAL_MONTH / rate if rate else float("inf")
    return {
        "claims": summary["claims"], "people": people, "care_month": f"{care:%Y-%m}", "review_date": today.isoformat(),
        "outcomes": {k: summary[k] for k in ("unchanged", "rerouted", "split", "returned")},
        "generate_seconds": round(generated, 1), "load_seconds": round(loaded, 1),
        "review_seconds": round(seconds, 2), "claims_per_second": round(rate), "steps": timings,
        "national_month_claims": NATIONAL_MONTH, "national_month_hours": round(national / 3600, 2),
    }


def _clean_sqlite(conn) -> None:  # noqa: ANN001
    bench_ids = select(claim.c.id).where(claim.c.origin == "bench")
    conn.execute(delete(claim_review).where(claim_review.c.claim_id.in_(bench_ids)))
    conn.execute(delete(claim).where(claim.c.origin == "bench"))


def print_report(report: dict) -> None:
    o = report["outcomes"]
    print(f"review of {report['claims']:,} claims ({report['care_month']}) against {report['people']:,} people — {report.get('database', '')}")
    print(f"  変更なし {o['unchanged']:,} · 振替 {o['rerouted']:,} · 分割 {o['split']:,} · 返戻 {o['returned']:,}")
    print(f"  review {report['review_seconds']:.1f} s = {report['claims_per_second']:,} claims/s  (steps: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in report["steps"].items()) + ")")
    print(f"  a national month of {report['national_month_claims']:,} claims: about {report['national_month_hours']:.1f} h at this rate")
