"""Insurer issuance over HTTP (issue 12 items 3 and 4), on every backend: applications,
cancellations and returns, settings, a run started by an insurer key for its own members and
its result, documents and PDFs — validated (422 naming the field), idempotent under a request
id, and only for the insurer's own members (another insurer's: 403 or 404, never data)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from onshi.interfaces.http.app import create_app

from factories import FACILITY, KOKUHO, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO, key
from test_http_api import assert_problem

API = "/api/v1/insurers"
CARD = {"issued": "2024-03-01", "registered_on": "2024-04-01"}


def ik(insurer: str) -> dict:
    return {"X-API-Key": key("insurer", insurer)}


@pytest.fixture
def client(world):  # noqa: ANN001, ANN201
    with TestClient(create_app(world.registry), raise_server_exceptions=False) as c:
        yield c


def wait_done(client: TestClient, insurer: str, run_id: int) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(f"{API}/{insurer}/issuance-runs/{run_id}", headers=ik(insurer)).json()
        if body["status"] != "running":
            return body
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def test_applications_cancellations_and_returns(client, world, today):
    today("2026-06-10")
    m = world.member(KYOKAI_TOKYO, card=CARD)
    body = {"request_id": "a-1", "symbol": "1234", "number": m["number"], "branch": "00", "date": "2026-06-09", "reason": "care"}
    r = client.post(f"{API}/{KYOKAI_TOKYO}/applications", json=body, headers=ik(KYOKAI_TOKYO))
    assert r.status_code == 201 and r.json()["reason"] == "care"
    again = client.post(f"{API}/{KYOKAI_TOKYO}/applications", json=body, headers=ik(KYOKAI_TOKYO))
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and again.json() == r.json()
    assert_problem(client.post(f"{API}/{KYOKAI_TOKYO}/applications", json=body | {"reason": "whim"}, headers=ik(KYOKAI_TOKYO)), 422, "reason")
    assert_problem(client.post(f"{API}/{KYOKAI_TOKYO}/applications", json=body | {"request_id": "a-2"}, headers=ik(KYOKAI_TOKYO)), 409, "date")
    # another insurer: its key may not act for this insurer, and this member is not found among its own
    assert_problem(client.post(f"{API}/{KYOKAI_TOKYO}/applications", json=body, headers=ik(KUMIAI)), 403)
    other = assert_problem(client.post(f"{API}/{KUMIAI}/applications", json=body | {"request_id": "x"}, headers=ik(KUMIAI)), 404)
    assert "山田" not in str(other)
    r = client.post(f"{API}/{KYOKAI_TOKYO}/card-cancellations", json={"request_id": "k-1", "serial": m["serial"]}, headers=ik(KYOKAI_TOKYO))
    assert r.status_code == 201 and r.json()["registration_cancelled"] == "2026-06-10"
    assert_problem(client.post(f"{API}/{KUMIAI}/card-returns", json={"request_id": "k-2", "serial": m["serial"]}, headers=ik(KUMIAI)), 403)
    r = client.post(f"{API}/{KYOKAI_TOKYO}/card-returns", json={"request_id": "k-3", "serial": m["serial"], "returned_on": "2026-06-10"}, headers=ik(KYOKAI_TOKYO))
    assert r.status_code == 201 and r.json()["returned"] == "2026-06-10"
    assert_problem(client.post(f"{API}/{KYOKAI_TOKYO}/card-returns", json={"request_id": "k-4", "serial": "bad serial"}, headers=ik(KYOKAI_TOKYO)), 422, "serial")


def test_settings_over_http(client, world):
    r = client.get(f"{API}/{KOKUHO}/issuance-settings", headers=ik(KOKUHO))
    assert r.status_code == 200 and r.json()["options"] == {} and r.json()["issuer_name"] == "練馬区長"
    body = {"request_id": "s-1", "options": {"certificate_years": 2, "annual_end": None}, "certificate_form": "a4"}
    r = client.put(f"{API}/{KOKUHO}/issuance-settings", json=body, headers=ik(KOKUHO))
    assert r.status_code == 201 and r.json()["options"] == {"annual_end": None, "certificate_years": 2}
    assert client.put(f"{API}/{KOKUHO}/issuance-settings", json=body, headers=ik(KOKUHO)).status_code == 200
    assert client.get(f"{API}/{KOKUHO}/issuance-settings", headers=ik(KOKUHO)).json()["certificate_form"] == "a4"
    assert_problem(client.put(f"{API}/{KOKUHO}/issuance-settings", json=body | {"request_id": "s-2", "options": {"annual_end": "13-01"}},
                              headers=ik(KOKUHO)), 422, "options.annual_end")
    assert_problem(client.put(f"{API}/{KOKUHO}/issuance-settings", json=body, headers=ik(KUMIAI)), 403)
    assert_problem(client.get(f"{API}/{KOKUHO}/issuance-settings", headers={"X-API-Key": key("facility", FACILITY)}), 403)


def test_an_insurer_runs_its_own_issuance_and_reads_the_result(client, world, today):
    today("2026-07-01")
    mine = world.member(KOUKI_TOKYO, name="髙橋 﨑子", kana="タカハシ サキコ", symbol="", number="12345678", branch="", birth_date="1938-03-03",
                        start="2015-04-01", kouki_ratio=10, card=CARD, address="東京都千代田区霞が関1-2-2", postcode="100-8916")
    world.certificate(mine, issued="2025-07-10", valid_from="2025-08-01", expires="2026-07-31")
    other = world.member(KYOKAI_TOKYO, number="777")
    r = client.post(f"{API}/{KOUKI_TOKYO}/issuance-runs", json={"request_id": "run-1"}, headers=ik(KOUKI_TOKYO))
    assert r.status_code == 202 and r.json()["status"] in ("running", "done") and r.json()["date"] == "2026-07-01"
    run = wait_done(client, KOUKI_TOKYO, r.json()["run_id"])
    assert run["status"] == "done" and run["documents"] == {"eligibility_certificate": 1, "registration_notice": 1} and run["pdf_parts"] == 1
    assert run["summary"]["rules"]["eligibility_certificate"]["R-I3g"] == 1
    replay = client.post(f"{API}/{KOUKI_TOKYO}/issuance-runs", json={"request_id": "run-1"}, headers=ik(KOUKI_TOKYO))
    assert replay.status_code == 200 and replay.json()["run_id"] == run["run_id"]
    docs = client.get(f"{API}/{KOUKI_TOKYO}/issuance-runs/{run['run_id']}/documents", headers=ik(KOUKI_TOKYO)).json()["documents"]
    cert = next(d for d in docs if d["kind"] == "eligibility_certificate")
    assert (cert["valid_from"], cert["expires"], cert["name"]) == ("2026-08-01", "2027-07-31", "髙橋 﨑子")  # as stored, no ●
    pdf = client.get(f"{API}/{KOUKI_TOKYO}/issuance-runs/{run['run_id']}/pdf", headers=ik(KOUKI_TOKYO))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF") and pdf.headers["X-Pages"] == "2"
    member = client.get(f"{API}/{KOUKI_TOKYO}/members/{mine['qualification_id']}/documents.pdf", headers=ik(KOUKI_TOKYO))
    assert member.status_code == 200 and member.content.startswith(b"%PDF")
    # never another insurer's: its run, its members, its documents
    assert_problem(client.get(f"{API}/{KYOKAI_TOKYO}/issuance-runs/{run['run_id']}", headers=ik(KYOKAI_TOKYO)), 404)
    assert_problem(client.get(f"{API}/{KYOKAI_TOKYO}/issuance-runs/{run['run_id']}/pdf", headers=ik(KYOKAI_TOKYO)), 404)
    assert_problem(client.get(f"{API}/{KYOKAI_TOKYO}/members/{mine['qualification_id']}/documents.pdf", headers=ik(KYOKAI_TOKYO)), 404)
    assert_problem(client.get(f"{API}/{KOUKI_TOKYO}/members/{other['qualification_id']}/documents.pdf", headers=ik(KOUKI_TOKYO)), 404)
    assert_problem(client.get(f"{API}/{KOUKI_TOKYO}/issuance-runs/{run['run_id']}", headers=ik(KYOKAI_TOKYO)), 403)
    assert_problem(client.get(f"{API}/{KOUKI_TOKYO}/issuance-runs/{run['run_id']}/pdf?part=2", headers=ik(KOUKI_TOKYO)), 404)
    runs = client.get(f"{API}/{KOUKI_TOKYO}/issuance-runs", headers=ik(KOUKI_TOKYO)).json()["runs"]
    assert [x["run_id"] for x in runs] == [run["run_id"]]
    with world.engine.connect() as conn:  # the other insurer's member was not touched
        assert conn.execute(text("SELECT COUNT(*) FROM document WHERE qualification_id = :q"), {"q": other["qualification_id"]}).scalar() == 0


def test_an_all_insurer_run_shows_each_insurer_only_its_own(client, world, today):
    from onshi.issuance.run import run_issuance

    today("2026-07-01")
    world.member(KUMIAI, symbol="77", number="1")
    world.member(KYOKAI_TOKYO, number="2")
    run = run_issuance(world.engine, dt.date(2026, 7, 1))
    seen = client.get(f"{API}/{KUMIAI}/issuance-runs/{run.id}", headers=ik(KUMIAI)).json()
    assert seen["scope"] == "*" and seen["documents"] == {"eligibility_certificate": 1} and seen["candidates"] is None
    assert seen["summary"] == {"documents": {"eligibility_certificate": 1}}  # not the whole run's counts


def test_a_second_run_while_one_runs_is_a_409(client, world, today):
    from onshi.issuance.run import start_run

    today("2026-07-01")
    start_run(world.engine, dt.date(2026, 7, 1), KYOKAI_TOKYO)  # running, in this (live) process
    r = client.post(f"{API}/{KYOKAI_TOKYO}/issuance-runs", json={"request_id": "run-2"}, headers=ik(KYOKAI_TOKYO))
    assert_problem(r, 409)
    assert_problem(client.post(f"{API}/{KYOKAI_TOKYO}/issuance-runs", json={"request_id": "bad id!"}, headers=ik(KYOKAI_TOKYO)), 422, "request_id")
