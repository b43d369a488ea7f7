"""`onshi bench lookup`'s accounting (issue 14 item 2): the CPU each lookup cost the server,
PostgreSQL and the load generator, how busy the machine was, what its cores would give at that
CPU, and the server settings the figures depend on. Figures only: speed is never asserted."""

from __future__ import annotations

import os
import subprocess
import sys

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


def test_the_machines_busy_share_is_what_the_cores_spent_between_two_readings():
    assert lookup.busy_share((100.0, 400.0), (130.0, 440.0)) == 0.75  # 30 of 40 core-seconds busy
    assert lookup.busy_share(None, (1.0, 2.0)) is None and lookup.busy_share((1.0, 2.0), (1.0, 2.0)) is None


@pytest.mark.skipif(not os.path.isfile("/proc/stat"), reason="reads /proc/stat (Linux)")
def test_the_machines_reading_moves_while_this_process_spends_cpu():
    first = lookup._machine_cpu()
    children = lookup._children_cpu()
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    second = lookup._machine_cpu()
    assert 0 <= second[0] - first[0] <= second[1] - first[1] and second[0] > first[0]
    assert 0 < lookup.busy_share(first, second) <= 1
    assert lookup._children_cpu() > children  # the finished child's CPU is counted, as wrk's is


def test_the_ceiling_is_the_cores_over_the_cpu_of_a_lookup_and_a_core_per_worker():
    figure = {"cpu_us": {"server": 50.0, "PostgreSQL": 90.0, "load generator": 20.0}, "workers": 1}
    assert lookup.ceiling(figure, 2) == 2e6 / 160  # the two cores, before the one worker's core (1e6 / 50)
    figure["cpu_us"] |= {"server": 90.0, "PostgreSQL": 50.0}
    assert lookup.ceiling(figure, 2) == 1e6 / 90  # one worker: its one core is used up first
    assert lookup.ceiling(figure | {"workers": 2}, 2) == 2e6 / 160
    assert lookup.ceiling(figure | {"workers": 8}, 2) == 2e6 / 160  # more workers than cores: the cores
    assert lookup.ceiling({"cpu_us": {"server": 90.0}}, 2) is None  # PostgreSQL elsewhere: no ceiling
    assert lookup.ceiling({"cpu_us": None}, 2) is None


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


def test_the_report_says_how_busy_the_machine_was_and_what_every_core_would_give(capsys):
    http = {"name": "HTTP by card", "requests": 80_000, "seconds": 10.0, "per_second": 8_000.0, "p50_ms": 3.6, "p99_ms": 6.8,
            "note": "wrk -t1 -c32; 2 uvicorn workers", "connections": 32, "busy": 0.65, "workers": 2,
            "cpu_us": {"server": 90.0, "PostgreSQL": 50.0, "load generator": 20.0}}
    pgbench = {"name": "pgbench -S (-c32 -j1)", "requests": 600_000, "seconds": 10.0, "per_second": 60_000.0, "p50_ms": 0.5,
               "p99_ms": None, "note": "", "connections": 32}
    lookup.print_report({"people": 10, "database": "x", "cores": 2, "figures": [http, pgbench], "server": {}})
    out = " ".join(capsys.readouterr().out.split())
    assert "the machine 65% busy" in out
    assert "the cores used up at that CPU: 12,500/s (20.8% of pgbench -S (-c32 -j1))" in out  # 2 cores / 160 µs
