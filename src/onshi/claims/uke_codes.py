"""UKE (レセプト電算) code tables — the one place to correct them. The record layouts are in
`uke_layouts.py` (per 点数表 and revision); these are the codes their fields hold
(../shared/domain/UKE-layouts.md, 別表 numbers of the 医科 記録条件仕様).
"""

from __future__ import annotations

import datetime as dt

# ---------------------------------------------------------------- code tables

PAYERS = {"1": "社会保険診療報酬支払基金", "2": "国民健康保険団体連合会"}
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
# R-R7: the points up to which a claim without MF can still be re-routed or split (from the
# 2023-03 billing), by the patient class of its レセプト種別 (4th digit; 後期: 2nd digit 3).
NO_MF_LIMIT_FROM = dt.date(2023, 3, 1)
NO_MF_LIMITS = {"family": 11_800, "preschool": 17_700, "elderly": 4_000, "kouki": 3_000}

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
