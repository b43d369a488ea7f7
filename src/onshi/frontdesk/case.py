"""Case files (../shared/domain/CASES.md): parsing, and the in-memory registry a case runs on.

A case's `person` is what the insurers hold; the desk learns it only through what the
patient presents, what they can tell, this facility's records and the online lookups — and
the lookups run through registry.lookup's single implementation over a MemorySource.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..domain.card import card_expiry, cert_expiry
from ..domain.errors import FieldError, InputError
from ..policy import Snapshot
from ..registry.models import Branch, CaseInsurerNo, MemberNo, Symbol
from ..registry.lookup import (
    CERTIFICATE_KINDS, CardRow, DocumentRow, LookupResult, MemorySource, PersonRow, QualificationRow, evaluate_card, evaluate_numbers,
)
from .engine import CARD_KINDS, DEVICE_STATES, DOCUMENT_KINDS, IDENTITIES, Document, Facility, Patient, Visit

CASE_CARD_SERIAL = "CASECARD0001"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FacilityIn(_Model):
    online: bool = True
    smartphone: bool = False
    mobile_consent: bool = False


class VisitIn(_Model):
    date: dt.date
    facility: FacilityIn = FacilityIn()
    presented: list[Literal[DOCUMENT_KINDS]] = Field(default_factory=lambda: ["insurance_card"])  # type: ignore[valid-type]
    device: Literal[DEVICE_STATES] = "ok"  # type: ignore[valid-type]
    identity: Literal[IDENTITIES] = "face"  # type: ignore[valid-type]
    consent: bool = True
    patient_knows_numbers: bool = False
    past_visit: str | None = None

    @field_validator("presented", mode="before")
    @classmethod
    def _none_is_empty(cls, v: object) -> object:
        return [] if v is None else v


class QualificationIn(_Model):
    id: str
    insurer: CaseInsurerNo
    symbol: Symbol = ""
    number: MemberNo
    branch: Branch = ""
    relation: Literal["self", "family"] = "self"
    start: dt.date
    end: dt.date | None = None
    registered: dt.date | None = None
    income: Literal["general", "high"] = "general"
    kouki_ratio: float | None = None
    insurer_name: str | None = None

    @field_validator("id", "number", "symbol", "branch", "insurer", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        return "" if v is None else str(v) if isinstance(v, int) else v

    @field_validator("kouki_ratio")
    @classmethod
    def _ratio(cls, v: float | None) -> float | None:
        if v is not None and v not in (0.1, 0.2, 0.3):
            raise ValueError("must be 0.1, 0.2 or 0.3")
        return v

    @model_validator(mode="after")
    def _dates(self) -> "QualificationIn":
        if self.end is not None and self.end < self.start - dt.timedelta(days=1):
            raise ValueError("end: is before start")
        return self


class CardIn(_Model):
    issued: dt.date
    card_expires: dt.date | None = None
    cert_expires: dt.date | None = None
    insurance_registered: dt.date | None = None


class DocumentIn(_Model):
    kind: Literal["eligibility_certificate", "notice", "portal_screen", "insurance_card"]
    qualification: str | None = None
    issued: dt.date | None = None
    valid_from: dt.date | None = None  # onshi extension: 有効開始年月日 (default: the issue date)
    expires: dt.date | None = None


class PersonIn(_Model):
    birth_date: dt.date
    sex: Literal[1, 2, 3] | None = None
    name: str | None = None
    kana: str | None = None
    address: str | None = None
    dv_flag: bool = False
    qualifications: list[QualificationIn] = Field(default_factory=list)
    card: CardIn | None = None
    documents: list[DocumentIn] = Field(default_factory=list)

    @field_validator("qualifications", "documents", mode="before")
    @classmethod
    def _none_is_empty(cls, v: object) -> object:
        return [] if v is None else v


class CaseIn(_Model):
    name: str | None = None
    visit: VisitIn
    person: PersonIn
    expect: dict | None = None

    @model_validator(mode="after")
    def _references(self) -> "CaseIn":
        ids = [q.id for q in self.person.qualifications]
        seen = set()
        for i, qid in enumerate(ids):
            if qid in seen:
                raise ValueError(f"person.qualifications.{i}.id: '{qid}' is used twice")
            seen.add(qid)
        for i, d in enumerate(self.person.documents):
            if d.qualification is not None and d.qualification not in seen:
                raise ValueError(f"person.documents.{i}.qualification: no qualification '{d.qualification}'")
        if self.visit.past_visit is not None and self.visit.past_visit not in seen:
            raise ValueError(f"visit.past_visit: no qualification '{self.visit.past_visit}'")
        return self


_FIELD_MESSAGE = re.compile(r"^([a-z_][\w.]*): (.+)$", re.S)


def parse_case(data: object) -> CaseIn:
    """A case from parsed YAML/JSON; InputError naming the field on any problem."""
    if not isinstance(data, dict):
        raise InputError("case", "must be a mapping with visit and person")
    try:
        return CaseIn.model_validate(data)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            m = _FIELD_MESSAGE.match(msg)
            if m:  # a model-level check names its field: absolute (person.…) or relative to loc
                field, msg = m.groups()
                loc = field if field.startswith(("person.", "visit.")) or not loc else f"{loc}.{field}"
            errors.append(FieldError(loc or "case", msg))
        raise InputError(errors) from None


def _row(q: QualificationIn) -> QualificationRow:
    return QualificationRow(
        id=q.id, insurer_number=q.insurer, symbol=q.symbol, number=q.number, branch=q.branch, relation=q.relation,
        start=q.start, end=q.end, registered=q.registered, insurer_name=q.insurer_name or "", income=q.income,
        kouki_ratio=int(round(q.kouki_ratio * 100)) if q.kouki_ratio else None,
    )


class MemoryPort:
    """The LookupPort of a case: the registry's lookup rules over an in-memory registry."""

    def __init__(self, source: MemorySource, policy: Snapshot):
        self.source, self.policy = source, policy

    def by_card(self, serial: str, *, identity: str, day: dt.date, method: str) -> LookupResult:
        return evaluate_card(self.source.by_card(serial), day, identity=identity, policy=self.policy.card)

    def by_numbers(self, qualification: QualificationRow, birth_date: dt.date, day: dt.date) -> LookupResult:
        records = self.source.by_numbers(qualification.insurer_number, qualification.symbol or None, qualification.number, qualification.branch or None, birth_date)
        return evaluate_numbers(records, day)


def case_inputs(case: CaseIn, policy: Snapshot) -> tuple[Visit, Patient, MemoryPort]:
    """The engine's inputs for a case: the visit, what the desk can learn, and the lookups."""
    v, p = case.visit, case.person
    # The certificates the person holds are the insurer's too: lookups return their dates.
    held: dict[str, list[DocumentRow]] = {}
    for i, d in enumerate(p.documents):
        if d.qualification and d.kind in CERTIFICATE_KINDS:
            held.setdefault(d.qualification, []).append(DocumentRow(f"document{i}", d.kind, d.issued, d.valid_from, d.expires))
    quals = {q.id: replace(_row(q), documents=tuple(held.get(q.id, ()))) for q in p.qualifications}
    card = None
    if p.card is not None:
        card_exp = p.card.card_expires or card_expiry(p.birth_date, p.card.issued)  # R-B1 when not given
        cert_exp = p.card.cert_expires or cert_expiry(p.birth_date, p.card.issued, card_exp)
        card = CardRow(CASE_CARD_SERIAL, p.card.issued, card_exp, cert_exp, p.card.insurance_registered)
    source = MemorySource()
    source.add(
        PersonRow("person", p.name or "", p.kana or "", p.birth_date, p.sex or 3, p.address, None, p.dv_flag),
        quals.values(),
        [card] if card else [],
    )
    day = v.date
    # The numbers the patient can tell (R-C2 A): the qualification the insurers hold for that day.
    current = sorted((q for q in quals.values() if q.covers(day)), key=lambda q: q.start)
    visit = Visit(
        date=day,
        facility=Facility(v.facility.online, v.facility.smartphone, v.facility.mobile_consent),
        presented=frozenset(v.presented),
        device=v.device,
        identity=v.identity,
        consent=v.consent,
        patient_knows_numbers=v.patient_knows_numbers,
        past_visit=v.past_visit,
    )
    patient = Patient(
        birth_date=p.birth_date,
        sex=p.sex,
        name=p.name,
        kana=p.kana,
        address=None if p.dv_flag else p.address,
        card_serial=CASE_CARD_SERIAL if card else None,
        insurance_card_user=card is not None and card.insurance_registered is not None and card.insurance_registered <= day,
        documents=tuple(Document(d.kind, quals.get(d.qualification) if d.qualification else None, d.issued, d.expires, d.valid_from) for d in p.documents),
        declared=current[-1] if current else None,
        past_record=quals.get(v.past_visit) if v.past_visit else None,
    )
    return visit, patient, MemoryPort(source, policy)


__all__ = ["CASE_CARD_SERIAL", "CARD_KINDS", "CaseIn", "MemoryPort", "case_inputs", "parse_case"]
