"""The claim as a value: what a UKE file carries for one patient and qualification billed in
a month, plus the 不詳 remarks (R-E1). Pure: no I/O.

Glossary: claim レセプト · care month 診療年月 · billing month 請求年月 · care days 受診日 (JD) ·
days 診療実日数 · points 合計点数 · receipt kind レセプト種別 · payer 審査支払機関 ·
confirm code SN 確認区分 · unknown 不詳 · review 審査 · reroute 振替 · split 分割 · return 返戻 ·
re-claim 再請求.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..domain import copay as copay_rules
from ..domain.dates import FIRST_DAY, LAST_DAY, end_of_month, in_range
from ..domain.errors import InputError
from ..domain.frozen import quick_init, quick_replace
from ..domain.numbers import UNKNOWN_INSURER_NUMBERS, InsurerNumber, normalise_insurer_number
from ..domain.wareki import parse_wareki
from . import uke_codes as codes

UNKNOWN_FILL = "7"  # R-E8: 記号・番号 filled with 7
# Where a claim's care days come from: its JD record; else the day columns of its detail
# records (estimated); else nothing tells, and the whole care month stands for them.
DAYS_FROM_JD, DAYS_FROM_DETAILS, DAYS_UNKNOWN = "JD", "details", "month"
UNKNOWN_SYMBOL = "7777"
UNKNOWN_NUMBER = "77777777"

# Keys of the visit's `remarks` JSON for a 不詳 claim (R-E1): those the front desk stores
# (frontdesk/live.py UnknownRemarks: phone, contacted_on; the kana is the visit's own), the
# English names used here, and the Japanese item names of the desk's remark list.
REMARK_ALIASES: dict[str, tuple[str, ...]] = {
    "kana": ("kana", "カナ氏名"),
    "insurance_kind": ("insurance_kind", "保険種別"),
    "insurer_name": ("insurer_name", "保険者名"),
    "employer": ("employer", "事業所名"),
    "address": ("address", "住所"),
    "contact_phone": ("contact_phone", "phone", "連絡先電話番号", "連絡先"),
    "contact_date": ("contact_date", "contacted_on", "連絡日"),
}
_KIND_WORDS = {
    "shaho": "shaho", "社保": "shaho", "社会保険": "shaho", "被用者保険": "shaho",
    "kokuho": "kokuho", "国保": "kokuho", "国民健康保険": "kokuho",
    "kouki": "kouki", "後期": "kouki", "後期高齢者": "kouki", "後期高齢者医療": "kouki",
    "other": "other", "その他": "other",
}


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def parse_loose_date(value: object, field: str) -> dt.date:
    """A date written by people: ISO, yyyyMMdd, 2026年5月20日, or 和暦 (令和8年5月20日, R8.5.20)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = re.fullmatch(r"(\d{4})[-/年.]?(\d{1,2})[-/月.]?(\d{1,2})日?", text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise InputError(field, f"'{value}' is not a real calendar date") from None
    return parse_wareki(text, field)


@quick_init
@dataclass(frozen=True)
class Remarks:
    """R-E1: what a 不詳 claim's remarks hold (besides the word 不詳 itself)."""

    kana: str | None = None
    insurance_kind: str | None = None  # shaho | kokuho | kouki | other
    insurer_name: str | None = None
    employer: str | None = None
    address: str | None = None
    contact_phone: str | None = None
    contact_date: dt.date | None = None

    @classmethod
    def from_mapping(cls, data: dict | None, *, kana: str | None = None) -> "Remarks":
        """From a visit's remarks JSON (English keys or the front desk's Japanese items)."""
        data = data or {}
        values: dict = {}
        for key, aliases in REMARK_ALIASES.items():
            for alias in aliases:
                if data.get(alias) not in (None, ""):
                    values[key] = data[alias]
                    break
        if "kana" not in values and kana:
            values["kana"] = kana
        kind = _text(values.get("insurance_kind"))
        date = values.get("contact_date")
        return cls(
            kana=_text(values.get("kana")),
            insurance_kind=_KIND_WORDS.get(kind, "other") if kind else None,
            insurer_name=_text(values.get("insurer_name")),
            employer=_text(values.get("employer")),
            address=_text(values.get("address")),
            contact_phone=_text(values.get("contact_phone")),
            contact_date=parse_loose_date(date, "remarks.contact_date") if date else None,
        )

    def merged(self, other: "Remarks") -> "Remarks":
        """`other`'s values where it has them (later information wins)."""
        return replace(self, **{k: v for k, v in other.to_dict(dates=False).items() if v is not None})

    def to_dict(self, *, dates: bool = True) -> dict:
        out = {k: getattr(self, k) for k in REMARK_ALIASES}
        if dates and out["contact_date"] is not None:
            out["contact_date"] = out["contact_date"].isoformat()
        return out

    def missing(self) -> list[str]:
        """R-E1 items not recorded (employer only for 社保)."""
        keys = ["kana", "insurance_kind", "insurer_name", "address", "contact_phone"]
        if self.insurance_kind in (None, "shaho"):
            keys.insert(3, "employer")
        return [k for k in keys if getattr(self, k) is None]


@quick_init
@dataclass(frozen=True)
class Finding:
    """One failure (or warning) of the 不詳 checklist, citing its rule."""

    rule: str
    message: str
    severity: str = "error"  # error: the claim is held back | warning: told, not held

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message}


@quick_init
@dataclass(frozen=True)
class Numbers:
    insurer_number: str
    symbol: str = ""
    number: str = ""
    branch: str = ""

    def to_dict(self) -> dict:
        return {"insurer_number": self.insurer_number, "symbol": self.symbol, "number": self.number, "branch": self.branch}


@dataclass(frozen=True)
class FacilityHeader:
    """The IR record: who files, to whom, for which billing month."""

    facility_code: str  # 10 digits: 都道府県2 + 点数表1 + 7
    name: str
    billing_month: dt.date
    payer: str = "1"
    phone: str = ""

    @property
    def prefecture(self) -> str:
        return self.facility_code[:2]

    @property
    def table(self) -> str:
        return self.facility_code[2]

    @property
    def code7(self) -> str:
        return self.facility_code[3:]


@quick_init
@dataclass(frozen=True)
class Claim:
    facility_code: str
    care_month: dt.date  # first day of the month
    patient_ref: str
    name: str
    birth_date: dt.date
    insurer_number: str
    number: str
    care_days: tuple[int, ...]
    copay_percent: int
    points: int
    symbol: str = ""
    branch: str = ""
    kana: str | None = None
    sex: int | None = None
    relation: str | None = None  # self | family | None (not recorded, R-E4)
    unknown: bool = False  # 不詳
    remarks: Remarks | None = None
    copay_amount: int | None = None
    receipt_no: int | None = None
    receipt_kind: str | None = None
    basis: str | None = None
    qualification_id: int | None = None
    confirm_code: str = codes.CONFIRM_FACILITY
    confirmed: Numbers | None = None  # SN 4–7 when they differ from HO (振替, 分割)
    billing_month: dt.date | None = None
    checks: tuple[Finding, ...] = field(default_factory=tuple)
    public_payer: str = ""  # 公費負担者番号 of the first 公費 (KO); "" = none
    public_recipient: str = ""  # its 受給者番号
    # Read from a UKE file: 診療実日数 as HO (or the first KO) says, where the care days come
    # from (JD; else estimated from the detail records' day columns, or the whole month when
    # they carry none), whether the claim had an MF record, the payer of the file, and the
    # claim's records as they were (written back, changed only where onshi changed them).
    day_count: int | None = None
    days_source: str = DAYS_FROM_JD
    has_mf: bool = True
    billed_payer: str = ""
    records: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        """診療実日数."""
        return self.day_count if self.day_count is not None else len(self.care_days)

    @property
    def has_jd(self) -> bool:
        return self.days_source == DAYS_FROM_JD

    @property
    def public_only(self) -> bool:
        """公費単独 (レセプト種別 x2xx): no HO, nothing of the 医療保険 to review."""
        return bool(self.receipt_kind) and len(self.receipt_kind) == 4 and self.receipt_kind[1] == "2"

    @property
    def days_mask(self) -> int:
        return days_mask(self.care_days)

    @property
    def first_day(self) -> dt.date:
        return self.care_month.replace(day=min(self.care_days))

    @property
    def last_day(self) -> dt.date:
        return self.care_month.replace(day=max(self.care_days))

    @property
    def kind(self) -> str:
        """shaho | kokuho | kouki: from the number, or for a 不詳 claim from the remarks."""
        if self.unknown:
            kind = self.remarks.insurance_kind if self.remarks else None
            return kind if kind in ("kokuho", "kouki") else "shaho"
        return insurance_kind(self.insurer_number)

    @property
    def payer(self) -> str:
        return self.billed_payer or payer_of(self.kind)

    @property
    def numbers(self) -> Numbers:
        return Numbers(self.insurer_number, self.symbol, self.number, self.branch)

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.checks if f.severity == "error")

    def with_kind(self) -> "Claim":
        """The claim with its レセプト種別 and 一部負担金 filled in when missing."""
        kind = self.receipt_kind or receipt_kind(
            kouki=self.kind == "kouki", relation=self.relation, birth=self.birth_date, day=self.first_day, copay_percent=self.copay_percent,
            public=bool(self.public_payer),
        )
        amount = self.copay_amount if self.copay_amount is not None else copay_amount(self.points, self.copay_percent)
        return quick_replace(self, receipt_kind=kind, copay_amount=amount)

    def to_dict(self) -> dict:
        return {
            "receipt_no": self.receipt_no,
            "facility_code": self.facility_code,
            "billing_month": self.billing_month.strftime("%Y-%m") if self.billing_month else None,
            "care_month": self.care_month.strftime("%Y-%m"),
            "payer": self.payer,
            "receipt_kind": self.receipt_kind,
            "patient_ref": self.patient_ref,
            "name": self.name,
            "kana": self.kana,
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat(),
            "relation": self.relation,
            "copay_percent": self.copay_percent,
            "insurer_number": self.insurer_number,
            "symbol": self.symbol,
            "number": self.number,
            "branch": self.branch,
            "unknown": self.unknown,
            "basis": self.basis,
            "days": self.days,
            "care_days": list(self.care_days),
            "days_source": self.days_source,
            "has_mf": self.has_mf,
            "points": self.points,
            "copay_amount": self.copay_amount,
            "confirm_code": self.confirm_code,
            "confirmed": self.confirmed.to_dict() if self.confirmed else None,
            "remarks": self.remarks.to_dict() if self.remarks else None,
            "checks": [f.to_dict() for f in self.checks],
            "public_expense": {"payer_number": self.public_payer, "recipient_number": self.public_recipient} if self.public_payer else None,
        }


# ---------------------------------------------------------------- small calculations


def days_mask(days: tuple[int, ...] | list[int]) -> int:
    mask = 0
    for d in days:
        mask |= 1 << (d - 1)
    return mask


def days_of_mask(mask: int) -> tuple[int, ...]:
    return tuple(d for d in range(1, 32) if mask >> (d - 1) & 1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return end_of_month(day) + dt.timedelta(days=1)


def parse_month(value: object, field: str = "month") -> dt.date:
    """YYYY-MM (or YYYYMM, or a date) → the first day of that month."""
    if isinstance(value, dt.date):
        return in_range(value.replace(day=1), field)
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    m = re.fullmatch(r"(\d{4})-?(\d{2})(?:-\d{2})?", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(field, f"'{value}' is not a month (YYYY-MM)")
    if not FIRST_DAY.year <= int(m.group(1)) < LAST_DAY.year:  # the month after stays in range too
        raise InputError(field, f"'{value}' is out of range ({FIRST_DAY.year}-01 – {LAST_DAY.year - 1}-12)")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def is_unknown_numbers(insurer_number: str) -> bool:
    return normalise_insurer_number(insurer_number) in UNKNOWN_INSURER_NUMBERS


@lru_cache(maxsize=65536)  # a few thousand insurers; every claim asks twice (its kind, its payer)
def insurance_kind(insurer_number: str) -> str:
    """社保 / 国保 / 後期 from the 保険者番号 (R-P5): 6 digits 国保, 法別 39 後期."""
    kind = InsurerNumber(normalise_insurer_number(insurer_number)).kind
    return kind if kind in ("kokuho", "kouki") else "shaho"


def payer_of(kind: str) -> str:
    """社保 → 支払基金 (1); 国保 and 後期 → 国保連 (2)."""
    return "2" if kind in ("kokuho", "kouki") else "1"


def receipt_kind(*, kouki: bool, relation: str | None, birth: dt.date, day: dt.date, copay_percent: int, public: bool = False) -> str:
    """レセプト種別 (入院外) from the insurance kind and 本人/家族/未就学/高齢 (UKE.md); the third
    digit is 1 for the insurance alone, 2 with one 公費 (2併)."""
    if kouki:
        kind = "1310" if copay_percent >= 30 else "1318"
    elif copay_rules.is_elderly_recipient(birth, day) or day >= copay_rules.kouki_start(birth):
        kind = "1110" if copay_percent >= 30 else "1118"
    elif copay_rules.is_preschool(birth, day):
        kind = "1114"
    else:
        kind = "1116" if relation == "family" else "1112"
    return kind[:2] + "2" + kind[3] if public else kind


def single_kind(kind: str) -> str:
    """The レセプト種別 of the insurance alone (1122 → 1112), for the tables keyed by it."""
    return kind[:2] + "1" + kind[3:] if len(kind) == 4 and kind[2] in "23" else kind


def copay_amount(points: int, percent: int) -> int:
    """一部負担金: 1 点 = 10 円, rounded to 10 yen (四捨五入)."""
    yen = points * 10 * percent
    return (yen + 500) // 1000 * 10
