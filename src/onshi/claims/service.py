"""Claims as the interfaces use them: one function per business operation.

A claim's life: `build` (from the month's visits: status built) → `write` (the UKE file for
the billing month: filed) → `review` (paid, or returned: the outcome of its one review) →
`reclaim` (a returned claim is filed again for a later billing month, once — the returned
one becomes reclaimed; the new one is paid when the review finds the qualification). Claims read from other facilities' UKE files enter as filed (`load_file`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Mapping

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import config
from ..domain import numbers as num
from ..domain.dates import end_of_month
from ..domain.errors import Conflict, Forbidden, InputError, NotFound
from ..domain.names import fold_address, fold_kana
from ..registry.schema import claim, claim_review, facility, review_run, visit
from . import review as review_sql
from . import uke
from .build import load_facilities, load_month
from .checklist import check_unknown_claim
from .models import DAYS_FROM_JD, Claim, FacilityHeader, Finding, Numbers, Remarks, days_of_mask, next_month
from .uke_layouts import DENTAL, PHARMACY

REVIEW_OUTCOMES = ("unchanged", "rerouted", "split", "returned")


@dataclass
class UkeFile:
    facility_code: str
    billing_month: dt.date
    payer: str
    text: str
    claims: int

    @property
    def filename(self) -> str:
        # RECEIPTC (医科), RECEIPTS (歯科), RECEIPTY (調剤: the name is not confirmed)
        kind = {DENTAL: "S", PHARMACY: "Y"}.get(self.facility_code[2:3], "C")
        return f"RECEIPT{kind}_{self.facility_code}_{self.billing_month:%Y%m}_{self.payer}.UKE"

    @property
    def content(self) -> bytes:
        return uke.encode(self.text)


@dataclass
class WriteResult:
    files: list[UkeFile] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)  # 不詳 claims that fail the checklist, not written

    def to_dict(self) -> dict:
        return {
            "files": [{"filename": f.filename, "payer": f.payer, "billing_month": f"{f.billing_month:%Y-%m}", "claims": f.claims} for f in self.files],
            "held": self.held,
        }


# ---------------------------------------------------------------- rows ⇄ claims


def claim_values(c: Claim, *, status: str, origin: str, created_at: dt.datetime | None = None) -> dict:
    remarks = c.remarks if c.unknown else None
    kana = (remarks.kana if remarks else None) or c.kana
    return dict(
        facility_code=c.facility_code, payer=c.payer, care_month=c.care_month, billing_month=c.billing_month, receipt_no=c.receipt_no,
        patient_ref=c.patient_ref, basis=c.basis, receipt_kind=c.receipt_kind, insurer_number=c.insurer_number, symbol=c.symbol,
        number=c.number, branch=c.branch, qualification_id=c.qualification_id, unknown=c.unknown, relation=c.relation, name=c.name,
        kana=c.kana, birth_date=c.birth_date, sex=c.sex, copay_percent=c.copay_percent, days=c.days, days_mask=c.days_mask,
        first_day=c.first_day, last_day=c.last_day, points=c.points, copay_amount=c.copay_amount,
        remarks=json.dumps(remarks.to_dict(), ensure_ascii=False) if remarks else None,
        kana_key=fold_kana(kana) or None if c.unknown and kana else None,
        address_key=fold_address(remarks.address) or None if remarks and remarks.address else None,
        checks=json.dumps([f.to_dict() for f in c.checks], ensure_ascii=False) if c.checks else None,
        status=status, origin=origin, created_at=created_at or config.now(),
        public_payer=c.public_payer or None, public_recipient=c.public_recipient or None,
        days_source=c.days_source, has_mf=c.has_mf, records="\n".join(c.records) if c.records else None,
    )


def claim_from_row(row: Mapping) -> Claim:
    remarks = None
    if row["remarks"]:
        data = json.loads(row["remarks"])
        remarks = Remarks.from_mapping(data)
    checks = tuple(Finding(f["rule"], f["message"], f["severity"]) for f in json.loads(row["checks"] or "[]"))
    return Claim(
        facility_code=row["facility_code"], care_month=row["care_month"], patient_ref=row["patient_ref"], name=row["name"],
        birth_date=row["birth_date"], insurer_number=row["insurer_number"], number=row["number"], symbol=row["symbol"],
        branch=row["branch"], care_days=days_of_mask(row["days_mask"]), copay_percent=row["copay_percent"], points=row["points"],
        kana=row["kana"], sex=row["sex"], relation=row["relation"], unknown=row["unknown"], remarks=remarks,
        copay_amount=row["copay_amount"], receipt_no=row["receipt_no"], receipt_kind=row["receipt_kind"], basis=row["basis"],
        qualification_id=row["qualification_id"], billing_month=row["billing_month"], checks=checks,
        public_payer=row["public_payer"] or "", public_recipient=row["public_recipient"] or "",
        day_count=row["days"], days_source=row["days_source"] or DAYS_FROM_JD, has_mf=row["has_mf"], billed_payer=row["payer"],
        records=tuple(row["records"].split("\n")) if row["records"] else (),
    )


def _with_outcome(*where):  # noqa: ANN002, ANN202
    """Claims with the outcome of their review (a claim is reviewed once)."""
    r = claim_review
    return (
        select(claim, r.c.outcome.label("review_outcome"), r.c.run_id.label("review_run"))
        .select_from(claim.outerjoin(r, and_(r.c.claim_id == claim.c.id, r.c.part == 0)))
        .where(*where)
    )


def status_of(row: Mapping) -> str:
    """built · filed · paid · returned · reclaimed: a filed claim is paid or returned once reviewed."""
    outcome = row.get("review_outcome")
    if row["status"] == "filed" and outcome is not None:
        return "returned" if outcome == "returned" else "paid"
    return row["status"]


def _summary(row: Mapping) -> dict:
    c = claim_from_row(row)
    return {"id": row["id"], "status": status_of(row), "origin": row["origin"], "reclaim_of": row["reclaim_of"],
            "review_run": row.get("review_run"), **c.to_dict()}


def _facility(conn: Connection, code: str) -> Mapping:
    row = conn.execute(select(facility).where(facility.c.code == code)).mappings().first()
    if row is None:
        raise NotFound("facility_code", f"unknown facility {code}")
    return row


# ---------------------------------------------------------------- build


def build(engine: Engine, facility_code: str, month: dt.date, *, remarks: Mapping[str, dict] | None = None, unknown_insurer: str = "77777777") -> dict:
    """The month's claims from the facility's visits. Built claims of the month are replaced;
    a claim already filed is kept and its group is not built again."""
    if unknown_insurer not in num.UNKNOWN_INSURER_NUMBERS:
        raise InputError("unknown_insurer", "must be 77777777 or 77777779 (R-E8)")
    if remarks is not None and not isinstance(remarks, Mapping):
        raise InputError("remarks", "must map patient numbers to remarks")
    with engine.begin() as conn:
        _facility(conn, facility_code)
        month_claims = load_month(conn, facility_code, month, remarks=remarks, unknown_insurer=unknown_insurer)
        conn.execute(claim.delete().where(claim.c.facility_code == facility_code, claim.c.care_month == month, claim.c.status == "built",
                                          claim.c.origin == "visits"))
        filed = {
            (r.patient_ref, r.insurer_number, r.symbol, r.number, r.branch)
            for r in conn.execute(select(claim.c.patient_ref, claim.c.insurer_number, claim.c.symbol, claim.c.number, claim.c.branch).where(
                claim.c.facility_code == facility_code, claim.c.care_month == month, claim.c.origin == "visits"))
        }
        new, already = [], []
        for c in month_claims.claims:
            key = (c.patient_ref, c.insurer_number, c.symbol, c.number, c.branch)
            if key in filed:
                already.append({"patient_ref": c.patient_ref, "insurer_number": c.insurer_number, "number": c.number})
            else:
                new.append(c)
        # One batched INSERT for the month (a simulated month builds thousands), then their ids:
        # after the delete above, the month's built claims are exactly these, one per key.
        if new:
            conn.execute(insert(claim), [claim_values(c, status="built", origin="visits") for c in new])
        key_cols = (claim.c.patient_ref, claim.c.insurer_number, claim.c.symbol, claim.c.number, claim.c.branch)
        ids = {tuple(r[:5]): r[5] for r in conn.execute(select(*key_cols, claim.c.id).where(
            claim.c.facility_code == facility_code, claim.c.care_month == month, claim.c.status == "built", claim.c.origin == "visits"))} if new else {}
        built = [{"id": ids[(c.patient_ref, c.insurer_number, c.symbol, c.number, c.branch)], "status": "built", **c.to_dict()} for c in new]
    return {
        "facility_code": facility_code,
        "care_month": f"{month:%Y-%m}",
        "claims": built,
        "held": [c for c in built if any(f["severity"] == "error" for f in c["checks"])],
        "already_filed": already,
        "self_pay_visits": month_claims.self_pay_visits,
        "skipped_visits": month_claims.skipped,
    }


def build_facilities(engine: Engine, month: dt.date, first_code: str, last_code: str) -> dict:
    """`build` for every facility with visits in the month whose code is between first_code and
    last_code, in one transaction: the month's visits read in one pass (build.load_facilities),
    the claims written with COPY on PostgreSQL. The same claims as `build` facility by facility
    (tests/test_claims_build_month.py); for a simulated month, which builds a million claims."""
    v = visit
    in_month = and_(v.c.care_date >= month, v.c.care_date <= end_of_month(month), v.c.facility_code >= first_code, v.c.facility_code <= last_code)
    mine = and_(claim.c.care_month == month, claim.c.origin == "visits", claim.c.facility_code >= first_code, claim.c.facility_code <= last_code)
    count = held = 0
    with engine.begin() as conn:
        conn.execute(claim.delete().where(mine, claim.c.status == "built", claim.c.facility_code.in_(select(v.c.facility_code).where(in_month).distinct())))
        filed = set(map(tuple, conn.execute(select(claim.c.facility_code, claim.c.patient_ref, claim.c.insurer_number, claim.c.symbol, claim.c.number,
                                        claim.c.branch).where(mine))))
        columns: list[str] | None = None
        rows: list[tuple] = []

        def flush() -> None:
            if not rows:
                return
            if conn.dialect.name == "postgresql":
                quoted = ", ".join(f'"{c}"' for c in columns)
                with conn.connection.driver_connection.cursor() as cur, cur.copy(f"COPY claim ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                conn.execute(insert(claim), [dict(zip(columns, row)) for row in rows])
            rows.clear()

        now = config.now()  # the claims built in this transaction: one creation time
        for code, month_claims in load_facilities(conn, month, first_code, last_code):
            for c in month_claims.claims:
                if (code, c.patient_ref, c.insurer_number, c.symbol, c.number, c.branch) in filed:
                    continue
                values = claim_values(c, status="built", origin="visits", created_at=now)
                columns = columns or list(values)
                rows.append(tuple(values[k] for k in columns))
                count += 1
                held += any(f.severity == "error" for f in c.checks)
            if len(rows) >= 20_000:
                flush()
        flush()
    return {"care_month": f"{month:%Y-%m}", "claims": count, "held": held}


def list_claims(engine: Engine, facility_code: str, month: dt.date) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(_with_outcome(claim.c.facility_code == facility_code, claim.c.care_month == month).order_by(claim.c.id)).mappings().all()
    return [_summary(r) for r in rows]


# ---------------------------------------------------------------- write


def _next_receipt(conn: Connection, facility_code: str, billing_month: dt.date, payer: str) -> int:
    return (conn.execute(select(func.max(claim.c.receipt_no)).where(
        claim.c.facility_code == facility_code, claim.c.billing_month == billing_month, claim.c.payer == payer)).scalar() or 0) + 1


def write(
    engine: Engine,
    facility_code: str,
    month: dt.date,
    *,
    billing_month: dt.date | None = None,
    payer: str | None = None,
    include_failing: bool = False,
) -> WriteResult:
    """File the month's built claims for `billing_month` (default: the next month) and return
    the UKE file of each review body, holding back 不詳 claims that fail the checklist unless
    `include_failing`. The files hold every claim filed for that billing month (re-claims too)."""
    billing_month = billing_month or next_month(month)
    if billing_month <= month:
        raise InputError("billing_month", "must be after the care month")
    if payer not in (None, "1", "2"):
        raise InputError("payer", "must be 1 (支払基金) or 2 (国保連)")
    try:
        return _write(engine, facility_code, month, billing_month, payer, include_failing)
    except IntegrityError:  # a concurrent filing took the same レセプト番号
        raise Conflict("month", f"another filing of {facility_code} for {billing_month:%Y-%m} happened at the same time; try again") from None


def _write(engine: Engine, facility_code: str, month: dt.date, billing_month: dt.date, payer: str | None, include_failing: bool) -> WriteResult:
    out = WriteResult()
    with engine.begin() as conn:
        fac = _facility(conn, facility_code)
        cond = [claim.c.facility_code == facility_code]
        if payer:
            cond.append(claim.c.payer == payer)
        rows = conn.execute(select(claim).where(*cond, claim.c.care_month == month, claim.c.status == "built").order_by(claim.c.patient_ref, claim.c.id)).mappings().all()
        next_no: dict[str, int] = {}
        for row in rows:
            c = claim_from_row(row)
            if c.failing and not include_failing:
                out.held.append({"id": row["id"], "patient_ref": c.patient_ref, "checks": [f.to_dict() for f in c.checks]})
                continue
            if row["payer"] not in next_no:
                next_no[row["payer"]] = _next_receipt(conn, facility_code, billing_month, row["payer"])
            conn.execute(update(claim).where(claim.c.id == row["id"]).values(status="filed", billing_month=billing_month, receipt_no=next_no[row["payer"]]))
            next_no[row["payer"]] += 1
        out.files = _render(conn, fac, billing_month, payer)
    return out


def _render(conn: Connection, fac: Mapping, billing_month: dt.date, payer: str | None) -> list[UkeFile]:
    """The files as filed: every claim the facility filed for the billing month, whatever
    became of it since (paid, returned)."""
    cond = [claim.c.facility_code == fac["code"], claim.c.billing_month == billing_month, claim.c.receipt_no.is_not(None)]
    if payer:
        cond.append(claim.c.payer == payer)
    filed = conn.execute(select(claim).where(*cond).order_by(claim.c.payer, claim.c.receipt_no)).mappings().all()
    files = []
    for code in sorted({r["payer"] for r in filed}):
        claims = [claim_from_row(r) for r in filed if r["payer"] == code]
        header = FacilityHeader(fac["code"], fac["name"], billing_month, code)
        files.append(UkeFile(fac["code"], billing_month, code, uke.write(header, claims), len(claims)))
    return files


def file_month(engine: Engine, month: dt.date, billing_month: dt.date | None = None) -> dict:
    """File every facility's built claims of a care month for `billing_month` at once, without
    rendering UKE files (a simulated month, stats/simulate.py): the same as `write` for each
    facility — failing 不詳 claims held back, レセプト番号 continuing each facility's and payer's
    numbering of the billing month — in two set-based statements."""
    billing_month = billing_month or next_month(month)
    if billing_month <= month:
        raise InputError("billing_month", "must be after the care month")
    mine = and_(claim.c.care_month == month, claim.c.status == "built")
    with engine.begin() as conn:
        unknown = conn.execute(select(claim.c.id, claim.c.checks).where(mine, claim.c.unknown.is_(True))).all()
        held = [cid for cid, checks in unknown if any(f.get("severity") == "error" for f in json.loads(checks or "[]"))]
        taken = (
            select(claim.c.facility_code, claim.c.payer, func.max(claim.c.receipt_no).label("last"))
            .where(claim.c.billing_month == billing_month, claim.c.receipt_no.is_not(None))
            .group_by(claim.c.facility_code, claim.c.payer)
            .subquery("taken")
        )
        numbered = (
            select(
                claim.c.id,
                (func.row_number().over(partition_by=(claim.c.facility_code, claim.c.payer), order_by=(claim.c.patient_ref, claim.c.id))
                 + func.coalesce(taken.c.last, 0)).label("no"),
            )
            .select_from(claim.outerjoin(taken, and_(taken.c.facility_code == claim.c.facility_code, taken.c.payer == claim.c.payer)))
            .where(mine, *([claim.c.id.not_in(held)] if held else []))
            .subquery("numbered")
        )
        filed = conn.execute(
            update(claim).where(claim.c.id == numbered.c.id).values(status="filed", billing_month=billing_month, receipt_no=numbered.c.no)
        ).rowcount
    return {"care_month": f"{month:%Y-%m}", "billing_month": f"{billing_month:%Y-%m}", "filed": filed, "held": len(held)}


def filed_files(engine: Engine, facility_code: str, billing_month: dt.date, *, payer: str | None = None) -> list[UkeFile]:
    """The UKE files of a billing month as filed (no change of state)."""
    with engine.connect() as conn:
        return _render(conn, _facility(conn, facility_code), billing_month, payer)


# ---------------------------------------------------------------- read


def read_file(data: bytes | str) -> dict:
    """A UKE file as JSON: the file (点数表, revision, encoding…), one object per RE with every
    record of its claim, the count of claims (= RE records) and the warnings. A 不詳 claim
    carries the checklist findings a file allows (R-E1, R-E3, R-E4, R-E7, R-E8)."""
    doc = uke.read(data)
    for parsed in doc.claims:
        if parsed.claim.unknown:
            parsed.claim = replace(parsed.claim, checks=check_unknown_claim(parsed.claim))
    return doc.to_dict()


def load_file(engine: Engine, data: bytes | str) -> dict:
    """Take a facility's UKE file in for review: its claims enter as filed."""
    doc = uke.read(data)
    ids = []
    try:
        with engine.begin() as conn:
            for parsed in doc.claims:
                c = parsed.claim
                if c.unknown:
                    c = replace(c, checks=check_unknown_claim(c))
                values = claim_values(c, status="filed", origin="uke") | {"payer": doc.header.payer}
                ids.append(conn.execute(insert(claim).values(**values).returning(claim.c.id)).scalar_one())
    except IntegrityError:
        raise Conflict("file", f"claims of facility {doc.header.facility_code} for {doc.header.billing_month:%Y-%m} "
                               f"(payer {doc.header.payer}) with these receipt numbers are already loaded") from None
    return {"facility_code": doc.header.facility_code, "billing_month": f"{doc.header.billing_month:%Y-%m}", "payer": doc.header.payer,
            "claims": len(ids), "claim_ids": ids}


# ---------------------------------------------------------------- review


def review(engine: Engine, billing_month: dt.date, review_date: dt.date | None = None, *, payer: str | None = None) -> dict:
    """The review body's batch for a billing month against the registry on `review_date`."""
    review_date = review_date or config.today()
    if payer not in (None, "1", "2"):
        raise InputError("payer", "must be 1 (支払基金) or 2 (国保連)")
    with engine.begin() as conn:
        run_id = review_sql.run(conn, billing_month, review_date, payer=payer)
    return report(engine, run_id, lists=False)


def _run(conn: Connection, run_id: int) -> Mapping:
    row = conn.execute(select(review_run).where(review_run.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound("run_id", f"no review run {run_id}")
    return row


def report(engine: Engine, run_id: int, facility_code: str | None = None, *, lists: bool = True) -> dict:
    """The result of a review run: counts per facility and, with `lists`, the returns (with
    their reasons), the re-routed and the split claims."""
    r, c = claim_review, claim
    with engine.connect() as conn:
        run = _run(conn, run_id)
        cond = [r.c.run_id == run_id, r.c.part == 0, c.c.id == r.c.claim_id]
        if facility_code:
            cond.append(c.c.facility_code == facility_code)
        facilities: dict[str, dict] = {}
        for code, outcome, n in conn.execute(select(c.c.facility_code, r.c.outcome, func.count()).where(*cond).group_by(c.c.facility_code, r.c.outcome)):
            entry = facilities.setdefault(code, {"facility_code": code, "claims": 0, **{k: 0 for k in REVIEW_OUTCOMES}})
            entry[outcome] += n
            entry["claims"] += n
        if lists:
            for entry in facilities.values():
                entry.update(returns=[], rerouted_claims=[], split_claims=[])
            detail = conn.execute(
                select(c.c.id, c.c.facility_code, c.c.receipt_no, c.c.patient_ref, c.c.name, c.c.care_month, c.c.insurer_number, c.c.symbol,
                       c.c.number, c.c.branch, c.c.unknown, r.c.outcome, r.c.rule, r.c.reason, r.c.insurer_number.label("new_insurer"),
                       r.c.symbol.label("new_symbol"), r.c.number.label("new_number"), r.c.branch.label("new_branch"))
                .where(*cond, r.c.outcome != "unchanged").order_by(c.c.facility_code, c.c.receipt_no, c.c.id)
            ).mappings().all()
            parts = {}
            split_ids = [d["id"] for d in detail if d["outcome"] == "split"]
            if split_ids:
                for p in conn.execute(select(r).where(r.c.run_id == run_id, r.c.part > 0, r.c.claim_id.in_(split_ids)).order_by(r.c.claim_id, r.c.part)).mappings():
                    parts.setdefault(p["claim_id"], []).append({
                        "part": p["part"], "care_days": list(days_of_mask(p["days_mask"])), "days": p["days"],
                        **Numbers(p["insurer_number"], p["symbol"], p["number"], p["branch"]).to_dict(),
                    })
            for d in detail:
                item = {
                    "claim_id": d["id"], "receipt_no": d["receipt_no"], "patient_ref": d["patient_ref"], "name": d["name"],
                    "care_month": f"{d['care_month']:%Y-%m}", "billed": Numbers(d["insurer_number"], d["symbol"], d["number"], d["branch"]).to_dict(),
                    "unknown": d["unknown"], "rule": d["rule"], "reason": d["reason"],
                }
                entry = facilities[d["facility_code"]]
                if d["outcome"] == "returned":
                    entry["returns"].append(item)
                elif d["outcome"] == "rerouted":
                    entry["rerouted_claims"].append(item | {"confirm_code": "04", "to": Numbers(d["new_insurer"], d["new_symbol"], d["new_number"], d["new_branch"]).to_dict()})
                else:
                    entry["split_claims"].append(item | {"confirm_code": "05", "parts": parts.get(d["id"], [])})
    summary = json.loads(run["summary"])
    if facility_code:  # a facility sees its own claims only, the run's totals included (issue 10 item 8)
        own = facilities.get(facility_code, {})
        summary = {k: own.get(k, 0) for k in ("claims", *REVIEW_OUTCOMES)}
    return {
        "run_id": run["id"], "billing_month": f"{run['billing_month']:%Y-%m}", "review_date": run["review_date"].isoformat(),
        "payer": run["payer"], "milliseconds": run["milliseconds"], "summary": summary,
        "facilities": sorted(facilities.values(), key=lambda e: e["facility_code"]),
    }


def latest_run(engine: Engine, billing_month: dt.date) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(func.max(review_run.c.id)).where(review_run.c.billing_month == billing_month)).scalar()


def reviewed_claims(engine: Engine, run_id: int, facility_code: str) -> list[Claim]:
    """The facility's paid claims as the review passes them on, with their SN 確認区分: 02 as
    billed, 04 with the new numbers, 05 as one claim per qualification with its days."""
    r, c = claim_review, claim
    out: list[Claim] = []
    with engine.connect() as conn:
        _run(conn, run_id)
        rows = conn.execute(
            select(c, r.c.part, r.c.outcome, r.c.confirm_code, r.c.insurer_number.label("r_insurer"), r.c.symbol.label("r_symbol"),
                   r.c.number.label("r_number"), r.c.branch.label("r_branch"), r.c.days_mask.label("r_mask"))
            .where(r.c.run_id == run_id, c.c.id == r.c.claim_id, c.c.facility_code == facility_code, r.c.outcome != "returned")
            .order_by(c.c.payer, c.c.receipt_no, c.c.id, r.c.part)
        ).mappings().all()
    for row in rows:
        base = claim_from_row(row)
        if row["outcome"] == "split" and row["part"] == 0:
            continue  # the parts stand for it
        if row["outcome"] == "unchanged":  # 02; a 公費単独 claim keeps its own (no SN)
            out.append(replace(base, confirm_code=row["confirm_code"] or base.confirm_code))
            continue
        numbers = Numbers(row["r_insurer"], row["r_symbol"] or "", row["r_number"] or "", row["r_branch"] or "")
        if row["outcome"] == "split":
            days = days_of_mask(row["r_mask"])
            points = round(base.points * len(days) / max(1, len(base.care_days)))
            out.append(replace(base, care_days=days, day_count=None, points=points, copay_amount=None, confirm_code="05", confirmed=numbers))
        else:
            out.append(replace(base, confirm_code=row["confirm_code"], confirmed=None if numbers == base.numbers else numbers))
    return out


def reviewed_files(engine: Engine, run_id: int, facility_code: str) -> list[UkeFile]:
    """The facility's paid claims as the review passes them on (SN 確認区分 set; a claim read
    from a file is its own records with only that changed)."""
    claims = reviewed_claims(engine, run_id, facility_code)
    with engine.connect() as conn:
        fac = conn.execute(select(facility.c.name).where(facility.c.code == facility_code)).scalar() or facility_code
        billing = _run(conn, run_id)["billing_month"]
    files = []
    for code in sorted({c_.payer for c_ in claims}):
        mine = [replace(c_, receipt_no=n) for n, c_ in enumerate((x for x in claims if x.payer == code), start=1)]
        files.append(UkeFile(facility_code, billing, code, uke.write(FacilityHeader(facility_code, fac, billing, code), mine), len(mine)))
    return files


# ---------------------------------------------------------------- re-claim


def reclaim(
    engine: Engine, facility_code: str, claim_id: int, billing_month: dt.date, *, numbers: Mapping | None = None
) -> dict:
    """File a returned claim again (再請求) for a later billing month — once. With `numbers`
    (the current 被保険者番号等 the facility has since learned) it is billed on them."""
    with engine.begin() as conn:
        row = conn.execute(_with_outcome(claim.c.id == claim_id)).mappings().first()
        if row is None:
            raise NotFound("claim_id", f"no claim {claim_id}")
        if row["facility_code"] != facility_code:
            raise Forbidden("claim_id", f"claim {claim_id} is not this facility's")
        status = status_of(row)
        if status == "paid":
            raise Conflict("claim_id", f"claim {claim_id} was paid; a claim is paid once")
        if status == "reclaimed":
            again = conn.execute(select(claim.c.id).where(claim.c.reclaim_of == claim_id)).scalar()
            raise Conflict("claim_id", f"claim {claim_id} was already re-claimed (claim {again})")
        if status != "returned":
            raise Conflict("claim_id", f"claim {claim_id} is {status}, not returned: only a returned claim can be re-claimed")
        if row["billing_month"] is not None and billing_month <= row["billing_month"]:
            raise InputError("billing_month", f"must be after the returned claim's billing month ({row['billing_month']:%Y-%m})")
        c = claim_from_row(row)
        if numbers:
            n = _numbers(numbers)
            c = replace(c, insurer_number=n.insurer_number, symbol=n.symbol, number=n.number, branch=n.branch, unknown=False,
                        remarks=None, basis="declared", receipt_kind=None, checks=())
            c = c.with_kind()
        values = claim_values(c, status="filed", origin="reclaim")
        values.update(billing_month=billing_month, receipt_no=_next_receipt(conn, facility_code, billing_month, values["payer"]), reclaim_of=claim_id)
        try:
            new_id = conn.execute(insert(claim).values(**values).returning(claim.c.id)).scalar_one()
        except IntegrityError:
            raise Conflict("claim_id", f"claim {claim_id} was already re-claimed") from None
        conn.execute(update(claim).where(and_(claim.c.id == claim_id, claim.c.status == "filed")).values(status="reclaimed"))
        new = conn.execute(_with_outcome(claim.c.id == new_id)).mappings().one()
    return _summary(new)


def _numbers(data: Mapping) -> Numbers:
    from ..domain.errors import collect

    out: dict = {}
    collect(
        lambda: out.__setitem__("insurer_number", num.parse_insurer_number(data.get("insurer_number"), "numbers.insurer_number").value),
        lambda: out.__setitem__("symbol", num.normalise_symbol(data.get("symbol"), "numbers.symbol")),
        lambda: out.__setitem__("number", num.normalise_member_number(data.get("number"), "numbers.number")),
        lambda: out.__setitem__("branch", num.normalise_branch(data.get("branch"), "numbers.branch")),
    )
    return Numbers(**out)


def claim_status(engine: Engine, claim_id: int) -> dict:
    with engine.connect() as conn:
        row = conn.execute(_with_outcome(claim.c.id == claim_id)).mappings().first()
    if row is None:
        raise NotFound("claim_id", f"no claim {claim_id}")
    return _summary(row)


__all__ = ["build", "write", "filed_files", "read_file", "load_file", "review", "report", "reviewed_files", "reclaim", "claim_status"]
