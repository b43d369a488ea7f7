"""R-D4: characters the central system cannot hold come back as ●.

Which characters are in JIS X 0208 is decided here by what the codecs say, not by memory:
- 德 (U+5FB7) encodes in CP932 as 0xED9E, the NEC-selected IBM extension (row 89), and the
  strict JIS X 0208 codec (shift_jis) cannot encode it. JIS X 0208 has only 徳 (U+5FB3,
  0x93BF). So 德永 is ●永 under jisx0208, kept under cp932, and kept under jisx0213 (JIS X
  0213 plane 1 has it: EUC-JIS-2004 0xF4C5).
- 髙 (U+9AD9, CP932 0xEEE0) and 𠮷 (U+20BB7, not in CP932) are not in JIS X 0213 either
  (JIS X 0213 treats 髙 as a glyph of 高 and has no 𠮷): euc_jis_2004 / shift_jis_2004
  cannot encode them, so they stay ● under jisx0213.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.domain.charset import MASK, REPERTOIRES, in_repertoire, is_representable, mask

FAST = settings(max_examples=300, deadline=None, database=None)
IVS = "\U000e0100"  # VARIATION SELECTOR-17, the first ideographic variation selector
VS1 = "\ufe00"


def _is_vs(ch: str) -> bool:
    return 0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF


def test_R_D4_codec_facts_behind_the_repertoires():
    assert "德".encode("cp932") == b"\xed\x9e"  # NEC-selected IBM extension, row 89
    assert "徳".encode("cp932") == "徳".encode("shift_jis") == b"\x93\xbf"  # JIS X 0208
    assert "髙".encode("cp932") == b"\xee\xe0"  # NEC-selected IBM extension
    assert "﨑".encode("cp932") == b"\xed\x95"
    assert "①".encode("cp932") == b"\x87\x40"  # NEC special characters, row 13
    for ch in "德髙﨑①":
        with pytest.raises(UnicodeEncodeError):
            ch.encode("shift_jis")  # strict JIS X 0208
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("cp932")
    for ch in "髙𠮷":
        for codec in ("euc_jis_2004", "shift_jis_2004"):
            with pytest.raises(UnicodeEncodeError):
                ch.encode(codec)
    assert "德".encode("euc_jis_2004") == b"\xf4\xc5"
    assert len("𠮷") == 1  # one code point (a surrogate pair only in UTF-16)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("髙橋", "●橋"),
        ("山﨑", "山●"),
        ("𠮷田", "●田"),  # one code point outside the BMP → one ●
        ("德永", "●永"),  # 德 is not JIS X 0208 (see the module docstring)
        ("徳永", "徳永"),
        ("山田太郎", "山田太郎"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"),  # half-width katakana (JIS X 0201)
        ("0123456789", "0123456789"),
        ("ABC xyz-/.", "ABC xyz-/."),
        ("東京都千代田区霞が関1-2-2", "東京都千代田区霞が関1-2-2"),
        ("１－２－２　ビル３Ｆ", "１－２－２　ビル３Ｆ"),
        ("〜～−－‖∥", "〜～−－‖∥"),  # both Unicode mappings of the same JIS characters
        ("凜熙", "凜熙"),  # the last row of JIS X 0208 (row 84)
        ("①", "●"),  # NEC special row 13
        ("ⅰ", "●"),  # IBM extension
        ("\ue000", "●"),  # user-defined (外字) area
        ("葛" + IVS + "飾", "●飾"),  # an ideographic variation sequence masks to one ●
        ("𠮷" + IVS, "●"),
        ("●橋", "●橋"),  # already masked
        ("", ""),
    ],
    ids=lambda v: f"R-D4-{v!r}",
)
def test_R_D4_mask_jisx0208(text, expected):
    assert mask(text, "jisx0208") == expected
    assert is_representable(text, "jisx0208") == (text == expected)


@pytest.mark.parametrize(
    ("repertoire", "text", "expected"),
    [
        ("cp932", "髙橋", "髙橋"),
        ("cp932", "山﨑", "山﨑"),
        ("cp932", "德永", "德永"),
        ("cp932", "①", "①"),
        ("cp932", "𠮷田", "●田"),
        ("cp932", "\ue000", "●"),  # 外字 in CP932's user-defined area is no shared character
        ("jisx0213", "山﨑", "山﨑"),
        ("jisx0213", "德永", "德永"),
        ("jisx0213", "①", "①"),
        ("jisx0213", "髙橋", "●橋"),  # not in JIS X 0213 (see the module docstring)
        ("jisx0213", "𠮷田", "●田"),  # not in JIS X 0213 either
        ("jisx0213", "～", "～"),
        ("jisx0213", "￢￠￡", "￢￠￡"),  # the CP932 mappings of JIS X 0208's ¬ ¢ £
        ("unicode", "𠮷田", "𠮷田"),
        ("unicode", "葛" + IVS + "飾", "葛" + IVS + "飾"),
        ("unicode", "\ue000", "\ue000"),
    ],
    ids=lambda v: f"R-D4-{v!r}",
)
def test_R_D4_mask_other_repertoires(repertoire, text, expected):
    assert mask(text, repertoire) == expected


@pytest.mark.parametrize("ch", ["\x80", "\uf8f0", "\uf8f1", "\uf8f2", "\uf8f3"], ids=lambda c: f"R-D4-U+{ord(c):04X}")
def test_R_D4_cp932_single_byte_oddities_are_masked(ch):
    """Python's CP932 codec maps U+0080 and the private-use U+F8F0–F8F3 to single bytes 0x80,
    0xA0, 0xFD–0xFF; they are neither ASCII nor JIS X 0201 katakana."""
    assert len(ch.encode("cp932")) == 1
    for repertoire in ("jisx0208", "cp932", "jisx0213"):
        assert mask("山" + ch, repertoire) == "山●", repertoire


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (IVS + "田", "田"),  # a selector with nothing before it is dropped
        ("●" + IVS, "●"),  # folds into an existing ●
        ("髙" + IVS + "橋", "●橋"),
        ("邉" + "\U000e0101", "●"),
        ("葛" + VS1, "●"),  # a standardised variation selector behaves the same
        ("葛" + IVS + IVS, "●"),
    ],
    ids=lambda v: f"R-D4-{v!r}",
)
def test_R_D4_variation_selectors(text, expected):
    assert mask(text, "jisx0208") == expected


def test_R_D4_none_and_default_repertoire(monkeypatch):
    assert mask(None) is None
    monkeypatch.delenv("ONSHI_CHARSET", raising=False)
    assert mask("髙橋") == "●橋"
    monkeypatch.setenv("ONSHI_CHARSET", "cp932")
    assert mask("髙橋") == "髙橋"
    monkeypatch.setenv("ONSHI_CHARSET", "no-such-repertoire")
    assert mask("髙橋") == "●橋"  # an unknown value falls back to jisx0208
    assert in_repertoire(MASK, "jisx0208")


# A mix of JIS X 0208 text, extensions, non-BMP kanji, variation selectors and oddities.
_SPECIAL = list("髙﨑𠮷德徳山田太郎高橋渡辺邊邉ﾀｶﾊｼタカハシたかはし①ⅰ～〜−－￢●　 A1-") + [
    IVS, VS1, "\U000e01ef", "\ue000", "\uf8f0", "\x80", "\u3099", "\U0002a6b2",
]
_texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(_SPECIAL),
        st.characters(min_codepoint=0x20, max_codepoint=0x2FFFF, exclude_categories=("Cs",)),
    ),
    max_size=20,
)


@FAST
@given(_texts, st.sampled_from(REPERTOIRES))
def test_R_D4_mask_is_idempotent(text, repertoire):
    once = mask(text, repertoire)
    assert mask(once, repertoire) == once
    assert is_representable(once, repertoire)


@FAST
@given(_texts, st.sampled_from(REPERTOIRES))
def test_R_D4_mask_keeps_the_length_except_folded_variation_selectors(text, repertoire):
    out = mask(text, repertoire)
    if repertoire == "unicode":
        assert out == text
        return
    base = [c for c in text if not _is_vs(c)]
    assert len(out) == len(base)
    assert not any(_is_vs(c) for c in out)
    for original, shown in zip(base, out):
        assert shown == original or shown == MASK
        assert shown == MASK or in_repertoire(shown, repertoire)


@FAST
@given(_texts)
def test_R_D4_wider_repertoires_mask_no_more(text):
    """JIS X 0208 ⊂ CP932, JIS X 0208 ⊂ JIS X 0213: text shown whole under jisx0208 is shown
    whole under the wider repertoires."""
    if is_representable(text, "jisx0208"):
        assert is_representable(text, "cp932")
        assert is_representable(text, "jisx0213")
        assert is_representable(text, "unicode")


def _jisx0208_characters() -> list[str]:
    """Every character of JIS X 0208, read back through the strict shift_jis codec."""
    chars = []
    for lead in list(range(0x81, 0xA0)) + list(range(0xE0, 0xEB)):
        for trail in list(range(0x40, 0x7F)) + list(range(0x80, 0xFD)):
            try:
                chars.append(bytes([lead, trail]).decode("shift_jis"))
            except UnicodeDecodeError:
                pass
    return chars


JISX0208 = _jisx0208_characters()


def test_R_D4_every_jisx0208_character_is_kept():
    assert len(JISX0208) == 6879  # 524 non-kanji + 6355 kanji
    for repertoire in REPERTOIRES:
        assert mask("".join(JISX0208), repertoire) == "".join(JISX0208), repertoire
