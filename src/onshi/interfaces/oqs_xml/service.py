"""Answering the facility XML requests: one function per message, shared by the folder
terminal (terminal.py) and HTTP (http.py), so that both give the same answers.

Lookups go through the registry's single implementation (`Registry.lookup_by_numbers` /
`lookup_by_card`, which also log every verification); this module only maps their
`LookupResult` to the wire format (codec.py, codes.py).

Errors, in two levels:
- the file as a whole cannot be processed (malformed, forbidden markup, too large, wrong
  encoding, facility mismatch, unknown 受付番号…): SegmentOfResult 9 with ErrorCode /
  ErrorMessage in the header;
- one inquiry or registration is invalid (a bad field, an unknown insurer, a card that
  cannot be used): SegmentOfResult 1 and, for that inquiry, ProcessingResultStatus 2 with
  ProcessingResultCode / ProcessingResultMessage naming the element.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass

from lxml import etree

from ... import config
from ...domain.dates import parse_date
from ...domain.errors import InputError
from ...registry.lookup import LookupResult
from ...registry.reference import DONE, FAILED, BulkRequest, BulkRequests, ReferenceIndex, ReferenceNumbers, parse_reference_entry
from ...registry.service import Registry, parse_number_query
from . import codec, codes
from .codec import Header, Message, Registration, SearchInfo, XmlError

log = logging.getLogger("onshi.oqs_xml")

# The registry's field names → the XML elements a vendor sees in an error message.
XML_FIELDS = {
    "insurer_number": "InsurerNumber", "symbol": "InsuredCardSymbol", "number": "InsuredIdentificationNumber",
    "branch": "InsuredBranchNumber", "birth_date": "Birthdate", "reference_number": "ReferenceNumber",
}
ENCODINGS = ("same", "utf-8", "shift_jis")


def _error_message(exc: InputError) -> str:
    return "; ".join(f"{XML_FIELDS.get(e.field, e.field)}: {e.reason}" for e in exc.errors)[:500]


@dataclass(frozen=True)
class Answer:
    body: bytes
    status: int = 200  # for HTTP: 403 facility mismatch, 413 too large, else 200
    queued: bool = False  # a bulk request was stored: call `process_pending()`
    error: str | None = None  # the ErrorCode of a SegmentOfResult 9 answer

    @property
    def charset(self) -> str:
        return "Shift_JIS" if self.body[:60].find(b'encoding="Shift_JIS"') >= 0 else "UTF-8"


class OqsService:
    def __init__(self, registry: Registry, *, encoding: str = "same"):
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")
        self.registry = registry
        self.encoding = encoding
        self.references = ReferenceNumbers(registry.engine, registry.reader)
        self.bulks = BulkRequests(registry.engine)

    # ------------------------------------------------------------ entry point

    def answer(self, prefix: str, data: bytes, facility_code: str) -> Answer:
        """The answer to request `prefix` (a codes.REQUEST_PREFIXES) from `facility_code`."""
        handlers = {
            codes.SINGLE_INQUIRY: self._single_inquiry,
            codes.BULK_INQUIRY: self._bulk_receive,
            codes.BULK_INQUIRY_RESULT: self._bulk_result,
            codes.REFERENCE_NUMBER: self._single_registration,
            codes.BULK_REFERENCE_NUMBER: self._bulk_receive,
            codes.BULK_REFERENCE_NUMBER_RESULT: self._bulk_result,
        }
        header: Header | None = None
        encoding = self.output_encoding(codec.declared_encoding(data))
        try:
            msg = codec.parse_request(data)
            header, encoding = msg.header, self.output_encoding(msg.encoding)
            claimed = (msg.header.facility_code or "").strip()
            if claimed and claimed != facility_code:
                raise XmlError(codes.ERROR_FACILITY, f"{claimed[:10]} ≠ {facility_code}")
            if prefix in codes.UNSUPPORTED_PREFIXES:
                raise XmlError(codes.ERROR_UNSUPPORTED)
            return handlers[prefix](prefix, msg, facility_code, encoding)
        except XmlError as exc:
            status = {codes.ERROR_FACILITY: 403, codes.ERROR_TOO_LARGE: 413}.get(exc.code, 200)
            return Answer(self.error_file(header, encoding, exc, facility_code), status, error=exc.code)

    def error_file(self, header: Header | None, encoding: str, exc: XmlError, facility_code: str | None = None) -> bytes:
        """SegmentOfResult 9 with ErrorCode / ErrorMessage, the whole header (clients parse it
        before they look at SegmentOfResult) and a body that says the same
        (ProcessingResultStatus 2, ProcessingResultCode / ProcessingResultMessage)."""
        claimed = ((header.facility_code if header else None) or "").strip()
        values = codec.result_header(
            header, encoding=encoding, segment=codes.SEGMENT_ABNORMAL,
            facility_code=claimed if re.fullmatch(r"\d{10}", claimed) else facility_code,
            error=(exc.code, exc.message), now=self._now(),
        )
        return codec.render(codec.message(values, codec.status_elements((exc.code, exc.message))), encoding)

    def output_encoding(self, request_encoding: str | None) -> str:
        if self.encoding == "same":
            return request_encoding or "utf-8"
        return self.encoding

    @staticmethod
    def _now() -> dt.datetime:
        return config.now().astimezone(config.JST)

    @staticmethod
    def _as_of(header: Header) -> dt.date:
        text = (header.confirmation_date or "").strip()
        if not text:
            return config.today()
        try:
            day = parse_date(text, "QualificationConfirmationDate")
        except InputError:
            raise XmlError(codes.ERROR_HEADER, "QualificationConfirmationDate must be yyyyMMdd") from None
        if day > config.today():
            raise XmlError(codes.ERROR_HEADER, "QualificationConfirmationDate is in the future")
        return day

    # ------------------------------------------------------------ lookups

    def _inquire(self, search: SearchInfo, facility_code: str, as_of: dt.date) -> tuple[LookupResult | None, tuple[str, str] | None]:
        """One number inquiry through the registry (logged there), or the error to answer."""
        try:
            query = parse_number_query(search.insurer_number, search.symbol, search.number, search.branch, search.birth_date)
        except InputError as exc:
            return None, (codes.RESULT_INPUT, _error_message(exc))
        try:
            return self.registry.lookup_by_numbers(facility_code, query, day=as_of, limit_consent=search.consents, channel="xml"), None
        except InputError as exc:
            code = codes.RESULT_UNKNOWN_INSURER if any(e.field == "insurer_number" for e in exc.errors) else codes.RESULT_INPUT
            return None, (code, _error_message(exc))

    def _reference_finder(self, facility_code: str, index: ReferenceIndex | None = None):  # noqa: ANN202
        if index is not None:
            return lambda q: index.find(q.insurer_number, q.symbol, q.number, q.branch)
        return lambda q: self.references.find(facility_code, q.insurer_number, q.symbol, q.number, q.branch)

    def _single_inquiry(self, _prefix: str, msg: Message, facility_code: str, encoding: str) -> Answer:
        if len(msg.searches) != 1:
            raise XmlError(codes.ERROR_BODY, f"one QualificationConfirmSearchInfo expected, {len(msg.searches)} found")
        as_of = self._as_of(msg.header)
        search = msg.searches[0]
        result, error = self._inquire(search, facility_code, as_of)
        now = self._now()
        body = codec.outcome_elements(result, error=error, reference_number=self._reference_finder(facility_code), now=now)
        body.append(codec.search_info_element(search))
        values = codec.result_header(
            msg.header, encoding=encoding, segment=codes.SEGMENT_NORMAL, reference_classification=codes.REFERENCE_NUMBERS,
            facility_code=facility_code, as_of=as_of, now=now,
        )
        return Answer(codec.render(codec.message(values, body), encoding))

    def card_verification(
        self,
        facility_code: str,
        serial: str,
        *,
        identity: str = "face",
        as_of: dt.date | None = None,
        limit_consent: bool = False,
        method: str = "my_number_card",
        encoding: str | None = None,
    ) -> tuple[LookupResult, bytes]:
        """A card read at the reader: the lookup (logged by the registry) and the
        OQSsiquc01res_face file a terminal writes for it. A bad serial raises InputError."""
        result = self.registry.lookup_by_card(
            facility_code, serial, identity=identity, day=as_of, limit_consent=limit_consent, method=method, channel="xml"
        )
        return result, self.face_file(facility_code, result, encoding=encoding)

    def face_file(self, facility_code: str, result: LookupResult, *, encoding: str | None = None) -> bytes:
        """The OQSsiquc01res_face file for a card lookup already made (e.g. at the reception page)."""
        encoding = encoding or self.output_encoding(None)
        now = self._now()
        values = codec.result_header(
            None, encoding=encoding, segment=codes.SEGMENT_NORMAL, reference_classification=codes.REFERENCE_CARD,
            facility_code=facility_code, as_of=result.as_of, now=now,
        )
        body = codec.outcome_elements(result, reference_number=self._reference_finder(facility_code), now=now)
        return codec.render(codec.message(values, body), encoding)

    # ------------------------------------------------------------ 照会番号

    def _registration(self, info: Registration):  # noqa: ANN202
        try:
            return parse_reference_entry(info.reference_number, info.insurer_number, info.symbol, info.number, info.branch), None
        except InputError as exc:
            return None, (codes.RESULT_REFERENCE_INPUT, _error_message(exc))

    def _single_registration(self, _prefix: str, msg: Message, facility_code: str, encoding: str) -> Answer:
        if len(msg.registrations) != 1:
            raise XmlError(codes.ERROR_BODY, f"one ReferenceNumberRegistrationInfo expected, {len(msg.registrations)} found")
        info = msg.registrations[0]
        entry, error = self._registration(info)
        if entry is not None:
            self.references.register(facility_code, [entry])
        body = codec.status_elements(error) + [codec.registration_element(info)]
        values = codec.result_header(msg.header, encoding=encoding, segment=codes.SEGMENT_NORMAL, facility_code=facility_code, now=self._now())
        return Answer(codec.render(codec.message(values, body), encoding))

    # ------------------------------------------------------------ bulk (two round trips)

    def _bulk_receive(self, prefix: str, msg: Message, facility_code: str, encoding: str) -> Answer:
        """OQSmuquc01req / OQSmuimm01req: store, answer with a 受付番号 and 処理中."""
        inquiry = prefix == codes.BULK_INQUIRY
        entries = msg.searches if inquiry else msg.registrations
        if not entries:
            raise XmlError(codes.ERROR_BODY, "QualificationConfirmSearchInfo expected" if inquiry else "ReferenceNumberRegistrationInfo expected")
        as_of = self._as_of(msg.header) if inquiry else None
        payload = {"header": asdict(msg.header), "entries": [e.to_dict() for e in entries]}
        reception = self.bulks.create(facility_code, "inquiry" if inquiry else "registration", payload, len(entries), as_of)
        log.info("bulk %s %s from %s: %d entries", prefix, reception, facility_code, len(entries))
        values = codec.result_header(
            msg.header, encoding=encoding, segment=codes.SEGMENT_PROCESSING, facility_code=facility_code, as_of=as_of, now=self._now(),
            reference_classification=codes.REFERENCE_NUMBERS if inquiry else None,
            extra={"ReceptionNumber": reception, "NumberOfProcessingResult": len(entries)},
        )
        return Answer(codec.render(codec.message(values), encoding), queued=True)

    def _bulk_result(self, prefix: str, msg: Message, facility_code: str, encoding: str) -> Answer:
        """OQSmuquc02req / OQSmuimm02req: 処理中 until processed, then every unit and the counts."""
        reception = (msg.header.reception_number or "").strip()
        if not reception:
            raise XmlError(codes.ERROR_HEADER, "ReceptionNumber is required")
        kind = "inquiry" if prefix == codes.BULK_INQUIRY_RESULT else "registration"
        bulk = self.bulks.get(reception[:20], facility_code)
        if bulk is None or bulk.kind != kind:
            raise XmlError(codes.ERROR_RECEPTION, reception[:20])
        if bulk.status == FAILED:
            raise XmlError(codes.ERROR_INTERNAL, reception)
        extra: dict[str, object] = {"ReceptionNumber": bulk.reception_number, "NumberOfProcessingResult": bulk.entries}
        if bulk.status != DONE:
            values = codec.result_header(msg.header, encoding=encoding, segment=codes.SEGMENT_PROCESSING, facility_code=facility_code,
                                         as_of=bulk.as_of, now=self._now(), extra=extra)
            return Answer(codec.render(codec.message(values), encoding))
        extra |= {"NumberOfNormalProcessing": bulk.normal, "NumberOfError": bulk.errors}
        values = codec.result_header(
            msg.header, encoding=encoding, segment=codes.SEGMENT_NORMAL, facility_code=facility_code, as_of=bulk.as_of, now=self._now(),
            reference_classification=codes.REFERENCE_NUMBERS if kind == "inquiry" else None, extra=extra,
        )
        return Answer(codec.render(codec.message(values), encoding, body=bulk.result))

    def process_pending(self) -> int:
        """Process every stored bulk request not yet answered (also those of a previous run
        that stopped midway). Returns how many were processed."""
        done = 0
        while (bulk := self.bulks.claim()) is not None:
            try:
                with self.registry.log.deferred():  # every lookup of the bulk logged before its answer is stored
                    units, normal, errors = (self._process_inquiries if bulk.kind == "inquiry" else self._process_registrations)(bulk)
                self.bulks.finish(bulk.reception_number, units, normal, errors)
            except Exception:  # noqa: BLE001 - a poison request must not stop the terminal; 02res reports it
                log.exception("bulk %s failed", bulk.reception_number)
                self.bulks.fail(bulk.reception_number)
            done += 1
        self.registry.log.flush()
        return done

    def _process_inquiries(self, bulk: BulkRequest) -> tuple[str, int, int]:
        as_of = bulk.as_of or config.today()
        finder = self._reference_finder(bulk.facility_code, self.references.index(bulk.facility_code))
        now = self._now()
        units, normal = [], 0
        for raw in bulk.request["entries"]:
            search = SearchInfo(**raw)
            result, error = self._inquire(search, bulk.facility_code, as_of)
            unit = etree.Element("BulkConfirmUnit")
            unit.append(codec.search_info_element(search))
            unit.extend(codec.outcome_elements(result, error=error, reference_number=finder, wrap_list=False, now=now))
            normal += error is None
            units.append(unit)
        return codec.fragment(units), normal, len(units) - normal

    def _process_registrations(self, bulk: BulkRequest) -> tuple[str, int, int]:
        units, valid = [], []
        for raw in bulk.request["entries"]:
            info = Registration(**raw)
            entry, error = self._registration(info)
            if entry is not None:
                valid.append(entry)
            unit = etree.Element("BulkRegistrationUnit")
            unit.append(codec.registration_element(info))
            unit.extend(codec.status_elements(error))
            units.append(unit)
        self.references.register(bulk.facility_code, valid)
        return codec.fragment(units), len(valid), len(units) - len(valid)


def answer_name(request_name: str) -> str | None:
    """res/ file name of a req/ file (None when the name is not a request's)."""
    m = codes.REQUEST_NAME.match(request_name)
    if not m:
        return None
    return codes.answer_prefix(codes.canonical_prefix(m.group("prefix"))) + m.group("rest") + ".xml"

