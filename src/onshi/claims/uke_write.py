"""Writing UKE claim files of the current revision (R04 layouts, 西暦 only; 和暦 is for reading).

A claim built from the desk's visits is written record by record from its layout, every
field's comma kept: RE (給付割合 only for 国保 and 退職者医療, カタカナ氏名 without a space), HO,
KO (12 fields), SN (負担者種別 1 only, 確認区分 01 from a facility: fields 4–6 and 8 empty, the
枝番 in 7 except for 後期高齢者), JD per payer, MF (33 fields), CO for a 不詳 claim's remarks
(文字データ cut at its width, continued in the next CO); GO counts payers (each HO and KO).
A claim read from a file is written as it was read, with only what onshi changed: the
レセプト番号, SN 確認区分 and the numbers of a 振替/分割, and for each part of a 分割 its days.

Text fields are JIS X 0208 only: 異体字 become their JIS form (髙→高, 﨑→崎), a name that still
does not fit is written in katakana, and a remark character with no JIS form becomes 〓 (げた)
— never ●. Files are CP932 with CRLF.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Sequence

from ..domain import charset
from ..domain.names import KANJI_VARIANTS
from ..domain.numbers import InsurerNumber, normalise_insurer_number
from ..domain.wareki import to_gyymm
from . import uke_codes as codes
from . import uke_layouts as L
from .models import Claim, FacilityHeader, Numbers, Remarks
from .uke_file import CRLF, Record, gc_paused

# Unicode forms that CP932 spells differently (the JIS character is the same).
_CP932_FORMS = str.maketrans({"〜": "～", "−": "－", "—": "―", "‖": "∥", "¢": "￠", "£": "￡", "¬": "￢", "¦": "￤"})
_HALF_KANA = re.compile("[\uff61-\uff9f]+")
_SPACES = re.compile("[ \u3000]")


def _strip_selectors(text: str) -> str:
    return "".join(c for c in text if not (0xFE00 <= ord(c) <= 0xFE0F or 0xE0100 <= ord(c) <= 0xE01EF))


def zenkaku(text: str) -> str:
    """Full-width form for a 漢字 field: ASCII → 全角, half-width kana → 全角, CR/LF dropped."""
    text = _HALF_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text.replace("\r", "").replace("\n", ""))
    out = []
    for ch in text:
        cp = ord(ch)
        if ch == " ":
            out.append("\u3000")
        elif 0x21 <= cp <= 0x7E:
            out.append(chr(cp + 0xFEE0))
        else:
            out.append(ch)
    return "".join(out).translate(_CP932_FORMS)


def jis_text(text: str | None, *, fallback: str | None = None) -> str:
    """A value for a 漢字 field in JIS X 0208: variants folded to their JIS form; else the
    fallback (the katakana name); else each character without a JIS form as 〓. Never ●."""
    if not text:
        return ""
    value = zenkaku("".join(KANJI_VARIANTS.get(c, c) for c in _strip_selectors(text)))
    if charset.MASK not in value and charset.is_representable(value, "jisx0208"):
        return value
    if fallback:
        return jis_text(fallback)
    return "".join(c if c != charset.MASK and charset.in_repertoire(c, "jisx0208") else codes.SUBSTITUTE for c in value)


def _ascii_field(value: str | None, width: int | None) -> str:
    """An 英数 field: printable ASCII without commas, or nothing."""
    if not value:
        return ""
    if not all(0x20 <= ord(c) < 0x7F and c != "," for c in value) or (width and len(value) > width):
        return ""
    return value


def cut(value: str, width: int | None) -> str:
    """A full-width value cut to the field's width (CP932 bytes), on a character boundary."""
    if width is None:
        return value
    while len(value.encode("cp932", errors="uke_geta")) > width:
        value = value[:-1]
    return value


def chunks(value: str, width: int | None) -> list[str]:
    """A long full-width value as pieces of the field's width (continued in the next record)."""
    if width is None or len(value.encode("cp932", errors="uke_geta")) <= width:
        return [value]
    out, rest = [], value
    while rest:
        part = cut(rest, width)
        out.append(part)
        rest = rest[len(part):]
    return out


def _month(day: dt.date) -> str:
    return day.strftime("%Y%m")


def _date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def line(layout: L.Layout, values: dict[str, object]) -> str:
    """A record with every field of its layout (empty ones keep their commas); keys the layout
    does not have are left out."""
    fields = [""] * layout.count
    fields[0] = layout.record
    positions = layout.positions
    for key, value in values.items():
        i = positions.get(key)
        if i and value is not None:
            fields[i] = str(value)
    return ",".join(fields)


def encode(text: str) -> bytes:
    """The file as sent: CP932. Text onshi writes is JIS X 0208 already; a character of a
    record read from a UTF-8 file with no Shift_JIS form becomes 〓."""
    return text.encode("cp932", errors="uke_geta")


# ---------------------------------------------------------------- the file


def write(header: FacilityHeader, claims: Sequence[Claim]) -> str:
    """The UKE text (CRLF) of one facility's claims for one billing month and review body,
    in the current revision."""
    with gc_paused():
        return _write(header, claims)


def _write(header: FacilityHeader, claims: Sequence[Claim]) -> str:
    # Claims read from an H30 file are written back as they were: 和暦, without SN (the header follows them).
    era = bool(claims) and all(records_era(c) for c in claims)
    layouts = L.layout_set(header.table, era=era) if era else L.current(header.table)
    lines = [header_line(header, layouts)]
    payers = points = 0
    rerouted = False
    for n, claim in enumerate(claims, start=1):
        written = claim_lines(claim.with_kind(), claim.receipt_no or n, header=header, layouts=layouts)
        lines.extend(written.lines)
        payers += written.payers
        points += written.points
        rerouted = rerouted or claim.confirm_code in ("04", "05")
    if rerouted:  # the review body writes 0 in both where it re-routed or split (R04 note to GO)
        payers = points = 0
    lines.append(line(layouts.records["GO"], {"total_claims": payers, "total_points": points, "volume": codes.LAST_VOLUME}))
    return CRLF.join(lines) + CRLF


def header_line(header: FacilityHeader, layouts: L.LayoutSet) -> str:
    layout = layouts.records[layouts.header]
    return line(layout, {
        "payer": header.payer, "prefecture": header.prefecture, "table": layouts.table, "facility_code": header.code7,
        "facility_name": cut(jis_text(header.name), layout.fields[layout.index("facility_name")].width),
        "billing_month": to_gyymm(header.billing_month) if layouts.era else _month(header.billing_month), "volume": codes.FIRST_VOLUME,
        "phone": _ascii_field(header.phone, 15),
    })


class Written:
    """A claim's lines, the payers GO counts for it (its HO and KO records) and its points."""

    def __init__(self, lines: list[str], payers: int, points: int):
        self.lines, self.payers, self.points = lines, payers, points


def claim_lines(claim: Claim, receipt_no: int, *, header: FacilityHeader | None = None, layouts: L.LayoutSet | None = None) -> Written:
    if layouts is None:
        table = (header.table if header else claim.facility_code[2:3]) or L.MEDICAL
        layouts = L.current(table if table in L.TABLE_NAMES else L.MEDICAL)
    if claim.records:
        return _patched(claim, receipt_no, L.layout_set(layouts.table, era=True) if records_era(claim) else layouts)
    if layouts.era:
        layouts = L.current(layouts.table)
    return _generated(claim, receipt_no, layouts, header)


def records_era(claim: Claim) -> bool:
    """Whether a claim read from a file was written in 和暦 (an H30 file): its RE 診療年月."""
    for record in claim.records:
        if record.startswith("RE,"):
            fields = record.split(",", 4)
            return len(fields) > 3 and len(fields[3]) == 5
    return False


def benefit_ratio(claim: Claim) -> str:
    """RE 給付割合: for 国保 (a 6-digit insurer) and 退職者医療 (法別 67) only, as a percentage."""
    insurer = normalise_insurer_number(claim.insurer_number)
    if claim.unknown:
        return str(100 - claim.copay_percent) if claim.kind == "kokuho" else ""
    return str(100 - claim.copay_percent) if len(insurer) == 6 or insurer.startswith("67") else ""


def _generated(claim: Claim, receipt_no: int, layouts: L.LayoutSet, header: FacilityHeader | None) -> Written:
    R = layouts.records
    re_layout = R["RE"]
    kind = claim.receipt_kind or ""
    if kind and kind[0] != layouts.table:
        kind = layouts.table + kind[1:]
    lines = []
    if layouts.claim_start == "IR" and header is not None:  # 歯科: each claim's own IR
        lines.append(line(R["IR"], {"payer": header.payer, "prefecture": header.prefecture, "table": layouts.table,
                                    "facility_code": header.code7, "billing_month": _month(header.billing_month),
                                    "phone": _ascii_field(header.phone, 15)}))
    kouki = claim.kind == "kouki"
    lines += [
        line(re_layout, {
            "receipt_no": receipt_no,
            "receipt_kind": kind,
            "care_month": _month(claim.care_month),
            "name": cut(jis_text(claim.name, fallback=claim.kana), re_layout.fields[re_layout.index("name")].width),
            "sex": claim.sex if claim.sex in (1, 2) else "",
            "birth_date": _date(claim.birth_date),
            "benefit_ratio": benefit_ratio(claim),
            "chart_number": _ascii_field(claim.patient_ref, 20),
            "kana_name": cut(_SPACES.sub("", jis_text(claim.kana)), re_layout.fields[re_layout.index("kana_name")].width),
        }),
        line(R["HO"], {
            "insurer_number": InsurerNumber(normalise_insurer_number(claim.insurer_number)).padded,
            "symbol": jis_text(claim.symbol),
            "number": jis_text(claim.number),
            "days": claim.days,
            "points": claim.points,
            "copay_amount": claim.copay_amount if claim.copay_amount is not None else "",
        }),
    ]
    if claim.public_payer:  # one 公費 with the insurance: KO after HO, its JD after the insurance's
        lines.append(line(R["KO"], {"payer_number": claim.public_payer, "recipient_number": claim.public_recipient,
                                    "days": claim.days, "points": claim.points}))
    numbers = claim.confirmed
    lines.append(line(R["SN"], {
        "payer_kind": codes.PAYER_KIND_INSURANCE,
        "confirm_code": claim.confirm_code,
        # 4–6: the numbers the review body paid on, when they differ from HO (振替, 分割)
        "insurer_number": InsurerNumber(normalise_insurer_number(numbers.insurer_number)).padded if numbers else "",
        "symbol": jis_text(numbers.symbol) if numbers else "",
        "number": jis_text(numbers.number) if numbers else "",
        "branch": (numbers.branch if numbers else claim.branch) if not kouki else "",
    }))
    days = {f"day_{d}": codes.JD_VISIT for d in claim.care_days}
    lines.append(line(R["JD"], {"payer_kind": codes.PAYER_KIND_INSURANCE, **days}))
    if claim.public_payer:
        lines.append(line(R["JD"], {"payer_kind": codes.PAYER_KIND_FIRST_PUBLIC, **days}))
    lines.append(line(R["MF"], {"counter_class": codes.COUNTER_CLASS_NONE}))
    if claim.unknown:
        co = R["CO"]
        lines.extend(line(co, {"comment_code": codes.FREE_TEXT_COMMENT, "text": text})
                     for text in remark_texts(claim.remarks or Remarks(kana=claim.kana), co.fields[co.index("text")].width))
    return Written(lines, 2 if claim.public_payer else 1, claim.points)


def remark_texts(remarks: Remarks, width: int | None) -> list[str]:
    """R-E1 in CO text: 不詳 first, then each recorded item as 「label：value」, cut at the
    field's width and continued in the next CO."""
    texts = [codes.UNKNOWN_MARK]
    for key, label in codes.REMARK_LABELS.items():
        value = getattr(remarks, key)
        if value is None:
            continue
        if key == "insurance_kind":
            value = codes.INSURANCE_KINDS.get(value, value)
        elif key == "contact_date":
            value = f"{value.year}年{value.month}月{value.day}日"
        texts.extend(chunks(jis_text(f"{label}：{value}"), width))
    return texts


# ---------------------------------------------------------------- a claim read from a file


def _patched(claim: Claim, receipt_no: int, layouts: L.LayoutSet) -> Written:
    records = [Record(0, text[:2], text) for text in claim.records]
    R = layouts.records
    for r in records:
        if r.type == "RE":
            r.set(R["RE"].index("receipt_no"), str(receipt_no))
    set_confirm(records, layouts, claim.confirm_code, claim.confirmed)
    points = claim.points
    if claim.confirm_code == "05":  # one part of a 分割: its days only
        points = _restrict_days(records, layouts, set(claim.care_days), claim.points)
    payers = sum(r.type in ("HO", "KO") for r in records)
    return Written([r.text for r in records], payers, points)


def set_confirm(records: list[Record], layouts: L.LayoutSet, code: str, numbers: Numbers | None, new_line: str = CRLF) -> None:
    """SN 確認区分 of the insurance (負担者種別 1), and in fields 4–7 the numbers paid on when
    they differ from HO. A claim without SN gets one after its HO and KO records — except in
    an H30 file, which has no SN, or on a 公費単独 claim."""
    R = layouts.records
    if "SN" not in R:
        return
    sn_layout = R["SN"]
    sn = next((r for r in records if r.type == "SN" and r.field(1) == codes.PAYER_KIND_INSURANCE), None)
    if sn is None:
        if code == codes.CONFIRM_FACILITY or not any(r.type == "HO" for r in records):
            return
        at = max(i for i, r in enumerate(records) if r.type in ("HO", "KO")) + 1
        sn = Record(0, "SN", line(sn_layout, {"payer_kind": codes.PAYER_KIND_INSURANCE, "confirm_code": code}), new_line)
        records.insert(at, sn)
    sn.set(sn_layout.index("confirm_code"), code)
    if numbers is not None:
        sn.set(sn_layout.index("insurer_number"), InsurerNumber(normalise_insurer_number(numbers.insurer_number)).padded)
        sn.set(sn_layout.index("symbol"), jis_text(numbers.symbol))
        sn.set(sn_layout.index("number"), jis_text(numbers.number))
        sn.set(sn_layout.index("branch"), numbers.branch)


def _restrict_days(records: list[Record], layouts: L.LayoutSet, days: set[int], points: int) -> int:
    """Keep only `days` in a 分割 part: in every JD, in the day columns of the detail records
    (回数 recounted; a record left with no day dropped), in HO/KO 診療実日数. The part's
    合計点数 is its detail records' 点数 × 回数 when they carry 点数, else `points`."""
    R = layouts.records
    kept: list[Record] = []
    counted: dict[str, int] = {}
    detail_points: int | None = None
    for r in records:
        if r.type == "JD":
            for d in range(1, min(32, len(r.fields) - 1)):
                if d not in days:
                    r.set(d + 1, "")
            counted[r.field(1)] = sum(r.field(d + 1) == "1" for d in range(1, 32))
        spec = layouts.details.get(r.type)
        if spec is not None:
            p_i, c_i, day_1 = spec
            values = [r.field(day_1 + d - 1) for d in range(1, 32)]
            if any(values):
                left = [(v if d in days else "") for d, v in enumerate(values, start=1)]
                if not any(left):
                    continue
                for d, v in enumerate(left, start=1):
                    r.set(day_1 + d - 1, v)
                r.set(c_i, str(sum(int(v) for v in left if v.isdigit())))
            p = r.field(p_i)
            if p.isdigit():
                c = r.field(c_i)
                detail_points = (detail_points or 0) + int(p) * (int(c) if c.isdigit() else 1)
        kept.append(r)
    records[:] = kept
    total = detail_points if detail_points is not None else points
    kos = 0
    for r in records:
        if r.type == "HO":
            layout = R["HO"]
            if "1" in counted:
                r.set(layout.index("days"), str(counted["1"]))
            r.set(layout.index("points"), str(total))
        elif r.type == "KO":
            kos += 1
            layout = R["KO"]
            kind = str(kos + 1)
            if kind in counted:
                r.set(layout.index("days"), str(counted[kind]))
    return total


__all__ = ["write", "encode", "jis_text", "zenkaku", "claim_lines", "header_line", "remark_texts", "set_confirm", "line", "cut", "chunks"]
