"""The front desk on the live registry: POST /frontdesk/visits and /frontdesk/decide."""

from __future__ import annotations

import json

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onshi.interfaces.http.app import create_app
from onshi.registry import schema

from factories import FACILITY, KUMIAI, KYOKAI_TOKYO, OFFLINE_FACILITY, key

API = "/api/v1/frontdesk"
FK = {"X-API-Key": key("facility", FACILITY)}
CARD = {"issued": "2022-03-01"}


@pytest.fixture
def client(world):  # noqa: ANN001, ANN201
    with TestClient(create_app(world.registry), raise_server_exceptions=False) as c:
        yield c


def visits(engine) -> list[dict]:  # noqa: ANN001
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(schema.visit).order_by(schema.visit.c.id)).mappings()]


def post(client, body: dict, headers=FK):  # noqa: ANN001, ANN201
    return client.post(f"{API}/visits", json=body, headers=headers)


def test_R_D1_my_number_card_visit_is_decided_recorded_and_logged(client, world):
    m = world.member(card=CARD)
    r = post(client, {"patient_ref": "K-1", "presented": ["my_number_card"], "card_serial": m["serial"], "consent": True})
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["claim"]["basis"] == "current" and d["claim"]["insurer"] == KYOKAI_TOKYO and d["copay_ratio"] == 0.3
    assert d["verification"] == {"method": "my_number_card", "result": "valid"} and d["medical_info"] is True
    [v] = visits(world.engine)
    assert v["id"] == d["visit_id"] and v["basis"] == "current" and v["qualification_id"] == m["qualification_id"]
    assert v["person_id"] == m["person_id"] and v["birth_date"].isoformat() == "1980-06-15" and json.loads(v["decision"])["rules"]
    assert [x["result"] for x in world.registry.log.for_facility(FACILITY)] == ["valid"]


def test_R_D2_job_change_not_yet_registered_bills_the_lost_qualification(client, world, today):
    today("2026-03-01")
    m = world.member(card=CARD)
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-03-31", notified="2026-03-01", loss_reason="03"))
    today("2026-04-08")
    d = post(client, {"patient_ref": "K-2", "presented": ["my_number_card"], "card_serial": m["serial"]}).json()
    assert d["claim"]["basis"] == "lost" and d["verification"]["result"] == "invalid" and d["insured"] is True
    declared = {"insurer_number": KUMIAI, "symbol": "88", "number": "1207", "branch": "00"}
    d = post(client, {"patient_ref": "K-2", "presented": ["my_number_card"], "card_serial": m["serial"], "declared": declared}).json()
    assert d["claim"]["basis"] == "declared" and d["claim"]["insurer"] == KUMIAI


def test_R_C2_unknown_claim_keeps_the_remarks_then_R_E5_past_record(client, world, today):
    today("2026-04-08")
    m = world.member(card=CARD | {"registered_on": "2022-04-01"}, start="2026-04-01", notified="2026-04-05")
    remarks = {"insurance_kind": "社保", "insurer_name": "霞が関健康保険組合", "employer": "霞が関商事", "phone": "03-1234-5678"}
    # the only qualification is not found by the card (registered today, looked up as of an earlier day)
    d = post(client, {"patient_ref": "K-3", "date": "2026-04-07", "presented": ["my_number_card"], "card_serial": m["serial"], "kana": "ヤマダ タロウ", "remarks": remarks}).json()
    assert d["claim"]["basis"] == "unknown" and d["claim"]["insurer"] == "77777777" and "declaration_form" in d["actions"]
    assert json.loads(visits(world.engine)[-1]["remarks"])["phone"] == "03-1234-5678"
    d = post(client, {"patient_ref": "K-3", "date": "2026-04-08", "presented": ["my_number_card"], "card_serial": m["serial"]}).json()
    assert d["claim"]["basis"] == "current"
    # a later visit on a day the network is down: this facility's own record (R-E5), not 不詳
    d = post(client, {"patient_ref": "K-3", "date": "2026-04-20", "presented": ["my_number_card"], "card_serial": m["serial"], "device": "network_error"}).json()
    assert d["claim"]["basis"] == "past_record" and d["claim"]["insurer"] == KYOKAI_TOKYO and "R-E5" in d["rules"]


def test_R_T1_expired_card_inside_and_after_the_interim(client, world, today):
    m = world.member()
    doc = {"kind": "insurance_card", "insurer_number": KYOKAI_TOKYO, "symbol": "1234", "number": m["number"], "branch": "00", "expires": "2025-12-01"}
    body = {"patient_ref": "K-4", "presented": ["insurance_card"], "documents": [doc], "birth_date": "1980-06-15"}
    d = post(client, body | {"date": "2026-07-31"}).json()
    assert d["insured"] is True and d["claim"]["basis"] == "current" and "R-T1" in d["rules"]
    today("2026-08-01")
    d = post(client, body | {"date": "2026-08-01"}).json()
    assert d["insured"] is False and d["copay_ratio"] == 1.0 and "reimbursement" in d["actions"]


def test_R_T4_paper_facility_certificate_counts_on_its_own(client, world):
    m = world.member(KYOKAI_TOKYO)
    doc = {"kind": "eligibility_certificate", "insurer_number": KYOKAI_TOKYO, "symbol": "1234", "number": m["number"], "branch": "00", "issued": "2025-11-01", "expires": "2030-11-30"}
    d = post(client, {"patient_ref": "P-1", "presented": ["eligibility_certificate"], "documents": [doc], "birth_date": "1980-06-15"},
             headers={"X-API-Key": key("facility", OFFLINE_FACILITY)}).json()
    assert d["claim"]["basis"] == "document" and d["verification"] == {"method": "none", "result": "not_queried"} and "R-T4" in d["rules"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"presented": ["eligibility_certificate"], "documents": [], "birth_date": "1980-06-15"}, "documents"),
        ({"presented": [], "birth_date": "1980-06-15"}, "patient_ref"),
        ({"patient_ref": "K", "presented": []}, "birth_date"),
        ({"patient_ref": "K", "presented": ["my_number_card"], "birth_date": "1980-06-15"}, "card_serial"),
        ({"patient_ref": "K", "presented": ["passport"], "birth_date": "1980-06-15"}, "presented.0"),
        ({"patient_ref": "K", "presented": ["notice"], "documents": [{"kind": "notice", "insurer_number": "01130013", "number": "1"}], "birth_date": "1980-06-15"}, "documents.0.insurer_number"),
        ({"patient_ref": "K", "presented": [], "birth_date": "1980-02-30"}, "birth_date"),
        ({"patient_ref": "K", "presented": [], "birth_date": "1980-06-15", "kana": "山田"}, "kana"),
    ],
)
def test_bad_visits_are_422_naming_the_field_and_store_nothing(client, world, body, field):
    body = {"patient_ref": "K-9"} | body if "patient_ref" not in body and field != "patient_ref" else body
    r = post(client, body)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    assert visits(world.engine) == []


def test_access(client, world):
    body = {"patient_ref": "K", "presented": [], "birth_date": "1980-06-15"}
    assert post(client, body, headers={}).status_code == 401
    assert post(client, body, headers={"X-API-Key": key("insurer", KYOKAI_TOKYO)}).status_code == 403
    assert client.post(f"{API}/decide", json={}, headers={"X-API-Key": key("insurer", KYOKAI_TOKYO)}).status_code == 403


def test_decide_endpoint_answers_like_the_cli(client):
    from pathlib import Path

    from onshi.frontdesk.runner import decide_case

    case = yaml.safe_load((Path(__file__).parent / "cases" / "examples.yaml").read_text(encoding="utf-8"))[3]
    r = client.post(f"{API}/decide", content=json.dumps(case, default=str, ensure_ascii=False).encode(), headers=FK | {"content-type": "application/json"})
    assert r.status_code == 200 and r.json() == json.loads(json.dumps(decide_case(case)))
    bad = client.post(f"{API}/decide", json={"visit": {"date": "2026-02-30"}, "person": {"birth_date": "1980-01-01"}}, headers=FK)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "visit.date"


def test_visit_count_query(world):
    with world.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.visit)).scalar_one() == 0


def test_the_answer_carries_the_registrys_view_of_the_patient(client, world):
    world.resident(name="𠮷田 德子", kana="ヨシダ ノリコ", birth_date="1970-01-01", sex=2)
    m = world.member(name="𠮷田 德子", kana="ヨシダ ノリコ", birth_date="1970-01-01", sex=2, card=CARD, dv_flag=True, address="東京都千代田区霞が関1-2-2")
    d = post(client, {"patient_ref": "K-5", "presented": ["my_number_card"], "card_serial": m["serial"]}).json()
    assert d["patient"]["name"] == "●田 ●子"  # R-D4
    assert d["patient"]["address"] is None and "霞が関" not in json.dumps(d, ensure_ascii=False)  # R-D5


def test_R_E4_relation_is_not_assumed_when_the_desk_did_not_ask(client, world):
    m = world.member()
    doc = {"kind": "eligibility_certificate", "insurer_number": KYOKAI_TOKYO, "symbol": "1234", "number": m["number"], "branch": "00", "issued": "2025-11-01", "expires": "2030-11-30"}
    body = {"patient_ref": "K-6", "presented": ["eligibility_certificate"], "documents": [doc], "birth_date": "1980-06-15", "device": "network_error"}
    assert post(client, body).json()["claim"]["basis"] == "document"
    assert visits(world.engine)[-1]["relation"] is None
    post(client, body | {"relation": "family"})
    assert visits(world.engine)[-1]["relation"] == "family"


def test_an_unknown_insurer_is_refused_before_any_lookup_is_logged(client, world):
    m = world.member(card=CARD)
    doc = {"kind": "notice", "insurer_number": "01140011", "number": "1"}
    r = post(client, {"patient_ref": "K-7", "presented": ["my_number_card", "notice"], "card_serial": m["serial"], "documents": [doc]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "documents.0.insurer_number"
    assert world.registry.log.for_facility(FACILITY) == [] and visits(world.engine) == []


def test_a_card_read_at_the_reception_writes_the_terminals_face_file(world, tmp_path, monkeypatch):
    """Issue 4: a card verification from the reception page writes PATH/face/ like a real terminal."""
    from onshi.frontdesk.live import record_visit
    from onshi.interfaces.oqs_xml import codec
    from onshi.interfaces.web.display import lookup_observer

    monkeypatch.setenv("ONSHI_TERMINAL_DIR", str(tmp_path / "{facility}"))
    m = world.member(card=CARD)
    seen: list = []
    record_visit(world.registry, FACILITY, {"patient_ref": "K-8", "presented": ["my_number_card"], "card_serial": m["serial"]},
                 channel="web", on_lookup=lookup_observer(seen, FACILITY, world.registry))
    [face] = list((tmp_path / FACILITY / "face").glob("OQSsiquc01res_face_*.xml"))
    root = codec.parse_document(face.read_bytes())[0]
    assert root.findtext(".//QualificationValidity") == "1" and root.findtext(".//InsuredIdentificationNumber") == m["number"]
    assert len(seen) == 1 and len(world.registry.log.for_facility(FACILITY)) == 1  # one lookup, logged once


def test_a_public_expense_is_recorded_with_the_visit_for_the_claim(client, world):
    m = world.member(card=CARD)
    body = {"patient_ref": "K-10", "presented": ["my_number_card"], "card_serial": m["serial"]}
    r = post(client, body | {"public_expense": {"payer_number": "54136015", "recipient_number": "1234567"}})
    assert r.status_code == 201
    assert (visits(world.engine)[-1]["public_payer"], visits(world.engine)[-1]["public_recipient"]) == ("54136015", "1234567")
    bad = post(client, body | {"public_expense": {"payer_number": "54136014"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "public_expense.payer_number"
