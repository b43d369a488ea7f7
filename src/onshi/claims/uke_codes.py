"""UKE (レセプト電算) record layouts and code tables — the one place to correct them.

Positions follow ../shared/domain/UKE.md (1-based, the record type is field 1). Widths are
in bytes of the Shift_JIS (CP932) file; UKE.md does not give them, so the values below are
the usual ones of the 医科 記録条件仕様 as far as they are known here, marked `None` where
unknown (no width check). Attributes: ``N`` digits, ``X`` ASCII (英数), ``K`` 漢字 (full-width
JIS X 0208 only). A layout whose ``exact`` is False is one this system does not write
(detail records): the reader accepts it with at least that many fields and passes it on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str  # English identifier (JSON key)
    label: str  # the specification's name
    attr: str = "X"  # N digits, X ASCII, K full-width JIS X 0208
    max_bytes: int | None = None
    required: bool = False


@dataclass(frozen=True)
class Layout:
    record: str
    label: str
    fields: tuple[Field, ...]  # field 1 is the record type itself
    exact: bool = True

    @property
    def count(self) -> int:
        return len(self.fields)

    def index(self, key: str) -> int:
        """0-based position of a field in the split line."""
        for i, f in enumerate(self.fields):
            if f.key == key:
                return i
        raise KeyError(f"{self.record} has no field {key}")


def _f(key: str, label: str, attr: str = "X", max_bytes: int | None = None, required: bool = False) -> Field:
    return Field(key, label, attr, max_bytes, required)


_RECORD = _f("record", "レコード識別情報", "X", 2, True)
_DAYS = tuple(_f(f"day_{d}", f"{d}日の情報", "N", 3) for d in range(1, 32))
_DEPARTMENTS = tuple(
    _f(f"department_{i}_{k}", f"診療科{i} {label}", "X", None)
    for i in (1, 2, 3)
    for k, label in (("name", "診療科名"), ("body_part", "人体の部位等"), ("sex", "性別等"), ("treatment", "医学的処置"), ("disease", "特定疾病"))
)

LAYOUTS: dict[str, Layout] = {
    "IR": Layout("IR", "医療機関情報", (
        _RECORD,
        _f("payer", "審査支払機関", "N", 1, True),
        _f("prefecture", "都道府県", "N", 2, True),
        _f("table", "点数表", "N", 1, True),
        _f("facility_code", "医療機関コード", "N", 7, True),
        _f("reserved", "予備", "X", 2),
        _f("facility_name", "医療機関名称", "K", 40),
        _f("billing_month", "請求年月", "N", 6, True),
        _f("volume", "マルチボリューム識別情報", "N", 2),
        _f("phone", "電話番号", "X", 15),
    )),
    "RE": Layout("RE", "レセプト共通", (
        _RECORD,
        _f("receipt_no", "レセプト番号", "N", 6, True),
        _f("receipt_kind", "レセプト種別", "N", 4, True),
        _f("care_month", "診療年月", "N", 6, True),
        _f("name", "氏名", "K", 40, True),
        _f("sex", "男女区分", "N", 1),
        _f("birth_date", "生年月日", "N", 8, True),
        _f("benefit_ratio", "給付割合", "N", 3),
        _f("admission_date", "入院年月日", "N", 8),
        _f("ward", "病棟区分", "X", 8),
        _f("copay_class", "一部負担金・食事療養費・生活療養費標準負担額区分", "N", 1),
        _f("special_notes", "レセプト特記事項", "X", 10),
        _f("beds", "病床数", "N", 4),
        _f("chart_number", "カルテ番号等", "X", 20),
        _f("discount_unit_price", "割引点数単価", "N", 4),
        _f("reserved_16", "予備", "X"),
        _f("reserved_17", "予備", "X"),
        _f("reserved_18", "予備", "X"),
        _f("search_number", "検索番号", "X", 30),
        _f("spec_month", "記録条件仕様年月", "N", 6),
        _f("billing_info", "請求情報", "X", 40),
        *_DEPARTMENTS,
        _f("kana_name", "カタカナ（氏名）", "K", 100),
        _f("patient_state", "患者の状態", "X", 9),
    )),
    "HO": Layout("HO", "保険者", (
        _RECORD,
        _f("insurer_number", "保険者番号", "X", 8, True),
        _f("symbol", "被保険者証（手帳）等の記号", "K", 38),
        _f("number", "被保険者証（手帳）等の番号", "K", 38, True),
        _f("days", "診療実日数", "N", 2, True),
        _f("points", "合計点数", "N", 8, True),
        _f("reserved", "予備", "X"),
        _f("meals", "食事療養・生活療養回数", "N", 3),
        _f("meal_amount", "食事療養・生活療養合計金額", "N", 7),
        _f("occupational", "職務上の事由", "N", 1),
        _f("certificate_number", "証明書番号", "N", 3),
        _f("copay_amount", "負担金額（医療保険）", "N", 8),
        _f("reduction_class", "減免区分", "N", 1),
        _f("reduction_ratio", "減額割合", "N", 3),
        _f("reduction_amount", "減額金額", "N", 6),
    )),
    "KO": Layout("KO", "公費", (
        _RECORD,
        _f("payer_number", "負担者番号", "N", 8, True),
        _f("recipient_number", "受給者番号", "N", 7),
        _f("optional_benefit", "任意給付区分", "N", 1),
        _f("days", "診療実日数", "N", 2),
        _f("points", "合計点数", "N", 8),
        _f("amount", "負担金額（公費）", "N", 8),
    ), exact=False),
    "SN": Layout("SN", "資格確認", (
        _RECORD,
        _f("payer_kind", "負担者種別", "N", 1, True),
        _f("confirm_code", "確認区分", "N", 2, True),
        _f("insurer_number", "保険者番号等", "X", 8),
        _f("symbol", "被保険者証記号", "K", 38),
        _f("number", "被保険者証番号", "K", 38),
        _f("branch", "枝番", "N", 2),
        _f("recipient_number", "受給者番号", "N", 7),
        _f("reserved", "予備", "X"),
    )),
    "JD": Layout("JD", "受診日等", (_RECORD, _f("payer_kind", "負担者種別", "N", 1, True), *_DAYS)),
    "MF": Layout("MF", "窓口負担額", (_RECORD, _f("counter_class", "窓口負担額区分", "N", 2, True), _f("reserved", "予備", "X"))),
    "SY": Layout("SY", "傷病名", (_RECORD, _f("disease_code", "傷病名コード", "N", 7)), exact=False),
    "SI": Layout("SI", "診療行為", (_RECORD, _f("care_class", "診療識別", "N", 2)), exact=False),
    "IY": Layout("IY", "医薬品", (_RECORD, _f("care_class", "診療識別", "N", 2)), exact=False),
    "TO": Layout("TO", "特定器材", (_RECORD, _f("care_class", "診療識別", "N", 2)), exact=False),
    "SJ": Layout("SJ", "症状詳記", (_RECORD, _f("detail_class", "症状詳記区分", "N", 2)), exact=False),
    "CO": Layout("CO", "コメント", (
        _RECORD,
        _f("care_class", "診療識別", "N", 2),
        _f("payer_class", "負担区分", "X", 1),
        _f("comment_code", "コメントコード", "N", 9, True),
        _f("text", "文字データ", "K", 200),
    )),
    "GO": Layout("GO", "診療報酬請求書", (
        _RECORD,
        _f("total_claims", "総件数", "N", 6, True),
        _f("total_points", "総合計点数", "N", 11, True),
        _f("volume", "マルチボリューム識別情報", "N", 2, True),
    )),
}

# The order of a claim's records (UKE.md): RE, HO, KO×n, SN, JD, MF, SY…, then details.
CLAIM_RECORDS = ("HO", "KO", "SN", "JD", "MF", "SY", "SI", "IY", "TO", "CO", "SJ")

# ---------------------------------------------------------------- code tables

PAYERS = {"1": "社会保険診療報酬支払基金", "2": "国民健康保険団体連合会"}
TABLES = {"1": "医科", "3": "歯科", "4": "調剤"}
SEXES = {"1": "男", "2": "女"}
LAST_VOLUME = "99"  # GO: the last (here the only) volume
FIRST_VOLUME = "00"  # IR
PAYER_KIND_INSURANCE = "1"  # SN / JD 負担者種別: 1 医療保険
PAYER_KIND_FIRST_PUBLIC = "2"  # 2 第1公費 (3–5: 第2–第4公費, not written here)
COUNTER_CLASS_NONE = "00"  # MF 窓口負担額区分
FREE_TEXT_COMMENT = "810000001"  # CO: free-text comment code
JD_VISIT = "1"  # JD: a day counted in 診療実日数

# SN 確認区分: 01 by the facility; the rest by the review body (02–09) or the insurer (11–14).
CONFIRM_CODES = {
    "01": "医療機関等で確認",
    "02": "変更なし",
    "03": "確認不能",
    "04": "振替",
    "05": "分割",
    "06": "資格喪失（記載の保険者へ請求）",
    "07": "資格喪失（証回収後）",
    "08": "資格喪失（死亡）",
    "09": "枝番特定",
    "11": "振替（保険者）",
    "12": "分割（保険者）",
    "13": "変更不能（保険者）",
    "14": "枝番特定（保険者）",
}
CONFIRM_FACILITY = "01"

# レセプト種別 (医科, 入院外): 1 医科 + 1 医保単独 / 3 後期単独 + 1 単独 + the patient class.
RECEIPT_KINDS = {
    "1112": "医保単独・本人・入院外",
    "1114": "医保単独・未就学者・入院外",
    "1116": "医保単独・家族・入院外",
    "1118": "医保単独・高齢受給者一般・低所得者・入院外",
    "1110": "医保単独・高齢受給者7割・入院外",
    "1318": "後期高齢者単独・一般・低所得者・入院外",
    "1310": "後期高齢者単独・7割・入院外",
}
RELATION_BY_KIND = {"1112": "self", "1116": "family"}

# The 不詳 remarks of R-E1, in the order written to CO records, with their labels.
REMARK_LABELS = {
    "kana": "カナ氏名",
    "insurance_kind": "保険種別",
    "insurer_name": "保険者名",
    "employer": "事業所名",
    "address": "住所",
    "contact_phone": "連絡先電話番号",
    "contact_date": "連絡日",
}
UNKNOWN_MARK = "不詳"  # the first CO record of a 不詳 claim
INSURANCE_KINDS = {"shaho": "社保", "kokuho": "国保", "kouki": "後期", "other": "その他"}
SUBSTITUTE = "〓"  # げた: JIS X 0208's replacement for a character with no JIS form (never ●)

# Defaults of the carried 合計点数 (no 診療行為 catalogue here): 初診料 and 再診料 of the
# 2024 fee schedule. A visit may carry its own figure (`points` in its decision JSON).
FIRST_VISIT_POINTS = 291
REVISIT_POINTS = 75
