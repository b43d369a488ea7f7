"""The facility XML interface (OQS-XML.md): every message kind, every F.1 outcome, the code
tables, encodings, hardening, 照会番号, bulk inquiry, and the same answers over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onshi.interfaces.http.app import create_app
from onshi.interfaces.oqs_xml import codec, codes
from onshi.interfaces.oqs_xml.codec import Registration, SearchInfo
from onshi.interfaces.oqs_xml.service import OqsService, answer_name
from onshi.registry import schema
from onshi.registry.service import Registry, parse_number_query

from factories import FACILITY, KOKUHO, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO, OFFLINE_FACILITY, World, key

D = dt.date.fromisoformat
CARD = {"issued": "2022-03-01"}


@pytest.fixture
def service(world):  # noqa: ANN001, ANN201
    return OqsService(world.registry)


def search(m: dict, **over) -> SearchInfo:
    values = dict(insurer_number=m["insurer"], symbol=m["symbol"], number=m["number"], branch=m["branch"], birth_date=m["birth_date"].replace("-", ""))
    return SearchInfo(**(values | over))


def ask(service: OqsService, info: SearchInfo, *, as_of: str | None = None, encoding: str = "utf-8", facility: str = FACILITY) -> dict:
    data = codec.inquiry_request(facility, [info], as_of=D(as_of) if as_of else None, encoding=encoding)
    return codec.read_result(service.answer(codes.SINGLE_INQUIRY, data, FACILITY).body)


def only_result(res: dict) -> dict:
    assert res["header"]["SegmentOfResult"] == "1"
    assert res["body"]["ProcessingResultStatus"] == "1"
    (entry,) = res["body"]["ResultList"]["ResultOfQualificationConfirmation"]
    return entry


def loss(world: World, m: dict, end: str, notified: str, reason: str = "03") -> None:
    world.registry.operate(m["insurer"], "loss", dict(request_id=f"loss-{m['number']}-{end}", symbol=m["symbol"], number=m["number"],
                                                      branch=m["branch"], end=end, notified=notified, loss_reason=reason))


# ---------------------------------------------------------------- F.1 outcomes


def test_F1_every_validity_outcome_matches_the_registry_lookup(world, service, today):
    """有効, 無効, 無効（新しい資格あり）, 該当資格なし: the XML answer is the registry's lookup."""
    today("2026-03-01")
    m = world.member(card=CARD)
    loss(world, m, "2026-03-31", "2026-03-01")
    cases = [("2026-03-31", "1"), ("2026-04-10", "2")]
    today("2026-04-20")
    for as_of, expected in cases:
        res = ask(service, search(m), as_of=as_of)
        direct = world.registry.lookup_by_numbers(FACILITY, parse_number_query(m["insurer"], m["symbol"], m["number"], m["branch"], m["birth_date"]), day=D(as_of))
        assert res["body"]["QualificationValidity"] == direct.validity.code == expected
        assert res["header"]["QualificationConfirmationDate"] == as_of.replace("-", "")
    world.member(KUMIAI, my_number=m["my_number"], symbol="88", number="1207", start="2026-04-01", notified="2026-04-15")
    res = ask(service, search(m), as_of="2026-04-20")
    assert res["body"]["QualificationValidity"] == "3"  # 無効（新しい資格あり）
    ended = only_result(res)
    assert ended["InsurerNumber"] == KYOKAI_TOKYO  # the queried qualification, ended
    assert ended["DisqualificationDate"] == "20260401"  # 資格喪失日 = last covered day + 1
    assert ended["ReasonOfLoss"] == "03"
    res = ask(service, search(m, number="99999"))
    assert res["body"]["QualificationValidity"] == "4" and "ResultList" not in res["body"]
    assert ask(service, search(m, birth_date="19800616"))["body"]["QualificationValidity"] == "4"


def test_valid_result_carries_the_qualification(world, service):
    m = world.member(card=CARD, name="山田 太郎", kana="ヤマダ ガクト", sex=1, address="東京都千代田区霞が関1-2-2", postcode="100-8916")
    r = only_result(ask(service, search(m)))
    assert r["InsurerNumber"] == KYOKAI_TOKYO and r["InsuredCardSymbol"] == "1234" and r["InsuredIdentificationNumber"] == m["number"]
    assert r["InsuredBranchNumber"] == "00" and r["PersonalFamilyClassification"] == "1" and r["InsuredCardClassification"] == "01"
    assert r["Name"] == "山田\u3000太郎" and r["NameKana"] == "ﾔﾏﾀﾞ ｶﾞｸﾄ"  # U+3000 in names, half-width kana with a space
    assert r["Sex1"] == "1" and r["Birthdate"] == "19800615" and r["QualificationDate"] == "20150401"
    assert r["Address"] == "東京都千代田区霞が関1-2-2" and r["PostNumber"] == "100-8916"
    assert r["InsurerName"] == "全国健康保険協会東京支部"
    assert "DisqualificationDate" not in r and "InsuredPartialContributionRatio" not in r
    # no 資格確認書 held (a マイナ保険証 user): the qualification's own first day, no end
    assert r["InsuredCardValidDate"] == "20150401" and "InsuredCardExpirationDate" not in r and "InsuredCertificateIssuanceDate" not in r


def test_R_D4_names_come_back_with_the_mask(world, service):
    m = world.member(card=CARD, name="髙橋 𠮷男", kana="タカハシ ヨシオ")
    r = only_result(ask(service, search(m)))
    assert r["Name"] == "●橋\u3000●男"
    assert r["NameKana"] == "ﾀｶﾊｼ ﾖｼｵ"


def test_R_D5_no_address_for_a_dv_flagged_member(world, service):
    m = world.member(card=CARD, address="東京都千代田区霞が関1-2-2", postcode="100-8916", dv_flag=True)
    res = ask(service, search(m))
    r = only_result(res)
    assert "Address" not in r and "PostNumber" not in r
    assert "霞が関" not in service.answer(codes.SINGLE_INQUIRY, codec.inquiry_request(FACILITY, [search(m)]), FACILITY).body.decode()
    _result, face = service.card_verification(FACILITY, m["serial"])
    assert "霞が関" not in face.decode() and b"<Address>" not in face and b"100-8916" not in face


def test_kokuho_numbers_are_space_padded_and_both_paddings_accepted(world, service):
    m = world.member(KOKUHO, symbol="", branch="", number="77001")
    for insurer in (KOKUHO, f"  {KOKUHO}", f"00{KOKUHO}"):
        r = only_result(ask(service, search(m, insurer_number=insurer, symbol=None, branch=None)))
        assert r["InsurerNumber"] == f"  {KOKUHO}"
    assert "InsuredCardSymbol" not in r and "InsuredBranchNumber" not in r


def test_kouki_ratio_with_empty_symbol_and_branch(world, service, today):
    """R-P4: 後期 qualifications carry InsuredPartialContributionRatio; seeded 後期 numbers have no 記号/枝番."""
    today("2026-05-12")
    for ratio in (10, 20, 30):
        m = world.member(KOUKI_TOKYO, symbol="", branch="", birth_date="1945-03-03", start="2020-03-03", kouki_ratio=ratio, number=f"9000{ratio}")
        for info in (search(m, symbol="", branch=""), search(m, symbol=None, branch=None)):
            r = only_result(ask(service, info))
            assert r["InsuredPartialContributionRatio"] == f"0{ratio}"
            assert "ElderlyRecipientCertificateInfo" not in r


def test_R_P3_elderly_recipient_and_R_P1_preschool(world, service):
    general = world.member(birth_date="1954-03-10", number="7001")  # 72 on 2026-05-12
    high = world.member(birth_date="1954-03-10", number="7002", income="high", name="高所 得", kana="コウショ トク")
    child = world.member(birth_date="2022-01-05", start="2022-01-05", number="7003", relation="family", insured_name="山田 太郎", branch="02", name="山田 花", kana="ヤマダ ハナ")
    e = only_result(ask(service, search(general)))["ElderlyRecipientCertificateInfo"]
    assert e["ElderlyRecipientContributionRatio"] == "020"
    assert e["ElderlyRecipientValidStartDate"] == "20240401"  # the 1st of the month after reaching 70
    assert e["ElderlyRecipientValidEndDate"] == "20290309"  # the day before 後期 (75th birthday)
    assert "ElderlyRecipientCertificateDate" not in e  # no 資格確認書 held: no issue date to give
    assert only_result(ask(service, search(high)))["ElderlyRecipientCertificateInfo"]["ElderlyRecipientContributionRatio"] == "030"
    c = only_result(ask(service, search(child)))
    assert c["PreschoolClassification"] == "1" and c["PersonalFamilyClassification"] == "2" and c["InsuredName"] == "山田\u3000太郎"
    assert "ElderlyRecipientCertificateInfo" not in c


def test_limit_data_only_with_consent(world, service):
    m = world.member(limit_category="A03", limit_start="2025-08-01", limit_end="2026-07-31", limit_issued="2025-07-20")
    without = only_result(ask(service, search(m)))
    assert without["LimitApplicationCertificateRelatedConsFlg"] == "0" and "LimitApplicationCertificateRelatedInfo" not in without
    assert "LimitApplicationCertificateRelatedConsTime" not in without
    res = ask(service, search(m, limit_consent="1"))
    with_consent = only_result(res)
    info = with_consent["LimitApplicationCertificateRelatedInfo"]
    assert with_consent["LimitApplicationCertificateRelatedConsFlg"] == "1"
    # the consent was given with this request: its time is the answer's
    assert with_consent["LimitApplicationCertificateRelatedConsTime"] == res["header"]["ProcessExecutionTime"]
    assert info == {
        "LimitApplicationCertificateClassification": "01", "LimitApplicationCertificateClassificationFlag": "A03",
        "LimitApplicationCertificateDate": "20250720",
        "LimitApplicationCertificateValidStartDate": "20250801", "LimitApplicationCertificateValidEndDate": "20260731",
    }


# ---------------------------------------------------------------- errors of one inquiry


@pytest.mark.parametrize(
    ("over", "code", "element"),
    [
        ({"insurer_number": "01130013"}, codes.RESULT_INPUT, "InsurerNumber"),  # wrong check digit
        ({"insurer_number": "01130020"}, codes.RESULT_UNKNOWN_INSURER, "InsurerNumber"),  # valid, unknown
        ({"birth_date": None}, codes.RESULT_INPUT, "Birthdate"),
        ({"birth_date": "20261399"}, codes.RESULT_INPUT, "Birthdate"),
        ({"number": ""}, codes.RESULT_INPUT, "InsuredIdentificationNumber"),
        ({"branch": "123"}, codes.RESULT_INPUT, "InsuredBranchNumber"),
    ],
)
def test_an_invalid_inquiry_is_an_error_result_naming_the_element(world, service, over, code, element):
    m = world.member()
    res = ask(service, search(m, **over))
    assert res["header"]["SegmentOfResult"] == "1"
    body = res["body"]
    assert body["ProcessingResultStatus"] == "2" and body["ProcessingResultCode"] == code
    assert body["ProcessingResultMessage"].startswith(element)
    assert "QualificationValidity" not in body


# ---------------------------------------------------------------- card verification (face files)


def test_card_verification_result_and_card_errors(world, service, today):
    m = world.member(card=CARD, symbol="12-34")
    result, data = service.card_verification(FACILITY, m["serial"])
    res = codec.read_result(data)
    assert res["header"]["ReferenceClassification"] == "1" and res["body"]["QualificationValidity"] == "1"
    assert only_result(res)["InsuredCardSymbol"] == "12-34"
    assert result.validity.code == "1"
    unregistered = world.member(card=CARD | {"registered": False}, number="4444")
    res = codec.read_result(service.card_verification(FACILITY, unregistered["serial"])[1])
    assert res["body"]["ProcessingResultStatus"] == "2" and res["body"]["ProcessingResultCode"] == codes.CARD_ERROR_CODES["not_registered"]
    assert res["body"]["ProcessingResultMessage"] == "健康保険証利用登録がされていません"
    res = codec.read_result(service.card_verification(FACILITY, "NOSUCHCARD01")[1])
    assert res["body"]["ProcessingResultCode"] == codes.CARD_ERROR_CODES["card_not_found"]


def test_card_verification_notice_near_certificate_expiry(world, service, today):
    """R-B3: a valid result with the renewal alert as ProcessingResultCode/Message."""
    m = world.member(card={"issued": "2021-06-01", "cert_expires": "2026-06-30"})
    res = codec.read_result(service.card_verification(FACILITY, m["serial"])[1])
    assert res["body"]["ProcessingResultStatus"] == "1" and res["body"]["QualificationValidity"] == "1"
    assert res["body"]["ProcessingResultCode"] == codes.CARD_NOTICES["cert_expiring"][0]


# ---------------------------------------------------------------- format: encodings, order, padding


def test_shift_jis_in_and_out_and_configured_output(world, service):
    m = world.member(name="佐藤 一郎", kana="サトウ イチロウ")
    data = codec.inquiry_request(FACILITY, [search(m, arbitrary_identifier="カルテ０１")], encoding="shift_jis")
    assert data.startswith(b'<?xml version="1.0" encoding="Shift_JIS"') and "カルテ".encode("cp932") in data
    body = service.answer(codes.SINGLE_INQUIRY, data, FACILITY).body
    assert body.startswith(b'<?xml version="1.0" encoding="Shift_JIS"')
    res = codec.read_result(body)
    assert res["encoding"] == "shift_jis" and res["header"]["CharacterCodeIdentifier"] == "1"
    assert only_result(res)["Name"] == "佐藤\u3000一郎"
    assert res["body"]["QualificationConfirmSearchInfo"][0]["ArbitraryIdentifier"] == "カルテ０１"
    utf8 = OqsService(world.registry, encoding="utf-8").answer(codes.SINGLE_INQUIRY, data, FACILITY).body
    assert codec.read_result(utf8)["encoding"] == "utf-8" and "佐藤".encode() in utf8


def test_element_order_does_not_matter(world, service):
    m = world.member()
    scrambled = f"""<?xml version="1.0" encoding="UTF-8"?>
<XmlMsg><MessageBody><QualificationConfirmSearchInfo>
  <Birthdate>19800615</Birthdate><InsuredBranchNumber>00</InsuredBranchNumber>
  <InsuredIdentificationNumber>{m["number"]}</InsuredIdentificationNumber><InsurerNumber>{KYOKAI_TOKYO}</InsurerNumber>
  <InsuredCardSymbol>1234</InsuredCardSymbol></QualificationConfirmSearchInfo></MessageBody>
<MessageHeader><ArbitraryFileIdentifier>abc</ArbitraryFileIdentifier><MedicalInstitutionCode>{FACILITY}</MedicalInstitutionCode>
  <QualificationConfirmationDate>20260512</QualificationConfirmationDate></MessageHeader></XmlMsg>""".encode()
    res = codec.read_result(service.answer(codes.SINGLE_INQUIRY, scrambled, FACILITY).body)
    assert res["body"]["QualificationValidity"] == "1" and res["header"]["ArbitraryFileIdentifier"] == "abc"


def test_request_round_trips():
    infos = [SearchInfo(insurer_number=f"  {KOKUHO}", number="1", birth_date="20000101", limit_consent="1", arbitrary_identifier="a1"),
             SearchInfo(insurer_number=KYOKAI_TOKYO, symbol="記号", number="２", branch="01", birth_date="19991231")]
    for encoding in ("utf-8", "shift_jis"):
        msg = codec.parse_request(codec.inquiry_request(FACILITY, infos, as_of=D("2026-05-01"), file_identifier="f-1", encoding=encoding))
        assert msg.encoding == encoding and msg.searches == infos
        assert (msg.header.facility_code, msg.header.confirmation_date, msg.header.file_identifier) == (FACILITY, "20260501", "f-1")
        regs = [Registration("P-1", KYOKAI_TOKYO, "1234", "5", "00"), Registration("カルテ2", f"  {KOKUHO}", None, "7", None)]
        assert codec.parse_request(codec.registration_request(FACILITY, regs, encoding=encoding)).registrations == regs
        assert codec.parse_request(codec.reception_request(FACILITY, "12345", encoding=encoding)).header.reception_number == "12345"


def test_answer_names():
    assert answer_name("OQSsiquc01req_1234567890123.xml") == "OQSsiquc01res_1234567890123.xml"
    assert answer_name("OQSmuquc02req_x.XML") == "OQSmuquc02res_x.xml"
    assert answer_name("oqssiimm01req_7.xml") == "OQSsiimm01res_7.xml"
    assert answer_name("OQSsiquc01req_1.xml.tmp") is None and answer_name("notes.txt") is None


# ---------------------------------------------------------------- whole-file errors (SegmentOfResult 9)

XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><XmlMsg><MessageBody>&e;</MessageBody></XmlMsg>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>
<XmlMsg><MessageHeader><ArbitraryFileIdentifier>&c;</ArbitraryFileIdentifier></MessageHeader></XmlMsg>"""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (XXE, codes.ERROR_FORBIDDEN_MARKUP),
        (LAUGHS, codes.ERROR_FORBIDDEN_MARKUP),
        (b"<XmlMsg><MessageBody>&undefined;</MessageBody></XmlMsg>", codes.ERROR_MALFORMED),
        (b"", codes.ERROR_MALFORMED),
        (b"<XmlMsg><MessageHeader>", codes.ERROR_MALFORMED),
        (b"<Other/>", codes.ERROR_MALFORMED),
        (b'<?xml version="1.0" encoding="EUC-JP"?><XmlMsg/>', codes.ERROR_ENCODING),
        ('<?xml version="1.0" encoding="UTF-8"?><XmlMsg>山田</XmlMsg>'.encode("cp932"), codes.ERROR_ENCODING),
        ("<XmlMsg/>".encode("utf-16"), codes.ERROR_ENCODING),
        (b"<XmlMsg><MessageHeader/><MessageBody/></XmlMsg>", codes.ERROR_BODY),
        (b"<XmlMsg><MessageHeader><QualificationConfirmationDate>2026-99</QualificationConfirmationDate></MessageHeader>"
         b"<MessageBody><QualificationConfirmSearchInfo/></MessageBody></XmlMsg>", codes.ERROR_HEADER),
    ],
)
def test_malformed_files_get_segment_9(world, service, data, code):
    answer = service.answer(codes.SINGLE_INQUIRY, data, FACILITY)
    res = codec.read_result(answer.body)
    assert res["header"]["SegmentOfResult"] == "9" and res["header"]["ErrorCode"] == code
    assert res["header"]["ErrorMessage"] and answer.error == code
    assert b"root:" not in answer.body  # nothing of /etc/passwd


def test_too_large_and_future_date(world, service, today):
    huge = b"<XmlMsg>" + b" " * (codes.MAX_FILE_BYTES + 1) + b"</XmlMsg>"
    answer = service.answer(codes.SINGLE_INQUIRY, huge, FACILITY)
    assert answer.status == 413 and answer.error == codes.ERROR_TOO_LARGE
    m = world.member()
    res = ask(service, search(m), as_of="2026-05-13")  # today is 2026-05-12
    assert res["header"]["ErrorCode"] == codes.ERROR_HEADER


def test_facility_code_must_be_the_terminals(world, service):
    m = world.member()
    answer = service.answer(codes.SINGLE_INQUIRY, codec.inquiry_request(OFFLINE_FACILITY, [search(m)]), FACILITY)
    assert answer.status == 403 and answer.error == codes.ERROR_FACILITY
    assert codec.read_result(answer.body)["header"]["SegmentOfResult"] == "9"
    no_code = codec.inquiry_request("", [search(m)])  # absent: the terminal's own facility
    assert codec.read_result(service.answer(codes.SINGLE_INQUIRY, no_code, FACILITY).body)["body"]["QualificationValidity"] == "1"


def test_drug_information_is_not_provided(world, service):
    answer = service.answer(codes.DRUG_INFORMATION, codec.inquiry_request(FACILITY, [SearchInfo()]), FACILITY)
    assert answer.error == codes.ERROR_UNSUPPORTED


# ---------------------------------------------------------------- bulk inquiry


def test_bulk_inquiry_round_trip_survives_a_restart(world, service, engine):
    a = world.member(card=CARD)
    b = world.member(KOKUHO, symbol="", branch="", number="5501", birth_date="1961-02-02", name="国保 次郎", kana="コクホ ジロウ")
    infos = [search(a, arbitrary_identifier="chart-1"), search(b, insurer_number=f"  {KOKUHO}", symbol=None, branch=None, arbitrary_identifier="chart-2"),
             search(a, number="99999", arbitrary_identifier="chart-3"), search(a, insurer_number="123", arbitrary_identifier="chart-4")]
    first = service.answer(codes.BULK_INQUIRY, codec.inquiry_request(FACILITY, infos, file_identifier="bulk-1"), FACILITY)
    r1 = codec.read_result(first.body)
    reception = r1["header"]["ReceptionNumber"]
    assert first.queued and r1["header"]["SegmentOfResult"] == "2" and len(reception) == 20
    assert r1["header"]["ArbitraryFileIdentifier"] == "bulk-1"
    ask_result = codec.reception_request(FACILITY, reception)
    assert codec.read_result(service.answer(codes.BULK_INQUIRY_RESULT, ask_result, FACILITY).body)["header"]["SegmentOfResult"] == "2"
    # another process (a restarted terminal) processes and answers
    restarted = OqsService(Registry(engine))
    assert restarted.process_pending() == 1
    r2 = codec.read_result(restarted.answer(codes.BULK_INQUIRY_RESULT, ask_result, FACILITY).body)
    h = r2["header"]
    assert h["SegmentOfResult"] == "1" and h["ReceptionNumber"] == reception
    assert (h["NumberOfProcessingResult"], h["NumberOfNormalProcessing"], h["NumberOfError"]) == ("4", "3", "1")
    units = {u["QualificationConfirmSearchInfo"][0]["ArbitraryIdentifier"]: u for u in r2["body"]["BulkConfirmUnit"]}
    assert units["chart-1"]["QualificationValidity"] == "1"
    assert units["chart-1"]["ResultOfQualificationConfirmation"][0]["InsuredIdentificationNumber"] == a["number"]
    assert units["chart-2"]["ResultOfQualificationConfirmation"][0]["InsurerNumber"] == f"  {KOKUHO}"
    assert units["chart-3"]["QualificationValidity"] == "4" and "ResultOfQualificationConfirmation" not in units["chart-3"]
    assert units["chart-4"]["ProcessingResultStatus"] == "2" and units["chart-4"]["ProcessingResultCode"] == codes.RESULT_INPUT
    # the answer is kept: asked again, same units
    again = codec.read_result(service.answer(codes.BULK_INQUIRY_RESULT, ask_result, FACILITY).body)
    assert again["body"] == r2["body"]


def test_bulk_result_only_for_its_facility_and_known_numbers(world, service):
    m = world.member()
    reception = codec.read_result(service.answer(codes.BULK_INQUIRY, codec.inquiry_request(FACILITY, [search(m)]), FACILITY).body)["header"]["ReceptionNumber"]
    other = service.answer(codes.BULK_INQUIRY_RESULT, codec.reception_request(OFFLINE_FACILITY, reception), OFFLINE_FACILITY)
    assert other.error == codes.ERROR_RECEPTION
    assert service.answer(codes.BULK_INQUIRY_RESULT, codec.reception_request(FACILITY, "00000000000000000000"), FACILITY).error == codes.ERROR_RECEPTION
    assert service.answer(codes.BULK_REFERENCE_NUMBER_RESULT, codec.reception_request(FACILITY, reception), FACILITY).error == codes.ERROR_RECEPTION
    assert service.answer(codes.BULK_INQUIRY_RESULT, codec.reception_request(FACILITY, ""), FACILITY).error == codes.ERROR_HEADER


def test_lookups_through_xml_are_logged(world, service):
    m = world.member()
    ask(service, search(m))
    world.registry.log.flush()
    with world.engine.connect() as conn:
        rows = conn.execute(select(schema.verification.c.channel, schema.verification.c.result, schema.verification.c.method)).all()
    assert [tuple(r) for r in rows] == [("xml", "valid", "number_inquiry")]


# ---------------------------------------------------------------- 照会番号


def test_reference_number_comes_back_in_that_facilitys_results(world, service):
    m = world.member(card=CARD)
    k = world.member(KOUKI_TOKYO, symbol="", branch="", birth_date="1945-03-03", start="2020-03-03", kouki_ratio=10, number="880001", name="後期 一", kana="コウキ ハジメ")
    reg = codec.registration_request(FACILITY, [Registration("KARTE-0042", m["insurer"], m["symbol"], m["number"], "0")])
    res = codec.read_result(service.answer(codes.REFERENCE_NUMBER, reg, FACILITY).body)
    assert res["body"]["ProcessingResultStatus"] == "1"
    assert res["body"]["ReferenceNumberRegistrationInfo"][0]["ReferenceNumber"] == "KARTE-0042"
    assert only_result(ask(service, search(m)))["ReferenceNumber"] == "KARTE-0042"
    assert codec.read_result(service.card_verification(FACILITY, m["serial"])[1])["body"]["ResultList"]["ResultOfQualificationConfirmation"][0]["ReferenceNumber"] == "KARTE-0042"
    other = OqsService(world.registry)  # another facility sees nothing
    data = codec.inquiry_request(OFFLINE_FACILITY, [search(m)])
    assert "ReferenceNumber" not in only_result(codec.read_result(other.answer(codes.SINGLE_INQUIRY, data, OFFLINE_FACILITY).body))
    # bulk registration, a 後期 number without 記号/枝番 among them, one invalid entry
    regs = [Registration("KARTE-0043", KOUKI_TOKYO, None, "880001", None), Registration("", KYOKAI_TOKYO, "1", "2", "00"),
            Registration("KARTE-0044", m["insurer"], m["symbol"], m["number"], "00")]
    first = codec.read_result(service.answer(codes.BULK_REFERENCE_NUMBER, codec.registration_request(FACILITY, regs), FACILITY).body)
    assert first["header"]["SegmentOfResult"] == "2"
    service.process_pending()
    second = codec.read_result(service.answer(codes.BULK_REFERENCE_NUMBER_RESULT, codec.reception_request(FACILITY, first["header"]["ReceptionNumber"]), FACILITY).body)
    assert (second["header"]["NumberOfNormalProcessing"], second["header"]["NumberOfError"]) == ("2", "1")
    statuses = [u["ProcessingResultStatus"] for u in second["body"]["BulkRegistrationUnit"]]
    assert statuses == ["1", "2", "1"]
    assert second["body"]["BulkRegistrationUnit"][1]["ProcessingResultMessage"].startswith("ReferenceNumber")
    assert only_result(ask(service, search(k, symbol=None, branch=None)))["ReferenceNumber"] == "KARTE-0043"
    assert only_result(ask(service, search(m)))["ReferenceNumber"] == "KARTE-0044"  # re-registration replaces


def test_invalid_reference_number_registration(world, service):
    reg = codec.registration_request(FACILITY, [Registration("x" * 51, "01130013", None, "", "1")])
    body = codec.read_result(service.answer(codes.REFERENCE_NUMBER, reg, FACILITY).body)["body"]
    assert body["ProcessingResultStatus"] == "2"
    for element in ("ReferenceNumber", "InsurerNumber", "InsuredIdentificationNumber"):
        assert element in body["ProcessingResultMessage"]


# ---------------------------------------------------------------- HTTP


def _strip_time(data: bytes) -> dict:
    res = codec.read_result(data)
    res["header"].pop("ProcessExecutionTime", None)
    return res


def test_http_gives_the_terminals_answers(world, service, engine):
    m = world.member(card=CARD)
    client = TestClient(create_app(Registry(engine)))
    data = codec.inquiry_request(FACILITY, [search(m)], encoding="shift_jis")
    r = client.post("/oqs/v1/OQSsiquc01req", content=data, headers={"X-API-Key": key("facility", FACILITY), "content-type": "application/xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml; charset=Shift_JIS")
    assert _strip_time(r.content) == _strip_time(service.answer(codes.SINGLE_INQUIRY, data, FACILITY).body)
    r = client.post("/oqs/v1/OQSmuquc01req.xml", content=codec.inquiry_request(FACILITY, [search(m)] * 3), headers={"X-API-Key": key("facility", FACILITY)})
    reception = codec.read_result(r.content)["header"]["ReceptionNumber"]  # processed in the background after the answer
    r = client.post("/oqs/v1/OQSmuquc02req", content=codec.reception_request(FACILITY, reception), headers={"X-API-Key": key("facility", FACILITY)})
    assert codec.read_result(r.content)["header"]["NumberOfNormalProcessing"] == "3"


def test_http_access_control_and_bad_input(world, engine):
    m = world.member()
    client = TestClient(create_app(Registry(engine)))
    data = codec.inquiry_request(FACILITY, [search(m)])
    assert client.post("/oqs/v1/OQSsiquc01req", content=data).status_code == 401
    assert client.post("/oqs/v1/OQSsiquc01req", content=data, headers={"X-API-Key": key("insurer", KYOKAI_TOKYO)}).status_code == 403
    r = client.post("/oqs/v1/OQSsiquc01req", content=data, headers={"X-API-Key": key("facility", OFFLINE_FACILITY)})
    assert r.status_code == 403 and codec.read_result(r.content)["header"]["ErrorCode"] == codes.ERROR_FACILITY
    assert client.post("/oqs/v1/OQSnothing", content=data, headers={"X-API-Key": key("facility", FACILITY)}).status_code == 404
    for junk in (b"", b"\x00\xff", XXE, b"<XmlMsg>" * 1000):
        r = client.post("/oqs/v1/OQSsiquc01req", content=junk, headers={"X-API-Key": key("facility", FACILITY)})
        assert r.status_code == 200 and codec.read_result(r.content)["header"]["SegmentOfResult"] == "9"


# ---------------------------------------------------------------- every error file: the whole header and a body (issue 9)

REQUIRED_HEADER = ("ProcessExecutionTime", "QualificationConfirmationDate", "MedicalInstitutionCode", "ReferenceClassification",
                   "SegmentOfResult", "ErrorCode", "ErrorMessage", "CharacterCodeIdentifier")


def assert_full_error_file(data: bytes, code: str) -> None:
    res = codec.read_result(data)
    h, b = res["header"], res["body"]
    assert set(REQUIRED_HEADER) <= set(h), sorted(set(REQUIRED_HEADER) - set(h))
    assert h["SegmentOfResult"] == "9" and h["ErrorCode"] == code and h["ErrorMessage"]
    assert len(h["ProcessExecutionTime"]) == 14 and len(h["QualificationConfirmationDate"]) == 8 and len(h["MedicalInstitutionCode"]) == 10
    assert h["ReferenceClassification"] in ("1", "2") and h["CharacterCodeIdentifier"] == {"utf-8": "0", "shift_jis": "1"}[res["encoding"]]
    assert b == {"ProcessingResultStatus": "2", "ProcessingResultCode": code, "ProcessingResultMessage": h["ErrorMessage"]}


def test_every_error_path_gives_a_whole_error_file(world, service, engine, tmp_path, monkeypatch):
    m = world.member()
    ok = codec.inquiry_request(FACILITY, [search(m)])
    cases = [
        (codes.SINGLE_INQUIRY, b"<XmlMsg><MessageHeader>", codes.ERROR_MALFORMED),
        (codes.SINGLE_INQUIRY, XXE, codes.ERROR_FORBIDDEN_MARKUP),
        (codes.SINGLE_INQUIRY, b"<XmlMsg>" + b" " * (codes.MAX_FILE_BYTES + 1), codes.ERROR_TOO_LARGE),
        (codes.SINGLE_INQUIRY, b'<?xml version="1.0" encoding="EUC-JP"?><XmlMsg/>', codes.ERROR_ENCODING),
        (codes.SINGLE_INQUIRY, ok.replace(b"<MessageHeader>", b"<MessageHeader><QualificationConfirmationDate>2026-99</QualificationConfirmationDate>", 1), codes.ERROR_HEADER),
        (codes.SINGLE_INQUIRY, codec.inquiry_request(OFFLINE_FACILITY, [search(m)]), codes.ERROR_FACILITY),
        (codes.BULK_INQUIRY_RESULT, codec.reception_request(FACILITY, "1" * 20), codes.ERROR_RECEPTION),
        (codes.DRUG_INFORMATION, ok, codes.ERROR_UNSUPPORTED),
        (codes.SINGLE_INQUIRY, b"<XmlMsg><MessageHeader/><MessageBody/></XmlMsg>", codes.ERROR_BODY),
        (codes.SINGLE_INQUIRY, codec.inquiry_request(FACILITY, [search(m)], encoding="shift_jis")[:-20], codes.ERROR_MALFORMED),
    ]
    for prefix, data, code in cases:
        answer = service.answer(prefix, data, FACILITY)
        assert answer.error == code
        assert_full_error_file(answer.body, code)
    # a Shift_JIS file that cannot be parsed is answered in Shift_JIS
    assert codec.read_result(service.answer(codes.SINGLE_INQUIRY, cases[-1][1], FACILITY).body)["encoding"] == "shift_jis"
    # a bulk whose processing failed (EX999 on the second round trip)
    reception = codec.read_result(service.answer(codes.BULK_INQUIRY, ok, FACILITY).body)["header"]["ReceptionNumber"]
    service.bulks.claim()
    service.bulks.fail(reception)
    answer = service.answer(codes.BULK_INQUIRY_RESULT, codec.reception_request(FACILITY, reception), FACILITY)
    assert_full_error_file(answer.body, codes.ERROR_INTERNAL)
    # the folder terminal when answering itself fails
    from onshi.interfaces.oqs_xml.terminal import Terminal

    terminal = Terminal(service, tmp_path, FACILITY, settle=0)
    (tmp_path / "req" / "OQSsiquc01req_1.xml").write_bytes(ok)
    monkeypatch.setattr(service, "answer", lambda *a, **k: 1 / 0)
    terminal.process_requests()
    assert_full_error_file((tmp_path / "res" / "OQSsiquc01res_1.xml").read_bytes(), codes.ERROR_INTERNAL)


def test_http_error_files_are_whole_too(world, engine):
    client = TestClient(create_app(Registry(engine)))
    m = world.member()
    headers = {"X-API-Key": key("facility", FACILITY)}
    r = client.post("/oqs/v1/OQSsiquc01req", content=b"<XmlMsg>" + b" " * (codes.MAX_FILE_BYTES + 10), headers=headers)
    assert r.status_code == 413
    assert_full_error_file(r.content, codes.ERROR_TOO_LARGE)
    r = client.post("/oqs/v1/OQSsiquc01req", content=codec.inquiry_request(OFFLINE_FACILITY, [search(m)]), headers=headers)
    assert r.status_code == 403
    assert_full_error_file(r.content, codes.ERROR_FACILITY)
