"""UKE record layouts as data: one table per 点数表 (医科 1, 歯科 3, 調剤 4) and revision.

Used by both the reader (`uke_read`) and the writer (`uke_write`), so a correction is one edit.
Source: ../shared/domain/UKE-layouts.md (the 記録条件仕様 医科 R02/R04 and H30, 歯科 from the
H30-era samples and the R08 transcription, 調剤 from two readers); where that file is unsure,
so is this one (see the notes per table).

Each record is a table: one line per field, in file order (field 1, the record type, is
implicit), with

    key    項目名    Req    Mode    Width    [fix]

- key: the English identifier (JSON key); label: the specification's 項目名;
- Req: M always recorded, C conditional, O optional, - 予備 (left empty, its comma kept);
- Mode: N 数字, X 英数 (half-width ASCII), K 漢字 (full-width), XK either mode (never mixed),
  YM / YMD a 年月 / 年月日 (西暦 yyyyMM / yyyyMMdd, 6 / 8 fixed; 和暦 GYYMM / GYYMMDD, 5 / 7
  fixed in H30 files);
- Width: the maximum in bytes of the Shift_JIS file ("-": not confirmed, no width check);
  fix: always written at full width.

Revisions: **H30** (平成30年4月版: 和暦 dates, no SN/JD/MF records), **R02** (令和2年4月版:
西暦 dates, SN/JD/MF added for care from 2021-09) and **R04** (令和4年4月版, read as updated
2023-03). UKE-layouts.md finds no difference between R02 and R04 in the records laid out
here, so R02 is R04 under its own name; the 令和6年 edition was not read and is assumed equal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

MEDICAL, DENTAL, PHARMACY = "1", "3", "4"
TABLE_NAMES = {MEDICAL: "医科", DENTAL: "歯科", PHARMACY: "調剤"}
REVISIONS = ("H30", "R02", "R04")
# R04 (令和4年4月版) is in force for care from 2022-04, i.e. files billed from 2022-05.
R04_FROM_BILLING = dt.date(2022, 5, 1)


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    req: str  # M C O -
    mode: str  # N X K XK YM YMD
    width: int | None
    fixed: bool = False

    @property
    def required(self) -> bool:
        return self.req == "M"


@dataclass(frozen=True)
class Layout:
    record: str
    label: str
    fields: tuple[Field, ...]  # fields[0] is the record type itself
    complete: bool = True  # False: fields after the listed ones are not known (no upper bound on the count)
    positions: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    required: tuple[int, ...] = field(default=(), compare=False, repr=False)  # positions always recorded (after the type)
    dates: tuple[int, ...] = field(default=(), compare=False, repr=False)  # positions of 年月 / 年月日 fields

    def __post_init__(self) -> None:
        self.positions.update({f.key: i for i, f in enumerate(self.fields)})
        object.__setattr__(self, "required", tuple(i for i, f in enumerate(self.fields) if i and f.req == "M"))
        object.__setattr__(self, "dates", tuple(i for i, f in enumerate(self.fields) if f.mode in ("YM", "YMD")))

    @property
    def count(self) -> int:
        return len(self.fields)

    def index(self, key: str) -> int:
        """0-based position of a field in the split line."""
        try:
            return self.positions[key]
        except KeyError:
            raise KeyError(f"{self.record} has no field {key}") from None

    def label_of(self, i: int) -> str:
        return self.fields[i].label if i < len(self.fields) else f"項目{i + 1}"


@dataclass(frozen=True)
class LayoutSet:
    """The records of one 点数表 and revision, and where the reader finds what it interprets."""

    table: str
    revision: str
    records: dict[str, Layout]
    header: str  # the file's first record: IR (医科), UK (歯科), YK (調剤)
    claim_start: str  # the record that opens a claim: RE, or IR for 歯科 (one IR per claim)
    # Detail records that carry 点数 and 回数 (the HO 合計点数 check) and 31 day columns
    # (the care days when a claim has no JD): record → 0-based positions of 点数, 回数, day 1.
    details: dict[str, tuple[int, int, int]]

    @property
    def era(self) -> bool:
        return self.revision == "H30"

    @property
    def name(self) -> str:
        return f"{TABLE_NAMES[self.table]} {self.revision}"


# ---------------------------------------------------------------- the table syntax


def _table(text: str) -> tuple[Field, ...]:
    out = []
    for row in text.strip().splitlines():
        parts = row.split()
        key, label, req, mode, width = parts[:5]
        out.append(Field(key, label, req, mode, None if width == "-" else int(width), fixed=len(parts) > 5 and parts[5] == "fix"))
    return tuple(out)


def _record(record: str, label: str, *parts: str | tuple[Field, ...], complete: bool = True) -> Layout:
    fields: list[Field] = [Field("record", "レコード識別情報", "M", "X", 2, True)]
    for part in parts:
        fields.extend(_table(part) if isinstance(part, str) else part)
    return Layout(record, label, tuple(fields), complete)


def _days(label: str = "日の情報", width: int = 3) -> tuple[Field, ...]:
    return tuple(Field(f"day_{d}", f"{d}{label}", "C", "N", width) for d in range(1, 32))


def _comments(n: int = 3) -> tuple[Field, ...]:
    return tuple(
        f for i in range(1, n + 1)
        for f in (Field(f"comment_code_{i}", f"コメントコード{i}", "C", "N", 9), Field(f"comment_text_{i}", f"文字データ{i}", "C", "K", 100))
    )


# ---------------------------------------------------------------- records shared by every 点数表 (R02 on)

SN = _record("SN", "資格確認", """
payer_kind        負担者種別                           M N  1 fix
confirm_code      確認区分                             M N  2 fix
insurer_number    保険者番号等（資格確認）             - X  8
symbol            被保険者証（手帳）等の記号（資格確認） - XK 38
number            被保険者証（手帳）等の番号（資格確認） - XK 38
branch            枝番                                 C X  2
recipient_number  受給者番号                           - N  7
reserved_9        予備                                 - N  1
""")
JD = _record("JD", "受診日等", """
payer_kind        負担者種別                           M N  1 fix
""", _days("日の情報", 1))
MF = _record("MF", "窓口負担額", """
counter_class     窓口負担額区分                       M N  2 fix
""", tuple(Field(f"reserved_{i + 2}", f"予備{i}", "-", "N", 9) for i in range(1, 32)))
GO = _record("GO", "診療報酬請求書", """
total_claims      総件数                               M N  6
total_points      総合計点数                           M N  10
volume            マルチボリューム識別情報             M N  2 fix
""")

# ---------------------------------------------------------------- rows several tables share

# HO: the numbers (1–4 after the type) are the same in every 点数表.
_HO_NUMBERS = """
insurer_number    保険者番号                           M X  8 fix
symbol            被保険者証（手帳）等の記号           C XK 38
number            被保険者証（手帳）等の番号           M XK 38
"""
_HO_DAYS_POINTS = """
days              診療実日数                           M N  2
points            合計点数                             M N  8
"""
_MEALS = """
meals             食事療養・生活療養回数               C N  2
meal_amount       食事療養・生活療養合計金額           C N  8
"""
_HO_CERTIFICATE = """
occupational      職務上の事由                         C N  1
certificate       証明書番号                           C N  3
"""
_REDUCTION = """
reduction_class   減免区分                             C N  1
reduction_ratio   減額割合                             C N  3
reduction_amount  減額金額                             C N  6
"""
_KO_HEAD = """
payer_number      負担者番号                           M X  8 fix
recipient_number  受給者番号                           C N  7
optional_benefit  任意給付区分                         C N  1
"""
# The first fields of SI, IY and TO (医科 and 歯科); the code's name differs.
_DETAIL_HEAD = """
care_class        診療識別                             C N  2
payer_class       負担区分                             M X  1 fix
"""
_POINTS_COUNT = """
points            点数                                 C N  7
count             回数                                 M N  3
"""
def _facility(code: str) -> str:
    """The facility's rows of IR, UK and YK: 審査支払機関, 都道府県, 点数表 and its code."""
    return f"""
payer             審査支払機関                         M N  1 fix
prefecture        都道府県                             M N  2 fix
table             点数表                               M N  1 fix
facility_code     {code}                               M N  7 fix
"""


def _re_head(month: str) -> str:
    """RE 2–8, the same in every 点数表 but for the name of the month (診療年月, 調剤年月)."""
    return f"""
receipt_no        レセプト番号                         M N  6
receipt_kind      レセプト種別                         M N  4 fix
care_month        {month}                              M YM -
name              氏名                                 M XK 40
sex               男女区分                             M N  1 fix
birth_date        生年月日                             M YMD -
benefit_ratio     給付割合                             C N  3
"""


SJ = _record("SJ", "症状詳記", """
detail_class      症状詳記区分                         C N  2
text              症状詳記データ                       M K  2400
""")

# ---------------------------------------------------------------- 医科 (RECEIPTC.UKE), R04

_DEPARTMENTS = "\n".join(
    f"department_{i}_{k}  診療科{i}・{label}  O N {w}"
    for i in (1, 2, 3)
    for k, label, w in (("name", "診療科名", 2), ("body_part", "人体の部位等", 3), ("sex", "性別等", 3), ("treatment", "医学的処置", 3), ("disease", "特定疾病", 3))
)

MEDICAL_R04 = {
    "IR": _record("IR", "医療機関情報", _facility("医療機関コード"), """
reserved_6        予備                                 - N  2
facility_name     医療機関名称                         M K  40
billing_month     請求年月                             M YM -
volume            マルチボリューム識別情報             M N  2 fix
phone             電話番号                             O X  15
"""),
    "RE": _record("RE", "レセプト共通", _re_head("診療年月"), """
admission_date    入院年月日                           C YMD -
ward              病棟区分                             C X  8
copay_class       一部負担金・食事療養費・生活療養費標準負担額区分 C N 1
special_notes     レセプト特記事項                     C X  10
beds              病床数                               C N  4
chart_number      カルテ番号等                         O X  20
discount_price    割引点数単価                         C N  2
reserved_16       予備                                 - N  1
reserved_17       予備                                 - N  1
reserved_18       予備                                 - N  2
search_number     検索番号                             C N  30
reserved_20       予備                                 - N  5
billing_info      請求情報                             O XK 40
""", _DEPARTMENTS, """
kana_name         カタカナ（氏名）                     O K  80
patient_state     患者の状態                           C N  60
"""),
    "HO": _record("HO", "保険者", _HO_NUMBERS, _HO_DAYS_POINTS, """
reserved_7        予備                                 - N  5
""", _MEALS, _HO_CERTIFICATE, """
copay_amount      負担金額（医療保険）                 C N  9
""", _REDUCTION),
    "KO": _record("KO", "公費", _KO_HEAD, _HO_DAYS_POINTS, """
amount            負担金額（公費）                     C N  8
outpatient_copay  公費給付対象外来一部負担金           C N  6
inpatient_copay   公費給付対象入院一部負担金           C N  6
reserved_10       予備                                 - N  5
""", _MEALS),
    "SN": SN,
    "JD": JD,
    "MF": MF,
    "GR": _record("GR", "包括評価対象外理由", """
reason            医科点数表算定理由                   M N  2 fix
dpc_code          ＤＰＣコード                         C X  14
"""),
    "SY": _record("SY", "傷病名", """
disease_code      傷病名コード                         M N  7 fix
start_date        診療開始日                           M YMD -
outcome           転帰区分                             M N  1 fix
modifiers         修飾語コード                         C X  80
disease_name      傷病名称                             C K  40
main              主傷病                               C N  2
note              補足コメント                         C K  40
"""),
    "SI": _record("SI", "診療行為", _DETAIL_HEAD, """
code              診療行為コード                       M N  9 fix
quantity          数量データ                           C N  8
""", _POINTS_COUNT, _comments(), _days()),
    "IY": _record("IY", "医薬品", _DETAIL_HEAD, """
code              医薬品コード                         M N  9 fix
quantity          使用量                               C N  11
""", _POINTS_COUNT, _comments(), _days()),
    "TO": _record("TO", "特定器材", _DETAIL_HEAD, """
code              特定器材コード                       M N  9 fix
quantity          使用量                               C N  9
""", _POINTS_COUNT, """
unit_code         単位コード                           C N  3
unit_price        単価                                 C N  11
reserved_10       予備                                 - K  40
product_name      商品名及び規格又はサイズ             C K  300
""", _comments(), _days()),
    "CO": _record("CO", "コメント", _DETAIL_HEAD, """
comment_code      コメントコード                       M N  9 fix
text              文字データ                           C K  76
"""),
    "SJ": SJ,
    "TI": _record("TI", "臓器提供医療機関情報", """
donation_class    臓器提供区分                         M N  1
donor_facility_class 臓器提供医療機関区分              M N  1
prefecture        都道府県                             M N  2 fix
table             点数表                               M N  1 fix
facility_code     医療機関コード                       M N  7 fix
reserved_7        予備                                 - N  2
facility_name     医療機関名称                         M K  40
address           医療機関所在地                       C K  80
phone             電話番号                             O X  15
"""),
    "TR": _record("TR", "臓器提供者レセプト情報", """
receipt_no        レセプト番号                         M N  6
receipt_kind      臓器提供者レセプト種別               M N  4 fix
care_month        診療年月                             M YM -
reserved_5        予備                                 - XK 40
sex               男女区分                             M N  1 fix
birth_date        生年月日                             M YMD -
reserved_8        予備                                 - N  3
admission_date    入院年月日                           C YMD -
ward              病棟区分                             C X  8
reserved_11       予備                                 - N  1
special_notes     レセプト特記事項                     C X  10
reserved_13       予備                                 - N  4
chart_number      カルテ番号等                         O X  20
discount_price    割引点数単価                         C N  2
reserved_16       予備                                 - N  1
reserved_17       予備                                 - N  1
reserved_18       予備                                 - N  2
"""),
    "TS": _record("TS", "臓器提供者請求情報", """
days              診療実日数                           M N  2
points            合計点数                             M N  8
meals             食事療養・生活療養回数               C N  2
meal_amount       食事療養・生活療養合計金額           C N  8
"""),
    "GO": GO,
}

# ---------------------------------------------------------------- 歯科 (RECEIPTS.UKE), R04
# Names and order agree between the H30-era dental sample and the R08 transcription; the
# widths are R08's (UKE-layouts.md: the H30 widths were not confirmed).

_DENTAL_ADDITIONS = tuple(
    f for i in range(1, 36)
    for f in (Field(f"addition_code_{i}", f"加算コード{i}", "C", "X", 5), Field(f"addition_quantity_{i}", f"加算数量データ{i}", "C", "N", 8))
)

DENTAL_R04 = {
    "UK": _record("UK", "受付情報", _facility("医療機関コード"), """
reserved_6        予備                                 - N  2
facility_name     医療機関名称                         M K  40
billing_month     請求年月                             M YM -
notifications     届出                                 C X  40
volume            マルチボリューム識別情報             M N  2 fix
"""),
    "IR": _record("IR", "医療機関情報", _facility("医療機関コード"), """
reserved_6        予備                                 - N  2
billing_month     請求年月                             M YM -
phone             電話番号                             O X  15
notifications     届出                                 C X  40
"""),
    "RE": _record("RE", "レセプト共通", _re_head("診療年月"), """
admission_date    入院年月日                           C YMD -
start_date        診療開始日                           C YMD -
outcome           転帰区分                             C N  1
ward              病棟区分                             C X  8
copay_class       一部負担金・食事療養費・生活療養費標準負担額区分 C N 1
special_notes     レセプト特記事項                     C X  10
reserved_15       予備                                 - N  4
chart_number      カルテ番号等                         O X  20
billing_info_1    請求情報１                           C N  2
reserved_18       予備                                 - N  2
no_visit_claim    未来院請求                           C N  2
search_number     検索番号                             C N  30
reserved_21       予備                                 - N  5
billing_info      請求情報２                           O XK 40
reserved_23       予備                                 - N  2
reserved_24       予備                                 - N  3
reserved_25       予備                                 - N  3
kana_name         カタカナ（氏名）                     O K  80
patient_state     患者の状態                           C N  60
"""),
    "HO": _record("HO", "保険者", _HO_NUMBERS, _HO_DAYS_POINTS, _MEALS, _HO_CERTIFICATE, """
copay_amount      負担金額（医療保険）                 C N  9
""", _REDUCTION),
    "KO": _record("KO", "公費", _KO_HEAD, _HO_DAYS_POINTS, """
amount            負担金額（公費）                     C N  8
copay             公費給付対象一部負担金               C N  6
""", _MEALS),
    "SN": SN,
    "JD": JD,
    "MF": MF,
    "HS": _record("HS", "傷病名部位", """
start_date        診療開始日                           C YMD -
outcome           転帰区分                             C N  1
teeth             歯式コード（傷病名）                 C X  384
disease_code      傷病名コード                         M N  7 fix
modifiers         修飾語コード                         C X  80
disease_name      傷病名称                             C K  40
coexisting        併存傷病名数                         C N  1
transition        病態移行                             C N  1
main              主傷病                               C N  2
comment_code      コメントコード                       C N  9
note              補足コメント                         C K  100
note_teeth        歯式コード（補足コメント）           C X  384
"""),
    "SS": _record("SS", "歯科診療行為", _DETAIL_HEAD, """
code              診療行為コード                       M N  9 fix
quantity_1        診療行為数量データ１                 C N  8
quantity_2        診療行為数量データ２                 C N  8
""", _DENTAL_ADDITIONS, _POINTS_COUNT, _days()),
    "SI": _record("SI", "医科診療行為", _DETAIL_HEAD, """
code              診療行為コード                       M N  9 fix
quantity          数量データ                           C N  8
""", _POINTS_COUNT, _days()),
    "IY": _record("IY", "医薬品", _DETAIL_HEAD, """
code              医薬品コード                         M N  9 fix
quantity          使用量                               C N  11
""", _POINTS_COUNT, """
drug_class        医薬品区分                           C X  1
""", _days()),
    "TO": _record("TO", "特定器材", _DETAIL_HEAD, """
code              特定器材コード                       M N  9 fix
quantity          使用量                               C N  9
unit_code         単位コード                           C N  3
unit_price        単価                                 C N  11
addition_code_1   特定器材加算等コード１               C N  9
addition_quantity_1 特定器材加算等数量データ１         C N  9
addition_code_2   特定器材加算等コード２               C N  9
addition_quantity_2 特定器材加算等数量データ２         C N  9
product_name      商品名及び規格又はサイズ             C K  300
""", _POINTS_COUNT, _days()),
    "CO": _record("CO", "コメント", _DETAIL_HEAD, """
comment_code      コメントコード                       M N  9 fix
text              文字データ                           C K  400
teeth             歯式コード（コメント）               C X  384
reserved_7        予備                                 - X  1
reserved_8        予備                                 - X  2
reserved_9        予備                                 - X  3
reserved_10       予備                                 - N  7
reserved_11       予備                                 - N  7
"""),
    "SJ": SJ,
    "GO": GO,
}

# ---------------------------------------------------------------- 調剤, R04
# Names and order from two readers (2019 and 2026) that agree; widths are not confirmed
# (UKE-layouts.md) and are given here only where they are those of the same 医科 field. The
# detail records' field lists are partial: they are kept whole and their count is not bounded.

PHARMACY_R04 = {
    "YK": _record("YK", "薬局情報", _facility("薬局コード"), """
facility_name     薬局連絡先名称                       M K  -
billing_month     請求年月                             M YM -
volume            マルチボリューム識別情報             M N  2 fix
phone             電話番号                             O X  15
"""),
    "RE": _record("RE", "レセプト共通", _re_head("調剤年月"), """
special_notes     レセプト特記事項                     C X  10
prescriber_prefecture 都道府県（医療機関）             C N  2
prescriber_table  点数表（医療機関）                   C N  1
prescriber_code   医療機関コード                       C N  7
prescriber_name   医療機関名称                         C K  -
prescriber_address 医療機関所在地                      C K  -
""", tuple(Field(f"doctor_{i}", f"保険医氏名{i}", "C", "XK", None) for i in range(1, 21)), """
narcotics_license 麻薬免許番号                         C X  -
chart_number      調剤録番号等                         O X  20
reserved_37       予備                                 - N  -
search_number     検索番号                             C N  30
reserved_39       予備                                 - N  5
billing_info      請求情報                             O XK 40
copay_class       一部負担金区分                       C N  1
kana_name         カタカナ（氏名）                     O K  80
"""),
    "HO": _record("HO", "保険者", _HO_NUMBERS, """
days              処方箋受付回数                       M N  2
points            合計点数                             M N  8
reserved_7        予備                                 - N  -
""", _HO_CERTIFICATE, """
copay_amount      一部負担金                           C N  9
reserved_11       予備                                 - N  -
""", _REDUCTION),
    "KO": _record("KO", "公費", _KO_HEAD, """
days              処方箋受付回数                       M N  2
points            合計点数                             M N  8
reserved_7        予備                                 - N  -
amount            一部負担金額                         C N  8
reserved_9        予備                                 - N  -
copay             公費給付対象一部負担金               C N  6
"""),
    "SN": SN,
    "JD": _record("JD", "受診日等", """
payer_kind        負担者種別                           M N  1 fix
""", _days("日の受付等区分", 1)),
    "MF": MF,
    "SH": _record("SH", "処方基本", """
number            Ｎｏ                                 C N  -
dosage_form       剤形コード                           C N  -
usage_code        用法コード                           C X  -
usage_note        特別指示                             C K  -
unit_price_total  単位薬剤料・合計                     C N  -
""", complete=False),
    "CZ": _record("CZ", "調剤", """
doctor_number     医師番号                             C N  -
prescribed_on     処方月日                             C N  -
dispensed_on      調剤月日                             C N  -
reception         処方箋受付回                         C N  -
quantity          調剤数量                             C N  -
""", complete=False),
    "IY": _record("IY", "医薬品", """
payer_class       負担区分                             C X  -
code              医薬品コード                         C N  9
quantity          使用量                               C N  -
""", complete=False),
    "TO": _record("TO", "特定器材", """
payer_class       負担区分                             C X  -
code              特定器材コード                       C N  9
quantity          使用量                               C N  -
unit_code         単位コード                           C N  -
unit_price        単価                                 C N  -
""", complete=False),
    "CO": _record("CO", "コメント", """
comment_code      コメントコード                       C N  9
text              文字データ                           C K  -
""", complete=False),
    "TK": _record("TK", "摘要欄", """
comment_code      コメントコード                       C N  9
text              文字データ                           C K  -
""", complete=False),
    "KI": _record("KI", "基本料・薬学管理料", "", complete=False),
    "ST": _record("ST", "分割技術料", """
doctor_number     医師番号                             C N  -
prescribed_on     処方月日                             C N  -
dispensed_on      調剤月日                             C N  -
reception         処方箋受付回                         C N  -
""", complete=False),
    "GO": GO,
}

# ---------------------------------------------------------------- H30 (和暦 files, before SN/JD/MF)

# RE's 予備 that was 記録条件仕様年月情報 in H30 (a GYYMM in returned or re-claimed data).
_SPEC_MONTH_FIELD = {MEDICAL: "reserved_20", DENTAL: "reserved_21", PHARMACY: "reserved_39"}


def _h30(table: str, records: dict[str, Layout]) -> dict[str, Layout]:
    out = {k: v for k, v in records.items() if k not in ("SN", "JD", "MF")}
    re_ = out["RE"]
    spec = _SPEC_MONTH_FIELD[table]
    out["RE"] = Layout("RE", re_.label, tuple(
        Field("spec_month", "記録条件仕様年月情報", "C", "N", 5) if f.key == spec else f for f in re_.fields
    ), re_.complete)
    return out


def _set(table: str, revision: str, records: dict[str, Layout]) -> LayoutSet:
    header = {MEDICAL: "IR", DENTAL: "UK", PHARMACY: "YK"}[table]
    # 調剤 points are spread over CZ/KI/SH with 公費 splits: not checked against HO, no day columns.
    with_points = {MEDICAL: ("SI", "IY", "TO"), DENTAL: ("SS", "SI", "IY", "TO"), PHARMACY: ()}[table]
    details = {r: (records[r].index("points"), records[r].index("count"), records[r].index("day_1")) for r in with_points}
    return LayoutSet(table, revision, records, header, "IR" if table == DENTAL else "RE", details)


LAYOUT_SETS: dict[tuple[str, str], LayoutSet] = {}
for _table_code, _records in ((MEDICAL, MEDICAL_R04), (DENTAL, DENTAL_R04), (PHARMACY, PHARMACY_R04)):
    LAYOUT_SETS[(_table_code, "R04")] = _set(_table_code, "R04", _records)
    LAYOUT_SETS[(_table_code, "R02")] = _set(_table_code, "R02", _records)
    LAYOUT_SETS[(_table_code, "H30")] = _set(_table_code, "H30", _h30(_table_code, _records))

HEADERS = {"IR": MEDICAL, "UK": DENTAL, "YK": PHARMACY}
# The records that exist only from R02 and only for care from 2021-09 (令和3年9月診療分).
ELIGIBILITY_RECORDS = ("SN", "JD", "MF")
ELIGIBILITY_RECORDS_FROM = dt.date(2021, 9, 1)


def layout_set(table: str, *, era: bool, billing_month: dt.date | None = None) -> LayoutSet:
    """The layouts a file is read with: H30 for 和暦 files; R02 or R04 for 西暦 ones by 請求年月."""
    if era:
        return LAYOUT_SETS[(table, "H30")]
    if billing_month is not None and billing_month < R04_FROM_BILLING:
        return LAYOUT_SETS[(table, "R02")]
    return LAYOUT_SETS[(table, "R04")]


def current(table: str = MEDICAL) -> LayoutSet:
    """The layouts onshi writes (西暦 only)."""
    return LAYOUT_SETS[(table, "R04")]
