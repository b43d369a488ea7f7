"""`onshi bench national` (issue 14 item 3) at a tiny size: the mechanics and the report's
shape, and that the registry is the same afterwards. Figures only: speed is never asserted."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import text

from onshi.bench import national


def _state(engine) -> dict:  # noqa: ANN001
    """Every table's rows (count and digest) and the keys: what a run must leave as it found."""
    from onshi.registry import schema

    out = {}
    with engine.connect() as conn:
        for table in schema.TABLES_IN_LOAD_ORDER:
            if table.name == "api_key":
                continue
            out[table.name] = conn.execute(text(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table.name} t")).one()
        out["keys"] = conn.execute(text("SELECT count(*) FROM api_key WHERE label = :l"), {"l": national.LABEL}).scalar_one()
    return out


@pytest.fixture
def seeded(engine, today):  # noqa: ANN001, ANN201
    if engine.dialect.name != "postgresql":
        pytest.skip("the national bench runs on PostgreSQL")
    from onshi.registry.seed import seed_registry

    today("2026-11-30")
    seed_registry(engine, 600, seed=2, progress=False, history=False)
    return engine


def test_a_short_run_reports_every_figure_and_leaves_the_registry_as_it_was(seeded):
    before = _state(seeded)
    url = seeded.url.render_as_string(hide_password=False)
    report = national.run(url, seconds=2, rate=40, card_share=0.5, sample=150, seed=2, connections=4, write_connections=2, pgbench=False)
    assert report["errors"] == {}, report["errors"]
    looks, writes = report["lookups"], report["writes"]
    assert looks["answered"] >= 40 and set(looks["by_kind"]) == {"card", "numbers"}
    assert all(looks[k] is not None for k in ("p50_ms", "p99_ms", "p999_ms"))
    # the write cycle's first eight: acquisitions, their card links, losses, address and income changes
    assert set(writes["by_kind"]) == {"acquisition", "address_change", "loss", "income_change", "card_link"}
    assert report["asked"]["lookups_per_second"] == 40 and report["asked"]["writes_planned"] >= 8
    assert report["job"]["status"] == "done" and report["job"]["candidates"] > 0
    assert report["database_size"]["per_million_people_bytes"] == round(report["database_size"]["bytes"] * 1_000_000 / 600)
    undone = report["undone"]
    assert undone["operation"] == writes["answered"] and undone["person"] == writes["by_kind"]["acquisition"]["answered"]
    assert undone["verification"] >= looks["answered"] and undone["issuance_run"] == 1
    assert _state(seeded) == before


def test_the_default_rate_is_the_national_peak_scaled_with_headroom():
    assert national.national_rate(national.NATION_PEOPLE, 1) == national.NATIONAL_PEAK
    assert national.national_rate(10_000_000) == pytest.approx(1_700 * 10 / 124 * 10)


def test_sqlite_is_refused(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the refusal of a non-PostgreSQL registry")
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        national.run(engine.url.render_as_string(hide_password=False), seconds=1, pgbench=False)


def test_open_loop_latency_counts_from_the_intended_send_time():
    """A server that needs 50 ms per answer on one connection, asked 100/s for half a second:
    the answers queue, and their latency counts the queueing (no coordinated omission)."""

    async def main() -> dict:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
                await reader.readexactly(length)
                await asyncio.sleep(0.05)
                body = b'{"validity":"valid"}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        items = [("card", "/api/v1/lookups/card", "fk_x", b"{}")]
        try:
            return await national._drive(f"http://127.0.0.1:{port}", items, [], 100, 0.1, 0.5, 1, 1, threading.Event())
        finally:
            server.close()

    result = asyncio.run(main())
    looks = result["lookups"]
    assert looks["errors"] == {} and looks["answered"] == 50
    assert looks["p50_ms"] > 500 and looks["max_ms"] > 1500  # the last of 50 waited for the 49 before it


def test_a_job_stopped_at_its_time_limit_is_reported_as_far_as_it_got(world):
    """--job-timeout: the run's committed batches (its summary) are what the report shows."""
    import datetime as dt
    import json

    from onshi.issuance.run import start_run
    from onshi.registry.schema import issuance_run

    day = dt.date(2026, 5, 12)
    run_id = start_run(world.engine, day).id
    with world.engine.begin() as conn:
        conn.execute(issuance_run.update().where(issuance_run.c.id == run_id).values(
            candidates=7000, summary=json.dumps({"members": 5000, "sent": 120, "documents": {"notice": 80, "eligibility_certificate": 40}})))
    job = national._stopped_job(world.engine, 0, day.isoformat(), 95.4)
    assert job["run_id"] == run_id and job["candidates"] == 7000 and job["decided_so_far"] == 5000
    assert job["documents"] == 120 and job["status"].startswith("stopped after 95 s")


def test_every_bench_reports_the_nearest_rank_percentile():
    from onshi.bench import percentile
    from onshi.bench.lookup import _percentile

    values = list(range(1, 101))  # 1 … 100
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 0.999)) == (50, 99, 100)
    assert percentile([7], 0.99) == 7 and percentile([], 0.5) is None
    assert _percentile([1_000_000 * v for v in values], 0.99) == 99.0  # nanoseconds → ms
