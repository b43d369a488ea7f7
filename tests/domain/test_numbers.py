"""R-P5 保険者番号 / 医療機関コード, R-E8 不詳 numbers, 記号・番号・枝番 normalisation and the
個人番号 check digit (番号法施行令 第8条)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from onshi.domain.errors import FieldError, InputError, collect
from onshi.domain.numbers import (
    NUMBER_MAX,
    SYMBOL_MAX,
    check_digit,
    is_unknown_insurer,
    my_number_check_digit,
    normalise_branch,
    normalise_insurer_number,
    normalise_member_number,
    normalise_symbol,
    parse_facility_code,
    parse_insurer_number,
    parse_my_number,
    with_check_digit,
)

FAST = settings(max_examples=200, deadline=None, database=None)


def fullwidth(text: str) -> str:
    """ASCII → full-width forms (what a Japanese IME types)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


def raises_on(field: str, call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    assert info.value.errors[0].field == field
    return info.value


# --- R-P5: the check digit -------------------------------------------------------------

KNOWN_VALID = [
    # number, kind, 法別, prefecture
    ("01130012", "kyokai", "01", 13),  # 協会けんぽ東京
    ("06139984", "kumiai", "06", 13),  # 健康保険組合
    ("138057", "kokuho", None, 13),  # 国保 (6 digits, no 法別)
    ("39131156", "kouki", "39", 13),  # 後期高齢者医療 東京
]


@pytest.mark.parametrize(("number", "kind", "law", "pref"), KNOWN_VALID, ids=[f"R-P5-{k[0]}" for k in KNOWN_VALID])
def test_R_P5_known_insurer_numbers_pass(number, kind, law, pref):
    parsed = parse_insurer_number(number)
    assert parsed.value == number
    assert str(parsed) == number
    assert parsed.kind == kind
    assert parsed.law_code == law
    assert parsed.prefecture_code == pref
    assert parsed.is_kouki == (kind == "kouki")


@pytest.mark.parametrize(
    ("data", "check"),
    [
        # 0113001: from the right 1×2, 0×1, 0×2, 3×1, 1×2, 1×1, 0×2 → 2+0+0+3+2+1+0 = 8 → 2
        ("0113001", 2),
        # 0613998: 8×2=16→7, 9×1=9, 9×2=18→9, 3×1=3, 1×2=2, 6×1=6, 0×2=0 → 36 → 4
        ("0613998", 4),
        ("13805", 7),
        ("3913115", 6),
        ("7777777", 9),  # R-E8: 77777779 is the 不詳 number that passes the check digit
        ("0000000", 0),
    ],
    ids=lambda v: f"R-P5-{v}",
)
def test_R_P5_check_digit_table(data, check):
    assert check_digit(data) == check
    assert with_check_digit(data) == data + str(check)


def _independent_check_digit(data: str) -> int:
    """R-P5 written again from the rule text, as an oracle."""
    weights = [2 if i % 2 == 0 else 1 for i in range(len(data))]
    products = [int(d) * w for d, w in zip(reversed(data), weights)]
    total = sum(sum(int(x) for x in str(p)) for p in products)
    return (10 - total % 10) % 10


@FAST
@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_R_P5_check_digit_matches_the_rule_text(data):
    assert check_digit(data) == _independent_check_digit(data)


@st.composite
def valid_insurer_numbers(draw) -> str:
    """A valid 保険者番号: 8 digits (法別 + 都道府県 + 保険者別 + check) or 6 for 国保."""
    pref = draw(st.integers(1, 47))
    serial = draw(st.integers(0, 999))
    if draw(st.booleans()):
        return with_check_digit(f"{pref:02d}{serial:03d}")
    law = draw(st.sampled_from(["01", "02", "06", "31", "32", "33", "34", "39", "63", "67"]))
    return with_check_digit(f"{law}{pref:02d}{serial:03d}")


@FAST
@given(valid_insurer_numbers())
def test_R_P5_generated_valid_numbers_parse(number):
    assert parse_insurer_number(number).value == number


@FAST
@given(valid_insurer_numbers(), st.data())
def test_R_P5_every_single_digit_change_is_detected(number, data):
    """Changing any one digit of a valid number (check digit included) is rejected."""
    position = data.draw(st.integers(0, len(number) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    changed = number[:position] + digit + number[position + 1 :]
    raises_on("insurer_number", parse_insurer_number, changed)


@pytest.mark.parametrize("number", [k[0] for k in KNOWN_VALID], ids=lambda n: f"R-P5-{n}")
def test_R_P5_every_single_digit_change_of_the_known_numbers_is_detected(number):
    for position in range(len(number)):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            with pytest.raises(InputError):
                parse_insurer_number(changed)


@FAST
@given(st.text(alphabet="0123456789", min_size=5, max_size=7), st.data())
def test_R_P5_check_digit_changes_with_any_single_data_digit(data_digits, data):
    position = data.draw(st.integers(0, len(data_digits) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != data_digits[position]]))
    changed = data_digits[:position] + digit + data_digits[position + 1 :]
    assert check_digit(changed) != check_digit(data_digits)


def test_R_E8_unknown_number_77777777_fails_unless_allow_unknown():
    err = raises_on("insurer_number", parse_insurer_number, "77777777")
    assert "check digit" in err.errors[0].reason
    assert parse_insurer_number("77777777", allow_unknown=True).value == "77777777"
    assert is_unknown_insurer("77777777")


def test_R_E8_R_P5_77777779_passes_the_check_digit():
    """77777779 passes the check digit (R-E8) and is accepted as a 不詳 number. As an ordinary
    insurer it is still refused, for its prefecture code 77, not for its check digit."""
    assert check_digit("7777777") == 9
    assert parse_insurer_number("77777779", allow_unknown=True).value == "77777779"
    assert is_unknown_insurer("７７７７７７７９")
    err = raises_on("insurer_number", parse_insurer_number, "77777779")
    assert "prefecture" in err.errors[0].reason


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0113001", "8 digits"),  # 7 digits
        ("011300123", "8 digits"),  # 9 digits
        ("13805", "8 digits"),  # 5 digits
        ("1", "8 digits"),
        ("0113001A", "digits only"),
        ("O1130012", "digits only"),  # letter O for zero
        ("01-130012", "digits only"),
        ("", "required"),
        (None, "required"),
        ("\u3000 ", "required"),
    ],
    ids=lambda v: f"R-P5-{v!r}",
)
def test_R_P5_malformed_insurer_numbers_are_rejected_naming_the_field(value, words):
    err = raises_on("payer.insurer", parse_insurer_number, value, "payer.insurer")
    assert words in err.errors[0].reason
    assert str(err).startswith("payer.insurer: ")


@pytest.mark.parametrize(
    "data",
    ["0100001", "0148001", "0199001", "00805", "48001", "99123"],
    ids=lambda d: f"R-P5-pref-{d}",
)
def test_R_P5_prefecture_00_and_48_plus_are_rejected(data):
    """A correct check digit does not save a number whose prefecture is not 01–47."""
    number = with_check_digit(data)
    if len(number) == 6:
        assert int(number[:2]) in (0, 48, 99)
    err = raises_on("insurer", parse_insurer_number, number, "insurer")
    assert "prefecture" in err.errors[0].reason


@pytest.mark.parametrize("pref", [1, 47], ids=lambda p: f"R-P5-pref-{p:02d}")
def test_R_P5_prefectures_01_and_47_are_accepted(pref):
    assert parse_insurer_number(with_check_digit(f"01{pref:02d}001")).prefecture_code == pref
    assert parse_insurer_number(with_check_digit(f"{pref:02d}001")).prefecture_code == pref


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00138057", "138057"),  # zero-padded 国保
        ("０１１３００１２", "01130012"),  # full-width digits
        ("１３８０５７", "138057"),
        ("００１３８０５７", "138057"),
        ("0113 0012", "01130012"),
        ("０１１３\u3000００１２", "01130012"),  # ideographic space
        (" 138057 ", "138057"),
        (138057, "138057"),
    ],
    ids=lambda v: f"R-P5-{v!r}",
)
def test_R_P5_zero_padding_width_and_spaces_are_accepted(value, expected):
    assert parse_insurer_number(value).value == expected


def test_R_P5_zero_padded_kokuho_is_six_digits_and_pads_with_spaces():
    assert normalise_insurer_number("00138057") == "138057"
    parsed = parse_insurer_number("00138057")
    assert parsed.kind == "kokuho"
    assert parsed.law_code is None
    assert parsed.padded == "  138057"
    assert parse_insurer_number("01130012").padded == "01130012"


def test_R_P5_non_ascii_decimal_digits_are_rejected():
    """Only 0–9 (and their full-width forms) are digits of a 保険者番号; Arabic-Indic or
    Devanagari digits are not folded by NFKC and must not reach a claim file."""
    raises_on("insurer_number", parse_insurer_number, "٠١١٣٠٠١٢")
    raises_on("insurer_number", parse_insurer_number, "०११३००१२")


@FAST
@given(valid_insurer_numbers())
def test_R_P5_full_width_and_spaced_forms_parse_to_the_same_number(number):
    assert parse_insurer_number(fullwidth(number)).value == number
    assert parse_insurer_number(" " + number[:3] + "\u3000" + number[3:] + "\t").value == number


# --- R-P5: 医療機関コード -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "table", "pref"),
    [("1312345678", "医科", 13), ("0131234567", "歯科", 1), ("４７４１２３４５６７", "調剤", 47)],
    ids=lambda v: f"R-P5-{v}",
)
def test_R_P5_facility_code_parses(value, table, pref):
    code = parse_facility_code(value)
    assert code.table == table
    assert code.prefecture_code == pref
    assert len(str(code)) == 10


@pytest.mark.parametrize(
    "value",
    ["131234567", "13123456789", "1322345678", "1352345678", "0012345678", "4812345678", "13123A5678", "", None],
    ids=lambda v: f"R-P5-{v!r}",
)
def test_R_P5_bad_facility_codes_are_rejected_naming_the_field(value):
    raises_on("visit.facility", parse_facility_code, value, "visit.facility")


# --- 記号・番号・枝番 (R-P5 被保険者番号等) -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ＡＢ１２", "AB12"),
        ("練　０１", "練01"),  # ideographic space removed
        (" 5012 ", "5012"),
        ("12－34", "12-34"),  # full-width hyphen-minus
        ("12‐34", "12-34"),  # U+2010
        ("12−34", "12-34"),  # U+2212 minus
        ("12―34", "12-34"),  # U+2015
        ("ｱｲ", "アイ"),  # half-width katakana
        ("", ""),
        (None, ""),
    ],
    ids=lambda v: f"R-P5-symbol-{v!r}",
)
def test_R_P5_symbol_normalisation(value, expected):
    assert normalise_symbol(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("３４１", "341"), ("20417", "20417"), ("１２３\u3000４５", "12345"), (341, "341"), ("12－3", "12-3")],
    ids=lambda v: f"R-P5-number-{v!r}",
)
def test_R_P5_member_number_normalisation(value, expected):
    assert normalise_member_number(value) == expected


@pytest.mark.parametrize("value", ["", None, "\u3000", " \t "], ids=repr)
def test_R_P5_member_number_is_required(value):
    err = raises_on("qualification.number", normalise_member_number, value, "qualification.number")
    assert "required" in err.errors[0].reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", "01"), (1, "01"), ("１", "01"), ("0", "00"), (0, "00"), ("00", "00"), ("12", "12"), (" 3 ", "03"), ("", ""), (None, "")],
    ids=lambda v: f"R-P5-branch-{v!r}",
)
def test_R_P5_branch_is_two_digits(value, expected):
    assert normalise_branch(value) == expected


@pytest.mark.parametrize("value", ["001", "123", "A", "1A", "-1", "١"], ids=lambda v: f"R-P5-branch-{v!r}")
def test_R_P5_bad_branch_is_rejected_naming_the_field(value):
    raises_on("branch_no", normalise_branch, value, "branch_no")


@pytest.mark.parametrize(
    ("function", "limit"), [(normalise_symbol, SYMBOL_MAX), (normalise_member_number, NUMBER_MAX)], ids=["R-P5-symbol", "R-P5-number"]
)
def test_R_P5_over_long_symbol_and_number_are_rejected(function, limit):
    assert limit == 20
    assert function("1" * limit) == "1" * limit
    assert function("１" * limit) == "1" * limit
    assert function(" ".join("1" * limit)) == "1" * limit  # spaces do not count
    err = raises_on("f", function, "1" * (limit + 1), "f")
    assert str(limit) in err.errors[0].reason
    raises_on("f", function, "Ａ" * (limit + 1), "f")


@pytest.mark.parametrize("value", ["50\x0012", "12\u200b34", "12\ue00034"], ids=repr)
def test_R_P5_control_and_invisible_characters_are_rejected(value):
    raises_on("symbol", normalise_symbol, value)
    raises_on("number", normalise_member_number, value)


# An alphabet that exercises width folding, spaces (ASCII and ideographic), hyphen variants,
# half-width kana with separate sound marks, and combining marks.
_SYMBOL_ALPHABET = st.sampled_from(
    list("0123456789ABCxyz-") + list("０１２ＡＢｘ－‐−―") + list(" \u3000\t") + list("練番号記アイカガ")
    + list("ｱｶｶﾞﾊﾟﾞﾟ") + ["\u3099", "\u309a", "\u0301", "゛", "゜", "e", "é", "Å", "ﬁ", "①", "㈱"]
)


@FAST
@given(st.text(alphabet=_SYMBOL_ALPHABET, max_size=24))
def test_R_P5_symbol_and_number_normalisation_is_idempotent(value):
    for function in (normalise_symbol, normalise_member_number):
        try:
            once = function(value)
        except InputError:
            continue
        assert function(once) == once
        assert unicodedata.normalize("NFKC", once) == once
        assert not any(c.isspace() for c in once)


def test_R_P5_a_sound_mark_after_a_space_composes_like_the_plain_form():
    """'ｶ ﾞ' and 'ｶﾞ' are the same 記号 once spaces are removed (was 'カ\u3099' ≠ 'ガ')."""
    assert normalise_symbol("ｶ ﾞ") == normalise_symbol("ｶﾞ") == "ガ"
    assert normalise_member_number("ｶ\u3000ﾞ1") == "ガ1"


@FAST
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=10))
def test_R_P5_full_width_symbol_and_number_equal_half_width(value):
    spaced = "\u3000".join(fullwidth(value))
    assert normalise_symbol(spaced) == normalise_symbol(value) == value
    assert normalise_member_number(spaced) == value


@FAST
@given(st.one_of(st.integers(0, 99), st.text(alphabet="0123456789１２ ", max_size=3)))
def test_R_P5_branch_normalisation_is_idempotent(value):
    try:
        once = normalise_branch(value)
    except InputError:
        return
    assert normalise_branch(once) == once
    assert once == "" or (len(once) == 2 and once.isascii() and once.isdigit())


# --- 個人番号 (番号法施行令 第8条) ------------------------------------------------------------


def _law_check_digit(data: str) -> int:
    """番号法施行令 第8条: P_n is the n-th digit from the right of the 11 digits, Q_n = n + 1
    (1 ≤ n ≤ 6) or n − 5 (7 ≤ n ≤ 11); check = 11 − (Σ P_n×Q_n mod 11), 0 when the remainder
    is 0 or 1."""
    total = sum(int(data[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def test_my_number_known_example_is_valid():
    """個人番号 check digit: 123456789018 is the usual published test number."""
    assert my_number_check_digit("12345678901") == 8
    assert parse_my_number("123456789018") == "123456789018"
    assert parse_my_number("1234-5678-9018") == "123456789018"
    assert parse_my_number("１２３４ ５６７８ ９０１８") == "123456789018"


@FAST
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_my_number_exactly_one_of_ten_last_digits_is_valid(data):
    valid = []
    for last in "0123456789":
        try:
            parse_my_number(data + last)
            valid.append(last)
        except InputError as exc:
            assert exc.errors[0].field == "my_number"
            assert "check digit" in exc.errors[0].reason
    assert valid == [str(_law_check_digit(data))]
    assert my_number_check_digit(data) == _law_check_digit(data)


@pytest.mark.parametrize("value", ["12345678901", "1234567890181", "12345678901A", "", None, "１２３４５６７８９０１"], ids=repr)
def test_my_number_malformed_is_rejected_naming_the_field(value):
    err = raises_on("person.my_number", parse_my_number, value, "person.my_number")
    assert "12 digits" in err.errors[0].reason


# --- InputError (STYLE: errors name the field) ---------------------------------------------


def test_input_error_collects_every_field():
    """STYLE.md: errors name every failing field (used by the R-P5 parsers)."""
    with pytest.raises(InputError) as info:
        collect(
            lambda: parse_insurer_number("1", "insurer"),
            lambda: normalise_branch("001", "branch"),
            lambda: normalise_symbol("ok"),
        )
    assert [e.field for e in info.value.errors] == ["insurer", "branch"]
    prefixed = info.value.prefixed("qualifications[0]")
    assert [e.field for e in prefixed.errors] == ["qualifications[0].insurer", "qualifications[0].branch"]
    assert str(FieldError("a", "b")) == "a: b"
    assert InputError("x").errors == [FieldError("x", "invalid")]
