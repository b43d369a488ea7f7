"""What each published figure is (RULES section S): its formula, what it counts, its source
rule — shown on the 統計 page and in `onshi stats --help` — and the groupings they are cut by.

Glossary: usage rate マイナ保険証利用率 · registration rate 利用登録率 · formula `visits`
オンライン資格確認件数ベース (R-S1) · formula `claims` レセプト件数ベース (R-S2) · `claims_outpatient`
レセプト件数ベース（外来のみ, seed 001） · age band 年齢階級 · branch 協会けんぽの都道府県支部.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.numbers import KIND_LABELS, PREFECTURES


@dataclass(frozen=True)
class Figure:
    key: str
    rule: str
    name: str  # Japanese name as published
    formula: str
    counts: str
    note: str = ""


FIGURES: dict[str, Figure] = {
    "visits": Figure(
        "visits", "R-S1", "マイナ保険証利用率（オンライン資格確認件数ベース）",
        "マイナ保険証利用件数 ÷ オンライン資格確認利用件数",
        "その月のオンライン資格確認（マイナ保険証・スマホ保険証・被保険者番号等による照会）のうち、"
        "マイナ保険証（スマホ保険証を含む）による件数の割合。カードを読み取れず照会に至らなかったもの（エラー）は数えない。",
        "翌月に集計できる。2025年11月診療分までの公表値はこの式（資料002）。",
    ),
    "claims": Figure(
        "claims", "R-S2", "マイナ保険証利用率（レセプト件数ベース）",
        "マイナ保険証利用人数 ÷ レセプト件数",
        "医療機関・薬局ごとに、その月にマイナ保険証で資格確認をした人数（同じ人の複数回の確認は1人）を、"
        "その医療機関・薬局のその月のレセプト件数で割る。全国や区分ごとの値は人数の合計 ÷ レセプト件数の合計。"
        "その月のレセプトが1件もない医療機関・薬局は分子にも分母にも入れない（率は空欄）。再請求のレセプトは数えない。",
        "レセプトの確定を待つため診療月の翌々月に集計できる。2025年12月の公表から正式な利用率（資料002）。医療DX推進体制整備加算の実績。",
    ),
    "claims_outpatient": Figure(
        "claims_outpatient", "R-S2", "マイナ保険証利用率（レセプト件数ベース・外来のみ）",
        "マイナ保険証によるオンライン資格確認の利用人数 ÷ レセプト枚数（外来レセのみ）",
        "R-S2 と同じ人数を、入院外のレセプト（レセプト種別の末尾が偶数）の枚数で割る。協会けんぽの公表の式（資料001）。",
    ),
    "registration": Figure(
        "registration", "R-S3", "マイナ保険証利用登録率",
        "健康保険証利用登録済みのマイナンバーカードを持つ加入者数 ÷ 加入者数",
        "月末日に資格がある加入者（保険者ごと）のうち、健康保険証利用登録が有効なマイナンバーカード（交付済み・廃止前、"
        "電子証明書とカードの有効期限の月の3か月後の月末を過ぎていないもの：R-B4 で登録が解除されるまで）を持つ人の割合。年齢は月末日の年齢。",
        "協会けんぽの支部別の表（資料001）。",
    ),
}
USAGE_FORMULAS = ("visits", "claims", "claims_outpatient")

# Age bands of the published tables (seed 002): 10-year bands to 69, then 5-year bands.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-9", 0, 9), ("10-19", 10, 19), ("20-29", 20, 29), ("30-39", 30, 39), ("40-49", 40, 49), ("50-59", 50, 59),
    ("60-69", 60, 69), ("70-74", 70, 74), ("75-79", 75, 79), ("80-84", 80, 84), ("85+", 85, None),
)
BAND_NAMES = tuple(b[0] for b in AGE_BANDS)
UNKNOWN = "unknown"  # a verification that identified nobody (資格情報なし by numbers…), a 不詳 claim's insurer


def band_of(age: int) -> str:
    for name, lo, hi in AGE_BANDS:
        if age >= lo and (hi is None or age <= hi):
            return name
    return UNKNOWN


DIMENSIONS: dict[str, str] = {
    "insurer_kind": "保険者種別",
    "insurer": "保険者",
    "branch": "協会けんぽ支部",
    "age_band": "年齢階級",
    "facility": "医療機関・薬局",
    "facility_prefecture": "医療機関・薬局の所在都道府県",
}
# R-S3 counts members of insurers: there is no facility to cut it by.
REGISTRATION_DIMENSIONS = ("insurer_kind", "insurer", "branch", "age_band")
KIND_NAMES = {**KIND_LABELS, "other": "その他", UNKNOWN: "不明"}


def prefecture_name(code: str) -> str:
    try:
        return PREFECTURES[int(code) - 1]
    except (ValueError, IndexError):
        return KIND_NAMES[UNKNOWN]


def help_text() -> str:
    """The definitions as --help prints them."""
    lines = []
    for f in FIGURES.values():
        lines.append(f"{f.key} ({f.rule}) {f.name}: {f.formula}. {f.counts} {f.note}".strip())
    return "\n\n".join(lines)


__all__ = ["AGE_BANDS", "BAND_NAMES", "DIMENSIONS", "FIGURES", "Figure", "REGISTRATION_DIMENSIONS", "UNKNOWN", "USAGE_FORMULAS", "band_of"]
