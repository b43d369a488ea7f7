"""The ● mask (R-D4): characters outside the central system's repertoire are shown as ●.

The stored value always keeps the original characters; only outputs are masked.
Repertoires:
- ``jisx0208`` (default): ASCII, JIS X 0201 katakana and JIS X 0208 — decided on the CP932
  encoding so that the usual Unicode mapping variants (～/〜, －/−) count as the same
  JIS character, while the NEC/IBM extensions of CP932 (髙, 﨑, ①) do not.
- ``cp932``: JIS X 0208 plus the Windows extensions.
- ``jisx0213``: JIS X 0213 (adds ①, 﨑, 德 and most name kanji, but not 髙 or 𠮷) and the
  characters of ``jisx0208``.
- ``unicode``: nothing is masked.
"""

from __future__ import annotations

import os
from functools import lru_cache

MASK = "●"
REPERTOIRES = ("jisx0208", "cp932", "jisx0213", "unicode")


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


@lru_cache(maxsize=65536)
def in_repertoire(ch: str, repertoire: str = "jisx0208") -> bool:
    if repertoire == "unicode":
        return True
    if ch == MASK:
        return True
    if repertoire == "jisx0213":
        try:
            ch.encode("euc_jis_2004")
            return True
        except UnicodeEncodeError:  # JIS X 0213 ⊃ JIS X 0208: keep its CP932 mappings (￢, ￠, ￡)
            return in_repertoire(ch, "jisx0208")
    try:
        raw = ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    if len(raw) == 1:  # ASCII and JIS X 0201 katakana; not cp932's 0x80, 0xA0, 0xFD–0xFF
        return raw[0] < 0x80 or 0xA1 <= raw[0] <= 0xDF
    lead, trail = raw[0], raw[1]
    if repertoire == "cp932":
        return not 0xF0 <= lead <= 0xF9  # the user-defined area (外字) is nobody's character
    # JIS X 0208 occupies rows 1–8 (lead 0x81–0x84) and 16–84 (0x889F–0xEAA4); rows 9–15
    # (0x85–0x88 below 0x9F) hold the NEC specials, 0xED–0xEE and 0xFA–0xFC the IBM
    # extensions, 0xF0–0xF9 the user-defined area.
    if lead in (0x85, 0x86, 0x87) or (lead == 0x88 and trail < 0x9F):
        return False
    return lead <= 0xEA


def default_repertoire() -> str:
    value = os.environ.get("ONSHI_CHARSET", "jisx0208")
    return value if value in REPERTOIRES else "jisx0208"


@lru_cache(maxsize=8)
def _safe_bmp(repertoire: str) -> frozenset[str]:
    """Every BMP character of the repertoire (built once; the common case needs no more)."""
    if repertoire in ("jisx0208", "cp932"):  # decode the CP932 table rather than test 65,536 characters
        candidates = {chr(b) for b in range(0x80)}
        for lead in (*range(0x81, 0xA0), *range(0xE0, 0xFD)):
            for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD)):
                try:
                    candidates.add(bytes((lead, trail)).decode("cp932"))
                except UnicodeDecodeError:
                    pass
        candidates |= {bytes((b,)).decode("cp932") for b in range(0xA1, 0xE0)}
    else:
        candidates = set(map(chr, range(0x10000)))
    return frozenset(c for c in candidates if len(c) == 1 and not 0xD800 <= ord(c) <= 0xDFFF and not _is_variation_selector(c) and in_repertoire(c, repertoire))


def mask(text: str | None, repertoire: str | None = None) -> str | None:
    """Replace every character outside the repertoire with ●; a variation selector folds
    into the ● of (or masks) the character it modifies."""
    if text is None:
        return None
    repertoire = repertoire or default_repertoire()
    if repertoire == "unicode" or _safe_bmp(repertoire).issuperset(text):
        return text
    out: list[str] = []
    for ch in text:
        if _is_variation_selector(ch):
            if out and out[-1] != MASK:
                out[-1] = MASK
            continue
        out.append(ch if in_repertoire(ch, repertoire) else MASK)
    return "".join(out)


def is_representable(text: str, repertoire: str | None = None) -> bool:
    return mask(text, repertoire) == text
