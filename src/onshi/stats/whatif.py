"""What a policy change would have done (`onshi whatif`): the recorded visits of some months
decided again by the front-desk engine under the built-in policy plus other policy files
(for instance without the extension of the 2026-03-25 notice), on the registry as of each
visit's day, and what changed — visits that become self-pay (10割) or stop being, 不詳 claims,
returned claims — by month and insurer kind.

A visit holds what its desk was given (`visit.request`, the VisitRequest as JSON), so it can be
decided again exactly; visits recorded before that column existed are counted as not
re-decidable. Lookups are answered from the registry without logging them: a what-if is not a
verification. This facility's past record (R-C2 B) comes from the visits as re-decided in the
run, else from the recorded ones.

Claims: for every patient with a changed visit, that patient's claims of the month at that
facility are built both ways (claims.build.group_visits) and reviewed as the 審査支払機関 would
(claims.review.run, on the 10th of the next month) inside a transaction that is rolled back —
the registry keeps nothing of it. Patients whose visits did not change have the same claims
both ways and are left out: the claims counts are those of the changed patients.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from .. import config
from ..claims import review as review_sql
from ..claims.build import group_visits
from ..claims.service import claim_values
from ..domain.dates import add_months, end_of_month
from ..domain.errors import InputError
from ..frontdesk.engine import decide
from ..frontdesk.explain import to_json
from ..frontdesk.live import CARD_HOLDER, PAST_BASES, VisitRequest, desk_inputs, past_record, visit_values
from ..policy import Policy, PolicyError
from ..policy.loader import DATA
from ..registry.lookup import QualificationRow
from ..registry.schema import claim, claim_review, facility, insurer, visit, whatif_run
from ..registry.service import Registry
from .definitions import UNKNOWN
from .population import MemoryPort, Population
from .simulate import COMPACT_KEYS

BATCH = 20_000  # person ids per batch
COUNTS = ("visits", "changed", "became_self_pay", "no_longer_self_pay", "unknown_visits_before", "unknown_visits_after",
          "claims_before", "claims_after", "unknown_claims_before", "unknown_claims_after", "returned_claims_before", "returned_claims_after")


def load_alternative(dirs: list[Path]) -> Policy:
    for i, d in enumerate(dirs):
        if not Path(d).is_dir():
            raise InputError("policy_dir" if len(dirs) == 1 else f"policy_dir.{i}", f"{d} is not a directory")
    try:
        return Policy.load([Path(d) for d in dirs])
    except PolicyError as exc:
        raise InputError("policy_dir", str(exc)) from None


@dataclass
class _Tally:
    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNTS, 0)))
    not_redecided: int = 0

    def add(self, month: str, kind: str, key: str, n: int = 1) -> None:
        self.counts[(month, kind)][key] += n


def whatif(engine: Engine, start: dt.date, end: dt.date, policy_dirs: list[Path], *, save: bool = True, progress=None) -> dict:  # noqa: ANN001
    """Decide the recorded visits of the months again under built-in + `policy_dirs`."""
    if end < start:
        raise InputError("to", "is before from")
    alt = load_alternative(policy_dirs)
    began = time.perf_counter()
    tally = _Tally()
    registry = Registry(engine)
    with engine.connect() as conn:
        facilities = {r["code"]: dict(r) for r in conn.execute(select(facility)).mappings()}
        kinds = dict(conn.execute(select(insurer.c.number, insurer.c.kind)).all())
        tally.not_redecided = conn.execute(select(func.count()).select_from(visit).where(
            visit.c.care_date >= start, visit.c.care_date <= end_of_month(end), visit.c.request.is_(None))).scalar_one()
    changed_rows: dict[tuple[str, str, str], tuple[list, list]] = {}  # (facility, patient, month) → (recorded rows, re-decided rows)
    task = progress.add_task("再判定", total=None) if progress is not None else None
    with registry.reader.connection() as raw:
        fallback = registry.reader.source(raw)
        for batch in _batches(engine, start, end):
            _redecide(engine, batch, alt, facilities, kinds, fallback, tally, changed_rows)
            if task is not None:
                progress.advance(task, len(batch))
    registry.close()
    _claims_both_ways(engine, changed_rows, kinds, tally)
    rows = [{"month": m, "insurer_kind": k, **v} for (m, k), v in sorted(tally.counts.items())]
    totals = dict.fromkeys(COUNTS, 0)
    for r in rows:
        for k in COUNTS:
            totals[k] += r[k]
    report = {
        "from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}",
        "policy": {"dirs": [str(d) for d in policy_dirs], "files": [f for f in alt.files if not f.startswith(str(DATA))],
                   "withdrawn": [{"rule": r, "source": s, "file": f} for r, s, f in alt.withdrawn]},
        "visits_not_redecided": tally.not_redecided, "rows": rows, "totals": totals,
        "seconds": round(time.perf_counter() - began, 1),
    }
    if save:
        with engine.begin() as conn:
            report["id"] = conn.execute(insert(whatif_run).values(
                from_month=start, to_month=end, policy=json.dumps(report["policy"], ensure_ascii=False),
                report=json.dumps(report, ensure_ascii=False), seconds=report["seconds"], created_at=config.now(),
            ).returning(whatif_run.c.id)).scalar_one()
    return report


def _batches(engine: Engine, start: dt.date, end: dt.date):  # noqa: ANN202
    """The range's visits with their request, by person (patients the registry never identified
    come last), in batches of BATCH person ids."""
    cond = (visit.c.care_date >= start, visit.c.care_date <= end_of_month(end), visit.c.request.is_not(None))
    with engine.connect() as conn:
        for known in (True, False):
            stmt = select(visit).where(*cond, visit.c.person_id.is_not(None) if known else visit.c.person_id.is_(None))
            stmt = stmt.order_by(visit.c.person_id, visit.c.care_date, visit.c.at, visit.c.id) if known else stmt.order_by(visit.c.care_date, visit.c.id)
            batch: list[dict] = []
            first = None
            for row in conn.execution_options(stream_results=True, yield_per=5000).execute(stmt).mappings():
                row = dict(row)
                pid = row["person_id"]
                if batch and known and pid - first >= BATCH:
                    yield batch
                    batch = []
                if not batch:
                    first = pid
                batch.append(row)
                if not known and len(batch) >= BATCH:
                    yield batch
                    batch = []
            if batch:
                yield batch


def _redecide(engine: Engine, rows: list[dict], alt: Policy, facilities: dict, kinds: dict, fallback, tally: _Tally,  # noqa: ANN001
              changed_rows: dict) -> None:
    ids = {r["person_id"] for r in rows if r["person_id"] is not None}
    with engine.connect() as conn:
        population = Population(conn, min(ids), max(ids), ids) if ids else None
        past: dict[tuple[str, str], tuple[dt.date, QualificationRow]] = {}
        for row in rows:
            day, code = row["care_date"], row["facility_code"]
            month = f"{day:%Y-%m}"
            member = population.members.get(row["person_id"]) if population else None
            covering = member.covering(day) if member else None
            kind = kinds.get(row["insurer_number"]) or (member.kinds.get(covering.id) if member and covering else None) or UNKNOWN
            req = VisitRequest.model_validate_json(row["request"])
            holder = None
            if req.card_serial:
                holder = conn.execute(CARD_HOLDER, {"serial": req.card_serial.upper()}).mappings().first()
            snapshot = alt.at(day)
            source = population if population is not None else _Empty()

            def attempt(previous):  # noqa: ANN001, ANN202
                port = MemoryPort(source, code, lambda d: alt.at(d).card, fallback=fallback)
                v, patient = desk_inputs(req, facilities[code], day, holder, previous)
                return decide(v, patient, port, snapshot)

            decision = attempt(None)
            if decision.claim.basis == "unknown":  # R-C2 B / R-E5: the facility's own records first
                known = past.get((code, row["patient_ref"]))
                previous = known[1] if known and known[0] < day else past_record(conn, code, row["patient_ref"], day - dt.timedelta(days=1))
                if previous is not None:
                    decision = attempt(previous)
            q = decision.claim.qualification
            if decision.insured and q is not None and decision.claim.basis in PAST_BASES:
                past[(code, row["patient_ref"])] = (day, q)
            tally.add(month, kind, "visits")
            before_self, after_self = not row["insured"], not decision.insured
            tally.add(month, kind, "unknown_visits_before", row["basis"] == "unknown")
            tally.add(month, kind, "unknown_visits_after", decision.claim.basis == "unknown")
            same = (row["insured"], row["basis"], row["copay_percent"], row["insurer_number"], row["number"] or "") == (
                decision.insured, decision.claim.basis, decision.copay_percent, decision.claim.insurer, q.number if q else "")
            if same:
                continue
            tally.add(month, kind, "changed")
            tally.add(month, kind, "became_self_pay", after_self and not before_self)
            tally.add(month, kind, "no_longer_self_pay", before_self and not after_self)
            out = to_json(decision, alt)
            new = visit_values(code, req, decision, {k: out[k] for k in COMPACT_KEYS}, holder, row["at"]) | {"id": row["id"]}
            changed_rows.setdefault((code, row["patient_ref"], month), ([], []))
            changed_rows[(code, row["patient_ref"], month)][1].append(new)
            changed_rows[(code, row["patient_ref"], month)][0].append(row)


class _Empty:
    def by_card(self, serial: str):  # noqa: ANN201
        return None

    def by_numbers(self, *args) -> list:  # noqa: ANN002
        return []


def _claims_both_ways(engine: Engine, changed: dict, kinds: dict, tally: _Tally) -> None:
    """Build the changed patients' claims from the recorded and the re-decided visits, review
    both sets as the 審査支払機関 would, count, and roll everything back."""
    if not changed:
        return
    with engine.connect() as conn:
        # Every visit of those patients in those months (unchanged ones too): a claim groups them.
        by_month: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: {"before": [], "after": []})
        for (code, ref, month), (recorded, redecided) in changed.items():
            m0 = dt.date.fromisoformat(month + "-01")
            rows = [dict(r) for r in conn.execute(
                select(visit).where(visit.c.facility_code == code, visit.c.patient_ref == ref, visit.c.care_date >= m0,
                                    visit.c.care_date <= end_of_month(m0)).order_by(visit.c.care_date, visit.c.at, visit.c.id)
            ).mappings()]
            replaced = {r["id"]: r for r in redecided}
            by_month[(code, month)]["before"] += rows
            by_month[(code, month)]["after"] += [{**r, **replaced[r["id"]]} if r["id"] in replaced else r for r in rows]
        conn.rollback()  # end the reads' transaction: the hypothetical claims go in a transaction of their own
        trans = conn.begin()
        try:
            months = sorted({month for _, month in by_month})
            sentinels = {}
            for i, month in enumerate(months):
                for j, side in enumerate(("before", "after")):
                    sentinels[(month, side)] = dt.date(2900 + i, 1 + j, 1)  # a billing month no real claim has
            claim_kind: dict[int, tuple[str, str, str]] = {}
            for (code, month), sides in by_month.items():
                m0 = dt.date.fromisoformat(month + "-01")
                for side in ("before", "after"):
                    rows = sorted(sides[side], key=lambda r: (r["patient_ref"], r["care_date"], r["at"], r["id"]))
                    for c in group_visits(code, m0, rows).claims:
                        cid = conn.execute(insert(claim).values(
                            **claim_values(c, status="filed", origin="whatif") | {"billing_month": sentinels[(month, side)]}
                        ).returning(claim.c.id)).scalar_one()
                        kind = UNKNOWN if c.unknown else kinds.get(c.insurer_number, UNKNOWN)
                        claim_kind[cid] = (month, kind, side)
                        tally.add(month, kind, f"claims_{side}")
                        tally.add(month, kind, f"unknown_claims_{side}", c.unknown)
            for (month, side), billing in sentinels.items():
                review_date = add_months(dt.date.fromisoformat(month + "-01"), 1).replace(day=10)
                run_id = review_sql.run(conn, billing, review_date)
                for cid, outcome in conn.execute(select(claim_review.c.claim_id, claim_review.c.outcome).where(
                        claim_review.c.run_id == run_id, claim_review.c.part == 0)):
                    if outcome == "returned":
                        m, kind, s = claim_kind[cid]
                        tally.add(m, kind, f"returned_claims_{s}")
        finally:
            trans.rollback()


def runs(engine: Engine) -> list[dict]:
    """Stored what-if reports, newest first (without their rows)."""
    with engine.connect() as conn:
        rows = conn.execute(select(whatif_run.c.id, whatif_run.c.from_month, whatif_run.c.to_month, whatif_run.c.policy,
                                   whatif_run.c.created_at).order_by(whatif_run.c.id.desc())).mappings().all()
    return [{"id": r["id"], "from": f"{r['from_month']:%Y-%m}", "to": f"{r['to_month']:%Y-%m}", "policy": json.loads(r["policy"]),
             "created_at": _jst(r["created_at"])} for r in rows]


def _jst(at: dt.datetime) -> str:
    if at.tzinfo is None:  # SQLite keeps UTC without its offset
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.astimezone(config.JST).strftime("%Y-%m-%d %H:%M")


def stored(engine: Engine, run_id: int) -> dict | None:
    with engine.connect() as conn:
        text = conn.execute(select(whatif_run.c.report).where(whatif_run.c.id == run_id)).scalar()
    return json.loads(text) | {"id": run_id} if text else None


__all__ = ["COUNTS", "runs", "stored", "whatif"]
