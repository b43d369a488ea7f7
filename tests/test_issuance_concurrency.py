"""Concurrent issuance requests at a live server (issue 12 item 3), on every backend — PostgreSQL
above all (READ COMMITTED / SERIALIZABLE there, BEGIN IMMEDIATE on SQLite): the same application
under 20 request ids is recorded once (409 for the others), the same request id 20 times is one
application and 19 replays, 20 settings at once leave one of them whole, 20 run starts at once
make one run (the others 409 or its replay), and two runs of the same day send each document once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select, text

from onshi.interfaces.http.app import create_app
from onshi.registry import schema

from browser_conftest import LiveServer, _free_port
from factories import KYOKAI_TOKYO, key
from test_concurrency import statuses

N = 20
IK = {"X-API-Key": key("insurer", KYOKAI_TOKYO)}
URL = f"/api/v1/insurers/{KYOKAI_TOKYO}"


@pytest.fixture
def server(world):  # noqa: ANN001, ANN201
    live = LiveServer(create_app(world.registry), _free_port()).start()
    yield live
    live.stop()


def burst(server, method: str, path: str, bodies: list[dict]) -> list[httpx.Response]:  # noqa: ANN001
    barrier = threading.Barrier(len(bodies))

    def send(body: dict) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            barrier.wait(timeout=30)
            return client.request(method, f"{URL}/{path}", json=body, headers=IK)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


def count(world, table) -> int:  # noqa: ANN001
    with world.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_concurrent_applications_make_one(world, server, today):
    today("2026-06-10")
    m = world.member(KYOKAI_TOKYO)
    body = {"symbol": "1234", "number": m["number"], "branch": "00", "date": "2026-06-09", "reason": "care"}
    got = statuses(burst(server, "POST", "applications", [body | {"request_id": f"a-{i}"} for i in range(N)]))
    assert got == {201: 1, 409: N - 1}
    assert count(world, schema.certificate_application) == 1
    got = statuses(burst(server, "POST", "applications", [body | {"request_id": "same", "date": "2026-06-08"}] * N))
    assert got == {201: 1, 200: N - 1}  # one carried out, the others replays
    assert count(world, schema.certificate_application) == 2


def test_concurrent_settings_leave_one_whole(world, server):
    bodies = [{"request_id": f"s-{i}", "options": {"certificate_years": 1 + i % 5, "annual_end": None}, "certificate_form": ("card", "a4")[i % 2],
               "issuer_name": f"理事長{i}"} for i in range(N)]
    got = statuses(burst(server, "PUT", "issuance-settings", bodies))
    assert got == {201: N}
    with world.engine.connect() as conn:
        (row,) = conn.execute(select(schema.issuance_setting)).mappings().all()
    i = int(row["issuer_name"].removeprefix("理事長"))  # whichever came last, whole: its years and its form
    assert row["options"] == f'{{"annual_end": null, "certificate_years": {1 + i % 5}}}' and row["certificate_form"] == ("card", "a4")[i % 2]


def test_concurrent_run_starts_make_one_run_and_documents_once(world, server, today):
    today("2026-06-10")
    for n in range(5):
        world.member(KYOKAI_TOKYO, number=str(700 + n))  # no card: a certificate each (R-I3a)
    got = statuses(burst(server, "POST", "issuance-runs", [{"request_id": f"r-{i}"} for i in range(N)]))
    assert set(got) <= {202, 409} and got[202] >= 1, got  # one live run at a time; a start after it finished is a rerun
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while dt.datetime.now() < deadline:
        with world.engine.connect() as conn:
            if conn.execute(text("SELECT COUNT(*) FROM issuance_run WHERE status = 'running'")).scalar() == 0:
                break
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM issuance_run WHERE status = 'done'")).scalar() == got[202]
        assert conn.execute(text("SELECT COUNT(*) FROM document WHERE kind = 'eligibility_certificate'")).scalar() == 5  # once, whatever the runs
    # two runs of the same day at once (an insurer's and an all-insurer one): each document once
    from onshi.issuance.run import run_issuance

    for n in range(5):
        world.member(KYOKAI_TOKYO, number=str(800 + n))
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda scope: run_issuance(world.engine, dt.date(2026, 6, 10), scope, batch=2), (KYOKAI_TOKYO, None)))
    assert {r.status for r in runs} == {"done"}
    with world.engine.connect() as conn:
        dup = conn.execute(text("SELECT COUNT(*) FROM (SELECT qualification_id, kind FROM document GROUP BY qualification_id, kind HAVING COUNT(*) > 1) x")).scalar()
        certificates = conn.execute(text("SELECT COUNT(*) FROM document WHERE kind = 'eligibility_certificate'")).scalar()
    assert dup == 0 and certificates == 10
