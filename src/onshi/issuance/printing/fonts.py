"""The embedded Japanese fonts: IPAゴシック / IPA明朝 from Debian's fonts-ipafont-gothic and
fonts-ipafont-mincho (`./run` installs them), subset-embedded by reportlab.

A character the font has no glyph for is never drawn as an empty box: `Fonts.printable`
replaces it with 〓 (げた, the printers' mark for a missing character) and reports it, so
the run summary lists the document for a hand correction. A variation selector (IVS) is
dropped — the IPA fonts have no IVS table — and reported too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GOTHIC = "IPAGothic"
MINCHO = "IPAMincho"
MISSING = "〓"
_CANDIDATES = {
    GOTHIC: ["/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "/usr/share/fonts/truetype/ipafont-gothic/ipag.ttf"],
    MINCHO: ["/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf", "/usr/share/fonts/truetype/ipafont-mincho/ipam.ttf"],
}


class FontUnavailable(RuntimeError):
    """The IPA fonts are not installed (apt-get install fonts-ipafont-gothic fonts-ipafont-mincho)."""


def _is_selector(cp: int) -> bool:
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def font_path(name: str) -> Path:
    directory = os.environ.get("ONSHI_FONT_DIR")
    candidates = [str(Path(directory) / Path(p).name) for p in _CANDIDATES[name]] if directory else []
    for path in [*candidates, *_CANDIDATES[name]]:
        if Path(path).is_file():
            return Path(path)
    raise FontUnavailable(f"{name}: not found ({', '.join(_CANDIDATES[name])}); apt-get install fonts-ipafont-gothic fonts-ipafont-mincho")


@dataclass(frozen=True)
class Fonts:
    covered: frozenset[int]  # code points both fonts draw

    def printable(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(text to draw, [(character, problem)]): missing glyphs → 〓, selectors dropped."""
        if not text:
            return "", []
        covered = self.covered
        if all(ord(c) in covered for c in text):
            return text, []
        out, problems = [], []
        for ch in text:
            cp = ord(ch)
            if cp in covered:
                out.append(ch)
            elif _is_selector(cp):
                base = out[-1] if out else ""
                problems.append((base + ch, "異体字セレクタ（IVS）はフォントにないため標準の字形で印字"))
            elif ch in "\r\n\t":
                out.append(" ")
            else:
                out.append(MISSING)
                problems.append((ch, "フォントにない文字のため〓で印字（手書き等で補正が必要）"))
        return "".join(out), problems


@lru_cache(maxsize=1)
def load_fonts() -> Fonts:
    """Register the two fonts with reportlab once per process; the glyphs both can draw."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    covered = None
    for name in (GOTHIC, MINCHO):
        font = TTFont(name, str(font_path(name)))
        pdfmetrics.registerFont(font)
        cmap = frozenset(font.face.charToGlyph)
        covered = cmap if covered is None else covered & cmap
    return Fonts(covered - {0xFFFD})
