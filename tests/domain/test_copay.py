"""R-P1–P4 copay ratio: 2割 before school, 3割 to 69, 2割 (現役並み 3割) from the month after
reaching 70, the 広域連合's ratio for 後期高齢者 from the 75th birthday."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.domain.copay import (
    SELF_PAY,
    as_ratio,
    copay_percent,
    elderly_start,
    is_elderly_recipient,
    is_preschool,
    kouki_start,
    preschool_end,
)
from onshi.domain.dates import add_months, age_reached_on

FAST = settings(max_examples=300, deadline=None, database=None)
D = dt.date
ONE = dt.timedelta(days=1)


# --- R-P1 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "end"),
    [
        (D(2020, 4, 1), D(2026, 3, 31)),  # reaches 6 on 31 March 2026
        (D(2020, 4, 2), D(2027, 3, 31)),  # reaches 6 on 1 April 2026 → the following 31 March
        (D(2020, 3, 31), D(2026, 3, 31)),
        (D(2020, 1, 1), D(2026, 3, 31)),
        (D(2020, 12, 31), D(2027, 3, 31)),
        (D(2020, 2, 29), D(2026, 3, 31)),  # 29 Feb: reaches 6 on 28 Feb 2026
        (D(2019, 4, 1), D(2025, 3, 31)),
    ],
    ids=lambda v: str(v),
)
def test_R_P1_preschool_end(birth, end):
    assert preschool_end(birth) == end


@pytest.mark.parametrize(
    ("birth", "day", "percent"),
    [
        (D(2020, 4, 1), D(2026, 3, 31), 20),
        (D(2020, 4, 1), D(2026, 4, 1), 30),
        (D(2020, 4, 2), D(2026, 4, 1), 20),  # already 6, still before school
        (D(2020, 4, 2), D(2027, 3, 31), 20),
        (D(2020, 4, 2), D(2027, 4, 1), 30),
        (D(2020, 2, 29), D(2026, 3, 31), 20),
        (D(2020, 2, 29), D(2026, 4, 1), 30),
        (D(2026, 5, 12), D(2026, 5, 12), 20),  # a newborn
    ],
    ids=lambda v: str(v),
)
def test_R_P1_R_P2_school_entry_boundary(birth, day, percent):
    assert copay_percent(birth, day) == percent
    assert copay_percent(birth, day, income="high") == percent  # income plays no part before 70
    assert is_preschool(birth, day) == (percent == 20)


# --- R-P3 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "start"),
    [
        (D(1956, 5, 1), D(2026, 5, 1)),  # born on the 1st → the birthday month
        (D(1956, 5, 2), D(2026, 6, 1)),
        (D(1956, 5, 15), D(2026, 6, 1)),  # → the 1st of the next month
        (D(1956, 5, 31), D(2026, 6, 1)),
        (D(1956, 12, 15), D(2027, 1, 1)),
        (D(1957, 1, 1), D(2027, 1, 1)),
        (D(1956, 3, 1), D(2026, 3, 1)),
        (D(1956, 2, 29), D(2026, 3, 1)),  # reaches 70 on 28 Feb 2026 → March
        (D(1952, 2, 29), D(2022, 3, 1)),  # (a 29 Feb birth never turns 70 on a real 29 Feb)
        (D(1956, 2, 28), D(2026, 3, 1)),
    ],
    ids=lambda v: str(v),
)
def test_R_P3_elderly_start(birth, start):
    assert elderly_start(birth) == start


@pytest.mark.parametrize(
    ("birth", "day", "general", "high"),
    [
        (D(1956, 5, 1), D(2026, 4, 30), 30, 30),
        (D(1956, 5, 1), D(2026, 5, 1), 20, 30),  # 70th birthday on the 1st: from that month
        (D(1956, 5, 15), D(2026, 5, 15), 30, 30),  # the birthday itself: still 3割
        (D(1956, 5, 15), D(2026, 5, 31), 30, 30),
        (D(1956, 5, 15), D(2026, 6, 1), 20, 30),  # from the 1st of the next month
        (D(1956, 2, 29), D(2026, 2, 28), 30, 30),
        (D(1956, 2, 29), D(2026, 3, 1), 20, 30),
        (D(1952, 8, 20), D(2026, 5, 12), 20, 30),  # 73
    ],
    ids=lambda v: str(v),
)
def test_R_P3_seventieth_birthday_boundary(birth, day, general, high):
    assert copay_percent(birth, day) == general
    assert copay_percent(birth, day, income="high") == high


# --- R-P4 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "start"),
    [
        (D(1951, 5, 12), D(2026, 5, 12)),
        (D(1951, 5, 1), D(2026, 5, 1)),
        (D(1952, 2, 29), D(2027, 3, 1)),  # 29 Feb births always turn 75 in a common year
        (D(1949, 2, 28), D(2024, 2, 28)),
    ],
    ids=lambda v: str(v),
)
def test_R_P4_kouki_starts_on_the_75th_birthday(birth, start):
    assert kouki_start(birth) == start
    assert is_elderly_recipient(birth, start - ONE)
    assert not is_elderly_recipient(birth, start)


@pytest.mark.parametrize(
    ("ratio", "percent"), [(None, 10), (0.1, 10), (0.2, 20), (0.3, 30)], ids=lambda v: f"R-P4-{v}"
)
def test_R_P4_kouki_uses_its_ratio(ratio, percent):
    birth = D(1945, 6, 1)
    assert copay_percent(birth, D(2026, 5, 12), kouki=True, kouki_ratio=ratio) == percent
    # the 広域連合's ratio decides, not income
    assert copay_percent(birth, D(2026, 5, 12), kouki=True, kouki_ratio=ratio, income="high") == percent


def test_R_P1_R_P4_ratios():
    assert as_ratio(30) == 0.3
    assert as_ratio(20) == 0.2
    assert as_ratio(10) == 0.1
    assert as_ratio(SELF_PAY) == 1.0


# --- properties ---------------------------------------------------------------------------


def _school_oracle(birth: dt.date) -> dt.date:
    """The school year: children born 2 April – 1 April start school together."""
    return D(birth.year + (7 if (birth.month, birth.day) >= (4, 2) else 6), 3, 31)


def _elderly_oracle(birth: dt.date) -> dt.date:
    month = D(birth.year + 70, birth.month, 1)
    return month if birth.day == 1 else add_months(month, 1)


births = st.dates(D(1900, 1, 1), D(2030, 12, 31))


@FAST
@given(births)
def test_R_P1_R_P3_boundaries_match_independent_oracles(birth):
    assert preschool_end(birth) == _school_oracle(birth)
    assert elderly_start(birth) == _elderly_oracle(birth)
    reached6 = age_reached_on(birth, 6)
    assert reached6 <= preschool_end(birth) < reached6 + dt.timedelta(days=366)
    assert elderly_start(birth).day == 1
    assert age_reached_on(birth, 70) < elderly_start(birth) <= age_reached_on(birth, 70) + dt.timedelta(days=31)


@FAST
@given(births)
def test_R_P1_R_P2_R_P3_ratio_equals_the_table_at_each_boundary(birth):
    end, start = preschool_end(birth), elderly_start(birth)
    table = [
        (end, 20, 20),  # R-P1 last day
        (end + ONE, 30, 30),  # R-P2 first day
        (start - ONE, 30, 30),  # R-P2 last day
        (start, 20, 30),  # R-P3 first day (general, high)
    ]
    for day, general, high in table:
        assert copay_percent(birth, day) == general, day
        assert copay_percent(birth, day, income="high") == high, day
    assert copay_percent(birth, birth) == 20


@FAST
@given(births, st.lists(st.integers(0, 80 * 366), min_size=2, max_size=40), st.sampled_from(["general", "high"]))
def test_R_P1_R_P2_R_P3_ratio_is_monotone_in_the_transitions(birth, offsets, income):
    """Over a life the ratio runs 20 → 30 → 20 (30 for 現役並み), never back."""
    days = sorted(birth + dt.timedelta(days=o) for o in offsets)
    runs: list[int] = []
    for day in days:
        percent = copay_percent(birth, day, income=income)
        if not runs or runs[-1] != percent:
            runs.append(percent)
    expected = [20, 30, 20] if income == "general" else [20, 30]
    assert any(runs == expected[i : j] for i in range(len(expected)) for j in range(i + 1, len(expected) + 1)), runs


@FAST
@given(births)
def test_R_P3_R_P4_elderly_recipient_window(birth):
    assert is_elderly_recipient(birth, elderly_start(birth))
    assert not is_elderly_recipient(birth, elderly_start(birth) - ONE)
    assert not is_elderly_recipient(birth, kouki_start(birth))
    assert elderly_start(birth) < kouki_start(birth)
