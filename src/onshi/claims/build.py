"""A facility's month of claims from the visits the front desk recorded.

One claim per (patient, qualification billed): the visits billed on the same 被保険者番号等
form one claim; a patient's 不詳 visits form one 不詳 claim (R-C2 C). A self-pay visit makes
no claim. The claim is filed on the basis the desk decided (current, document, declared,
lost, past_record, unknown); when a patient's visits in one group carry different bases the
latest visit's is kept. The copay is the latest visit's.

合計点数 is carried, not computed (there is no 診療行為 catalogue here): a visit's decision JSON
may carry `points`; otherwise the first visit of a patient at the facility counts 初診 (291)
and any other visit 再診 (75).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable, Mapping

from sqlalchemy import Connection, and_, func, select

from ..domain.dates import end_of_month
from ..domain.errors import InputError
from ..domain.numbers import normalise_insurer_number
from ..registry.schema import visit
from . import uke_codes as codes
from .checklist import KNOWN_BASES, VisitFacts, check_unknown_claim
from .models import UNKNOWN_NUMBER, UNKNOWN_SYMBOL, Claim, Remarks


_insurer_key = lru_cache(maxsize=65536)(normalise_insurer_number)  # the same few thousand insurers on a million visits


@dataclass
class BuiltMonth:
    claims: list[Claim] = field(default_factory=list)
    self_pay_visits: int = 0
    skipped: list[dict] = field(default_factory=list)  # visits that make no claim, with the reason


def _facts(row: Mapping) -> VisitFacts:
    return VisitFacts(
        care_date=row["care_date"],
        basis=row["basis"],
        presented=frozenset((row["presented"] or "").split()),
        verification_result=row["verification_result"],
        insurer_number=row["insurer_number"],
        symbol=row["symbol"] or "",
        number=row["number"] or "",
    )


def _points(row: Mapping, first_visit: bool) -> int:
    text = row["decision"] or "{}"
    try:
        value = json.loads(text).get("points") if '"points"' in text else None  # no key "points": nothing to parse
    except (ValueError, AttributeError):
        value = None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return codes.FIRST_VISIT_POINTS if first_visit else codes.REVISIT_POINTS


def _remarks(row: Mapping) -> Remarks:
    try:
        data = json.loads(row["remarks"]) if row["remarks"] else {}
    except ValueError:
        data = {}
    return Remarks.from_mapping(data if isinstance(data, dict) else {}, kana=row["kana"])


def _last(rows: list[Mapping], key: str):  # noqa: ANN202
    for row in reversed(rows):
        if row[key] not in (None, ""):
            return row[key]
    return None


def group_visits(
    facility_code: str,
    month: dt.date,
    rows: Iterable[Mapping],
    *,
    first_seen: Mapping[str, object] | None = None,
    earlier_known: Mapping[str, list[VisitFacts]] | None = None,
    remarks: Mapping[str, dict] | None = None,
    unknown_insurer: str = "77777777",
) -> BuiltMonth:
    """The month's claims from its visit rows (sorted by patient, date, time). Pure.

    first_seen: per patient, the id of their first visit ever at the facility (初診);
    earlier_known: per patient, earlier visits on a known qualification (R-E5);
    remarks: per patient, remarks added after the visits (the contact date of R-E3…)."""
    first_seen = first_seen or {}
    earlier_known = earlier_known or {}
    remarks = remarks or {}
    out = BuiltMonth()
    groups: dict[tuple, list[Mapping]] = {}
    by_patient: dict[str, list[Mapping]] = {}
    for row in rows:
        by_patient.setdefault(row["patient_ref"], []).append(row)
        if row["basis"] == "self_pay" or not row["insured"]:
            out.self_pay_visits += 1
            continue
        if row["basis"] == "unknown":
            key = (row["patient_ref"], "unknown")
        elif not row["insurer_number"] or not row["number"]:
            out.skipped.append({"visit_id": row["id"], "patient_ref": row["patient_ref"], "reason": f"basis {row['basis']} without 被保険者番号等"})
            continue
        else:
            key = (row["patient_ref"], _insurer_key(row["insurer_number"]), row["symbol"] or "", row["number"], row["branch"] or "")
        groups.setdefault(key, []).append(row)

    for key, rows_ in groups.items():
        ref, unknown = key[0], key[1] == "unknown"
        days = tuple(sorted({r["care_date"].day for r in rows_}))
        points = sum(_points(r, first_seen.get(ref) == r["id"]) for r in rows_)
        last = rows_[-1]
        name = _last(rows_, "name") or _last(rows_, "kana") or "不明"
        claim = Claim(
            facility_code=facility_code,
            care_month=month,
            patient_ref=ref,
            name=name,
            birth_date=last["birth_date"],
            insurer_number=unknown_insurer if unknown else key[1],  # R-E8: 77777779 where the レセコン enforces the check digit
            symbol=UNKNOWN_SYMBOL if unknown else key[2],
            number=UNKNOWN_NUMBER if unknown else key[3],
            branch="" if unknown else key[4],
            care_days=days,
            copay_percent=last["copay_percent"],
            points=points,
            kana=_last(rows_, "kana"),
            sex=_last(rows_, "sex"),
            relation=_last(rows_, "relation"),
            unknown=unknown,
            basis="unknown" if unknown else last["basis"],
            qualification_id=_last(rows_, "qualification_id"),
            public_payer=_last(rows_, "public_payer") or "",
            public_recipient=_last(rows_, "public_recipient") or "",
        )
        if unknown:
            merged = Remarks(kana=claim.kana)
            for r in rows_:
                merged = merged.merged(_remarks(r))
            if ref in remarks:
                try:
                    merged = merged.merged(Remarks.from_mapping(remarks[ref]))
                except InputError as exc:
                    raise exc.prefixed(f"remarks.{ref}") from None
            claim = replace(claim, remarks=merged)
            first_day = claim.first_day
            claim = replace(claim, checks=check_unknown_claim(
                claim,
                visits=[_facts(r) for r in rows_],
                month_visits=[_facts(r) for r in by_patient[ref]],
                earlier_known=[v for v in earlier_known.get(ref, []) if v.care_date < first_day]
                + [_facts(r) for r in by_patient[ref] if r["care_date"] < first_day and _facts(r).known],
            ))
        out.claims.append(claim.with_kind())
    out.claims.sort(key=lambda c: (c.patient_ref, c.unknown, c.insurer_number, c.number))
    return out


def load_month(
    conn: Connection, facility_code: str, month: dt.date, *, remarks: Mapping[str, dict] | None = None, unknown_insurer: str = "77777777"
) -> BuiltMonth:
    """Read the month's visits (and what the checklist needs of earlier ones) and group them."""
    last_day = end_of_month(month)
    rows = conn.execute(
        select(visit).where(visit.c.facility_code == facility_code, visit.c.care_date >= month, visit.c.care_date <= last_day)
        .order_by(visit.c.patient_ref, visit.c.care_date, visit.c.at, visit.c.id)
    ).mappings().all()
    refs = sorted({r["patient_ref"] for r in rows})
    first_seen: dict[str, object] = {}
    earlier: dict[str, list[VisitFacts]] = {}
    if refs:
        # 初診: the patient's first visit ever at the facility.
        firsts = select(visit.c.patient_ref, func.min(visit.c.care_date).label("first")).where(
            visit.c.facility_code == facility_code, visit.c.patient_ref.in_(refs)
        ).group_by(visit.c.patient_ref).subquery()
        for ref, vid in conn.execute(
            select(visit.c.patient_ref, func.min(visit.c.id)).join(
                firsts, and_(firsts.c.patient_ref == visit.c.patient_ref, firsts.c.first == visit.c.care_date)
            ).where(visit.c.facility_code == facility_code).group_by(visit.c.patient_ref)
        ):
            first_seen[ref] = vid
        unknown_refs = sorted({r["patient_ref"] for r in rows if r["basis"] == "unknown"})
        if unknown_refs:  # R-E5: earlier visits on a known qualification
            for r in conn.execute(
                select(visit).where(
                    visit.c.facility_code == facility_code, visit.c.patient_ref.in_(unknown_refs), visit.c.care_date < month,
                    visit.c.basis.in_(sorted(KNOWN_BASES)),
                ).order_by(visit.c.care_date)
            ).mappings():
                facts = _facts(r)
                if facts.known:
                    earlier.setdefault(r["patient_ref"], []).append(facts)
    return group_visits(facility_code, month, rows, first_seen=first_seen, earlier_known=earlier, remarks=remarks, unknown_insurer=unknown_insurer)


# What group_visits reads of a visit (the batched read leaves the large request text behind).
VISIT_FIELDS = ("id", "facility_code", "patient_ref", "care_date", "basis", "insured", "presented", "verification_result", "insurer_number",
                "symbol", "number", "branch", "name", "kana", "sex", "relation", "birth_date", "copay_percent", "qualification_id",
                "public_payer", "public_recipient", "decision", "remarks")


def load_facilities(conn: Connection, month: dt.date, first_code: str, last_code: str) -> Iterable[tuple[str, BuiltMonth]]:
    """The month's claims of every facility whose code is between first_code and last_code, from
    three set-based reads instead of load_month's per facility (a simulated month builds a
    million claims): the same visits, 初診 and R-E5 facts, the same grouping (group_visits)."""
    last_day = end_of_month(month)
    v = visit
    in_month = and_(v.c.care_date >= month, v.c.care_date <= last_day, v.c.facility_code >= first_code, v.c.facility_code <= last_code)
    # 初診: a patient seen here before the month has their first visit ever in an earlier month.
    pairs = select(v.c.facility_code, v.c.patient_ref).where(in_month).distinct().subquery("pairs")
    e = visit.alias("earlier")
    seen_before = set(map(tuple, conn.execute(
        select(pairs.c.facility_code, pairs.c.patient_ref).where(
            select(e.c.id).where(e.c.facility_code == pairs.c.facility_code, e.c.patient_ref == pairs.c.patient_ref, e.c.care_date < month).exists())
    )))
    # R-E5: earlier visits on a known qualification of the patients with a 不詳 visit this month.
    unknown_pairs = select(v.c.facility_code, v.c.patient_ref).where(in_month, v.c.basis == "unknown").distinct().subquery("unknown_pairs")
    earlier: dict[str, dict[str, list[VisitFacts]]] = {}
    for r in conn.execute(
        select(e).join(unknown_pairs, and_(unknown_pairs.c.facility_code == e.c.facility_code, unknown_pairs.c.patient_ref == e.c.patient_ref))
        .where(e.c.care_date < month, e.c.basis.in_(sorted(KNOWN_BASES)))
        .order_by(e.c.facility_code, e.c.patient_ref, e.c.care_date, e.c.id)
    ).mappings():
        facts = _facts(r)
        if facts.known:
            earlier.setdefault(r["facility_code"], {}).setdefault(r["patient_ref"], []).append(facts)
    rows = conn.execution_options(yield_per=20_000).execute(
        select(*[v.c[f] for f in VISIT_FIELDS]).where(in_month).order_by(v.c.facility_code, v.c.patient_ref, v.c.care_date, v.c.at, v.c.id)
    ).mappings()
    code, batch = None, []
    for row in itertools.chain(rows, [None]):
        if row is not None and row["facility_code"] == code:
            batch.append(row)
            continue
        if batch:
            yield code, group_visits(code, month, batch, first_seen=_first_seen(code, batch, seen_before),
                                     earlier_known=earlier.get(code, {}))
        if row is not None:
            code, batch = row["facility_code"], [row]


def _first_seen(code: str, rows: list[Mapping], seen_before: set[tuple[str, str]]) -> dict[str, object]:
    """Per patient first seen this month: the lowest id of their visits on their first day (as load_month's query)."""
    out: dict[str, tuple] = {}
    for r in rows:
        ref = r["patient_ref"]
        if (code, ref) in seen_before:
            continue
        key = (r["care_date"], r["id"])
        if ref not in out or key < out[ref]:
            out[ref] = key
    return {ref: key[1] for ref, key in out.items()}
