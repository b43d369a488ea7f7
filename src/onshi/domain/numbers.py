"""保険者番号, 医療機関コード, 記号・番号・枝番 and 個人番号: validation and normalisation (R-P5)."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from .errors import InputError

PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)

# 法別番号 → insurance kind (R-P5). 6-digit numbers are 国保 (no 法別).
LAW_KINDS: dict[str, str] = {
    "01": "kyokai",  # 協会けんぽ
    "02": "seaman",  # 船員保険
    "03": "kyokai",  # 日雇特例 (協会)
    "04": "kyokai",
    "06": "kumiai",  # 健康保険組合
    "07": "kyosai",  # 自衛官等
    "31": "kyosai", "32": "kyosai", "33": "kyosai", "34": "kyosai",  # 共済組合
    "39": "kouki",  # 後期高齢者医療広域連合
    "63": "kumiai", "72": "kyosai", "73": "kyosai", "74": "kyosai", "75": "kyosai",  # 特例退職
}
KIND_LABELS: dict[str, str] = {
    "kyokai": "協会けんぽ", "seaman": "船員保険", "kumiai": "健康保険組合", "kyosai": "共済組合",
    "kokuho": "国民健康保険", "kouki": "後期高齢者医療",
}
# R-E8: the 不詳 insurer numbers; 77777779 passes the check digit for レセコン that enforce it.
UNKNOWN_INSURER_NUMBERS = ("77777777", "77777779")
DISASTER_INSURER_NUMBER = "99999999"

_HYPHENS = dict.fromkeys(map(ord, "‐‑‒–—―−－"), "-")
_WS = re.compile(r"[\s\u3000]+")
_DIGITS = re.compile(r"^[0-9]+$")  # not \d: it admits Arabic-Indic and other digits


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _plain(text: str) -> bool:
    """Printable ASCII without a space: text that NFKC, the removal of spaces and the folding
    of hyphens all leave as it is (NFKC maps no printable ASCII character; \\s matches none but
    the space; the hyphen variants are not ASCII). Most numbers a レセコン sends are such text,
    and the lookups skip the normalisation's three passes for them (tests/test_numbers_plain.py
    checks the shortcut against the full normalisation)."""
    return text.isascii() and text.isprintable() and " " not in text


def _compact(value: object) -> str:
    """記号/番号: NFKC, spaces removed, NFKC again (a sound mark after a removed space must
    compose: 'ｶ ﾞ' → 'ガ'), hyphen variants as '-'."""
    text = str(value or "")
    if _plain(text):
        return text
    return _nfkc(_WS.sub("", _nfkc(text))).translate(_HYPHENS)


def _has_control(text: str) -> bool:
    """Any character of category C (control, format, unassigned…). A printable string has none
    (str.isprintable is false for every C character), so only the others are walked."""
    return not text.isprintable() and any(unicodedata.category(c).startswith("C") for c in text)


def check_digit(data: str) -> int:
    """R-P5: weights 2,1,2,1… from the rightmost data digit, digits of each product summed,
    check = (10 − sum mod 10) mod 10."""
    total = 0
    for i, ch in enumerate(reversed(data)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def with_check_digit(data: str) -> str:
    return data + str(check_digit(data))


@dataclass(frozen=True)
class InsurerNumber:
    """A validated 保険者番号: 8 digits (法別2 + 都道府県2 + 保険者別3 + 検証1) or 6 for 国保."""

    value: str

    @property
    def kind(self) -> str:
        if len(self.value) == 6:
            return "kokuho"
        return LAW_KINDS.get(self.value[:2], "other")

    @property
    def law_code(self) -> str | None:
        return None if len(self.value) == 6 else self.value[:2]

    @property
    def prefecture_code(self) -> int:
        return int(self.value[:2] if len(self.value) == 6 else self.value[2:4])

    @property
    def padded(self) -> str:
        """8 characters, a 6-digit 国保 number left-padded with spaces (XML, UKE)."""
        return self.value.rjust(8, " ")

    @property
    def is_kouki(self) -> bool:
        return self.kind == "kouki"

    def __str__(self) -> str:
        return self.value


@functools.lru_cache(maxsize=16384)
def insurer_kind(number: str) -> str:
    """InsurerNumber(number).kind, remembered per number (every lookup asks it of each
    qualification it shows; the nation has a few thousand insurers)."""
    return InsurerNumber(number).kind


def normalise_insurer_number(value: object) -> str:
    """Strip spaces and width; '00138057' (zero-padded 国保) becomes '138057'."""
    if value is None:
        return ""
    text = str(value)
    if not _plain(text):
        text = _WS.sub("", _nfkc(text))
    if len(text) == 8 and text.startswith("00"):
        text = text[2:]
    return text


def parse_insurer_number(value: object, field: str = "insurer_number", *, allow_unknown: bool = False) -> InsurerNumber:
    """Validate a 保険者番号 (R-P5). `allow_unknown` admits the 不詳 numbers of R-E8."""
    if type(value) is str:  # a pure function of its arguments, and the nation has a few thousand insurers
        return _parse_insurer_text(value, field, allow_unknown)
    return _parse_insurer_number(value, field, allow_unknown)


def _parse_insurer_number(value: object, field: str, allow_unknown: bool) -> InsurerNumber:
    text = normalise_insurer_number(value)
    if not text:
        raise InputError(field, "is required")
    if not _DIGITS.match(text):
        raise InputError(field, f"'{value}' must contain digits only")
    if len(text) not in (6, 8):
        raise InputError(field, f"'{value}' must be 8 digits (6 for 国保)")
    if allow_unknown and text in UNKNOWN_INSURER_NUMBERS:
        return InsurerNumber(text)
    if check_digit(text[:-1]) != int(text[-1]):
        raise InputError(field, f"'{value}' has a wrong check digit (expected {check_digit(text[:-1])})")
    pref = int(text[:2] if len(text) == 6 else text[2:4])
    if not 1 <= pref <= 47:
        raise InputError(field, f"'{value}' has no valid prefecture code ({pref:02d})")
    return InsurerNumber(text)


# The answers for the texts seen lately (an error is raised afresh each time, never kept).
_parse_insurer_text = functools.lru_cache(maxsize=16384)(_parse_insurer_number)


def is_unknown_insurer(value: str) -> bool:
    return normalise_insurer_number(value) in UNKNOWN_INSURER_NUMBERS


@dataclass(frozen=True)
class FacilityCode:
    """医療機関コード: 都道府県2 + 点数表1 (1 医科, 3 歯科, 4 調剤) + 7."""

    value: str

    @property
    def prefecture_code(self) -> int:
        return int(self.value[:2])

    @property
    def table(self) -> str:
        return {"1": "医科", "3": "歯科", "4": "調剤"}[self.value[2]]

    def __str__(self) -> str:
        return self.value


def parse_facility_code(value: object, field: str = "facility_code") -> FacilityCode:
    text = _WS.sub("", _nfkc(str(value or "")))
    if not text:
        raise InputError(field, "is required")
    if not (len(text) == 10 and _DIGITS.match(text)):
        raise InputError(field, f"'{value}' must be 10 digits")
    if not 1 <= int(text[:2]) <= 47:
        raise InputError(field, f"'{value}' has no valid prefecture code ({text[:2]})")
    if text[2] not in "134":
        raise InputError(field, f"'{value}' has an unknown 点数表 code '{text[2]}' (1 医科, 3 歯科, 4 調剤)")
    return FacilityCode(text)


SYMBOL_MAX = 20
NUMBER_MAX = 20


def normalise_symbol(value: object, field: str = "symbol") -> str:
    """記号: width folded, spaces removed, hyphen variants as '-'. May be empty."""
    text = _compact(value)
    if len(text) > SYMBOL_MAX:
        raise InputError(field, f"is longer than {SYMBOL_MAX} characters")
    if _has_control(text):
        raise InputError(field, "contains control characters")
    return text


def normalise_member_number(value: object, field: str = "number") -> str:
    """番号: width folded, spaces removed. Required."""
    text = _compact(value)
    if not text:
        raise InputError(field, "is required")
    if len(text) > NUMBER_MAX:
        raise InputError(field, f"is longer than {NUMBER_MAX} characters")
    if _has_control(text):
        raise InputError(field, "contains control characters")
    return text


def normalise_branch(value: object, field: str = "branch") -> str:
    """枝番: two digits ('1' → '01'); empty when not given."""
    text = str(value if value is not None else "")
    if not _plain(text):
        text = _WS.sub("", _nfkc(text))
    if not text:
        return ""
    if not _DIGITS.match(text) or len(text) > 2:
        raise InputError(field, f"'{value}' must be 1–2 digits")
    return text.zfill(2)


def parse_my_number(value: object, field: str = "my_number") -> str:
    """個人番号: 12 digits whose last is a check digit (番号法施行令 第8条)."""
    text = _WS.sub("", _nfkc(str(value or ""))).translate(_HYPHENS).replace("-", "")
    if not (len(text) == 12 and _DIGITS.match(text)):
        raise InputError(field, "must be 12 digits")
    if my_number_check_digit(text[:11]) != int(text[11]):
        raise InputError(field, "has a wrong check digit")
    return text


def my_number_check_digit(data: str) -> int:
    total = 0
    for n, ch in enumerate(reversed(data), start=1):
        q = n + 1 if n <= 6 else n - 5
        total += int(ch) * q
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def parse_public_payer(value: object, field: str = "payer_number") -> str:
    """公費負担者番号: 法別番号2 + 都道府県2 + 実施機関3 + 検証番号1, the check digit computed as
    for 保険者番号 (R-P5)."""
    text = _WS.sub("", _nfkc(str(value or "")))
    if not (len(text) == 8 and _DIGITS.match(text)):
        raise InputError(field, f"'{value}' must be 8 digits")
    if check_digit(text[:-1]) != int(text[-1]):
        raise InputError(field, f"'{value}' has a wrong check digit (expected {check_digit(text[:-1])})")
    return text


def parse_public_recipient(value: object, field: str = "recipient_number") -> str:
    """公費の受給者番号: 7 digits (empty for a 公費 without one, e.g. 生活保護 in some cases)."""
    text = _WS.sub("", _nfkc(str(value or "")))
    if text and not (len(text) == 7 and _DIGITS.match(text)):
        raise InputError(field, f"'{value}' must be 7 digits")
    return text
