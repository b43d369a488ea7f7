"""Lookups by card and by numbers (RULES F.1): the single implementation.

Every interface (JSON API, XML terminal, FHIR, reception pages, the front-desk engine on a
case file) answers through `evaluate_card` / `evaluate_numbers`. They are pure: they take
the rows a *source* fetched and the day, and apply the rules. A source is the database
(`SqlSource`, one indexed query per lookup) or an in-memory registry built from a case file
(`MemorySource`); both return every qualification of the person with its `registered` date,
and the evaluation decides what the central system could see that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import orjson
from enum import Enum
from typing import Iterable, Protocol

from ..domain import charset, copay
from ..domain.card import CardPolicy, card_status
from ..domain.frozen import quick_init
from ..domain.numbers import insurer_kind


class Validity(str, Enum):
    """QualificationValidity of OQS-XML.md."""

    VALID = "valid"  # 1 有効
    INVALID = "invalid"  # 2 無効
    INVALID_NEW = "invalid_new"  # 3 無効（新しい資格あり）
    NOT_FOUND = "not_found"  # 4 該当資格なし（資格情報なし）
    MULTIPLE = "multiple"  # 5 複数該当

    @property
    def code(self) -> str:
        return VALIDITY_CODES[self]

    @property
    def label(self) -> str:
        return VALIDITY_LABELS[self]


VALIDITY_CODES = {Validity.VALID: "1", Validity.INVALID: "2", Validity.INVALID_NEW: "3", Validity.NOT_FOUND: "4", Validity.MULTIPLE: "5"}
VALIDITY_LABELS = {
    Validity.VALID: "有効",
    Validity.INVALID: "無効",
    Validity.INVALID_NEW: "無効（新しい資格あり）",
    Validity.NOT_FOUND: "該当資格なし",
    Validity.MULTIPLE: "複数該当",
}

# Why a card could not be used at the reader (the lookup then has no validity).
CARD_ERRORS = {
    "card_not_found": "このカードは登録されていません",
    "card_revoked": "このカードは廃止（再交付等）されています",
    "identity_not_verified": "本人確認（顔認証・暗証番号・目視確認）ができていません",
    "not_registered": "健康保険証利用登録がされていません",
    "cert_expired": "電子証明書の有効期限が切れ、猶予期間も過ぎています",
    "card_expired": "マイナンバーカードの有効期限が切れ、猶予期間も過ぎています",
}
IDENTITY_METHODS = ("face", "pin", "visual")
# Documents that stand for the qualification on their own and carry its dates (A3, A6): what the
# terminal returns as InsuredCertificateIssuanceDate / InsuredCardValidDate / InsuredCardExpirationDate.
CERTIFICATE_KINDS = ("eligibility_certificate", "insurance_card")


# ---------------------------------------------------------------- rows from a source


@quick_init
@dataclass(frozen=True)
class PersonRow:
    """The individual. In the registry the name, address and DV flag are each insurer's own
    (on its QualificationRow); a case file's person carries them here instead."""

    id: int | str
    name: str
    kana: str
    birth_date: dt.date
    sex: int
    address: str | None = None
    postcode: str | None = None
    dv_flag: bool = False


@quick_init
@dataclass(frozen=True)
class DocumentRow:
    """A document the insurer issued for a qualification (資格確認書, old card)."""

    id: int | str
    kind: str  # eligibility_certificate | insurance_card (CERTIFICATE_KINDS)
    issued: dt.date | None  # 交付年月日
    valid_from: dt.date | None = None  # 有効開始年月日; None: from the issue date
    expires: dt.date | None = None  # 有効終了年月日; None: no end printed

    @property
    def first_day(self) -> dt.date | None:
        return self.valid_from or self.issued

    def valid_on(self, day: dt.date) -> bool:
        first = self.first_day
        return (self.issued is None or self.issued <= day) and (first is None or first <= day) and (self.expires is None or day <= self.expires)


@quick_init
@dataclass(frozen=True)
class QualificationRow:
    id: int | str
    insurer_number: str
    symbol: str
    number: str
    branch: str
    relation: str
    start: dt.date
    end: dt.date | None
    registered: dt.date | None
    insurer_name: str = ""
    insured_name: str | None = None
    card_classification: str = "01"
    loss_reason: str | None = None
    income: str = "general"
    kouki_ratio: int | None = None  # percent
    limit_category: str | None = None
    limit_start: dt.date | None = None
    limit_end: dt.date | None = None
    limit_issued: dt.date | None = None
    documents: tuple[DocumentRow, ...] = ()  # the certificates issued for it (CERTIFICATE_KINDS)
    # What this insurer asserts about the member (None: not held here, the person's is used).
    name: str | None = None
    kana: str | None = None
    address: str | None = None
    postcode: str | None = None
    dv_flag: bool = False  # R-D5 / R-I3e, as this insurer set it

    def visible_on(self, day: dt.date) -> bool:
        """F.1: the central system knows a qualification from the day it was registered."""
        return self.registered is not None and self.registered <= day

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)

    def ended_by(self, day: dt.date) -> bool:
        return self.end is not None and self.end < day


@quick_init
@dataclass(frozen=True)
class CardRow:
    serial: str
    issued: dt.date
    card_expires: dt.date
    cert_expires: dt.date
    insurance_registered: dt.date | None
    revoked: dt.date | None = None


@quick_init
@dataclass(frozen=True)
class PersonRecord:
    """A person with every qualification the insurers hold (registered or not)."""

    person: PersonRow
    qualifications: tuple[QualificationRow, ...]
    matched: tuple[QualificationRow, ...] = ()  # by numbers: the qualifications that matched


class Source(Protocol):
    def by_card(self, serial: str) -> tuple[CardRow, PersonRecord] | None: ...

    def by_numbers(self, insurer: str, symbol: str | None, number: str, branch: str | None, birth_date: dt.date) -> list[PersonRecord]: ...


# ---------------------------------------------------------------- the answer


@quick_init
@dataclass(frozen=True)
class PersonView:
    id: int | str
    name: str  # ● masked (R-D4)
    kana: str
    birth_date: dt.date
    sex: int
    address: str | None  # None for DV-flagged members (R-D5)
    postcode: str | None


@quick_init
@dataclass(frozen=True)
class QualificationView:
    id: int | str
    insurer_number: str
    insurer_name: str
    symbol: str
    number: str
    branch: str
    relation: str
    insured_name: str | None
    card_classification: str
    start: dt.date
    end: dt.date | None
    loss_reason: str | None
    income: str
    kouki: bool
    kouki_ratio: int | None
    copay_percent: int  # R-P1–P4 on the day of the lookup
    preschool: bool
    elderly: bool  # 高齢受給者 (70–74)
    limit_category: str | None  # only with consent
    limit_start: dt.date | None
    limit_end: dt.date | None
    copay_ratio: float  # copay_percent / 100 (0.1, 0.2, 0.3)
    # What the patient holds for this qualification (held_document), else the qualification itself.
    certificate_kind: str | None = None  # eligibility_certificate | insurance_card; None: the qualification's dates
    certificate_issued: dt.date | None = None  # 交付年月日 (InsuredCertificateIssuanceDate)
    certificate_valid_from: dt.date | None = None  # 有効開始年月日 (InsuredCardValidDate)
    certificate_valid_to: dt.date | None = None  # 有効終了年月日 (InsuredCardExpirationDate)
    # 高齢受給者 (70–74, R-P3): the period of this qualification in which they are one, and the
    # issue date of the 資格確認書 that carries the ratio (None: none held).
    elderly_issued: dt.date | None = None
    elderly_start: dt.date | None = None
    elderly_end: dt.date | None = None
    limit_issued: dt.date | None = None  # only with consent


@quick_init
@dataclass(frozen=True)
class CardView:
    serial: str
    card_expires: dt.date
    cert_expires: dt.date
    in_grace: bool  # R-B2: qualification data only
    alerts: tuple[str, ...]  # cert_expiring card_expiring cert_grace card_grace (R-B3)
    cert_grace_end: dt.date
    card_grace_end: dt.date


@quick_init
@dataclass(frozen=True)
class LookupResult:
    method: str  # card | numbers
    as_of: dt.date
    validity: Validity | None  # None when the card could not be used (see error)
    validity_code: str | None  # QualificationValidity of OQS-XML.md
    validity_label: str | None
    error: str | None = None  # a CARD_ERRORS key
    error_message: str | None = None
    person: PersonView | None = None
    qualification: QualificationView | None = None  # the qualification returned
    others: tuple[QualificationView, ...] = ()  # further valid ones (several insurers)
    card: CardView | None = None
    identity: str | None = None
    medical_info_available: bool = False  # R-D7: card read, identity verified, outside grace
    limit_consent: bool = False
    person_id: int | str | None = None  # internal id, for the verification log

    @property
    def confirmed(self) -> bool:
        return self.validity is Validity.VALID

    def to_json(self) -> bytes:
        return orjson.dumps(self)

    def to_dict(self) -> dict:
        """JSON-ready form (dates as ISO strings) shared by the API and the CLI."""
        return orjson.loads(orjson.dumps(self))


def _result(method: str, day: dt.date, validity: Validity | None, *, error: str | None = None, **kw) -> LookupResult:  # noqa: ANN003
    return LookupResult(
        method=method,
        as_of=day,
        validity=validity,
        validity_code=VALIDITY_CODES[validity] if validity else None,
        validity_label=VALIDITY_LABELS[validity] if validity else None,
        error=error,
        error_message=CARD_ERRORS.get(error) if error else None,
        **kw,
    )


# ---------------------------------------------------------------- the rules


def dv_protected(record: PersonRecord) -> bool:
    """R-D5: a flag set by any insurer, on any of its qualifications (ended, not yet
    registered), protects the person's address everywhere until that insurer lifts it."""
    if record.person.dv_flag:
        return True
    for q in record.qualifications:
        if q.dv_flag:
            return True
    return False


def _person_view(record: PersonRecord, shown: QualificationRow | None, repertoire: str | None) -> PersonView:
    """The person as the insurer of the qualification shown asserts them (else the newest
    qualification's insurer): one insurer's data, never a mix."""
    p = record.person
    source = shown or next(iter(_newest(record.qualifications)), None)
    q = source if source is not None and source.name is not None else None
    hidden = dv_protected(record)
    address, postcode = (q.address, q.postcode) if q is not None else (p.address, p.postcode)
    return PersonView(
        id=p.id,
        name=charset.mask(q.name if q is not None else p.name, repertoire),  # R-D4
        kana=charset.mask(q.kana if q is not None else p.kana, repertoire),
        birth_date=p.birth_date,
        sex=p.sex,
        address=None if hidden else charset.mask(address, repertoire),  # R-D5
        postcode=None if hidden else postcode,
    )


def held_document(q: QualificationRow, day: dt.date) -> DocumentRow | None:
    """The 資格確認書 (or, before the old cards expired, the 健康保険証) the member holds for `q`
    on `day` — valid that day, or for a qualification that has ended, on its last day. The
    newest when several are (a renewal); None when the member holds none (a マイナ保険証 user)."""
    ref = q.end if q.end is not None and q.end < day else day
    valid = [d for d in q.documents if d.kind in CERTIFICATE_KINDS and d.valid_on(ref)]
    if len(valid) < 2:
        return valid[0] if valid else None
    return max(valid, key=lambda d: (d.first_day or dt.date.min, d.issued or dt.date.min, d.kind == "eligibility_certificate", str(d.id)))


def _qualification_view(q: QualificationRow, person: PersonRow, day: dt.date, limit_consent: bool, repertoire: str | None) -> QualificationView:
    kouki = insurer_kind(q.insurer_number) == "kouki"  # InsurerNumber.is_kouki, remembered per number
    percent = copay.copay_percent(
        person.birth_date, day, kouki=kouki, income=q.income, kouki_ratio=(q.kouki_ratio / 100 if q.kouki_ratio else None)
    )
    show_limit = limit_consent and q.limit_category is not None
    held = held_document(q, day)
    elderly = not kouki and copay.is_elderly_recipient(person.birth_date, day)
    last_elderly_day = copay.kouki_start(person.birth_date) - dt.timedelta(days=1) if elderly else None
    return QualificationView(
        id=q.id,
        insurer_number=q.insurer_number,
        insurer_name=q.insurer_name,
        symbol=q.symbol,
        number=q.number,
        branch=q.branch,
        relation=q.relation,
        insured_name=charset.mask(q.insured_name, repertoire),
        card_classification=q.card_classification,
        start=q.start,
        end=q.end,
        loss_reason=q.loss_reason,
        income=q.income,
        kouki=kouki,
        kouki_ratio=q.kouki_ratio if kouki else None,
        copay_percent=percent,
        preschool=copay.is_preschool(person.birth_date, day),
        elderly=elderly,
        limit_category=q.limit_category if show_limit else None,
        limit_start=q.limit_start if show_limit else None,
        limit_end=q.limit_end if show_limit else None,
        copay_ratio=copay.as_ratio(percent),
        certificate_kind=held.kind if held else None,
        certificate_issued=held.issued if held else None,
        certificate_valid_from=held.first_day if held and held.first_day else q.start,
        certificate_valid_to=held.expires if held else q.end,
        elderly_issued=held.issued if elderly and held and held.kind == "eligibility_certificate" else None,
        elderly_start=max(copay.elderly_start(person.birth_date), q.start) if elderly else None,
        elderly_end=(min(last_elderly_day, q.end) if q.end else last_elderly_day) if elderly else None,
        limit_issued=q.limit_issued if show_limit else None,
    )


def _newest(quals: Iterable[QualificationRow]) -> list[QualificationRow]:
    quals = list(quals)
    if len(quals) < 2:  # most people: one qualification
        return quals
    return sorted(quals, key=lambda q: (q.start, q.end or dt.date.max, str(q.id)), reverse=True)


def evaluate_card(
    found: tuple[CardRow, PersonRecord] | None,
    day: dt.date,
    *,
    identity: str = "face",
    limit_consent: bool = False,
    policy: CardPolicy = CardPolicy(),
    repertoire: str | None = None,
) -> LookupResult:
    """F.1 by card: a registered qualification covering the day → 有効; else the newest
    registered one that has ended → 無効 (returned with it); else 該当資格なし. The card must be
    usable that day: identity verified (R-C4), registered for insurance use, inside both
    grace periods (R-B2, R-B4)."""
    if found is None:
        return _result("card", day, None, error="card_not_found", identity=identity, limit_consent=limit_consent)
    card_row, record = found
    status = card_status(
        day,
        card_expires=card_row.card_expires,
        cert_expires=card_row.cert_expires,
        insurance_registered=card_row.insurance_registered,
        policy=policy,
    )
    card = CardView(card_row.serial, card_row.card_expires, card_row.cert_expires, status.in_grace, status.alerts,
                    status.cert_grace_end, status.card_grace_end)
    person = record.person
    error = None
    if card_row.revoked is not None and card_row.revoked <= day:
        error = "card_revoked"
    elif identity not in IDENTITY_METHODS:
        error = "identity_not_verified"
    elif not status.usable:
        error = status.reason
    if error is not None:
        return _result("card", day, None, error=error, identity=identity, limit_consent=limit_consent, card=card, person_id=person.id)
    medical = not status.in_grace  # R-D7, R-B2: no medical information in grace
    visible = [q for q in record.qualifications if q.visible_on(day)]
    covering = _newest([q for q in visible if q.covers(day)])
    if covering:
        quals = [_qualification_view(q, person, day, limit_consent, repertoire) for q in covering]
        shown, validity, others = covering[0], Validity.VALID, tuple(quals[1:])
    else:
        ended = _newest([q for q in visible if q.ended_by(day)])
        if ended:
            quals = [_qualification_view(ended[0], person, day, limit_consent, repertoire)]
            shown, validity, others = ended[0], Validity.INVALID, ()
        else:
            quals, others = [None], ()
            shown, validity = next(iter(_newest(visible)), None), Validity.NOT_FOUND
    return LookupResult(
        method="card", as_of=day, validity=validity, validity_code=VALIDITY_CODES[validity], validity_label=VALIDITY_LABELS[validity],
        person=_person_view(record, shown, repertoire), qualification=quals[0], others=others, card=card, identity=identity,
        medical_info_available=medical, limit_consent=limit_consent, person_id=person.id,
    )


def evaluate_numbers(
    records: list[PersonRecord],
    day: dt.date,
    *,
    limit_consent: bool = False,
    repertoire: str | None = None,
) -> LookupResult:
    """F.1 by numbers (保険者番号 + 記号 + 番号 + 枝番 + birth date): the matching registered
    qualification covers the day → 有効; it has ended and the person has another registered
    one covering the day → 無効（新しい資格あり）; it has ended → 無効; no match → 該当資格なし.
    Number inquiries never give medical information (R-D7)."""
    hits: list[tuple[PersonRecord, QualificationRow]] = []
    for record in records:
        visible = [q for q in record.matched if q.visible_on(day) and q.start <= day]
        if visible:
            # Several periods on the same numbers: the one covering the day, else the newest.
            covering = [q for q in visible if q.covers(day)]
            hits.append((record, _newest(covering or visible)[0]))
    if not hits:
        return _result("numbers", day, Validity.NOT_FOUND, limit_consent=limit_consent)
    if len({r.person.id for r, _ in hits}) > 1:
        return _result("numbers", day, Validity.MULTIPLE, limit_consent=limit_consent)
    record, match = hits[0]
    person = record.person
    if match.covers(day):
        validity = Validity.VALID
    else:
        newer = [q for q in record.qualifications if q.visible_on(day) and q.covers(day) and q.id != match.id]
        validity = Validity.INVALID_NEW if newer else Validity.INVALID
    return _result(
        "numbers", day, validity, person=_person_view(record, match, repertoire),
        qualification=_qualification_view(match, person, day, limit_consent, repertoire),
        person_id=person.id, limit_consent=limit_consent,
    )


# ---------------------------------------------------------------- an in-memory source


@dataclass
class MemorySource:
    """A registry held in memory (a case file's person, a test's fixture)."""

    people: list[tuple[PersonRecord, list[CardRow]]] = field(default_factory=list)

    def add(self, person: PersonRow, qualifications: Iterable[QualificationRow], cards: Iterable[CardRow] = ()) -> None:
        self.people.append((PersonRecord(person, tuple(qualifications)), list(cards)))

    def by_card(self, serial: str) -> tuple[CardRow, PersonRecord] | None:
        for record, cards in self.people:
            for c in cards:
                if c.serial == serial:
                    return c, record
        return None

    def by_numbers(self, insurer: str, symbol: str | None, number: str, branch: str | None, birth_date: dt.date) -> list[PersonRecord]:
        out = []
        for record, _cards in self.people:
            if record.person.birth_date != birth_date:
                continue
            matched = tuple(
                q
                for q in record.qualifications
                if q.insurer_number == insurer
                and q.number == number
                and (symbol is None or q.symbol == symbol)
                and (branch is None or q.branch == branch)
            )
            if matched:
                out.append(replace(record, matched=matched))
        return out
