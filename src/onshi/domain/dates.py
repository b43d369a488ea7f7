"""Calendar arithmetic used by the rules: month ends, anniversaries, legal ages."""

from __future__ import annotations

import calendar
import datetime as dt

from .errors import InputError

Date = dt.date


def end_of_month(day: Date) -> Date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: Date, months: int) -> Date:
    """Same day-of-month `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return Date(year, month + 1, min(day.day, last))


def first_of_next_month(day: Date) -> Date:
    return end_of_month(day) + dt.timedelta(days=1)


def anniversary(birth: Date, years: int) -> Date:
    """The `years`-th anniversary of `birth`; 29 February falls on 1 March in common years.

    This is the calendar reading used for "the day a person turns N" (the 75th birthday of
    後期高齢者医療, for instance).
    """
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 Feb in a common year
        return Date(birth.year + years, 3, 1)


def age_reached_on(birth: Date, years: int) -> Date:
    """The day a person reaches age `years` under 年齢計算ニ関スル法律.

    The law counts from the day of birth, so an age is reached at the end of the day before
    the anniversary: someone born on 1 April reaches 6 on 31 March, someone born on
    29 February reaches an age on 28 February in common years.
    """
    return anniversary(birth, years) - dt.timedelta(days=1)


def birthday_in_year(birth: Date, year: int) -> Date:
    """The birthday as printed on documents in `year`: 29 February becomes 28 February in
    common years (the convention used for My Number card expiry dates)."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return Date(year, 2, 28)


def age_on(birth: Date, day: Date) -> int:
    """Completed years on `day` in everyday terms (one is N from the N-th birthday on)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def nth_birthday_after(birth: Date, issued: Date, n: int) -> Date:
    """The n-th birthday strictly after `issued` (birthdays on documents: 29 Feb → 28 Feb)."""
    first_year = issued.year
    if birthday_in_year(birth, issued.year) <= issued:
        first_year += 1
    return birthday_in_year(birth, first_year + n - 1)


# Every date a request may carry lies in this range: a birth date of a living person, a day of
# the system's use, with room for expiry dates. Outside it a date is refused (422) at the edge,
# before any date arithmetic could overflow (issue 10 item 7).
FIRST_DAY = Date(1900, 1, 1)
LAST_DAY = Date(2199, 12, 31)


def in_range(day: Date, field: str = "date") -> Date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(field, f"is out of range ({FIRST_DAY.isoformat()} – {LAST_DAY.isoformat()})")
    return day


def parse_date(value: object, field: str) -> Date:
    """A date from a `date`, an ISO string (YYYY-MM-DD) or a compact one (YYYYMMDD)."""
    if isinstance(value, dt.datetime):
        return in_range(value.date(), field)
    if isinstance(value, Date):
        return in_range(value, field)
    if not isinstance(value, str):
        raise InputError(field, "must be a date (YYYY-MM-DD)")
    text = value.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return in_range(Date(int(text[:4]), int(text[4:6]), int(text[6:])), field)
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return in_range(Date.fromisoformat(text), field)
    except ValueError:
        raise InputError(field, f"'{value}' is not a real calendar date") from None
    raise InputError(field, f"'{value}' is not a date in the form YYYY-MM-DD")


def fiscal_year(day: Date) -> int:
    """年度: April to March."""
    return day.year if day.month >= 4 else day.year - 1
