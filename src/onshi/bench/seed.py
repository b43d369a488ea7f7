"""`onshi bench seed`: the seed's load rate beside `pgbench -i` of a similar row count and
`pgbench -S` on the same server, in the same run (issue 14 item 1).

rows/s counts every row the seed writes (all tables, the history's documents when it runs);
pgbench -i writes scale × 100,000 pgbench_accounts rows (and a few others), generates them on
the client, vacuums and builds its primary keys — the same kind of work — so the ratio of the
two rates is the figure that stays meaningful on a loaded machine.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url

PGBENCH_DB = "onshi_pgbench_init"  # and the process id: two runs on one server do not share it


def _env(url: str) -> dict:
    u = make_url(url)
    env = os.environ | {"PGHOST": u.host or "127.0.0.1", "PGPORT": str(u.port or 5432), "PGUSER": u.username or "postgres"}
    if u.password:
        env["PGPASSWORD"] = u.password
    return env


def pgbench_init(url: str, scale: int) -> dict | None:
    """`pgbench -i -s scale` on a scratch database of the same server (dropped afterwards)."""
    if not shutil.which("pgbench"):
        return None
    env, name = _env(url), f"{PGBENCH_DB}_{os.getpid()}"
    subprocess.run(["dropdb", "--if-exists", name], env=env, capture_output=True)
    subprocess.run(["createdb", name], env=env, capture_output=True, check=True)
    try:
        began = time.perf_counter()
        out = subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), name], env=env, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - began
    finally:
        subprocess.run(["dropdb", "--if-exists", name], env=env, capture_output=True)
    rows = scale * 100_000 + scale * 10 + scale
    done = re.search(r"done in ([\d.]+) s \((.*)\)", out.stderr + out.stdout)
    return {"scale": scale, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "phases": done.group(2) if done else ""}


def run(url: str, *, people: int, seed: int, today: dt.date, workers: int | None, history: bool | None, pgbench_scale: int | None,
        select_seconds: float = 10) -> dict:
    from ..registry import db
    from ..registry.seed import HISTORY_AUTO, seed_registry
    from .lookup import pgbench_select

    engine = db.make_engine(url)
    db.reset(engine)
    summary = seed_registry(engine, people=people, seed=seed, today=today, progress=False, history=history, workers=workers)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() if engine.dialect.name == "postgresql" else None
    engine.dispose()
    report = {
        "people": people, "seed": seed, "today": today.isoformat(), "workers": workers or os.cpu_count(),
        "history": people <= HISTORY_AUTO if history is None else history,
        "seed_seconds": summary.seconds, "history_seconds": summary.history_seconds,
        "load_seconds": round(summary.seconds - (summary.history_seconds or 0), 2), "rows": summary.rows, "rows_per_s": round(summary.rows / summary.seconds),
        "people_per_s": round(people / summary.seconds), "database_bytes": size,
        "bytes_per_million_people": round(size * 1_000_000 / people) if size else None,
    }
    if engine.dialect.name == "postgresql":
        scale = pgbench_scale or max(1, round(summary.rows / 100_000))
        init = pgbench_init(url, scale)
        report["pgbench_init"] = init
        if init:
            report["ratio"] = round(report["rows_per_s"] / init["rows_per_s"], 3)
        figure = pgbench_select(url, select_seconds, 16, 2)
        report["pgbench_select_tps"] = round(figure.per_second) if figure else None
    return report


def print_report(report: dict) -> None:
    from rich.console import Console

    c = Console()
    c.print(f"[bold]onshi seed[/bold] {report['people']:,} people (seed {report['seed']}, today {report['today']}, "
            f"{report['workers']} workers, history {report['history']}): {report['rows']:,} rows in {report['seed_seconds']:.1f} s — "
            f"[bold]{report['rows_per_s']:,} rows/s[/bold], {report['people_per_s']:,} people/s")
    if report.get("history_seconds") is not None:
        c.print(f"of which the load {report['load_seconds']:.1f} s, the issuance history since 2024-12 {report['history_seconds']:.1f} s")
    if report.get("database_bytes"):
        c.print(f"database size {report['database_bytes'] / 2**30:.2f} GiB — {report['bytes_per_million_people'] / 2**30:.2f} GiB per million people")
    init = report.get("pgbench_init")
    if init:
        c.print(f"pgbench -i -s {init['scale']}: {init['rows']:,} rows in {init['seconds']:.1f} s — {init['rows_per_s']:,} rows/s ({init['phases']})")
        c.print(f"[bold]ratio seed / pgbench -i: {report['ratio']:.2f}[/bold]")
    if report.get("pgbench_select_tps"):
        c.print(f"pgbench -S (same server, same run): {report['pgbench_select_tps']:,} tps")
