"""Issue 14 item 2: lookups answered on the server's event loop (PostgreSQL, registry/aio.py)
give the same answers and errors as the threaded path, batched or not, and keep the
verification log's guarantee — an answered lookup's entry is committed before its answer."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from fastapi.testclient import TestClient

from onshi.interfaces.http import fastpath
from onshi.interfaces.http.app import create_app
from onshi.registry.service import Registry

from factories import FACILITY, KOKUHO, KYOKAI_TOKYO, key
from test_verification_log import logged

FK = key("facility", FACILITY)
IK = key("insurer", KYOKAI_TOKYO)
CARD = {"issued": "2022-03-01"}


def postgres_only(world) -> None:  # noqa: ANN001
    if world.engine.dialect.name != "postgresql":
        pytest.skip("the event loop's path is PostgreSQL's (SQLite answers in threads)")


def requests(world) -> list[tuple[str, str | None, bytes]]:  # noqa: ANN001
    """(kind, key, body) of lookups that answer in every way: valid, ended, not found, not
    registered, multiple, each variant of a number inquiry, and bad input of every kind."""
    a = world.member(card=CARD)
    b = world.member(card=CARD | {"registered": False}, name="佐藤 花子", kana="サトウ ハナコ", birth_date="1990-01-02", sex=2)
    c = world.member(KOKUHO, symbol="", branch="", name="鈴木 一郎", kana="スズキ イチロウ", birth_date="1950-03-04")
    d = world.member(number="777", branch="01", name="田中 次郎", kana="タナカ ジロウ", birth_date="2001-07-08")
    world.member(number="777", branch="02", name="田中 三郎", kana="タナカ サブロウ", birth_date="2001-07-08")  # same numbers, 枝番 differs
    world.registry.operate(KYOKAI_TOKYO, "loss", {"request_id": "loss-d", "symbol": "1234", "number": "777", "branch": "01",
                                                   "end": "2026-03-31", "loss_reason": "99", "notified": "2026-04-01"})

    def numbers(m: dict, **over) -> bytes:  # noqa: ANN003
        body = {"insurer_number": m["insurer"], "symbol": m["symbol"], "number": m["number"], "branch": m["branch"], "birth_date": m["birth_date"]}
        return orjson.dumps({k: v for k, v in (body | over).items() if v is not None})

    out = [
        ("card", FK, orjson.dumps({"card_serial": a["serial"], "identity": "face"})),
        ("card", FK, orjson.dumps({"card_serial": a["serial"].lower(), "identity": "pin", "limit_consent": True})),
        ("card", FK, orjson.dumps({"card_serial": b["serial"]})),  # not registered for insurance use
        ("card", FK, orjson.dumps({"card_serial": "NOSUCHCARD"})),
        ("card", FK, orjson.dumps({"card_serial": a["serial"], "date": "2015-03-31"})),
        ("card", FK, orjson.dumps({"card_serial": a["serial"], "identity": "none"})),
        ("numbers", FK, numbers(a)),
        ("numbers", FK, numbers(a, branch=None)),
        ("numbers", FK, numbers(a, symbol=None)),
        ("numbers", FK, numbers(a, symbol=None, branch=None)),
        ("numbers", FK, numbers(c, symbol=None, branch=None)),
        ("numbers", FK, numbers(d)),  # ended
        ("numbers", FK, numbers(d, branch=None)),  # two people on the numbers: one is found by birth date
        ("numbers", FK, numbers(a, birth_date="1980-06-16")),  # not found
        # Longer than the column, starting with a member's number: refused, never cut to the column and matched.
        ("numbers", FK, numbers(a, number=a["number"] + "9" * (21 - len(a["number"])))),
        ("numbers", FK, numbers(a, insurer_number="01140011")),  # unknown insurer: 422
        ("numbers", FK, numbers(a, insurer_number="01130013")),  # check digit: 422
        ("numbers", FK, b"{not json"),
        ("card", FK, orjson.dumps({"card_serial": ""})),
        ("card", FK, orjson.dumps({"card_serial": "X", "method": "fax"})),
        ("card", None, orjson.dumps({"card_serial": a["serial"]})),  # 401
        ("card", "no-such-key", orjson.dumps({"card_serial": a["serial"]})),  # 401
        ("card", IK, orjson.dumps({"card_serial": a["serial"]})),  # 403
        ("card", FK, b"x" * (fastpath.MAX_BODY + 1)),
    ]
    return out


def on_loop(registry: Registry, work):  # noqa: ANN001, ANN201
    """Run `work(registry)` (a coroutine function) on a fresh loop with the event-loop path started."""

    async def main():  # noqa: ANN202
        await registry.start_async()
        try:
            assert registry.async_here() and registry.async_on(asyncio.get_running_loop())
            other = asyncio.new_event_loop()
            try:
                assert not registry.async_on(other)  # another loop: the threaded path
            finally:
                other.close()
            return await work(registry)
        finally:
            await registry.stop_async()

    return asyncio.run(main())


def test_the_loop_answers_as_the_threads_do_one_by_one_and_batched(world):
    postgres_only(world)
    reqs = requests(world)
    threaded = [fastpath.lookup_response(world.registry, kind, k, body) for kind, k, body in reqs]
    assert {status for status, _, _ in threaded} == {200, 401, 403, 422}

    async def one_by_one(registry):  # noqa: ANN001, ANN202
        return [await fastpath.lookup_response_async(registry, kind, k, body) for kind, k, body in reqs]

    async def together(registry):  # noqa: ANN001, ANN202
        # All at once, twice over: the rows of a whole batch go back to the right lookups.
        return await asyncio.gather(*(fastpath.lookup_response_async(registry, kind, k, body) for kind, k, body in reqs * 2))

    registry = Registry(world.engine)
    assert on_loop(registry, one_by_one) == threaded
    assert on_loop(registry, together) == threaded * 2
    registry.close()


def test_every_answered_lookup_on_the_loop_is_committed_before_its_answer(world):
    postgres_only(world)
    m = world.member(card=CARD)
    body = orjson.dumps({"card_serial": m["serial"]})
    before = logged(world.engine)

    async def concurrently(registry):  # noqa: ANN001, ANN202
        answered = 0
        seen: list[tuple[int, int]] = []

        async def one() -> None:
            nonlocal answered
            status, _, _ = await fastpath.lookup_response_async(registry, "card", FK, body)
            assert status == 200
            answered += 1
            seen.append((answered, logged(world.engine) - before))  # another connection: only what is committed

        await asyncio.gather(*(one() for _ in range(60)))
        return seen

    registry = Registry(world.engine)
    registry.log.idle = 60.0  # the threaded writer must not be the one writing
    seen = on_loop(registry, concurrently)
    assert len(seen) == 60 and all(committed >= answered for answered, committed in seen)
    registry.close()


def test_a_lookup_on_the_loop_whose_entry_cannot_be_committed_is_refused_503(world):
    postgres_only(world)
    m = world.member(card=CARD)
    body = orjson.dumps({"card_serial": m["serial"]})

    async def failing_then_back(registry):  # noqa: ANN001, ANN202
        good = registry.aio._insert
        registry.aio._insert = "INSERT INTO no_such_table SELECT %s"  # cannot be written
        refused = await fastpath.lookup_response_async(registry, "card", FK, body)
        registry.aio._insert = good  # the writer goes on with the next group
        return refused, await fastpath.lookup_response_async(registry, "card", FK, body)

    registry = Registry(world.engine)
    (status, ctype, payload), (after, _, _) = on_loop(registry, failing_then_back)
    assert status == 503 and ctype == b"application/problem+json" and m["number"].encode() not in payload
    assert after == 200 and logged(world.engine) == 1  # only the answered one
    registry.close()


def test_the_server_answers_lookups_on_its_loop_and_stops_it(world):
    """The application's lifespan starts the loop's path (PostgreSQL) and stops it; SQLite stays threaded."""
    m = world.member(card=CARD)
    registry = Registry(world.engine)
    with TestClient(create_app(registry)) as client:
        assert (registry.aio is not None) == (world.engine.dialect.name == "postgresql")
        r = client.post("/api/v1/lookups/card", json={"card_serial": m["serial"]}, headers={"X-API-Key": FK})
        assert r.status_code == 200 and r.json()["validity"] == "valid"
        assert logged(world.engine) == 1
    assert registry.aio is None



def test_the_loop_logs_every_column_as_the_threads_do(world):
    """The group's entries go in as one JSON parameter (aio.log_insert_sql): each column —
    dates, the instant, the booleans, the missing values — as the threaded writer stores it."""
    postgres_only(world)
    from sqlalchemy import select

    from onshi.registry import schema

    reqs = [r for r in requests(world) if r[1] == FK]

    def rows_since(last: int) -> list[dict]:
        with world.engine.connect() as conn:
            found = conn.execute(select(schema.verification).where(schema.verification.c.id > last).order_by(schema.verification.c.id))
            return [dict(r._mapping) for r in found]

    for kind, k, body in reqs:
        fastpath.lookup_response(world.registry, kind, k, body)
    threaded = rows_since(0)

    async def one_by_one(registry):  # noqa: ANN001, ANN202
        for kind, k, body in reqs:
            await fastpath.lookup_response_async(registry, kind, k, body)

    registry = Registry(world.engine)
    on_loop(registry, one_by_one)
    registry.close()
    looped = rows_since(threaded[-1]["id"])
    assert len(looped) == len(threaded) > 10
    assert {r["limit_consent"] for r in looped} == {True, False} and any(r["identity"] is None for r in looped)
    for a, b in zip(threaded, looped):
        assert a["at"].tzinfo is not None and b["at"].tzinfo is not None and abs((b["at"] - a["at"]).total_seconds()) < 60
        assert {k: v for k, v in a.items() if k not in ("id", "at")} == {k: v for k, v in b.items() if k not in ("id", "at")}


def test_the_loop_runs_its_batches_on_their_generic_plans(world):
    postgres_only(world)

    async def mode(registry):  # noqa: ANN001, ANN202
        conn, cur = await registry.aio._take()
        try:
            await cur.execute("SHOW plan_cache_mode")
            return (await cur.fetchone())[0]
        finally:
            registry.aio._hand_over((conn, cur))

    registry = Registry(world.engine)
    assert on_loop(registry, mode) == "force_generic_plan"
    registry.close()


def test_number_inquiries_of_every_variant_share_one_statement(world):
    """A turn's number inquiries go to PostgreSQL as one statement whatever their variants
    (with or without 記号 / 枝番: one UNION ALL branch each), and each gets its own answer."""
    postgres_only(world)
    reqs = [r for r in requests(world) if r[0] == "numbers"]
    variants = set()
    for _kind, _key, body in reqs:
        try:
            sent = orjson.loads(body)
        except orjson.JSONDecodeError:
            continue
        variants.add(("symbol" in sent, "branch" in sent))
    assert len(variants) == 4  # the requests hold every variant
    threaded = [fastpath.lookup_response(world.registry, kind, k, body) for kind, k, body in reqs]

    async def together(registry):  # noqa: ANN001, ANN202
        statements = []
        run = registry.aio._run

        async def counted(statement, params):  # noqa: ANN001, ANN202
            statements.append(statement)
            return await run(statement, params)

        registry.aio._run = counted
        await asyncio.gather(*(fastpath.lookup_response_async(registry, "card", FK, orjson.dumps({"card_serial": "WARM"})) for _ in range(2)))
        statements.clear()  # the key's own query, once
        answers = await asyncio.gather(*(fastpath.lookup_response_async(registry, kind, k, body) for kind, k, body in reqs))
        return answers, statements

    registry = Registry(world.engine)
    answers, statements = on_loop(registry, together)
    assert answers == threaded
    batches = [s for s in statements if "UNION ALL" in s.sql]
    assert len(batches) == 1 and batches[0].sql.count("unnest(") == 4  # all four variants, one statement
    assert all(s is registry.reader.insurer for s in statements if s not in batches)  # the rest: "unknown insurer?" checks
    registry.close()
