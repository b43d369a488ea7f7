"""The monthly summary behind R-S1 and R-S2 (`stats_summary`): a month's counts by facility,
insurer and age band, so that every rate of a summarized month is folded from a few thousand
rows instead of scanning its millions of verifications.

One row per (month, facility, insurer, age band) holds:
- R-S1: the verifications that answered and those by a マイナ保険証 (the insurer of the
  verification's qualification, the age band on its day);
- R-S2: the persons whose *first* マイナ保険証 use at the facility in the month falls in the cell
  (the insurer of that use's qualification, the age band on its day) — each person counted in
  exactly one cell per facility, so any grouping of the cells adds up distinct persons exactly —,
  counted only when the facility has claims that month (`claim_users`; `outpatient_users`: when
  it has outpatient claims), as R-S2 leaves a facility without claims out;
- the month's claims (re-claims excluded) and its outpatient claims (外来のみ), by the claim's
  insurer and the age band on its first care day.
Roll-ups of the same counts — each facility over all insurers and ages (insurer and age band
"*"), each insurer and age band over all facilities (facility "*") — answer the analyst's
groupings from a few thousand rows; a facility's or an insurer's key reads the detail rows.

Every grouping of rates.py (insurer kind, insurer, branch, age band, facility, prefecture) and
both scopes (a facility, an insurer) fold from these keys, so a summarized month gives the same
answer as its rows (tests/test_stats_summary.py compares both).

**When it is written**: `onshi stats summarize --month M [--to N]`, and by `onshi simulate` at
the end of each month (after its claims are built, filed and reviewed). **Freshness**: the
summary records what it was made from — the month's highest verification id (verifications
are append-only) and the month's claims (their count and highest id). The rates use the
summary of a month only while these still hold (read from the month indexes, a few
milliseconds); a month with a verification or claim added, or a claim deleted or rebuilt,
since, is counted from its rows again until it is summarized again. R-S3 is not summarized:
it counts the registry's members and cards as they stand, which change in place.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import Date, Engine, and_, case, delete, func, insert, literal, literal_column, select, union_all

from .. import config
from ..domain.dates import end_of_month
from ..registry.db import retrying
from ..registry.schema import claim, person, qualification, stats_summary, stats_summary_month, verification
from .sql import ALL, CARD_METHODS, OUTPATIENT_KIND_ENDINGS, Counts, Scope, _yyyymmdd, age_years, band_of_years, first_uses

NO_INSURER = ""  # the verification found no qualification (not_found, multiple…)
_NO_INSURER = literal_column("''")  # the same in SQL, as a literal (GROUP BY repeats it)
MEASURES = ("card_uses", "verifications", "claim_users", "outpatient_users", "claims", "outpatient_claims")
ROLLUP = "*"  # the facility, insurer or age band of a roll-up row: all of them


# ---------------------------------------------------------------- writing


def _month_marks(conn, month: dt.date) -> tuple[int, int, int]:  # noqa: ANN001
    """(highest verification id of the month, highest claim id, claims) — read from the month
    indexes (as_of, id) and (care_month, id) only: one probe a day for the verifications."""
    v, c = verification, claim
    days = [month + dt.timedelta(days=i) for i in range(end_of_month(month).day)]
    per_day = union_all(*[select(func.max(v.c.id).label("m")).where(v.c.as_of == d) for d in days]).subquery("per_day")
    vmax = conn.execute(select(func.max(per_day.c.m))).scalar()
    cmax, n = conn.execute(select(func.max(c.c.id), func.count()).where(c.c.care_month == month)).one()
    return int(vmax or 0), int(cmax or 0), int(n)


def summarize(engine: Engine, month: dt.date) -> dict:
    """Write the summary of one month (replacing the one there was), in one transaction."""
    began = time.perf_counter()
    start, end = month, end_of_month(month)
    v, c, p, ql = verification, claim, person, qualification
    # Each part counts by facility, insurer and age in whole years (the age band's CASE is then
    # evaluated once per group, not once per row); each key expression is built once and used in
    # both SELECT and GROUP BY (the same bound parameters, which PostgreSQL needs to see them as
    # the same expression).
    zero = literal_column("0")
    ins, age = func.coalesce(ql.c.insurer_number, _NO_INSURER), age_years(p.c.birth_date, _yyyymmdd(v.c.as_of))
    rs1 = (
        select(v.c.facility_code.label("facility_code"), ins.label("insurer_number"), age.label("age"),
               func.sum(case((v.c.method.in_(CARD_METHODS), 1), else_=0)).label("card_uses"), func.count().label("verifications"),
               zero.label("first_users"), zero.label("claims"), zero.label("outpatient_claims"))
        .select_from(v.outerjoin(ql, ql.c.id == v.c.qualification_id).outerjoin(p, p.c.id == v.c.person_id))
        .where(v.c.as_of >= start, v.c.as_of <= end, v.c.result != "error")
        .group_by(v.c.facility_code, ins, age)
    )
    first, first_qid, first_day = first_uses(start, end)
    fq = qualification.alias("first_q")
    fp = person.alias("first_p")
    ins, age = func.coalesce(fq.c.insurer_number, _NO_INSURER), age_years(fp.c.birth_date, first_day)
    rs2 = (
        select(first.c.facility_code, ins, age, zero, zero, func.count(), zero, zero)
        .select_from(first.outerjoin(fq, fq.c.id == first_qid).outerjoin(fp, fp.c.id == first.c.person_id))
        .group_by(first.c.facility_code, ins, age)
    )
    outpatient = case((func.substr(c.c.receipt_kind, 4, 1).in_(OUTPATIENT_KIND_ENDINGS), 1), else_=0)
    age = age_years(c.c.birth_date, _yyyymmdd(c.c.first_day))
    claims = (
        select(c.c.facility_code, c.c.insurer_number, age, zero, zero, zero, func.count(), func.sum(outpatient))
        .where(c.c.care_month == month, c.c.origin != "reclaim")  # a re-claim is the same レセプト again
        .group_by(c.c.facility_code, c.c.insurer_number, age)
    )
    ages = union_all(rs1, rs2, claims).subquery("ages")
    parts = select(ages.c.facility_code, ages.c.insurer_number, band_of_years(ages.c.age).label("age_band"),
                   *[ages.c[m] for m in ("card_uses", "verifications", "first_users", "claims", "outpatient_claims")]).subquery("parts")
    keys = (parts.c.facility_code, parts.c.insurer_number, parts.c.age_band)
    users = func.sum(parts.c.first_users)

    def billed(col):  # noqa: ANN001, ANN202 — the persons count only where the facility has such claims that month
        return case((func.sum(func.sum(col)).over(partition_by=parts.c.facility_code) > 0, users), else_=0)

    rows = select(literal(month, Date), *keys, func.sum(parts.c.card_uses), func.sum(parts.c.verifications), billed(parts.c.claims),
                  billed(parts.c.outpatient_claims), func.sum(parts.c.claims), func.sum(parts.c.outpatient_claims)).group_by(*keys)
    s = stats_summary
    detail = and_(s.c.month == month, s.c.facility_code != ROLLUP, s.c.insurer_number != ROLLUP)
    star = literal_column(f"'{ROLLUP}'")
    sums = [func.sum(s.c[m]) for m in MEASURES]
    by_facility = select(s.c.month, s.c.facility_code, star, star, *sums).where(detail).group_by(s.c.month, s.c.facility_code)
    by_insurer_band = select(s.c.month, star, s.c.insurer_number, s.c.age_band, *sums).where(detail).group_by(s.c.month, s.c.insurer_number, s.c.age_band)
    columns = ["month", "facility_code", "insurer_number", "age_band", *MEASURES]

    def write() -> tuple[int, int, int, float]:
        # Two summaries of one month at once: the second's insert meets the first's primary keys
        # and runs again (db.retrying), replacing them — never both, never a traceback.
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # the watermarks and the counts from one snapshot
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                vmax, cmax, nclaims = _month_marks(conn, month)
                conn.execute(delete(stats_summary).where(stats_summary.c.month == month))
                conn.execute(delete(stats_summary_month).where(stats_summary_month.c.month == month))
                conn.execute(insert(stats_summary).from_select(columns, rows))
                n, verifs = conn.execute(select(func.count(), func.coalesce(func.sum(s.c.verifications), 0)).where(detail)).one()
                conn.execute(insert(stats_summary).from_select(columns, by_facility))
                conn.execute(insert(stats_summary).from_select(columns, by_insurer_band))
                seconds = round(time.perf_counter() - began, 3)
                conn.execute(insert(stats_summary_month).values(month=month, verification_max_id=vmax, verifications=int(verifs), claim_max_id=cmax,
                                                                claims=nclaims, rows=int(n), seconds=seconds, summarized_at=config.now()))
        return int(n), int(verifs), nclaims, seconds

    n, verifs, nclaims, seconds = retrying(write)
    return {"month": f"{month:%Y-%m}", "rows": int(n), "verifications": int(verifs), "claims": nclaims, "seconds": seconds}


def drop(engine: Engine, month: dt.date) -> None:
    """Forget a month's summary (its rates are counted from its rows again)."""
    with engine.begin() as conn:
        conn.execute(delete(stats_summary).where(stats_summary.c.month == month))
        conn.execute(delete(stats_summary_month).where(stats_summary_month.c.month == month))


# ---------------------------------------------------------------- reading


def fresh_months(conn, months: list[dt.date]) -> set[dt.date]:  # noqa: ANN001
    """The months among these whose summary still matches their rows."""
    sm = stats_summary_month
    stored = {r.month: (r.verification_max_id, r.claim_max_id, r.claims)
              for r in conn.execute(select(sm.c.month, sm.c.verification_max_id, sm.c.claim_max_id, sm.c.claims).where(sm.c.month.in_(months)))}
    return {m for m, marks in stored.items() if _month_marks(conn, m) == tuple(marks)}


def counts(conn, figure: str, months: list[dt.date], scope: Scope, bases: list[str]) -> Counts:  # noqa: ANN001
    """The counts of R-S1 (`visits`) or R-S2 (`claims`, `claims_outpatient`) of summarized months,
    by base key, as rates.py counts them from the rows."""
    s = stats_summary
    keys = {"insurer": s.c.insurer_number, "age_band": s.c.age_band, "facility": s.c.facility_code}
    base_cond = [s.c.month.in_(months)]
    if scope.facility_code:
        base_cond.append(s.c.facility_code == scope.facility_code)
    if scope.insurer_number:
        base_cond.append(s.c.insurer_number == scope.insurer_number)

    def rows_for(b: str) -> list:  # noqa: ANN202 — which rows answer this base key: a roll-up where one does
        if b == "facility" and scope.everything:
            return [s.c.facility_code != ROLLUP, s.c.insurer_number == ROLLUP]  # each facility's roll-up
        if b != "facility" and not scope.facility_code:
            return [s.c.facility_code == ROLLUP]  # each insurer and age band's roll-up
        return [s.c.facility_code != ROLLUP, s.c.insurer_number != ROLLUP]  # the detail rows

    if figure == "visits":
        num, den = s.c.card_uses, s.c.verifications
    elif figure == "claims_outpatient":
        num, den = s.c.outpatient_users, s.c.outpatient_claims
    else:
        num, den = s.c.claim_users, s.c.claims
    out: Counts = {b: {} for b in bases}
    for b in bases:
        key = ALL if b == "all" else keys[b]
        group = (s.c.month,) if b == "all" else (s.c.month, key)
        where = [*base_cond, *rows_for(b)]
        fix = (lambda k: None if k == NO_INSURER else k) if b == "insurer" else (lambda k: k)
        if figure == "visits":  # R-S1: the groups with verifications
            for m, k, n, d in conn.execute(select(s.c.month, key, func.sum(num), func.sum(den)).where(*where, den > 0).group_by(*group)):
                out[b][(m.year * 100 + m.month, fix(k))] = [int(n), int(d)]
            continue
        # R-S2: the groups with persons (at facilities with claims), then the groups with claims.
        for m, k, n in conn.execute(select(s.c.month, key, func.sum(num)).where(*where, num > 0).group_by(*group)):
            out[b][(m.year * 100 + m.month, fix(k))] = [int(n), 0]
        for m, k, d in conn.execute(select(s.c.month, key, func.sum(den)).where(*where, den > 0).group_by(*group)):
            out[b].setdefault((m.year * 100 + m.month, fix(k)), [0, 0])[1] = int(d)
    return out


__all__ = ["counts", "drop", "fresh_months", "summarize"]
