"""The front desk on the live registry: a visit at a facility, decided with the same engine
as the case files, its lookups logged by the registry, the visit recorded for claims and
statistics (`visit` table)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Callable, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam, desc, insert, select

from .. import config
from ..domain.errors import FieldError, InputError
from ..policy import Snapshot, load_policy
from ..registry.lookup import LookupResult, QualificationRow
from ..domain.numbers import parse_public_payer, parse_public_recipient
from ..registry.models import Branch, Day, InsurerNo, Kana, MemberNo, Symbol, field_of, parse
from ..registry.schema import card, insurer, person, qualification, visit
from ..registry.service import Registry, parse_number_query
from .engine import DEVICE_STATES, IDENTITIES, Decision, Document, Facility, Patient, Visit, decide
from .explain import to_json

PAST_BASES = ("current", "document", "declared", "lost", "past_record")
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(…, ensure_ascii=False) without a new encoder per call


class Numbers(BaseModel):
    """被保険者番号等 as read off a document or told by the patient."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    insurer_number: InsurerNo
    symbol: Symbol = ""
    number: MemberNo
    branch: Branch = ""
    relation: Literal["self", "family"] | None = None

    def row(self, row_id: object = None, insurer_name: str = "") -> QualificationRow:
        return QualificationRow(
            id=row_id, insurer_number=self.insurer_number, symbol=self.symbol, number=self.number, branch=self.branch,
            relation=self.relation, start=dt.date.min, end=None, registered=None, insurer_name=insurer_name,
        )


class DocumentIn(Numbers):
    kind: Literal["eligibility_certificate", "notice", "portal_screen", "insurance_card"]
    issued: Day | None = Field(None, description="交付年月日")
    valid_from: Day | None = Field(None, description="有効開始年月日 (default: the issue date)")
    expires: Day | None = Field(None, description="有効終了年月日")


class UnknownRemarks(BaseModel):
    """What a 不詳 claim's remarks need (R-E1), as far as the desk knows it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    insurance_kind: Literal["社保", "国保", "後期", "その他"] | None = None
    insurer_name: str | None = Field(None, max_length=100)
    employer: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=20, pattern=r"^[0-9+\-() ]+$")
    contacted_on: Day | None = None


class PublicExpense(BaseModel):
    """A 公費 (public expense) that goes with the insurance, as on the patient's 受給者証."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    payer_number: Annotated[str, field_of(parse_public_payer)] = Field(description="公費負担者番号 (8 digits)")
    recipient_number: Annotated[str, field_of(parse_public_recipient)] = Field("", description="受給者番号 (7 digits)")


class VisitRequest(BaseModel):
    """One patient at this facility's desk."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    patient_ref: str = Field(min_length=1, max_length=50, description="the facility's own patient number (カルテ番号)")
    date: Day | None = Field(None, description="date of care (default today)")
    presented: list[Literal["my_number_card", "smartphone", "eligibility_certificate", "notice", "portal_screen", "insurance_card"]] = Field(default_factory=list, max_length=6)
    device: Literal[DEVICE_STATES] = "ok"  # type: ignore[valid-type]
    identity: Literal[IDENTITIES] = "face"  # type: ignore[valid-type]
    consent: bool = False
    card_serial: str | None = Field(None, max_length=16, pattern=r"^[0-9A-Za-z]+$")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=6)
    declared: Numbers | None = Field(None, description="the current numbers the patient tells (R-C2 A)")
    birth_date: Day | None = None
    name: str | None = Field(None, max_length=100)
    kana: Kana | None = Field(None, max_length=100)
    sex: Literal[1, 2, 3] | None = None
    relation: Literal["self", "family"] | None = Field(None, description="本人 / 家族 (R-E4)")
    remarks: UnknownRemarks | None = None
    public_expense: PublicExpense | None = Field(None, description="a 公費 with the insurance (KO of the claim)")


OnLookup = Callable[[str, LookupResult], None]


class RegistryPort:
    """The engine's LookupPort on the live registry; every lookup is logged there, and
    `on_lookup(kind, result)` (kind: card | numbers) sees each answer (pages, the terminal's
    face/ file)."""

    def __init__(self, registry: Registry, facility_code: str, channel: str, on_lookup: OnLookup | None = None):
        self.registry, self.facility_code, self.channel = registry, facility_code, channel
        self.on_lookup = on_lookup

    def _seen(self, kind: str, result: LookupResult) -> LookupResult:
        if self.on_lookup is not None:
            self.on_lookup(kind, result)
        return result

    def by_card(self, serial: str, *, identity: str, day: dt.date, method: str) -> LookupResult:
        result = self.registry.lookup_by_card(self.facility_code, serial, identity=identity, day=day, method=method, channel=self.channel)
        return self._seen("card", result)

    def by_numbers(self, q: QualificationRow, birth_date: dt.date, day: dt.date) -> LookupResult:
        query = parse_number_query(q.insurer_number, q.symbol, q.number, q.branch, birth_date)
        return self._seen("numbers", self.registry.lookup_by_numbers(self.facility_code, query, day=day, channel=self.channel))


# Statements built once (SQLAlchemy caches their compiled form; building them per call costs
# more than the query).
PAST_RECORD = (
    select(visit)
    .where(visit.c.facility_code == bindparam("facility"), visit.c.patient_ref == bindparam("patient"),
           visit.c.care_date <= bindparam("before"), visit.c.basis.in_(PAST_BASES), visit.c.insurer_number.is_not(None))
    .order_by(desc(visit.c.care_date), desc(visit.c.id))
    .limit(1)
)
def _newest_asserted(column):  # noqa: ANN001, ANN202
    """The holder's name as the insurer of their newest qualification holds it (each insurer's own)."""
    q = qualification.alias()
    return select(q.c[column.name]).where(q.c.person_id == person.c.id).order_by(desc(q.c.start), desc(q.c.id)).limit(1).scalar_subquery()


CARD_HOLDER = (
    select(card.c.insurance_registered, card.c.revoked, person.c.id, person.c.birth_date, person.c.sex,
           _newest_asserted(qualification.c.name).label("name"), _newest_asserted(qualification.c.kana).label("kana"))
    .select_from(card.join(person, person.c.id == card.c.person_id))
    .where(card.c.serial == bindparam("serial"))
)
INSERT_VISIT = insert(visit).returning(visit.c.id)


def past_record(conn, facility_code: str, patient_ref: str, before: dt.date) -> QualificationRow | None:  # noqa: ANN001
    """R-C2 B / R-E5: the qualification of this patient's last insured visit here."""
    row = conn.execute(PAST_RECORD, {"facility": facility_code, "patient": patient_ref, "before": before}).mappings().first()
    if row is None:
        return None
    return QualificationRow(
        id=row["qualification_id"] if row["qualification_id"] is not None else f"visit:{row['id']}",
        insurer_number=row["insurer_number"], symbol=row["symbol"], number=row["number"], branch=row["branch"],
        relation=row["relation"] or "self", start=dt.date.min, end=None, registered=None,
    )


def desk_inputs(req: VisitRequest, fac: Mapping, day: dt.date, holder: Mapping | None, past: QualificationRow | None) -> tuple[Visit, Patient]:
    """The engine's visit and patient from what the desk was given (`req`), the facility's row,
    the card's holder as the registry knows them (`holder`: insurance_registered and the person's
    id, birth_date, name, kana, sex; None without a known card) and this facility's own record
    of the patient (R-C2 B). Pure; shared by the live desk, the simulation and the what-if."""
    card_kind = next((k for k in ("my_number_card", "smartphone") if k in req.presented), None)
    birth = req.birth_date or (holder["birth_date"] if holder else None)
    if birth is None:
        raise InputError("birth_date", "is required (it is read from the card only when a registered card is presented)")
    documents = tuple(
        Document(d.kind, d.row(row_id=None), d.issued, d.expires, d.valid_from) for d in req.documents if d.kind in req.presented
    )
    missing = [k for k in req.presented if k in ("eligibility_certificate", "notice", "portal_screen", "insurance_card") and k not in {d.kind for d in documents}]
    if missing:
        raise InputError("documents", f"give the numbers on each presented document ({', '.join(missing)})")
    registered = holder is not None and holder["insurance_registered"] is not None and holder["insurance_registered"] <= day
    patient = Patient(
        birth_date=birth,
        sex=req.sex,
        name=req.name,
        kana=req.kana,
        address=req.remarks.address if req.remarks else None,
        card_serial=req.card_serial.upper() if req.card_serial else None,
        insurance_card_user=registered or (card_kind is not None and holder is None and req.device in ("chip_unreadable", "network_error")),
        documents=documents,
        declared=req.declared.row() if req.declared else None,
        past_record=past,
    )
    v = Visit(
        date=day,
        facility=Facility(fac["online"], fac["smartphone"], fac["mobile_consent"]),
        presented=frozenset(req.presented),
        device=req.device,
        identity=req.identity,
        consent=req.consent,
        patient_knows_numbers=req.declared is not None,
        past_visit=None,
    )
    return v, patient


def visit_values(facility_code: str, req: VisitRequest, decision: Decision, out: dict, holder: Mapping | None, at: dt.datetime) -> dict:
    """The `visit` row of a decided visit (`out`: the decision's JSON as stored)."""
    q = decision.claim.qualification
    card_kind = any(k in req.presented for k in ("my_number_card", "smartphone"))
    person_id = next((r.person_id for r in decision.lookups if r.person_id is not None), holder["id"] if holder else None)
    return dict(
        facility_code=facility_code, patient_ref=req.patient_ref, at=at, care_date=decision.visit.date, person_id=person_id,
        name=req.name or (holder["name"] if holder else None), kana=req.kana or (holder["kana"] if holder else None),
        birth_date=decision.patient.birth_date, sex=req.sex or (holder["sex"] if holder else None),
        relation=req.relation or (q.relation if q is not None else None),
        presented=" ".join(sorted(req.presented)), device=req.device, identity=req.identity if card_kind else None,
        insured=decision.insured, copay_percent=decision.copay_percent, basis=decision.claim.basis,
        insurer_number=decision.claim.insurer, symbol=q.symbol if q else "", number=q.number if q else "",
        branch=q.branch if q else "", qualification_id=q.id if q is not None and isinstance(q.id, int) else None,
        verification_method=decision.verification_method, verification_result=decision.verification_result,
        rules=" ".join(out["rules"]), decision=_JSON_TEXT(out),
        remarks=req.remarks.model_dump_json() if req.remarks else None,
        public_payer=req.public_expense.payer_number if req.public_expense else None,
        public_recipient=(req.public_expense.recipient_number or None) if req.public_expense else None,
        request=req.model_dump_json(exclude_defaults=True),
    )


def record_visit(registry: Registry, facility_code: str, data: object, *, channel: str = "api", on_lookup: OnLookup | None = None) -> dict:
    """Decide a visit on the live registry and record it; returns the decision, the
    registry's view of the patient (names with ●, no address for DV members) and visit_id."""
    req: VisitRequest = data if isinstance(data, VisitRequest) else parse(VisitRequest, data)
    fac = registry.facility(facility_code)
    if fac is None:
        raise InputError("facility_code", f"unknown facility {facility_code}")
    day = req.date or config.today()
    policy = load_policy()
    snapshot: Snapshot = policy.at(day)
    card_kind = next((k for k in ("my_number_card", "smartphone") if k in req.presented), None)
    if card_kind and not req.card_serial and req.device not in ("chip_unreadable", "network_error"):
        raise InputError("card_serial", "is required when a card is presented and could be read")
    holder = None
    with registry.autocommit.connect() as conn:
        if req.card_serial:
            holder = conn.execute(CARD_HOLDER, {"serial": req.card_serial.upper()}).mappings().first()
        past = past_record(conn, facility_code, req.patient_ref, day - dt.timedelta(days=1))
        _known_insurers(conn, req)  # before any lookup: a refused visit logs no verification
    v, patient = desk_inputs(req, fac, day, holder, past)
    decision = decide(v, patient, RegistryPort(registry, facility_code, channel, on_lookup), snapshot)
    out = to_json(decision, policy)
    with registry.autocommit.connect() as conn:  # one statement: atomic on its own, no BEGIN/COMMIT round trips
        visit_id = conn.execute(INSERT_VISIT, visit_values(facility_code, req, decision, out, holder, config.now())).scalar_one()
    seen = next((r.person for r in decision.lookups if r.person is not None), None)
    patient_view = None if seen is None else {
        "name": seen.name, "kana": seen.kana, "birth_date": seen.birth_date.isoformat(), "sex": seen.sex,
        "address": seen.address, "postcode": seen.postcode,  # None for DV-flagged members (R-D5)
    }
    return {"visit_id": visit_id, "patient_ref": req.patient_ref, **out, "patient": patient_view}


def _known_insurers(conn, req: VisitRequest) -> None:  # noqa: ANN001
    """Every insurer number the desk typed must exist (else 4xx naming the field)."""
    fields = [(f"documents.{i}.insurer_number", d.insurer_number) for i, d in enumerate(req.documents)]
    if req.declared:
        fields.append(("declared.insurer_number", req.declared.insurer_number))
    numbers = {n for _, n in fields}
    known = set(conn.execute(select(insurer.c.number).where(insurer.c.number.in_(numbers))).scalars()) if numbers else set()
    errors = [FieldError(f, f"unknown insurer {n}") for f, n in fields if n not in known]
    if errors:
        raise InputError(errors)


def visits_on(registry: Registry, facility_code: str, day: dt.date) -> list[dict]:
    """A facility's recorded visits on one day, oldest first."""
    with registry.engine.connect() as conn:
        rows = conn.execute(
            select(visit).where(visit.c.facility_code == facility_code, visit.c.care_date == day).order_by(visit.c.at, visit.c.id)
        ).mappings().all()
    return [{str(k): v for k, v in r.items()} for r in rows]
