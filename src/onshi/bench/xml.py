"""`onshi bench xml`: the facility XML interface end to end.

- a bulk inquiry of N patients (default 10,000) through the folder terminal: the 01req
  file in, the 01res with its 受付番号 out, then 02req until the 02res holds every unit;
- single inquiries through the folder: 1,000 request files dropped at once (throughput),
  and one file at a time as a レセコン does (latency, bounded below by the polling interval);
- single inquiries over HTTP (`POST /oqs/v1/OQSsiquc01req`, uvicorn workers, wrk when
  installed, else a Python client).

People are real ones of the seeded registry (`sample_people`); every lookup is logged as
usual. The bulk requests the benchmark stores are deleted at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from .. import config
from .lookup import Figure, _percentile, start_server, wrk_requests


def _searches(people: list[dict]):  # noqa: ANN202
    from ..interfaces.oqs_xml.codec import SearchInfo

    return [
        SearchInfo(insurer_number=p["insurer_number"], symbol=p["symbol"], number=p["number"], branch=p["branch"],
                   birth_date=p["birth_date"].replace("-", ""), arbitrary_identifier=str(i))
        for i, p in enumerate(people)
    ]


def _drop(req: Path, name: str, data: bytes) -> None:
    tmp = req.parent / f".{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, req / name)


def _wait(path: Path, timeout: float = 600) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            time.sleep(0.001)
    raise TimeoutError(path)


def folder_figures(url: str, people: list[dict], facility: str, *, bulk: int, singles: int, sequential_seconds: float, interval: float) -> tuple[list[Figure], list[str]]:
    from ..interfaces.oqs_xml import codec
    from ..interfaces.oqs_xml.service import OqsService
    from ..interfaces.oqs_xml.terminal import Terminal
    from ..registry.db import make_engine
    from ..registry.service import Registry

    figures, receptions = [], []
    registry = Registry(make_engine(url), buffered_log=True)
    root = Path(tempfile.mkdtemp(prefix="onshi-bench-xml-"))
    terminal = Terminal(OqsService(registry), root, facility, settle=0.0, interval=interval)
    stop = threading.Event()
    thread = threading.Thread(target=terminal.run, args=(stop,), daemon=True)
    thread.start()
    try:
        searches = _searches(people)
        # bulk, end to end
        data = codec.inquiry_request(facility, searches[:bulk])
        t0 = time.perf_counter()
        _drop(terminal.req, "OQSmuquc01req_bench.xml", data)
        first = codec.read_result(_wait(terminal.res / "OQSmuquc01res_bench.xml"))
        reception = first["header"]["ReceptionNumber"]
        receptions.append(reception)
        t_ack = time.perf_counter() - t0
        attempt = 0
        while True:  # as a client does: ask with the 受付番号 until the answer is no longer 処理中
            attempt += 1
            name = f"OQSmuquc02req_bench{attempt}.xml"
            _drop(terminal.req, name, codec.reception_request(facility, reception))
            raw = _wait(terminal.res / name.replace("req", "res"))
            if b"<SegmentOfResult>1<" in raw[:2000]:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        res = codec.read_result(raw)
        normal = int(res["header"]["NumberOfNormalProcessing"])
        valid = sum(1 for u in res["body"]["BulkConfirmUnit"] if u.get("QualificationValidity") == "1")
        figures.append(Figure(f"bulk inquiry, {bulk:,} patients, folder end to end", bulk, elapsed, bulk / elapsed, None, None,
                              f"01res in {t_ack * 1000:.0f} ms; 02res {len(raw) / 1e6:.1f} MB after {attempt} asks; {normal:,} processed, {valid:,} 有効"))
        # single inquiries: many files at once
        n = min(singles, len(searches))
        t0 = time.perf_counter()
        for i in range(n):
            _drop(terminal.req, f"OQSsiquc01req_b{i:06d}.xml", codec.inquiry_request(facility, [searches[i]]))
        for i in range(n):
            _wait(terminal.res / f"OQSsiquc01res_b{i:06d}.xml")
        elapsed = time.perf_counter() - t0
        figures.append(Figure(f"single inquiries, {n:,} files dropped at once, folder", n, elapsed, n / elapsed, None, None, "files written and answered"))
        # single inquiries: one at a time
        lat, i = [], 0
        deadline = time.perf_counter() + sequential_seconds
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            t1 = time.perf_counter_ns()
            _drop(terminal.req, f"OQSsiquc01req_s{i:06d}.xml", codec.inquiry_request(facility, [searches[i % len(searches)]]))
            _wait(terminal.res / f"OQSsiquc01res_s{i:06d}.xml")
            lat.append(time.perf_counter_ns() - t1)
            i += 1
        elapsed = time.perf_counter() - start
        lat.sort()
        figures.append(Figure("single inquiries, one file at a time, folder", i, elapsed, i / elapsed, _percentile(lat, 0.5), _percentile(lat, 0.99),
                              f"terminal polls every {interval * 1000:.0f} ms"))
    finally:
        stop.set()
        thread.join(timeout=60)
        registry.close()
        registry.engine.dispose()
        shutil.rmtree(root, ignore_errors=True)
    return figures, receptions


def http_figure(url: str, people: list[dict], facility: str, key: str, *, seconds: float, connections: int, workers: int) -> Figure:
    from ..interfaces.oqs_xml import codec

    bodies = [codec.inquiry_request(facility, [s]).decode() for s in _searches(people[:2000])]
    proc, base = start_server(url, workers)
    try:
        if shutil.which("wrk"):
            items = [("/oqs/v1/OQSsiquc01req", key, b) for b in bodies]
            threads = max(1, (os.cpu_count() or 1) // 2)
            wrk_requests(base, items, "warm-up", 2, connections, threads, content_type="application/xml")
            fig = wrk_requests(base, items, "single inquiries over HTTP (POST /oqs/v1/OQSsiquc01req)", seconds, connections, threads, content_type="application/xml")
            fig.note += f", {workers} uvicorn workers"
            return fig
        import httpx

        lat, n = [], 0
        with httpx.Client(base_url=base, headers={"X-API-Key": key}) as client:
            deadline = time.perf_counter() + seconds
            start = time.perf_counter()
            while time.perf_counter() < deadline:
                t0 = time.perf_counter_ns()
                client.post("/oqs/v1/OQSsiquc01req", content=bodies[n % len(bodies)].encode())
                lat.append(time.perf_counter_ns() - t0)
                n += 1
            elapsed = time.perf_counter() - start
        lat.sort()
        return Figure("single inquiries over HTTP (POST /oqs/v1/OQSsiquc01req)", n, elapsed, n / elapsed, _percentile(lat, 0.5), _percentile(lat, 0.99),
                      "one Python client (install wrk for a loaded figure)")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def ensure_schema(engine) -> None:  # noqa: ANN001
    """The interface's tables (migration 0003) on a registry seeded before they existed;
    later migrations are left to their owners."""
    from alembic.migration import MigrationContext

    from ..registry.db import migrate

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current is None or current < "0003":
        migrate(engine, "0003")


def run(url: str, *, seed: int = 1, bulk: int = 10_000, singles: int = 1_000, seconds: float = 10, interval: float = 0.01,
        http: bool = True, connections: int = 16, workers: int | None = None) -> dict:
    from sqlalchemy import delete, func, select

    from ..registry import schema
    from ..registry.db import make_engine
    from ..registry.keys import attach_keys
    from ..registry.seed import sample_people

    engine = make_engine(url)
    ensure_schema(engine)
    with engine.connect() as conn:
        population = conn.execute(select(func.count()).select_from(schema.person)).scalar_one()
    people = sample_people(engine, bulk, seed=seed, today=config.today())
    if not people:
        raise RuntimeError("the registry holds nobody to look up: seed it first (onshi seed --people N)")
    facility = people[0]["facility_code"]  # one facility asks about everyone
    key = attach_keys(engine, [people[0]], "bench")[0]["facility_key"]
    figures, receptions = folder_figures(url, people, facility, bulk=min(bulk, len(people)), singles=singles, sequential_seconds=seconds, interval=interval)
    if http:
        figures.append(http_figure(url, people, facility, key, seconds=seconds, connections=connections, workers=workers or (os.cpu_count() or 1)))
    with engine.begin() as conn:  # leave the registry as found (the verification log keeps the lookups)
        conn.execute(delete(schema.bulk_request).where(schema.bulk_request.c.reception_number.in_(receptions)))
    engine.dispose()
    return {
        "database": engine.url.render_as_string(hide_password=True),
        "people": population,
        "sampled": len(people),
        "cores": os.cpu_count(),
        "today": config.today().isoformat(),
        "at": dt.datetime.now(config.JST).isoformat(timespec="seconds"),
        "figures": [asdict(f) for f in figures],
    }


def print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"facility XML — {report['people']:,} people, {report['database']}, {report['cores']} cores")
    for col in ("what", "requests", "per second", "seconds", "p50 ms", "p99 ms", "note"):
        table.add_column(col, justify="left" if col in ("what", "note") else "right")
    for f in report["figures"]:
        table.add_row(f["name"], f"{f['requests']:,}", f"{f['per_second']:,.0f}", f"{f['seconds']:.2f}",
                      "" if f["p50_ms"] is None else f"{f['p50_ms']:.1f}", "" if f["p99_ms"] is None else f"{f['p99_ms']:.1f}", f["note"])
    Console().print(table)
