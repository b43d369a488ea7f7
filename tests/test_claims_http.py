"""Claims over HTTP: facility keys build, file, download and re-claim; reviewer keys review;
bad input is a 4xx problem+json (line-numbered for a UKE file)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from onshi.claims import uke
from onshi.interfaces.http.app import create_app
from onshi.registry import schema
from onshi.registry.security import api_key_hash

from factories import FACILITY, KOKUHO, KYOKAI_TOKYO, OFFLINE_FACILITY, World, key
from test_claims import COMPLETE_REMARKS, add_visit
from test_http_api import assert_problem
from test_review import job_change

API = "/api/v1/claims"
FK = {"X-API-Key": key("facility", FACILITY)}
OTHER = {"X-API-Key": key("facility", OFFLINE_FACILITY)}
IK = {"X-API-Key": key("insurer", KYOKAI_TOKYO)}
RK = {"X-API-Key": "test-reviewer"}
RK2 = {"X-API-Key": "test-reviewer-kokuho"}


@pytest.fixture
def world(engine, today):  # noqa: ANN001, ANN201
    w = World.build(engine)
    with engine.begin() as conn:
        conn.execute(insert(schema.api_key), [
            dict(key_hash=api_key_hash("test-reviewer"), role="reviewer", subject="all", label="審査支払機関"),
            dict(key_hash=api_key_hash("test-reviewer-kokuho"), role="reviewer", subject="2", label="国保連"),
        ])
    return w


@pytest.fixture
def client(world):  # noqa: ANN001, ANN201
    with TestClient(create_app(world.registry), raise_server_exceptions=False) as c:
        yield c


def test_facility_builds_files_downloads_and_anyone_reads(client, world, engine):
    m = world.member()
    add_visit(engine, member=m, date="2026-05-12")
    add_visit(engine, patient="P009", basis="unknown", remarks={"kana": "フメイ タロウ"})
    built = client.post(f"{API}/builds", json={"month": "2026-05"}, headers=FK)
    assert built.status_code == 201, built.text
    assert [h["patient_ref"] for h in built.json()["held"]] == ["P009"]
    assert {f["rule"] for f in built.json()["held"][0]["checks"]} >= {"R-E1", "R-E3"}

    assert_problem(client.post(f"{API}/files", json={"month": "2026-05", "wareki": True}, headers=FK), 422, "wareki")  # 西暦 only
    filed = client.post(f"{API}/files", json={"month": "2026-05"}, headers=FK)
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["files"][0]["claims"] == 1 and body["held"][0]["patient_ref"] == "P009"
    download = client.get(body["files"][0]["href"], headers=FK)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/plain; charset=Shift_JIS")
    assert download.content.decode("cp932").startswith("IR,1,13,1,0000017,,") and b"\r\n" in download.content
    assert client.get(f"{API}?month=2026-05", headers=FK).json()["claims"][0]["status"] in ("filed", "built")

    parsed = client.post(f"{API}/reads", content=download.content, headers=RK)
    assert parsed.status_code == 200, parsed.text
    body = parsed.json()
    assert body["claim_count"] == 1 and body["file"]["revision"] == "R04" and body["file"]["encoding"] == "cp932"
    assert body["claims"][0]["records"][0]["type"] == "RE" and body["claims"][0]["care_month"] == "2026-05"


def test_bad_uke_upload_is_422_naming_the_line(client, world):
    r = client.post(f"{API}/reads", content="IR,1,13,1,0000017,,ｱ,202606,00,\r\nxx,1\r\n".encode(), headers=FK)
    body = assert_problem(r, 422, "line 2")
    assert "IR 医療機関名称 (field 7) 'ｱ' must be full-width" in body["detail"] and "'xx' is not a record type" in body["detail"]
    assert_problem(client.post(f"{API}/reads", content=b"", headers=FK), 422, "body")


@pytest.mark.parametrize(
    "path, payload, field",
    [
        ("/builds", {"month": "2026-13"}, "month"),
        ("/builds", {"month": "2026-05", "unknown_insurer": "12345678"}, "unknown_insurer"),
        ("/builds", {"month": "2026-05", "extra": 1}, "extra"),
        ("/files", {"month": "2026-05", "billing_month": "2026-04"}, "billing_month"),
        ("/files", {"month": "2026-05", "payer": "3"}, "payer"),
    ],
)
def test_bad_requests_are_422(client, world, path, payload, field):
    assert_problem(client.post(f"{API}{path}", json=payload, headers=FK), 422, field)


def test_access_rules(client, world):
    assert_problem(client.post(f"{API}/builds", json={"month": "2026-05"}), 401)
    assert_problem(client.post(f"{API}/builds", json={"month": "2026-05"}, headers=IK), 403)
    assert_problem(client.post(f"{API}/builds", json={"month": "2026-05"}, headers=RK), 403)
    assert_problem(client.post(f"{API}/reviews", json={"billing_month": "2026-06"}, headers=FK), 403)
    assert_problem(client.post(f"{API}/reviews", json={"billing_month": "2026-06", "payer": "1"}, headers=RK2), 403, "payer")


def test_review_report_reclaim_over_http(client, world, engine, today):
    old, new = job_change(world, today, new_registered="2026-06-20")
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-15")
    k = world.member(KOKUHO, name="練馬 花子", kana="ネリマ ハナコ", birth_date="1975-02-03", sex=2, symbol="", number="55")
    add_visit(engine, patient="P002", member=k, sex=2)
    add_visit(engine, patient="P003", basis="unknown", remarks=COMPLETE_REMARKS)
    client.post(f"{API}/builds", json={"month": "2026-05"}, headers=FK)
    client.post(f"{API}/files", json={"month": "2026-05"}, headers=FK)

    run = client.post(f"{API}/reviews", json={"billing_month": "2026-06", "review_date": "2026-06-10"}, headers=RK)
    assert run.status_code == 201, run.text
    summary = run.json()["summary"]
    assert summary == {"claims": 3, "unchanged": 1, "rerouted": 0, "split": 0, "returned": 2}
    run_id = run.json()["run_id"]
    mine = client.get(f"{API}/reviews/{run_id}", headers=FK).json()
    assert [f["facility_code"] for f in mine["facilities"]] == [FACILITY]
    returns = {r["patient_ref"]: r for r in mine["facilities"][0]["returns"]}
    assert returns["P003"]["rule"] == "R-R5" and "identified, but no qualification registered by 2026-06-10" in returns["P003"]["reason"]
    returned = returns["P001"]
    assert returned["rule"] == "R-R4"
    assert mine["summary"] == summary  # all three claims are this facility's
    # issue 10 item 8: another facility sees nothing of them, not even the run's totals, and their ids do not exist for it
    theirs = client.get(f"{API}/reviews/{run_id}", headers=OTHER).json()
    assert theirs["facilities"] == [] and theirs["summary"] == {"claims": 0, "unchanged": 0, "rerouted": 0, "split": 0, "returned": 0}
    assert_problem(client.get(f"{API}/{returned['claim_id']}", headers=OTHER), 404, "claim_id")
    assert client.get(f"{API}/{returned['claim_id']}", headers=OTHER).json()["detail"] == client.get(f"{API}/999999", headers=OTHER).json()["detail"].replace("999999", str(returned["claim_id"]))

    reviewed = client.get(f"{API}/reviews/{run_id}/files/2", headers=FK)
    assert reviewed.status_code == 200
    assert [c.claim.confirm_code for c in uke.read(reviewed.content).claims] == ["02"]

    again = client.post(f"{API}/{returned['claim_id']}/reclaims", json={"billing_month": "2026-07"}, headers=FK)
    assert again.status_code == 201 and again.json()["reclaim_of"] == returned["claim_id"]
    assert_problem(client.post(f"{API}/{returned['claim_id']}/reclaims", json={"billing_month": "2026-08"}, headers=FK), 409, "claim_id")
    second = client.post(f"{API}/reviews", json={"billing_month": "2026-07", "review_date": "2026-07-10"}, headers=RK)
    assert second.json()["summary"]["rerouted"] == 1
    assert client.get(f"{API}/{again.json()['id']}", headers=FK).json()["status"] == "paid"


def test_reviewer_uploads_a_file_for_review(client, world, engine):
    m = world.member()
    add_visit(engine, member=m)
    client.post(f"{API}/builds", json={"month": "2026-05"}, headers=FK)
    href = client.post(f"{API}/files", json={"month": "2026-05"}, headers=FK).json()["files"][0]["href"]
    data = client.get(href, headers=FK).content
    assert_problem(client.post(f"{API}/reviews/uploads", content=data, headers=RK2), 403, "payer")  # a 社保 file, a 国保連 key
    assert_problem(client.post(f"{API}/reviews/uploads", content=data, headers=RK), 409, "file")  # filed already: same receipt numbers
