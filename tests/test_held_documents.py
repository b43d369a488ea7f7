"""The lookup carries what the patient holds for the qualification (issue 9): the 資格確認書's
issue date and validity, else the qualification's own dates — in the registry's single
lookup implementation, and so in the terminal XML, FHIR, the desk's certificate route
(R-A3a/R-A3b) and the reception page alike."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from onshi.frontdesk.case import case_inputs, parse_case
from onshi.frontdesk.engine import decide
from onshi.interfaces.http.app import create_app
from onshi.policy import load_policy
from onshi.registry.lookup import DocumentRow, QualificationRow, held_document
from onshi.registry.service import parse_number_query

from factories import FACILITY, KYOKAI_TOKYO, key

D = dt.date.fromisoformat


def q_with(*docs: DocumentRow, end: str | None = None) -> QualificationRow:
    return QualificationRow(id=1, insurer_number=KYOKAI_TOKYO, symbol="1", number="2", branch="00", relation="self",
                            start=D("2015-04-01"), end=D(end) if end else None, registered=D("2015-04-03"), documents=docs)


OLD_CARD = DocumentRow(1, "insurance_card", D("2015-04-10"), D("2015-04-01"), D("2025-12-01"))
FIRST = DocumentRow(2, "eligibility_certificate", D("2025-11-14"), D("2025-12-02"), D("2026-11-30"))
RENEWAL = DocumentRow(3, "eligibility_certificate", D("2026-11-10"), D("2026-12-01"), D("2031-11-30"))


# ---------------------------------------------------------------- the selection (pure)


def test_the_document_valid_that_day_is_held():
    q = q_with(OLD_CARD, FIRST, RENEWAL)
    assert held_document(q, D("2025-06-01")) == OLD_CARD  # before 2025-12-02 the old card (A6)
    assert held_document(q, D("2025-11-20")) == OLD_CARD  # the certificate is issued but not valid yet
    assert held_document(q, D("2025-12-02")) == FIRST
    assert held_document(q, D("2026-11-20")) == FIRST  # the renewal has arrived but starts on 12-01
    assert held_document(q, D("2026-12-01")) == RENEWAL
    assert held_document(q, D("2032-01-01")) is None  # all expired: the qualification's own dates apply


def test_an_ended_qualification_returns_what_was_held_on_its_last_day():
    q = q_with(FIRST, end="2026-03-31")
    assert held_document(q, D("2026-04-20")) == FIRST
    assert held_document(q_with(FIRST, end="2025-11-30"), D("2026-04-20")) is None


def test_notices_and_documents_without_dates():
    notice = DocumentRow(4, "notice", D("2025-11-01"))
    assert held_document(q_with(notice), D("2026-01-01")) is None  # a お知らせ is no certificate (A4)
    undated = DocumentRow(5, "eligibility_certificate", D("2025-11-01"))  # no validity printed: from its issue, open
    assert held_document(q_with(undated), D("2026-01-01")) == undated and held_document(q_with(undated), D("2025-10-31")) is None


# ---------------------------------------------------------------- the registry (every backend)


def test_lookups_by_numbers_and_card_carry_the_held_certificate(world, today):
    m = world.member(card={"issued": "2022-03-01"})
    plain = world.registry.lookup_by_numbers(FACILITY, parse_number_query(m["insurer"], m["symbol"], m["number"], m["branch"], m["birth_date"]))
    q = plain.qualification
    assert (q.certificate_kind, q.certificate_issued, q.certificate_valid_from, q.certificate_valid_to) == (None, None, D("2015-04-01"), None)
    world.certificate(m, issued="2025-11-14", valid_from="2025-12-02", expires="2030-11-30")
    world.certificate(m, kind="notice", issued="2025-11-14", expires=None)
    world.certificate(m, kind="insurance_card", issued="2015-04-10", valid_from="2015-04-01", expires="2025-12-01")
    by_numbers = world.registry.lookup_by_numbers(FACILITY, parse_number_query(m["insurer"], m["symbol"], m["number"], m["branch"], m["birth_date"]))
    by_card = world.registry.lookup_by_card(FACILITY, m["serial"])
    for r in (by_numbers, by_card):
        q = r.qualification
        assert q.certificate_kind == "eligibility_certificate"
        assert (q.certificate_issued, q.certificate_valid_from, q.certificate_valid_to) == (D("2025-11-14"), D("2025-12-02"), D("2030-11-30"))
        assert r.to_dict()["qualification"]["certificate_valid_from"] == "2025-12-02"  # the JSON API and CLI too

def test_before_2025_12_02_the_old_card_is_what_is_held(world, today):
    today("2025-09-01")
    m = world.member(number="3003")
    world.certificate(m, kind="insurance_card", issued="2015-04-10", valid_from="2015-04-01", expires="2025-12-01")
    world.certificate(m, issued="2025-08-20", valid_from="2025-12-02", expires="2030-11-30")
    query = parse_number_query(m["insurer"], m["symbol"], m["number"], m["branch"], m["birth_date"])
    old = world.registry.lookup_by_numbers(FACILITY, query, day=D("2025-10-01")).qualification
    assert (old.certificate_kind, old.certificate_issued, old.certificate_valid_from, old.certificate_valid_to) == (
        "insurance_card", D("2015-04-10"), D("2015-04-01"), D("2025-12-01"))
    today("2025-12-02")
    assert world.registry.lookup_by_numbers(FACILITY, query).qualification.certificate_kind == "eligibility_certificate"


def test_limit_issue_date_only_with_consent(world):
    m = world.member(limit_category="B05", limit_start="2026-04-01", limit_end="2027-07-31", limit_issued="2026-03-25", birth_date="1954-03-10")
    query = parse_number_query(m["insurer"], m["symbol"], m["number"], m["branch"], m["birth_date"])
    assert world.registry.lookup_by_numbers(FACILITY, query).qualification.limit_issued is None
    q = world.registry.lookup_by_numbers(FACILITY, query, limit_consent=True).qualification
    assert (q.limit_category, q.limit_issued, q.limit_start, q.limit_end) == ("B05", D("2026-03-25"), D("2026-04-01"), D("2027-07-31"))


def test_R_P3_elderly_certificate_date_comes_from_the_held_certificate(world):
    m = world.member(birth_date="1954-03-10", start="2025-06-01")  # joined this insurer at 71
    query = parse_number_query(m["insurer"], m["symbol"], m["number"], m["branch"], m["birth_date"])
    q = world.registry.lookup_by_numbers(FACILITY, query).qualification
    assert (q.elderly_issued, q.elderly_start, q.elderly_end) == (None, D("2025-06-01"), D("2029-03-09"))  # from the qualification's start
    world.certificate(m, issued="2025-11-14", valid_from="2025-12-02", expires="2029-03-09")
    assert world.registry.lookup_by_numbers(FACILITY, query).qualification.elderly_issued == D("2025-11-14")


# ---------------------------------------------------------------- the desk (R-A3) and the page


CASE = {
    "visit": {"date": "2026-05-12", "presented": ["eligibility_certificate"]},
    "person": {
        "birth_date": "1980-06-15",
        "qualifications": [{"id": "q1", "insurer": KYOKAI_TOKYO, "symbol": "1234", "number": "5678", "branch": "00",
                            "start": "2015-04-01", "registered": None}],
        "documents": [{"kind": "eligibility_certificate", "qualification": "q1", "issued": "2025-11-14", "valid_from": "2025-12-02",
                       "expires": "2030-11-30"}],
    },
}


def _decide(case: dict):  # noqa: ANN202
    policy = load_policy()
    visit, patient, port = case_inputs(parse_case(case), policy.at(D(case["visit"]["date"])))
    return decide(visit, patient, port, policy.at(visit.date))


def test_R_A3b_the_desk_checks_the_presented_certificates_dates():
    d = _decide(CASE)
    assert "R-A3b" in d.rules and "check_certificate_dates" in d.actions
    assert (d.certificate.source, d.certificate.issued, d.certificate.valid_from, d.certificate.valid_to) == (
        "presented", D("2025-11-14"), D("2025-12-02"), D("2030-11-30"))
    assert any("令和7年11月14日" in n and "令和7年12月2日〜令和12年11月30日" in n for n in d.notes)
    before = _decide(CASE | {"visit": {"date": "2025-11-20", "presented": ["eligibility_certificate"]}})
    assert "R-A3b" not in before.rules and not before.insured  # not valid before its first day


def test_R_A3a_the_desk_shows_the_registrys_dates_the_same_as_the_terminal():
    registered = {**CASE, "person": {**CASE["person"], "qualifications": [CASE["person"]["qualifications"][0] | {"registered": "2015-04-03"}]}}
    d = _decide(registered)
    assert "R-A3a" in d.rules
    assert (d.certificate.source, d.certificate.issued, d.certificate.valid_to) == ("registry", D("2025-11-14"), D("2030-11-30"))
    q = d.lookups[0].qualification
    assert (q.certificate_issued, q.certificate_valid_from, q.certificate_valid_to) == (d.certificate.issued, d.certificate.valid_from, d.certificate.valid_to)


def _login(client: TestClient) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf": csrf, "api_key": key("facility", FACILITY), "next": ""})
    return re.search(r'name="csrf" value="([^"]+)"', client.get(r.headers["location"]).text).group(1)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_reception_page_shows_the_same_certificate_dates(world):
    m = world.member()
    world.certificate(m, issued="2025-11-14", valid_from="2025-12-02", expires="2030-11-30")
    with TestClient(create_app(world.registry), follow_redirects=False) as client:
        csrf = _login(client)
        fields = {"csrf": csrf, "patient_ref": "K-1", "presented": "eligibility_certificate", "birth_date": "1980-06-15",
                  "document.insurer_number": KYOKAI_TOKYO, "document.symbol": "1234", "document.number": m["number"], "document.branch": "00",
                  "document.issued": "令和7年11月14日", "document.valid_from": "R7.12.2", "document.expires": "2030-11-30"}
        body = _text(client.post("/reception", data=fields).text)
        # R-A3a: the registry's answer, as the terminal writes it
        assert "資格確認書の日付（照会結果）" in body
        assert "交付年月日 令和7年11月14日（2025年11月14日） 有効開始年月日 令和7年12月2日（2025年12月2日） 有効終了年月日 令和12年11月30日（2030年11月30日）" in body
        assert "資格確認書 交付 令和7年11月14日（2025年11月14日）、有効 令和7年12月2日（2025年12月2日） 〜 令和12年11月30日（2030年11月30日）" in body
        # R-A3b: not found online — the presented certificate's dates, as typed
        r = client.post("/reception", data=fields | {"patient_ref": "K-2", "document.number": "99999", "document.expires": "2030-10-31"})
        body = _text(r.text)
        assert "R-A3b" in body and "資格確認書の日付（提示された書類）" in body and "令和12年10月31日（2030年10月31日）" in body
