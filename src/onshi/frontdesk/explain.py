"""The decision as the case files' JSON, with a Japanese explanation for the clerk: what
to charge, how to claim, what to tell the patient, and each cited rule with its source."""

from __future__ import annotations

from ..domain import copay
from ..domain.numbers import KIND_LABELS, InsurerNumber
from ..policy import Policy
from .engine import Decision

ACTION_TEXT = {
    "remind_valid_proof": "次回からはマイナ保険証か資格確認書を必ずお持ちいただくようお伝えください。",
    "declaration_form": "被保険者資格申立書に記入していただいてください。",
    "unknown_claim_remarks": "不詳レセプトの摘要欄に、不詳・カナ氏名・保険種別・保険者名・事業所名・住所・連絡先電話番号・連絡日を記載してください。",
    "follow_up_contact": "後日、患者から被保険者番号等の連絡がなければ当院から連絡し、連絡した日を記録してください。",
    "confirm_latest_qualification": "転職・退職・転居などで加入している保険が変わっていないか、最新の資格を患者に確認してください。",
    "check_certificate_dates": "資格確認書に記載の交付年月日と有効期限を確認してください。",
    "renew_certificate": "マイナンバーカードの電子証明書（またはカード）の有効期限が近い・切れています。お住まいの市区町村で更新するようお伝えください（猶予期間を過ぎると健康保険証の利用登録をやり直す必要があります）。",
    "visual_check": "目視確認モードで、カードの顔写真とご本人を見比べて本人確認をしてください。",
    "reimbursement": "今回は全額（10割）をお支払いいただき、後日、加入している保険者に療養費の支給を申請できることをお伝えください。",
}
BASIS_LABEL = {
    "current": "オンライン資格確認で有効と確認した資格",
    "document": "提示された書類に記載の被保険者番号等",
    "declared": "患者から聞き取った現在の被保険者番号等",
    "lost": "喪失済みの資格（資格無効の照会結果に表示された資格）",
    "past_record": "当院の受診歴にある過去の資格",
    "unknown": "不詳レセプト",
    "self_pay": "自費（保険請求なし）",
}
REMARK_ITEMS = ("不詳", "カナ氏名", "保険種別", "保険者名", "事業所名", "住所", "連絡先電話番号", "連絡日")


def _ratio_text(percent: int) -> str:
    return "10割（全額自己負担）" if percent >= 100 else f"{percent // 10}割"


def to_json(decision: Decision, policy: Policy, *, explained: bool = True) -> dict:
    """The case-file output (CASES.md) plus copay_percent, explanation and citations (without
    the certificate, explanation, citations and 不詳 remarks when not `explained`)."""
    claim = decision.claim
    q = claim.qualification
    rules = list(decision.rules)
    rule_for_copay = copay_rule(decision)
    if rule_for_copay and rule_for_copay not in rules:
        rules.append(rule_for_copay)
    out = {
        "date": decision.visit.date.isoformat(),
        "insured": decision.insured,
        "copay_ratio": decision.copay_ratio,
        "copay_percent": decision.copay_percent,
        "claim": {
            "basis": claim.basis,
            "qualification": None if q is None else q.id,
            "insurer": claim.insurer,
            "insurer_name": claim.insurer_name,
            "symbol": None if q is None else q.symbol,
            "number": None if q is None else q.number,
            "branch": None if q is None else q.branch,
            "relation": None if q is None else q.relation,
        },
        "verification": {"method": decision.verification_method, "result": decision.verification_result},
        "medical_info": decision.medical_info,
        "actions": list(decision.actions),
        "alerts": list(decision.alerts),
        "rules": rules,
    }
    if not explained:
        return out
    if decision.certificate is not None:  # R-A3: the certificate's dates the desk relied on
        c = decision.certificate
        out["certificate"] = {"source": c.source, "kind": c.kind, **{k: d.isoformat() if d else None for k, d in
                                                      (("issued", c.issued), ("valid_from", c.valid_from), ("valid_to", c.valid_to))}}
    out["explanation"] = explanation(decision, claim)
    out["citations"] = citations(rules, decision, policy)
    if claim.basis == "unknown":
        out["unknown_claim_remarks"] = unknown_remarks(decision)
    return out


def copay_rule(decision: Decision) -> str | None:
    """Which of R-P1–P4 set the ratio (None for self-pay)."""
    if not decision.insured:
        return None
    day, birth_date = decision.visit.date, decision.patient.birth_date
    q = decision.claim.qualification
    kouki = False
    if q is not None:
        try:
            kouki = InsurerNumber(q.insurer_number).is_kouki
        except ValueError:
            kouki = False
    if kouki or (decision.claim.basis == "unknown" and day >= copay.kouki_start(birth_date)):
        return "R-P4"
    if copay.is_preschool(birth_date, day):
        return "R-P1"
    if day < copay.elderly_start(birth_date):
        return "R-P2"
    return "R-P3"


def _kind_label(number: str) -> str:
    try:
        return KIND_LABELS.get(InsurerNumber(number).kind, "")
    except ValueError:
        return ""


def explanation(decision: Decision, claim) -> dict:  # noqa: ANN001
    insurer = f"{claim.insurer_name or _kind_label(claim.insurer)}（保険者番号 {claim.insurer}）" if claim.insurer else ""
    if claim.basis == "self_pay":
        claim_text = "保険請求はできません。今回は自費（10割）です。"
    elif claim.basis == "unknown":
        claim_text = f"不詳レセプトとして、保険者番号 {claim.insurer}、記号・番号を「7」で埋めて請求し、摘要欄に不詳の記載事項を記入します。"
    else:
        claim_text = f"{BASIS_LABEL[claim.basis]}で請求します：{insurer}".rstrip("：")
        if claim.qualification is not None:
            q = claim.qualification
            parts = [f"記号 {q.symbol}" if q.symbol else "", f"番号 {q.number}", f"枝番 {q.branch}" if q.branch else ""]
            claim_text += "、" + "・".join(p for p in parts if p)
        if claim.basis == "lost":
            claim_text += "。審査時に新しい保険者の資格が登録されていれば振替、なければ一度返戻となり、登録後に再請求します"
        claim_text += "。"
    summary = ("保険診療" if decision.insured else "自費") + f"：窓口負担は{_ratio_text(decision.copay_percent)}"
    return {
        "summary": summary,
        "charge": f"窓口負担は{_ratio_text(decision.copay_percent)}です。" + ("" if decision.insured else "10割を求めるのは有効な書類が何もない場合だけです。"),
        "claim": claim_text,
        "tell_patient": [ACTION_TEXT[a] for a in decision.actions if a in ACTION_TEXT],
        "steps": list(decision.notes),
        "medical_info": "薬剤情報・特定健診情報等を閲覧できます（本人の同意あり）。" if decision.medical_info else "薬剤情報等は閲覧できません。",
    }


def citations(rules: list[str], decision: Decision, policy: Policy) -> list[dict]:
    out = []
    for rule in rules:
        item = {"rule": rule, "title": policy.title(rule), "sources": policy.seeds(rule)}
        entry = decision.sources.get(rule)
        if entry is not None:
            item["notice"] = {
                "title": entry.source.title,
                "date": entry.source.date.isoformat() if entry.source.date else None,
                "issuer": entry.source.issuer,
                "seed": entry.source.seed,
                "in_force": {"from": entry.start.isoformat(), "to": entry.end.isoformat() if entry.end else None},
                "note": entry.note,
                "citation": entry.source.cite(),
            }
        out.append(item)
    return out


def unknown_remarks(decision: Decision) -> list[dict]:
    """R-E1: what the 不詳 claim's remarks must hold, with what is already known."""
    patient = decision.patient
    known = {"不詳": "不詳", "カナ氏名": patient.kana, "住所": patient.address}
    return [{"item": item, "value": known.get(item), "required": True} for item in REMARK_ITEMS]


__all__ = ["ACTION_TEXT", "KIND_LABELS", "to_json"]
