"""Reading UKE claim files as a review body does: 医科 (IR … RE … GO), 歯科 (UK, then IR and
RE per claim) and 調剤 (YK … RE … GO); 和暦 (H30) and 西暦 (R02/R04) files; every record
checked against its layout (`uke_layouts`), the records onshi does not interpret kept whole.

What the 記録条件仕様 allows is read, with a warning where a review body would look twice:
JD/SN/MF absent; no HO on a 公費単独 claim; up to four KO; trailing empty fields left out;
an empty 保険者番号, 記号 or 番号 (a per-claim warning: the review cannot match it); a record
type that is not in the layouts (kept as it is); HO 合計点数 against the detail records'
点数 × 回数. What it forbids is an error naming the line and the field, and the file is
refused (`UkeFormatError`); the reader raises nothing else. GO 総件数 counts payers (each HO
and each KO), 総合計点数 adds each claim's HO 合計点数 (the first KO's without HO).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field, replace

from ..domain.dates import end_of_month
from ..domain.errors import FieldError, InputError
from ..domain.numbers import normalise_insurer_number
from ..domain.wareki import parse_gyymm, parse_wareki
from . import uke_codes as codes
from . import uke_layouts as L
from .models import (
    DAYS_FROM_DETAILS,
    DAYS_FROM_JD,
    DAYS_UNKNOWN,
    Claim,
    FacilityHeader,
    Numbers,
    Remarks,
    _KIND_WORDS,
    is_unknown_numbers,
    parse_loose_date,
    single_kind,
)
from .uke_file import CRLF, Problems, Record, UkeFormatError, UkeText, gc_paused, parse
from .uke_write import set_confirm

MAX_CLAIM_WARNINGS = 20
_NOT_FULL_WIDTH = re.compile(r"[\x00-\x7f\uff61-\uff9f]")  # ASCII and half-width katakana
_HEAD = {"HO": 1, "KO": 2, "SN": 3, "JD": 4, "MF": 5}  # the order of a claim's first records
_JD_VALUES = frozenset("129")  # 別表30: 1 counted, 2 a visit not counted, 9 review data only
_JD_VISITS = frozenset("12")


@dataclass
class ParsedClaim:
    claim: Claim
    records: list[Record] = field(default_factory=list)
    layouts: L.LayoutSet | None = None
    warnings: list[FieldError] = field(default_factory=list)

    @property
    def line(self) -> int:
        return next((r.line for r in self.records if r.type == "RE"), self.records[0].line if self.records else 0)

    def to_dict(self) -> dict:
        return {
            **self.claim.to_dict(), "line": self.line,
            "warnings": [{"line": w.field, "message": w.reason} for w in self.warnings],
            "records": [record_dict(r, self.layouts) for r in self.records],
        }


def record_dict(record: Record, layouts: L.LayoutSet | None) -> dict:
    """A record for JSON: the fields its layout names, by name (empty ones left out), the
    rest as raw fields by position."""
    layout = layouts.records.get(record.type) if layouts else None
    if layout is None:
        return {"line": record.line, "type": record.type, "raw": record.fields[1:]}
    named: dict[str, str] = {}
    for i, value in enumerate(record.fields[1:], start=1):
        if value:
            named[layout.fields[i].key if i < layout.count else f"field_{i + 1}"] = value
    return {"line": record.line, "type": record.type, "label": layout.label, "fields": named}


@dataclass
class UkeDocument:
    header: FacilityHeader
    claims: list[ParsedClaim]
    layouts: L.LayoutSet
    text: UkeText
    warnings: list[FieldError] = field(default_factory=list)
    warning_count: int = 0

    @property
    def era(self) -> bool:
        """Dates were written in 和暦 (an H30 file)."""
        return self.layouts.era

    def to_bytes(self) -> bytes:
        """The file as read, with what onshi changed in its records (e.g. an SN 確認区分)."""
        return self.text.to_bytes()

    def set_confirm(self, parsed: ParsedClaim, code: str, numbers: Numbers | None = None) -> None:
        """Set a claim's SN 確認区分 (and the numbers paid on, for 振替/分割) as the review does;
        only the SN line changes (or is added, after HO/KO, when the claim had none)."""
        before = {id(r) for r in parsed.records}
        set_confirm(parsed.records, self.layouts, code, numbers, self.text.newline)
        for i, r in enumerate(parsed.records):
            if id(r) not in before:
                at = next(j for j, x in enumerate(self.text.records) if x is parsed.records[i - 1])
                self.text.records.insert(at + 1, r)
        parsed.claim = replace(parsed.claim, confirm_code=code, confirmed=numbers, records=tuple(r.text for r in parsed.records))

    def to_list(self) -> list[dict]:
        return [c.to_dict() for c in self.claims]

    def to_dict(self) -> dict:
        h = self.header
        return {
            "file": {
                "table": self.layouts.table, "table_name": L.TABLE_NAMES[self.layouts.table], "revision": self.layouts.revision,
                "era": "和暦" if self.era else "西暦", "encoding": self.text.encoding, "bom": self.text.bom,
                "line_end": "CRLF" if self.text.newline == CRLF else "LF", "eof": self.text.eof > 0,
                "facility_code": h.facility_code, "facility_name": h.name, "billing_month": f"{h.billing_month:%Y-%m}", "payer": h.payer,
                "records": len(self.text.records),
            },
            "claim_count": len(self.claims),
            "claims": self.to_list(),
            "warning_count": self.warning_count,
            "warnings": [{"line": w.field, "message": w.reason} for w in self.warnings],
        }


def read(data: bytes | str) -> UkeDocument:
    """Parse a UKE file. Raises UkeFormatError (line-numbered, capped) when it is malformed."""
    problems = Problems()
    with gc_paused():
        text = parse(data, problems)
        doc = _Reader(text, problems).read()
        problems.raise_if_errors()
        for record in text.records:  # the split fields were for reading: the text is what is kept
            record._fields = None
    assert doc is not None
    doc.warnings, doc.warning_count = problems.warnings, problems.warning_count
    return doc


# ---------------------------------------------------------------- field values


def parse_month_field(text: str, label: str, *, era: bool | None = None) -> dt.date:
    """yyyyMM (西暦) or GYYMM (和暦); `era` says which one the file uses."""
    value = text.strip()
    if len(value) == 6 and era is not True and value.isascii() and value.isdigit():
        year, month = int(value[:4]), int(value[4:])
        if 1868 <= year <= 2999 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    elif len(value) == 5 and era is not False and value.isascii() and value.isdigit():
        year, month = parse_gyymm(value, label)
        return dt.date(year, month, 1)
    form = "GYYMM" if era else "yyyyMM" if era is False else "yyyyMM or GYYMM"
    raise InputError(label, f"'{text}' is not a month ({form})")


def parse_date_field(text: str, label: str, *, era: bool | None = None) -> dt.date:
    """yyyyMMdd (西暦) or GYYMMDD (和暦)."""
    value = text.strip()
    if len(value) == 8 and era is not True and value.isascii() and value.isdigit():
        try:
            day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise InputError(label, f"'{text}' is not a real calendar date") from None
        if day.year >= 1868:
            return day
    elif len(value) == 7 and era is not False and value.isascii() and value.isdigit():
        return parse_wareki(value, label)
    form = "GYYMMDD" if era else "yyyyMMdd" if era is False else "yyyyMMdd or GYYMMDD"
    raise InputError(label, f"'{text}' is not a date ({form})")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _compact(text: str) -> str:
    return _nfkc(text).replace(" ", "")


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


# ---------------------------------------------------------------- the reader


class _Reader:
    def __init__(self, text: UkeText, problems: Problems):
        self.text = text
        self.problems = problems
        self.layouts: L.LayoutSet | None = None
        self.header: FacilityHeader | None = None
        self.receipt_numbers: set[int] = set()

    # ---- file structure

    def read(self) -> UkeDocument | None:
        records = self.text.records
        if not records:
            return None
        first = records[0]
        if first.type not in L.HEADERS:
            self.problems.error(first.line if first.line == 1 else 1,
                                "the file must start with IR (医科), UK (歯科) or YK (調剤)")
            return None
        self.layouts = self._layouts(first)
        if self.layouts is None:
            return None
        header_errors = self.problems.error_count
        self._check(first)
        self.header = self._header(first) if self.problems.error_count == header_errors else None
        groups, trailer = self._groups(records[1:])
        claims = [c for c in (self._claim(g) for g in groups) if c is not None]
        self._trailer(trailer, claims, self.text.lines)
        if self.header is None:
            return None
        return UkeDocument(self.header, claims, self.layouts, self.text)

    def _layouts(self, first: Record) -> L.LayoutSet | None:
        """The 点数表 from the header record, the revision from its 請求年月 (和暦: H30)."""
        table = L.HEADERS[first.type]
        stated = first.field(3)
        if stated != table:
            if first.type == "IR" and stated in (L.DENTAL, L.PHARMACY):
                self.problems.error(first.line, f"IR 点数表 (field 4) '{stated}': a {L.TABLE_NAMES[stated]} file starts with "
                                                f"{'UK' if stated == L.DENTAL else 'YK'}, not IR")
            else:
                self.problems.error(first.line, f"{first.type} 点数表 (field 4) '{stated}' must be {table} ({L.TABLE_NAMES[table]})")
            return None
        layout = L.current(table).records[first.type]
        i = layout.index("billing_month")
        value = first.field(i)
        try:
            billing = parse_month_field(value, f"{first.type} 請求年月 (field {i + 1})")
        except InputError as exc:
            self.problems.error(first.line, str(exc))
            return None
        return L.layout_set(table, era=len(value.strip()) == 5, billing_month=billing)

    def _layout(self, record: Record) -> L.Layout | None:
        """The record's layout after checking its field count; None for a type not laid out."""
        layouts = self.layouts
        assert layouts is not None
        layout = layouts.records.get(record.type)
        if layout is None:
            if record.type in L.ELIGIBILITY_RECORDS and layouts.era:
                self._warn(record.line, f"{record.type} is not a record of {layouts.name} (和暦) files: kept as it is")
            else:
                self._warn(record.line, f"unknown record type '{record.type}' for {layouts.name}: kept as it is")
            return None
        count = len(record.fields) if record._fields is not None else record.text.count(",") + 1
        if layout.complete and count > layout.count:
            self.problems.error(record.line, f"{record.type} has {count} fields; the {layouts.name} layout has {layout.count}")
        return layout

    def _groups(self, records: list[Record]) -> tuple[list[list[Record]], Record | None]:
        """Claims as lists of records (歯科: from each IR; others: from each RE), and GO."""
        layouts = self.layouts
        assert layouts is not None
        groups: list[list[Record]] = []
        current: list[Record] | None = None
        trailer: Record | None = None
        dental = layouts.table == L.DENTAL
        for r in records:
            if trailer is not None:
                self.problems.error(r.line, f"{r.type} after GO (GO must be the last record)")
                continue
            if r.type == "GO":
                trailer = r
                continue
            if r.type == layouts.header:
                self.problems.error(r.line, f"a second {r.type} record (one file, one facility and billing month)")
                continue
            if r.type not in layouts.records:  # kept where it stands, with a warning
                self._layout(r)
                if current is not None:
                    current.append(r)
                continue
            if r.type == layouts.claim_start:
                current = [r]
                groups.append(current)
            elif dental and r.type == "RE":
                if current is None or len(current) != 1 or current[0].type != "IR":
                    self.problems.error(r.line, "RE must follow its claim's IR (歯科: IR, then RE, for each claim)")
                    current = [r]
                    groups.append(current)
                else:
                    current.append(r)
            elif current is None:
                self.problems.error(r.line, f"{r.type} before the first claim (a claim starts with {layouts.claim_start})")
            else:
                if dental and len(current) == 1:
                    self.problems.error(r.line, f"{r.type} between IR and RE (歯科: each claim's IR is followed by its RE)")
                current.append(r)
        return groups, trailer

    # ---- checks of one record's fields against its layout

    def _check(self, record: Record, *, soft: frozenset[str] = frozenset()) -> L.Layout | None:
        """Every field of an interpreted record: mode, width, required. `soft`: required fields
        whose absence is only a warning."""
        era = self.layouts.era if self.layouts else False
        layout = self.layouts.records.get(record.type) if self.layouts else None
        if layout is not None and _record_pattern(layout, era).fullmatch(record.text) and _dates_valid(layout, record, era):
            return layout  # the common case: one match in C; the field by field check below names what is wrong
        layout = self._layout(record)
        if layout is None:
            return None
        fields = record.fields
        size = len(fields)
        for i in layout.required:
            if i >= size or not fields[i]:
                f = layout.fields[i]
                if f.key not in soft:  # the caller tells of a soft one
                    self.problems.error(record.line, f"{record.type} {f.label} (field {i + 1}) is empty; it is always recorded")
        specs = layout.fields
        for i in [i for i, value in enumerate(fields[1:layout.count], start=1) if value]:
            value = fields[i]
            problem = _field_problem(specs[i], value, era)
            if problem:
                self.problems.error(record.line, f"{record.type} {specs[i].label} (field {i + 1}) '{value[:40]}' {problem}")
        return layout

    def _warn(self, line: int, message: str, into: list[FieldError] | None = None) -> None:
        item = self.problems.warn(line, message)
        if into is not None and len(into) < MAX_CLAIM_WARNINGS:
            into.append(item)

    def _header(self, first: Record) -> FacilityHeader | None:
        layouts = self.layouts
        assert layouts is not None
        layout = layouts.records[first.type]
        get = lambda key: first.field(layout.index(key))  # noqa: E731
        payer = get("payer")
        if payer not in codes.PAYERS:
            self.problems.error(first.line, f"{first.type} 審査支払機関 (field 2) '{payer}' is not 1 (支払基金) or 2 (国保連)")
        pref = get("prefecture")
        if not (pref.isdigit() and 1 <= int(pref) <= 47):
            self.problems.error(first.line, f"{first.type} 都道府県 (field 3) '{pref}' is not a prefecture code (01–47)")
        billing = parse_month_field(get("billing_month"), "請求年月", era=layouts.era)
        phone = get("phone") if "phone" in layout.positions else ""
        records = self.text.records
        if not phone and len(records) > 1 and records[1].type == "IR" and layouts.claim_start == "IR":  # 歯科: in each claim's IR
            phone = records[1].field(layouts.records["IR"].index("phone"))
        return FacilityHeader(pref + layouts.table + get("facility_code"), _nfkc(get("facility_name")), billing, payer, phone)

    # ---- one claim

    def _claim(self, group: list[Record]) -> ParsedClaim | None:
        layouts, header, problems = self.layouts, self.header, self.problems
        assert layouts is not None
        before = problems.error_count
        warnings: list[FieldError] = []
        re_rec = next((r for r in group if r.type == "RE"), None)
        if re_rec is None:
            problems.error(group[0].line, "a claim's IR without its RE")
            return None
        by_type: dict[str, list[Record]] = {}
        stage = 0
        body: list[Record] = []
        for r in group:
            if r is re_rec or (r.type == "IR" and layouts.table == L.DENTAL):
                if r.type == "IR" and self._check(r):
                    self._same_facility(r)
                continue
            by_type.setdefault(r.type, []).append(r)
            position = _HEAD.get(r.type)
            if position is None:
                stage = 9
                body.append(r)
                continue
            if position < stage:
                problems.error(r.line, f"{r.type} out of order: a claim's records go RE, HO, KO, SN, JD, MF, then the others")
            stage = max(stage, position)
        self._check(re_rec)
        care_month, birth, kind = self._re_values(re_rec)

        hos, kos = by_type.get("HO", []), by_type.get("KO", [])
        for extra in hos[1:]:
            problems.error(extra.line, "a second HO record in the same claim")
        for extra in kos[4:]:
            problems.error(extra.line, "a fifth KO record (at most four 公費 per claim)")
        ho = hos[0] if hos else None
        if ho is None and not kos:
            problems.error(re_rec.line, "RE without HO or KO (a claim has a 医療保険 or a 公費 payer)")
        payers = (1 if ho else 0) + min(len(kos), 4)
        if kind and re.fullmatch(r"\d{4}", kind):
            if kind[0] != layouts.table:
                problems.error(re_rec.line, f"RE レセプト種別 (field 3) '{kind}' is not a {L.TABLE_NAMES[layouts.table]} claim "
                                            f"(first digit {layouts.table})")
            if (kind[1] == "2") == (ho is not None):
                problems.error(re_rec.line, f"RE レセプト種別 (field 3) '{kind}' says {'公費単独' if kind[1] == '2' else '医療保険'} "
                                            f"but the claim {'has' if ho else 'has no'} HO")
            elif kind[2] != str(payers) and payers:
                problems.error(re_rec.line, f"RE レセプト種別 (field 3) '{kind}' says {kind[2]} payer(s) (third digit); "
                                            f"the claim has {payers} (HO and KO records)")

        # HO: the insurance's numbers, days and points
        insurer = symbol = number = ""
        days_count = points = amount = None
        if ho is not None:
            self._check(ho, soft=frozenset({"insurer_number", "number"}))
            layout = layouts.records["HO"]
            raw_insurer = ho.field(layout.index("insurer_number"))
            insurer = normalise_insurer_number(raw_insurer)
            if insurer and not re.fullmatch(r"\d{6}|\d{8}", insurer):
                problems.error(ho.line, f"HO 保険者番号 (field 2) '{raw_insurer}' must be 8 digits (6 for 国保, right-aligned with spaces)")
            symbol, number = _compact(ho.field(layout.index("symbol"))), _compact(ho.field(layout.index("number")))
            missing = [label for label, value in (("保険者番号 (field 2)", insurer), ("番号 (field 4)", number)) if not value]
            if missing:
                self._warn(ho.line, f"HO {' and '.join(missing)} empty: the review cannot match this claim to a qualification", warnings)
            days_count = _int(ho.field(layout.index("days")))
            if days_count is not None and days_count > 31 and layouts.table != L.PHARMACY:  # 調剤: 処方箋受付回数
                problems.error(ho.line, f"HO 診療実日数 (field 5) {days_count} is more than the days of a month")
            points = _int(ho.field(layout.index("points")))
            amount = _int(ho.field(layout.index("copay_amount")))
        publics = []
        for ko in kos[:4]:
            self._check(ko)
            layout = layouts.records["KO"]
            payer_number = _compact(ko.field(layout.index("payer_number")))
            recipient = _compact(ko.field(layout.index("recipient_number")))
            if payer_number and not re.fullmatch(r"\d{8}", payer_number):
                problems.error(ko.line, f"KO 負担者番号 (field 2) '{ko.field(1)}' must be 8 digits")
            if recipient and not re.fullmatch(r"\d{7}", recipient):
                problems.error(ko.line, f"KO 受給者番号 (field 3) '{ko.field(2)}' must be 7 digits (zero-filled)")
            publics.append((payer_number, recipient, _int(ko.field(layout.index("days"))), _int(ko.field(layout.index("points")))))
        if ho is None and publics:
            days_count, points = publics[0][2], publics[0][3]

        # SN / JD / MF: one per payer at most, only for care from 2021-09
        for kind_ in L.ELIGIBILITY_RECORDS:
            if by_type.get(kind_) and care_month is not None and care_month < L.ELIGIBILITY_RECORDS_FROM and not layouts.era:
                problems.error(by_type[kind_][0].line, f"{kind_} may be recorded only for care from 2021-09 (令和3年9月診療分); "
                                                       f"this claim is for {care_month:%Y-%m}")
        payer_kinds = {"1"} if ho is not None else set()
        payer_kinds |= {str(k + 2) for k in range(len(publics))}
        sn_by_kind = self._per_payer(by_type.get("SN", []), payer_kinds)
        jd_by_kind = self._per_payer(by_type.get("JD", []), payer_kinds)
        mfs = by_type.get("MF", [])
        for extra in mfs[1:]:
            problems.error(extra.line, "a second MF record in the same claim")
        for mf in mfs[:1]:
            if self._check(mf):
                value = mf.field(1)
                if value in ("03", "04"):
                    self._warn(mf.line, f"MF 窓口負担額区分 (field 2) '{value}' is defined but not used (別表31)", warnings)
                elif value and value not in ("00", "01", "02"):
                    problems.error(mf.line, f"MF 窓口負担額区分 (field 2) '{value}' is not a code of 別表31 (00, 01, 02)")

        branch, confirm, confirmed = "", codes.CONFIRM_FACILITY, None
        sn = sn_by_kind.get("1")
        if sn is not None:
            layout = layouts.records["SN"]
            confirm = sn.field(layout.index("confirm_code"))
            if confirm and confirm not in codes.CONFIRM_CODES:
                problems.error(sn.line, f"SN 確認区分 (field 3) '{confirm}' is not a code of 別表29")
            branch = _compact(sn.field(layout.index("branch")))
            if branch and not re.fullmatch(r"\d{1,2}", branch):
                problems.error(sn.line, f"SN 枝番 (field 7) '{branch}' must be 2 digits")
            branch = branch.zfill(2) if branch else ""
            sn_numbers = Numbers(normalise_insurer_number(sn.field(layout.index("insurer_number"))), _compact(sn.field(layout.index("symbol"))),
                                 _compact(sn.field(layout.index("number"))), branch)
            if sn_numbers.insurer_number and (sn_numbers.insurer_number, sn_numbers.symbol, sn_numbers.number) != (insurer, symbol, number):
                confirmed, branch = sn_numbers, ""  # the review's numbers (振替, 分割): the billed 枝番 is not in the file

        # care days: JD of the first payer; else the detail records' day columns (estimated)
        last = end_of_month(care_month).day if care_month else 31
        care_days: tuple[int, ...] = ()
        source = DAYS_FROM_JD
        for payer_kind, jd in sorted(jd_by_kind.items()):
            counted, visits = self._jd_days(jd, last)
            count = publics[int(payer_kind) - 2][2] if payer_kind != "1" else days_count
            target = "HO" if payer_kind == "1" else f"KO ({int(payer_kind) - 1})"
            if count is not None and count != counted:
                problems.error(jd.line, f"JD (負担者種別 {payer_kind}) marks {counted} days counted in 診療実日数 (1); "
                                        f"{target} 診療実日数 says {count}")
            if not care_days:
                care_days = visits
        detail_points, detail_days = self._details(body, last, need_days=not care_days)
        if not care_days:
            care_days, source = (detail_days, DAYS_FROM_DETAILS) if detail_days else (tuple(range(1, last + 1)), DAYS_UNKNOWN)
        total = points
        if detail_points is not None and total is not None and payers == 1 and detail_points != total:
            self._warn(re_rec.line, f"{'HO' if ho else 'KO'} 合計点数 {total} differs from the detail records' 点数 × 回数 ({detail_points})",
                       warnings)

        remarks = _remarks(by_type.get("CO", []), layouts, problems)
        unknown = bool(insurer) and is_unknown_numbers(insurer)
        if problems.error_count > before or care_month is None or birth is None:
            return None
        name = _nfkc(re_rec.field(layouts.records["RE"].index("name")))
        sex = re_rec.field(layouts.records["RE"].index("sex")).strip()
        ratio = _int(re_rec.field(layouts.records["RE"].index("benefit_ratio")))
        if sex not in codes.SEXES:
            problems.error(re_rec.line, f"RE 男女区分 (field 6) '{sex}' is not 1 (男) or 2 (女)")
        if ratio is not None and ratio > 100:
            problems.error(re_rec.line, f"RE 給付割合 (field 8) {ratio} is more than 100 (percent)")
        if problems.error_count > before:
            return None
        receipt_no = _int(re_rec.field(1)) or 0
        if receipt_no in self.receipt_numbers:
            problems.error(re_rec.line, f"RE レセプト番号 (field 2) {receipt_no} is used twice in the file")
            return None
        self.receipt_numbers.add(receipt_no)
        claim = Claim(
            facility_code=header.facility_code if header else "",
            care_month=care_month,
            patient_ref=re_rec.field(layouts.records["RE"].index("chart_number")).strip(),
            name=name,
            birth_date=birth,
            insurer_number=insurer,
            number=number,
            symbol=symbol,
            branch=branch,
            care_days=care_days,
            copay_percent=100 - ratio if ratio is not None else _default_copay(single_kind(kind)),
            points=points or 0,
            copay_amount=amount,
            kana=_nfkc(re_rec.field(layouts.records["RE"].index("kana_name"))) or (remarks.kana if remarks else None),
            sex=int(sex) if sex in ("1", "2") else None,
            relation=codes.RELATION_BY_KIND.get(single_kind(kind)),
            unknown=unknown,
            remarks=remarks if unknown else None,
            receipt_no=receipt_no,
            receipt_kind=kind,
            basis="unknown" if unknown else None,
            confirm_code=confirm or codes.CONFIRM_FACILITY,
            confirmed=confirmed,
            billing_month=header.billing_month if header else None,
            public_payer=publics[0][0] if publics else "",
            public_recipient=publics[0][1] if publics else "",
            day_count=days_count,
            days_source=source,
            has_mf=bool(mfs),
            billed_payer=header.payer if header else "",
            records=tuple(r.text for r in group),
        )
        return ParsedClaim(claim, group, layouts, warnings)

    def _trailer(self, go: Record | None, claims: list[ParsedClaim], last_line: int) -> None:
        problems = self.problems
        if go is None:
            problems.error(last_line, "the file must end with a GO record (診療報酬請求書); none found")
            return
        layout = self._check(go)
        if layout is None:
            return
        total, points = _int(go.field(1)), _int(go.field(2))
        if problems.error_count or total is None or points is None:
            return
        if (total, points) == (0, 0) and claims:
            return  # review-body data where claims were re-routed or split: 0 in both (R04 note to GO)
        volume = self.text.records[0].field(self.layouts.records[self.layouts.header].index("volume")) if self.layouts else "00"
        if volume not in ("", "00"):
            self._warn(go.line, f"volume {volume} of a multi-volume file: GO totals not checked")
            return
        expected_total, expected_points = _trailer_counts(claims)
        if total != expected_total:
            problems.error(go.line, f"GO 総件数 (field 2) {total} differs from the {expected_total} payers of the file's claims "
                                    f"(each HO and each KO counts one; {len(claims)} RE records)")
        if points != expected_points:
            problems.error(go.line, f"GO 総合計点数 (field 3) {points} differs from the sum of the claims' HO 合計点数 "
                                    f"(the first KO's without HO): {expected_points}")

    def _same_facility(self, ir: Record) -> None:
        """歯科: each claim's IR names the facility and billing month of the file's UK."""
        layouts = self.layouts
        assert layouts is not None
        uk, layout = self.text.records[0], layouts.records["IR"]
        uk_layout = layouts.records[layouts.header]
        for key in ("payer", "prefecture", "table", "facility_code", "billing_month"):
            i = layout.index(key)
            if ir.field(i) != uk.field(uk_layout.index(key)):
                self.problems.error(ir.line, f"IR {layout.fields[i].label} (field {i + 1}) '{ir.field(i)}' differs from the UK record's "
                                             f"'{uk.field(uk_layout.index(key))}' (one facility and billing month per file)")

    def _re_values(self, re_rec: Record) -> tuple[dt.date | None, dt.date | None, str]:
        layouts, problems = self.layouts, self.problems
        assert layouts is not None
        layout = layouts.records["RE"]
        care_month = birth = None
        i = layout.index("care_month")
        try:
            care_month = parse_month_field(re_rec.field(i), "", era=layouts.era)
        except InputError:
            pass  # _check named it
        try:
            birth = parse_date_field(re_rec.field(layout.index("birth_date")), "", era=layouts.era)
        except InputError:
            pass
        billing = self.header.billing_month if self.header else None
        if care_month and billing and care_month > billing:
            problems.error(re_rec.line, f"RE {layout.fields[i].label} (field {i + 1}) {care_month:%Y-%m} is after the 請求年月 {billing:%Y-%m}")
        if care_month and birth and birth > end_of_month(care_month):
            problems.error(re_rec.line, f"RE 生年月日 (field {layout.index('birth_date') + 1}) is after the care month")
        return care_month, birth, re_rec.field(layout.index("receipt_kind"))

    def _per_payer(self, records: list[Record], payer_kinds: set[str]) -> dict[str, Record]:
        """SN or JD records by 負担者種別: one per payer of the claim."""
        out: dict[str, Record] = {}
        for r in records:
            if self._check(r) is None:
                continue
            kind = r.field(1)
            if kind not in payer_kinds:
                self.problems.error(r.line, f"{r.type} 負担者種別 (field 2) '{kind}' is not a payer of this claim "
                                            f"({', '.join(sorted(payer_kinds)) or 'none'}; 別表28: 1 医療保険, 2–5 第1–第4公費)")
            elif kind in out:
                self.problems.error(r.line, f"a second {r.type} for 負担者種別 {kind}")
            else:
                out[kind] = r
        return out

    def _jd_days(self, jd: Record, last: int) -> tuple[int, tuple[int, ...]]:
        """(days counted in 診療実日数, visit days) of a JD record."""
        counted, visits = 0, []
        fields = jd.fields
        for d in range(1, min(32, len(fields) - 1)):
            value = fields[d + 1]
            if not value:
                continue
            if value not in _JD_VALUES:
                self.problems.error(jd.line, f"JD {d}日の情報 (field {d + 2}) '{value[:10]}' is not a code of 別表30 (1, 2, 9)")
            elif d > last:
                self.problems.error(jd.line, f"JD marks day {d}, which the care month does not have")
            else:
                counted += value == "1"
                if value in _JD_VISITS:
                    visits.append(d)
        return counted, tuple(visits)

    def _details(self, body: list[Record], last: int, *, need_days: bool) -> tuple[int | None, tuple[int, ...]]:
        """Σ 点数 × 回数 over the detail records that carry 点数 (None when none does), and the
        days their day columns mark (only when the claim has no JD). Also each body record's
        field count (unknown types were told of in _groups)."""
        assert self.layouts is not None
        details, records = self.layouts.details, self.layouts.records
        total: int | None = None
        days: set[int] = set()
        for r in body:
            layout = records.get(r.type)
            if layout is None:
                continue
            spec = details.get(r.type)
            if spec is None:
                self._layout(r)
                continue
            fields = r.text.split(",")  # not kept on the record: a file has millions of these
            size = len(fields)
            if size > layout.count:
                self._layout(r)  # names the count
            p_i, c_i, day_1 = spec
            points = fields[p_i] if p_i < size else ""
            if points and points.isascii() and points.isdigit():
                count = fields[c_i] if c_i < size else ""
                total = (total or 0) + int(points) * (int(count) if count.isascii() and count.isdigit() else 1)
            if need_days:
                for d, value in enumerate(fields[day_1:day_1 + 31], start=1):
                    if value and d <= last:
                        days.add(d)
        return total, tuple(sorted(days))


_X = r"[\x20-\x2b\x2d-\x7e]"  # 英数: printable ASCII but the comma
_K = r"[^\x00-\x7f\uff61-\uff9f]"  # 漢字: full-width (no ASCII, no half-width katakana)
_DIGIT = "[0-9]"
_PATTERNS: dict[tuple[int, bool], re.Pattern] = {}


def _record_pattern(layout: L.Layout, era: bool) -> re.Pattern:
    """One regular expression for a whole record of `layout`: modes, widths and required
    fields, trailing empty fields present or absent. A line it matches is valid but for the
    calendar dates (`_dates_valid`)."""
    key = (id(layout), era)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        parts = [_field_pattern(f, era) for f in layout.fields[1:]]
        last_required = max(layout.required, default=0)
        head = "".join("," + p for p in parts[:last_required])
        tail = ""
        for p in reversed(parts[last_required:]):
            tail = f"(?:,{p}{tail})?"
        pattern = _PATTERNS[key] = re.compile(re.escape(layout.record) + head + tail)
    return pattern


def _field_pattern(f: L.Field, era: bool) -> str:
    width, fixed, mode = f.width, f.fixed, f.mode
    if mode in ("YM", "YMD"):
        width, fixed, mode = {("YM", True): 5, ("YM", False): 6, ("YMD", True): 7, ("YMD", False): 8}[(mode, era)], True, "N"

    def repeat(char: str, n: int | None) -> str:
        low = 1 if f.required else 0
        if n is None:
            return f"{char}{'+' if low else '*'}"
        if fixed:
            return f"{char}{{{n}}}" if low else f"(?:{char}{{{n}}})?"
        return f"{char}{{{low},{n}}}"

    half = None if width is None else width // 2
    if mode == "N":
        return repeat(_DIGIT, width)
    if mode == "X":
        return repeat(_X, width)
    if mode == "K":
        return repeat(_K, half)
    return f"(?:{repeat(_X, width)}|{repeat(_K, half)})"


def _dates_valid(layout: L.Layout, record: Record, era: bool) -> bool:
    fields = record.fields
    for i in layout.dates:
        if i < len(fields) and fields[i]:
            try:
                (parse_month_field if layout.fields[i].mode == "YM" else parse_date_field)(fields[i], "", era=era)
            except InputError:
                return False
    return True


def _field_problem(f: L.Field, value: str, era: bool) -> str | None:
    """What is wrong with a non-empty value for its field, or None."""
    mode, width = f.mode, f.width
    if mode in ("YM", "YMD"):
        try:
            (parse_month_field if mode == "YM" else parse_date_field)(value, "", era=era)
        except InputError as exc:
            return exc.errors[0].reason.split("' ", 1)[-1]
        return None
    if mode == "N":
        if not (value.isascii() and value.isdigit()):
            return "must be half-width digits (数字)"
        size = len(value)
    elif mode == "X" or (mode == "XK" and value.isascii()):
        if not (value.isascii() and value.isprintable()):
            return "must be half-width characters (英数)"
        size = len(value)
    else:  # K, or XK in 漢字 mode
        bad = _NOT_FULL_WIDTH.search(value)
        if bad:
            return ("mixes half-width and full-width characters (英数 or 漢字, never both)" if mode == "XK"
                    else f"must be full-width characters (漢字); '{bad.group()}' is half-width")
        size = 2 * len(value)
    if width is not None:
        if size > width:
            return f"is {size} bytes; the field holds {width}"
        if f.fixed and size != width:
            return f"is {size} bytes; the field is always {width}"
    return None


def _default_copay(kind: str) -> int:
    """The copay a レセプト種別 implies when 給付割合 is not written (it is written for 国保 only)."""
    return {"1310": 30, "1318": 10, "1110": 30, "1118": 20, "1114": 20, "1113": 20}.get(kind, 30)


_LABELS = {label: key for key, label in codes.REMARK_LABELS.items()}


def _remarks(cos: list[Record], layouts: L.LayoutSet, problems: Problems) -> Remarks | None:
    """R-E1 remarks from the CO free-text records that follow a 「不詳」 one."""
    if not cos:
        return None
    layout = layouts.records.get("CO")
    if layout is None or "comment_code" not in layout.positions or "text" not in layout.positions:
        return None
    code_i, text_i = layout.index("comment_code"), layout.index("text")
    texts = [(r, _nfkc(r.field(text_i))) for r in cos if r.field(code_i) == codes.FREE_TEXT_COMMENT]
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
            problems.error(next((r.line for r, t in texts if t.startswith("連絡日")), texts[start][0].line), str(exc))
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


def _trailer_counts(claims: list[ParsedClaim]) -> tuple[int, int]:
    """GO 総件数 and 総合計点数 as the specification counts them (R04 note to GO): each HO and
    each KO is one; the points are each claim's HO 合計点数, or its first KO's without HO."""
    total = points = 0
    for p in claims:
        kinds = [r.type for r in p.records]
        total += kinds.count("HO") + min(kinds.count("KO"), 4)
        points += p.claim.points
    return total, points


__all__ = ["ParsedClaim", "UkeDocument", "UkeFormatError", "read", "record_dict", "parse_month_field", "parse_date_field"]
