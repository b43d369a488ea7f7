"""FHIR R4 (JP Core): CoverageEligibilityRequest/$submit answers from the registry's lookups,
and every output validates with fhir.resources' R4B models."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onshi.interfaces.fhir import resources as R
from onshi.interfaces.http.app import create_app
from onshi.interfaces.oqs_xml import codec, codes
from onshi.interfaces.oqs_xml.service import OqsService
from onshi.registry.service import Registry

from factories import FACILITY, KOKUHO, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO, OFFLINE_FACILITY, key

URL = "/fhir/r4/CoverageEligibilityRequest/$submit"
CARD = {"issued": "2022-03-01"}
MODELS = {"Coverage": Coverage, "Patient": Patient, "Organization": Organization}


@pytest.fixture
def client(world, engine):  # noqa: ANN001, ANN201
    return TestClient(create_app(Registry(engine)))


def by_numbers(m: dict, *, serviced: str | None = None, **over) -> dict:
    v = dict(insurer=m["insurer"], symbol=m["symbol"], number=m["number"], branch=m["branch"], birth=m["birth_date"]) | over
    coverage = {"resourceType": "Coverage", "id": "cov", "status": "active", "beneficiary": {"reference": "#pat"},
                "payor": [{"reference": "#ins"}], "extension": []}
    for url, value in ((R.EXT_SYMBOL, v["symbol"]), (R.EXT_NUMBER, v["number"]), (R.EXT_BRANCH, v["branch"])):
        if value:
            coverage["extension"].append({"url": url, "valueString": value})
    body = {
        "resourceType": "CoverageEligibilityRequest",
        "id": "req-1",
        "contained": [
            {"resourceType": "Patient", "id": "pat", "birthDate": v["birth"]},
            coverage,
            {"resourceType": "Organization", "id": "ins", "identifier": [{"system": R.INSURER_NUMBER, "value": v["insurer"]}]},
        ],
        "status": "active",
        "purpose": ["validation", "benefits"],
        "patient": {"reference": "#pat"},
        "created": "2026-05-12T09:00:00+09:00",
        "insurer": {"reference": "#ins"},
        "insurance": [{"coverage": {"reference": "#cov"}}],
    }
    if serviced:
        body["servicedDate"] = serviced
    return body


def by_card(serial: str, identity: str = "face") -> dict:
    return {
        "resourceType": "CoverageEligibilityRequest", "status": "active", "purpose": ["validation"], "patient": {"display": "カード"},
        "created": "2026-05-12T09:00:00+09:00", "insurer": {"display": "不明"},
        "extension": [{"url": R.EXT_CARD_SERIAL, "valueString": serial}, {"url": R.EXT_IDENTITY, "valueCode": identity}],
    }


def submit(client: TestClient, body: object, facility: str = FACILITY, status: int = 200) -> dict:
    r = client.post(URL, content=orjson.dumps(body), headers={"X-API-Key": key("facility", facility), "content-type": "application/fhir+json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/fhir+json"
    out = r.json()
    if status == 200:
        CoverageEligibilityResponse.model_validate(out)  # valid R4B resource, contained resources included
        for res in out.get("contained", []):
            MODELS[res["resourceType"]].model_validate(res)
    else:
        OperationOutcome.model_validate(out)
    return out


def contained(resp: dict, kind: str, rid: str | None = None) -> dict:
    return next(r for r in resp["contained"] if r["resourceType"] == kind and (rid is None or r["id"] == rid))


def ext(resource: dict, url: str) -> str | None:
    return next((e.get("valueString") for e in resource.get("extension", []) if e["url"] == url), None)


def test_F1_valid_by_numbers_inforce_with_period_and_copay(world, client):
    m = world.member(card=CARD, symbol="12-34", name="山田 太郎", kana="ヤマダ タロウ")
    resp = submit(client, by_numbers(m))
    assert resp["outcome"] == "complete" and resp["disposition"] == "有効"
    assert resp["extension"][0]["valueCoding"]["code"] == "1"
    (ins,) = resp["insurance"]
    assert ins["inforce"] is True and ins["benefitPeriod"] == {"start": "2015-04-01"}
    assert ins["item"][0]["benefit"][0]["allowedUnsignedInt"] == 30  # R-P2
    assert ins["item"][0]["benefit"][0]["type"]["coding"][0]["code"] == "copay-percent"
    cov = contained(resp, "Coverage")
    assert cov["meta"]["profile"] == [R.JP_COVERAGE] and cov["status"] == "active"
    assert ext(cov, R.EXT_SYMBOL) == "１２－３４" and ext(cov, R.EXT_NUMBER) == R.fullwidth(m["number"]) and ext(cov, R.EXT_BRANCH) == "00"
    assert cov["identifier"][0] == {"system": R.MEMBER_ID, "value": f"{KYOKAI_TOKYO}:12-34:{m['number']}:00", "assigner": {"reference": "#insurer"}}
    assert cov["costToBeneficiary"][0]["valueQuantity"]["value"] == 30
    org = contained(resp, "Organization")
    assert org["identifier"] == [{"system": R.INSURER_NUMBER, "value": KYOKAI_TOKYO}, {"system": R.INSURER_NUMBER_JP_CORE, "value": KYOKAI_TOKYO}]
    assert org["name"] == "全国健康保険協会東京支部"
    patient = contained(resp, "Patient")
    assert patient["name"][0]["text"] == "山田 太郎" and patient["name"][1]["text"] == "ヤマダ タロウ" and patient["birthDate"] == "1980-06-15"


def test_F1_invalid_invalid_new_and_not_found(world, client, today):
    today("2026-03-01")
    m = world.member()
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-03-31", notified="2026-03-01", loss_reason="03"))
    today("2026-04-20")
    resp = submit(client, by_numbers(m, serviced="2026-04-10"))
    assert resp["disposition"] == "無効" and resp["insurance"][0]["inforce"] is False
    assert resp["insurance"][0]["benefitPeriod"] == {"start": "2015-04-01", "end": "2026-03-31"}
    assert contained(resp, "Coverage")["status"] == "cancelled"
    world.member(KUMIAI, my_number=m["my_number"], symbol="88", number="1207", start="2026-04-01", notified="2026-04-15")
    resp = submit(client, by_numbers(m))
    assert resp["disposition"] == "無効（新しい資格あり）" and resp["extension"][0]["valueCoding"]["code"] == "3"
    resp = submit(client, by_numbers(m, number="99999"))
    assert resp["disposition"] == "該当資格なし" and "insurance" not in resp and resp["outcome"] == "complete"


def test_kokuho_and_kouki_numbers(world, client):
    k = world.member(KOKUHO, symbol="", branch="", number="5555")
    resp = submit(client, by_numbers(k, insurer=f"00{KOKUHO}"))
    assert contained(resp, "Organization")["identifier"][0]["value"] == f"00{KOKUHO}"
    assert contained(resp, "Coverage")["identifier"][0]["value"] == f"00{KOKUHO}::5555:"
    old = world.member(KOUKI_TOKYO, symbol="", branch="", birth_date="1945-03-03", start="2020-03-03", kouki_ratio=20, number="6666")
    resp = submit(client, by_numbers(old))
    assert resp["insurance"][0]["item"][0]["benefit"][0]["allowedUnsignedInt"] == 20  # R-P4


def test_by_card_and_card_errors(world, client):
    m = world.member(card=CARD)
    resp = submit(client, by_card(m["serial"]))
    assert resp["disposition"] == "有効" and resp["insurance"][0]["inforce"] is True
    unregistered = world.member(card=CARD | {"registered": False}, number="4444")
    resp = submit(client, by_card(unregistered["serial"]))
    assert resp["outcome"] == "error" and resp["error"][0]["code"]["coding"][0]["code"] == "not_registered"
    assert resp["disposition"] == "健康保険証利用登録がされていません" and "insurance" not in resp


def test_R_D4_mask_and_R_D5_no_address(world, client):
    dv = world.member(card=CARD, name="髙橋 一", kana="タカハシ ハジメ", address="東京都千代田区霞が関1-2-2", postcode="100-8916", dv_flag=True)
    plain = world.member(number="2020", name="鈴木 二郎", kana="スズキ ジロウ", address="東京都千代田区霞が関1-2-2", postcode="100-8916")
    resp = submit(client, by_numbers(dv))
    patient = contained(resp, "Patient")
    assert patient["name"][0]["text"] == "●橋 一"
    assert "address" not in patient and "霞が関" not in orjson.dumps(resp).decode() and "100-8916" not in orjson.dumps(resp).decode()
    assert contained(submit(client, by_numbers(plain)), "Patient")["address"][0]["text"] == "東京都千代田区霞が関1-2-2"


def test_reference_number_is_the_patients_facility_identifier(world, client):
    m = world.member()
    OqsService(world.registry).answer(codes.REFERENCE_NUMBER, codec.registration_request(FACILITY, [codec.Registration("K-77", m["insurer"], m["symbol"], m["number"], m["branch"])]), FACILITY)
    patient = contained(submit(client, by_numbers(m)), "Patient")
    assert {"system": f"{R.PATIENT_ID_PREFIX}{FACILITY}", "value": "K-77"} in patient["identifier"]


def test_bad_requests_are_operation_outcomes(world, client):
    m = world.member()
    body = by_numbers(m)
    body["contained"][0].pop("birthDate")
    out = submit(client, body, status=422)
    assert out["issue"][0]["expression"] == ["patient.birthDate"]
    out = submit(client, by_numbers(m, insurer="01130020"), status=422)  # valid check digit, unknown insurer
    assert "unknown insurer" in out["issue"][0]["diagnostics"]
    out = submit(client, by_numbers(m, serviced=(dt.date(2026, 5, 13)).isoformat()), status=422)
    assert out["issue"][0]["expression"] == ["servicedDate"]
    submit(client, {"resourceType": "Patient"}, status=422)
    body = by_numbers(m)
    body["provider"] = {"identifier": {"system": R.FACILITY_NUMBER, "value": OFFLINE_FACILITY}}
    submit(client, body, status=403)
    r = client.post(URL, content=b"{not json", headers={"X-API-Key": key("facility", FACILITY)})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    assert client.post(URL, content=orjson.dumps(by_numbers(m))).status_code == 401
    assert client.post(URL, content=orjson.dumps(by_numbers(m)), headers={"X-API-Key": key("insurer", KYOKAI_TOKYO)}).status_code == 403
    assert client.post(URL, content=b"[" * 70000, headers={"X-API-Key": key("facility", FACILITY)}).status_code == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(
        ["resourceType", "contained", "id", "birthDate", "extension", "url", "valueString", "insurance", "coverage", "reference",
         "patient", "identifier", "system", "value", "payor", "servicedDate", "purpose", "provider", "insurer"]), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation=st.dictionaries(st.sampled_from(["contained", "insurance", "patient", "insurer", "extension", "servicedDate", "purpose", "provider"]), json_values, max_size=3))
def test_fuzzed_requests_never_give_5xx(world, client, mutation):
    m = {"insurer": KYOKAI_TOKYO, "symbol": "1234", "number": "1001", "branch": "00", "birth_date": "1980-06-15"}
    r = client.post(URL, content=orjson.dumps(by_numbers(m) | mutation), headers={"X-API-Key": key("facility", FACILITY)})
    assert r.status_code in (200, 403, 422), r.text


# ---------------------------------------------------------------- discovery: metadata, Coverage search and read (issue 9)

from fhir.resources.R4B.bundle import Bundle  # noqa: E402
from fhir.resources.R4B.capabilitystatement import CapabilityStatement  # noqa: E402


def fhir_get(client: TestClient, path: str, facility: str | None = FACILITY, status: int = 200, **params) -> dict:
    headers = {"X-API-Key": key("facility", facility)} if facility else {}
    r = client.get(f"/fhir/r4{path}", params=params, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/fhir+json"
    out = r.json()
    if status != 200:
        OperationOutcome.model_validate(out)
    return out


def member_id(m: dict) -> str:
    return f"{R.MEMBER_ID}|{m['insurer']}:{m['symbol']}:{m['number']}:{m['branch']}"


def test_metadata_is_a_capability_statement_anyone_can_read(client):
    cs = fhir_get(client, "/metadata", facility=None)
    CapabilityStatement.model_validate(cs)
    assert cs["kind"] == "instance" and cs["fhirVersion"] == "4.0.1" and "application/fhir+json" in cs["format"]
    coverage = next(r for r in cs["rest"][0]["resource"] if r["type"] == "Coverage")
    assert {i["code"] for i in coverage["interaction"]} == {"read", "search-type"}
    assert {p["name"] for p in coverage["searchParam"]} >= {"identifier", "beneficiary"} and coverage["profile"] == R.JP_COVERAGE
    assert any(r["type"] == "CoverageEligibilityRequest" and r["operation"][0]["name"] == "submit" for r in cs["rest"][0]["resource"])


def test_coverage_search_by_member_identifier_and_birth_date(world, client):
    m = world.member(symbol="12-34", limit_category="B05", limit_start="2026-04-01", limit_end="2027-07-31", limit_issued="2026-03-25")
    world.certificate(m, issued="2025-11-14", valid_from="2025-12-02", expires="2030-11-30")
    bundle = fhir_get(client, "/Coverage", identifier=member_id(m), **{"beneficiary.birthdate": m["birth_date"]})
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    modes = [e["search"]["mode"] for e in bundle["entry"]]
    assert modes == ["match", "include", "include"]
    cov, patient, insurer = (e["resource"] for e in bundle["entry"])
    for res in (cov, patient, insurer):
        MODELS[res["resourceType"]].model_validate(res)
    assert bundle["entry"][0]["fullUrl"].endswith(f"/fhir/r4/Coverage/{m['qualification_id']}") and cov["id"] == str(m["qualification_id"])
    assert cov["period"] == {"start": "2025-12-02", "end": "2030-11-30"}  # the certificate held, as InsuredCardValidDate / …ExpirationDate
    assert cov["status"] == "active" and cov["beneficiary"]["reference"] == bundle["entry"][1]["fullUrl"]
    assert cov["payor"][0]["reference"] == bundle["entry"][2]["fullUrl"]
    assert next(e for e in cov["extension"] if e["url"] == R.EXT_VALIDITY)["valueCoding"]["code"] == "1"
    assert not any(e["url"] == R.EXT_LIMIT for e in cov["extension"])  # no consent, no 限度額
    assert {"system": R.MEMBER_ID, "value": f"{KYOKAI_TOKYO}:12-34:{m['number']}:00"} in patient["identifier"]
    # with consent: the 限度額 category, its certificate and dates
    bundle = fhir_get(client, "/Coverage", identifier=member_id(m), **{"beneficiary.birthdate": m["birth_date"], "limit-consent": "true"})
    Bundle.model_validate(bundle)
    limit = next(e for e in bundle["entry"][0]["resource"]["extension"] if e["url"] == R.EXT_LIMIT)
    parts = {p["url"]: p for p in limit["extension"]}
    assert parts["category"]["valueCoding"]["code"] == "B05" and parts["category"]["valueCoding"]["display"] == "低所得Ⅱ"
    assert parts["certificate"]["valueCoding"]["code"] == "02" and parts["issued"]["valueDate"] == "2026-03-25"
    assert parts["period"]["valuePeriod"] == {"start": "2026-04-01", "end": "2027-07-31"}
    # the same search with the parameters in the body (nothing personal in the URL)
    r = client.post("/fhir/r4/Coverage/_search", data={"identifier": member_id(m), "beneficiary.birthdate": m["birth_date"]},
                    headers={"X-API-Key": key("facility", FACILITY)})
    assert r.status_code == 200 and r.json()["total"] == 1
    world.registry.log.flush()
    assert [e["channel"] for e in world.registry.log.for_facility(FACILITY)] == ["fhir"] * 3


def test_coverage_search_not_found_kokuho_and_bad_parameters(world, client):
    k = world.member(KOKUHO, symbol="", branch="", number="5555")
    bundle = fhir_get(client, "/Coverage", identifier=f"{R.MEMBER_ID}|00{KOKUHO}::5555:", **{"beneficiary.birthdate": k["birth_date"]})
    assert bundle["total"] == 1 and bundle["entry"][0]["resource"]["period"] == {"start": "2015-04-01"}  # no certificate: the qualification's
    none = fhir_get(client, "/Coverage", identifier=f"00{KOKUHO}::5555:", **{"beneficiary.birthdate": "1980-06-16"})
    Bundle.model_validate(none)
    assert none["total"] == 0 and none["entry"][0]["search"]["mode"] == "outcome"
    for params, field in (
        ({"beneficiary.birthdate": "1980-06-15"}, "identifier"),
        ({"identifier": f"00{KOKUHO}::5555:"}, "beneficiary.birthdate"),
        ({"identifier": "http://example.org|x:y:z:w", "beneficiary.birthdate": "1980-06-15"}, "identifier"),
        ({"identifier": "01130012-1234", "beneficiary.birthdate": "1980-06-15"}, "identifier"),
        ({"identifier": f"00{KOKUHO}::5555:", "beneficiary.birthdate": "1980-13-01"}, "beneficiary.birthdate"),
        ({"identifier": "01130013:1:2:00", "beneficiary.birthdate": "1980-06-15"}, "identifier"),
        ({"identifier": f"00{KOKUHO}::5555:", "beneficiary.birthdate": "1980-06-15", "name": "山田"}, "name"),
    ):
        out = fhir_get(client, "/Coverage", status=400, **params)
        assert field in [e for i in out["issue"] for e in i["expression"]], (params, out)
    assert fhir_get(client, "/Coverage", status=422, identifier="01130020:1:2:00", **{"beneficiary.birthdate": "1980-06-15"})
    assert client.get("/fhir/r4/Coverage", params={"identifier": "x"}).status_code == 401
    r = client.get("/fhir/r4/Coverage", params={"identifier": "x"}, headers={"X-API-Key": key("insurer", KYOKAI_TOKYO)})
    assert r.status_code == 403 and r.headers["content-type"] == "application/fhir+json"


def test_coverage_read_only_for_a_facility_that_verified_the_person(world, client, engine):
    m = world.member(card=CARD, limit_category="A03", limit_start="2026-04-01", limit_end="2027-07-31")
    qid = m["qualification_id"]
    fhir_get(client, f"/Coverage/{qid}", status=404)  # never verified here
    fhir_get(client, "/Coverage/not-a-number", status=404)
    fhir_get(client, "/Coverage/99999999", status=404)
    OqsService(world.registry).card_verification(FACILITY, m["serial"])  # a card read at the reader, no 限度額 consent
    cov = fhir_get(client, f"/Coverage/{qid}")
    Coverage.model_validate(cov)
    assert cov["id"] == str(qid) and cov["status"] == "active" and cov["beneficiary"] == {"reference": "#patient"}
    assert {c["resourceType"] for c in cov["contained"]} == {"Patient", "Organization"}
    assert not any(e["url"] == R.EXT_LIMIT for e in cov["extension"])
    fhir_get(client, f"/Coverage/{qid}", facility=OFFLINE_FACILITY, status=404)  # another facility sees nothing
    # consent given at this facility's latest verification: the 限度額 category comes with the read
    world.registry.lookup_by_card(FACILITY, m["serial"], limit_consent=True)
    cov = fhir_get(client, f"/Coverage/{qid}")
    assert next(e for e in cov["extension"] if e["url"] == R.EXT_LIMIT)["extension"][0]["valueCoding"]["code"] == "A03"
