"""`onshi bench lookup`'s accounting (issue 14 item 2): the CPU each lookup cost the server and
PostgreSQL, and the server settings the figures depend on. Figures only: speed is never asserted."""

from __future__ import annotations

import os

import pytest

from onshi.bench import lookup


def test_cpu_per_request_splits_the_server_tree_from_postgresql():
    # pid → (name, parent, CPU seconds): a server (10) with a worker (11), two backends, others.
    before = {10: ("python", 1, 1.0), 11: ("python", 10, 5.0), 20: ("postgres", 1, 100.0), 21: ("postgres", 20, 2.0),
              30: ("wrk", 1, 0.5), 40: ("python", 1, 9.0)}
    after = {10: ("python", 1, 1.5), 11: ("python", 10, 9.5), 20: ("postgres", 1, 100.0), 21: ("postgres", 20, 4.0),
             30: ("wrk", 1, 1.5), 40: ("python", 1, 19.0)}
    # 5 s of the server and its worker, 2 s of PostgreSQL, over 50,000 requests; wrk and the others left out.
    assert lookup.cpu_per_request(before, after, 10, 50_000) == {"server": 100.0, "PostgreSQL": 40.0}
    assert lookup.cpu_per_request(before, after, 10, 0) == {}


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")
def test_the_snapshot_sees_this_process_spend_cpu():
    me = os.getpid()
    before = lookup._proc_cpu()
    start = before[me][2]
    while lookup._proc_cpu()[me][2] == start:  # spend CPU until the kernel's count (10 ms ticks) moves
        sum(i * i for i in range(200_000))
    after = lookup._proc_cpu()
    assert after[me][2] > before[me][2] and lookup._cpu_groups(after, me)["server"] >= after[me][2]


def test_the_report_names_the_buffer_pool_on_postgresql(engine):
    settings = lookup.server_settings(engine)
    if engine.dialect.name == "postgresql":
        assert set(settings) == {"shared_buffers", "database size", "PostgreSQL"} and settings["shared_buffers"][0].isdigit()
    else:
        assert settings == {}


def test_each_lookup_figure_is_set_against_pgbench_with_as_many_clients():
    def fig(name, per_second, connections, note=""):  # noqa: ANN001, ANN202
        return {"name": name, "per_second": per_second, "connections": connections, "note": note}

    figures = [
        fig("in-process by card, one after another (1 proc)", 1_000, None, "each lookup waits"),
        fig("in-process by card, 32 in flight (1 proc)", 8_000, 32, "event loop; x"),
        fig("HTTP by card", 7_000, 32, "wrk -t1 -c32; 1 uvicorn worker"),
        fig("HTTP by card", 9_000, 64, "wrk -t1 -c64; 1 uvicorn worker"),
        fig("HTTP by card", 9_500, 128, "wrk -t1 -c128; 1 uvicorn worker"),
        fig("pgbench -S (-c32 -j1)", 40_000, 32),
        fig("pgbench -S (-c64 -j1)", 36_000, 64),  # no pgbench at 128 (max_connections): the first one
    ]
    assert lookup.shares(figures) == [
        ("in-process by card, one after another (1 proc)", "each lookup waits", 1_000 / 40_000, "pgbench -S (-c32 -j1)"),
        ("in-process by card, 32 in flight (1 proc)", "event loop", 8_000 / 40_000, "pgbench -S (-c32 -j1)"),
        ("HTTP by card", "wrk -t1 -c32", 7_000 / 40_000, "pgbench -S (-c32 -j1)"),
        ("HTTP by card", "wrk -t1 -c64", 9_000 / 36_000, "pgbench -S (-c64 -j1)"),
        ("HTTP by card", "wrk -t1 -c128", 9_500 / 40_000, "pgbench -S (-c32 -j1)"),
    ]
    assert lookup.shares(figures[:5]) == []  # no pgbench in the run: no ratio


@pytest.mark.skipif(not __import__("shutil").which("pgbench"), reason="needs pgbench")
def test_a_failed_pgbench_is_no_figure(engine, capfd):
    if engine.dialect.name != "postgresql":
        pytest.skip("pgbench runs against PostgreSQL")
    url = engine.url.render_as_string(hide_password=False)
    assert lookup.pgbench_select(url, 1, clients=100_000, threads=1, initialise=False) is None  # beyond any max_connections
    assert "pgbench -S -c100000 failed" in capfd.readouterr().err


def test_the_split_of_a_short_loop_run_names_every_phase_and_the_loops_lag(engine, today):
    if engine.dialect.name != "postgresql":
        pytest.skip("the event loop's path is PostgreSQL's")
    from onshi.registry.keys import attach_keys
    from onshi.registry.seed import sample_people, seed_registry

    today("2026-11-30")
    seed_registry(engine, 200, seed=3, progress=False, history=False)
    from onshi import config

    people = attach_keys(engine, sample_people(engine, 20, seed=3, today=config.today()), "bench")
    url = engine.url.render_as_string(hide_password=False)
    figure, phases = lookup.concurrent(url, people, "card", 0.5, 4, split=True)
    assert figure.requests > 0 and figure.connections == 4 and figure.p99_ms >= figure.p50_ms > 0
    assert list(phases) == [*lookup.PHASES, lookup.LAG_MEAN, lookup.LAG_P90, "total (mean latency)"]
    assert phases[lookup.LAG_P90] >= 0 and phases["total (mean latency)"] > phases["evaluation"] > 0
