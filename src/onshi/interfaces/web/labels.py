"""Japanese labels of the codes the pages show — the one place that maps a code to its
wording (claim basis, verification method and result, alerts, documents, fields…)."""

from __future__ import annotations

import re

from ...domain.numbers import KIND_LABELS
from ...registry.lookup import CARD_ERRORS
from ..oqs_xml.codes import LIMIT_CATEGORIES

# claim.basis (CASES.md) → how the claim is filed
BASIS = {
    "current": "現在の資格で請求",
    "document": "書類の番号で請求",
    "declared": "申告の番号で請求",
    "lost": "喪失済みの資格で請求",
    "past_record": "受診歴の資格で請求",
    "unknown": "申立書による不詳請求",
    "self_pay": "自費",
}

# verification.method / verification log method
METHOD = {
    "my_number_card": "マイナ保険証",
    "smartphone": "スマホ保険証",
    "number_inquiry": "被保険者番号等",
    "none": "照会なし",
}

# verification.result / verification log result
RESULT = {
    "valid": "有効",
    "invalid": "無効",
    "invalid_new": "無効（新しい資格あり）",
    "not_found": "資格情報なし",
    "multiple": "複数該当",
    "not_queried": "未照会",
    "error": "照会不可",
}

# decision.alerts (R-B2, R-B3)
ALERT = {
    "cert_expiring": "電子証明書の有効期限が近づいています（3か月以内）。市区町村での更新をご案内ください。",
    "card_expiring": "マイナンバーカードの有効期限が近づいています（3か月以内）。市区町村での更新をご案内ください。",
    "cert_grace": "電子証明書の有効期限が切れています（猶予期間中：資格情報のみ確認でき、薬剤情報等は閲覧できません）。",
    "card_grace": "マイナンバーカードの有効期限が切れています（猶予期間中：資格情報のみ確認でき、薬剤情報等は閲覧できません）。",
}

# what the patient presented (VisitRequest.presented), in the order of the form
PRESENTED = {
    "my_number_card": "マイナ保険証（マイナンバーカード）",
    "smartphone": "スマホ保険証",
    "eligibility_certificate": "資格確認書",
    "notice": "資格情報のお知らせ",
    "portal_screen": "マイナポータルの資格情報画面・PDF",
    "insurance_card": "健康保険証（従来の保険証）",
}
PRESENTED_SHORT = {
    "my_number_card": "マイナ保険証",
    "smartphone": "スマホ保険証",
    "eligibility_certificate": "資格確認書",
    "notice": "お知らせ",
    "portal_screen": "マイナポータル画面",
    "insurance_card": "健康保険証",
}
CARD_KINDS = ("my_number_card", "smartphone")
DOCUMENT_KINDS = ("eligibility_certificate", "notice", "portal_screen", "insurance_card")

DEVICE = {
    "ok": "正常",
    "reader_failure": "カードリーダーの故障",
    "network_error": "ネットワーク障害",
    "chip_unreadable": "ICチップを読み取れない",
}
IDENTITY = {"face": "顔認証", "pin": "暗証番号", "visual": "目視確認", "none": "本人確認できない"}
RELATION = {"self": "本人", "family": "家族"}
SEX = {1: "男", 2: "女", 3: "未設定"}
CHANNEL = {"api": "API", "xml": "XML", "web": "受付画面", "cli": "コマンド", "fhir": "FHIR"}
INSURANCE_KIND = ("社保", "国保", "後期", "その他")
INSURER_KIND = KIND_LABELS
ROLE = {"facility": "医療機関", "insurer": "保険者", "analyst": "分析者", "reviewer": "審査支払機関"}
INCOME = {"general": "一般", "high": "現役並み所得"}
LOSS_REASON = {"01": "死亡", "02": "生活保護", "03": "他の保険の資格取得", "99": "その他"}
HELD_DOCUMENT = {"eligibility_certificate": "資格確認書", "insurance_card": "健康保険証"}  # registry.lookup.CERTIFICATE_KINDS
LIMIT_CATEGORY = LIMIT_CATEGORIES  # 限度額適用区分 (OQS LimitApplicationCertificateClassificationFlag)
OPERATION = {"acquisition": "資格取得", "change": "資格変更", "loss": "資格喪失", "application": "資格確認書の交付申請",
             "card_cancellation": "利用登録解除", "card_return": "カード返納"}
# insurer issuance (ISSUANCE.md)
APPLICATION_REASON = {"care": "要配慮者（高齢・障害等で介助が必要）", "card_lost": "マイナンバーカードの紛失", "card_renewal": "マイナンバーカードの更新中",
                      "other": "その他（念のため等）"}
APPLICATION_DECISION = {"granted": "交付", "refused": "交付しない", "ended": "終了（カードが使えるようになった）", "not_needed": "他の理由で交付"}
ISSUED = {"eligibility_certificate": "資格確認書", "notice": "資格情報のお知らせ", "registration_notice": "登録完了のお知らせ"}
CERTIFICATE_FORM = {"card": "カード型", "postcard": "はがき型", "a4": "A4型"}
RUN_STATUS = {"running": "実行中", "done": "完了", "failed": "中断"}
TRIGGER = {"enrolment": "加入", "change": "記載事項の変更", "renewal": "更新", "standing": "未交付者への交付"}
RUN_ORIGIN = {"cli": "コマンド", "http": "保険者画面・API", "seed": "履歴"}
CARD_ERROR = CARD_ERRORS

# policy scope values (制度カレンダー)
POLICY_INSURERS = {"all": "全保険者", "kokuho": "国民健康保険", "kouki": "後期高齢者医療", "kyokai": "協会けんぽ", "kumiai": "健康保険組合", "kyosai": "共済組合", "senin": "船員保険"}
POLICY_DOCUMENTS = {"expired_insurance_card": "期限切れの健康保険証", "notice_only": "資格情報のお知らせのみ"}
POLICY_NAMES = {
    "interim_acceptance": "暫定的な取扱い（期限切れの保険証・お知らせのみ）",
    "kouki_certificates": "後期高齢者への資格確認書の職権交付",
    "old_card_expiry": "従来の健康保険証の有効期限",
    "grace_months": "電子証明書等の有効期限後の猶予期間",
    "alert_months": "有効期限アラートの表示開始（期限の前）",
    "medical_consent_hours": "居宅同意取得型での閲覧同意の有効時間",
    "unknown_insurer_numbers": "不詳レセプトの保険者番号",
    "paper_facility_documents": "紙レセプト施設で資格確認に使えるもの",
    "certificate_max_years": "資格確認書の有効期間の上限",
    "registration_deadline_days": "保険者のシステム登録期限（届出から）",
    # insurer issuance (ISSUANCE.md)
    "issuance_options": "資格確認書の有効期限の決め方（保険者の設定がないとき）",
    "renewal_window": "資格確認書・お知らせの更新を送る時期",
    "kouki_enrolment_lead": "75歳で後期に加入する人への送付月",
    "grace_certificate_lead": "電子証明書等の猶予が終わる人への資格確認書",
    "notice_annual_end": "70歳以上のお知らせの有効期限",
    "kouki_split": "令和8年8月以降の後期高齢者（年齢を数える日・申請）",
}
POLICY_UNITS = {"grace_months": "か月", "alert_months": "か月", "medical_consent_hours": "時間", "certificate_max_years": "年", "registration_deadline_days": "日"}
POLICY_VALUE_KEYS = {
    "acquisition": "資格取得", "change": "資格変更", "loss": "資格喪失",
    "insurer": "保険者番号", "insurer_check_digit": "検証番号が必要な場合", "fill": "記号・番号の埋め字",
    "employee": "被用者保険", "kouki": "後期高齢者医療", "kokuho": "国民健康保険",
    "automatic_age": "職権交付", "others": "それ以外の者",
    "annual_end": "毎年の期限日", "certificate_years": "年数", "certificate_until": "全員の期限日", "certificate_to_all": "全員に交付",
    "months_before_end_month": "期限の月の何か月前から", "months_before": "何か月前から", "months_before_grace_end_month": "猶予の終わる月の何か月前から",
    "age_on": "年齢を数える日", "granted": "交付する申請",
}
POLICY_VALUE_WORDS = {
    "printed": "券面記載の日", "none": "交付しない", "without_usable_card": "マイナ保険証を使えない者のみ",
}

# form fields → their Japanese name (errors name the field)
FIELD = {
    "patient_ref": "患者番号（カルテ番号）",
    "presented": "持参したもの",
    "card_serial": "カード番号",
    "identity": "本人確認の方法",
    "device": "機器の状態",
    "birth_date": "生年月日",
    "name": "氏名",
    "kana": "カナ氏名",
    "sex": "性別",
    "relation": "本人・家族",
    "consent": "閲覧への同意",
    "documents": "提示書類の番号",
    "document.insurer_number": "書類の保険者番号",
    "document.symbol": "書類の記号",
    "document.number": "書類の番号",
    "document.branch": "書類の枝番",
    "document.issued": "書類の交付年月日",
    "document.valid_from": "書類の有効開始年月日",
    "document.expires": "書類の有効期限",
    "declared.insurer_number": "申告の保険者番号",
    "declared.symbol": "申告の記号",
    "declared.number": "申告の番号",
    "declared.branch": "申告の枝番",
    "remarks.insurance_kind": "保険種別",
    "remarks.insurer_name": "保険者等名称",
    "remarks.employer": "事業所名",
    "remarks.address": "住所",
    "remarks.phone": "連絡先電話番号",
    "remarks.contacted_on": "患者へ連絡した日",
    # insurer operations
    "request_id": "受付番号",
    "my_number": "個人番号",
    "address": "住所",
    "postcode": "郵便番号",
    "insured_name": "被保険者（世帯主）氏名",
    "symbol": "記号",
    "number": "番号",
    "branch": "枝番",
    "start": "資格取得日",
    "notified": "届出日",
    "income": "所得区分",
    "kouki_ratio": "後期高齢者の負担割合",
    "dv_flag": "DV等支援措置",
    "new_symbol": "新しい記号",
    "new_number": "新しい番号",
    "new_branch": "新しい枝番",
    "end": "資格の最終日",
    "loss_reason": "喪失事由",
    "insurer_number": "保険者番号",
    "api_key": "利用者の鍵",
    "date": "日付",
    "mailing_address": "送付先住所（本人の申出）",
    "mailing_postcode": "送付先の郵便番号",
    # issuance (交付)
    "reason": "申請の理由",
    "serial": "カード番号",
    "cancelled_on": "利用登録解除日",
    "returned_on": "返納日",
    "options.term": "有効期限の決め方",
    "options.annual_end": "毎年の期限日（月-日）",
    "options.certificate_years": "有効期間（年）",
    "options.certificate_until": "全員に共通の有効期限",
    "options.certificate_to_all": "全員に資格確認書を交付",
    "certificate_form": "資格確認書の様式",
    "issuer_name": "交付者名",
    "sender_postcode": "差出人の郵便番号",
    "sender_address": "差出人の住所",
    "phone": "問い合わせ先電話番号",
    "run": "職権交付の実行",
}

# the reasons the domain and the models give, in Japanese (others are shown as given)
_REASONS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(p), ja)
    for p, ja in (
        (r"must contain digits only", "数字で入力してください"),
        (r"must be 8 digits \(6 for 国保\)", "8桁（国保は6桁）で入力してください"),
        (r"has a wrong check digit \(expected (\d)\)", r"検証番号が正しくありません（正しくは \1）"),
        (r"has a wrong check digit", "検証番号が正しくありません"),
        (r"has no valid prefecture code", "都道府県番号が正しくありません"),
        (r"must be 1–2 digits", "1〜2桁の数字で入力してください"),
        (r"must be 12 digits", "12桁の数字で入力してください"),
        (r"must be written in katakana", "カタカナで入力してください"),
        (r"is not a real calendar date", "存在しない日付です"),
        (r"is not a 和暦 date|is not a date|must be a date|Input should be a valid date", "日付として読み取れません（例: 令和8年5月12日、R8.5.12、2026-05-12）"),
        (r"is longer than (\d+) characters|String should have at most (\d+) characters?", "長すぎます"),
        (r"String should match pattern", "使えない文字が含まれています"),
        (r"is after today", "本日より後の日付です"),
        (r"is before the birth date", "生年月日より前です"),
        (r"is more than a year before the start", "資格取得日の1年以上前です"),
        (r"is before the qualification's start", "資格取得日より前です"),
        (r"is not in the resident register", "住民基本台帳に登録されていません"),
        (r"does not match the resident register", "住民基本台帳の情報と一致しません"),
        (r"^unknown insurer", "登録されていない保険者番号です"),
        (r"is required when a card is presented", "カードを提示した場合は入力してください（読み取れない場合を除く）"),
        (r"is required \(it is read from the card", "入力してください（利用登録済みのカードを読み取る場合を除く）"),
        (r"give the numbers on each presented document", "提示された書類の保険者番号・番号を入力してください"),
        (r"already assigned to another member", "この記号・番号・枝番は別の加入者に割り当て済みです"),
        (r"already holds a qualification of insurer", "この方はその日からこの保険者の資格をすでに持っています"),
        (r"was not found", "この保険者の該当する資格が見つかりません"),
        (r"the change carries no new value", "変更する項目を入力してください"),
        (r"is required for a 後期高齢者医療 insurer", "後期高齢者医療では入力してください（1割・2割・3割）"),
        (r"applies only to 後期高齢者医療 insurers", "後期高齢者医療の保険者でのみ入力できます"),
        (r"was already used for a different request", "この受付番号は別の届出に使われています"),
        (r"^is required", "入力してください"),
        (r"^Field required$", "入力してください"),
        (r"is not a month and day|is not a day of every year", "月-日（例 07-31）で入力してください（2月29日は不可）"),
        (r"this application \(same day and reason\) is already recorded", "同じ日・同じ理由の申請はすでに登録されています"),
        (r"no card with this serial is linked", "このカード番号は登録されていません"),
        (r"the card holder is not a member of insurer", "この保険者の加入者のカードではありません"),
        (r"is not registered for insurance use", "健康保険証としての利用登録がされていません"),
        (r"has been replaced or returned|this card was returned|has been replaced", "このカードは更新または返納済みです"),
        (r"Input should be greater than or equal to 1|Input should be less than or equal to 99", "1〜99の年数を入力してください"),
        (r"Input should be|must be one of", "選択肢から選んでください"),
        (r"unknown API key|an API key is required", "鍵が正しくありません"),
    )
)


def reason(text: str) -> str:
    """A field error's reason in Japanese when we know its wording, else as given."""
    for pattern, ja in _REASONS:
        m = pattern.search(text)
        if m:
            return m.expand(ja) if "\\" in ja else ja
    return text


def field_label(path: str) -> str:
    return FIELD.get(path) or FIELD.get(path.rsplit(".", 1)[-1], path)


def verification(method: str | None, result: str | None) -> str:
    """マイナ保険証・有効 / 被保険者番号等・資格情報なし / 照会なし."""
    m = METHOD.get(method or "none", method or "")
    if (method or "none") == "none" or result in (None, "not_queried"):
        return m
    return f"{m}・{RESULT.get(result, result)}"


def ratio(percent: int | None) -> str:
    if percent is None:
        return ""
    return "10割（全額自己負担）" if percent >= 100 else f"{percent // 10}割"
