"""Name, kana and address comparison for the linkage check (R-I2).

Birth date and sex must match exactly; names, kana and addresses are compared after
folding width, spacing, hiragana/katakana and the common kanji variants (異体字), so that
髙橋 and 高橋 are the same person but 高橋 and 髙梨 are not.
"""

from __future__ import annotations

import re
import unicodedata

# 異体字 → the common form. Not exhaustive: the common surname variants that differ between
# an insurer's system and the resident register.
KANJI_VARIANTS: dict[str, str] = {
    "髙": "高", "﨑": "崎", "嵜": "崎", "碕": "崎", "邊": "辺", "邉": "辺", "齋": "斎", "齊": "斉", "澤": "沢", "濱": "浜", "濵": "浜", "廣": "広",
    "國": "国", "德": "徳", "𠮷": "吉", "櫻": "桜", "瀨": "瀬", "惠": "恵", "眞": "真", "團": "団", "槇": "槙", "冨": "富", "兒": "児", "驒": "騨",
    "渕": "淵", "萬": "万", "彌": "弥", "壽": "寿", "實": "実", "與": "与", "條": "条", "嶋": "島", "嶌": "島", "樂": "楽", "榮": "栄", "藏": "蔵",
    "龜": "亀", "黑": "黒", "淸": "清", "靑": "青", "曾": "曽", "增": "増", "鄕": "郷", "郞": "郎", "禮": "礼", "劍": "剣", "縣": "県", "學": "学",
    "勞": "労", "來": "来", "會": "会", "關": "関", "聰": "聡", "龍": "竜", "舘": "館", "檜": "桧", "籠": "篭", "蘆": "芦", "藪": "薮", "莊": "荘",
    "凜": "凛", "晄": "晃",
}
_HIRAGANA = {chr(c): chr(c + 0x60) for c in range(0x3041, 0x3097)}
_WS = re.compile(r"[\s\u3000・･]+")
_HYPHENS = dict.fromkeys(map(ord, "‐‑‒–—―−－ーｰ"), "-")
_KANJI_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = unicodedata.normalize("NFKC", _WS.sub("", text))  # again: 'カ゛' → 'カ ゙' → 'ガ'
    text = "".join(_HIRAGANA.get(c, c) for c in text)
    return "".join(KANJI_VARIANTS.get(c, c) for c in text)


def fold_name(text: str) -> str:
    """The comparison key of a kanji or kana name."""
    return _fold(text)


def fold_kana(text: str) -> str:
    # Small and large kana are kept apart (キヨウ ≠ キョウ is a real difference in registers).
    return _fold(text)


def fold_address(text: str) -> str:
    """Addresses: width, spaces, hyphen variants, 霞ヶ関/霞が関, and 丁目/番地/番/号 after a
    number (kanji numerals included) written as hyphens; 番 inside a place name (三番町) stays."""
    text = _fold(text).translate(_HYPHENS)
    text = re.sub(r"(?<=[\u4e00-\u9fff])[ヶヵケがガ](?=[\u4e00-\u9fff])", "ケ", text)
    text = re.sub(r"([一二三四五六七八九]?十[一二三四五六七八九]?|[〇一二三四五六七八九]+)(?=丁目|番地|番|号)", lambda m: _kanji_number(m.group(1)), text)
    text = re.sub(r"(?<=[0-9])(丁目|番地|番|号)", "-", text)
    text = re.sub(r"-+", "-", text)
    return text.strip("-")


def _kanji_number(text: str) -> str:
    if "十" not in text:
        return text.translate(_KANJI_DIGITS)
    tens, _, ones = text.partition("十")
    return str((int(tens.translate(_KANJI_DIGITS)) if tens else 1) * 10 + (int(ones.translate(_KANJI_DIGITS)) if ones else 0))


def same_name(a: str, b: str) -> bool:
    return fold_name(a) == fold_name(b)


def same_kana(a: str, b: str) -> bool:
    return fold_kana(a) == fold_kana(b)


def same_address(a: str, b: str) -> bool:
    return fold_address(a) == fold_address(b)


_KANA_OK = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FB ]+$")


def normalise_kana(text: str, field: str = "kana") -> str:
    """Full-width katakana with single spaces (ﾀｶﾊｼ ｲﾁﾛｳ, たかはし いちろう → タカハシ イチロウ)."""
    from .errors import InputError

    value = unicodedata.normalize("NFKC", text or "").replace("\u3000", " ")
    value = "".join(_HIRAGANA.get(c, c) for c in value)
    value = re.sub(r"\s+", " ", value).strip()
    if not value:
        raise InputError(field, "is required")
    if not _KANA_OK.match(value):
        raise InputError(field, "must be written in katakana (カタカナ)")
    return value
