"""和暦 (Japanese era dates): formatting and parsing.

Eras start on the day the new era began; a date before 明治6年 (the adoption of the
Gregorian calendar) is not supported.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class Era:
    name: str  # 令和
    letter: str  # R
    code: str  # digit used by claim files (UKE): 1 明治 … 5 令和
    start: dt.date  # first supported day
    first_year: int | None = None  # year of 元年 when it precedes `start` (明治: 1868)

    @property
    def year_one(self) -> int:
        return self.first_year or self.start.year


ERAS: tuple[Era, ...] = (
    Era("令和", "R", "5", dt.date(2019, 5, 1)),
    Era("平成", "H", "4", dt.date(1989, 1, 8)),
    Era("昭和", "S", "3", dt.date(1926, 12, 25)),
    Era("大正", "T", "2", dt.date(1912, 7, 30)),
    Era("明治", "M", "1", dt.date(1873, 1, 1), 1868),
)
_BY_NAME = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS} | {e.code: e for e in ERAS}


def era_of(day: dt.date) -> Era:
    for era in ERAS:
        if day >= era.start:
            return era
    raise InputError("date", f"{day.isoformat()} is before the eras supported (明治6年)")


def era_end(era: Era) -> dt.date | None:
    index = ERAS.index(era)
    return None if index == 0 else ERAS[index - 1].start - dt.timedelta(days=1)


def era_year(day: dt.date) -> tuple[Era, int]:
    era = era_of(day)
    return era, day.year - era.year_one + 1


def format_wareki(day: dt.date, *, gannen: bool = True, with_seireki: bool = False) -> str:
    """令和8年5月12日 (令和元年 for year 1); optionally followed by （2026年5月12日）."""
    era, year = era_year(day)
    year_text = "元" if (year == 1 and gannen) else str(year)
    text = f"{era.name}{year_text}年{day.month}月{day.day}日"
    if with_seireki:
        text += f"（{day.year}年{day.month}月{day.day}日）"
    return text


def format_wareki_short(day: dt.date) -> str:
    """R8.05.12 — the compact form printed on cards and certificates."""
    era, year = era_year(day)
    return f"{era.letter}{year}.{day.month:02d}.{day.day:02d}"


def format_wareki_month(day: dt.date) -> str:
    era, year = era_year(day)
    return f"{era.name}{'元' if year == 1 else year}年{day.month}月"


def to_gyymmdd(day: dt.date) -> str:
    """Claim-file form: era code + 2-digit year + month + day (5080512)."""
    era, year = era_year(day)
    return f"{era.code}{year:02d}{day.month:02d}{day.day:02d}"


def to_gyymm(day: dt.date) -> str:
    era, year = era_year(day)
    return f"{era.code}{year:02d}{day.month:02d}"


def _to_date(era: Era, year: int, month: int, day: int, source: str, field: str) -> dt.date:
    try:
        result = dt.date(era.year_one + year - 1, month, day)
    except ValueError:
        raise InputError(field, f"'{source}' is not a real calendar date") from None
    end = era_end(era)
    if result < era.start or (end is not None and result > end):
        raise InputError(field, f"'{source}' is outside the {era.name} era")
    return result


_KANJI_FORM = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日$")
_LETTER_FORM = re.compile(r"^([MTSHR])(\d{1,2})[./-](\d{1,2})[./-](\d{1,2})$", re.IGNORECASE)
_CODE_FORM = re.compile(r"^([1-5])(\d{2})(\d{2})(\d{2})$")


def parse_wareki(text: str, field: str = "date") -> dt.date:
    """Parse 令和8年5月12日, 令和元年5月1日, R8.5.12, R08.05.12 or the claim form 5080512."""
    source = text
    value = unicodedata.normalize("NFKC", text).replace(" ", "").strip()
    for pattern in (_KANJI_FORM, _LETTER_FORM, _CODE_FORM):
        m = pattern.match(value)
        if m:
            era = _BY_NAME[m.group(1).upper()]
            year = 1 if m.group(2) == "元" else int(m.group(2))
            if year < 1:
                raise InputError(field, f"'{source}' has year 0 of an era")
            return _to_date(era, year, int(m.group(3)), int(m.group(4)), source, field)
    raise InputError(field, f"'{source}' is not a 和暦 date (例: 令和8年5月12日, R8.5.12)")


def parse_gyymm(text: str, field: str = "month") -> tuple[int, int]:
    """Claim-file month 50805 → (2026, 5)."""
    m = re.match(r"^([1-5])(\d{2})(\d{2})$", text.strip())
    if not m:
        raise InputError(field, f"'{text}' is not a 和暦 month (GYYMM)")
    era = _BY_NAME[m.group(1)]
    year, month = int(m.group(2)), int(m.group(3))
    if year < 1 or not 1 <= month <= 12:
        raise InputError(field, f"'{text}' is not a real month")
    # A month is in the era when any of its days is (令和元年5月 yes, 平成31年5月 no).
    start_month = (era.start.year, era.start.month)
    last = era.start if (era.year_one + year - 1, month) == start_month else _to_date(era, year, month, 1, text, field)
    return last.year, last.month
