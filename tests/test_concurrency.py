"""Issue 10 item 2: concurrent writes cannot create a state a single request cannot.

Real concurrent HTTP requests (20 threads released together by a barrier) against a live
uvicorn server, on every configured database (PostgreSQL is the one the issue was found on:
SERIALIZABLE with retries there, BEGIN IMMEDIATE on SQLite, and the partial unique indexes of
migration 0008 on both). Every conflict is a 409 problem+json; the same request id is a replay.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from onshi.interfaces.http.app import create_app
from onshi.registry import schema

from browser_conftest import LiveServer, _free_port
from factories import KYOKAI_TOKYO, key

N = 20
IK = {"X-API-Key": key("insurer", KYOKAI_TOKYO)}
URL = "/api/v1/insurers/01130012"


@pytest.fixture
def server(world):  # noqa: ANN001, ANN201
    live = LiveServer(create_app(world.registry), _free_port()).start()
    yield live
    live.stop()


def burst(server, path: str, bodies: list[dict]) -> list[httpx.Response]:  # noqa: ANN001
    """POST every body at once (bounded: N threads, one request each, 60 s at most)."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            barrier.wait(timeout=30)
            return client.post(f"{URL}/{path}", json=body, headers=IK)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


def statuses(responses: list[httpx.Response]) -> dict[int, int]:
    out: dict[int, int] = {}
    for r in responses:
        out[r.status_code] = out.get(r.status_code, 0) + 1
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return out


def count(world, table, *where) -> int:  # noqa: ANN001
    with world.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def acquisition(mn: str, i: int, number: str) -> dict:
    return dict(request_id=f"acq-{i}", my_number=mn, name="山田 太郎", kana="ヤマダ タロウ", birth_date="1980-06-15", sex=1,
                symbol="77", number=number, branch="00", start="2026-05-01", notified="2026-05-10")


def test_concurrent_acquisitions_of_one_person_make_one_qualification(world, server):
    mn = world.resident(name="山田 太郎", kana="ヤマダ タロウ", birth_date="1980-06-15")
    got = statuses(burst(server, "acquisitions", [acquisition(mn, i, str(5000 + i)) for i in range(N)]))
    assert got == {201: 1, 409: N - 1}
    assert count(world, schema.qualification) == 1 and count(world, schema.person) == 1


def test_concurrent_acquisitions_cannot_give_two_people_the_same_numbers(world, server):
    people = [world.resident(name="山田 太郎", kana="ヤマダ タロウ", birth_date="1980-06-15") for _ in range(N)]
    got = statuses(burst(server, "acquisitions", [acquisition(mn, i, "4242") for i, mn in enumerate(people)]))
    assert got == {201: 1, 409: N - 1}
    assert count(world, schema.qualification, schema.qualification.c.number == "4242") == 1


def test_concurrent_losses_end_a_qualification_once(world, server):
    m = world.member(symbol="77", number="4343")
    bodies = [dict(request_id=f"loss-{i}", symbol="77", number="4343", branch="00", end=f"2026-04-{10 + i:02d}", notified="2026-05-01")
              for i in range(N)]
    responses = burst(server, "losses", bodies)
    assert statuses(responses) == {201: 1, 409: N - 1}
    [won] = [r.json() for r in responses if r.status_code == 201]
    with world.engine.connect() as conn:
        end = conn.execute(select(schema.qualification.c.end).where(schema.qualification.c.id == m["qualification_id"])).scalar_one()
    assert end.isoformat() == won["end"]  # the end that was answered 201 is the one that stayed


def test_concurrent_links_of_one_card_serial_are_409_not_500(world, server):
    m = world.member(symbol="77", number="4444")
    bodies = [dict(request_id=f"link-{i}", my_number=m["my_number"], serial="CONCURRENT01", issued="2024-01-10") for i in range(N)]
    assert statuses(burst(server, "card-links", bodies)) == {201: 1, 409: N - 1}
    assert count(world, schema.card) == 1


def test_concurrent_links_of_different_cards_leave_one_current_card(world, server):
    m = world.member(symbol="77", number="4545")
    bodies = [dict(request_id=f"link-{i}", my_number=m["my_number"], serial=f"CONCURRENT{i:02d}", issued="2024-01-10") for i in range(N)]
    assert statuses(burst(server, "card-links", bodies)) == {201: N}  # each replaces the earlier ones (再交付)
    assert count(world, schema.card) == N and count(world, schema.card, schema.card.c.revoked.is_(None)) == 1


def test_the_same_request_id_sent_concurrently_is_replayed(world, server):
    mn = world.resident(name="山田 太郎", kana="ヤマダ タロウ", birth_date="1980-06-15")
    responses = burst(server, "acquisitions", [acquisition(mn, 0, "4646")] * N)
    assert statuses(responses) == {201: 1, 200: N - 1}
    assert all(r.headers.get("idempotent-replayed") == "true" for r in responses if r.status_code == 200)
    assert len({r.content for r in responses}) == 1 and count(world, schema.qualification) == 1


class _Lost(Exception):
    sqlstate = "40001"  # what psycopg's SerializationFailure carries


def test_a_request_that_keeps_losing_takes_turns(engine):  # noqa: ANN001
    """db.retrying: every write transaction holds the turn lock (PostgreSQL advisory lock)
    shared; after TAKE_TURNS_AFTER lost rounds the request's transactions hold it exclusively,
    so no other writer runs beside it. A conflict that outlasts every attempt is still given up."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from onshi.registry import db

    held: list[str | None] = []

    def work() -> str:
        with db.write_transaction(engine) as conn:
            if engine.dialect.name == "postgresql":
                held.append(conn.execute(text(
                    "SELECT max(mode) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = (:key)::bigint"), {"key": db.TURN_KEY}).scalar_one())
            else:
                held.append(None)
            if len(held) <= db.TAKE_TURNS_AFTER + 1:
                raise OperationalError("SELECT 1", {}, _Lost())
            return "done"

    assert db.retrying(work, pause=0.001) == "done"
    pg = engine.dialect.name == "postgresql"
    assert held == ["ShareLock" if pg else None] * db.TAKE_TURNS_AFTER + ["ExclusiveLock" if pg else None] * 2
    # a write that gives up never held it alone
    held.clear()
    with pytest.raises(OperationalError):
        db.retrying(work, attempts=2, pause=0.001)
    assert held == ["ShareLock" if pg else None] * 2
