"""The review of the 審査支払機関 (RULES R-R1–R5), decided on sets with SQL.

Input: the filed claims of a billing month (built from visits or read from UKE files, in
the `claim` table) and the registry as known on the review date (qualifications with
`registered <= review_date`). Output: one `claim_review` row per claim (part 0) with the SN
確認区分, and for a 分割 one row per resulting claim (parts 1..n).

1. The billed numbers (保険者番号・記号・番号, 枝番 when given) and the birth date find the
   billed qualification and its person. It covers every care day → 02 変更なし (R-R3).
2. 不詳 claims (R-R5): complete remarks are matched to persons by folded kana, birth date and
   sex in SQL; the few candidates are compared by folded address in Python. Incomplete
   remarks, no match or several matches → return.
3. For the rest with a person, each care day goes to a registered qualification of that
   person covering it (the billed one first, else the newest): one qualification for every
   day → 04 振替 (R-R1; R-R5 for an identified 不詳 claim); several → 05 分割 (R-R2), one
   claim per qualification with its days.
   A claim without JD (read from a file) carries no care days per payer: it is never split,
   and is re-routed whole only when one qualification covers the whole care month (R-R6). A
   claim without MF is re-routed or split only up to the points of R-R7.
4. Anything else → 返戻 (R-R4, or R-R5 for 不詳; R-R6, R-R7 as above), SN 03 確認不能, with the
   reason; the claim goes back to the facility, which re-claims it once the insurer has
   registered.

A 公費単独 claim has no 医療保険 qualification to review: it passes unchanged (no SN code).

Only step 2's address comparison runs in Python, on the handful of 不詳 candidates
(about 651 不詳 claims a month nationally, R-R5).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    case,
    cast,
    distinct,
    extract,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)

from .. import config
from ..domain.names import fold_address
from . import uke_codes as codes
from .models import DAYS_FROM_JD
from ..registry.schema import claim, claim_review, person, qualification, review_run

_tmp = MetaData()
# Per care day of an undecided claim, the qualification that covers it.
assign = Table(
    "tmp_review_assign", _tmp,
    Column("claim_id", BigInteger), Column("day", Integer), Column("bit", Integer), Column("qid", BigInteger),
    prefixes=["TEMPORARY"],
)
# Per undecided claim: covered days, distinct qualifications, the (smallest) qualification id.
cover = Table(
    "tmp_review_cover", _tmp,
    Column("claim_id", BigInteger), Column("covered", Integer), Column("needed", Integer), Column("quals", Integer), Column("qid", BigInteger),
    prefixes=["TEMPORARY"],
)
# 2^n − 1 for a month of n days: every day of it (R-R6: a claim without JD stands for its month).
_MONTH_MASKS = {28: (1 << 28) - 1, 29: (1 << 29) - 1, 30: (1 << 30) - 1, 31: (1 << 31) - 1}


def _const(value: object):  # noqa: ANN202
    """An inline SQL constant (this module's own text, or an int): no bind parameter to type."""
    if isinstance(value, int):
        return literal_column(str(int(value)))
    quoted = str(value).replace("'", "''")
    return literal_column(f"'{quoted}'")


def _day_of(column):  # noqa: ANN001, ANN202
    return cast(extract("day", column), Integer)


def _month_end(conn: Connection, month):  # noqa: ANN001, ANN202
    """The last day of the month that starts on `month` (a date column), in SQL."""
    if conn.dialect.name == "postgresql":
        return cast(month + literal_column("interval '1 month - 1 day'"), Date)
    return func.date(month, "+1 month", "-1 day")


def no_mf_limit():  # noqa: ANN201
    """R-R7: the points up to which a claim without MF may be re-routed or split, by the
    patient class of its レセプト種別: 後期高齢者 (2nd digit 3), 未就学者 (4th digit 3/4),
    高齢受給者 (7–0), 本人・家族 (the rest)."""
    kind = claim.c.receipt_kind
    return case(
        (func.substr(kind, 2, 1) == "3", _const(codes.NO_MF_LIMITS["kouki"])),
        (func.substr(kind, 4, 1).in_(["3", "4"]), _const(codes.NO_MF_LIMITS["preschool"])),
        (func.substr(kind, 4, 1).in_(["7", "8", "9", "0"]), _const(codes.NO_MF_LIMITS["elderly"])),
        else_=_const(codes.NO_MF_LIMITS["family"]),
    )


BATCH_WORK_MEM = "256MB"  # PostgreSQL: room for the month's hash joins and sorts (this transaction only)


def run(
    conn: Connection, billing_month: dt.date, review_date: dt.date, *, payer: str | None = None, prefecture: int | None = None,
    timings: dict | None = None, work_mem: str = BATCH_WORK_MEM,
) -> int:
    """Review the filed claims of `billing_month`; returns the review run's id. `payer` and
    `prefecture` (of the facility: the first two digits of its 医療機関コード) review a slice
    of the month: a claim's decision depends on the registry and the claim alone, so slices
    decide as one run would, each within the memory of its own joins. `timings`, when given,
    receives the seconds each step took. `work_mem` (PostgreSQL): the memory each hash or sort
    may take before it spills to disk."""
    started = last = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal last
        now = time.perf_counter()
        if timings is not None:
            timings[step] = round(now - last, 3)
        last = now

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7411004)"))  # one review at a time
        if not re.fullmatch(r"[0-9]+(kB|MB|GB)", work_mem):
            raise ValueError(f"work_mem: a PostgreSQL size such as 256MB, not {work_mem!r}")
        conn.execute(text(f"SET LOCAL work_mem = '{work_mem}'"))
        conn.execute(text("SET LOCAL jit = off"))  # compiling the month's plans costs more than it saves
    c, r, q, p = claim, claim_review, qualification, person
    # A claim is reviewed once, by a run of its billing month: only those runs need looking at.
    month_runs = select(review_run.c.id).where(review_run.c.billing_month == billing_month)
    reviewed = select(r.c.claim_id).where(r.c.claim_id == c.c.id, r.c.part == 0, r.c.run_id.in_(month_runs)).exists()
    batch = [c.c.billing_month == billing_month, c.c.status == "filed", ~reviewed]
    if payer:
        batch.append(c.c.payer == payer)
    if prefecture is not None:
        code = f"{prefecture:02d}"  # the range lets an index on the code serve; the prefix decides
        batch += [c.c.facility_code >= code, c.c.facility_code < f"{prefecture + 1:02d}", func.substr(c.c.facility_code, 1, 2) == code]
    run_id = conn.execute(
        insert(review_run).values(
            billing_month=billing_month, review_date=review_date, payer=payer, claims=0, milliseconds=0,
            summary=json.dumps({"prefecture": prefecture}) if prefecture is not None else "{}", created_at=config.now()
        ).returning(review_run.c.id)
    ).scalar_one()
    registered = and_(q.c.registered.is_not(None), q.c.registered <= review_date)
    mine = and_(r.c.run_id == run_id, r.c.part == 0)
    undecided = and_(mine, r.c.outcome.is_(None))

    # 1. The billed qualification (R-R3).
    covers = case((and_(q.c.start <= c.c.first_day, or_(q.c.end.is_(None), q.c.end >= c.c.last_day)), 1), else_=0)
    billed = (
        select(
            c.c.id.label("claim_id"), q.c.id.label("qid"), q.c.person_id, covers.label("covers"),
            func.row_number().over(partition_by=c.c.id, order_by=(covers.desc(), q.c.start.desc(), q.c.id.desc())).label("rn"),
        )
        .select_from(
            c.join(q, and_(q.c.insurer_number == c.c.insurer_number, q.c.number == c.c.number, q.c.symbol == c.c.symbol,
                           or_(c.c.branch == "", q.c.branch == c.c.branch)))
            .join(p, and_(p.c.id == q.c.person_id, p.c.birth_date == c.c.birth_date))
        )
        .where(*batch, c.c.unknown.is_(False), registered, q.c.start <= c.c.last_day)
        .subquery()
    )
    ok = billed.c.covers == 1
    _whole_month_joins(conn, True)
    # Part 0 of an unchanged claim stays narrow (a million of them): its numbers are the claim's.
    conn.execute(
        insert(r).from_select(
            ["run_id", "claim_id", "part", "outcome", "confirm_code", "rule", "person_id", "billed_qualification_id", "qualification_id"],
            select(
                _const(run_id), c.c.id, _const(0),
                case((ok, _const("unchanged"))), case((ok, _const("02"))), case((ok, _const("R-R3"))),
                billed.c.person_id, billed.c.qid, case((ok, billed.c.qid)),
            ).select_from(c.outerjoin(billed, and_(billed.c.claim_id == c.c.id, billed.c.rn == 1))).where(*batch),
        )
    )
    _whole_month_joins(conn, False)
    conn.execute(  # 公費単独: no 医療保険 qualification to review
        update(r).where(undecided, c.c.id == r.c.claim_id, func.substr(c.c.receipt_kind, 2, 1) == "2").values(
            outcome="unchanged", reason=_const("公費単独: no 医療保険 qualification to review"))
    )
    _analyze(conn, r)  # the month's rows are new: later steps plan on them
    lap("billed")

    # 2. 不詳: identify by kana, birth date, sex (SQL) and address (Python, on the candidates) (R-R5).
    _identify_unknown(conn, run_id)
    lap("unknown")

    # 3. Each care day to a registered qualification of the person (R-R1, R-R2). A claim
    # without JD stands for its whole care month (R-R6).
    for table in (assign, cover):
        table.drop(conn, checkfirst=True)
        table.create(conn)
    days = union_all(*[select(literal_column(str(n)).label("n"), literal_column(str(1 << (n - 1))).label("bit")) for n in range(1, 32)]).subquery("dom")
    has_jd = c.c.days_source == DAYS_FROM_JD
    month_end = _month_end(conn, c.c.care_month)
    month_mask = case(*[(_day_of(month_end) == n, _const(mask)) for n, mask in _MONTH_MASKS.items() if n < 31], else_=_const(_MONTH_MASKS[31]))
    care_mask = case((has_jd, c.c.days_mask), else_=month_mask)
    span_first = case((has_jd, c.c.first_day), else_=c.c.care_month)
    span_last = case((has_jd, c.c.last_day), else_=month_end)
    lo = case((q.c.start <= span_first, 1), else_=_day_of(q.c.start))
    hi = case((or_(q.c.end.is_(None), q.c.end >= span_last), 31), else_=_day_of(q.c.end))
    with_person = and_(undecided, r.c.person_id.is_not(None))
    ranked = (
        select(
            r.c.claim_id, days.c.n.label("day"), days.c.bit, q.c.id.label("qid"),
            func.row_number().over(
                partition_by=(r.c.claim_id, days.c.n),
                order_by=(case((q.c.id == r.c.billed_qualification_id, 0), else_=1), q.c.start.desc(), q.c.id.desc()),
            ).label("rn"),
        )
        .select_from(
            r.join(c, c.c.id == r.c.claim_id)
            .join(days, care_mask.op("&")(days.c.bit) != 0)
            .join(q, and_(q.c.person_id == r.c.person_id, registered, q.c.start <= span_last,
                          or_(q.c.end.is_(None), q.c.end >= span_first)))
        )
        .where(with_person, days.c.n >= lo, days.c.n <= hi)
        .subquery()
    )
    conn.execute(insert(assign).from_select(["claim_id", "day", "bit", "qid"], select(ranked.c.claim_id, ranked.c.day, ranked.c.bit, ranked.c.qid).where(ranked.c.rn == 1)))
    _analyze(conn, assign)
    needed = (
        select(r.c.claim_id, days.c.n.label("day"))
        .select_from(r.join(c, c.c.id == r.c.claim_id).join(days, care_mask.op("&")(days.c.bit) != 0))
        .where(with_person)
        .subquery("needed")
    )
    conn.execute(insert(cover).from_select(
        ["claim_id", "covered", "needed", "quals", "qid"],
        select(needed.c.claim_id, func.count(assign.c.qid), func.count(), func.count(distinct(assign.c.qid)), func.min(assign.c.qid))
        .select_from(needed.outerjoin(assign, and_(assign.c.claim_id == needed.c.claim_id, assign.c.day == needed.c.day)))
        .group_by(needed.c.claim_id),
    ))
    _analyze(conn, cover)
    whole = and_(cover.c.claim_id == r.c.claim_id, c.c.id == r.c.claim_id, cover.c.covered == cover.c.needed)
    # R-R7: without MF, 振替 and 分割 only up to the class's points, and only from the 2023-03 billing.
    mf_ok = or_(c.c.has_mf.is_(True), c.c.points <= no_mf_limit()) if billing_month >= codes.NO_MF_LIMIT_FROM else c.c.has_mf.is_(True)
    conn.execute(
        update(r).where(undecided, whole, cover.c.quals == 1, q.c.id == cover.c.qid, mf_ok).values(
            outcome="rerouted", confirm_code="04",
            rule=case((c.c.unknown.is_(True), _const("R-R5")), else_=_const("R-R1")),
            qualification_id=cover.c.qid, insurer_number=q.c.insurer_number, symbol=q.c.symbol, number=q.c.number, branch=q.c.branch,
            reason=case(
                (c.c.unknown.is_(True), _const("R-R5: identified by kana name, birth date, sex and address; routed to the registered qualification")),
                (has_jd, _const("R-R1: the billed qualification did not cover the care days; re-routed to the registered one that does")),
                else_=_const("R-R1/R-R6: no JD: re-routed whole to the registered qualification that covers the whole care month"),
            ),
        )
    )
    conn.execute(
        update(r).where(undecided, whole, cover.c.quals >= 2, has_jd, mf_ok).values(
            outcome="split", confirm_code="05", rule="R-R2",
            reason=case(
                (c.c.unknown.is_(True), _const("R-R5/R-R2: identified; the month is split between the person's qualifications")),
                else_=_const("R-R2: the month is split between two or more qualifications"),
            ),
        )
    )
    day = review_date.isoformat()
    no_mf = ("R-R7: no MF record, and the claim's points are over what may be re-routed or split without it (11,800 本人・家族, "
             "17,700 未就学者, 4,000 高齢受給者, 3,000 後期高齢者)" if billing_month >= codes.NO_MF_LIMIT_FROM
             else "R-R7: no MF record: before the 2023-03 billing a claim without MF is not re-routed or split")
    conn.execute(
        update(r).where(undecided, whole, ~mf_ok).values(outcome="returned", confirm_code="03", rule="R-R7", reason=_const(no_mf))
    )
    conn.execute(
        update(r).where(with_person, c.c.id == r.c.claim_id, ~has_jd).values(
            outcome="returned", confirm_code="03", rule="R-R6",
            reason=_const(f"R-R6: no JD record (care days per payer), so the claim is not split; no qualification registered by {day} "
                          "covers the whole care month"),
        )
    )
    parts = (
        select(
            _const(run_id), assign.c.claim_id,
            func.row_number().over(partition_by=assign.c.claim_id, order_by=func.min(assign.c.day)),
            _const("split"), _const("05"), _const("R-R2"), q.c.person_id, q.c.id, q.c.insurer_number, q.c.symbol, q.c.number, q.c.branch,
            func.sum(assign.c.bit), func.count(),
        )
        .select_from(assign.join(r, and_(r.c.claim_id == assign.c.claim_id, mine)).join(q, q.c.id == assign.c.qid))
        .where(r.c.outcome == "split")
        .group_by(assign.c.claim_id, q.c.id, q.c.person_id, q.c.insurer_number, q.c.symbol, q.c.number, q.c.branch)
    )
    conn.execute(insert(r).from_select(
        ["run_id", "claim_id", "part", "outcome", "confirm_code", "rule", "person_id", "qualification_id", "insurer_number", "symbol",
         "number", "branch", "days_mask", "days"],
        parts,
    ))
    lap("reroute_split")

    # 4. Everything else goes back to the facility (R-R4; R-R5 for 不詳).
    conn.execute(
        update(r).where(undecided, c.c.id == r.c.claim_id).values(
            outcome="returned", confirm_code="03",
            rule=case((c.c.unknown.is_(True), _const("R-R5")), else_=_const("R-R4")),
            reason=case(
                (and_(c.c.unknown.is_(True), r.c.person_id.is_(None)),
                 _const("R-R5: no registered person matches the kana name, birth date, sex and address")),
                (c.c.unknown.is_(True), _const(f"R-R5: identified, but no qualification registered by {day} covers every care day")),
                (r.c.person_id.is_(None), _const(f"R-R4: the billed numbers match no qualification registered by {day} for this birth date")),
                else_=_const(f"R-R4: the billed qualification does not cover the care days and no qualification registered by {day} covers them"),
            ),
        )
    )
    for table in (assign, cover):
        table.drop(conn)
    lap("returns")

    # 5. The summary. (Paid or returned is the claim's part 0: no second pass over the month.)
    counts = dict(conn.execute(select(r.c.outcome, func.count()).where(mine).group_by(r.c.outcome)).all())
    total = sum(counts.values())
    summary = {"claims": total, **{k: counts.get(k, 0) for k in ("unchanged", "rerouted", "split", "returned")}}
    if prefecture is not None:
        summary["prefecture"] = prefecture
    conn.execute(
        update(review_run).where(review_run.c.id == run_id).values(
            claims=total, milliseconds=int((time.perf_counter() - started) * 1000), summary=json.dumps(summary)
        )
    )
    return run_id


def _analyze(conn: Connection, table: Table) -> None:
    """PostgreSQL plans on statistics; rows added in this transaction (and temporary tables,
    which autovacuum never sees) have none until analysed."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {table.name}"))


def _whole_month_joins(conn: Connection, on: bool) -> None:
    """PostgreSQL, step 1 only: hash joins in the order written. The planner misjudges the
    three-column join on the numbers and would loop over a million rows; the later steps
    handle a few claims each and want their index lookups back."""
    if conn.dialect.name != "postgresql":
        return
    for setting, value in (("enable_nestloop", "off"), ("enable_mergejoin", "off"), ("join_collapse_limit", "1")):
        conn.execute(text(f"SET LOCAL {setting} = {value}" if on else f"SET LOCAL {setting} = DEFAULT"))


def _identify_unknown(conn: Connection, run_id: int) -> None:
    c, r, p = claim, claim_review, person
    # This run's 不詳 claims: few, found from the claim side (a probe of the run's key each).
    batch = [c.c.unknown.is_(True), select(r.c.claim_id).where(r.c.run_id == run_id, r.c.claim_id == c.c.id, r.c.part == 0).exists()]
    rows = conn.execute(select(c.c.id, c.c.kana_key, c.c.address_key, c.c.sex).where(*batch)).all()
    if not rows:
        return
    returns: list[dict] = []
    for cid, kana, address, sex in rows:
        missing = [name for name, value in (("kana name", kana), ("address", address), ("sex", sex)) if not value]
        if missing:
            returns.append({"cid": cid, "why": f"R-R5: incomplete remarks (missing {', '.join(missing)}): the person cannot be identified"})
    # The kana and address as any insurer of the person holds them (each insurer's own, on its qualification).
    q = qualification.alias("member")
    person_kana = func.replace(func.replace(func.replace(q.c.kana, " ", ""), "\u3000", ""), "・", "")
    candidates: dict[int, list[tuple[int, str | None, str]]] = {}
    for cid, pid, paddress, caddress in conn.execute(
        select(c.c.id, p.c.id, q.c.address, c.c.address_key)
        .select_from(c.join(p, and_(p.c.birth_date == c.c.birth_date, p.c.sex == c.c.sex)).join(q, and_(q.c.person_id == p.c.id, person_kana == c.c.kana_key)))
        .where(*batch, c.c.kana_key.is_not(None), c.c.address_key.is_not(None))
    ):
        candidates.setdefault(cid, []).append((pid, paddress, caddress))
    found: list[dict] = []
    for cid, people in candidates.items():
        matching = sorted({pid for pid, paddress, caddress in people if paddress and fold_address(paddress) == caddress})
        if len(matching) == 1:
            found.append({"cid": cid, "pid": matching[0]})
        elif len(matching) > 1:
            returns.append({"cid": cid, "why": f"R-R5: {len(matching)} registered persons match the remarks; the person cannot be identified"})
    where = and_(r.c.run_id == run_id, r.c.part == 0, r.c.claim_id == bindparam("cid"))
    if found:
        conn.execute(update(r).where(where).values(person_id=bindparam("pid")), found)
    if returns:
        conn.execute(update(r).where(where).values(outcome="returned", confirm_code="03", rule="R-R5", reason=bindparam("why")), returns)
