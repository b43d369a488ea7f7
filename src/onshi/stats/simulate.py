"""A month of a nation (`onshi simulate`): from the seeded population, each month's outpatient
visits, what each patient brings, each visit decided by the real front-desk engine on the
registry as of that day and recorded with its verifications; then the month's claims built,
filed and reviewed.

- **Who visits**: visit days by age band from the calibration table (外来受療率 × care days),
  scaled by a stable per-person propensity; a 医科 visit is often followed by a pharmacy the
  same day; each person has a usual clinic, dentist and pharmacy in their prefecture.
- **What they bring** (calibration.yaml): a person holding an insurance-registered card uses
  it with a chance by age band and month (a stable habit: the same people keep using it), now
  and then forgetting it; others bring their 資格確認書 or an unexpired old card; someone with
  no valid document brings an expired card or the お知らせ (R-T1 inside the interim, R-T2
  outside) or nothing. Reader failures, 目視確認 and smartphones at small rates.
- **The desk** is `frontdesk.engine.decide` on `frontdesk.live.desk_inputs`, its lookups
  answered by the registry's own evaluation over the chunk held in memory (population.py).
  When the engine would file a 不詳 claim it is given this facility's past record (R-C2 B,
  R-E5), as the live desk is, and the remarks of R-E1.
- **Batches**: people are taken in chunks of consecutive ids; a chunk's month is decided in
  memory and written with COPY (PostgreSQL) in one transaction together with its
  `simulation_chunk` row, so a resumed month skips written chunks and never writes one twice.
  Chunks run in parallel worker processes.
- **Claims**: when every chunk of a month is written, each facility's claims are built
  (claims.service.build), filed for the next month and reviewed on its 10th
  (claims.service.review); then the month is summarized for the rates (summary.py).

Deterministic: the same registry, seed, people share and calibration give the same rows
(random streams are keyed by seed, person and month, not by the order of work).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import operator
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Callable, Iterable

from sqlalchemy import Engine, func, insert, select, text, update

from .. import config
from ..claims import service as claims_service
from ..domain import charset
from ..domain.card import grace_period_end
from ..domain.dates import add_months, age_on, end_of_month
from ..domain.errors import InputError
from ..frontdesk.engine import decide
from ..frontdesk.explain import to_json
from ..frontdesk.live import DocumentIn, Numbers, UnknownRemarks, VisitRequest, desk_inputs, past_record, visit_values
from ..policy import load_policy
from ..registry import db
from ..registry.bulk import BulkWriter
from ..registry.lookup import QualificationRow
from ..registry.schema import facility, simulation_chunk, simulation_month, visit
from . import summary
from .calibration import Calibration
from .definitions import band_of
from .memo import DecisionMemo
from .population import Member, MemoryPort, Population, person_id_bounds

CHUNK = 20_000  # person ids per chunk
CHANNEL = "sim"
COMPACT_KEYS = ("date", "insured", "copay_ratio", "copay_percent", "claim", "verification", "medical_info", "actions", "alerts", "rules")
VISIT_COLUMNS = (
    "facility_code", "patient_ref", "at", "care_date", "person_id", "name", "kana", "birth_date", "sex", "relation", "presented",
    "device", "identity", "insured", "copay_percent", "basis", "insurer_number", "symbol", "number", "branch", "qualification_id",
    "verification_method", "verification_result", "rules", "decision", "remarks", "public_payer", "public_recipient", "request",
)
VERIFICATION_COLUMNS = ("facility_code", "at", "as_of", "method", "identity", "result", "error", "person_id", "qualification_id", "channel")
KIND_OF_TABLE = {"1": "medical", "3": "dental", "4": "pharmacy"}  # 医療機関コード: the 点数表 digit
REMARK_KIND = {"kyokai": "社保", "kumiai": "社保", "kyosai": "社保", "seaman": "社保", "kokuho": "国保", "kouki": "後期"}
JST = config.JST
_VISIT_ROW, _VERIFICATION_ROW = operator.itemgetter(*VISIT_COLUMNS), operator.itemgetter(*VERIFICATION_COLUMNS)  # dict → row tuple


_IMMUTABLE = (type(None), str, int, float, bool, dt.date)


def _constructor(cls):  # noqa: ANN001, ANN202
    """`cls.model_construct` without pydantic's generic per-field work (a simulated month makes
    millions): for these plain models — no aliases, no extra fields, no post-init — the same
    __dict__ in field order, the same defaults (immutable ones shared, factories called), the
    same fields set. Any other model gets model_construct itself."""
    fields = cls.__pydantic_fields__
    if (any(f.alias is not None or f.validation_alias is not None for f in fields.values()) or cls.__pydantic_post_init__
            or cls.__pydantic_root_model__ or cls.model_config.get("extra") == "allow"):
        return cls.model_construct
    plan = [(name, None if f.is_required() else f, f.default if isinstance(f.default, _IMMUTABLE) and f.default_factory is None else None)
            for name, f in fields.items()]
    setattr_ = object.__setattr__

    def construct(**values):  # noqa: ANN003, ANN202
        m = cls.__new__(cls)
        out, given = {}, set()
        for name, f, default in plan:
            if name in values:
                out[name] = values[name]
                given.add(name)
            elif f is not None:
                out[name] = default if default is not None or (f.default is None and f.default_factory is None) \
                    else f.get_default(call_default_factory=True, validated_data=out)
        setattr_(m, "__dict__", out)
        setattr_(m, "__pydantic_fields_set__", given)
        setattr_(m, "__pydantic_extra__", None)
        setattr_(m, "__pydantic_private__", None)
        return m

    return construct


def patient_ref(person_id: int) -> str:
    """The facility's patient number (カルテ番号) of a simulated patient."""
    return f"S{person_id}"


def _pick(rng: random.Random, names: tuple, cum: list[float]) -> str:
    return names[bisect.bisect_right(cum, rng.random() * cum[-1])]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation; never reached with the default table
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# ---------------------------------------------------------------- facilities


@dataclass
class Facilities:
    rows: dict[str, dict]
    by_kind: dict[str, list[str]] = field(default_factory=dict)
    by_kind_pref: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn) -> "Facilities":  # noqa: ANN001
        rows = {r["code"]: dict(r) for r in conn.execute(select(facility).order_by(facility.c.code)).mappings()}
        out = cls(rows)
        for code, r in rows.items():
            kind = KIND_OF_TABLE.get(code[2], "medical")
            out.by_kind.setdefault(kind, []).append(code)
            out.by_kind_pref.setdefault((kind, r["prefecture"]), []).append(code)
        if "medical" not in out.by_kind and rows:
            out.by_kind["medical"] = list(rows)
        return out

    def pick(self, kind: str, prefecture: int, h: int) -> str | None:
        pool = self.by_kind_pref.get((kind, prefecture)) or self.by_kind.get(kind) or self.by_kind.get("medical")
        return pool[h % len(pool)] if pool else None


# ---------------------------------------------------------------- one chunk of people, one month


@dataclass
class ChunkResult:
    chunk: int
    people: int = 0
    visits: list[tuple] = field(default_factory=list)
    verifications: list[tuple] = field(default_factory=list)
    seconds: float = 0.0


class Simulator:
    """Decides the visits of a month for chunks of people (one per process)."""

    def __init__(self, calibration: Calibration, facilities: Facilities, *, seed: int, people_share: float = 1.0):
        self.cal, self.facilities, self.seed, self.share = calibration, facilities, seed, people_share
        self.policy = load_policy()
        self.repertoire = charset.default_repertoire()
        # Lookups answered once per chunk and question (MemoryPort answers=): the same rows as
        # answering each afresh (tests/test_stats_simulation.py runs a month both ways).
        self.share_answers = True
        # Decisions remembered by the path that decides them (memo.py): the same visits as the
        # engine's own on every visit (tests/test_stats_memo.py). None: the engine for each visit.
        self.memo: DecisionMemo | None = DecisionMemo()
        self._snapshots: dict[dt.date, object] = {}
        self._cards: dict[dt.date, object] = {}
        self._days: dict[dt.date, tuple[list[dt.date], list[float]]] = {}

    def snapshot(self, day: dt.date):  # noqa: ANN201
        found = self._snapshots.get(day)
        if found is None:
            found = self._snapshots[day] = self.policy.at(day)
        return found

    def card_policy(self, day: dt.date):  # noqa: ANN201
        found = self._cards.get(day)
        if found is None:
            found = self._cards[day] = self.snapshot(day).card
        return found

    def month_days(self, month: dt.date) -> tuple[list[dt.date], list[float]]:
        """The month's days and their cumulative weekday weights (the same for everyone)."""
        found = self._days.get(month)
        if found is None:
            days = [month + dt.timedelta(days=i) for i in range(end_of_month(month).day)]
            found = self._days[month] = (days, list(accumulate_weights(days, self.cal.weekday_weights)))
        return found

    def included(self, pid: int) -> bool:
        """A deterministic share of the population (--people-share)."""
        return self.share >= 1 or random.Random(hash((self.seed, pid, -1))).random() < self.share

    # ------------------------------------------------------------ who visits where

    def visits_of(self, m: Member, month: dt.date) -> list[tuple[dt.date, str]]:
        """(day, facility) of a person's visits in the month, in order."""
        pid, birth = m.person.id, m.person.birth_date
        last = end_of_month(month)
        if birth > last:
            return []
        stable = random.Random(hash((self.seed, pid, 0)))
        propensity = -math.log(1.0 - stable.random())  # exponential, mean 1: a stable habit of seeing doctors
        usual = {k: stable.randrange(1 << 30) for k in ("medical", "dental", "pharmacy", "second")}
        rng = random.Random(hash((self.seed, pid, month.year * 12 + month.month)))
        band = band_of(max(0, age_on(birth, month + dt.timedelta(days=14))))
        n = _poisson(rng, self.cal.episodes(band) * propensity)
        if not n:
            return []
        days, weights = self.month_days(month)
        out = []
        for _ in range(n):
            day = days[bisect.bisect_right(weights, rng.random() * weights[-1])]
            if day < birth:
                continue
            if rng.random() < self.cal.dental_share:
                out.append((day, self.facilities.pick("dental", m.prefecture, usual["dental"])))
                continue
            h = usual["second"] if rng.random() < self.cal.second_clinic else usual["medical"]
            out.append((day, self.facilities.pick("medical", m.prefecture, h)))
            if rng.random() < self.cal.pharmacy_after_medical:
                out.append((day, self.facilities.pick("pharmacy", m.prefecture, usual["pharmacy"])))
        return sorted({(d, f) for d, f in out if f is not None})  # at most one visit a day at a facility

    # ------------------------------------------------------------ what they bring

    def card_works(self, card, day: dt.date) -> bool:  # noqa: ANN001
        """Inside both grace periods that day (R-B1, R-B2)."""
        grace = self.card_policy(day).grace_months
        return day <= grace_period_end(card.cert_expires, grace) and day <= grace_period_end(card.card_expires, grace)

    def uses_card(self, habit: float, share: float) -> float:
        """The chance that a holder with this habit (uniform 0–1, stable) presents the card at a
        visit when `share` of holders do on average: always well below the share, never well
        above it, sometimes in between (`habit_spread`); less the odd forgotten card."""
        spread = self.cal.p("habit_spread")
        p = (1.0 if habit < share else 0.0) if spread <= 0 else min(1.0, max(0.0, (share - habit) / spread + 0.5))
        return p * (1 - self.cal.p("forget_card"))

    def habit(self, pid: int) -> float:
        return random.Random(hash((self.seed, pid, 1))).random()

    def request(self, m: Member, day: dt.date, fac: dict, rng: random.Random, habit: float) -> tuple[VisitRequest, dict | None]:
        """What the patient brings and what the desk types: a VisitRequest, and the card's
        holder as the registry knows them when a card is read."""
        cal, p = self.cal, m.person
        month = day.replace(day=1)
        band = band_of(age_on(p.birth_date, day))
        card = m.card_on(day)
        registered = card is not None and card.insurance_registered is not None and card.insurance_registered <= day
        current = m.covering(day)
        who = {"birth_date": p.birth_date, "name": p.name, "kana": p.kana, "sex": p.sex}
        base = {"patient_ref": patient_ref(p.id), "date": day, "consent": rng.random() < cal.p("consent"), "relation": current.relation if current else None}
        if registered and not self.card_works(card, day) and rng.random() >= cal.p("expired_card_tried"):
            registered = False  # past its grace period (R-B4), and the holder knows it: no card today
        if registered and rng.random() < self.uses_card(habit, cal.card_use(month, band)):
            kind = "smartphone" if fac["smartphone"] and rng.random() < cal.p("smartphone") else "my_number_card"
            device = _pick(rng, *cal.device)
            fields = {"presented": [kind], "device": device, "identity": _pick(rng, *cal.identity), "documents": []}
            if current is not None and rng.random() < cal.p("knows_numbers"):
                fields["declared"] = _numbers(Numbers, current)
            # A 資格確認書 or お知らせ in the wallet too, shown when the card cannot be read (R-C1, R-C2 A).
            for kind_ in ("eligibility_certificate", "notice"):
                doc = m.document_on(kind_, day)
                if doc and (doc.expires is None or doc.expires >= day) and rng.random() < cal.p("document_with_card"):
                    q = m.qualification(doc.qualification_id)
                    if q is not None:
                        fields["presented"].append(kind_)
                        fields["documents"].append(_numbers(DocumentIn, q, kind=kind_, issued=doc.issued, expires=doc.expires))
                    break
            if device in ("chip_unreadable", "network_error"):  # nothing read off the card: the desk asks
                return _visit_request(**base, **fields, **who, card_serial=None), None
            holder = {"insurance_registered": card.insurance_registered, "revoked": card.revoked, "id": p.id, **who}
            return _visit_request(**base, **fields, card_serial=card.serial), holder
        docs = {k: m.document_on(k, day) for k in ("eligibility_certificate", "insurance_card", "notice")}
        valid = [k for k in ("eligibility_certificate", "insurance_card") if docs[k] and docs[k].expires and docs[k].expires >= day]
        if valid and rng.random() >= cal.p("forget_certificate"):
            chosen = valid[0]
        else:
            options = cal.without_valid_document(month)
            held = {"expired_insurance_card": docs["insurance_card"] or docs["eligibility_certificate"], "notice": docs["notice"], "nothing": True}
            names = tuple(k for k in options if held.get(k))
            chosen = _pick(rng, names, [sum(options[k] for k in names[: i + 1]) for i in range(len(names))]) if names else "nothing"
            if chosen == "expired_insurance_card":
                chosen = "insurance_card" if docs["insurance_card"] else "eligibility_certificate"
        if chosen == "nothing":
            return _visit_request(**base, **who, presented=[], documents=[], card_serial=None), None
        doc = docs[chosen]
        q = m.qualification(doc.qualification_id)
        if q is None:
            return _visit_request(**base, **who, presented=[], documents=[], card_serial=None), None
        document = _numbers(DocumentIn, q, kind=chosen, issued=doc.issued, expires=doc.expires)
        return _visit_request(**base, **who, presented=[chosen], documents=[document], card_serial=None), None

    # ------------------------------------------------------------ the month of one chunk

    def run_chunk(self, population: Population, month: dt.date, chunk: int, past_lookup: Callable[[str, str, dt.date], QualificationRow | None]) -> ChunkResult:
        started = time.perf_counter()
        out = ChunkResult(chunk)
        verifications: list[dict] = []
        for pid in sorted(population.members):
            if not self.included(pid):
                continue
            m = population.members[pid]
            visits = self.visits_of(m, month)
            out.people += 1
            if not visits:
                continue
            habit = self.habit(pid)
            rng = random.Random(hash((self.seed, pid, month.year * 12 + month.month, 2)))
            past: dict[str, tuple[dt.date, QualificationRow]] = {}
            for day, code in visits:
                if m.covering(day) is None:  # not insured that day (not yet enrolled): no visit to simulate
                    continue
                fac = self.facilities.rows[code]
                if fac["online"] and KIND_OF_TABLE.get(code[2]) != "pharmacy" and rng.random() < self.cal.bulk_inquiry(month):
                    self.bulk_inquiry(population, m, code, day, verifications)
                req, holder = self.request(m, day, fac, rng, habit)
                at = dt.datetime.combine(day, dt.time(9, 0), JST) + dt.timedelta(minutes=rng.randrange(540))
                row = self.decide(population, m, req, fac, day, holder, at, verifications, past, past_lookup)
                out.visits.append(row)
        out.verifications = list(map(_VERIFICATION_ROW, verifications))
        out.seconds = time.perf_counter() - started
        return out

    def bulk_inquiry(self, population: Population, m: Member, code: str, day: dt.date, verifications: list[dict]) -> None:
        """一括照会: the evening before an appointment the facility checks the patient's
        qualification by the numbers in its records (the terminal's OQSmuquc01). A number
        inquiry in the log like any other — the denominator of R-S1 — but no visit."""
        before = day - dt.timedelta(days=1)
        q = m.covering(before)
        if q is None or before < m.person.birth_date:
            return
        at = dt.datetime.combine(before, dt.time(18, 0), JST)
        MemoryPort(population, code, self.card_policy, log=verifications.append, at=at, channel=CHANNEL, repertoire=self.repertoire,
                   answers=population.answers if self.share_answers else None).by_numbers(q, m.person.birth_date, before)

    def decide(self, population, m: Member, req: VisitRequest, fac: dict, day: dt.date, holder: dict | None, at: dt.datetime,  # noqa: ANN001
               verifications: list[dict], past: dict, past_lookup: Callable) -> tuple:
        """One visit at the desk: the engine's decision, its verifications, the visit row."""
        snapshot = self.snapshot(day)
        code = fac["code"]

        def attempt(previous: QualificationRow | None):  # noqa: ANN202
            log: list[dict] = []
            port = MemoryPort(population, code, self.card_policy, log=log.append, at=at, channel=CHANNEL, repertoire=self.repertoire,
                              answers=population.answers if self.share_answers else None)
            v, patient = desk_inputs(req, fac, day, holder, previous)
            return (self.memo.decide if self.memo is not None else decide)(v, patient, port, snapshot), log

        decision, log = attempt(None)
        if decision.claim.basis == "unknown":
            # R-C2 B / R-E5: before a 不詳 claim the desk looks at its own records of the patient.
            known = past.get(code)
            previous = known[1] if known and known[0] < day else past_lookup(code, req.patient_ref, day - dt.timedelta(days=1))
            if previous is not None:
                decision, log = attempt(previous)
        if decision.claim.basis == "unknown":
            req = _with_remarks(req, m, day)
        verifications.extend(log)
        q = decision.claim.qualification
        if decision.insured and q is not None and decision.claim.basis in ("current", "document", "declared", "lost", "past_record"):
            past[code] = (day, q)
        full = to_json(decision, self.policy, explained=False)  # the compact keys only: no explanation or citations to build
        compact = {k: full[k] for k in COMPACT_KEYS} | {"simulated": True}
        values = visit_values(code, req, decision, compact, holder, at)
        return _VISIT_ROW(values)


_visit_request, _unknown_remarks = _constructor(VisitRequest), _constructor(UnknownRemarks)
_CONSTRUCT = {Numbers: _constructor(Numbers), DocumentIn: _constructor(DocumentIn)}


def accumulate_weights(days: list[dt.date], weekday_weights: list[float]) -> Iterable[float]:
    total = 0.0
    for d in days:
        total += weekday_weights[d.weekday()]
        yield total


def _numbers(model, q: QualificationRow, **extra):  # noqa: ANN001, ANN003, ANN202
    return _CONSTRUCT[model](insurer_number=q.insurer_number, symbol=q.symbol or "", number=q.number, branch=q.branch or "",
                                 relation=q.relation, **extra)


def _with_remarks(req: VisitRequest, m: Member, day: dt.date) -> VisitRequest:
    """R-E1: what the desk writes down for a 不詳 claim; the facility contacts the patient a few
    days later (R-E3)."""
    q = m.covering(day)
    kind = REMARK_KIND.get(m.kinds.get(q.id, "other"), "その他") if q else None
    remarks = _unknown_remarks(
        insurance_kind=kind, insurer_name=(q.insurer_name or None) if q else None, employer="不明" if kind == "社保" else None,
        address=m.person.address, phone="090-0000-0000", contacted_on=day + dt.timedelta(days=3),
    )
    fields = dict(req.__dict__)
    fields.update(remarks=remarks, name=fields.get("name") or m.person.name, kana=fields.get("kana") or m.person.kana,
                  sex=fields.get("sex") or m.person.sex)
    return _visit_request(**fields)


# ---------------------------------------------------------------- processes

_worker: dict = {}


def _worker_setup(url: str, calibration_path: str, seed: int, share: float) -> None:
    engine = db.make_engine(url, pool_size=2)
    with engine.connect() as conn:
        facilities = Facilities.load(conn)
    _worker.update(engine=engine, sim=Simulator(Calibration.load(calibration_path), facilities, seed=seed, people_share=share))


def _past_lookup(engine: Engine) -> Callable:
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")  # one SELECT: no BEGIN/ROLLBACK round trips

    def lookup(code: str, ref: str, before: dt.date) -> QualificationRow | None:
        with autocommit.connect() as conn:
            return past_record(conn, code, ref, before)

    return lookup


def run_chunk_and_write(month: dt.date, chunk: int, lo: int, hi: int) -> dict:
    """In a worker: decide the chunk's month and write it with its simulation_chunk row."""
    engine, sim = _worker["engine"], _worker["sim"]
    with engine.connect() as conn:
        population = Population(conn, lo, hi)
    result = sim.run_chunk(population, month, chunk, _past_lookup(engine))
    with BulkWriter(engine) as writer:
        writer.write("visit", VISIT_COLUMNS, result.visits)
        writer.write("verification", VERIFICATION_COLUMNS, result.verifications)
        writer.write("simulation_chunk", ("month", "chunk", "people", "visits", "verifications", "seconds"),
                     [(month, chunk, result.people, len(result.visits), len(result.verifications), round(result.seconds, 3))])
        writer.commit()
    return {"chunk": chunk, "people": result.people, "visits": len(result.visits), "verifications": len(result.verifications)}


# ---------------------------------------------------------------- months


@dataclass
class MonthReport:
    month: str
    status: str
    people: int = 0
    visits: int = 0
    verifications: int = 0
    claims: int = 0  # the month's claims (レセプト), filed or held back
    held: int = 0  # 不詳 claims that fail the checklist (R-E1–E8): built, not filed
    returned: int = 0
    seconds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return self.__dict__ | {}


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = add_months(m, 1)
    return out


def simulate(
    engine: Engine,
    start: dt.date,
    end: dt.date,
    *,
    seed: int = 1,
    people_share: float = 1.0,
    calibration: Calibration | None = None,
    workers: int | None = None,
    chunk_size: int = CHUNK,
    progress=None,  # noqa: ANN001 — rich Progress or None
    claims: bool = True,
) -> list[MonthReport]:
    """Simulate the months from `start` to `end` (first days); months already done are kept."""
    if not 0 < people_share <= 1:
        raise InputError("people_share", "must be more than 0 and at most 1")
    if end < start:
        raise InputError("to", "is before from")
    calibration = calibration or Calibration.load()
    url = engine.url.render_as_string(hide_password=False)
    if workers is None:
        workers = 1 if engine.dialect.name == "sqlite" else max(1, os.cpu_count() or 1)
    with engine.connect() as conn:
        lo, hi = person_id_bounds(conn)
        if not hi:
            raise InputError("people", "the registry holds nobody: run `onshi seed` first")
    ranges = [(i, a, min(a + chunk_size - 1, hi)) for i, a in enumerate(range(lo, hi + 1, chunk_size))]
    reports = []
    pool = None
    try:
        if workers > 1:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_setup,
                                       initargs=(url, calibration.path, seed, people_share))
        else:
            _worker_setup(url, calibration.path, seed, people_share)
        for month in months_between(start, end):
            reports.append(_month(engine, month, ranges, seed, people_share, calibration, pool, progress, claims))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if "engine" in _worker and pool is None:
            _worker.pop("engine").dispose()
    return reports


def _month(engine: Engine, month: dt.date, ranges: list[tuple[int, int, int]], seed: int, share: float, cal: Calibration,
           pool, progress, claims: bool) -> MonthReport:  # noqa: ANN001
    say = progress.console.print if progress is not None else (lambda *a, **k: None)
    with engine.begin() as conn:
        row = conn.execute(select(simulation_month).where(simulation_month.c.month == month)).mappings().first()
        if row is None:
            conn.execute(insert(simulation_month).values(month=month, seed=seed, people_share=share, calibration=cal.digest,
                                                         status="visits", chunks=len(ranges), started_at=config.now()))
        elif (row["seed"], row["people_share"], row["calibration"], row["chunks"]) != (seed, share, cal.digest, len(ranges)):
            raise InputError("month", f"{month:%Y-%m} was simulated with another seed, people share, calibration or population; "
                                      "resume it with the same ones")
        elif row["status"] == "done":
            say(f"{month:%Y-%m}: already simulated")
            return MonthReport(f"{month:%Y-%m}", "done", **_stored(json.loads(row["summary"] or "{}")))
        done = set(conn.execute(select(simulation_chunk.c.chunk).where(simulation_chunk.c.month == month)).scalars())
    todo = [r for r in ranges if r[0] not in done]
    began = time.perf_counter()
    task = progress.add_task(f"{month:%Y-%m} 受診", total=len(ranges), completed=len(done)) if progress is not None else None
    if pool is not None:
        futures = [pool.submit(run_chunk_and_write, month, *r) for r in todo]
        for f in as_completed(futures):
            f.result()
            if task is not None:
                progress.advance(task)
    else:
        for r in todo:
            run_chunk_and_write(month, *r)
            if task is not None:
                progress.advance(task)
    visits_seconds = time.perf_counter() - began
    with engine.connect() as conn:
        people, visits, verifications = conn.execute(
            select(func.coalesce(func.sum(simulation_chunk.c.people), 0), func.coalesce(func.sum(simulation_chunk.c.visits), 0),
                   func.coalesce(func.sum(simulation_chunk.c.verifications), 0)).where(simulation_chunk.c.month == month)
        ).one()
    report = MonthReport(f"{month:%Y-%m}", "claims", int(people), int(visits), int(verifications))
    report.seconds["visits"] = round(visits_seconds, 2)
    _set_status(engine, month, "claims", report)
    if claims:
        _claims(engine, month, report, progress, pool)
        began = time.perf_counter()
        _analyze(engine, "verification")
        summary.summarize(engine, month)  # the month is closed: its rates from the summary (summary.py)
        report.seconds["summary"] = round(time.perf_counter() - began, 2)
        report.status = "done"
        _set_status(engine, month, "done", report, finished=True)
    if task is not None:
        progress.update(task, description=f"{month:%Y-%m} 完了")
    return report


def _stored(summary: dict) -> dict:
    keys = ("people", "visits", "verifications", "claims", "held", "returned", "seconds")
    return {k: summary[k] for k in keys if k in summary}


def _set_status(engine: Engine, month: dt.date, status: str, report: MonthReport, finished: bool = False) -> None:
    values = {"status": status, "summary": json.dumps(_stored(report.to_dict()))}
    if finished:
        values["finished_at"] = config.now()
    with engine.begin() as conn:
        conn.execute(update(simulation_month).where(simulation_month.c.month == month).values(**values))


def _analyze(engine: Engine, table: str) -> None:
    """PostgreSQL: the month's two million rows just COPYed have no statistics yet (autovacuum
    comes later); planned without them, the claims' read of the month sorted on disk and probed
    each pair by index — 13.7 s for a third of the facilities, 2.8 s after ANALYZE (about 1 s)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text(f"ANALYZE {table}"))
            conn.commit()


def build_facilities(month: dt.date, first: str, last: str) -> int:
    """In a worker: the month's claims of the facilities from `first` to `last` (claims.service.build_facilities)."""
    return claims_service.build_facilities(_worker["engine"], month, first, last)["claims"]


BUILD_PARTS_PER_WORKER = 4  # facility ranges per worker process: the parts even out


def _claims(engine: Engine, month: dt.date, report: MonthReport, progress, pool) -> None:  # noqa: ANN001
    """The month's claims: built for ranges of facilities (in the worker processes; each range
    reads its visits in one pass), filed for the next month, reviewed on its 10th."""
    began = time.perf_counter()
    _analyze(engine, "visit")
    with engine.connect() as conn:
        codes = list(conn.execute(select(visit.c.facility_code).where(visit.c.care_date >= month, visit.c.care_date <= end_of_month(month))
                                  .distinct().order_by(visit.c.facility_code)).scalars())
    parts = max(1, (pool._max_workers if pool is not None else 1) * BUILD_PARTS_PER_WORKER)
    size = max(1, math.ceil(len(codes) / parts))
    ranges = [(codes[i], codes[min(i + size, len(codes)) - 1]) for i in range(0, len(codes), size)]
    task = progress.add_task(f"{month:%Y-%m} レセプト", total=len(ranges)) if progress is not None else None
    done = as_completed([pool.submit(build_facilities, month, *r) for r in ranges]) if pool is not None else (build_facilities(month, *r) for r in ranges)
    for result in done:
        if pool is not None:
            result.result()
        if task is not None:
            progress.advance(task)
    report.seconds["build"] = round(time.perf_counter() - began, 2)
    began = time.perf_counter()
    billing = add_months(month, 1)
    filed = claims_service.file_month(engine, month, billing)
    report.claims, report.held = filed["filed"] + filed["held"], filed["held"]
    report.seconds["file"] = round(time.perf_counter() - began, 2)
    began = time.perf_counter()
    result = claims_service.review(engine, billing, billing.replace(day=10))
    report.returned = result["summary"].get("returned", 0)
    report.seconds["review"] = round(time.perf_counter() - began, 2)


__all__ = ["CHANNEL", "Calibration", "MonthReport", "Simulator", "patient_ref", "simulate"]


# ---------------------------------------------------------------- dry run (calibration)


def dry_run(engine: Engine, month: dt.date, *, seed: int = 1, people_share: float = 1.0, calibration: Calibration | None = None,
            chunk_size: int = CHUNK, workers: int | None = None) -> dict:
    """Decide a month's visits in memory, write nothing, and return R-S1 by age band and in
    all, and R-S2 estimated with one claim per patient and facility — to tune the calibration
    table against its targets before a real run."""
    calibration = calibration or Calibration.load()
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        lo, hi = person_id_bounds(conn)
    ranges = [(i, a, min(a + chunk_size - 1, hi)) for i, a in enumerate(range(lo, hi + 1, chunk_size))]
    workers = workers or max(1, os.cpu_count() or 1)
    parts = []
    if workers > 1 and len(ranges) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_setup,
                                 initargs=(url, calibration.path, seed, people_share)) as pool:
            parts = list(pool.map(_dry_chunk, [(month, *r) for r in ranges]))
    else:
        _worker_setup(url, calibration.path, seed, people_share)
        parts = [_dry_chunk((month, *r)) for r in ranges]
        _worker.pop("engine").dispose()
    bands: dict[str, list[int]] = {}
    persons: dict[tuple[str, int], bool] = {}
    for part_bands, part_persons in parts:
        for band, (n, d) in part_bands.items():
            entry = bands.setdefault(band, [0, 0])
            entry[0] += n
            entry[1] += d
        persons.update(part_persons)
    used, den = sum(n for n, _ in bands.values()), sum(d for _, d in bands.values())
    return {
        "month": f"{month:%Y-%m}",
        "visits": {b: round(n / d, 4) if d else None for b, (n, d) in sorted(bands.items())} | {"all": round(used / den, 4) if den else None},
        "verifications": den,
        "counts": {b: [n, d] for b, (n, d) in sorted(bands.items())},
        "claims_estimate": round(sum(persons.values()) / len(persons), 4) if persons else None,
    }


def _dry_chunk(args: tuple) -> tuple[dict, dict]:
    month, chunk, lo, hi = args
    engine, sim = _worker["engine"], _worker["sim"]
    with engine.connect() as conn:
        population = Population(conn, lo, hi)
    result = sim.run_chunk(population, month, chunk, _past_lookup(engine))
    bands: dict[str, list[int]] = {}
    i = {c: n for n, c in enumerate(VERIFICATION_COLUMNS)}
    for v in result.verifications:
        if v[i["result"]] == "error":
            continue
        m = population.members.get(v[i["person_id"]])
        band = band_of(age_on(m.person.birth_date, v[i["as_of"]])) if m else "unknown"
        entry = bands.setdefault(band, [0, 0])
        entry[0] += v[i["method"]] in ("my_number_card", "smartphone")
        entry[1] += 1
    persons: dict[tuple[str, int], bool] = {}
    j = {c: n for n, c in enumerate(VISIT_COLUMNS)}
    for row in result.visits:
        if row[j["insured"]] and row[j["person_id"]] is not None:
            key = (row[j["facility_code"]], row[j["person_id"]])
            persons[key] = persons.get(key, False) or row[j["verification_method"]] in ("my_number_card", "smartphone") and row[j["verification_result"]] != "not_queried"
    return bands, persons
