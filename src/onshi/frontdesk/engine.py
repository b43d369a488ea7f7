"""RULES section F as code. Every branch cites the rule that decides it.

The engine never reads a database: lookups go through a `LookupPort`, which on a case file
evaluates an in-memory registry and on the server the live one (both through
registry.lookup's single implementation), and dated values come from the policy snapshot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from ..domain import copay
from ..domain.numbers import InsurerNumber, is_unknown_insurer
from ..domain.frozen import quick_init
from ..domain.wareki import format_wareki
from ..policy import Entry, Snapshot
from ..registry.lookup import LookupResult, QualificationRow, Validity

CARD_KINDS = ("my_number_card", "smartphone")
DEVICE_STATES = ("ok", "reader_failure", "network_error", "chip_unreadable")
IDENTITIES = ("face", "pin", "visual", "none")
DOCUMENT_KINDS = ("my_number_card", "smartphone", "eligibility_certificate", "notice", "portal_screen", "insurance_card")
BASES = ("current", "document", "declared", "lost", "past_record", "unknown", "self_pay")
ACTIONS = (
    "remind_valid_proof", "declaration_form", "unknown_claim_remarks", "confirm_latest_qualification", "check_certificate_dates",
    "renew_certificate", "visual_check", "reimbursement", "follow_up_contact",
)


@quick_init
@dataclass(frozen=True)
class Facility:
    online: bool = True  # false: a paper-claim facility without online verification (R-T4)
    smartphone: bool = False  # smartphone verification set up (A2)
    mobile_consent: bool = False  # 居宅同意取得型 on a mobile device (R-C5)


@quick_init
@dataclass(frozen=True)
class Visit:
    date: dt.date
    facility: Facility = Facility()
    presented: frozenset[str] = frozenset({"insurance_card"})
    device: str = "ok"
    identity: str = "face"
    consent: bool = True
    patient_knows_numbers: bool = False
    past_visit: str | None = None


@quick_init
@dataclass(frozen=True)
class Document:
    """A document the patient holds, with the qualification whose numbers it shows."""

    kind: str
    qualification: QualificationRow | None
    issued: dt.date | None = None  # 交付年月日
    expires: dt.date | None = None  # 有効終了年月日
    valid_from: dt.date | None = None  # 有効開始年月日 (None: from the issue date)

    def within_dates(self, day: dt.date) -> bool:
        first = self.valid_from or self.issued
        return (self.issued is None or self.issued <= day) and (first is None or first <= day) and (self.expires is None or day <= self.expires)


@quick_init
@dataclass(frozen=True)
class CertificateDates:
    """The dates of the certificate a visit was decided on (R-A3): the registry's answer —
    the same InsuredCertificateIssuanceDate / InsuredCardValidDate / InsuredCardExpirationDate
    the terminal writes — or, when the registry has none (R-A3b, offline), the presented one's."""

    source: str  # registry | presented
    issued: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    kind: str | None = "eligibility_certificate"  # None: the registry holds none, the dates are the qualification's

    def text(self) -> str:
        def w(day: dt.date | None) -> str:
            return format_wareki(day) if day else "記載なし"

        period = f"{w(self.valid_from)}〜{w(self.valid_to) if self.valid_to else ''}"
        if self.kind is None:
            return f"資格確認書の登録なし、資格の期間 {period}"
        return f"交付年月日 {w(self.issued)}、有効期間 {period}"


@quick_init
@dataclass(frozen=True)
class Patient:
    """What the desk can learn from the patient (besides the online lookups)."""

    birth_date: dt.date
    sex: int | None = None
    name: str | None = None
    kana: str | None = None
    address: str | None = None
    card_serial: str | None = None  # the card the reader would read
    insurance_card_user: bool = False  # the card is (or was, R-B4) registered for insurance use: a マイナ保険証
    documents: tuple[Document, ...] = ()
    declared: QualificationRow | None = None  # the current numbers the patient can tell (R-C2 A)
    past_record: QualificationRow | None = None  # this facility's own records (R-C2 B)

    def document(self, kind: str, day: dt.date | None = None) -> Document | None:
        """The patient's document of that kind — one within its dates on `day` if there is one."""
        found = [d for d in self.documents if d.kind == kind]
        if day is not None:
            found.sort(key=lambda d: not d.within_dates(day))
        return found[0] if found else None


class LookupPort(Protocol):
    def by_card(self, serial: str, *, identity: str, day: dt.date, method: str) -> LookupResult: ...

    def by_numbers(self, qualification: QualificationRow, birth_date: dt.date, day: dt.date) -> LookupResult: ...


@dataclass
class Claim:
    basis: str
    qualification: QualificationRow | None = None
    insurer: str | None = None  # the number the claim carries (77777777 for 不詳)
    insurer_name: str | None = None


@dataclass
class Decision:
    visit: Visit
    patient: Patient
    insured: bool
    copay_percent: int
    claim: Claim
    verification_method: str = "none"
    verification_result: str = "not_queried"
    medical_info: bool = False
    actions: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    sources: dict[str, Entry] = field(default_factory=dict)  # rule → the dated entry applied
    lookups: list[LookupResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why, in Japanese, step by step
    certificate: CertificateDates | None = None  # R-A3: the certificate's dates the desk relied on

    @property
    def copay_ratio(self) -> float:
        return copay.as_ratio(self.copay_percent)

    @property
    def first_lookup(self) -> LookupResult | None:
        return self.lookups[0] if self.lookups else None


class _Desk:
    """One decision in the making: records lookups, rules, actions and notes as it goes."""

    def __init__(self, visit: Visit, patient: Patient, port: LookupPort, policy: Snapshot):
        self.visit, self.patient, self.port, self.policy = visit, patient, port, policy
        self.day = visit.date
        self.lookups: list[LookupResult] = []
        self.method, self.result = "none", "not_queried"
        self.rules: list[str] = []
        self.actions: list[str] = []
        self.alerts: list[str] = []
        self.notes: list[str] = []
        self.sources: dict[str, Entry] = {}
        self.medical_info = False
        self.certificate_dates: CertificateDates | None = None

    # -------------------------------------------------------- bookkeeping

    def cite(self, *rules: str) -> None:
        for r in rules:
            if r not in self.rules:
                self.rules.append(r)

    def act(self, *actions: str) -> None:
        for a in actions:
            if a not in self.actions:
                self.actions.append(a)

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def online(self) -> bool:
        """F.1: no query is possible at a paper-claim facility or on a network failure."""
        return self.visit.facility.online and self.visit.device != "network_error"

    def _first(self, method: str, result: LookupResult) -> None:
        """The verification reported is the visit's first lookup that answered with a validity;
        a card the system refused (past grace, R-B4) counts only when nothing else answered."""
        self.lookups.append(result)
        if self.method == "none" or (self.result == "not_queried" and result.validity is not None):
            self.method = method
            self.result = result.validity.value if result.validity else "not_queried"

    def by_card(self, serial: str, method: str) -> LookupResult:
        result = self.port.by_card(serial, identity=self.visit.identity, day=self.day, method=method)
        self._first(method, result)
        return result

    def by_numbers(self, qualification: QualificationRow) -> LookupResult:
        result = self.port.by_numbers(qualification, self.patient.birth_date, self.day)
        self._first("number_inquiry", result)
        return result

    # -------------------------------------------------------- outcomes

    def copay_for(self, q: QualificationRow) -> int:
        """F.4: from the qualification the claim uses and the age that day (R-P1–P4)."""
        try:
            kouki = InsurerNumber(q.insurer_number).is_kouki
        except ValueError:
            kouki = False
        ratio = q.kouki_ratio / 100 if q.kouki_ratio else None
        return copay.copay_percent(self.patient.birth_date, self.day, kouki=kouki, income=q.income, kouki_ratio=ratio)

    def finish(self, insured: bool, percent: int, claim: Claim) -> Decision:
        return Decision(
            visit=self.visit, patient=self.patient, insured=insured, copay_percent=percent, claim=claim, verification_method=self.method,
            verification_result=self.result, medical_info=self.medical_info, actions=self.actions, alerts=self.alerts,
            rules=self.rules, sources=self.sources, lookups=self.lookups, notes=self.notes, certificate=self.certificate_dates,
        )

    def insured_on(self, basis: str, q: QualificationRow, percent: int | None = None) -> Decision:
        return self.finish(True, percent if percent is not None else self.copay_for(q), Claim(basis, q, q.insurer_number, q.insurer_name or None))

    def current(self, result: LookupResult) -> Decision:
        q = result.qualification
        row = QualificationRow(
            id=q.id, insurer_number=q.insurer_number, symbol=q.symbol, number=q.number, branch=q.branch, relation=q.relation,
            start=q.start, end=q.end, registered=None, insurer_name=q.insurer_name, income=q.income, kouki_ratio=q.kouki_ratio,
        )
        return self.insured_on("current", row, q.copay_percent)

    def self_pay(self, why: str) -> Decision:
        """R-T2: nothing valid to show — 10割, reimbursement from the insurer, bring proof next time."""
        self.cite("R-T2")
        self.act("reimbursement", "remind_valid_proof")
        self.note(why)
        return self.finish(False, copay.SELF_PAY, Claim("self_pay"))

    def unknown(self) -> Decision:
        """R-C2 C: 不詳 — the declaration form, 7s in every digit (R-E8), the remarks of R-E1."""
        numbers = self.policy.unknown_numbers
        self.cite("R-E1", "R-E8")
        self.act("declaration_form", "unknown_claim_remarks", "follow_up_contact")  # R-E3: contact after the visit
        self.note(f"過去の資格も受診歴もないため、被保険者資格申立書を記入いただき不詳レセプト（保険者番号 {numbers['insurer']}）で請求します。")
        birth = self.patient.birth_date
        kouki = self.day >= copay.kouki_start(birth)  # F.4: the age rule; 後期 without its ratio → 1割
        percent = copay.copay_percent(birth, self.day, kouki=kouki)
        return self.finish(True, percent, Claim("unknown", None, numbers["insurer"]))

    # -------------------------------------------------------- F.2 a card is presented

    def card_unreadable_reason(self, kind: str) -> str | None:
        f, v = self.visit.facility, self.visit
        if not f.online:
            return "paper_facility"
        if v.device == "network_error":
            return "network_error"
        if v.device == "chip_unreadable":
            return "chip_unreadable"
        if v.device == "reader_failure" and not f.mobile_consent:
            return "reader_failure"
        if kind == "smartphone" and not f.smartphone:
            return "smartphone_unsupported"
        if v.identity == "none":
            return "identity"
        return None

    def with_card(self, kind: str) -> Decision:
        reason = self.card_unreadable_reason(kind)
        lost: QualificationRow | None = None
        if reason is None:
            if self.visit.device == "reader_failure":
                self.cite("R-C5")
                self.note("受付のカードリーダーが故障しているため、居宅同意取得型のモバイル端末でカードを読み取ります。")
            if self.visit.identity == "visual":
                self.cite("R-C4")
                self.act("visual_check")
                self.note("顔認証・暗証番号の代わりに目視確認モードで本人確認をします。")
            result = self.by_card(self.patient.card_serial or "", kind)
            self.card_alerts(result)
            if result.validity is Validity.VALID:
                self.cite("R-D1")
                self.medical_info = result.medical_info_available and self.visit.consent  # R-D7
                if self.medical_info:
                    self.cite("R-D7")
                self.note("マイナ保険証で有効な資格を確認しました。返された資格で受付します。")
                return self.current(result)
            if result.error in ("card_not_found", "not_registered", "card_revoked"):
                # Not a マイナ保険証 after all: the card proves nothing for insurance (R-C3).
                self.note("このカードは健康保険証として利用登録されていないため、マイナ保険証として扱えません。")
                self.cite("R-C3")
                return self.without_card()
            if result.error in ("cert_expired", "card_expired"):
                self.cite("R-B4", "R-D3")
                self.act("renew_certificate")
                self.note("電子証明書（またはカード）の有効期限から猶予期間が過ぎているため、カードで資格確認できません。市区町村での更新と、更新後の利用登録をご案内ください。")
            elif result.validity is Validity.INVALID:
                lost = QualificationRow(
                    id=result.qualification.id, insurer_number=result.qualification.insurer_number, symbol=result.qualification.symbol,
                    number=result.qualification.number, branch=result.qualification.branch, relation=result.qualification.relation,
                    start=result.qualification.start, end=result.qualification.end, registered=None,
                    insurer_name=result.qualification.insurer_name, income=result.qualification.income, kouki_ratio=result.qualification.kouki_ratio,
                )
                self.note("照会結果は「資格無効」です（喪失済みの資格が表示されました）。")
            else:
                self.cite("R-D3")
                self.note("照会結果は「資格情報なし」です。")
        else:
            self.note(UNREADABLE_NOTES[reason])
            if reason == "paper_facility":
                self.cite("R-T4")
            elif reason == "smartphone_unsupported":
                self.cite("A2")
            elif reason == "identity":
                self.cite("R-C4")
                self.act("visual_check")
        return self.card_fallback(lost)

    def card_alerts(self, result: LookupResult) -> None:
        """R-B2/R-B3: the reader's alerts, and a request to renew."""
        if result.card is None:
            return
        for alert in result.card.alerts:
            if alert not in self.alerts:
                self.alerts.append(alert)
        if result.card.alerts:
            self.act("renew_certificate")
            self.cite("R-B2" if result.card.in_grace else "R-B3")
            self.note(
                "電子証明書等の有効期限が切れています（猶予期間中のため資格情報のみ確認でき、薬剤情報等は閲覧できません）。更新をご案内ください。"
                if result.card.in_grace
                else "電子証明書等の有効期限が3か月以内に迫っています。市区町村での更新をご案内ください。"
            )

    def card_fallback(self, lost: QualificationRow | None) -> Decision:
        """R-C2 in order — A: a document with the card (R-C1) or the numbers the patient tells;
        B: the ended qualification of a 資格無効 result (R-D2) or this facility's records;
        C: 不詳. Always the normal copay (3割 etc.), never 10割."""
        self.cite("R-C2")
        certificate = self.patient.document("eligibility_certificate", self.day)
        if certificate is not None and "eligibility_certificate" in self.visit.presented and certificate.qualification and certificate.within_dates(self.day):
            self.note("併せて提示された資格確認書は単独で有効なため、資格確認書で受付します。")
            return self.certificate(certificate)
        for kind in ("notice", "portal_screen"):
            doc = self.patient.document(kind, self.day)
            if kind in self.visit.presented and doc is not None and doc.qualification is not None:
                self.cite("R-C1")
                if not self.visit.facility.online:
                    self.cite("R-T4")
                label = "資格情報のお知らせ" if kind == "notice" else "マイナポータルの資格情報画面"
                self.note(f"マイナ保険証と併せて提示された{label}の被保険者番号等で請求します。")
                return self.insured_on("document", doc.qualification)
        if self.visit.patient_knows_numbers and self.patient.declared is not None:
            self.note("患者から現在の被保険者番号等を聞き取り、その番号で請求します。")
            return self.insured_on("declared", self.patient.declared)
        if lost is not None:
            self.cite("R-D2")
            self.act("confirm_latest_qualification")
            self.note("喪失済みの資格で請求します。審査時に新しい保険者の登録があれば振替、なければ一度返戻され、登録後に再請求します。")
            return self.insured_on("lost", lost)
        if self.patient.past_record is not None:
            self.cite("R-E5")
            self.note("当院の受診歴にある過去の資格（旧資格）で請求します。不詳レセプトにはしません。")
            return self.insured_on("past_record", self.patient.past_record)
        return self.unknown()

    # -------------------------------------------------------- F.3 no card

    def without_card(self) -> Decision:
        presented = self.visit.presented
        if "eligibility_certificate" in presented:
            cert = self.patient.document("eligibility_certificate", self.day)
            if cert is not None and cert.within_dates(self.day):
                return self.certificate(cert)
            if cert is not None:
                self.note("資格確認書の有効期限が切れています。期限切れの資格確認書は暫定的な取扱いの対象外です。")
                self.cite("A3")
        card = self.patient.document("insurance_card", self.day)
        if "insurance_card" in presented and card is not None and card.expires is not None and card.expires >= self.day:
            self.cite("A6")
            self.note("有効期限内の健康保険証です。")
            return self.certificate(card)
        interim = []
        if "insurance_card" in presented and card is not None:
            interim.append(("expired_insurance_card", card))
        notice = self.patient.document("notice", self.day)
        if "notice" in presented and notice is not None:
            interim.append(("notice_only", notice))
        if interim:
            return self.interim(interim)
        if "portal_screen" in presented:
            self.cite("A5")
            return self.self_pay("マイナポータルの資格情報画面だけでは資格を証明できません。")
        return self.self_pay("有効な書類（マイナ保険証・資格確認書）の提示がありません。")

    def certificate(self, doc: Document) -> Decision:
        """R-A3: a 資格確認書 (or an unexpired old card) is checked online when possible;
        offline it counts on its own inside its dates."""
        q = doc.qualification
        if q is None:
            return self.self_pay("書類から被保険者番号等が読み取れません。")
        presented = CertificateDates("presented", doc.issued, doc.valid_from or doc.issued, doc.expires)
        if not self.online:
            self.cite("A3")
            if not self.visit.facility.online:
                self.cite("R-T4")
            self.certificate_dates = presented
            self.note("オンラインで照会できないため、有効期限内の資格確認書に記載の番号で受付します。")
            return self.insured_on("document", q)
        result = self.by_numbers(q)
        if result.validity is Validity.VALID:
            self.cite("R-A3a")
            v = result.qualification
            self.certificate_dates = CertificateDates("registry", v.certificate_issued, v.certificate_valid_from, v.certificate_valid_to, v.certificate_kind)
            self.note(f"資格確認書の番号で照会し、有効な資格を確認しました（照会結果：{self.certificate_dates.text()}）。")
            return self.current(result)
        if result.validity in (Validity.INVALID, Validity.INVALID_NEW):
            self.cite("R-A3c")
            self.act("confirm_latest_qualification")
            self.note("照会結果は「資格無効」です。最新の資格を患者に確認し、喪失した資格のまま受診させないでください。")
            if self.visit.patient_knows_numbers and self.patient.declared is not None:
                self.note("患者から聞き取った現在の被保険者番号等で請求します。")
                return self.insured_on("declared", self.patient.declared)
            self.cite("R-C3")
            return self.self_pay("最新の資格がわからず、マイナ保険証の提示もないため、喪失済みの資格や不詳での請求はできません。")
        self.cite("R-A3b")
        self.act("check_certificate_dates")
        self.certificate_dates = presented
        dates = f"（{presented.text()}）" if doc.issued or doc.expires else ""
        self.note(f"照会結果は「資格情報なし」です（保険者の登録が未了、または個人番号が未登録の可能性）。資格確認書の交付日・有効期限{dates}を確認し、期限内のため記載の番号で受付します。")
        return self.insured_on("document", q)

    def interim(self, candidates: list[tuple[str, Document]]) -> Decision:
        """R-T1 inside its periods: query by numbers, insured if valid; else R-T2."""
        applicable = []
        for kind, doc in candidates:
            if doc.qualification is None:
                continue
            entry = self.policy.interim(kind, _insurer_kind(doc.qualification.insurer_number))
            if entry is not None:
                applicable.append((kind, doc, entry))
        if not applicable:
            what = "期限切れの健康保険証" if candidates[0][0] == "expired_insurance_card" else "資格情報のお知らせ"
            return self.self_pay(f"{what}だけでは資格を証明できず、この日は暫定的な取扱い（R-T1）の期間外です。")
        if not self.online:
            return self.self_pay("暫定的な取扱いには被保険者番号等によるオンライン照会が必要ですが、照会できません。")
        for kind, doc, entry in applicable:
            result = self.by_numbers(doc.qualification)
            if result.validity is Validity.VALID:
                self.cite("R-T1")
                self.sources["R-T1"] = entry
                self.act("remind_valid_proof")
                what = "期限切れの健康保険証" if kind == "expired_insurance_card" else "資格情報のお知らせ"
                until = format_wareki(entry.end, with_seireki=True) if entry.end else "当面"
                self.note(f"{what}の番号で照会し有効な資格を確認したため、暫定的な取扱いにより通常の負担で受付します（{until}まで）。次回はマイナ保険証か資格確認書の持参をお願いしてください。")
                return self.current(result)
        if result.validity in (Validity.INVALID, Validity.INVALID_NEW):
            self.act("confirm_latest_qualification")
        return self.self_pay("番号で照会しましたが有効な資格を確認できなかったため、暫定的な取扱いは適用されません。")


UNREADABLE_NOTES = {
    "paper_facility": "オンライン資格確認を導入していない施設のため、カードを読み取れません。",
    "network_error": "ネットワーク障害のため、オンラインで資格確認できません。",
    "chip_unreadable": "カードのICチップが読み取れません。",
    "reader_failure": "カードリーダーの故障のため、カードを読み取れません。",
    "smartphone_unsupported": "この施設ではスマホ保険証の読み取りに対応していません。",
    "identity": "顔認証・暗証番号による本人確認ができていません。目視確認モードをお試しください。",
}


def _insurer_kind(number: str) -> str:
    try:
        return InsurerNumber(number).kind
    except ValueError:
        return "other"


def decide(visit: Visit, patient: Patient, port: LookupPort, policy: Snapshot) -> Decision:
    """The desk's decision for one visit (RULES F.1–F.5)."""
    desk = _Desk(visit, patient, port, policy)
    for kind in CARD_KINDS:
        if kind in visit.presented and patient.insurance_card_user:
            return desk.with_card(kind)
    if any(k in visit.presented for k in CARD_KINDS):
        desk.note("提示されたマイナンバーカードは健康保険証として利用登録されていません。")
        desk.cite("R-C3")
    return desk.without_card()


__all__ = ["CertificateDates", "Decision", "Document", "Facility", "LookupPort", "Patient", "Visit", "decide", "is_unknown_insurer"]
