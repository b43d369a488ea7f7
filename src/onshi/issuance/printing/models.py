"""What a printed document shows: an issued document with its member and insurer, in memory
(the run fills them from the registry; tests and `onshi issuance sample-pdf` build them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

FORMS = ("card", "postcard", "a4")  # 資格確認書: カード型・はがき型・A4型 (seed 002)


@dataclass(frozen=True, slots=True)
class Address:
    postal_code: str  # 1234567 or 123-4567
    text: str  # 東京都千代田区霞が関1-2-2 …

    @property
    def postal_display(self) -> str:
        digits = "".join(c for c in self.postal_code if c.isdigit())
        return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else self.postal_code

    @property
    def sort_key(self) -> str:
        digits = "".join(c for c in self.postal_code if c.isdigit())
        return digits if len(digits) == 7 else "9999999"


@dataclass(frozen=True, slots=True)
class PrintInsurer:
    number: str  # 保険者番号
    kind: str  # kyokai | kumiai | kyosai | senin | kokuho | kouki
    name: str  # 保険者名 (全国健康保険協会 東京支部, 〇〇区, 東京都後期高齢者医療広域連合)
    issuer_name: str  # 交付者名 printed with the seal mark (〇〇区長 …)
    address: Address | None = None  # the sender's address (return address)
    phone: str | None = None
    certificate_form: str = "card"  # the 資格確認書 form this insurer prints: card | postcard | a4


@dataclass(frozen=True, slots=True)
class PrintMember:
    member_id: str
    name: str  # 氏名 as stored (the insurer holds the full name: never ●)
    kana: str  # フリガナ
    sex: int  # 1 男, 2 女, 3 (not printed)
    birth_date: dt.date
    symbol: str  # 記号
    number: str  # 番号
    branch: str  # 枝番
    qualification_start: dt.date  # 適用開始年月日
    address: Address | None  # 住所 (the resident address)
    copay: float | None = None  # 負担割合 (0.1 / 0.2 / 0.3), printed for 70+ and 後期
    householder_name: str | None = None  # 世帯主氏名 (国保)
    dv_flag: bool = False  # R-I3e / R-D5: the resident address never leaves the system
    mailing_address: Address | None = None  # the address the member gave (required with dv_flag)


@dataclass(frozen=True, slots=True)
class PrintDocument:
    """One issued document (registry: kind, form, issue date, validity, rules) to print."""

    id: str
    kind: str  # eligibility_certificate | notice | registration_notice
    issued: dt.date  # 交付年月日 / 発行日
    member: PrintMember
    insurer: PrintInsurer
    valid_from: dt.date | None = None  # 発効期日
    expires: dt.date | None = None  # 有効期限
    form: str | None = None  # certificates: card | postcard | a4 (default: the insurer's); others a4
    registered: dt.date | None = None  # registration notice: the day the data reached the central system (R-I5)


@dataclass(frozen=True, slots=True)
class PrintWarning:
    """Something the run summary lists: a character the font lacks (printed as 〓), a
    variation selector dropped, a document held back."""

    document_id: str
    member_id: str
    field: str
    message: str
    character: str | None = None

    def __str__(self) -> str:
        char = f" 「{self.character}」(U+{ord(self.character[0]):04X})" if self.character else ""
        return f"{self.document_id} ({self.member_id}) {self.field}:{char} {self.message}"


@dataclass
class PrintResult:
    pdf: bytes  # empty when written to a file
    pages: int
    warnings: list[PrintWarning] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # document ids in page order
    held_back: list[str] = field(default_factory=list)  # document ids not printed (see warnings)
