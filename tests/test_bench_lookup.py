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
