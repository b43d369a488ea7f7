"""The SQL pieces the rates (rates.py) and their monthly summary (summary.py) share: who sees
what (Scope), what a マイナ保険証 use is, the month and age-band expressions, and the first use of a
マイナ保険証 per person and facility (R-S2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, case, cast, extract, func, literal_column, select

from ..domain.errors import Forbidden
from ..registry.schema import verification
from .definitions import AGE_BANDS, UNKNOWN

CARD_METHODS = ("my_number_card", "smartphone")  # R-S1/R-S2: a マイナ保険証 (card or smartphone)
OUTPATIENT_KIND_ENDINGS = ("0", "2", "4", "6", "8")  # レセプト種別: the last digit is even for 入院外


# ---------------------------------------------------------------- who sees what


@dataclass(frozen=True)
class Scope:
    """What a key may see: an analyst everything; a facility its own verifications and claims;
    an insurer its own members (verifications on, claims billed to and members of its number)."""

    facility_code: str | None = None
    insurer_number: str | None = None

    @classmethod
    def of(cls, role: str, subject: str) -> "Scope":
        if role == "analyst":
            return cls()
        if role == "facility":
            return cls(facility_code=subject)
        if role == "insurer":
            return cls(insurer_number=subject)
        raise Forbidden("X-API-Key", "statistics are for analyst, facility and insurer keys")

    @property
    def everything(self) -> bool:
        return self.facility_code is None and self.insurer_number is None


# ---------------------------------------------------------------- SQL pieces


def _int(part: str, column):  # noqa: ANN001, ANN202
    return cast(extract(part, column), Integer)


def month_key(column):  # noqa: ANN001, ANN202
    """yyyymm of a date, the same on PostgreSQL and SQLite."""
    return _int("year", column) * literal_column("100") + _int("month", column)


def _yyyymmdd(column):  # noqa: ANN001, ANN202
    return _int("year", column) * literal_column("10000") + _int("month", column) * literal_column("100") + _int("day", column)


def age_band(birth, day):  # noqa: ANN001, ANN202
    """The age band on `day` (ages count up on the birthday; 29 February on 1 March) in SQL."""
    return _band_of_age(birth, _yyyymmdd(day))


def _band_of_age(birth, day_number):  # noqa: ANN001, ANN202
    """The age band on a day given as the integer yyyymmdd (integer division: both sides are integers)."""
    return band_of_years(age_years(birth, day_number))


def age_years(birth, day_number):  # noqa: ANN001, ANN202
    """The age in whole years on a day given as the integer yyyymmdd; NULL without a birth date."""
    return (day_number - _yyyymmdd(birth)).op("/", precedence=100)(literal_column("10000"))  # integer / integer: truncates on both databases


def band_of_years(age):  # noqa: ANN001, ANN202
    """The age band of an age in whole years (NULL: unknown)."""
    whens = [(age <= hi, literal_column(f"'{name}'")) for name, _lo, hi in AGE_BANDS if hi is not None]
    return case((age.is_(None), literal_column(f"'{UNKNOWN}'")), *whens, else_=literal_column(f"'{AGE_BANDS[-1][0]}'"))


ALL = literal_column("'all'")

Counts = dict[str, dict[tuple[int, object], list[int]]]  # base → (yyyymm, key) → [numerator, denominator]


PACK = 10**15  # day of month × PACK + qualification id: the minimum is the first use (see first_uses)


def first_uses(start: dt.date, end: dt.date, facility_code: str | None = None):  # noqa: ANN201
    """Persons who used a マイナ保険証 at a facility in a month, each once: their first use (its
    day gives the age band, its qualification the insurer), as a subquery (ym, facility_code,
    person_id, packed) with the first use's qualification id and day (yyyymmdd) as expressions.
    One hash aggregate, no sort: the minimum of (day of month, qualification id) packed into one
    integer is the first day's use (on a day with two, the lower qualification id)."""
    v = verification
    vym = month_key(v.c.as_of)
    pack = literal_column(str(PACK))
    packed = func.min(cast(_int("day", v.c.as_of), BigInteger) * pack + func.coalesce(v.c.qualification_id, 0))
    first = (
        select(vym.label("ym"), v.c.facility_code, v.c.person_id, packed.label("packed"))
        .where(v.c.as_of >= start, v.c.as_of <= end, v.c.method.in_(CARD_METHODS), v.c.result != "error",
               v.c.person_id.is_not(None), *([v.c.facility_code == facility_code] if facility_code else []))
        .group_by(vym, v.c.facility_code, v.c.person_id)
        .subquery("first_use")
    )
    first_qid = first.c.packed % pack
    first_day = first.c.ym * literal_column("100") + first.c.packed.op("/", precedence=100)(pack)  # yyyymmdd (integer / integer)
    return first, first_qid, first_day


__all__ = ["ALL", "CARD_METHODS", "OUTPATIENT_KIND_ENDINGS", "PACK", "Counts", "Scope", "age_band", "age_years", "band_of_years", "first_uses", "month_key"]
