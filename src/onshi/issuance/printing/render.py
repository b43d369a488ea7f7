"""Printing issued documents as PDF for a post room (reportlab, IPA fonts embedded).

    result = render_pdf(documents)                 # a whole run: one document per page, by postal code
    result = render_pdf(documents, order="given")  # as given (one member's documents)
    per_member = render_per_member(documents)      # {member_id: PrintResult}

Forms follow seed 002: the 資格確認書 (カード型・はがき型・A4型) with the items of the sample
card (有効期限, 発効期日, 記号, 番号(枝番), 氏名, 性別, 生年月日, 負担割合 for 70+ and 後期,
適用開始年月日, 交付年月日, 世帯主氏名 for 国保, 住所, 保険者番号, 交付者名); the 資格情報のお知らせ
on A4 with its cut-off strip (様式例); and the registration notice (R-I5). Every letter has
the address block of a window envelope (長形3号). Dates print in 和暦 as the real forms do.

A DV-flagged member's letter (R-I3e, RULES R-D5) goes to the mailing address the member
gave and prints only that address; without one the document is held back with a warning.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ...domain.copay import elderly_start
from ...domain.wareki import format_wareki
from ..models import CERTIFICATE, NOTICE, REGISTRATION_NOTICE
from .fonts import GOTHIC, MINCHO, Fonts, load_fonts
from .models import FORMS, Address, PrintDocument, PrintResult, PrintWarning

POSTCARD = (100 * mm, 148 * mm)
CARD_W, CARD_H = 85.6 * mm, 54 * mm  # ID-1 (the size of the old insurance card)
KIND_TITLES = {"kyokai": "健康保険", "kumiai": "健康保険", "senin": "船員保険", "kyosai": "共済組合", "kokuho": "国民健康保険", "kouki": "後期高齢者医療"}
SEX = {1: "男", 2: "女"}
_KIND_ORDER = {CERTIFICATE: 0, NOTICE: 1, REGISTRATION_NOTICE: 2}
MYNA_PORTAL = "https://myna.go.jp/"


class HeldBack(Exception):
    """A document that must not be printed (the reason goes to the warnings)."""


def wareki(day) -> str:  # noqa: ANN001
    return format_wareki(day) if day else ""


def delivery_address(doc: PrintDocument) -> Address:
    """Where the letter goes: the address the member gave, else the resident address; a
    DV-flagged member's never the protected one (R-I3e, R-D5)."""
    m = doc.member
    if m.dv_flag:
        if m.mailing_address is None:
            raise HeldBack("DVフラグの加入者に本人が申し出た送付先がないため印刷しない（保護された住所には送らない）")
        return m.mailing_address
    address = m.mailing_address or m.address
    if address is None:
        raise HeldBack("送付先の住所がないため印刷しない")
    return address


def printed_address(doc: PrintDocument) -> Address | None:
    """The 住所 printed on the document itself: a DV-flagged member's given address only."""
    m = doc.member
    return m.mailing_address if m.dv_flag else m.address


def copay_printed(doc: PrintDocument) -> bool:
    """負担割合 is printed for 後期 and from the copay-70 day (seed 002 様式: 70歳以上のもの記載)."""
    start = doc.valid_from or doc.issued
    return doc.insurer.kind == "kouki" or start >= elderly_start(doc.member.birth_date)


def _form(doc: PrintDocument) -> str:
    if doc.kind != CERTIFICATE:
        return "a4"
    form = doc.form or doc.insurer.certificate_form
    if form not in FORMS:
        raise HeldBack(f"資格確認書の様式 '{form}' は card / postcard / a4 のいずれか")
    return form


class Sheet:
    """One page: top-left millimetre coordinates, text checked against the fonts."""

    def __init__(self, canvas: Canvas, fonts: Fonts, doc: PrintDocument, warnings: list[PrintWarning], size: tuple[float, float]):
        self.c, self.fonts, self.doc, self.warnings = canvas, fonts, doc, warnings
        self.w, self.h = size
        canvas.setPageSize(size)

    def _y(self, y: float) -> float:
        return self.h - y * mm

    def text(self, x: float, y: float, value: str, size: float = 9, *, font: str = MINCHO, field: str | None = None,
             width: float | None = None, align: str = "left") -> None:
        """Draw `value` with its baseline at (x, y) mm; shrink to `width` mm when given."""
        if not value:
            return
        value, problems = self.fonts.printable(value)
        for char, message in problems:
            self.warnings.append(PrintWarning(self.doc.id, self.doc.member.member_id, field or "text", message, char))
        if width is not None or align != "left":
            actual = stringWidth(value, font, size)
            if width is not None and actual > width * mm:
                size = max(4.0, size * width * mm / actual)
                actual = stringWidth(value, font, size)
        self.c.setFont(font, size)
        if align == "right":
            self.c.drawString(x * mm - actual, self._y(y), value)
        elif align == "center":
            self.c.drawString(x * mm - actual / 2, self._y(y), value)
        else:
            self.c.drawString(x * mm, self._y(y), value)

    def lines(self, x: float, y: float, value: str, size: float, chars: int, *, leading: float, field: str, max_lines: int = 3, font: str = MINCHO) -> float:
        """Wrap at a space (the building after the street address) or else at `chars`
        characters; the last line shrinks to fit. Returns the y after the last line."""
        parts: list[str] = []
        rest = value.strip()
        while rest and len(parts) < max_lines - 1 and len(rest) > chars:
            cut = rest.rfind(" ", 0, chars + 1)
            cut = rest.rfind("\u3000", 0, chars + 1) if cut <= 0 else cut
            cut = chars if cut <= 0 else cut
            parts.append(rest[:cut].strip())
            rest = rest[cut:].strip()
        parts.append(rest)
        for part in parts:
            self.text(x, y, part, size, font=font, field=field, width=chars * size * 0.3528 * 1.02)
            y += leading
        return y

    def rect(self, x: float, y: float, w: float, h: float, *, width: float = 0.6, dash: tuple | None = None, radius: float = 0) -> None:
        c = self.c
        c.setLineWidth(width)
        c.setDash(*dash) if dash else c.setDash()
        if radius:
            c.roundRect(x * mm, self._y(y + h), w * mm, h * mm, radius * mm)
        else:
            c.rect(x * mm, self._y(y + h), w * mm, h * mm)
        c.setDash()

    def line(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.4, dash: tuple | None = None) -> None:
        c = self.c
        c.setLineWidth(width)
        c.setDash(*dash) if dash else c.setDash()
        c.line(x1 * mm, self._y(y1), x2 * mm, self._y(y2))
        c.setDash()

    def digit_boxes(self, x: float, y: float, digits: str, box: float, size: float) -> None:
        for i, d in enumerate(digits):
            self.rect(x + i * box, y - box * 0.8, box, box, width=0.4)
            self.text(x + i * box + box / 2, y, d, size, font=GOTHIC, align="center")

    def seal(self, x: float, y: float, r: float) -> None:
        self.c.setLineWidth(0.5)
        self.c.circle(x * mm, self._y(y), r * mm)
        self.text(x, y + r * 0.35, "印", r * 2.6, font=MINCHO, align="center")


# ---------------------------------------------------------------- common parts


def address_block(s: Sheet, doc: PrintDocument, address: Address, x: float = 22, y: float = 18) -> None:
    """The window of a 長形3号 envelope (about 90 × 45 mm, 20 mm from the left, 12 mm from the top)."""
    s.text(x, y, f"〒{address.postal_display}", 11, font=GOTHIC)
    after = s.lines(x, y + 7, address.text, 11, 24, leading=6, field="address", max_lines=3)
    s.text(x, after + 4, f"{doc.member.name}　様", 14, field="name", width=80)
    s.text(x, after + 11, f"（{doc.id}）", 6, font=GOTHIC)


def sender_block(s: Sheet, doc: PrintDocument, x: float, y: float) -> None:
    ins = doc.insurer
    s.text(x, y, ins.name, 10, font=GOTHIC, field="insurer.name", width=75)
    if ins.address is not None:
        s.text(x, y + 5, f"〒{ins.address.postal_display}", 8)
        s.text(x, y + 9.5, ins.address.text, 8, field="insurer.address", width=75)
    if ins.phone:
        s.text(x, y + 14, f"電話 {ins.phone}", 8)


def title_of(doc: PrintDocument) -> str:
    return f"{KIND_TITLES.get(doc.insurer.kind, '')} 資格確認書".strip()


def numbers_text(doc: PrintDocument) -> tuple[str, str]:
    """(記号, 番号（枝番）); 後期 has neither 記号 nor 枝番."""
    m = doc.member
    return m.symbol or "―", f"{m.number}（枝番）{m.branch}" if m.branch else m.number


def copay_text(s: Sheet) -> str:
    """負担割合 as printed (2割), or "" where it is not printed."""
    doc = s.doc
    if not copay_printed(doc):
        return ""
    if doc.member.copay is None:
        s.warnings.append(PrintWarning(doc.id, doc.member.member_id, "copay", "70歳以上・後期の負担割合がないため空欄で印字"))
        return ""
    return f"{int(round(doc.member.copay * 10))}割"


# ---------------------------------------------------------------- 資格確認書


def certificate_items(s: Sheet, doc: PrintDocument) -> list[tuple[str, str, str]]:
    """(label, value, field) rows of seed 002's sample, in its order."""
    m = doc.member
    symbol, number = numbers_text(doc)
    rows = [
        ("記号", symbol, "symbol"),
        ("番号", number, "number"),
        ("氏名", m.name, "name"),
        ("性別", SEX.get(m.sex, ""), "sex"),
        ("生年月日", wareki(m.birth_date), "birth_date"),
    ]
    copay = copay_text(s)
    if copay:
        rows.append(("負担割合", copay, "copay"))
    rows += [("適用開始年月日", wareki(m.qualification_start), "qualification_start"), ("交付年月日", wareki(doc.issued), "issued")]
    if doc.insurer.kind == "kokuho":
        rows.append(("世帯主氏名", m.householder_name or "", "householder_name"))
    address = printed_address(doc)
    rows.append(("住所", address.text if address else "", "address"))
    return rows


def draw_card_face(s: Sheet, doc: PrintDocument, x: float, y: float, scale: float = 1.0) -> None:
    """The card's front (ID-1, 85.6 × 54 mm at scale 1) with every item of the sample."""
    w, h = 85.6 * scale, 54 * scale
    f = scale
    s.rect(x, y, w, h, width=0.8, radius=3 * scale)
    m = doc.member
    s.text(x + 3 * f, y + 5 * f, f"{doc.insurer.name}", 5.2 * f, font=GOTHIC, field="insurer.name", width=44 * f)
    s.text(x + 3 * f, y + 9.2 * f, title_of(doc), 7.5 * f, font=GOTHIC, width=44 * f)
    s.text(x + 50 * f, y + 4.6 * f, f"有効期限 {wareki(doc.expires)}", 5.2 * f, font=GOTHIC, field="expires", width=33 * f)
    s.text(x + 50 * f, y + 8.8 * f, f"発効期日 {wareki(doc.valid_from)}", 5.2 * f, font=GOTHIC, width=33 * f)
    s.line(x + 2 * f, y + 11 * f, x + w - 2 * f, y + 11 * f, width=0.3)
    symbol, number = numbers_text(doc)
    size = 5.6 * f
    row = 4.25 * f
    top = y + 15 * f
    s.text(x + 3 * f, top, "記号", size)
    s.text(x + 11 * f, top, symbol, size, font=GOTHIC, field="symbol", width=22 * f)
    s.text(x + 35 * f, top, "番号", size)
    s.text(x + 43 * f, top, number, size, font=GOTHIC, field="number", width=40 * f)
    s.text(x + 3 * f, top + row, "氏名", size)
    s.text(x + 11 * f, top + row, m.name, 7 * f, field="name", width=50 * f)
    s.text(x + 64 * f, top + row, "性別", size)
    s.text(x + 72 * f, top + row, SEX.get(m.sex, ""), size)
    s.text(x + 3 * f, top + 2 * row, "生年月日", size)
    s.text(x + 14 * f, top + 2 * row, wareki(m.birth_date), size, width=34 * f)
    copay = copay_text(s)
    if copay:  # 70歳以上・後期のみ
        s.text(x + 52 * f, top + 2 * row, "負担割合", size)
        s.text(x + 64 * f, top + 2 * row, copay, size, font=GOTHIC)
    s.text(x + 3 * f, top + 3 * row, "適用開始年月日", size)
    s.text(x + 22 * f, top + 3 * row, wareki(m.qualification_start), size, width=36 * f)
    s.text(x + 3 * f, top + 4 * row, "交付年月日", size)
    s.text(x + 22 * f, top + 4 * row, wareki(doc.issued), size, width=36 * f)
    if doc.insurer.kind == "kokuho":  # 世帯主氏名: 国保 only
        s.text(x + 3 * f, top + 5 * row, "世帯主氏名", size)
        s.text(x + 22 * f, top + 5 * row, m.householder_name or "", size, field="householder_name", width=58 * f)
    address = printed_address(doc)
    s.text(x + 3 * f, top + 6 * row, "住所", size)
    s.text(x + 11 * f, top + 6 * row, address.text if address else "", 5 * f, field="address", width=72 * f)
    s.text(x + 3 * f, top + 7 * row, "保険者番号", size)
    s.digit_boxes(x + 17 * f, top + 7 * row, doc.insurer.number, 3.6 * f, 5.6 * f)
    s.text(x + 3 * f, top + 8 * row, "交付者名", size)
    s.text(x + 17 * f, top + 8 * row, doc.insurer.issuer_name, size, field="insurer.issuer_name", width=52 * f)
    s.seal(x + 75 * f, top + 7.6 * row, 2.6 * f)


def draw_card_back(s: Sheet, x: float, y: float, scale: float = 1.0) -> None:
    """The back (備考 and the organ donation declaration of the sample)."""
    f = scale
    s.rect(x, y, 85.6 * f, 54 * f, width=0.8, radius=3 * f)
    s.text(x + 3 * f, y + 5 * f, "備考", 6 * f, font=GOTHIC)
    s.rect(x + 3 * f, y + 6.5 * f, 79.6 * f, 10 * f, width=0.3)
    notes = [
        "※以下の欄に記入することにより、臓器提供に関する意思を表示することができます。",
        "記入する場合は、1から3までのいずれかの番号を○で囲んでください。",
        "1. 私は、脳死後及び心臓が停止した死後のいずれでも、移植の為に臓器を提供します。",
        "2. 私は、心臓が停止した死後に限り、移植の為に臓器を提供します。",
        "3. 私は、臓器を提供しません。",
        "《1又は2を選んだ方で、提供したくない臓器があれば、×をつけてください。》",
        "【 心臓・肺・肝臓・腎臓・膵臓・小腸・眼球 】",
        "〔特記欄：　　　　　　　　　〕　署名年月日：　　年　　月　　日",
        "本人署名（自筆）：　　　　　　　家族署名（自筆）：",
    ]
    for i, line in enumerate(notes):
        s.text(x + 3 * f, y + (20.5 + i * 3.8) * f, line, 4.1 * f, width=79 * f)


def draw_certificate_card(s: Sheet, doc: PrintDocument) -> None:
    """カード型: an A4 carrier sheet (台紙) with the card's front and back to cut out."""
    address_block(s, doc, delivery_address(doc))
    sender_block(s, doc, 120, 20)
    s.text(20, 78, f"{title_of(doc)}をお送りします", 14, font=GOTHIC)
    s.text(20, 87, "医療機関・薬局では、この資格確認書（またはマイナ保険証）を窓口で提示してください。", 9.5)
    s.text(20, 93, "点線に沿って切り取り、記載内容に誤りがないかご確認ください。有効期限を過ぎたものは使えません。", 9.5)
    s.text(20, 99, "以前にお送りした資格確認書・資格情報のお知らせは、この資格確認書が届いた後は返却または破棄してください。", 9.5)
    x, y = (210 - 85.6) / 2, 112
    s.text(x, y - 3, "おもて", 7, font=GOTHIC)
    s.rect(x - 2, y - 2, 89.6, 58, width=0.4, dash=(3, 2))
    draw_card_face(s, doc, x, y)
    y2 = y + 70
    s.text(x, y2 - 3, "うら", 7, font=GOTHIC)
    s.rect(x - 2, y2 - 2, 89.6, 58, width=0.4, dash=(3, 2))
    draw_card_back(s, x, y2)
    notes_block(s, 20, 258)


def notes_block(s: Sheet, x: float, y: float) -> None:
    notes = [
        "・記載事項（住所・氏名等）に変更があったとき、資格を失ったとき（就職・転出・死亡等）は届け出てください。",
        "・資格確認書は他人に貸したり譲ったりしないでください。不正に使用すると処罰されることがあります。",
        "・マイナ保険証（健康保険証として利用登録したマイナンバーカード）でも受診できます。",
    ]
    s.text(x, y, "ご注意", 9, font=GOTHIC)
    for i, note in enumerate(notes):
        s.text(x, y + 5 + i * 4.6, note, 8)


def draw_certificate_postcard(s: Sheet, doc: PrintDocument) -> None:
    """はがき型 (100 × 148 mm): the address face above, the certificate below the cut line."""
    address = delivery_address(doc)
    digits = "".join(c for c in address.postal_code if c.isdigit())
    for i, d in enumerate(digits[:7]):  # the postal code frame of a postcard (44.7 mm from the left, 12 mm from the top)
        bx = 44.7 + i * 7.5 - (1 if i >= 3 else 0)
        s.rect(bx, 8, 5.7, 8, width=0.5)
        s.text(bx + 2.85, 14.2, d, 11, font=GOTHIC, align="center")
    s.lines(12, 26, address.text, 10, 17, leading=5.2, field="address", max_lines=3)
    s.text(12, 45, f"{doc.member.name}　様", 14, field="name", width=76)
    s.text(12, 51, f"（{doc.id}）", 5, font=GOTHIC)
    ins = doc.insurer
    s.text(12, 57, ins.name, 7, font=GOTHIC, field="insurer.name", width=76)
    if ins.address is not None:
        s.text(12, 61, f"〒{ins.address.postal_display} {ins.address.text}", 6, field="insurer.address", width=76)
    s.line(2, 66, 98, 66, width=0.4, dash=(2, 2))
    s.text(50, 69.5, "きりとり線 ― 下の資格確認書を切り取ってお使いください", 5.5, font=GOTHIC, align="center")
    draw_card_face(s, doc, (100 - 85.6 * 1.1) / 2, 74, scale=1.1)
    s.text(50, 142, "医療機関・薬局の窓口で提示してください。有効期限を過ぎたものは使えません。", 5.5, align="center")


def draw_certificate_a4(s: Sheet, doc: PrintDocument) -> None:
    """A4型: the certificate as a whole page, with the sample's items in a ruled table."""
    address_block(s, doc, delivery_address(doc))
    sender_block(s, doc, 120, 20)
    s.text(105, 82, title_of(doc), 20, font=GOTHIC, align="center")
    x, y, w = 20, 92, 170
    s.rect(x, y, w, 14, width=0.8)
    s.line(x + 85, y, x + 85, y + 14)
    s.text(x + 4, y + 9, "有効期限", 10, font=GOTHIC)
    s.text(x + 30, y + 9, wareki(doc.expires), 12, field="expires")
    s.text(x + 89, y + 9, "発効期日", 10, font=GOTHIC)
    s.text(x + 115, y + 9, wareki(doc.valid_from), 12)
    y += 14
    rows = certificate_items(s, doc)
    height = 11
    for label, value, field in rows:
        s.rect(x, y, w, height, width=0.6)
        s.line(x + 38, y, x + 38, y + height)
        s.text(x + 4, y + 7.3, label, 10, font=GOTHIC)
        size = 13 if field == "name" else 11
        s.text(x + 42, y + 7.3, value, size, field=field, width=w - 46)
        y += height
    s.rect(x, y, w, height, width=0.6)
    s.line(x + 38, y, x + 38, y + height)
    s.text(x + 4, y + 7.3, "保険者番号", 10, font=GOTHIC)
    s.digit_boxes(x + 42, y + 8, doc.insurer.number, 7, 12)
    y += height
    s.rect(x, y, w, height + 4, width=0.6)
    s.line(x + 38, y, x + 38, y + height + 4)
    s.text(x + 4, y + 9, "交付者名", 10, font=GOTHIC)
    s.text(x + 42, y + 9, doc.insurer.issuer_name, 12, field="insurer.issuer_name", width=100)
    s.seal(x + w - 12, y + 7.5, 5)
    notes_block(s, 20, 262)


# ---------------------------------------------------------------- 資格情報のお知らせ


def draw_notice(s: Sheet, doc: PrintDocument) -> None:
    """資格情報のお知らせ (seed 002 様式例) on A4 with the cut-off strip at the bottom right."""
    m, ins = doc.member, doc.insurer
    address_block(s, doc, delivery_address(doc))
    sender_block(s, doc, 120, 20)
    s.text(105, 72, "資格情報のお知らせ", 20, font=GOTHIC, align="center")
    s.text(20, 81, f"{ins.name}（保険者番号 {ins.number}）", 10, font=GOTHIC, field="insurer.name", width=170)
    s.text(20, 87.5, "あなたの加入する健康保険の資格情報を下記のとおりお知らせします。", 10)
    s.text(20, 93, "なお、このお知らせのみでは受診できません。", 10, font=GOTHIC)
    symbol, number = numbers_text(doc)
    over70 = copay_printed(doc)
    rows = [("記号", symbol, "symbol"), ("番号", number, "number"), ("氏名", m.name, "name"), ("フリガナ", m.kana, "kana")]
    rows.append(("負担割合（70歳以上のもの記載）", copay_text(s) if over70 else "", "copay"))
    if over70:  # ※ 70歳以上の場合、負担割合のほか、有効期限、発効期日を記載
        rows += [("有効期限", wareki(doc.expires), "expires"), ("発効期日", wareki(doc.valid_from), "valid_from")]
    rows += [("適用開始年月日", wareki(m.qualification_start), "qualification_start"), ("交付年月日", wareki(doc.issued), "issued")]
    x, y, w = 20, 98, 170
    height = 8 if over70 else 9
    for label, value, field in rows:
        s.rect(x, y, w, height, width=0.5)
        s.line(x + 62, y, x + 62, y + height)
        s.text(x + 3, y + height * 0.66, label, 9, font=GOTHIC, width=57)
        s.text(x + 66, y + height * 0.68, value, 11, field=field, width=w - 70)
        y += height
    y += 5  # at most 98 + 9 × 8 + 5 = 175
    qr(s, 20, y, 22)
    for i, (line, font) in enumerate([
        ("スマートフォンをお持ちの方は、左のQRコードからマイナポータルにログインすることで、", MINCHO),
        ("ご自身の健康保険の資格情報を確認することができます。ぜひご活用ください。", MINCHO),
        (f"マイナポータル {MYNA_PORTAL}", GOTHIC),
        ("マイナ保険証の読み取りができない例外的な場合については、スマートフォンの資格情報画面を", MINCHO),
        ("マイナ保険証とともに医療機関等の受付で提示することで受診いただけます（スマートフォンを", MINCHO),
        ("お持ちでない方は、この文書をマイナ保険証とともに医療機関等の受付で提示してください）。", MINCHO),
    ]):
        s.text(46, y + 4 + i * 4.4 + (2 if i >= 3 else 0), line, 8.2, font=font, width=144)
    strip(s, doc, over70)


def strip(s: Sheet, doc: PrintDocument, over70: bool) -> None:
    """The cut-off part (下部を切り取ってご利用いただくこともできます), card-sized, bottom right."""
    x, y, w, h = 105, 232, 91, 55
    s.text(20, 240, "下部を切り取ってご利用いただくこともできます", 8.5, font=GOTHIC)
    s.text(20, 245, "（このお知らせのみでは受診できません）", 8.5)
    s.line(8, 228, 202, 228, width=0.4, dash=(3, 2))
    s.rect(x, y, w, h, width=0.5, dash=(3, 2))
    m, ins = doc.member, doc.insurer
    symbol, number = numbers_text(doc)
    lines = [
        ("資格情報のお知らせ", 10, GOTHIC, None),
        (f"{wareki(doc.issued)}発行", 7, MINCHO, None),
        (ins.issuer_name, 7, MINCHO, "insurer.issuer_name"),
        (f"保険者番号 {ins.number}", 7, GOTHIC, None),
        (f"記号 {symbol}　番号 {number}", 7.5, GOTHIC, "number"),
        (f"氏名 {m.name}", 9, MINCHO, "name"),
        (f"負担割合 {copay_text(s) if over70 else '　'}（70歳以上のもの記載）", 7, MINCHO, "copay"),
    ]
    if over70:
        lines.append((f"有効期限 {wareki(doc.expires)}　発効期日 {wareki(doc.valid_from)}", 6.5, MINCHO, "expires"))
    lines.append(("受診の際にはマイナ保険証があわせて必要です", 7, GOTHIC, None))
    ty = y + 7
    for text, size, font, field in lines:
        s.text(x + 4, ty, text, size, font=font, field=field, width=w - 8)
        ty += size * 0.3528 + 2.2


def qr(s: Sheet, x: float, y: float, size: float) -> None:
    """The マイナポータル QR code (drawn once per PDF and reused: a form XObject)."""
    c = s.c
    name = "myna_portal_qr"
    if not getattr(c, "_onshi_qr", False):
        from reportlab.graphics import renderPDF
        from reportlab.graphics.barcode.qr import QrCodeWidget
        from reportlab.graphics.shapes import Drawing

        widget = QrCodeWidget(MYNA_PORTAL)
        bx0, by0, bx1, by1 = widget.getBounds()
        drawing = Drawing(size * mm, size * mm, transform=[size * mm / (bx1 - bx0), 0, 0, size * mm / (by1 - by0), 0, 0])
        drawing.add(widget)
        c.beginForm(name)
        renderPDF.draw(drawing, c, 0, 0)
        c.endForm()
        c._onshi_qr = True
    c.saveState()
    c.translate(x * mm, s._y(y + size))
    c.doForm(name)
    c.restoreState()


# ---------------------------------------------------------------- 登録完了の通知 (R-I5)


def draw_registration_notice(s: Sheet, doc: PrintDocument) -> None:
    m, ins = doc.member, doc.insurer
    address_block(s, doc, delivery_address(doc))
    sender_block(s, doc, 120, 20)
    s.text(105, 82, "資格情報の登録完了のお知らせ", 18, font=GOTHIC, align="center")
    registered = doc.registered or doc.issued
    body = [
        f"あなたの健康保険の資格情報を、{wareki(registered)}にオンライン資格確認等システムへ登録しました。",
        "この日から、マイナ保険証（健康保険証として利用登録したマイナンバーカード）で",
        "医療機関・薬局を受診できます。",
        "登録が終わる前にマイナ保険証で受診すると「資格情報なし」と表示されることがあります。",
        "このお知らせだけでは受診できません。",
    ]
    for i, line in enumerate(body):
        s.text(20, 96 + i * 6.5, line, 10.5)
    symbol, number = numbers_text(doc)
    rows = [("保険者", f"{ins.name}（保険者番号 {ins.number}）", "insurer.name"), ("記号・番号", f"{symbol}　{number}", "number"),
            ("氏名", m.name, "name"), ("登録日", wareki(registered), "registered"), ("通知日", wareki(doc.issued), "issued")]
    x, y, w, height = 20, 134, 170, 10
    for label, value, field in rows:
        s.rect(x, y, w, height, width=0.5)
        s.line(x + 40, y, x + 40, y + height)
        s.text(x + 4, y + 6.6, label, 10, font=GOTHIC)
        s.text(x + 44, y + 6.8, value, 11, field=field, width=w - 48)
        y += height
    s.text(20, y + 10, "記載内容に誤りがあるときは、下記にお問い合わせください。", 9)
    sender_block(s, doc, 20, y + 17)


DRAW = {
    (CERTIFICATE, "card"): (draw_certificate_card, A4),
    (CERTIFICATE, "postcard"): (draw_certificate_postcard, POSTCARD),
    (CERTIFICATE, "a4"): (draw_certificate_a4, A4),
    (NOTICE, "a4"): (draw_notice, A4),
    (REGISTRATION_NOTICE, "a4"): (draw_registration_notice, A4),
}


# ---------------------------------------------------------------- the API


def postal_order(documents: Iterable[PrintDocument]) -> list[PrintDocument]:
    """Post-room order: by the postal code the letter goes to, then member and kind.
    (A DV-flagged member sorts by the address they gave.)"""

    def key(d: PrintDocument) -> tuple:
        m = d.member
        address = m.mailing_address if (m.dv_flag or m.mailing_address) else m.address
        return (address.sort_key if address else "9999999", m.member_id, _KIND_ORDER.get(d.kind, 9), d.id)

    return sorted(documents, key=key)


def render_pdf(documents: Iterable[PrintDocument], *, order: str = "postal", output: BinaryIO | None = None, title: str = "onshi 交付書類") -> PrintResult:
    """Every document one page, into one PDF (bytes, or written to `output`)."""
    fonts = load_fonts()
    docs = postal_order(documents) if order == "postal" else list(documents)
    buffer = output if output is not None else io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=GOTHIC, initialFontSize=10)
    canvas.setTitle(title)
    canvas.setCreator("onshi")
    result = PrintResult(b"", 0)
    for doc in docs:
        try:
            draw, size = DRAW[(doc.kind, _form(doc))]
            delivery_address(doc)  # checked before anything is drawn
        except HeldBack as exc:
            result.held_back.append(doc.id)
            result.warnings.append(PrintWarning(doc.id, doc.member.member_id, "document", str(exc)))
            continue
        except KeyError:
            result.held_back.append(doc.id)
            result.warnings.append(PrintWarning(doc.id, doc.member.member_id, "kind", f"印刷できない種類 '{doc.kind}'"))
            continue
        draw(Sheet(canvas, fonts, doc, result.warnings, size), doc)
        canvas.showPage()
        result.pages += 1
        result.order.append(doc.id)
    if result.pages == 0:  # a PDF needs a page: say that nothing was printed
        canvas.setFont(GOTHIC, 12)
        canvas.drawString(20 * mm, A4[1] - 20 * mm, "印刷する書類はありません")
        canvas.showPage()
    canvas.save()
    result.warnings = list(dict.fromkeys(result.warnings))  # a field drawn twice warns once
    if output is None:
        result.pdf = buffer.getvalue()
    return result


def render_per_member(documents: Iterable[PrintDocument]) -> dict[str, PrintResult]:
    """One PDF per member (their documents in kind order), e.g. for reprints or a member page."""
    by_member: dict[str, list[PrintDocument]] = {}
    for d in documents:
        by_member.setdefault(d.member.member_id, []).append(d)
    return {mid: render_pdf(sorted(docs, key=lambda d: (_KIND_ORDER.get(d.kind, 9), d.id)), order="given") for mid, docs in by_member.items()}


def write_pdfs(documents: Iterable[PrintDocument], directory: Path, *, per_file: int = 5000, prefix: str = "issuance") -> list[tuple[Path, PrintResult]]:
    """A large run as numbered PDFs of at most `per_file` pages, in postal-code order across
    the files (reportlab holds a PDF's pages in memory until it is saved)."""
    directory.mkdir(parents=True, exist_ok=True)
    ordered = postal_order(documents)
    out = []
    for n, start in enumerate(range(0, len(ordered), per_file), 1):
        path = directory / f"{prefix}-{n:04d}.pdf"
        with path.open("wb") as f:
            out.append((path, render_pdf(ordered[start:start + per_file], order="given", output=f)))
    return out

