"""What the issuance engine reads and answers (../shared/domain/ISSUANCE.md).

The inputs are plain frozen dataclasses with slots: the run builds a million of them from SQL
rows, so they carry no validation of their own (case files and the registry validate at the
edge). `InsurerOptions` is the one pydantic model: the per-insurer settings the registry
stores (as `InsurerOptions.stored()`, JSON) and an insurer page or API edits.

Glossary: eligibility_certificate = 資格確認書, notice = 資格情報のお知らせ,
registration_notice = 登録完了の通知 (R-I5), application = 資格確認書の交付申請.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CERTIFICATE = "eligibility_certificate"
NOTICE = "notice"
REGISTRATION_NOTICE = "registration_notice"
DOCUMENT_KINDS = (CERTIFICATE, NOTICE, REGISTRATION_NOTICE)

EMPLOYEE_KINDS = ("kyokai", "kumiai", "kyosai", "senin")  # 被用者保険
INSURER_KINDS = (*EMPLOYEE_KINDS, "kokuho", "kouki")
APPLICATION_REASONS = ("care", "card_lost", "card_renewal", "other")
CHANGE_EVENTS = ("numbers_changed", "name_changed", "copay_changed")  # R-I4b
EVENT_KINDS = ("acquisition", *CHANGE_EVENTS, "registration_done")

# Why a run makes a certificate or お知らせ (R-I6a), in the order they are tried.
TRIGGERS = ("enrolment", "change", "renewal", "standing")

InsurerKind = Literal["kyokai", "kumiai", "kyosai", "senin", "kokuho", "kouki"]
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


def parse_month_day(value: str) -> tuple[int, int]:
    """'07-31' → (7, 31); a day every year has (so not 02-29)."""
    m = _MONTH_DAY.match(value or "")
    if not m:
        raise ValueError(f"'{value}' is not a month and day (MM-DD)")
    month, day = int(m.group(1)), int(m.group(2))
    try:
        dt.date(2001, month, day)  # a common year: 02-29 is refused
    except ValueError:
        raise ValueError(f"'{value}' is not a day of every year") from None
    return month, day


class InsurerOptions(BaseModel):
    """Per-insurer settings of R-I3h and R-I6c. An option left out takes the policy default
    for the insurer's kind (policy/data/issuance.yaml `issuance_options`); `annual_end: null`
    given explicitly means "no yearly end: use certificate_years"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_to_all: bool | None = Field(None, description="R-I3h: a certificate to every member")
    annual_end: str | None = Field(None, description="MM-DD: certificates end on the first such day on or after their first day (R-I6c)")
    certificate_years: int | None = Field(None, ge=1, le=99, description="years of a certificate when annual_end is null (1–5; more is cut by the 5-year cap)")
    certificate_until: dt.date | None = Field(None, description="one printed end date for every certificate (R-I6c)")

    @field_validator("annual_end")
    @classmethod
    def _month_day(cls, v: str | None) -> str | None:
        if v is not None:
            parse_month_day(v)
        return v

    def explicit(self) -> dict[str, object]:
        """The options the insurer set (a null certificate_to_all / certificate_years counts as unset)."""
        return {
            k: getattr(self, k) for k in sorted(self.model_fields_set)
            if not (k in ("certificate_to_all", "certificate_years") and getattr(self, k) is None)
        }

    def stored(self) -> dict[str, object]:
        """JSON-ready form for the registry (only what the insurer set)."""
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.explicit().items()}


@dataclass(frozen=True, slots=True)
class Insurer:
    number: str  # 保険者番号 (8 digits, or 6 for 国保)
    kind: str  # one of INSURER_KINDS
    options: InsurerOptions = InsurerOptions()

    @property
    def is_kouki(self) -> bool:
        return self.kind == "kouki"

    @property
    def is_kokuho(self) -> bool:
        return self.kind == "kokuho"


@dataclass(frozen=True, slots=True)
class Qualification:
    start: dt.date  # first day covered
    end: dt.date | None = None  # last day covered
    copay: float | None = None  # the ratio printed for 70+ and 後期 (0.1, 0.2, 0.3)
    income: str = "general"  # general | high (現役並み所得)


@dataclass(frozen=True, slots=True)
class Card:
    """The My Number card as it is now (a lost card stays as it was until a new one is issued)."""

    issued: dt.date
    card_expires: dt.date
    cert_expires: dt.date  # 利用者証明用電子証明書
    insurance_registered: dt.date | None = None  # 保険証利用登録
    registration_cancelled: dt.date | None = None  # 利用登録解除
    returned: dt.date | None = None  # カード返納


@dataclass(frozen=True, slots=True)
class Application:
    date: dt.date
    reason: str  # one of APPLICATION_REASONS


@dataclass(frozen=True, slots=True)
class HeldDocument:
    """A document this insurer issued to the member; `expires` None = no end."""

    id: str
    kind: str  # one of DOCUMENT_KINDS
    issued: dt.date
    valid_from: dt.date | None = None  # None only for a registration notice
    expires: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # one of EVENT_KINDS
    date: dt.date  # the day it takes effect


@dataclass(frozen=True, slots=True)
class Member:
    """One member of one insurer, as the run sees them (ISSUANCE-CASES.md `member`)."""

    id: str
    birth_date: dt.date
    qualification: Qualification
    card: Card | None = None
    my_number_linked: bool = True  # the insurer holds the member's 個人番号 (R-I3a)
    dv_flag: bool = False  # 自己情報提供不可フラグ (R-I3e)
    application: Application | None = None
    documents: tuple[HeldDocument, ...] = ()
    events: tuple[Event, ...] = ()
    relation: str = "self"  # self | family; no rule depends on it


# ---------------------------------------------------------------- the answer


@dataclass(frozen=True, slots=True)
class Period:
    valid_from: dt.date
    expires: dt.date | None

    def to_json(self) -> dict:
        return {"valid_from": self.valid_from.isoformat(), "expires": self.expires.isoformat() if self.expires else None}


@dataclass(frozen=True, slots=True)
class Replacement:
    """A held document that stops being valid: its last valid day and the R-I7 rules behind it."""

    id: str
    valid_until: dt.date
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document the run sends: what the registry records (kind, dates, the rules that decided it)."""

    kind: str
    valid_from: dt.date | None
    expires: dt.date | None
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """What one member gets on one run day (the output of ISSUANCE-CASES.md, plus more)."""

    member_id: str
    day: dt.date  # the run day D
    certificate: Period | None = None
    notice: Period | None = None
    registration_notice: bool = False
    replaces: tuple[Replacement, ...] = ()
    rules: tuple[str, ...] = ()
    trigger: str | None = None  # enrolment | change | renewal | standing (R-I6a)
    reasons: tuple[str, ...] = ()  # the R-I3 reasons true on the certificate's first day
    application: str | None = None  # granted | refused | ended | not_needed (an application dated on or before D)
    warnings: tuple[str, ...] = field(default=())

    @property
    def issue(self) -> list[str]:
        return [k for k, v in ((CERTIFICATE, self.certificate), (NOTICE, self.notice), (REGISTRATION_NOTICE, self.registration_notice)) if v]

    @property
    def sends(self) -> bool:
        return bool(self.certificate or self.notice or self.registration_notice)

    @property
    def changes_anything(self) -> bool:
        return self.sends or bool(self.replaces)

    def documents(self) -> list[NewDocument]:
        """The documents to record, each with the rules that decided it."""
        out = []
        main = [r for r in self.rules if r != "R-I5" and not r.startswith("R-I7")]
        if self.certificate:
            out.append(NewDocument(CERTIFICATE, self.certificate.valid_from, self.certificate.expires, tuple(main)))
        if self.notice:
            out.append(NewDocument(NOTICE, self.notice.valid_from, self.notice.expires, tuple(r for r in main if r != "R-I3f")))
        if self.registration_notice:
            out.append(NewDocument(REGISTRATION_NOTICE, None, None, ("R-I5",)))
        return out

    def to_json(self) -> dict:
        return {
            "issue": self.issue,
            "certificate": self.certificate.to_json() if self.certificate else None,
            "notice": self.notice.to_json() if self.notice else None,
            "registration_notice": self.registration_notice,
            "replaces": [{"id": r.id, "valid_until": r.valid_until.isoformat()} for r in self.replaces],
            "rules": list(self.rules),
            "trigger": self.trigger,
            "reasons": list(self.reasons),
            "application": self.application,
            "date": self.day.isoformat(),
            "warnings": list(self.warnings),
        }
