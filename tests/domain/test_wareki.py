"""和暦 formatting and parsing. RULES.md gives 和暦 no ID of its own; the dates it prints and
reads are those of the rules (R-B1 card dates, R-E1 claim remarks, the GYYMMDD claim form).
Era boundaries: 明治 (Gregorian from 明治6年1月1日 = 1873-01-01), 大正 1912-07-30, 昭和
1926-12-25, 平成 1989-01-08, 令和 2019-05-01."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.domain.errors import InputError
from onshi.domain.wareki import (
    ERAS,
    era_end,
    era_of,
    era_year,
    format_wareki,
    format_wareki_month,
    format_wareki_short,
    parse_gyymm,
    parse_wareki,
    to_gyymm,
    to_gyymmdd,
)

FAST = settings(max_examples=300, deadline=None, database=None)
D = dt.date
FIRST, LAST = D(1873, 1, 1), D(2100, 12, 31)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_wareki_round_trip_for_every_date_1873_to_2100():
    """Every day from 明治6年1月1日 to 2100-12-31: kanji, 元年-less, letter and GYYMMDD forms."""
    day = FIRST
    one = dt.timedelta(days=1)
    while day <= LAST:
        assert parse_wareki(format_wareki(day)) == day
        assert parse_wareki(to_gyymmdd(day)) == day
        day += one


@FAST
@given(st.dates(FIRST, LAST))
def test_wareki_round_trip_property_all_forms(day):
    for text in (
        format_wareki(day),
        format_wareki(day, gannen=False),
        format_wareki_short(day),
        to_gyymmdd(day),
        fullwidth(format_wareki(day)),
        fullwidth(format_wareki_short(day)),
        format_wareki(day).replace("年", "\u3000年"),
    ):
        assert parse_wareki(text) == day, text
    era, year = era_year(day)
    assert era is era_of(day)
    assert era.start <= day and (era_end(era) is None or day <= era_end(era))
    assert year >= 1
    assert format_wareki(day, gannen=(year != 1)) == format_wareki(day, gannen=False)
    assert parse_gyymm(to_gyymm(day)) == (day.year, day.month)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和8年5月12日", D(2026, 5, 12)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("令和1年5月1日", D(2019, 5, 1)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("昭和元年12月25日", D(1926, 12, 25)),
        ("大正15年12月24日", D(1926, 12, 24)),
        ("大正元年7月30日", D(1912, 7, 30)),
        ("明治45年7月29日", D(1912, 7, 29)),
        ("明治6年1月1日", D(1873, 1, 1)),
        ("明治33年1月1日", D(1900, 1, 1)),
        ("昭和63年9月30日", D(1988, 9, 30)),
        ("令和08年05月12日", D(2026, 5, 12)),
    ],
    ids=lambda v: str(v),
)
def test_wareki_era_boundary_days_parse(text, expected):
    assert parse_wareki(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "平成31年5月1日",  # 令和 from 2019-05-01
        "令和元年4月30日",
        "昭和64年1月8日",  # 平成 from 1989-01-08
        "平成元年1月7日",
        "大正15年12月25日",  # 昭和 from 1926-12-25
        "昭和元年12月24日",
        "明治45年7月30日",  # 大正 from 1912-07-30
        "大正元年7月29日",
        "明治5年12月31日",  # before the Gregorian calendar (not supported)
        "明治元年10月23日",
    ],
)
def test_wareki_days_outside_their_era_are_rejected_naming_the_field(text):
    with pytest.raises(InputError) as info:
        parse_wareki(text, "birth_date")
    assert info.value.errors[0].field == "birth_date"


@pytest.mark.parametrize(
    ("day", "kanji", "short", "code"),
    [
        (D(2019, 4, 30), "平成31年4月30日", "H31.04.30", "4310430"),
        (D(2019, 5, 1), "令和元年5月1日", "R1.05.01", "5010501"),
        (D(1989, 1, 7), "昭和64年1月7日", "S64.01.07", "3640107"),
        (D(1989, 1, 8), "平成元年1月8日", "H1.01.08", "4010108"),
        (D(1926, 12, 24), "大正15年12月24日", "T15.12.24", "2151224"),
        (D(1926, 12, 25), "昭和元年12月25日", "S1.12.25", "3011225"),
        (D(1912, 7, 29), "明治45年7月29日", "M45.07.29", "1450729"),
        (D(1912, 7, 30), "大正元年7月30日", "T1.07.30", "2010730"),
        (D(1873, 1, 1), "明治6年1月1日", "M6.01.01", "1060101"),
        (D(1900, 2, 28), "明治33年2月28日", "M33.02.28", "1330228"),
        (D(2026, 5, 12), "令和8年5月12日", "R8.05.12", "5080512"),
    ],
    ids=lambda v: str(v),
)
def test_wareki_formats_at_era_boundaries(day, kanji, short, code):
    assert format_wareki(day) == kanji
    assert format_wareki_short(day) == short
    assert to_gyymmdd(day) == code
    assert to_gyymm(day) == code[:5]


def test_wareki_gannen_and_seireki_options():
    assert format_wareki(D(2019, 5, 1), gannen=False) == "令和1年5月1日"
    assert format_wareki(D(2026, 5, 12), with_seireki=True) == "令和8年5月12日（2026年5月12日）"
    assert format_wareki_month(D(2019, 5, 31)) == "令和元年5月"
    assert format_wareki_month(D(2026, 5, 12)) == "令和8年5月"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R8.5.12", D(2026, 5, 12)),  # letter form
        ("R08.05.12", D(2026, 5, 12)),
        ("r8.5.12", D(2026, 5, 12)),
        ("R8/5/12", D(2026, 5, 12)),
        ("R8-5-12", D(2026, 5, 12)),
        ("H31.4.30", D(2019, 4, 30)),
        ("S64.1.7", D(1989, 1, 7)),
        ("T1.7.30", D(1912, 7, 30)),
        ("M45.7.29", D(1912, 7, 29)),
        ("5080512", D(2026, 5, 12)),  # GYYMMDD claim form
        ("4310430", D(2019, 4, 30)),
        ("5010501", D(2019, 5, 1)),
        ("3640107", D(1989, 1, 7)),
        ("令和８年５月１２日", D(2026, 5, 12)),  # full-width digits
        ("令和　８年　５月　１２日", D(2026, 5, 12)),  # ideographic spaces
        (" 令和8年5月12日 ", D(2026, 5, 12)),
        ("Ｒ８．５．１２", D(2026, 5, 12)),
        ("５０８０５１２", D(2026, 5, 12)),
    ],
    ids=lambda v: str(v),
)
def test_wareki_letter_claim_and_full_width_forms_parse(text, expected):
    assert parse_wareki(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "令和8年2月30日",  # not a real date
        "令和7年2月29日",  # 2025 is a common year
        "令和8年13月1日",
        "令和8年4月31日",
        "令和0年5月1日",
        "R0.5.1",
        "5000512",
        "4310501",  # 平成31年5月1日 in GYYMMDD form
        "3640108",
        "6080512",  # no era code 6
        "X8.5.12",
        "2026-05-12",
        "令和8年5月",
        "",
        "令和八年五月十二日",
    ],
    ids=lambda v: str(v),
)
def test_wareki_invalid_dates_are_rejected_naming_the_field(text):
    with pytest.raises(InputError) as info:
        parse_wareki(text, "visit.date")
    assert info.value.errors[0].field == "visit.date"
    assert text in info.value.errors[0].reason


def test_wareki_leap_days():
    assert parse_wareki("令和8年2月28日") == D(2026, 2, 28)
    assert parse_wareki("令和6年2月29日") == D(2024, 2, 29)
    assert parse_wareki("平成12年2月29日") == D(2000, 2, 29)
    with pytest.raises(InputError):
        parse_wareki("明治33年2月29日")  # 1900 is not a leap year


def test_wareki_dates_before_1873_are_not_supported():
    with pytest.raises(InputError) as info:
        era_of(D(1872, 12, 31))
    assert info.value.errors[0].field == "date"
    with pytest.raises(InputError):
        format_wareki(D(1868, 10, 23))


def test_wareki_eras_are_contiguous():
    """Each era ends the day before the next begins; codes 1–5 and letters M T S H R."""
    assert [e.code for e in ERAS] == ["5", "4", "3", "2", "1"]
    assert [e.letter for e in ERAS] == ["R", "H", "S", "T", "M"]
    assert era_end(ERAS[0]) is None
    for newer, older in zip(ERAS, ERAS[1:]):
        assert era_end(older) == newer.start - dt.timedelta(days=1)
    # The last year of each era and the first year of the next share a calendar year.
    assert era_year(D(2019, 4, 30))[1] == 31 and era_year(D(2019, 5, 1))[1] == 1
    assert era_year(D(1989, 1, 7))[1] == 64 and era_year(D(1926, 12, 24))[1] == 15
    assert era_year(D(1912, 7, 29))[1] == 45  # 明治元年 = 1868


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50805", (2026, 5)), ("50105", (2019, 5)), ("43104", (2019, 4)), ("36401", (1989, 1)), ("40101", (1989, 1)),
     ("30112", (1926, 12)), ("21512", (1926, 12)), ("20107", (1912, 7)), ("14507", (1912, 7)), ("10601", (1873, 1)),
     ("13312", (1900, 12))],
    ids=lambda v: str(v),
)
def test_wareki_claim_month_form(text, expected):
    assert parse_gyymm(text) == expected


@pytest.mark.parametrize("text", ["50104", "43105", "36402", "10512", "10101", "50813", "50800", "50008", "5080", "508051"])
def test_wareki_claim_month_outside_era_or_malformed_is_rejected(text):
    with pytest.raises(InputError) as info:
        parse_gyymm(text, "claim.month")
    assert info.value.errors[0].field == "claim.month"
