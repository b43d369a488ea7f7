"""The calendar arithmetic under R-B1 (birthdays after issue), R-B2/R-B3 (months) and R-P1–P4
(年齢計算ニ関スル法律: an age is reached on the day before the anniversary)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.domain.dates import (
    add_months,
    age_on,
    age_reached_on,
    anniversary,
    birthday_in_year,
    end_of_month,
    first_of_next_month,
    fiscal_year,
    nth_birthday_after,
    parse_date,
)
from onshi.domain.errors import InputError

FAST = settings(max_examples=300, deadline=None, database=None)
D = dt.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 5, 31), -3, D(2026, 2, 28)),
        (D(2026, 11, 15), 3, D(2027, 2, 15)),
        (D(2026, 3, 31), -13, D(2025, 2, 28)),
        (D(2026, 12, 31), 0, D(2026, 12, 31)),
    ],
    ids=lambda v: str(v),
)
def test_R_B2_R_B3_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


@FAST
@given(st.dates(D(1900, 1, 1), D(2100, 12, 31)), st.integers(-240, 240))
def test_R_B2_add_months_and_end_of_month_properties(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == min(day.day, end_of_month(moved).day)
    assert (end_of_month(day) + dt.timedelta(days=1)).day == 1
    assert first_of_next_month(day) == end_of_month(day) + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("birth", "years", "anniv", "reached"),
    [
        (D(2020, 4, 1), 6, D(2026, 4, 1), D(2026, 3, 31)),  # R-P1: born 1 April reaches 6 on 31 March
        (D(2020, 4, 2), 6, D(2026, 4, 2), D(2026, 4, 1)),
        (D(2020, 2, 29), 6, D(2026, 3, 1), D(2026, 2, 28)),  # 29 Feb: reached on 28 Feb
        (D(2020, 2, 29), 4, D(2024, 2, 29), D(2024, 2, 28)),
        (D(1956, 5, 1), 70, D(2026, 5, 1), D(2026, 4, 30)),  # R-P3
        (D(1951, 1, 1), 75, D(2026, 1, 1), D(2025, 12, 31)),
    ],
    ids=lambda v: str(v),
)
def test_R_P1_R_P3_age_is_reached_the_day_before_the_anniversary(birth, years, anniv, reached):
    assert anniversary(birth, years) == anniv
    assert age_reached_on(birth, years) == reached


@FAST
@given(st.dates(D(1900, 1, 1), D(2030, 12, 31)), st.integers(1, 80))
def test_R_P1_age_reached_and_age_on_agree(birth, years):
    anniv = anniversary(birth, years)
    assert age_reached_on(birth, years) == anniv - dt.timedelta(days=1)
    assert age_on(birth, anniv) == years
    assert age_on(birth, anniv - dt.timedelta(days=1)) == years - 1


@pytest.mark.parametrize(
    ("birth", "issued", "n", "expected"),
    [
        (D(1988, 9, 30), D(2022, 3, 1), 1, D(2022, 9, 30)),
        (D(1988, 9, 30), D(2022, 9, 30), 1, D(2023, 9, 30)),  # strictly after issue
        (D(1988, 9, 30), D(2022, 9, 29), 1, D(2022, 9, 30)),
        (D(2000, 2, 29), D(2021, 1, 1), 1, D(2021, 2, 28)),  # printed as 28 Feb
        (D(2000, 2, 29), D(2023, 3, 1), 1, D(2024, 2, 29)),
    ],
    ids=lambda v: str(v),
)
def test_R_B1_nth_birthday_after(birth, issued, n, expected):
    assert nth_birthday_after(birth, issued, n) == expected


def test_R_B1_birthday_in_year_uses_28_february_in_common_years():
    assert birthday_in_year(D(2000, 2, 29), 2026) == D(2026, 2, 28)
    assert birthday_in_year(D(2000, 2, 29), 2028) == D(2028, 2, 29)
    assert birthday_in_year(D(2000, 3, 1), 2026) == D(2026, 3, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-05-12", D(2026, 5, 12)), ("20260512", D(2026, 5, 12)), (" 2026-05-12 ", D(2026, 5, 12)),
     (D(2026, 5, 12), D(2026, 5, 12)), (dt.datetime(2026, 5, 12, 9, 30), D(2026, 5, 12))],
    ids=str,
)
def test_parse_date_accepts_iso_and_compact_forms(value, expected):
    """Visit and birth dates of every rule (no rule ID of its own)."""
    assert parse_date(value, "visit.date") == expected


@pytest.mark.parametrize("value", ["2026-02-30", "20260230", "2026/05/12", "R8.5.12", "", None, 20260512], ids=repr)
def test_parse_date_rejects_naming_the_field(value):
    """STYLE.md: bad input gets a message naming the field (no rule ID of its own)."""
    with pytest.raises(InputError) as info:
        parse_date(value, "visit.date")
    assert info.value.errors[0].field == "visit.date"


def test_fiscal_year_runs_april_to_march():
    """年度 April–March, the year R-P1's 31 March closes (no rule ID of its own)."""
    assert fiscal_year(D(2026, 3, 31)) == 2025
    assert fiscal_year(D(2026, 4, 1)) == 2026
