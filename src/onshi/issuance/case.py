"""Issuance case files (../shared/domain/ISSUANCE-CASES.md): parsing and validation.

A malformed case raises InputError naming the field (`member.documents.1.valid_from`);
unknown keys are errors too (an unknown option, a misspelt field), except `name`, `expect`
and `expect_not` at the top.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..domain import numbers
from ..domain.card import card_expiry, cert_expiry
from ..domain.errors import FieldError, InputError
from .models import (
    CERTIFICATE,
    NOTICE,
    REGISTRATION_NOTICE,
    Application,
    Card,
    Event,
    HeldDocument,
    Insurer,
    InsurerKind,
    InsurerOptions,
    Member,
    Qualification,
)

# 法別番号 kinds of domain.numbers → the case format's kinds (船員保険 is `senin` here).
_NUMBER_KINDS = {"seaman": "senin"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InsurerIn(_Strict):
    number: str
    kind: InsurerKind
    options: InsurerOptions = InsurerOptions()

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, v: object) -> object:
        if isinstance(v, int):
            v = str(v)
        if not isinstance(v, str):
            return v
        try:
            return numbers.parse_insurer_number(v).value
        except InputError as exc:
            raise ValueError(exc.errors[0].reason) from None

    @field_validator("options", mode="before")
    @classmethod
    def _none_is_default(cls, v: object) -> object:
        return {} if v is None else v

    @model_validator(mode="after")
    def _kind_matches_number(self) -> "InsurerIn":
        found = numbers.parse_insurer_number(self.number).kind
        found = _NUMBER_KINDS.get(found, found)
        if found != self.kind:
            raise ValueError(f"kind: '{self.kind}' does not match insurer number {self.number} (a number of kind '{found}')")
        return self


class QualificationIn(_Strict):
    start: dt.date
    end: dt.date | None = None
    copay: Literal[0.1, 0.2, 0.3] | None = None  # the ratio printed for 70+ and 後期
    income: Literal["general", "high"] = "general"

    @model_validator(mode="after")
    def _dates(self) -> "QualificationIn":
        if self.end is not None and self.end < self.start - dt.timedelta(days=1):
            raise ValueError("end: is before start")
        return self


class CardIn(_Strict):
    issued: dt.date
    card_expires: dt.date | None = None
    cert_expires: dt.date | None = None
    insurance_registered: dt.date | None = None
    registration_cancelled: dt.date | None = None
    returned: dt.date | None = None

    @model_validator(mode="after")
    def _dates(self) -> "CardIn":
        for name in ("card_expires", "cert_expires", "insurance_registered", "registration_cancelled", "returned"):
            value = getattr(self, name)
            if value is not None and value < self.issued:
                raise ValueError(f"{name}: is before the card was issued ({self.issued.isoformat()})")
        return self


class ApplicationIn(_Strict):
    date: dt.date
    reason: Literal["care", "card_lost", "card_renewal", "other"]


class DocumentIn(_Strict):
    id: str = Field(min_length=1, max_length=64)
    kind: Literal["eligibility_certificate", "notice", "registration_notice"]
    issued: dt.date
    valid_from: dt.date | None = None
    expires: dt.date | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v

    @model_validator(mode="after")
    def _dates(self) -> "DocumentIn":
        if self.kind == REGISTRATION_NOTICE:
            if self.valid_from is not None or self.expires is not None:
                raise ValueError("valid_from: a registration_notice has no validity period")
            return self
        if self.valid_from is None:
            raise ValueError(f"valid_from: is required for a{'n' if self.kind == CERTIFICATE else ''} {self.kind}")
        if self.expires is not None and self.expires < self.valid_from - dt.timedelta(days=1):
            raise ValueError("expires: is before valid_from")
        return self


class EventIn(_Strict):
    kind: Literal["acquisition", "numbers_changed", "name_changed", "copay_changed", "registration_done"]
    date: dt.date


class MemberIn(_Strict):
    birth_date: dt.date
    relation: Literal["self", "family"] = "self"
    my_number_linked: bool = True
    qualification: QualificationIn
    card: CardIn | None = None
    dv_flag: bool = False
    application: ApplicationIn | None = None
    documents: list[DocumentIn] = Field(default_factory=list)
    events: list[EventIn] = Field(default_factory=list)

    @field_validator("documents", "events", mode="before")
    @classmethod
    def _none_is_empty(cls, v: object) -> object:
        return [] if v is None else v

    @field_validator("my_number_linked", "dv_flag", mode="before")
    @classmethod
    def _none_is_default(cls, v: object, info) -> object:  # noqa: ANN001
        return (info.field_name == "my_number_linked") if v is None else v

    @model_validator(mode="after")
    def _references(self) -> "MemberIn":
        seen: set[str] = set()
        for i, d in enumerate(self.documents):
            if d.id in seen:
                raise ValueError(f"documents.{i}.id: '{d.id}' is used twice")
            seen.add(d.id)
        if self.qualification.start < self.birth_date:
            raise ValueError("qualification.start: is before birth_date")
        return self


class CaseIn(_Strict):
    name: str | None = None
    date: dt.date
    insurer: InsurerIn
    member: MemberIn
    expect: dict | None = None
    expect_not: dict | None = None

    def inputs(self) -> tuple[dt.date, Insurer, Member]:
        """The engine's inputs: the run day, the insurer and the member."""
        p = self.member
        card = None
        if p.card is not None:  # R-B1 when the expiries are not given
            card_exp = p.card.card_expires or card_expiry(p.birth_date, p.card.issued)
            cert_exp = p.card.cert_expires or cert_expiry(p.birth_date, p.card.issued, card_exp)
            card = Card(p.card.issued, card_exp, cert_exp, p.card.insurance_registered, p.card.registration_cancelled, p.card.returned)
        q = p.qualification
        member = Member(
            id="member",
            birth_date=p.birth_date,
            qualification=Qualification(q.start, q.end, q.copay, q.income),
            card=card,
            my_number_linked=p.my_number_linked,
            dv_flag=p.dv_flag,
            application=Application(p.application.date, p.application.reason) if p.application else None,
            documents=tuple(HeldDocument(d.id, d.kind, d.issued, d.valid_from, d.expires) for d in p.documents),
            events=tuple(Event(e.kind, e.date) for e in p.events),
            relation=p.relation,
        )
        return self.date, Insurer(self.insurer.number, self.insurer.kind, self.insurer.options), member


def parse_case(data: object) -> CaseIn:
    """A case from parsed YAML/JSON; InputError naming each offending field."""
    if not isinstance(data, dict):
        raise InputError("case", "must be a mapping with date, insurer and member")
    try:
        return CaseIn.model_validate(data)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = (f"is not an insurer option ({', '.join(InsurerOptions.model_fields)})" if loc.startswith("insurer.options.")
                       else "is not a field of the case format (ISSUANCE-CASES.md)")
            head, sep, rest = msg.partition(": ")
            if sep and head and " " not in head:  # a model-level check names its field relative to loc
                loc, msg = (f"{loc}.{head}" if loc else head), rest
            errors.append(FieldError(loc or "case", msg))
        raise InputError(errors) from None


__all__ = ["CaseIn", "parse_case", "NOTICE", "CERTIFICATE"]
