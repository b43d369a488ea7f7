"""Fuzzing the XML parser and the service: random and mutated documents, UTF-8 and
Shift_JIS, every message kind. Zero unhandled exceptions; every answer is a well-formed
result file."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onshi.interfaces.oqs_xml import codec, codes
from onshi.interfaces.oqs_xml.codec import Registration, SearchInfo, XmlError
from onshi.interfaces.oqs_xml.service import OqsService

from factories import FACILITY, KOKUHO, KYOKAI_TOKYO, World

SEEDS = [
    codec.inquiry_request(FACILITY, [SearchInfo(insurer_number=KYOKAI_TOKYO, symbol="1234", number="1001", branch="00", birth_date="19800615",
                                                limit_consent="1", arbitrary_identifier="カルテ1")], encoding=enc)
    for enc in ("utf-8", "shift_jis")
] + [
    codec.inquiry_request(FACILITY, [SearchInfo(insurer_number=f"  {KOKUHO}", number="77", birth_date="19610202")] * 3, encoding="shift_jis"),
    codec.registration_request(FACILITY, [Registration("照会-1", KYOKAI_TOKYO, "1234", "1001", "00")]),
    codec.reception_request(FACILITY, "20260512000000123456"),
]
ELEMENTS = ["XmlMsg", "MessageHeader", "MessageBody", "QualificationConfirmSearchInfo", "InsurerNumber", "Birthdate", "ReceptionNumber",
            "ReferenceNumberRegistrationInfo", "InsuredIdentificationNumber", "MedicalInstitutionCode", "QualificationConfirmationDate"]
SNIPPETS = [b"<!DOCTYPE x>", b"<!ENTITY a 'b'>", b"&a;", b"&#0;", b"&#x1F;", b"<![CDATA[", b"]]>", b"<?pi x?>", b"\x00", b"\xff\xfe",
            b'encoding="Shift_JIS"', b'encoding="EUC-JP"', "山田●".encode("cp932"), "髙".encode(), b"\x82\xa0", b"</", b"<", b">", b"\"", b"'"]


@st.composite
def mutated(draw) -> bytes:  # noqa: ANN001
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 4))
        pos = draw(st.integers(0, len(data)))
        if op == 0 and data:  # flip a byte
            i = min(pos, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
        elif op == 1:  # truncate
            del data[pos:]
        elif op == 2:  # insert a snippet
            data[pos:pos] = draw(st.sampled_from(SNIPPETS))
        elif op == 3:  # insert an element with random text
            tag = draw(st.sampled_from(ELEMENTS)).encode()
            text = draw(st.text(max_size=20)).encode("utf-8", "surrogatepass")
            data[pos:pos] = b"<" + tag + b">" + text + b"</" + tag + b">"
        else:  # delete a span
            del data[pos:pos + draw(st.integers(0, 40))]
    return bytes(data)


values = st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",)), max_size=24), st.sampled_from(
    [KYOKAI_TOKYO, f"  {KOKUHO}", f"00{KOKUHO}", "1234", "1001", "00", "19800615", "20261399", "1", "0", "", " ", "１２３"]))
well_formed = st.builds(
    lambda infos, regs, enc, date: (codec.inquiry_request(FACILITY, infos, encoding=enc, as_of=date) if infos else codec.registration_request(FACILITY, regs, encoding=enc)),
    st.lists(st.builds(SearchInfo, values, values, values, values, values, values, values), max_size=3),
    st.lists(st.builds(Registration, values, values, values, values, values), min_size=1, max_size=3),
    st.sampled_from(["utf-8", "shift_jis"]),
    st.none() | st.dates(),
)
documents = st.one_of(st.binary(max_size=600), mutated(), well_formed, st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")))


@settings(max_examples=1500, deadline=None)
@given(documents)
def test_parser_raises_only_xml_errors(data):
    try:
        msg = codec.parse_request(data)
    except XmlError as exc:
        assert exc.code in codes.ERROR_MESSAGES
        return
    assert msg.encoding in ("utf-8", "shift_jis")


@pytest.fixture
def fuzz_service(engine, today):  # noqa: ANN001, ANN201
    world = World.build(engine)
    world.member(number="1001")
    return OqsService(world.registry)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=documents, prefix=st.sampled_from(codes.REQUEST_PREFIXES))
def test_service_always_answers_with_a_result_file(fuzz_service, data, prefix):
    answer = fuzz_service.answer(prefix, data, FACILITY)
    res = codec.read_result(answer.body)  # our own output always parses
    assert res["header"]["SegmentOfResult"] in ("1", "2", "9")
    if res["header"]["SegmentOfResult"] == "9":
        assert res["header"]["ErrorCode"] in codes.ERROR_MESSAGES
