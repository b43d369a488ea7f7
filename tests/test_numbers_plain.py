"""The shortcut of domain/numbers.py for plain text (printable ASCII without a space) and the
cached insurer numbers answer exactly as the full normalisation: the same values, and the
same errors naming the same fields. The full normalisation is written out here as it was
before the shortcut (NFKC, spaces removed, NFKC again, hyphens folded, every character's
category walked)."""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.domain import numbers
from onshi.domain.errors import InputError
from onshi.registry.service import NumberQuery, parse_number_query

_WS = re.compile(r"[\s\u3000]+")


def _full_compact(value: object) -> str:
    nfkc = lambda s: unicodedata.normalize("NFKC", s)  # noqa: E731
    return nfkc(_WS.sub("", nfkc(str(value or "")))).translate(numbers._HYPHENS)


def _full_field(field: str, most: int, required: bool, value: object) -> str:
    """The 記号 (symbol) or 番号 (number) as the full normalisation gives it, or its error."""
    text = _full_compact(value)
    if required and not text:
        raise InputError(field, "is required")
    if len(text) > most:
        raise InputError(field, f"is longer than {most} characters")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InputError(field, "contains control characters")
    return text


_full_symbol = functools.partial(_full_field, "symbol", numbers.SYMBOL_MAX, False)
_full_number = functools.partial(_full_field, "number", numbers.NUMBER_MAX, True)


def _full_branch(value: object) -> str:
    text = _WS.sub("", unicodedata.normalize("NFKC", str(value if value is not None else "")))
    if not text:
        return ""
    if not numbers._DIGITS.match(text) or len(text) > 2:
        raise InputError("branch", f"'{value}' must be 1–2 digits")
    return text.zfill(2)


def _full_insurer_text(value: object) -> str:
    if value is None:
        return ""
    text = _WS.sub("", unicodedata.normalize("NFKC", str(value)))
    return text[2:] if len(text) == 8 and text.startswith("00") else text


def _outcome(fn, value):  # noqa: ANN001, ANN202
    try:
        return "ok", fn(value)
    except InputError as exc:
        return "error", [(e.field, e.reason) for e in exc.errors]


# Text of every kind: plain ASCII (the shortcut), ASCII with spaces and controls, full-width
# digits and letters, half-width kana with sound marks, hyphen variants, ideographic spaces,
# format and unassigned characters, surrogates excluded (not valid in JSON text).
_PIECES = st.sampled_from(list(string.printable) + list("０１２３４５６７８９ＡＢｶﾞﾟ‐‑–—−－\u3000\u200b\u00a0\x85\u2028東京都\U000e0100\ufeff\x00\x1f\x7f"))
TEXTS = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=24),
    st.lists(_PIECES, max_size=24).map("".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=24),
)


@settings(max_examples=600, deadline=None)
@given(TEXTS)
def test_the_shortcut_normalises_as_the_full_normalisation(text: str) -> None:
    assert numbers._compact(text) == _full_compact(text)
    assert _outcome(numbers.normalise_symbol, text) == _outcome(_full_symbol, text)
    assert _outcome(numbers.normalise_member_number, text) == _outcome(_full_number, text)
    assert _outcome(numbers.normalise_branch, text) == _outcome(_full_branch, text)
    assert numbers.normalise_insurer_number(text) == _full_insurer_text(text)
    if numbers._plain(text):
        assert text.isascii() and " " not in text and unicodedata.normalize("NFKC", text) == text


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXTS, st.from_regex(r"\A(00)?[0-9]{6,8}\Z"), st.integers(min_value=0, max_value=10**9)))
def test_the_cached_insurer_numbers_answer_as_the_uncached(value: object) -> None:
    uncached = lambda v: numbers._parse_insurer_number(v, "insurer_number", False)  # noqa: E731
    for _ in range(2):  # the second time from the cache
        assert _outcome(numbers.parse_insurer_number, value) == _outcome(uncached, value)


def test_the_valid_numbers_come_back_the_same_through_the_shortcut() -> None:
    assert parse_number_query("06130017", "12345678", "1234567", "1", "1980-01-02") == NumberQuery(
        "06130017", "12345678", "1234567", "01", dt.date(1980, 1, 2))
    # Full-width and spaced input still normalised (the full path).
    assert parse_number_query("０６１３００１７", "ｶﾞ 12", " １２３ ", "０１", "19800102") == NumberQuery(
        "06130017", "ガ12", "123", "01", dt.date(1980, 1, 2))
    assert parse_number_query("06130017", "", "1", None, dt.date(1980, 1, 2)).symbol is None


def test_every_bad_field_is_still_named_together() -> None:
    with pytest.raises(InputError) as caught:
        parse_number_query("12345678", "a\x00", "", "123", "1980-02-30")
    assert [e.field for e in caught.value.errors] == ["insurer_number", "symbol", "number", "branch", "birth_date"]
