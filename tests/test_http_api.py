"""The JSON HTTP API: access control, problem+json 4xx for bad input, nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onshi.interfaces.http.app import create_app

from factories import FACILITY, KUMIAI, KYOKAI_TOKYO, key
from test_registry_operations import acquisition, counts

API = "/api/v1"
FK = {"X-API-Key": key("facility", FACILITY)}
IK = {"X-API-Key": key("insurer", KYOKAI_TOKYO)}


@pytest.fixture(params=["fast", "fastapi"])
def client(world, request):  # noqa: ANN001, ANN201
    """Both ways in: the FastLookups shortcut and the plain FastAPI routes must answer alike."""
    with TestClient(create_app(world.registry, fast_lookups=request.param == "fast"), raise_server_exceptions=False) as c:
        yield c


def assert_problem(resp, status: int, field: str | None = None) -> dict:  # noqa: ANN001
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status and body["title"]
    if field:
        assert field in {e["field"] for e in body.get("errors", [])}, body
    return body


def test_health_and_openapi(client):
    assert client.get(f"{API}/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert f"{API}/lookups/card" in spec["paths"] and f"{API}/insurers/{{insurer_number}}/acquisitions" in spec["paths"]
    schema = spec["paths"][f"{API}/insurers/{{insurer_number}}/acquisitions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema  # the acquisition model is documented


def test_lookup_by_card_over_http(client, world):
    m = world.member(card={"issued": "2022-03-01"})
    r = client.post(f"{API}/lookups/card", json={"card_serial": m["serial"], "identity": "pin"}, headers=FK)
    assert r.status_code == 200
    body = r.json()
    assert body["validity"] == "valid" and body["validity_code"] == "1" and body["validity_label"] == "有効"
    assert body["qualification"]["copay_ratio"] == 0.3 and body["qualification"]["insurer_number"] == KYOKAI_TOKYO


def test_lookup_by_numbers_over_http(client, world):
    m = world.member()
    payload = {"insurer_number": KYOKAI_TOKYO, "symbol": "1234", "number": m["number"], "branch": "00", "birth_date": "1980-06-15"}
    assert client.post(f"{API}/lookups/numbers", json=payload, headers=FK).json()["validity"] == "valid"
    assert client.post(f"{API}/lookups/numbers", json=payload | {"date": "2015-03-31"}, headers=FK).json()["validity"] == "not_found"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"insurer_number": "01130013", "number": "1", "birth_date": "1980-06-15"}, "insurer_number"),  # check digit
        ({"insurer_number": "01140011", "number": "1", "birth_date": "1980-06-15"}, "insurer_number"),  # unknown insurer
        ({"insurer_number": KYOKAI_TOKYO, "number": "1", "birth_date": "1980-02-30"}, "birth_date"),
        ({"insurer_number": KYOKAI_TOKYO, "number": "1" * 41, "birth_date": "1980-06-15"}, "number"),
        ({"insurer_number": KYOKAI_TOKYO, "birth_date": "1980-06-15"}, "number"),
        ({"insurer_number": KYOKAI_TOKYO, "number": "1", "birth_date": "1980-06-15", "branch": "abc"}, "branch"),
    ],
)
def test_bad_number_lookups_are_422_naming_the_field(client, world, payload, field):
    assert_problem(client.post(f"{API}/lookups/numbers", json=payload, headers=FK), 422, field)


def test_keys_are_required_and_roles_enforced(client, world):
    assert_problem(client.post(f"{API}/lookups/card", json={"card_serial": "X"}), 401)
    assert_problem(client.post(f"{API}/lookups/card", json={"card_serial": "X"}, headers={"X-API-Key": "nope"}), 401)
    assert_problem(client.post(f"{API}/lookups/card", json={"card_serial": "X"}, headers=IK), 403)
    data = acquisition(world)
    before = counts(world.engine)
    assert_problem(client.post(f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions", json=data, headers=FK), 403)
    assert_problem(client.post(f"{API}/insurers/{KUMIAI}/acquisitions", json=data, headers=IK), 403, "insurer_number")
    assert_problem(client.post(f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions", json=data), 401)
    assert counts(world.engine) == before
    bearer = {"Authorization": f"Bearer {key('facility', FACILITY)}"}
    assert client.post(f"{API}/lookups/card", json={"card_serial": "X"}, headers=bearer).status_code == 200


def test_acquisition_created_replayed_and_conflicting(client, world):
    data = acquisition(world)
    url = f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions"
    first = client.post(url, json=data, headers=IK)
    assert first.status_code == 201 and first.json()["deadline_met"] is True
    again = client.post(url, json=data, headers=IK)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert_problem(client.post(url, json=data | {"number": "42"}, headers=IK), 409, "request_id")


def test_bad_writes_are_4xx_store_nothing_and_never_echo_the_my_number(client, world):
    url = f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions"
    data = acquisition(world)
    before = counts(world.engine)
    for bad, field in [
        ({"my_number": data["my_number"][:-1] + str((int(data["my_number"][-1]) + 1) % 10)}, "my_number"),
        ({"birth_date": "1980-02-30"}, "birth_date"),
        ({"name": "x" * 101}, "name"),
        ({"start": "not a date"}, "start"),
    ]:
        body = assert_problem(client.post(url, json=data | bad, headers=IK), 422, field)
        assert data["my_number"] not in str(body) and (bad.get("my_number") or "@@") not in str(body)
    assert_problem(client.post(url, content=b"{not json", headers=IK | {"content-type": "application/json"}), 422)
    assert_problem(client.post(url, json=[1, 2], headers=IK), 422)
    assert counts(world.engine) == before


def test_verifications_of_the_facility(client, world):
    m = world.member(card={"issued": "2022-03-01"})
    client.post(f"{API}/lookups/card", json={"card_serial": m["serial"]}, headers=FK)
    rows = client.get(f"{API}/verifications", headers=FK).json()["verifications"]
    assert [(r["method"], r["result"]) for r in rows] == [("my_number_card", "valid")]


def test_compliance_report(client, world):
    client.post(f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions", json=acquisition(world), headers=IK)
    report = client.get(f"{API}/insurers/{KYOKAI_TOKYO}/compliance", headers=IK).json()
    assert report["by_kind"]["acquisition"]["on_time"] == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)
FIELDS = ["card_serial", "identity", "date", "insurer_number", "number", "symbol", "branch", "birth_date", "my_number", "name", "kana", "sex", "start", "notified", "request_id", "end", "serial", "issued"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/lookups/card", "/lookups/numbers", f"/insurers/{KYOKAI_TOKYO}/acquisitions", f"/insurers/{KYOKAI_TOKYO}/changes", f"/insurers/{KYOKAI_TOKYO}/losses", f"/insurers/{KYOKAI_TOKYO}/card-links", f"/insurers/{KYOKAI_TOKYO}/card-registrations"]),
    body=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8) | json_values,
)
def test_fuzzed_bodies_never_give_5xx(client, path, body):
    headers = FK if path.startswith("/lookups") else IK
    resp = client.post(API + path, json=body, headers=headers)
    assert resp.status_code < 500, resp.text


class _Refused(Exception):
    """What psycopg raises when the server refuses a connection (too many clients)."""

    sqlstate = "53300"


@pytest.mark.parametrize("failure", ["pool", "server"])
def test_a_database_that_cannot_take_the_work_is_a_503_with_retry_after_not_a_500(client, world, monkeypatch, failure):
    """Overloaded (`onshi bench national --rate 1370` on two cores met both): no pooled connection
    free in time, or the server's connection limit. Nothing is stored; the client may retry."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    def fail(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        if failure == "pool":
            raise PoolTimeout("QueuePool limit of size 10 overflow 20 reached, connection timed out")
        raise OperationalError("SELECT 1", {}, _Refused("sorry, too many clients already"))

    async def fail_async(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the lookup on the event loop (PostgreSQL)
        fail(*args, **kwargs)

    m = world.member(card={"issued": "2022-03-01"})
    data = acquisition(world)
    before = counts(world.engine)
    for name in ("lookup_by_card", "operate"):
        monkeypatch.setattr(world.registry, name, fail)
    monkeypatch.setattr(world.registry, "lookup_by_card_async", fail_async)
    for resp in (client.post(f"{API}/lookups/card", json={"card_serial": m["serial"]}, headers=FK),
                 client.post(f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions", json=data, headers=IK)):
        body = assert_problem(resp, 503)
        assert resp.headers["retry-after"] == "1" and "send the request again" in body["detail"]
    assert counts(world.engine) == before
    monkeypatch.undo()
    assert client.post(f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions", json=data, headers=IK).status_code == 201


def test_other_database_errors_stay_500s(client, world, monkeypatch):
    """Only what the database could not take now is the client's to retry; a defect is not."""
    from sqlalchemy.exc import ProgrammingError

    def fail(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ProgrammingError("SELECT nope", {}, Exception("syntax error"))

    monkeypatch.setattr(world.registry, "operate", fail)
    assert client.post(f"{API}/insurers/{KYOKAI_TOKYO}/acquisitions", json=acquisition(world), headers=IK).status_code == 500
