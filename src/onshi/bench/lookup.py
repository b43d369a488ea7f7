"""`onshi bench lookup`: lookups per second and latency, by card and by numbers,
in-process and over HTTP, with `pgbench -S` on the same server for the ratio.

HTTP load comes from `wrk` (Debian package `wrk`) when installed, else from a simple
multi-process keep-alive client (which itself costs CPU on a small machine: prefer wrk).
Each HTTP run also reports the CPU per lookup of the server, PostgreSQL and the load
generator, how busy the machine was, and what that CPU per lookup would give with the cores
used up (`ceiling`: a worker process uses one core at most).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

from .. import config
from . import percentile


@dataclass
class Figure:
    name: str
    requests: int
    seconds: float
    per_second: float
    p50_ms: float | None
    p99_ms: float | None
    note: str = ""
    cpu_us: dict | None = None  # CPU µs per request by process (the server's, PostgreSQL's on this machine, the load generator's), over HTTP
    busy: float | None = None  # share of all the machine's cores busy during the run (any process), over HTTP
    workers: int | None = None  # the server's worker processes, over HTTP
    connections: int | None = None  # lookups in flight (HTTP connections, pgbench's clients): what its ratio is taken against


# ---------------------------------------------------------------- CPU per request (Linux /proc)

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu() -> dict[int, tuple[str, int, float]]:
    """pid → (command name, parent pid, CPU seconds so far: user + system) of every process."""
    out = {}
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
            out[int(pid)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / _TICK)
    return out


def _cpu_groups(snapshot: dict, server: int) -> dict[str, float]:
    """CPU seconds of the server (its process and its workers) and of PostgreSQL (its processes on
    this machine: nothing when the database is elsewhere), from a `_proc_cpu` snapshot."""
    tree, grew = {server}, True
    while grew:
        more = {pid for pid, (_, parent, _) in snapshot.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    groups = {"server": 0.0, "PostgreSQL": 0.0}
    for pid, (name, _, cpu) in snapshot.items():
        if pid in tree:
            groups["server"] += cpu
        elif name.startswith("postgres"):
            groups["PostgreSQL"] += cpu
    return groups


def cpu_per_request(before: dict, after: dict, server: int, requests: int) -> dict[str, float]:
    """CPU µs per request of the server and of PostgreSQL between two snapshots (processes that
    ended in between are not counted: PostgreSQL's backends live as long as the server's pool)."""
    a, b = _cpu_groups(before, server), _cpu_groups(after, server)
    return {k: round((b[k] - a[k]) / requests * 1e6, 1) for k in a} if requests else {}


def _machine_cpu() -> tuple[float, float] | None:
    """(busy, all) CPU seconds of the whole machine so far, every core (/proc/stat's first line;
    idle and iowait are not busy). None where there is no /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    total = sum(fields)
    return (total - fields[3] - fields[4]) / _TICK, total / _TICK


def busy_share(before: tuple[float, float] | None, after: tuple[float, float] | None) -> float | None:
    """The share of the machine's cores busy between two `_machine_cpu` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 3)


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk, or the Python client's processes)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ceiling(figure: dict, cores: int) -> float | None:
    """Lookups/s at the run's CPU per lookup if the cores were used up: every core busy (the
    server's, PostgreSQL's and the load generator's CPU together), and no more than the
    server's workers can give — a worker is one process on one core. What the machine could
    give where the run was paced by latency rather than by the CPU. None without the CPU figures."""
    cpu = figure.get("cpu_us") or {}
    if not {"server", "PostgreSQL"} <= set(cpu) or min(cpu.values()) < 0 or cpu["server"] <= 0:
        return None
    top = cores * 1e6 / sum(cpu.values())
    return min(top, min(figure.get("workers") or cores, cores) * 1e6 / cpu["server"])


def _percentile(sorted_ns: list[int], q: float) -> float:
    """Milliseconds from sorted nanoseconds (bench.percentile), NaN if there are none."""
    value = percentile(sorted_ns, q)
    return float("nan") if value is None else value / 1e6


# ---------------------------------------------------------------- in-process


def _card_call(registry, facility, person):  # noqa: ANN001, ANN202
    return lambda: registry.lookup_by_card(facility, person["card_serial"], channel="bench")


def _numbers_call(registry, facility, person):  # noqa: ANN001, ANN202
    from ..registry.service import parse_number_query

    def call():  # noqa: ANN202
        q = parse_number_query(person["insurer_number"], person["symbol"], person["number"], person["branch"], person["birth_date"])
        return registry.lookup_by_numbers(facility, q, channel="bench")

    return call


def _in_process_worker(args: tuple) -> tuple[int, float, list[int]]:
    url, people, kind, seconds = args
    from ..registry.db import make_engine
    from ..registry.service import Registry

    registry = Registry(make_engine(url, pool_size=2), buffered_log=True)
    make = _card_call if kind == "card" else _numbers_call
    calls = [make(registry, p["facility_code"], p) for p in people]
    for call in calls[:50]:  # warm the pool and the prepared statements
        call()
    latencies: list[int] = []
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        t0 = time.perf_counter_ns()
        result = calls[n % len(calls)]()
        latencies.append(time.perf_counter_ns() - t0)
        n += 1
        if result.validity is None and result.error not in (None, "cert_expired", "card_expired"):
            raise RuntimeError(f"unexpected lookup error {result.error}")
        if n % 64 == 0 and time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - start
    registry.close()
    return n, elapsed, latencies


def in_process(url: str, people: list[dict], kind: str, seconds: float, processes: int) -> Figure:
    chunks = [people[i::processes] for i in range(processes)]
    if processes == 1:
        results = [_in_process_worker((url, chunks[0], kind, seconds))]
    else:
        with mp.get_context("spawn").Pool(processes) as pool:
            results = pool.map(_in_process_worker, [(url, c, kind, seconds) for c in chunks])
    total = sum(r[0] for r in results)
    elapsed = max(r[1] for r in results)
    lat = sorted(x for r in results for x in r[2])
    return Figure(f"in-process by {kind}, one after another ({processes} proc)", total, elapsed, total / elapsed,
                  _percentile(lat, 0.5), _percentile(lat, 0.99), "each lookup waits for its own log commit")


# ---------------------------------------------------------------- in-process, concurrent (the event loop's path)

# The phases of a lookup on the event loop, timed by wrapping the registry's own pieces
# (nothing re-implemented): their wall time per lookup, waits included.
PHASES = ("validation", "authentication", "query", "evaluation", "log commit wait", "serialisation")
LAG_MEAN, LAG_P90 = "the loop's lag, mean (µs a callback waits for its turn)", "the loop's lag, p90"


def _concurrent_worker(args: tuple) -> tuple[int, float, list[int], dict]:
    import asyncio

    url, people, kind, seconds, in_flight, split = args
    return asyncio.run(_concurrent(url, people, kind, seconds, in_flight, split))


async def _concurrent(url: str, people: list[dict], kind: str, seconds: float, in_flight: int, split: bool) -> tuple[int, float, list[int], dict]:
    import asyncio

    from ..interfaces.http import fastpath
    from ..registry.db import make_engine
    from ..registry.service import Registry

    registry = Registry(make_engine(url, pool_size=2), buffered_log=True)
    await registry.start_async()
    requests = [(p["facility_key"], body.encode()) for (_path, _key, body), p in zip(_bodies(people, kind), people)]
    spent = dict.fromkeys(PHASES, 0)
    if split:
        _time_phases(registry, fastpath, spent)
    for key, body in requests[:50]:  # warm the connections and the prepared statements
        await fastpath.lookup_response_async(registry, kind, key, body)
    latencies: list[int] = []
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            key, body = requests[i % len(requests)]
            t0 = time.perf_counter_ns()
            status, _ctype, payload = await fastpath.lookup_response_async(registry, kind, key, body)
            latencies.append(time.perf_counter_ns() - t0)
            if status != 200:
                raise RuntimeError(f"lookup answered {status}: {payload[:200]!r}")
            done += 1
            i += in_flight

    lags: list[int] = []

    async def probe() -> None:
        # The loop's lag: how long a callback scheduled now waits for its turn (every turn runs
        # all that became ready: under load a lookup waits this long at each of its awaits).
        loop = asyncio.get_running_loop()
        while time.perf_counter() < deadline:
            t0 = time.perf_counter_ns()
            turn = loop.create_future()
            loop.call_soon(turn.set_result, None)
            await turn
            lags.append(time.perf_counter_ns() - t0)
            await asyncio.sleep(0.001)

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(in_flight)), *((probe(),) if split else ()))
    elapsed = time.perf_counter() - start
    if lags:
        lags.sort()
        spent[LAG_MEAN], spent[LAG_P90] = sum(lags) // len(lags), lags[int(len(lags) * 0.9)]
    await registry.stop_async()
    registry.close()
    return done, elapsed, latencies, spent


def _time_phases(registry, fastpath, spent: dict) -> None:  # noqa: ANN001
    """Wrap the pieces of the event loop's lookup with timers adding to `spent` (ns)."""
    from ..registry import lookup, service

    def timed(phase: str, fn):  # noqa: ANN001, ANN202
        def call(*a, **k):  # noqa: ANN002, ANN003, ANN202
            t0 = time.perf_counter_ns()
            try:
                return fn(*a, **k)
            finally:
                spent[phase] += time.perf_counter_ns() - t0
        return call

    def timed_async(phase: str, fn):  # noqa: ANN001, ANN202
        async def call(*a, **k):  # noqa: ANN002, ANN003, ANN202
            t0 = time.perf_counter_ns()
            try:
                return await fn(*a, **k)
            finally:
                spent[phase] += time.perf_counter_ns() - t0
        return call

    aio = registry.aio
    fastpath._arguments = timed("validation", fastpath._arguments)
    registry.authenticate_async = timed_async("authentication", registry.authenticate_async)
    aio.by_card = timed_async("query", aio.by_card)
    aio.by_numbers = timed_async("query", aio.by_numbers)
    aio.insurer_exists = timed_async("query", aio.insurer_exists)
    registry._card_result = timed("evaluation", registry._card_result)
    service.evaluate_numbers = timed("evaluation", service.evaluate_numbers)
    aio.record = timed_async("log commit wait", aio.record)
    lookup.LookupResult.to_json = timed("serialisation", lookup.LookupResult.to_json)


def concurrent(url: str, people: list[dict], kind: str, seconds: float, in_flight: int, *, split: bool = False) -> tuple[Figure, dict]:
    """Lookups on one event loop with `in_flight` of them at a time (what an HTTP worker does,
    without HTTP): the rows fetched in batches, the log entries sharing commits. Runs in a
    process of its own (the phase timers patch the code)."""
    with mp.get_context("spawn").Pool(1) as pool:
        n, elapsed, lat, spent = pool.apply(_concurrent_worker, ((url, people, kind, seconds, in_flight, split),))
    lat.sort()
    figure = Figure(f"in-process by {kind}, {in_flight} in flight (1 proc)", n, elapsed, n / elapsed, _percentile(lat, 0.5), _percentile(lat, 0.99),
                    "event loop: fastpath.lookup_response_async without HTTP", connections=in_flight)
    phases = {phase: spent[phase] / n / 1000 for phase in PHASES} if split and n else {}
    phases |= {name: spent[name] / 1000 for name in (LAG_MEAN, LAG_P90) if phases and name in spent}
    if phases:
        phases["total (mean latency)"] = sum(lat) / len(lat) / 1000
    return figure, phases


# ---------------------------------------------------------------- HTTP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    from ..interfaces.http.server import PROTOCOL  # as `onshi serve` runs it

    port = _free_port()
    env = os.environ | {"ONSHI_DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "onshi.interfaces.http.server:app_from_env", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http", PROTOCOL],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def _bodies(people: list[dict], kind: str) -> list[tuple[str, str, str]]:
    out = []
    for p in people:
        if kind == "card":
            body = {"card_serial": p["card_serial"], "identity": "face"}
            path = "/api/v1/lookups/card"
        else:
            body = {k: p[k] for k in ("insurer_number", "symbol", "number", "branch", "birth_date")}
            path = "/api/v1/lookups/numbers"
        out.append((path, p["facility_key"], json.dumps(body, ensure_ascii=False)))
    return out


WRK_SCRIPT = """
local requests = {}
local counter = 0
init = function(args)
  for i, line in ipairs(REQS) do
    requests[i] = wrk.format("POST", line[1], {["Content-Type"] = "application/json", ["X-API-Key"] = line[2]}, line[3])
  end
end
request = function()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end
done = function(summary, latency, requests)
  io.write(string.format("ONSHI %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _lua_string(s: str) -> str:
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r") + "\""


def http_wrk(base: str, people: list[dict], kind: str, seconds: float, connections: int, threads: int) -> Figure:
    return wrk_requests(base, _bodies(people, kind), f"HTTP by {kind}", seconds, connections, threads)


def wrk_requests(
    base: str, items: list[tuple[str, str, str]], name: str, seconds: float, connections: int, threads: int, *, content_type: str = "application/json"
) -> Figure:
    """POST each (path, API key, body) in turn with wrk; throughput and latency."""
    reqs = ",\n".join("{" + ", ".join(_lua_string(x) for x in item) + "}" for item in items)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write("REQS = {\n" + reqs + "\n}\n" + WRK_SCRIPT.replace("application/json", content_type))
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s", "-s", script, "--latency", base],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(script)
    m = re.search(r"ONSHI (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not m:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    n, dur_us, p50, p99, status_err, sock_err = map(int, m.groups())
    elapsed = dur_us / 1e6
    note = f"wrk -t{threads} -c{connections}" + (f"; {status_err} non-2xx" if status_err else "") + (f"; {sock_err} socket errors" if sock_err else "")
    return Figure(name, n, elapsed, n / elapsed, p50 / 1000, p99 / 1000, note)


def _py_client(args: tuple) -> tuple[int, list[int]]:
    base, items, seconds = args
    import http.client
    from urllib.parse import urlparse

    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    lat, n = [], 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        path, key, body = items[n % len(items)]
        t0 = time.perf_counter_ns()
        conn.request("POST", path, body=body.encode(), headers={"Content-Type": "application/json", "X-API-Key": key})
        resp = conn.getresponse()
        resp.read()
        lat.append(time.perf_counter_ns() - t0)
        n += 1
    return n, lat


def http_python(base: str, people: list[dict], kind: str, seconds: float, connections: int) -> Figure:
    items = _bodies(people, kind)
    with mp.get_context("spawn").Pool(connections) as pool:
        results = pool.map(_py_client, [(base, items[i::connections] or items, seconds) for i in range(connections)])
    n = sum(r[0] for r in results)
    lat = sorted(x for r in results for x in r[1])
    return Figure(f"HTTP by {kind}", n, seconds, n / seconds, _percentile(lat, 0.5), _percentile(lat, 0.99), f"python client ×{connections} (install wrk for better figures)")


# ---------------------------------------------------------------- pgbench


def pgbench_select(url: str, seconds: float, clients: int, threads: int, *, initialise: bool = True) -> Figure | None:
    """`pgbench -S` (select-only) on a scratch database of the same server (None: no pgbench,
    or it failed — e.g. more clients than the server's max_connections — said on stderr)."""
    from sqlalchemy.engine import make_url

    if not shutil.which("pgbench"):
        return None
    u = make_url(url)
    env = os.environ | {"PGHOST": u.host or "127.0.0.1", "PGPORT": str(u.port or 5432), "PGUSER": u.username or "postgres"}
    if u.password:
        env["PGPASSWORD"] = u.password
    db = "onshi_pgbench"
    if initialise:
        subprocess.run(["createdb", db], env=env, capture_output=True)
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", db], env=env, capture_output=True, check=True)
    done = subprocess.run(["pgbench", "-S", "-n", "-c", str(clients), "-j", str(threads), "-T", str(int(seconds)), "-r", db], env=env, capture_output=True, text=True)
    found = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode != 0 or not found:
        print(f"pgbench -S -c{clients} failed: {(done.stderr or done.stdout).strip()[-300:]}", file=sys.stderr)
        return None
    lat = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    n = int(re.search(r"number of transactions actually processed: (\d+)", done.stdout).group(1))
    return Figure(f"pgbench -S (-c{clients} -j{threads})", n, seconds, float(found.group(1)), float(lat.group(1)) if lat else None, None,
                  "single-row primary-key selects, scale 10", connections=clients)


# ---------------------------------------------------------------- driver


def run(
    url: str,
    *,
    seed: int = 1,
    sample: int = 2000,
    seconds: float = 10,
    processes: int | None = None,
    workers: tuple[int, ...] = (),
    connections: tuple[int, ...] = (32,),
    http: bool = True,
    pgbench: bool = True,
    split: bool = True,
) -> dict:
    from sqlalchemy import func, select

    from ..registry import schema
    from ..registry.db import make_engine
    from ..registry.keys import attach_keys
    from ..registry.seed import sample_people

    cores = os.cpu_count() or 1
    processes = processes or 1
    # One worker per core the database leaves free, and one per core: on a small machine that
    # also runs PostgreSQL the first is often the faster (bigger batches, fewer commits).
    workers = tuple(dict.fromkeys(workers or (max(1, cores // 2), cores)))
    engine = make_engine(url)
    with engine.connect() as conn:
        population = conn.execute(select(func.count()).select_from(schema.person)).scalar_one()
    people = attach_keys(engine, sample_people(engine, sample, seed=seed, today=config.today()), "bench")
    postgres = engine.dialect.name == "postgresql"
    settings = server_settings(engine)
    engine.dispose()
    if not people:
        raise RuntimeError("the registry holds nobody to look up: seed it first (onshi seed --people N)")
    figures: list[Figure] = []
    phases: dict[str, dict] = {}
    for kind in ("card", "numbers"):
        figures.append(in_process(url, people, kind, seconds, processes))
        if postgres:  # the event loop's path (registry/aio.py) is PostgreSQL's
            fig, split_of = concurrent(url, people, kind, seconds, connections[0], split=split)
            figures.append(fig)
            if split_of:
                phases[kind] = split_of
    for n in workers if http else ():
        proc, base = start_server(url, n)
        try:
            for kind in ("card", "numbers"):  # warm-up, not measured: key cache, prepared statements, buffers
                if shutil.which("wrk"):
                    http_wrk(base, people, kind, 2, connections[0], max(1, cores // 2))
            for c in connections:
                for kind in ("card", "numbers"):
                    before, machine, children = _proc_cpu(), _machine_cpu(), _children_cpu()
                    if shutil.which("wrk"):
                        fig = http_wrk(base, people, kind, seconds, c, max(1, cores // 2))
                    else:
                        fig = http_python(base, people, kind, seconds, min(c, 4 * cores))
                    fig.busy = busy_share(machine, _machine_cpu())
                    fig.cpu_us = cpu_per_request(before, _proc_cpu(), proc.pid, fig.requests) or None
                    if fig.cpu_us:  # the load generator, a finished child of this process, shares the cores too
                        fig.cpu_us["load generator"] = round((_children_cpu() - children) / fig.requests * 1e6, 1)
                    fig.connections, fig.workers = c, n
                    fig.note += f"; {n} uvicorn worker{'s' if n > 1 else ''}"
                    figures.append(fig)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    if pgbench and postgres:  # with as many clients as each run had lookups in flight: its ratio is against that
        for i, c in enumerate(dict.fromkeys(connections)):
            fig = pgbench_select(url, seconds, clients=c, threads=max(1, cores // 2), initialise=i == 0)
            if fig:
                figures.append(fig)
    return {
        "database": make_url_safe(url),
        "people": population,
        "sampled": len(people),
        "cores": cores,
        "load": _load(),
        "today": config.today().isoformat(),
        "at": dt.datetime.now(config.JST).isoformat(timespec="seconds"),
        "figures": [asdict(f) for f in figures],
        "phases_us": phases,
        "server": settings,
    }


def server_settings(engine) -> dict:  # noqa: ANN001
    """What the figures depend on besides the code: PostgreSQL's buffer pool against the size
    of the database (a registry larger than `shared_buffers` reads its pages from the kernel)."""
    if engine.dialect.name != "postgresql":
        return {}
    from sqlalchemy import text

    with engine.connect() as conn:
        return {name: conn.execute(text(sql)).scalar_one() for name, sql in (
            ("shared_buffers", "SHOW shared_buffers"), ("database size", "SELECT pg_size_pretty(pg_database_size(current_database()))"),
            ("PostgreSQL", "SHOW server_version"))}


def make_url_safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _load() -> str:
    """The load average (1, 5, 15 min) when the run ended: figures from a busy machine are low."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return ""


def reference(figure: dict, figures: list[dict]) -> dict | None:
    """The `pgbench -S` figure of the run that `figure` is set against: the one with as many
    clients as it had lookups in flight, else the run's first (None: no pgbench in the run)."""
    runs = [f for f in figures if f["name"].startswith("pgbench")]
    same = (r for r in runs if figure.get("connections") and r.get("connections") == figure["connections"])
    return next(same, runs[0] if runs else None)


def shares(figures: list[dict]) -> list[tuple[str, str, float, str]]:
    """Each lookup figure against its `reference`: (name, note, share, the pgbench figure's name)."""
    out = []
    for f in figures:
        pg = reference(f, figures) if f["name"].startswith(("HTTP", "in-process")) else None
        if pg is not None:
            out.append((f["name"], f["note"].split(";")[0], f["per_second"] / pg["per_second"], pg["name"]))
    return out


def print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    title = report.get("title") or f"lookups — {report['people']:,} people, {report['database']}, {report['cores']} cores"
    table = Table(title=title)
    for col in ("what", "requests", "per second", "p50 ms", "p99 ms", "note"):
        table.add_column(col, justify="right" if col not in ("what", "note") else "left")
    for f in report["figures"]:
        table.add_row(
            f["name"], f"{f['requests']:,}", f"{f['per_second']:,.0f}",
            "" if f["p50_ms"] is None else f"{f['p50_ms']:.2f}", "" if f["p99_ms"] is None else f"{f['p99_ms']:.2f}", f["note"],
        )
    console = Console()
    console.print(table)
    for name, note, share, pg in shares(report["figures"]):
        console.print(f"{name} ({note}): {share:.1%} of {pg}")
    if report.get("phases_us"):
        split = Table(title="where a lookup's time goes on the event loop (mean µs of wall time per lookup, waits included)")
        split.add_column("phase")
        kinds = list(report["phases_us"])
        for kind in kinds:
            split.add_column(f"by {kind}", justify="right")
        for phase in report["phases_us"][kinds[0]]:
            split.add_row(phase, *(f"{report['phases_us'][k].get(phase, 0):,.0f}" for k in kinds))
        console.print(split)
    if report.get("load"):
        console.print(f"load average at the end of the run: {report['load']} ({report['cores']} cores)")
    for f in report["figures"]:
        if f.get("cpu_us"):
            line = f"{f['name']} ({f.get('connections')} connections): CPU per lookup " + ", ".join(f"{k} {v:,.0f} µs" for k, v in f["cpu_us"].items())
            if f.get("busy") is not None:
                line += f"; the machine {f['busy']:.0%} busy"
            top = ceiling(f, report["cores"])
            if top:
                pg = reference(f, report["figures"])
                line += f"; the cores used up at that CPU: {top:,.0f}/s" + (f" ({top / pg['per_second']:.1%} of {pg['name']})" if pg else "")
            console.print(line)
    if report.get("server"):
        console.print("server: " + ", ".join(f"{k} {v}" for k, v in report["server"].items()))


if __name__ == "__main__":  # pragma: no cover
    print_report(run(config.database_url()))
