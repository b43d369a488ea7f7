"""GET /api/v1/stats/…: the same figures as `onshi stats`, an analyst key sees everything, a
facility key its own facility, an insurer key its own members; bad parameters are 422 naming
the field; the what-if reports are for analysts. And the 統計 pages over HTTP."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from onshi.interfaces.http.app import create_app

from factories import FACILITY, KUMIAI, KYOKAI_TOKYO, analyst_key, key
from test_stats_rates import NO_CLAIMS, OSAKA, data  # noqa: F401 — the hand-made month

API = "/api/v1/stats"


@pytest.fixture
def client(data):  # noqa: ANN001, ANN201, F811
    with TestClient(create_app(data.registry), raise_server_exceptions=False) as c:
        c.analyst = {"X-API-Key": analyst_key(data.engine)}
        yield c


def get(client, path: str, who: dict):  # noqa: ANN001, ANN201
    return client.get(f"{API}/{path}", headers=who)


def test_analyst_sees_every_figure_as_json_or_csv(client):
    r = get(client, "usage?month=2025-10", client.analyst)
    assert r.status_code == 200 and r.json() == [{"month": "2025-10", "group": "all", "numerator": 5, "denominator": 9, "rate": 0.5556}]
    r = get(client, "usage?month=2025-10&by=age_band&formula=claims", client.analyst)
    assert {x["group"]: x["rate"] for x in r.json()} == {"0-9": 0.0, "40-49": 0.0, "60-69": 1.0, "75-79": 1.0}
    r = get(client, "registration?month=2025-10&by=branch&format=csv", client.analyst)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines() == ["month,group,label,numerator,denominator,rate", "2025-10,13,東京都支部,2,3,0.6667"]
    assert get(client, "usage?month=2025-09&to=2025-11", client.analyst).json()[0] == {"month": "2025-09", "group": "all", "numerator": 0, "denominator": 0, "rate": None}


def test_a_facility_key_sees_its_own_facility_an_insurer_key_its_members(client):
    fk, ik = {"X-API-Key": key("facility", FACILITY)}, {"X-API-Key": key("insurer", KUMIAI)}
    assert get(client, "usage?month=2025-10", fk).json()[0]["denominator"] == 6
    assert {x["group"] for x in get(client, "usage?month=2025-10&by=facility", fk).json()} == {FACILITY}
    assert get(client, "usage?month=2025-10", ik).json()[0] | {} == {"month": "2025-10", "group": "all", "numerator": 1, "denominator": 2, "rate": 0.5}
    assert {x["group"] for x in get(client, "usage?month=2025-10&by=insurer", ik).json()} == {KUMIAI}
    assert get(client, "registration?month=2025-10", {"X-API-Key": key("insurer", KYOKAI_TOKYO)}).json()[0]["denominator"] == 3
    assert get(client, "registration?month=2025-10", fk).status_code == 403  # R-S3 is about members, not facilities


@pytest.mark.parametrize(
    ("query", "field"),
    [("usage?month=2025-13", "month"), ("usage?month=2025-10&to=2025-01", "to"), ("usage?month=2025-10&by=colour", "by"),
     ("usage?month=2025-10&formula=people", "formula"), ("registration?month=2025-10&by=facility", "by"), ("usage", "month"),
     ("usage?month=2025-10&format=xml", "format")],
)
def test_bad_parameters_are_422_naming_the_field(client, query, field):
    r = get(client, query, client.analyst)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in r.json()["errors"]}


def test_keys_are_required_and_whatif_is_for_analysts(client):
    assert get(client, "usage?month=2025-10", {}).status_code == 401
    assert get(client, "whatif", {"X-API-Key": key("facility", FACILITY)}).status_code == 403
    assert get(client, "whatif", client.analyst).json() == []
    assert get(client, "whatif/7", client.analyst).status_code == 404
    spec = client.get("/openapi.json").json()
    assert f"{API}/usage" in spec["paths"] and "R-S1" in spec["paths"][f"{API}/usage"]["get"]["description"]


def login(client, k: str) -> None:  # noqa: ANN001
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"api_key": k, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_stats_page_charts_tables_definitions_and_csv(client):
    login(client, client.analyst["X-API-Key"])
    r = client.get("/stats?month=2025-10&to=2025-10")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    html = r.text
    assert html.count('src="data:image/svg+xml;base64,') == 3  # the series, the age bands, the 47 branches
    for rule in ("R-S1", "R-S2", "R-S3"):
        assert f'data-rule="{rule}"' in html
    assert "マイナ保険証利用件数 ÷ オンライン資格確認利用件数" in html and "マイナ保険証利用人数 ÷ レセプト件数" in html
    assert "55.56%" in html  # 5 / 9 in the series table
    csv = client.get("/stats/download?figure=claims&month=2025-10&by=facility")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert csv.content.decode("utf-8-sig").splitlines()[1:] == [f"2025-10,{FACILITY},霞が関内科クリニック,1,4,0.2500", f"2025-10,{OSAKA},大阪中央クリニック,1,1,1.0000"]
    assert client.get("/stats?month=2025-13").status_code == 200  # the form shows the error, the default months are drawn
    assert "開始月" in client.get("/stats?month=2025-13").text and "is not a month" in client.get("/stats?month=2025-13").text
    assert client.get("/stats/whatif").status_code == 200


def test_stats_page_for_a_facility_shows_its_own_and_no_branches(client):
    login(client, key("facility", FACILITY))
    html = client.get("/stats?month=2025-10&to=2025-10").text
    assert "この医療機関・薬局" in html and html.count('src="data:image/svg+xml;base64,') == 2 and NO_CLAIMS not in html
    assert client.get("/stats/whatif").status_code == 403
