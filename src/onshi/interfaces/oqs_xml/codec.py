"""Reading and writing the `XmlMsg` files of the facility interface (shared/domain/OQS-XML.md).

Pure: bytes in, bytes out, no database. Reading is hardened — the encoding comes from the
XML declaration (UTF-8 or Shift_JIS, UTF-8 when there is none), DOCTYPE and ENTITY
declarations are refused before the parser sees the document (no XXE, no billion laughs),
the parser itself resolves no entity and loads nothing from the network, and sizes are
capped. Anything wrong raises `XmlError(code)`, which the service answers with a
SegmentOfResult 9 result. Element order never matters: elements are found by name.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator

from lxml import etree

from ...domain import charset
from ...domain.numbers import InsurerNumber
from ...registry.lookup import CardView, LookupResult, PersonView, QualificationView
from . import codes

Element = etree._Element  # noqa: SLF001 - lxml's element type


class XmlError(Exception):
    """The file as a whole cannot be processed (SegmentOfResult 9)."""

    def __init__(self, code: str, detail: str | None = None):
        self.code = code
        self.detail = detail
        base = codes.ERROR_MESSAGES.get(code, "エラー")
        self.message = f"{base}（{detail}）" if detail else base
        super().__init__(f"{code}: {self.message}")


# ---------------------------------------------------------------- half-width kana


def _halfwidth_table() -> dict[str, str]:
    table: dict[str, str] = {}
    singles = [chr(c) for c in range(0xFF61, 0xFFA0)]
    for ch in singles:
        full = unicodedata.normalize("NFKC", ch)
        if len(full) == 1:
            table.setdefault(full, ch)
    for ch in singles:
        for mark in ("\uFF9E", "\uFF9F"):  # ﾞ ﾟ
            full = unicodedata.normalize("NFKC", ch + mark)
            if len(full) == 1 and full not in table:
                table[full] = ch + mark
    # Katakana with no half-width form: the usual substitutes.
    table.update({"ヵ": "ｶ", "ヶ": "ｹ", "ヮ": "ﾜ", "ヰ": "ｲ", "ヱ": "ｴ", "ヷ": "ﾜﾞ", "ヺ": "ｦﾞ", "\u3000": " ", "・": "･"})
    return table


_HALFWIDTH = _halfwidth_table()


_SPACES = re.compile(r"[\s\u3000]+")


def halfwidth_kana(text: str | None) -> str | None:
    """Full-width katakana (the registry's form) → half-width (the OQS result form), family
    and given name separated by one half-width space as public samples show (ﾔﾏﾀﾞ ｶﾞｸ; see
    tests/oqs_golden/README.md). Other characters (● of R-D4, ASCII) pass through."""
    if text is None:
        return None
    return _SPACES.sub(" ", "".join(_HALFWIDTH.get(ch, ch) for ch in text)).strip()


def wire_name(text: str | None) -> str | None:
    """A name as the terminal writes it (Name, NameOfOther, InsuredName): family and given
    name separated by one full-width space, U+3000 (山田　太郎), whatever the registry keeps."""
    if text is None:
        return None
    return _SPACES.sub("\u3000", text).strip("\u3000")


# ---------------------------------------------------------------- reading

_DECLARATION = re.compile(rb"^\s*<\?xml\s[^>]*?\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']{1,40})["']""")
_PARSER = threading.local()


def _parser() -> etree.XMLParser:
    parser = getattr(_PARSER, "parser", None)
    if parser is None:  # lxml parsers are not shared between threads
        parser = etree.XMLParser(
            # huge_tree: a text run over libxml2's 10 MB default is legal within MAX_FILE_BYTES (issue 10).
            # Entities are refused before parsing, the size is bounded, the depth stays capped (2048).
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=True,
            remove_comments=True, remove_pis=True, collect_ids=False,
        )
        _PARSER.parser = parser
    return parser


def decode(data: bytes) -> tuple[str, str]:
    """(text without its XML declaration, "utf-8" | "shift_jis") — trusting the declaration."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte order mark; the declaration must then say UTF-8 (or nothing)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise XmlError(codes.ERROR_ENCODING, "UTF-16")
    declared, start = "utf-8", 0
    m = _DECLARATION.match(data[:300])
    if m:
        start = m.end()
        enc = _ENCODING.search(m.group(0))
        if enc:
            declared = enc.group(1).decode("ascii", "replace").strip().lower()
    codec = codes.DECLARED_ENCODINGS.get(declared)
    if codec is None:
        raise XmlError(codes.ERROR_ENCODING, f"encoding '{declared[:40]}'")
    try:
        text = data[start:].decode(codec)
    except UnicodeDecodeError as exc:
        raise XmlError(codes.ERROR_ENCODING, f"byte {exc.start + start} is not valid {declared}") from None
    return text, ("utf-8" if codec == "utf-8" else "shift_jis")


def declared_encoding(data: bytes) -> str | None:
    """utf-8 | shift_jis as a file's XML declaration names it (None: none we read) — the
    encoding of the error answer to a file that cannot be parsed."""
    m = _DECLARATION.match(data[:300].removeprefix(b"\xef\xbb\xbf"))
    enc = _ENCODING.search(m.group(0)) if m else None
    codec = codes.DECLARED_ENCODINGS.get(enc.group(1).decode("ascii", "replace").strip().lower()) if enc else None
    return None if codec is None else "utf-8" if codec == "utf-8" else "shift_jis"


def parse_document(data: bytes, *, max_bytes: int = codes.MAX_FILE_BYTES) -> tuple[Element, str]:
    """The root `XmlMsg` element (namespaces dropped) and the input encoding."""
    if len(data) > max_bytes:
        raise XmlError(codes.ERROR_TOO_LARGE, f"{len(data):,} bytes > {max_bytes:,}")
    if not data.strip():
        raise XmlError(codes.ERROR_MALFORMED, "empty file")
    text, encoding = decode(data)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise XmlError(codes.ERROR_FORBIDDEN_MARKUP)
    try:
        root = etree.fromstring(text, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlError(codes.ERROR_MALFORMED, f"line {exc.lineno}: {exc.msg}"[:200]) from None
    except ValueError as exc:  # lxml refuses NUL and other characters XML cannot hold
        raise XmlError(codes.ERROR_MALFORMED, str(exc)[:200]) from None
    for el in root.iter():
        if not isinstance(el.tag, str):  # entity references left unresolved and the like
            raise XmlError(codes.ERROR_FORBIDDEN_MARKUP)
        if el.tag.startswith("{"):
            el.tag = etree.QName(el).localname
    if root.tag != "XmlMsg":
        raise XmlError(codes.ERROR_MALFORMED, f"the root element is {root.tag[:40]}, not XmlMsg")
    return root, encoding


def _child(el: Element | None, name: str) -> Element | None:
    return None if el is None else el.find(name)


def _text(el: Element | None, name: str) -> str | None:
    child = _child(el, name)
    return None if child is None else (child.text or "")


@dataclass(frozen=True)
class Header:
    """MessageHeader of a request (values as sent)."""

    confirmation_date: str | None = None  # QualificationConfirmationDate
    facility_code: str | None = None  # MedicalInstitutionCode
    file_identifier: str | None = None  # ArbitraryFileIdentifier
    reference_classification: str | None = None
    reception_number: str | None = None  # ReceptionNumber (bulk, second round trip)
    character_code: str | None = None


@dataclass(frozen=True)
class SearchInfo:
    """QualificationConfirmSearchInfo as sent (raw text, echoed back as it came)."""

    insurer_number: str | None = None
    symbol: str | None = None
    number: str | None = None
    branch: str | None = None
    birth_date: str | None = None
    limit_consent: str | None = None
    arbitrary_identifier: str | None = None

    @property
    def consents(self) -> bool:
        return (self.limit_consent or "").strip() == "1"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Registration:
    """ReferenceNumberRegistrationInfo as sent."""

    reference_number: str | None = None
    insurer_number: str | None = None
    symbol: str | None = None
    number: str | None = None
    branch: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Message:
    encoding: str  # of the input: utf-8 | shift_jis
    header: Header
    searches: list[SearchInfo] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)


SEARCH_FIELDS = {
    "insurer_number": "InsurerNumber", "symbol": "InsuredCardSymbol", "number": "InsuredIdentificationNumber",
    "branch": "InsuredBranchNumber", "birth_date": "Birthdate", "limit_consent": "LimitApplicationCertificateRelatedConsFlg",
    "arbitrary_identifier": "ArbitraryIdentifier",
}
REGISTRATION_FIELDS = {
    "reference_number": "ReferenceNumber", "insurer_number": "InsurerNumber", "symbol": "InsuredCardSymbol",
    "number": "InsuredIdentificationNumber", "branch": "InsuredBranchNumber",
}
HEADER_FIELDS = {
    "confirmation_date": "QualificationConfirmationDate", "facility_code": "MedicalInstitutionCode",
    "file_identifier": "ArbitraryFileIdentifier", "reference_classification": "ReferenceClassification",
    "reception_number": "ReceptionNumber", "character_code": "CharacterCodeIdentifier",
}


def _named(parent: Element | None, name: str) -> Iterator[Element]:
    if parent is None:
        return iter(())
    return (el for el in parent.iter(name))


def parse_request(data: bytes, *, max_bytes: int = codes.MAX_FILE_BYTES, max_entries: int = codes.MAX_BULK_ENTRIES) -> Message:
    """A request file of any kind; the caller decides from the file name what it must hold."""
    root, encoding = parse_document(data, max_bytes=max_bytes)
    head = _child(root, "MessageHeader")
    body = _child(root, "MessageBody")
    header = Header(**{k: _text(head, v) for k, v in HEADER_FIELDS.items()})
    searches, registrations = [], []
    for el in _named(body, "QualificationConfirmSearchInfo"):
        searches.append(SearchInfo(**{k: _text(el, v) for k, v in SEARCH_FIELDS.items()}))
        if len(searches) > max_entries:
            raise XmlError(codes.ERROR_TOO_LARGE, f"more than {max_entries:,} QualificationConfirmSearchInfo")
    for el in _named(body, "ReferenceNumberRegistrationInfo"):
        registrations.append(Registration(**{k: _text(el, v) for k, v in REGISTRATION_FIELDS.items()}))
        if len(registrations) > max_entries:
            raise XmlError(codes.ERROR_TOO_LARGE, f"more than {max_entries:,} ReferenceNumberRegistrationInfo")
    return Message(encoding, header, searches, registrations)


# ---------------------------------------------------------------- writing


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str | None) -> str | None:
    """Echoed input may hold characters XML 1.0 cannot carry; drop them rather than fail."""
    return None if text is None else _XML_ILLEGAL.sub("", text)


def _add(parent: Element, tag: str, text: object = None) -> Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = clean(str(text))
    return el


def _opt(parent: Element, tag: str, text: object) -> None:
    """Add `tag` only when there is a value (absent and empty mean the same to clients)."""
    if text is not None and text != "":
        _add(parent, tag, text)


def fragment(elements: Iterable[Element]) -> str:
    """Elements as text, to be kept (a processed bulk) and spliced into a body by `render`."""
    return "".join(etree.tostring(el, encoding="unicode") for el in elements)


def _mask_text(root: Element, repertoire: str) -> Element:
    for el in root.iter():
        if el.text:
            el.text = charset.mask(el.text, repertoire)
    return root


def render(root: Element, encoding: str = "utf-8", body: str | None = None) -> bytes:
    """Serialise with a declaration in `encoding` (utf-8 | shift_jis). A Shift_JIS file holds
    only what Shift_JIS holds: every other character is ● (R-D4) whatever ONSHI_CHARSET
    says — never a numeric character reference, which clients show as it is. `body`: a
    `fragment` of our own making that becomes the content of the (empty) MessageBody."""
    declared, codec = codes.OUTPUT_ENCODINGS[encoding]
    repertoire = codes.OUTPUT_REPERTOIRES.get(encoding)
    if repertoire:
        _mask_text(root, repertoire)
        if body and not charset.is_representable(body, repertoire):
            wrapper = _mask_text(etree.fromstring(f"<MessageBody>{body}</MessageBody>", _parser()), repertoire)
            body = fragment(wrapper)
    text = etree.tostring(root, encoding="unicode")
    if body:
        text = text.replace("<MessageBody/>", f"<MessageBody>{body}</MessageBody>", 1)
    head = f'<?xml version="1.0" encoding="{declared}" standalone="yes"?>\n'
    return (head + text).encode(codec)  # strict: after the mask everything is representable


def message(header: dict[str, object], body: Iterable[Element] | None = None) -> Element:
    """XmlMsg with MessageHeader (elements with a None value left out) and MessageBody."""
    root = etree.Element("XmlMsg")
    head = _add(root, "MessageHeader")
    for tag, value in header.items():
        _opt(head, tag, value)
    body_el = _add(root, "MessageBody")
    for child in body or ():
        body_el.append(child)
    return root


def _as_date(text: str | None) -> str | None:
    """A request's yyyyMMdd when it is one (echoed in an error file), else None."""
    text = (text or "").strip()
    try:
        return text if len(text) == 8 and dt.datetime.strptime(text, codes.DATE) else None
    except ValueError:
        return None


def result_header(
    request: Header | None,
    *,
    encoding: str,
    segment: str,
    reference_classification: str | None = None,
    facility_code: str | None = None,
    as_of: dt.date | None = None,
    error: tuple[str, str] | None = None,
    now: dt.datetime,
    extra: dict[str, object] | None = None,
) -> dict[str, object]:
    """Every MessageHeader element a client parses before it looks at SegmentOfResult
    (OQS-XML.md): present in every answer, error files included."""
    request = request or Header()
    requested_class = (request.reference_classification or "").strip()
    values: dict[str, object] = {
        "ProcessExecutionTime": now.strftime(codes.TIMESTAMP),
        "QualificationConfirmationDate": codes.date_code(as_of) or _as_date(request.confirmation_date) or now.strftime(codes.DATE),
        "MedicalInstitutionCode": facility_code or clean(request.facility_code),
        "ArbitraryFileIdentifier": clean(request.file_identifier),
        "ReferenceClassification": reference_classification
        or (requested_class if requested_class in (codes.REFERENCE_CARD, codes.REFERENCE_NUMBERS) else codes.REFERENCE_NUMBERS),
        "SegmentOfResult": segment,
    }
    values.update(extra or {})
    if error:
        values["ErrorCode"], values["ErrorMessage"] = error
    values["CharacterCodeIdentifier"] = codes.CHARSET_CODES[encoding]
    return values


def search_info_element(info: SearchInfo, tag: str = "QualificationConfirmSearchInfo") -> Element:
    el = etree.Element(tag)
    for key, name in SEARCH_FIELDS.items():
        value = getattr(info, key)
        if value is not None:
            _add(el, name, clean(value))
    return el


def registration_element(info: Registration) -> Element:
    el = etree.Element("ReferenceNumberRegistrationInfo")
    for key, name in REGISTRATION_FIELDS.items():
        value = getattr(info, key)
        if value is not None:
            _add(el, name, clean(value))
    return el


def _postcode(value: str | None) -> str | None:
    if not value:
        return None
    digits = value.replace("-", "")
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else value


def qualification_element(
    q: QualificationView,
    person: PersonView,
    *,
    limit_consent: bool,
    consent_time: dt.datetime | None = None,
    reference_number: str | None = None,
) -> Element:
    """ResultOfQualificationConfirmation of one qualification, every element of OQS-XML.md
    that the registry has a value for (codes.py for every code; README "Facility
    interfaces" says where each value comes from)."""
    el = etree.Element("ResultOfQualificationConfirmation")
    _add(el, "InsuredCardClassification", q.card_classification)
    _add(el, "InsurerNumber", InsurerNumber(q.insurer_number).padded)
    _opt(el, "InsuredCardSymbol", q.symbol)
    _add(el, "InsuredIdentificationNumber", q.number)
    _opt(el, "InsuredBranchNumber", q.branch)
    _add(el, "PersonalFamilyClassification", codes.RELATION_CODES.get(q.relation, "1"))
    if q.relation == "family":
        _opt(el, "InsuredName", wire_name(q.insured_name))
    _opt(el, "InsurerName", q.insurer_name)
    _add(el, "Name", wire_name(person.name))  # ● masked by the registry (R-D4)
    _add(el, "NameKana", halfwidth_kana(person.kana))
    _add(el, "Sex1", codes.SEX_CODES.get(person.sex, "3"))
    _add(el, "Birthdate", codes.date_code(person.birth_date))
    if person.address is not None:  # None for DV-flagged members (R-D5): no Address, no PostNumber
        _add(el, "Address", person.address)
        _opt(el, "PostNumber", _postcode(person.postcode))
    _add(el, "QualificationDate", codes.date_code(q.start))
    if q.end is not None:
        _add(el, "DisqualificationDate", codes.date_code(codes.disqualification_date(q.end)))
        _opt(el, "ReasonOfLoss", q.loss_reason)
    # What the patient holds for this qualification: the 資格確認書's dates, else the qualification's.
    _opt(el, "InsuredCertificateIssuanceDate", codes.date_code(q.certificate_issued))
    _add(el, "InsuredCardValidDate", codes.date_code(q.certificate_valid_from or q.start))
    _opt(el, "InsuredCardExpirationDate", codes.date_code(q.certificate_valid_to))
    if q.kouki:  # R-P4: the 広域連合's ratio
        _add(el, "InsuredPartialContributionRatio", codes.percent_code(q.copay_percent))
    if q.preschool:  # R-P1
        _add(el, "PreschoolClassification", codes.PRESCHOOL)
    if q.elderly:  # R-P3: 高齢受給者 — only the first element has "Certificate" in its name
        info = _add(el, "ElderlyRecipientCertificateInfo")
        _opt(info, "ElderlyRecipientCertificateDate", codes.date_code(q.elderly_issued))
        _add(info, "ElderlyRecipientValidStartDate", codes.date_code(q.elderly_start))
        _add(info, "ElderlyRecipientValidEndDate", codes.date_code(q.elderly_end))
        _add(info, "ElderlyRecipientContributionRatio", codes.percent_code(q.copay_percent))
    _add(el, "LimitApplicationCertificateRelatedConsFlg", "1" if limit_consent else "0")
    if limit_consent and consent_time is not None:
        _add(el, "LimitApplicationCertificateRelatedConsTime", consent_time.strftime(codes.TIMESTAMP))
    if q.limit_category:  # only present with consent
        info = _add(el, "LimitApplicationCertificateRelatedInfo")
        _add(info, "LimitApplicationCertificateClassification", codes.limit_certificate(q.limit_category))
        _add(info, "LimitApplicationCertificateClassificationFlag", q.limit_category)
        _opt(info, "LimitApplicationCertificateDate", codes.date_code(q.limit_issued))
        _opt(info, "LimitApplicationCertificateValidStartDate", codes.date_code(q.limit_start))
        _opt(info, "LimitApplicationCertificateValidEndDate", codes.date_code(q.limit_end))
    _opt(el, "ReferenceNumber", reference_number)
    return el


def _card_notice(card: CardView | None) -> tuple[str, str] | None:
    for alert in card.alerts if card else ():
        if alert in codes.CARD_NOTICES:
            return codes.CARD_NOTICES[alert]
    return None


def status_elements(error: tuple[str, str] | None) -> list[Element]:
    """ProcessingResultStatus (and on error ProcessingResultCode / ProcessingResultMessage)."""
    out = []
    for tag, text in (("ProcessingResultStatus", codes.STATUS_ERROR if error else codes.STATUS_OK),
                      *((("ProcessingResultCode", error[0]), ("ProcessingResultMessage", error[1])) if error else ())):
        el = etree.Element(tag)
        el.text = clean(text)
        out.append(el)
    return out


def outcome_elements(
    result: LookupResult | None,
    *,
    error: tuple[str, str] | None = None,
    reference_number=None,  # noqa: ANN001 - callable(QualificationView) -> str | None
    wrap_list: bool = True,
    now: dt.datetime | None = None,
) -> list[Element]:
    """ProcessingResultStatus … ResultList of one lookup (or of an inquiry that failed with
    `error` = (ProcessingResultCode, message)). `wrap_list` False gives the bulk form:
    ResultOfQualificationConfirmation elements directly, then ReferenceNumber. `now`: when
    the answer is made — the time of the 限度額 consent given with the request."""
    out: list[Element] = []

    def simple(tag: str, text: str) -> None:
        el = etree.Element(tag)
        el.text = clean(text)
        out.append(el)

    if error is None and result is not None and result.validity is None:  # the card could not be used
        error = (codes.CARD_ERROR_CODES.get(result.error or "", "EC999"), result.error_message or "カードを利用できません")
    if error is not None:
        return status_elements(error)
    assert result is not None
    simple("ProcessingResultStatus", codes.STATUS_OK)
    notice = _card_notice(result.card)
    if notice:
        simple("ProcessingResultCode", notice[0])
        simple("ProcessingResultMessage", notice[1])
    simple("QualificationValidity", codes.VALIDITY_CODES[result.validity])
    quals = [q for q in (result.qualification, *result.others) if q is not None]
    if quals and result.person is not None:
        refs = [reference_number(q) if reference_number else None for q in quals]
        elements = [qualification_element(q, result.person, limit_consent=result.limit_consent, consent_time=now, reference_number=r)
                    for q, r in zip(quals, refs)]
        if wrap_list:
            result_list = etree.Element("ResultList")
            result_list.extend(elements)
            out.append(result_list)
        else:
            out.extend(elements)
            if refs[0]:
                simple("ReferenceNumber", refs[0])
    return out


# ---------------------------------------------------------------- requests (clients, tests, the benchmark)


def _request_header(facility_code: str, *, as_of: dt.date | None, file_identifier: str | None, encoding: str, extra: dict | None = None) -> dict:
    values: dict[str, object] = {
        "QualificationConfirmationDate": codes.date_code(as_of),
        "MedicalInstitutionCode": facility_code,
        "ArbitraryFileIdentifier": file_identifier,
    }
    values.update(extra or {})
    values["CharacterCodeIdentifier"] = codes.CHARSET_CODES[encoding]
    return values


def inquiry_request(
    facility_code: str,
    searches: Iterable[SearchInfo],
    *,
    as_of: dt.date | None = None,
    file_identifier: str | None = None,
    encoding: str = "utf-8",
    reference_classification: str = codes.REFERENCE_NUMBERS,
) -> bytes:
    """OQSsiquc01req (one SearchInfo) or OQSmuquc01req (many)."""
    header = _request_header(facility_code, as_of=as_of, file_identifier=file_identifier, encoding=encoding,
                             extra={"ReferenceClassification": reference_classification})
    return render(message(header, [search_info_element(s) for s in searches]), encoding)


def reception_request(facility_code: str, reception_number: str, *, file_identifier: str | None = None, encoding: str = "utf-8") -> bytes:
    """OQSmuquc02req / OQSmuimm02req: the result of a bulk request by its ReceptionNumber."""
    header = _request_header(facility_code, as_of=None, file_identifier=file_identifier, encoding=encoding, extra={"ReceptionNumber": reception_number})
    return render(message(header), encoding)


def registration_request(facility_code: str, registrations: Iterable[Registration], *, file_identifier: str | None = None, encoding: str = "utf-8") -> bytes:
    """OQSsiimm01req (one) or OQSmuimm01req (many)."""
    header = _request_header(facility_code, as_of=None, file_identifier=file_identifier, encoding=encoding)
    return render(message(header, [registration_element(r) for r in registrations]), encoding)


# ---------------------------------------------------------------- reading results (clients, tests)

REPEATED = {"ResultOfQualificationConfirmation", "BulkConfirmUnit", "QualificationConfirmSearchInfo", "ReferenceNumberRegistrationInfo", "BulkRegistrationUnit"}


def to_dict(el: Element) -> dict:
    """An element's children as a dict: text for leaves, dicts for groups, lists for the
    elements that repeat (REPEATED). Order-free, as the clients read results."""
    out: dict = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        value = to_dict(child) if len(child) else (child.text or "")
        if child.tag in REPEATED:
            out.setdefault(child.tag, []).append(value)
        else:
            out[child.tag] = value
    return out


def read_result(data: bytes) -> dict:
    """{"header": {...}, "body": {...}, "encoding": ...} of a result file."""
    root, encoding = parse_document(data)
    head = _child(root, "MessageHeader")
    body = _child(root, "MessageBody")
    return {"encoding": encoding, "header": to_dict(head) if head is not None else {}, "body": to_dict(body) if body is not None else {}}
