"""Every code table of the facility XML interface (shared/domain/OQS-XML.md), in one place.

The official layout (別紙3-1) and business codes (別紙5-1) are not public. Codes marked
"onshi" below are this implementation's own choice where the digest is silent; a vendor
should treat them as opaque and read the accompanying message.
"""

from __future__ import annotations

import datetime as dt
import re

from ...registry.lookup import Validity

# ---------------------------------------------------------------- files and messages

# Request file prefix → (message kind, answer prefix). `<prefix>_<id>.xml` in req/ is answered
# by `<answer prefix>_<id>.xml` in res/.
SINGLE_INQUIRY = "OQSsiquc01req"  # 一件照会（被保険者番号等）
BULK_INQUIRY = "OQSmuquc01req"  # 一括照会 — registration of the batch
BULK_INQUIRY_RESULT = "OQSmuquc02req"  # 一括照会 — fetch of the result by ReceptionNumber
REFERENCE_NUMBER = "OQSsiimm01req"  # 照会番号登録（一件）
BULK_REFERENCE_NUMBER = "OQSmuimm01req"  # 照会番号登録（一括）
BULK_REFERENCE_NUMBER_RESULT = "OQSmuimm02req"
DRUG_INFORMATION = "YZKsiquc01req"  # 薬剤情報 — not provided by onshi (answered with an error)
CHECKUP_INFORMATION = "TKKsiquc01req"  # 特定健診情報 — not provided by onshi
FACE_PREFIX = "OQSsiquc01res_face"  # written unasked after a card verification

REQUEST_PREFIXES = (
    SINGLE_INQUIRY, BULK_INQUIRY, BULK_INQUIRY_RESULT, REFERENCE_NUMBER, BULK_REFERENCE_NUMBER,
    BULK_REFERENCE_NUMBER_RESULT, DRUG_INFORMATION, CHECKUP_INFORMATION,
)
UNSUPPORTED_PREFIXES = (DRUG_INFORMATION, CHECKUP_INFORMATION)
REQUEST_NAME = re.compile(r"^(?P<prefix>" + "|".join(REQUEST_PREFIXES) + r")(?P<rest>(?:_[^/\\]*)?)\.xml$", re.IGNORECASE)


def answer_prefix(request_prefix: str) -> str:
    """OQSsiquc01req → OQSsiquc01res (the last 'req' of the prefix becomes 'res')."""
    return request_prefix[:-3] + "res"


def canonical_prefix(prefix: str) -> str:
    """The prefix as spelled in REQUEST_PREFIXES (file names are matched case-insensitively)."""
    for p in REQUEST_PREFIXES:
        if p.lower() == prefix.lower():
            return p
    raise KeyError(prefix)


# ---------------------------------------------------------------- header

DATE = "%Y%m%d"  # yyyyMMdd
TIMESTAMP = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss


def date_code(day: dt.date | None) -> str | None:
    return day.strftime(DATE) if day else None


# SegmentOfResult
SEGMENT_NORMAL = "1"  # 正常終了
SEGMENT_PROCESSING = "2"  # 処理中 (bulk: ask again with the ReceptionNumber)
SEGMENT_ABNORMAL = "9"  # 異常終了 (the file as a whole could not be processed)

# ReferenceClassification
REFERENCE_CARD = "1"  # マイナンバーカード
REFERENCE_NUMBERS = "2"  # 被保険者証情報

# CharacterCodeIdentifier. One client reads 1 = UTF-8, 2 = Shift_JIS: the XML declaration
# is the truth on input; on output we write 0 / 1 as the digest says.
CHARSET_CODES = {"utf-8": "0", "shift_jis": "1"}
# Encoding names accepted in the XML declaration → the Python codec that decodes them.
# Shift_JIS is decoded as CP932: Windows clients write NEC/IBM extensions (髙, ①) under that name.
DECLARED_ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "windows-31j": "cp932", "cp932": "cp932", "ms932": "cp932", "csshiftjis": "cp932",
}
OUTPUT_ENCODINGS = {"utf-8": ("UTF-8", "utf-8"), "shift_jis": ("Shift_JIS", "cp932")}  # name → (declared, codec)
# What an answer may hold, whatever ONSHI_CHARSET says: a Shift_JIS file only JIS X 0208 (and
# ASCII, JIS X 0201 kana) — the NEC/IBM extensions of CP932 are not Shift_JIS — the rest is ● (R-D4).
OUTPUT_REPERTOIRES = {"shift_jis": "jisx0208"}

# ---------------------------------------------------------------- header errors (SegmentOfResult 9) — onshi codes

ERROR_MALFORMED = "EX001"  # not well-formed XML, or not an XmlMsg
ERROR_FORBIDDEN_MARKUP = "EX002"  # DOCTYPE / ENTITY declarations (XXE, billion laughs)
ERROR_TOO_LARGE = "EX003"  # file larger than the limit, or too many entries
ERROR_ENCODING = "EX004"  # encoding not UTF-8 / Shift_JIS, or bytes not valid in it
ERROR_HEADER = "EX005"  # a header element is missing or invalid
ERROR_FACILITY = "EX006"  # MedicalInstitutionCode differs from the terminal's / the key's facility
ERROR_RECEPTION = "EX007"  # unknown ReceptionNumber (for this facility)
ERROR_UNSUPPORTED = "EX008"  # a message onshi does not provide (drug / checkup information)
ERROR_BODY = "EX009"  # the body holds no request, or the wrong one for the file name
ERROR_INTERNAL = "EX999"  # the terminal failed; the request may be sent again

ERROR_MESSAGES = {
    ERROR_MALFORMED: "XMLの形式が正しくありません",
    ERROR_FORBIDDEN_MARKUP: "DOCTYPE・ENTITY宣言を含むXMLは受け付けません",
    ERROR_TOO_LARGE: "ファイルが大きすぎます",
    ERROR_ENCODING: "文字コードが正しくありません（UTF-8 または Shift_JIS）",
    ERROR_HEADER: "MessageHeader の項目が正しくありません",
    ERROR_FACILITY: "医療機関コードがこの端末（利用者）の医療機関と一致しません",
    ERROR_RECEPTION: "受付番号が見つかりません",
    ERROR_UNSUPPORTED: "この要求は提供していません（薬剤情報・特定健診情報）",
    ERROR_BODY: "MessageBody に要求がありません",
    ERROR_INTERNAL: "処理中にエラーが発生しました。時間をおいて再度要求してください",
}

# ---------------------------------------------------------------- body

# ProcessingResultStatus
STATUS_OK = "1"  # 正常終了
STATUS_ERROR = "2"  # エラー

# ProcessingResultCode on an error of one inquiry (onshi codes) …
RESULT_INPUT = "EQ001"  # a field of QualificationConfirmSearchInfo is missing or invalid
RESULT_UNKNOWN_INSURER = "EQ002"  # the insurer number is not known to the registry
RESULT_REFERENCE_INPUT = "EQ101"  # a field of ReferenceNumberRegistrationInfo is missing or invalid
# … and on a card that could not be used (registry.lookup.CARD_ERRORS gives the message)
CARD_ERROR_CODES = {
    "card_not_found": "EC001",
    "card_revoked": "EC002",
    "identity_not_verified": "EC003",
    "not_registered": "EC004",
    "cert_expired": "EC005",
    "card_expired": "EC006",
}
# … and as a notice on a successful card result (R-B2, R-B3)
CARD_NOTICES = {
    "cert_expiring": ("NC001", "電子証明書の有効期限が近づいています。市区町村で更新してください"),
    "card_expiring": ("NC002", "マイナンバーカードの有効期限が近づいています。市区町村で更新してください"),
    "cert_grace": ("NC003", "電子証明書の有効期限が切れています（猶予期間中）。市区町村で更新してください"),
    "card_grace": ("NC004", "マイナンバーカードの有効期限が切れています（猶予期間中）。市区町村で更新してください"),
}

# QualificationValidity: 1 有効, 2 無効, 3 無効（新しい資格あり）, 4 該当資格なし, 5 複数該当
# (6 有効（未登録, 医療扶助）is not produced: the registry holds no 医療扶助).
VALIDITY_CODES = {v: v.code for v in Validity}

# InsuredCardClassification
CARD_CLASSIFICATIONS = {
    "01": "被保険者証（一般）", "02": "被保険者証（退職）", "03": "短期被保険者証（一般）", "04": "短期被保険者証（退職）",
    "05": "資格証明書", "06": "特例退職被保険者証", "07": "自衛官診療証", "A1": "医療扶助",
}

# PreschoolClassification: 1 未就学 (written only then), 2 就学中
PRESCHOOL = "1"

# PersonalFamilyClassification
RELATION_CODES = {"self": "1", "family": "2"}  # 本人 / 家族

# Sex1 / Sex2: the registry's codes are the wire codes.
SEX_CODES = {1: "1", 2: "2", 3: "3"}  # 男 / 女 / 未設定

# ReasonOfLoss: the registry's codes are the wire codes.
LOSS_REASONS = {"01": "死亡", "02": "生活保護受給開始", "03": "医療保険等の資格取得", "99": "その他"}


def disqualification_date(end: dt.date | None) -> dt.date | None:
    """DisqualificationDate is the 資格喪失日, the first day no longer covered; the registry
    keeps the last covered day (`QualificationView.end`), so the wire date is end + 1 day."""
    return end + dt.timedelta(days=1) if end else None


def percent_code(percent: int) -> str:
    """InsuredPartialContributionRatio / ElderlyRecipientContributionRatio: 3-digit percent (010, 020, 030)."""
    return f"{percent:03d}"


# LimitApplicationCertificateClassification: which certificate a 区分 corresponds to.
LIMIT_CERTIFICATES = {"01": "限度額適用認定証", "02": "限度額適用・標準負担額減額認定証", "03": "標準負担額減額認定証"}
LIMIT_CATEGORIES = {
    "A01": "ア", "A02": "イ", "A03": "ウ", "A04": "エ", "A05": "オ", "A06": "オ（境）",
    "B01": "現役並みⅢ", "B02": "現役並みⅡ", "B03": "現役並みⅠ", "B04": "一般", "B05": "低所得Ⅱ",
    "B06": "低所得Ⅰ", "B07": "低所得Ⅰ（老福）", "B08": "低所得Ⅰ（境）", "B09": "一般Ⅱ", "B10": "一般Ⅰ",
}
# 住民税非課税 categories carry the 標準負担額減額 (meal cost reduction) as well.
_LOW_INCOME = {"A05", "A06", "B05", "B06", "B07", "B08"}


def limit_certificate(category: str) -> str:
    return "02" if category in _LOW_INCOME else "01"


# ---------------------------------------------------------------- limits

MAX_FILE_BYTES = 32 * 1024 * 1024  # a bulk of 20,000 inquiries is about 8 MiB
MAX_BULK_ENTRIES = 20_000
