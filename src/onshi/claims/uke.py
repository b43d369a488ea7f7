"""UKE claim files (レセプト電算): writer and reader. Pure: text in, values out.

Writing: one IR, per claim RE HO (KO) SN JD MF (and CO for a 不詳 claim's remarks), one GO.
Text fields are JIS X 0208 only: 異体字 become their JIS form (髙→高, 﨑→崎, from
`domain.names.KANJI_VARIANTS`), a name that still does not fit is written in katakana, and a
remark character with no JIS form becomes 〓 (げた) — never ●. Files are CP932 with CRLF;
dates 西暦 (yyyyMMdd / yyyyMM) or, on request, 和暦 (GYYMMDD / GYYMM).

Reading accepts CP932 or UTF-8, CRLF or LF, 和暦 or 西暦, and a trailing EOF (0x1A). A
malformed file raises `UkeFormatError` listing every problem with its line number; the
reader raises nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Sequence

from ..domain import charset
from ..domain.dates import end_of_month
from ..domain.errors import FieldError, InputError
from ..domain.names import KANJI_VARIANTS
from ..domain.numbers import InsurerNumber, normalise_insurer_number
from ..domain.wareki import parse_gyymm, parse_wareki, to_gyymm, to_gyymmdd
from . import uke_codes as codes
from .models import Claim, FacilityHeader, Numbers, Remarks, _KIND_WORDS, is_unknown_numbers, parse_loose_date, single_kind

CRLF = "\r\n"
EOF = "\x1a"

# Unicode forms that CP932 spells differently (the JIS character is the same).
_CP932_FORMS = str.maketrans({"〜": "～", "−": "－", "—": "―", "‖": "∥", "¢": "￠", "£": "￡", "¬": "￢", "¦": "￤"})
_HALF_KANA = re.compile("[\uff61-\uff9f]+")


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


def _ascii_field(value: str | None, max_bytes: int | None) -> str:
    """An 英数 field: printable ASCII without commas, or nothing."""
    if not value:
        return ""
    if not all(0x20 <= ord(c) < 0x7F and c != "," for c in value) or (max_bytes and len(value) > max_bytes):
        return ""
    return value


def _cut(value: str, max_bytes: int | None) -> str:
    """Cut a full-width value to the field's width (CP932 bytes), on a character boundary."""
    if max_bytes is None:
        return value
    while len(value.encode("cp932")) > max_bytes:
        value = value[:-1]
    return value


def _chunks(value: str, max_bytes: int | None) -> list[str]:
    if max_bytes is None or len(value.encode("cp932")) <= max_bytes:
        return [value]
    out, rest = [], value
    while rest:
        part = _cut(rest, max_bytes)
        out.append(part)
        rest = rest[len(part):]
    return out


def _month(day: dt.date, era: bool) -> str:
    return to_gyymm(day) if era else day.strftime("%Y%m")


def _date(day: dt.date, era: bool) -> str:
    return to_gyymmdd(day) if era else day.strftime("%Y%m%d")


def _date_text(day: dt.date, era: bool) -> str:
    from ..domain.wareki import format_wareki

    return format_wareki(day, gannen=False) if era else f"{day.year}年{day.month}月{day.day}日"


def _line(record: str, values: dict[str, object]) -> str:
    layout = codes.LAYOUTS[record]
    out = []
    for f in layout.fields:
        value = record if f.key == "record" else values.get(f.key, "")
        out.append("" if value is None else str(value))
    return ",".join(out)


# ---------------------------------------------------------------- writer


def write(header: FacilityHeader, claims: Sequence[Claim], *, era: bool = False) -> str:
    """The UKE text (CRLF) of one facility's claims for one billing month and review body."""
    lines = [
        _line("IR", {
            "payer": header.payer, "prefecture": header.prefecture, "table": header.table, "facility_code": header.code7,
            "facility_name": _cut(jis_text(header.name), codes.LAYOUTS["IR"].fields[6].max_bytes),
            "billing_month": _month(header.billing_month, era), "volume": codes.FIRST_VOLUME,
            "phone": _ascii_field(header.phone, 15),
        })
    ]
    total_points = 0
    for n, claim in enumerate(claims, start=1):
        claim = claim.with_kind()
        lines.extend(claim_lines(claim, claim.receipt_no or n, era=era))
        total_points += claim.points
    lines.append(_line("GO", {"total_claims": len(claims), "total_points": total_points, "volume": codes.LAST_VOLUME}))
    return CRLF.join(lines) + CRLF


def claim_lines(claim: Claim, receipt_no: int, *, era: bool = False) -> list[str]:
    re_layout = codes.LAYOUTS["RE"]
    name_width = re_layout.fields[re_layout.index("name")].max_bytes
    kana_width = re_layout.fields[re_layout.index("kana_name")].max_bytes
    sn = claim.confirmed or claim.numbers
    lines = [
        _line("RE", {
            "receipt_no": receipt_no,
            "receipt_kind": claim.receipt_kind,
            "care_month": _month(claim.care_month, era),
            "name": _cut(jis_text(claim.name, fallback=claim.kana), name_width),
            "sex": claim.sex if claim.sex in (1, 2) else "",
            "birth_date": _date(claim.birth_date, era),
            "benefit_ratio": 100 - claim.copay_percent,
            "chart_number": _ascii_field(claim.patient_ref, 20),
            "kana_name": _cut(jis_text(claim.kana), kana_width),
        }),
        _line("HO", {
            "insurer_number": InsurerNumber(normalise_insurer_number(claim.insurer_number)).padded,
            "symbol": jis_text(claim.symbol),
            "number": jis_text(claim.number),
            "days": claim.days,
            "points": claim.points,
            "copay_amount": claim.copay_amount if claim.copay_amount is not None else "",
        }),
    ]
    if claim.public_payer:  # one 公費 with the insurance: KO after HO, its SN and JD after the insurance's
        lines.append(_line("KO", {
            "payer_number": claim.public_payer, "recipient_number": claim.public_recipient, "days": claim.days, "points": claim.points,
        }))
    lines.append(_line("SN", {
        "payer_kind": codes.PAYER_KIND_INSURANCE,
        "confirm_code": claim.confirm_code,
        "insurer_number": InsurerNumber(normalise_insurer_number(sn.insurer_number)).padded,
        "symbol": jis_text(sn.symbol),
        "number": jis_text(sn.number),
        "branch": sn.branch,
    }))
    if claim.public_payer:
        lines.append(_line("SN", {
            "payer_kind": codes.PAYER_KIND_FIRST_PUBLIC, "confirm_code": codes.CONFIRM_FACILITY, "insurer_number": claim.public_payer,
            "recipient_number": claim.public_recipient,
        }))
    lines.append(_line("JD", {"payer_kind": codes.PAYER_KIND_INSURANCE, **{f"day_{d}": codes.JD_VISIT for d in claim.care_days}}))
    if claim.public_payer:
        lines.append(_line("JD", {"payer_kind": codes.PAYER_KIND_FIRST_PUBLIC, **{f"day_{d}": codes.JD_VISIT for d in claim.care_days}}))
    lines.append(_line("MF", {"counter_class": codes.COUNTER_CLASS_NONE}))
    if claim.unknown:
        lines.extend(_co(text) for text in remark_texts(claim.remarks or Remarks(kana=claim.kana), era=era))
    return lines


def remark_texts(remarks: Remarks, *, era: bool = False) -> list[str]:
    """R-E1 in CO text: 不詳 first, then each recorded item as 「label：value」."""
    width = codes.LAYOUTS["CO"].fields[-1].max_bytes
    texts = [codes.UNKNOWN_MARK]
    for key, label in codes.REMARK_LABELS.items():
        value = getattr(remarks, key)
        if value is None:
            continue
        if key == "insurance_kind":
            value = codes.INSURANCE_KINDS.get(value, value)
        elif key == "contact_date":
            value = _date_text(value, era)
        texts.extend(_chunks(jis_text(f"{label}：{value}"), width))
    return texts


def _co(text: str) -> str:
    return _line("CO", {"comment_code": codes.FREE_TEXT_COMMENT, "text": text})


def encode(text: str) -> bytes:
    """The file as sent: CP932. Every character was checked against JIS X 0208 on writing."""
    return text.encode("cp932")


# ---------------------------------------------------------------- reader


class UkeFormatError(InputError):
    """A malformed UKE file; every problem names its line ("line 12")."""

    def __init__(self, errors: list[FieldError]):
        super().__init__(errors)


@dataclass
class Record:
    line: int
    type: str
    fields: list[str]

    def get(self, key: str) -> str:
        layout = codes.LAYOUTS[self.type]
        i = layout.index(key)
        return self.fields[i] if i < len(self.fields) else ""

    def to_dict(self) -> dict:
        layout = codes.LAYOUTS.get(self.type)
        named: dict[str, str] = {}
        for i, value in enumerate(self.fields[1:], start=1):
            key = layout.fields[i].key if layout and i < layout.count else f"field_{i + 1}"
            named[key] = value
        return {"type": self.type, "line": self.line, "fields": named}


@dataclass
class ParsedClaim:
    claim: Claim
    records: list[Record] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.records[0].line

    def to_dict(self) -> dict:
        return {**self.claim.to_dict(), "line": self.line, "records": [r.to_dict() for r in self.records]}


@dataclass
class UkeDocument:
    header: FacilityHeader
    claims: list[ParsedClaim]
    era: bool  # dates were written in 和暦

    def to_list(self) -> list[dict]:
        return [c.to_dict() for c in self.claims]


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, line: int, message: str) -> None:
        self.items.append(FieldError(f"line {line}", message))


def decode(data: bytes | str) -> str:
    """UTF-8 (with or without BOM) or CP932; a line that is neither is named."""
    if isinstance(data, str):
        return data
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    for n, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("cp932")
        except UnicodeDecodeError:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UkeFormatError([FieldError(f"line {n}", "is neither Shift_JIS (CP932) nor UTF-8 text")]) from None
    raise UkeFormatError([FieldError("line 1", "the file mixes Shift_JIS (CP932) and UTF-8 text")])


def parse_month_field(text: str, label: str) -> dt.date:
    """yyyyMM (西暦) or GYYMM (和暦)."""
    value = text.strip()
    if re.fullmatch(r"\d{6}", value):
        year, month = int(value[:4]), int(value[4:])
        if 1868 <= year <= 2999 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    elif re.fullmatch(r"\d{5}", value):
        year, month = parse_gyymm(value, label)
        return dt.date(year, month, 1)
    raise InputError(label, f"'{text}' is not a month (yyyyMM or GYYMM)")


def parse_date_field(text: str, label: str) -> dt.date:
    """yyyyMMdd (西暦) or GYYMMDD (和暦)."""
    value = text.strip()
    if re.fullmatch(r"\d{8}", value):
        try:
            day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise InputError(label, f"'{text}' is not a real calendar date") from None
        if day.year >= 1868:
            return day
    elif re.fullmatch(r"\d{7}", value):
        return parse_wareki(value, label)
    raise InputError(label, f"'{text}' is not a date (yyyyMMdd or GYYMMDD)")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _int(record: Record, key: str, errors: _Errors, *, required: bool = True, low: int = 0, high: int | None = None) -> int | None:
    layout = codes.LAYOUTS[record.type]
    label = layout.fields[layout.index(key)].label
    value = record.get(key).strip()
    if not value:
        if required:
            errors.add(record.line, f"{record.type} {label} is empty")
        return None
    if not value.isascii() or not value.isdigit():
        errors.add(record.line, f"{record.type} {label} '{value}' must be digits")
        return None
    number = int(value)
    if number < low or (high is not None and number > high):
        errors.add(record.line, f"{record.type} {label} {number} is out of range")
        return None
    return number


def read(data: bytes | str) -> UkeDocument:
    """Parse a UKE file. Raises UkeFormatError (line-numbered) when it is malformed."""
    text = decode(data).rstrip(EOF)
    lines = text.split("\n")
    if lines and lines[-1].strip("\r") == "":
        lines.pop()
    errors = _Errors()
    records: list[Record] = []
    for n, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if line == "":
            errors.add(n, "is empty")
            continue
        fields = line.split(",")
        kind = fields[0]
        layout = codes.LAYOUTS.get(kind)
        if layout is None:
            errors.add(n, f"unknown record type '{kind[:10]}'")
            continue
        if (layout.exact and len(fields) != layout.count) or (not layout.exact and len(fields) < layout.count):
            expected = f"{layout.count}" if layout.exact else f"at least {layout.count}"
            errors.add(n, f"{kind} has {len(fields)} fields, expected {expected}")
            continue
        records.append(Record(n, kind, fields))
    if not lines:
        raise UkeFormatError([FieldError("line 1", "the file is empty (it must start with IR and end with GO)")])

    header, era = _header(records, errors, len(lines))
    claims = _claims(records, errors, header)
    _trailer(records, errors, claims, len(lines))
    if errors.items:
        raise UkeFormatError(errors.items)
    assert header is not None
    return UkeDocument(header, claims, era)


def _header(records: list[Record], errors: _Errors, last_line: int) -> tuple[FacilityHeader | None, bool]:
    irs = [r for r in records if r.type == "IR"]
    if not records or records[0].type != "IR" or records[0].line != 1:
        errors.add(1, "the file must start with an IR record (医療機関情報)")
    for extra in irs[1:]:
        errors.add(extra.line, "a second IR record (one facility per file)")
    if not irs:
        return None, False
    ir = irs[0]
    before = len(errors.items)
    payer = ir.get("payer")
    if payer not in codes.PAYERS:
        errors.add(ir.line, f"IR 審査支払機関 '{payer}' is not 1 (支払基金) or 2 (国保連)")
    pref, table, code7 = ir.get("prefecture"), ir.get("table"), ir.get("facility_code")
    if not (re.fullmatch(r"\d{2}", pref) and 1 <= int(pref) <= 47):
        errors.add(ir.line, f"IR 都道府県 '{pref}' is not a prefecture code (01–47)")
    if table not in codes.TABLES:
        errors.add(ir.line, f"IR 点数表 '{table}' is not 1, 3 or 4")
    if not re.fullmatch(r"\d{7}", code7):
        errors.add(ir.line, f"IR 医療機関コード '{code7}' must be 7 digits")
    month_text = ir.get("billing_month")
    try:
        billing = parse_month_field(month_text, "IR 請求年月")
    except InputError as exc:
        errors.add(ir.line, str(exc))
        billing = None
    if billing is None or len(errors.items) > before:
        return None, False
    header = FacilityHeader(pref + table + code7, _nfkc(ir.get("facility_name")), billing, payer, ir.get("phone"))
    return header, len(month_text.strip()) == 5


def _trailer(records: list[Record], errors: _Errors, claims: list[ParsedClaim], last_line: int) -> None:
    gos = [r for r in records if r.type == "GO"]
    if not gos:
        errors.add(last_line, "the file must end with a GO record (診療報酬請求書); none found")
        return
    go = gos[0]
    for extra in gos[1:]:
        errors.add(extra.line, "a second GO record")
    if records[-1] is not go:
        errors.add(records[records.index(go) + 1].line, "a record after GO (GO must be the last record)")
    total = _int(go, "total_claims", errors)
    points = _int(go, "total_points", errors)
    if total is not None and total != len(claims):
        errors.add(go.line, f"GO 総件数 {total} differs from the {len(claims)} RE records in the file")
    if points is not None and not errors.items and points != sum(c.claim.points for c in claims):
        errors.add(go.line, f"GO 総合計点数 {points} differs from the sum of the claims' HO 合計点数 ({sum(c.claim.points for c in claims)})")


def _claims(records: list[Record], errors: _Errors, header: FacilityHeader | None) -> list[ParsedClaim]:
    groups: list[list[Record]] = []
    for r in records:
        if r.type in ("IR", "GO"):
            continue
        if r.type == "RE":
            groups.append([r])
        elif not groups:
            errors.add(r.line, f"{r.type} record outside a claim (no RE before it)")
        else:
            groups[-1].append(r)
    out = []
    for group in groups:
        claim = _claim(group, errors, header)
        if claim is not None:
            out.append(ParsedClaim(claim, group))
    return out


def _claim(group: list[Record], errors: _Errors, header: FacilityHeader | None) -> Claim | None:
    re_rec = group[0]
    before = len(errors.items)
    by_type: dict[str, list[Record]] = {}
    for r in group[1:]:
        by_type.setdefault(r.type, []).append(r)
    hos = by_type.get("HO", [])
    if not hos:
        errors.add(re_rec.line, "RE without an HO record (保険者)")
    for extra in hos[1:]:
        errors.add(extra.line, "a second HO record in the same claim")
    insurance_sns = [r for r in by_type.get("SN", []) if r.get("payer_kind") == codes.PAYER_KIND_INSURANCE]
    for kind, records in (("SN", insurance_sns), ("MF", by_type.get("MF", []))):
        for extra in records[1:]:
            errors.add(extra.line, f"a second {kind} record in the same claim")
    if hos and group.index(hos[0]) != 1:
        errors.add(hos[0].line, "HO must follow its RE directly")

    receipt_no = _int(re_rec, "receipt_no", errors, low=1)
    kind = re_rec.get("receipt_kind")
    if not re.fullmatch(r"\d{4}", kind):
        errors.add(re_rec.line, f"RE レセプト種別 '{kind}' must be 4 digits")
    care_month = birth = None
    try:
        care_month = parse_month_field(re_rec.get("care_month"), "RE 診療年月")
    except InputError as exc:
        errors.add(re_rec.line, str(exc))
    try:
        birth = parse_date_field(re_rec.get("birth_date"), "RE 生年月日")
    except InputError as exc:
        errors.add(re_rec.line, str(exc))
    name = _nfkc(re_rec.get("name"))
    if not name:
        errors.add(re_rec.line, "RE 氏名 is empty")
    sex_text = re_rec.get("sex").strip()
    if sex_text not in ("", "1", "2"):
        errors.add(re_rec.line, f"RE 男女区分 '{sex_text}' is not 1 or 2")
    ratio = _int(re_rec, "benefit_ratio", errors, required=False, high=100)

    insurer = symbol = number = ""
    days_count = points = amount = None
    if hos:
        ho = hos[0]
        insurer = normalise_insurer_number(ho.get("insurer_number"))
        if not re.fullmatch(r"\d{6}|\d{8}", insurer):
            errors.add(ho.line, f"HO 保険者番号 '{ho.get('insurer_number')}' must be 8 digits (6 for 国保, right-aligned)")
        symbol, number = _nfkc(ho.get("symbol")).replace(" ", ""), _nfkc(ho.get("number")).replace(" ", "")
        if not number:
            errors.add(ho.line, "HO 番号 is empty")
        days_count = _int(ho, "days", errors, high=31)
        points = _int(ho, "points", errors)
        amount = _int(ho, "copay_amount", errors, required=False)

    branch, confirm, confirmed = "", codes.CONFIRM_FACILITY, None
    for sn in insurance_sns[:1]:
        confirm = sn.get("confirm_code")
        if confirm not in codes.CONFIRM_CODES:
            errors.add(sn.line, f"SN 確認区分 '{confirm}' is not a known code")
        branch = _nfkc(sn.get("branch"))
        if branch and not re.fullmatch(r"\d{1,2}", branch):
            errors.add(sn.line, f"SN 枝番 '{branch}' must be 1–2 digits")
        branch = branch.zfill(2) if branch else ""
        sn_numbers = Numbers(normalise_insurer_number(sn.get("insurer_number")), _nfkc(sn.get("symbol")).replace(" ", ""), _nfkc(sn.get("number")).replace(" ", ""), branch)
        if sn_numbers.insurer_number and (sn_numbers.insurer_number, sn_numbers.symbol, sn_numbers.number) != (insurer, symbol, number):
            confirmed, branch = sn_numbers, ""  # the review's numbers (振替, 分割): the billed 枝番 is not in the file

    care_days: tuple[int, ...] = ()
    jds = [r for r in by_type.get("JD", []) if r.get("payer_kind") == codes.PAYER_KIND_INSURANCE]
    if not jds:
        errors.add(re_rec.line, "RE without a JD record for 医療保険 (負担者種別 1): the care days are unknown")
    else:
        jd = jds[0]
        last = end_of_month(care_month).day if care_month else 31
        marked = []
        for d in range(1, 32):
            value = jd.get(f"day_{d}").strip()
            if not value:
                continue
            if not (value.isascii() and value.isdigit()):
                errors.add(jd.line, f"JD {d}日 '{value}' must be digits")
            elif d > last:
                errors.add(jd.line, f"JD marks day {d}, which the care month does not have")
            else:
                marked.append(d)
        care_days = tuple(marked)
        if not care_days:
            errors.add(jd.line, "JD marks no care day")
        elif days_count is not None and days_count != len(care_days):
            errors.add(hos[0].line, f"HO 診療実日数 {days_count} differs from the {len(care_days)} days marked in JD")

    public_payer = public_recipient = ""
    for ko in by_type.get("KO", [])[:1]:  # the first 公費 (2併); further ones are read past
        public_payer = _nfkc(ko.get("payer_number")).strip()
        public_recipient = _nfkc(ko.get("recipient_number")).strip()
        if not re.fullmatch(r"\d{8}", public_payer):
            errors.add(ko.line, f"KO 負担者番号 '{ko.get('payer_number')}' must be 8 digits")
        if public_recipient and not re.fullmatch(r"\d{7}", public_recipient):
            errors.add(ko.line, f"KO 受給者番号 '{ko.get('recipient_number')}' must be 7 digits")

    remarks = _remarks([r for r in by_type.get("CO", [])], errors)
    unknown = bool(insurer) and is_unknown_numbers(insurer)
    if len(errors.items) > before or care_month is None or birth is None or receipt_no is None or points is None:
        return None
    return Claim(
        facility_code=header.facility_code if header else "",
        care_month=care_month,
        patient_ref=re_rec.get("chart_number").strip(),
        name=name,
        birth_date=birth,
        insurer_number=insurer,
        number=number,
        symbol=symbol,
        branch=branch,
        care_days=care_days,
        copay_percent=100 - ratio if ratio is not None else _default_copay(single_kind(kind)),
        points=points,
        copay_amount=amount,
        kana=_nfkc(re_rec.get("kana_name")) or (remarks.kana if remarks else None),
        sex=int(sex_text) if sex_text else None,
        relation=codes.RELATION_BY_KIND.get(single_kind(kind)),
        unknown=unknown,
        remarks=remarks if unknown else None,
        receipt_no=receipt_no,
        receipt_kind=kind,
        basis="unknown" if unknown else None,
        confirm_code=confirm,
        confirmed=confirmed,
        billing_month=header.billing_month if header else None,
        public_payer=public_payer,
        public_recipient=public_recipient,
    )


def _default_copay(kind: str) -> int:
    return {"1310": 30, "1318": 10, "1110": 30, "1118": 20, "1114": 20}.get(kind, 30)


_LABELS = {label: key for key, label in codes.REMARK_LABELS.items()}


def _remarks(cos: list[Record], errors: _Errors) -> Remarks | None:
    """R-E1 remarks from the CO free-text records that follow a 「不詳」 one."""
    texts = [(r, _nfkc(r.get("text"))) for r in cos if r.get("comment_code") == codes.FREE_TEXT_COMMENT]
    start = next((i for i, (_, t) in enumerate(texts) if t == codes.UNKNOWN_MARK), None)
    if start is None:
        return None
    values: dict[str, str] = {}
    current = None
    for record, text in texts[start + 1:]:
        label, sep, value = text.partition(":")
        if sep and label.strip() in _LABELS:
            current = _LABELS[label.strip()]
            values[current] = value.strip()
        elif current is not None:
            values[current] += text
    contact = None
    if values.get("contact_date"):
        try:
            contact = parse_loose_date(values["contact_date"], "CO 連絡日")
        except InputError as exc:
            errors.add(next((r.line for r, t in texts if t.startswith("連絡日")), texts[start][0].line), str(exc))
    kind = values.get("insurance_kind")
    return Remarks(
        kana=values.get("kana") or None,
        insurance_kind=_KIND_WORDS.get(kind, "other") if kind else None,
        insurer_name=values.get("insurer_name") or None,
        employer=values.get("employer") or None,
        address=values.get("address") or None,
        contact_phone=values.get("contact_phone") or None,
        contact_date=contact,
    )


__all__ = ["UkeDocument", "UkeFormatError", "ParsedClaim", "Record", "decode", "encode", "jis_text", "read", "write"]
