"""Typed inputs of the insurer operations (validated the same way for API, CLI and pages)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..domain import dates, names, numbers
from ..domain.errors import FieldError, InputError

RequestId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$", description="client request id (idempotency key)")
Name = Field(min_length=1, max_length=100)
LIMIT_CATEGORIES = tuple([f"A0{i}" for i in range(1, 7)] + [f"B{i:02d}" for i in range(1, 11)])


def _ratio_percent(value: object) -> object:
    """後期 ratio as 0.1/0.2/0.3 (case files) or 10/20/30 (percent)."""
    if isinstance(value, float) and value < 1:
        return int(round(value * 100))
    return value


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def field_of(fn):  # noqa: ANN001, ANN202
    """A domain normaliser as a pydantic validator (its InputError becomes the field's error)."""
    return AfterValidator(lambda v: _wrap(fn, v))


# The 被保険者番号等 fields, validated alike wherever they are typed in (API, case files, pages).
InsurerNo = Annotated[str, Field(max_length=10), field_of(lambda v: numbers.parse_insurer_number(v).value)]
CaseInsurerNo = Annotated[str, Field(max_length=10), field_of(lambda v: numbers.parse_insurer_number(v, allow_unknown=True).value)]
Symbol = Annotated[str, Field(max_length=40), field_of(numbers.normalise_symbol)]
MemberNo = Annotated[str, Field(max_length=40), field_of(numbers.normalise_member_number)]
Branch = Annotated[str, Field(max_length=4), field_of(numbers.normalise_branch)]
Kana = Annotated[str, field_of(names.normalise_kana)]
# A date a request carries, inside domain.dates' range (422 outside it, before any arithmetic).
Day = Annotated[dt.date, AfterValidator(lambda v: _wrap(lambda d: dates.in_range(d), v))]
MyNumber = Annotated[str, Field(description="個人番号 (12 digits); only its keyed hash is kept"), field_of(numbers.parse_my_number)]


class MemberNumbers(_Base):
    """記号・番号・枝番 identifying a qualification of the insurer."""

    symbol: Symbol = ""
    number: MemberNo
    branch: Branch = ""


def _wrap(fn, value):  # noqa: ANN001, ANN202
    try:
        return fn(value)
    except InputError as exc:
        raise ValueError(exc.errors[0].reason) from None


class _Limit(_Base):
    limit_category: str | None = None
    limit_start: Day | None = None
    limit_end: Day | None = None
    limit_issued: Day | None = None  # 限度額適用認定証の交付年月日

    @field_validator("limit_category")
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        if v is not None and v not in LIMIT_CATEGORIES:
            raise ValueError(f"must be one of {', '.join(LIMIT_CATEGORIES)}")
        return v


class Acquisition(MemberNumbers, _Limit):
    """資格取得: a new member (R-I1: in the central system within 5 days of the notice)."""

    request_id: str = RequestId
    my_number: MyNumber
    name: str = Name
    kana: Kana = Name
    birth_date: Day
    sex: Literal[1, 2, 3]
    address: str | None = Field(None, max_length=200)
    postcode: str | None = Field(None, pattern=r"^\d{3}-?\d{4}$")
    relation: Literal["self", "family"] = "self"
    insured_name: str | None = Field(None, max_length=100)
    card_classification: Literal["01", "02", "03", "04", "05", "06", "07", "A1"] = "01"
    start: Day
    notified: Day
    income: Literal["general", "high"] = "general"
    kouki_ratio: Literal[10, 20, 30] | None = None
    dv_flag: bool = False
    mailing_address: str | None = Field(None, max_length=200, description="R-I3e: where letters go when the member gave an address (a DV-flagged member's only)")
    mailing_postcode: str | None = Field(None, pattern=r"^\d{3}-?\d{4}$")

    _ratio = field_validator("kouki_ratio", mode="before")(classmethod(lambda cls, v: _ratio_percent(v)))

    @model_validator(mode="after")
    def _dates(self) -> "Acquisition":
        if self.birth_date > self.start:
            raise ValueError("start: is before the birth date")
        if self.limit_start and self.limit_end and self.limit_end < self.limit_start:
            raise ValueError("limit_end: is before limit_start")
        for name in ("postcode", "mailing_postcode"):
            value = getattr(self, name)
            if value and "-" not in value:
                setattr(self, name, f"{value[:3]}-{value[3:]}")
        if bool(self.mailing_address) != bool(self.mailing_postcode):
            raise ValueError("mailing_postcode: the mailing address and its postcode go together")
        return self


class Change(MemberNumbers, _Limit):
    """資格変更: attributes of a qualification change (R-I1: within 10 days)."""

    request_id: str = RequestId
    notified: Day
    new_symbol: Symbol | None = None
    new_number: MemberNo | None = None
    new_branch: Branch | None = None
    name: str | None = Field(None, min_length=1, max_length=100)
    kana: Kana | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, max_length=200)
    postcode: str | None = Field(None, pattern=r"^\d{3}-\d{4}$")
    relation: Literal["self", "family"] | None = None
    insured_name: str | None = Field(None, max_length=100)
    income: Literal["general", "high"] | None = None
    kouki_ratio: Literal[10, 20, 30] | None = None
    dv_flag: bool | None = Field(None, description="R-D5 自己情報提供不可フラグ: set or lift this insurer's flag (also on an ended qualification)")
    mailing_address: str | None = Field(None, max_length=200, description="R-I3e: the address the member gave for letters")
    mailing_postcode: str | None = Field(None, pattern=r"^\d{3}-\d{4}$")

    _ratio = field_validator("kouki_ratio", mode="before")(classmethod(lambda cls, v: _ratio_percent(v)))

    @model_validator(mode="after")
    def _something(self) -> "Change":
        changed = self.model_dump(exclude={"request_id", "notified", "symbol", "number", "branch"}, exclude_none=True)
        if not changed:
            raise ValueError("the change carries no new value")
        return self


class Loss(MemberNumbers):
    """資格喪失: the qualification ends; `end` is the last day covered."""

    request_id: str = RequestId
    notified: Day
    end: Day
    loss_reason: Literal["01", "02", "03", "99"] = "99"
    correction: bool = Field(False, description="資格喪失日の訂正: correct the end date and reason of a qualification whose end is already set (it stays ended)")


class CardLink(_Base):
    """A member's My Number card (serial and dates; R-B1 computes missing expiries)."""

    request_id: str = RequestId
    my_number: MyNumber
    serial: str = Field(pattern=r"^[0-9A-Z]{8,16}$")
    issued: Day
    card_expires: Day | None = None
    cert_expires: Day | None = None

    @model_validator(mode="after")
    def _dates(self) -> "CardLink":
        if self.card_expires and self.card_expires < self.issued:
            raise ValueError("card_expires: is before the issue date")
        if self.cert_expires and self.cert_expires < self.issued:
            raise ValueError("cert_expires: is before the issue date")
        return self


class CardRegistration(_Base):
    """健康保険証利用登録 of a card."""

    request_id: str = RequestId
    serial: str = Field(pattern=r"^[0-9A-Z]{8,16}$")
    registered_on: Day | None = None


def validation_errors(exc: ValidationError) -> InputError:
    """pydantic's errors as an InputError naming each field."""
    errors = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"] if p != "body")
        msg = e["msg"].removeprefix("Value error, ")
        if not loc and ": " in msg:  # model-level checks name their field in the message
            loc, msg = msg.split(": ", 1)
        errors.append(FieldError(loc or "body", msg))
    return InputError(errors)


def parse(model: type[BaseModel], data: object) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_errors(exc) from None
