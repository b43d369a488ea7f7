"""R-I2 linkage check: names, kana and addresses compared after folding width, spacing,
hiragana/katakana and the common kanji variants (異体字)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.domain.names import fold_address, fold_kana, fold_name, same_address, same_kana, same_name

FAST = settings(max_examples=300, deadline=None, database=None)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("髙橋 一郎", "高橋一郎"),
        ("髙橋　一郎", "高橋 一郎"),  # ideographic space
        ("山﨑", "山崎"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("渡邊", "渡邉"),
        ("齋藤", "斎藤"),
        ("德永", "徳永"),
        ("𠮷田", "吉田"),
        ("澤田 花子", "沢田花子"),
        ("グエン・ティ・ラン", "グエン ティ ラン"),
        ("ﾀｶﾊｼ ｲﾁﾛｳ", "タカハシ イチロウ"),
    ],
    ids=lambda v: f"R-I2-{v}",
)
def test_R_I2_same_name(a, b):
    assert same_name(a, b)
    assert same_name(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("高橋", "髙梨"),
        ("高橋", "高梨"),
        ("高橋一郎", "高橋二郎"),
        ("斎藤", "斉藤"),  # different surnames, not variants of one another
        ("山崎", "山嵜太"),
    ],
    ids=lambda v: f"R-I2-{v}",
)
def test_R_I2_different_names(a, b):
    assert not same_name(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ﾀｶﾊｼ ｲﾁﾛｳ", "タカハシ イチロウ"),  # half-width
        ("たかはし", "タカハシ"),  # hiragana
        ("たかはし　いちろう", "タカハシイチロウ"),
        ("ｻﾄｳ ﾊﾅｺ", "さとう はなこ"),
        ("ガ", "ｶﾞ"),
        ("カ゛", "ガ"),  # a spacing sound mark (U+309B) from legacy data
        ("か\u3099", "が"),  # a combining sound mark
        ("ﾊﾟﾝ", "パン"),
    ],
    ids=lambda v: f"R-I2-{v}",
)
def test_R_I2_same_kana(a, b):
    assert same_kana(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("キヨウコ", "キョウコ"), ("タカハシ", "タカハツ"), ("ハナコ", "ハナゴ")],
    ids=lambda v: f"R-I2-{v}",
)
def test_R_I2_different_kana(a, b):
    """Small and large kana stay apart: キヨウ ≠ キョウ is a real difference in registers."""
    assert not same_kana(a, b)


@pytest.mark.parametrize(
    "other",
    [
        "東京都千代田区霞が関1-2-2",
        "東京都千代田区霞が関１－２－２",  # full-width
        "東京都千代田区霞が関１丁目２番２号",
        "東京都千代田区霞が関1丁目2-2",
        "東京都千代田区霞が関一丁目２番地２号",
        "東京都 千代田区 霞が関 1‐2‐2",  # spaces, U+2010 hyphen
        "東京都千代田区霞が関1−2−2",  # U+2212
        "東京都千代田区霞が関1ー2ー2",  # a long-vowel mark typed for a hyphen
        "東京都千代田区霞が関１―２―２",
    ],
    ids=lambda v: f"R-I2-{v}",
)
def test_R_I2_same_address(other):
    assert same_address("東京都千代田区霞が関一丁目2番2号", other)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("東京都千代田区霞が関一丁目2番2号", "東京都千代田区霞が関1-2-3"),
        ("東京都千代田区霞が関一丁目2番2号", "東京都千代田区霞が関2-2-2"),
        ("東京都新宿区西新宿2-8-1", "東京都新宿区西新宿2-8-11"),
    ],
    ids=lambda v: f"R-I2-{v}",
)
def test_R_I2_different_address(a, b):
    assert not same_address(a, b)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("十一丁目", "11"),
        ("二十三丁目5番", "23-5"),
        ("十丁目", "10"),
        ("三十丁目", "30"),
        ("一丁目2番地3", "1-2-3"),
    ],
    ids=lambda v: f"R-I2-{v}",
)
def test_R_I2_kanji_chome_numbers(text, folded):
    assert fold_address(text) == folded


_NAME_ALPHABET = st.sampled_from(
    list("髙高橋﨑崎邊邉辺渡齋斎德徳山田太郎一郎") + ["𠮷", "吉"]
    + list("たかはしタカハシｶﾀﾞﾟﾞ゛゜がガ") + [" ", "\u3000", "・", "･", "\u3099", "\u309a"] + list("ＡA１1")
)
_ADDRESS_ALPHABET = st.sampled_from(
    list("東京都千代田区霞が関ヶ一二三十丁目番地号") + list("0123１２３-－‐−ーｰ ") + ["\u3000"]
)


@FAST
@given(st.text(alphabet=_NAME_ALPHABET, max_size=12), st.text(alphabet=_NAME_ALPHABET, max_size=12))
def test_R_I2_name_folding_is_idempotent_and_an_equivalence(a, b):
    for fold in (fold_name, fold_kana):
        assert fold(fold(a)) == fold(a)
    assert same_name(a, a)
    assert same_name(a, b) == same_name(b, a)
    assert same_name(a, fold_name(a))  # folding keeps the name's identity
    assert same_kana(a, fold_kana(a))


@FAST
@given(st.text(alphabet=_ADDRESS_ALPHABET, max_size=20))
def test_R_I2_address_folding_is_idempotent(a):
    assert fold_address(fold_address(a)) == fold_address(a)
    assert same_address(a, a)
    assert not fold_address(a).startswith("-") and not fold_address(a).endswith("-")
    assert "--" not in fold_address(a)


@FAST
@given(st.text(alphabet="アイウエオカキクケコガギグタチツテトナハバパマヤユヨラワン", min_size=1, max_size=10))
def test_R_I2_kana_width_and_script_do_not_matter(kana):
    import unicodedata

    hiragana = "".join(chr(ord(c) - 0x60) for c in kana)
    assert same_kana(kana, hiragana)
    # half-width: NFKC of the half-width form gives the full-width one back
    halfwidth = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF66, 0xFF9E)}
    if all(c in halfwidth for c in kana):
        assert same_kana(kana, "".join(halfwidth[c] for c in kana))
