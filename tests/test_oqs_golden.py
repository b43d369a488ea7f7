"""Golden files (tests/oqs_golden/): hand-written requests and the answers a client expects,
compared element by element — so that a renamed, missing or extra element can never pass
again — and read back by a small client that knows only the digest's names (oqs_digest.py).

Placeholders in the expected files: {{NOW}} (a yyyyMMddHHmmss of today), {{RECEPTION}} (the
受付番号 the bulk's first answer gave), {{PREFIX:text}} (a message that starts with text)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from lxml import etree

from onshi.interfaces.oqs_xml import codes
from onshi.interfaces.oqs_xml.service import OqsService
from onshi.registry.service import Registry

import oqs_digest
from factories import FACILITY, World

GOLDEN = Path(__file__).parent / "oqs_golden"
CASES = GOLDEN / "cases"
REGISTRY = yaml.safe_load((GOLDEN / "registry.yaml").read_text(encoding="utf-8"))
TODAY = str(REGISTRY["today"])
# The request prefix each golden case is sent as (the file name a client would write).
PREFIX = {"bulk_01": codes.BULK_INQUIRY, "bulk_02": codes.BULK_INQUIRY_RESULT, "error_reception": codes.BULK_INQUIRY_RESULT}
# The one name onshi writes that the digest does not spell out: the unit of a bulk 照会番号
# registration result (the digest is silent on OQSmuimm02res; public clients read this name).
NOT_IN_DIGEST = {"BulkRegistrationUnit"}


def _iso(v: object) -> str | None:
    return None if v is None else str(v)


def build(engine) -> tuple[World, dict[str, dict]]:  # noqa: ANN001
    """The registry of registry.yaml, through the insurers' operations."""
    world = World.build(engine)
    members = {}
    for key, m in REGISTRY["members"].items():
        fields = {k: _iso(v) if isinstance(v, dt.date) else v for k, v in m.items()
                  if k not in ("certificates", "loss", "next", "card", "insurer")}
        card = m.get("card")
        if card:
            card = {k: _iso(v) for k, v in card.items()}
        mn = world.resident(name=m["name"], kana=m["kana"], birth_date=fields["birth_date"], sex=m["sex"], address=m["address"])
        members[key] = member = world.member(m["insurer"], card=card, my_number=mn, **fields)
        for c in m.get("certificates", ()):
            world.certificate(member, issued=_iso(c["issued"]), valid_from=_iso(c.get("valid_from")), expires=_iso(c.get("expires")))
        if "loss" in m:
            loss = m["loss"]
            world.registry.operate(m["insurer"], "loss", dict(
                request_id=f"loss-{key}", symbol=m["symbol"], number=m["number"], branch=m["branch"],
                end=_iso(loss["end"]), notified=_iso(loss["notified"]), loss_reason=loss["reason"]))
        if "next" in m:
            n = m["next"]
            world.member(n["insurer"], my_number=member["my_number"], symbol=n["symbol"], number=n["number"], branch=n["branch"],
                         start=_iso(n["start"]), notified=_iso(n["notified"]), name=m["name"], kana=m["kana"],
                         birth_date=_iso(m["birth_date"]), sex=m["sex"], address=m["address"], postcode=m["postcode"])
    return world, members


# ---------------------------------------------------------------- comparing element by element


def _match(expected: str, actual: str, context: dict) -> bool:
    if expected == "{{NOW}}":
        return re.fullmatch(r"\d{14}", actual) is not None and actual.startswith(TODAY.replace("-", ""))
    if expected == "{{RECEPTION}}":
        return actual == context.get("reception")
    if expected.startswith("{{PREFIX:") and expected.endswith("}}"):
        return actual.startswith(expected[len("{{PREFIX:"):-2])
    return expected == actual


def compare(expected: etree._Element, actual: etree._Element, context: dict, path: str = "") -> list[str]:
    """Differences, order-free between different elements, in order among repeated ones."""
    path = f"{path}/{expected.tag}"
    if expected.tag != actual.tag:
        return [f"{path}: element is {actual.tag}"]
    exp_children, act_children = list(expected), list(actual)
    if not exp_children:
        if act_children:
            return [f"{path}: has children {[c.tag for c in act_children]}, expected text {expected.text!r}"]
        e, a = expected.text or "", actual.text or ""
        return [] if _match(e, a, context) else [f"{path}: {a!r}, expected {e!r}"]
    diffs = []
    by_tag: dict[str, tuple[list, list]] = {}
    for c in exp_children:
        by_tag.setdefault(c.tag, ([], []))[0].append(c)
    for c in act_children:
        by_tag.setdefault(c.tag, ([], []))[1].append(c)
    for tag, (exp, act) in by_tag.items():
        if len(exp) != len(act):
            diffs.append(f"{path}/{tag}: {len(act)} in the answer, {len(exp)} expected")
            continue
        for e, a in zip(exp, act):
            diffs += compare(e, a, context, path)
    return diffs


def _declared(data: bytes) -> str:
    return re.match(rb'<\?xml[^>]*encoding="([^"]+)"', data).group(1).decode()


def check(name: str, answer: bytes, context: dict) -> list[str]:
    expected_bytes = (CASES / f"{name}.res.xml").read_bytes()
    diffs = []
    if _declared(answer) != _declared(expected_bytes):
        diffs.append(f"encoding {_declared(answer)}, expected {_declared(expected_bytes)}")
    if b"&#" in answer:
        diffs.append("a numeric character reference")
    expected, actual = etree.fromstring(expected_bytes), etree.fromstring(answer)  # lxml decodes either encoding itself
    return [f"{name}: {d}" for d in diffs + compare(expected, actual, context)]


def run_golden(world: World, service: OqsService) -> tuple[dict[str, bytes], list[str]]:
    answers, diffs, context = {}, [], {}
    for request in sorted(CASES.glob("*.req.xml")):
        name = request.name.removesuffix(".req.xml")
        data = request.read_bytes()
        if b"{{RECEPTION}}" in data:
            data = data.replace(b"{{RECEPTION}}", context["reception"].encode())
        answer = service.answer(PREFIX.get(name, codes.SINGLE_INQUIRY), data, FACILITY)
        if name == "bulk_01":
            context["reception"] = etree.fromstring(answer.body).findtext(".//ReceptionNumber")
            service.process_pending()
        answers[name] = answer.body
        diffs += check(name, answer.body, context)
    for card in sorted(CASES.glob("*.card.yaml")):
        name = card.name.removesuffix(".card.yaml")
        spec = yaml.safe_load(card.read_text(encoding="utf-8"))
        _result, answers[name] = service.card_verification(FACILITY, spec["serial"], identity=spec.get("identity", "face"))
        diffs += check(name, answers[name], context)
    return answers, diffs


@pytest.fixture
def golden(engine, today):  # noqa: ANN001, ANN201
    today(TODAY)
    world, members = build(engine)
    service = OqsService(world.registry)
    answers, diffs = run_golden(world, service)
    return world, service, members, answers, diffs


# ---------------------------------------------------------------- the tests


def test_golden_folder_is_complete():
    requests = {p.name.removesuffix(".req.xml") for p in CASES.glob("*.req.xml")} | {p.name.removesuffix(".card.yaml") for p in CASES.glob("*.card.yaml")}
    answers = {p.name.removesuffix(".res.xml") for p in CASES.glob("*.res.xml")}
    assert requests == answers and len(requests) >= 25
    encodings = {name: _declared((CASES / f"{name}.res.xml").read_bytes()) for name in answers}
    assert {"valid_sjis", "maru_sjis", "error_malformed_sjis"} <= {n for n, e in encodings.items() if e == "Shift_JIS"}
    for name, enc in encodings.items():  # the expected files are what they say they are
        data = (CASES / f"{name}.res.xml").read_bytes()
        data.decode("utf-8" if enc == "UTF-8" else "shift_jis")  # strict Shift_JIS (JIS X 0208), not only CP932


def test_every_golden_answer_matches_element_by_element(golden):
    *_, diffs = golden
    assert diffs == []


def test_every_element_name_onshi_writes_is_spelled_out_in_the_digest(golden):
    world, service, members, answers, _ = golden
    # and the 照会番号 registration results, which the golden cases do not cover
    from onshi.interfaces.oqs_xml import codec
    from onshi.interfaces.oqs_xml.codec import Registration

    m = members["yamada"]
    reg = [Registration("KARTE-1", m["insurer"], m["symbol"], m["number"], m["branch"])]
    answers["registration"] = service.answer(codes.REFERENCE_NUMBER, codec.registration_request(FACILITY, reg), FACILITY).body
    first = service.answer(codes.BULK_REFERENCE_NUMBER, codec.registration_request(FACILITY, reg * 2), FACILITY).body
    service.process_pending()
    reception = etree.fromstring(first).findtext(".//ReceptionNumber")
    answers["registration_bulk"] = service.answer(codes.BULK_REFERENCE_NUMBER_RESULT, codec.reception_request(FACILITY, reception), FACILITY).body
    written = {el.tag for body in answers.values() for el in etree.fromstring(body).iter()}
    assert "ElderlyRecipientValidStartDate" in written and "InsuredCardValidDate" in written  # the outputs are the real ones
    assert sorted(written - oqs_digest.element_names() - NOT_IN_DIGEST) == []
    assert NOT_IN_DIGEST <= written  # the exception is still needed (else remove it)


def test_an_independent_client_gets_the_ratio_the_dates_and_the_limit_category(golden):
    """What a clinic system reading the digest's names (not onshi's constants) makes of the answers."""
    *_, answers, _diffs = golden
    elderly = oqs_digest.client_record(answers["elderly_20"])
    assert elderly["copay_percent"] == 20  # R-P3: 70–74
    assert elderly["elderly"] == {"issued": "2025-11-14", "start": "2024-04-01", "end": "2029-03-09"}
    assert oqs_digest.client_record(answers["elderly_30"])["copay_percent"] == 30  # 現役並み
    assert oqs_digest.client_record(answers["face_elderly30"])["copay_percent"] == 30  # the card read at the reader too
    valid = oqs_digest.client_record(answers["valid"])
    assert (valid["issued"], valid["valid_from"], valid["valid_to"]) == ("2025-11-14", "2025-12-02", "2030-11-30")
    assert oqs_digest.client_record(answers["valid_sjis"])["valid_from"] == "2025-12-02"
    limit = oqs_digest.client_record(answers["limit_consent"])
    assert limit["limit_category"] == "A03" and limit["limit"] == {"issued": "2026-03-25", "start": "2026-04-01", "end": "2027-07-31"}
    assert oqs_digest.client_record(answers["limit_no_consent"])["limit_category"] is None
    assert [oqs_digest.client_record(answers[f"kouki_{r}"])["copay_percent"] for r in (10, 20, 30)] == [10, 20, 30]
    no_certificate = oqs_digest.client_record(answers["kouki_10"])
    assert (no_certificate["issued"], no_certificate["valid_from"], no_certificate["valid_to"]) == (None, "2020-03-03", None)
    for name in ("invalid", "invalid_new", "not_found", "error_field", "error_malformed"):
        assert oqs_digest.client_record(answers[name]) is None, name  # not confirmed: no insurance record


def test_shift_jis_answers_hold_only_shift_jis_whatever_onshi_charset_says(engine, today, monkeypatch):
    """R-D4: with ONSHI_CHARSET=unicode the UTF-8 answer keeps 髙 and 𠮷, the Shift_JIS answer
    has ● — never a numeric character reference."""
    monkeypatch.setenv("ONSHI_CHARSET", "unicode")
    today(TODAY)
    world, _ = build(engine)
    service = OqsService(Registry(engine))
    assert service.registry.repertoire == "unicode"
    utf8 = service.answer(codes.SINGLE_INQUIRY, (CASES / "maru.req.xml").read_bytes(), FACILITY).body
    assert "<Name>髙橋\u3000𠮷男</Name>".encode() in utf8
    sjis = service.answer(codes.SINGLE_INQUIRY, (CASES / "maru_sjis.req.xml").read_bytes(), FACILITY).body
    assert b"&#" not in sjis and "<Name>●橋\u3000●男</Name>".encode("shift_jis") in sjis
    sjis.decode("shift_jis")  # strict Shift_JIS decodes the whole file
    assert check("maru_sjis", sjis, {}) == []
