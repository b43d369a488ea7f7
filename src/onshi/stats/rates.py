"""R-S1, R-S2 and R-S3 and the counts behind them, computed with set-based SQL on the registry
database for a month or a range of months (definitions.py says what each counts).

Each figure is one or two GROUP BY queries over the month's rows, keyed by month and by one
*base key*: nothing, the insurer number, the age band on the day, or the facility code. The
groupings asked for are folded from the base key in Python over the small insurer and
facility tables (kind, 協会けんぽ branch, prefecture), so a query never joins more than it needs.
Numerators and denominators are added up, never rates: a group's rate is Σ numerator ÷ Σ
denominator.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from sqlalchemy import Date, Engine, and_, case, func, literal, or_, select, tuple_, union_all

from ..domain.card import CardPolicy
from ..domain.dates import add_months, end_of_month
from ..domain.errors import Forbidden, InputError
from ..claims.models import parse_month
from ..policy import load_policy
from ..registry.schema import card, claim, facility, insurer, person, qualification, verification
from . import summary
from .definitions import AGE_BANDS, BAND_NAMES, DIMENSIONS, KIND_NAMES, REGISTRATION_DIMENSIONS, UNKNOWN, USAGE_FORMULAS, prefecture_name
from .sql import (  # noqa: F401 — Scope and the SQL pieces are rates' API too
    ALL, CARD_METHODS, OUTPATIENT_KIND_ENDINGS, PACK, Counts, Scope, _band_of_age, _int, _yyyymmdd, age_band, age_years, band_of_years, first_uses,
    month_key,
)

MAX_MONTHS = 120


# ---------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Row:
    month: str  # YYYY-MM
    group: str  # "all", an age band, an insurer kind or number, a prefecture code, a facility code, "unknown"
    numerator: int
    denominator: int
    label: str = ""

    @property
    def rate(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    def to_dict(self) -> dict:
        return {"month": self.month, "group": self.group, "numerator": self.numerator, "denominator": self.denominator, "rate": self.rate}


@dataclass(frozen=True)
class Query:
    """A validated request for one figure over a range of months."""

    figure: str  # visits | claims | claims_outpatient | registration
    start: dt.date  # first day of the first month
    end: dt.date  # first day of the last month
    by: str | None = None

    @property
    def months(self) -> list[dt.date]:
        out, m = [], self.start
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out


def parse_query(kind: str, month: object, to: object = None, by: object = None, formula: object = None) -> Query:
    """Check a request's fields (kind usage|registration); InputError names each bad one."""
    errors = []
    start = end = None
    try:
        start = parse_month(month, "month")
    except InputError as exc:
        errors += exc.errors
    try:
        end = parse_month(to, "to") if to not in (None, "") else start
    except InputError as exc:
        errors += exc.errors
    if by in ("", "all"):
        by = None
    allowed = REGISTRATION_DIMENSIONS if kind == "registration" else tuple(DIMENSIONS)
    if by is not None and by not in allowed:
        why = " (registration counts members of insurers: it has no facility)" if kind == "registration" and by in DIMENSIONS else ""
        errors.append(InputError("by", f"must be one of {', '.join(allowed)}{why}").errors[0])
    if kind == "registration":
        if formula not in (None, "", "registration"):
            errors.append(InputError("formula", "does not apply to registration (R-S3)").errors[0])
        figure = "registration"
    else:
        figure = formula or "visits"
        if figure not in USAGE_FORMULAS:
            errors.append(InputError("formula", f"must be one of {', '.join(USAGE_FORMULAS)}").errors[0])
    if start and end:
        if end < start:
            errors.append(InputError("to", "is before month").errors[0])
        elif (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            errors.append(InputError("to", f"at most {MAX_MONTHS} months at once").errors[0])
    if errors:
        raise InputError(errors)
    return Query(figure, start, end, by)


# ---------------------------------------------------------------- SQL pieces


def _base(by: str | None) -> str:
    if by in ("insurer_kind", "insurer", "branch"):
        return "insurer"
    if by in ("facility", "facility_prefecture"):
        return "facility"
    return by or "all"


def _ym_text(ym: int) -> str:
    return f"{ym // 100:04d}-{ym % 100:02d}"


# ---------------------------------------------------------------- counting by several base keys at once

def _grouped(conn, ym, keys: dict[str, object], measures: list, source: Callable[[str], object], cond: list, bases: list[str],  # noqa: ANN001
             one_pass=None) -> dict[str, list]:  # noqa: ANN001
    """Rows (yyyymm, key, *measures) per base key: one GROUP BY per base, each joining only what
    its key needs (`source(base)`), which PostgreSQL hash-aggregates in parallel; GROUPING SETS
    over a month of verifications sort it and were slower. With `one_pass` (a source joining
    everything) PostgreSQL counts all bases at once instead."""
    out: dict[str, list] = {}
    if one_pass is not None and conn.dialect.name == "postgresql" and len(bases) > 1:
        # The source is itself an aggregate (R-S2's first uses): count every base from one
        # computation of it (GROUPING SETS) rather than recompute it per base.
        named = [b for b in bases if b != "all"]
        cols = [keys[b] for b in named]
        sets = ([tuple_(ym)] if "all" in bases else []) + [tuple_(ym, c) for c in cols]
        stmt = select(ym, *cols, *[func.grouping(c) for c in cols], *measures).select_from(one_pass).where(*cond).group_by(func.grouping_sets(*sets))
        n = len(named)
        for r in conn.execute(stmt):
            flags, values = r[1 + n:1 + 2 * n], tuple(r[1 + 2 * n:])
            i = next((i for i, f in enumerate(flags) if f == 0), None)
            out.setdefault("all" if i is None else named[i], []).append((r[0], "all" if i is None else r[1 + i], *values))
        return out
    for b in bases:
        key = ALL if b == "all" else keys[b]
        group = (ym,) if b == "all" else (ym, key)
        out[b] = list(conn.execute(select(ym, key, *measures).select_from(source(b)).where(*cond).group_by(*group)))
    return out


# ---------------------------------------------------------------- R-S1


def _usage_visits(conn, q: Query, scope: Scope, bases: list[str]) -> Counts:  # noqa: ANN001
    v, p, ql = verification, person, qualification

    def source(base: str):  # noqa: ANN202
        s = v
        if base == "insurer" or scope.insurer_number:
            s = s.outerjoin(ql, ql.c.id == v.c.qualification_id)
        if base == "age_band":
            s = s.outerjoin(p, p.c.id == v.c.person_id)
        return s

    keys = {"insurer": ql.c.insurer_number, "age_band": age_band(p.c.birth_date, v.c.as_of), "facility": v.c.facility_code}
    cond = [v.c.as_of >= q.start, v.c.as_of <= end_of_month(q.end), v.c.result != "error"]
    if scope.facility_code:
        cond.append(v.c.facility_code == scope.facility_code)
    if scope.insurer_number:
        cond.append(ql.c.insurer_number == scope.insurer_number)
    used = func.sum(case((v.c.method.in_(CARD_METHODS), 1), else_=0))
    rows = _grouped(conn, month_key(v.c.as_of), keys, [used, func.count()], source, cond, bases)
    return {b: {(r[0], r[1]): [int(r[2] or 0), int(r[3])] for r in rows.get(b, [])} for b in bases}


# ---------------------------------------------------------------- R-S2


def _claims_filter(q: Query, scope: Scope, outpatient: bool) -> list:
    c = claim
    cond = [c.c.care_month >= q.start, c.c.care_month <= q.end, c.c.origin != "reclaim"]  # a re-claim is the same レセプト again
    if outpatient:
        cond.append(func.substr(c.c.receipt_kind, 4, 1).in_(OUTPATIENT_KIND_ENDINGS))
    if scope.facility_code:
        cond.append(c.c.facility_code == scope.facility_code)
    if scope.insurer_number:
        cond.append(c.c.insurer_number == scope.insurer_number)
    return cond


def _usage_claims(conn, q: Query, scope: Scope, bases: list[str], outpatient: bool) -> Counts:  # noqa: ANN001
    c, p, ql = claim, person, qualification
    first, first_qid, first_day = first_uses(q.start, end_of_month(q.end), scope.facility_code)
    # Only facility-months that issued claims count (a facility without claims has no rate).
    billed = select(c.c.facility_code, month_key(c.c.care_month).label("ym")).where(*_claims_filter(q, Scope(scope.facility_code), outpatient)).distinct().subquery("billed")

    def source(base: str):  # noqa: ANN202
        s = first.join(billed, and_(billed.c.facility_code == first.c.facility_code, billed.c.ym == first.c.ym))
        if base == "insurer" or scope.insurer_number:
            s = s.outerjoin(ql, ql.c.id == first_qid)
        if base == "age_band":
            s = s.outerjoin(p, p.c.id == first.c.person_id)
        return s

    keys = {"insurer": ql.c.insurer_number, "age_band": _band_of_age(p.c.birth_date, first_day), "facility": first.c.facility_code}
    cond = [ql.c.insurer_number == scope.insurer_number] if scope.insurer_number else []
    out: Counts = {b: {} for b in bases}
    everything = source("insurer").outerjoin(p, p.c.id == first.c.person_id)
    for b, rows in _grouped(conn, first.c.ym, keys, [func.count()], source, cond, bases, one_pass=everything).items():
        for ym, k, n in rows:
            out[b][(ym, k)] = [int(n), 0]
    # The month's claims (レセプト) of each facility.
    ckeys = {"insurer": c.c.insurer_number, "age_band": age_band(c.c.birth_date, c.c.first_day), "facility": c.c.facility_code}
    for b, rows in _grouped(conn, month_key(c.c.care_month), ckeys, [func.count()], lambda _b: c, _claims_filter(q, scope, outpatient), bases).items():
        for ym, k, n in rows:
            out[b].setdefault((ym, k), [0, 0])[1] = int(n)
    return out


# ---------------------------------------------------------------- R-S3


def _grace_cutoff(day: dt.date) -> dt.date:
    """The earliest card or certificate expiry whose insurance registration still stands on
    `day`, so that the SQL compares one date. R-B4: the registration is cancelled past the
    grace period (the end of the 3rd month after expiry, R-B2). Before 2025-12-02 an expired
    card could not verify at all (no grace), but nothing cancelled its registration sooner, so
    the same three months are counted then (CardPolicy's default)."""
    months = load_policy().at(day).card.grace_months or CardPolicy().grace_months
    return add_months(day.replace(day=1), -months)


def _registration(conn, q: Query, scope: Scope, bases: list[str]) -> Counts:  # noqa: ANN001
    ql, p, cd = qualification, person, card
    days = [end_of_month(m) for m in q.months]
    mt = union_all(*[select(literal(d, Date).label("day"), literal(_grace_cutoff(d), Date).label("cutoff")) for d in days]).subquery("month_end")
    # Persons holding an insurance-registered card usable on the day (R-B1, R-B2, R-B4).
    registered = (
        select(mt.c.day, cd.c.person_id)
        .select_from(cd.join(mt, and_(
            cd.c.issued <= mt.c.day, cd.c.insurance_registered <= mt.c.day, or_(cd.c.revoked.is_(None), cd.c.revoked > mt.c.day),
            cd.c.cert_expires >= mt.c.cutoff, cd.c.card_expires >= mt.c.cutoff,
        )))
        .group_by(mt.c.day, cd.c.person_id)
        .subquery("registered")
    )

    def source(base: str):  # noqa: ANN202
        s = ql.join(mt, and_(ql.c.start <= mt.c.day, or_(ql.c.end.is_(None), ql.c.end >= mt.c.day))).outerjoin(
            registered, and_(registered.c.day == mt.c.day, registered.c.person_id == ql.c.person_id))
        return s.join(p, p.c.id == ql.c.person_id) if base == "age_band" else s

    keys = {"insurer": ql.c.insurer_number, "age_band": age_band(p.c.birth_date, mt.c.day)}
    cond = [ql.c.insurer_number == scope.insurer_number] if scope.insurer_number else []
    measures = [func.count(registered.c.person_id), func.count()]
    ym = month_key(mt.c.day)
    if len([b for b in bases if b in ("insurer", "age_band")]) + ("all" in bases) < 2:
        rows = _grouped(conn, ym, keys, measures, source, cond, bases)
        return {b: {(r[0], r[1]): [int(r[2]), int(r[3])] for r in rows.get(b, [])} for b in bases}
    # Several groupings: one scan counts by insurer and age band together (a few thousand rows;
    # every member has an insurer and a person) and each grouping is summed from it.
    # The age in whole years is grouped on and its band named here (band_of_years in Python): the
    # band's CASE per member cost more than the scan.
    out: Counts = {b: {} for b in bases}
    age = age_years(p.c.birth_date, _yyyymmdd(mt.c.day))
    stmt = select(ym, keys["insurer"], age, *measures).select_from(source("age_band")).where(*cond).group_by(ym, keys["insurer"], age)
    for month, ins, years, n, d in conn.execute(stmt):
        band = UNKNOWN if years is None else next((name for name, _lo, hi in AGE_BANDS if hi is not None and years <= hi), AGE_BANDS[-1][0])
        for b, key in (("all", "all"), ("insurer", ins), ("age_band", band)):
            if b in out:
                entry = out[b].setdefault((month, key), [0, 0])
                entry[0] += int(n)
                entry[1] += int(d)
    return out


# ---------------------------------------------------------------- folding base keys into groups


class _Names:
    """Insurers and facilities as the groupings need them (kind, branch, prefecture, name)."""

    def __init__(self, conn, bys: list[str | None]):  # noqa: ANN001
        self.insurers: dict[str, tuple[str, int, str]] = {}
        self.facilities: dict[str, tuple[int, str]] = {}
        bases = {_base(by) for by in bys}
        if "insurer" in bases:
            self.insurers = {r.number: (r.kind, r.prefecture, r.name) for r in conn.execute(select(insurer.c.number, insurer.c.kind, insurer.c.prefecture, insurer.c.name))}
        if "facility" in bases:
            self.facilities = {r.code: (r.prefecture, r.name) for r in conn.execute(select(facility.c.code, facility.c.prefecture, facility.c.name))}

    def group(self, by: str | None, key: object) -> tuple[str, str] | None:
        """(group, label) of a base key, or None when the row is outside the grouping."""
        if by is None:
            return "all", "全体"
        if by == "age_band":
            return (str(key), str(key)) if key in BAND_NAMES else (UNKNOWN, KIND_NAMES[UNKNOWN])
        if by in ("insurer_kind", "insurer", "branch"):
            found = self.insurers.get(key) if key is not None else None
            if by == "branch":  # 協会けんぽ members only, by the branch (都道府県支部) they belong to
                if found is None or found[0] != "kyokai":
                    return None
                return f"{found[1]:02d}", f"{prefecture_name(found[1])}支部"
            if found is None:
                return UNKNOWN, KIND_NAMES[UNKNOWN]
            return (found[0], KIND_NAMES.get(found[0], found[0])) if by == "insurer_kind" else (str(key), found[2])
        found_f = self.facilities.get(key)
        if found_f is None:
            return UNKNOWN, KIND_NAMES[UNKNOWN]
        return (str(key), found_f[1]) if by == "facility" else (f"{found_f[0]:02d}", prefecture_name(found_f[0]))


def _order(by: str | None, group: str) -> tuple:
    if group == UNKNOWN:
        return (2, "")
    if by == "age_band":
        return (0, f"{BAND_NAMES.index(group):02d}")
    return (0, group)


def _fold(q: Query, counts: dict[tuple[int, object], list[int]], names: _Names) -> list[Row]:
    sums: dict[tuple[int, str], list] = {}
    for (ym, key), (num, den) in counts.items():
        g = names.group(q.by, key)
        if g is None:
            continue
        entry = sums.setdefault((int(ym), g[0]), [0, 0, g[1]])
        entry[0] += num
        entry[1] += den
    if q.by is None:  # the national series has every month, data or not
        for m in q.months:
            sums.setdefault((m.year * 100 + m.month, "all"), [0, 0, "全体"])
    rows = [Row(_ym_text(ym), group, n, d, label) for (ym, group), (n, d, label) in sums.items()]
    return sorted(rows, key=lambda r: (r.month, _order(q.by, r.group)))


def _counts(conn, q: Query, scope: Scope, bases: list[str], use_summary: bool = True) -> Counts:  # noqa: ANN001
    """The counts of a figure: R-S1 and R-S2 of the months summarized and unchanged since from
    the summary (summary.py), of the other months from their rows; R-S3 from the registry."""
    if q.figure == "registration" and scope.facility_code:
        raise Forbidden("X-API-Key", "registration rates (R-S3) are about insurers' members: an analyst or insurer key is needed")
    if q.figure == "registration" or not use_summary:
        return _raw_counts(conn, q, scope, bases)
    summarized = summary.fresh_months(conn, q.months)
    out = summary.counts(conn, q.figure, sorted(summarized), scope, bases) if summarized else {b: {} for b in bases}
    run: list[dt.date] = []
    for m in [*q.months, None]:  # each run of consecutive months not summarized: their rows
        if m is not None and m not in summarized:
            run.append(m)
            continue
        if run:
            for b, got in _raw_counts(conn, Query(q.figure, run[0], run[-1], q.by), scope, bases).items():
                out[b].update(got)
            run = []
    return out


def _raw_counts(conn, q: Query, scope: Scope, bases: list[str]) -> Counts:  # noqa: ANN001
    if q.figure == "visits":
        return _usage_visits(conn, q, scope, bases)
    if q.figure in ("claims", "claims_outpatient"):
        return _usage_claims(conn, q, scope, bases, outpatient=q.figure == "claims_outpatient")
    return _registration(conn, q, scope, bases)


def compute(engine: Engine, q: Query, scope: Scope = Scope(), *, use_summary: bool = True) -> list[Row]:
    """The rows of one figure (R-S1, R-S2, its 外来のみ variant, or R-S3) over the query's months
    (with use_summary=False from the months' rows even where a summary holds: the same answer)."""
    with engine.connect() as conn:
        counts = _counts(conn, q, scope, [_base(q.by)], use_summary)[_base(q.by)]
        names = _Names(conn, [q.by])
    return _fold(q, counts, names)


def compute_many(engine: Engine, kind: str, month: object, to: object = None, *, bys: list[str | None], formula: str | None = None,
                 scope: Scope = Scope(), use_summary: bool = True) -> dict[str | None, list[Row]]:
    """One figure by several groupings, each base key counted once."""
    queries = {by: parse_query(kind, month, to, by, formula) for by in bys}
    first = next(iter(queries.values()))
    bases = list(dict.fromkeys(_base(by) for by in bys))
    with engine.connect() as conn:
        counts = _counts(conn, first, scope, bases, use_summary)
        names = _Names(conn, bys)
    return {by: _fold(q, counts[_base(by)], names) for by, q in queries.items()}


def every_rate(engine: Engine, month: dt.date, scope: Scope = Scope(), *, use_summary: bool = True,
               timings: dict | None = None) -> dict[str, list[Row]]:
    """Every figure of one month by every grouping (the benchmark's "every rate"); `timings`
    receives the seconds of each figure."""
    out = {}
    for figure in (*USAGE_FORMULAS, "registration"):
        if figure == "registration" and scope.facility_code:
            continue
        began = time.perf_counter()
        if figure == "registration":
            got = compute_many(engine, "registration", month, bys=[None, *REGISTRATION_DIMENSIONS], scope=scope)
        else:
            got = compute_many(engine, "usage", month, bys=[None, *DIMENSIONS], formula=figure, scope=scope, use_summary=use_summary)
        for by, rows in got.items():
            out[f"{figure}:{by or 'all'}"] = rows
        if timings is not None:
            timings[figure] = round(time.perf_counter() - began, 3)
    return out


def national(rows: Iterable[Row]) -> dict[str, float | None]:
    """month → rate of the rows of group "all"."""
    return {r.month: r.rate for r in rows if r.group == "all"}


__all__ = ["CARD_METHODS", "Query", "Row", "Scope", "compute", "compute_many", "every_rate", "parse_query"]
