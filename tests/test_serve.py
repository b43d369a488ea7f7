"""Issue 10 items 6 and 9 on a real `onshi serve --workers 2`: a kill -9 of the server loses
no answered lookup from the verification log, and the workers go down with their supervisor
instead of serving the port on their own."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from onshi.registry import schema
from onshi.registry.db import make_engine

from browser_conftest import _free_port

ONSHI = str(Path(sys.executable).with_name("onshi"))


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_loses_no_answered_lookup_and_takes_the_workers_down(tmp_path, engine):
    """On each database: on PostgreSQL the workers answer lookups on their event loops
    (registry/aio.py), on SQLite in threads; either way the log holds every answered lookup."""
    port = _free_port()
    database = engine.url.render_as_string(hide_password=False)  # an empty, migrated registry
    log = (tmp_path / "stderr.txt").open("w")
    env = os.environ | {"ONSHI_TODAY": "2026-05-12"}
    env.pop("ONSHI_DATABASE_URL", None)
    proc = subprocess.Popen([ONSHI, "serve", "--workers", "2", "--port", str(port), "--people", "60", "--database", database],
                            stdout=subprocess.DEVNULL, stderr=log, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("onshi serve did not come up: " + (tmp_path / "stderr.txt").read_text()[-2000:])
        facility, key = re.search(r"施設 (\d{10}) X-API-Key: (\S+)", (tmp_path / "stderr.txt").read_text()).groups()
        workers = _children(proc.pid)
        assert len([w for w in workers if _alive(w)]) >= 2, workers

        answered = 0
        lock, stop = threading.Lock(), threading.Event()

        def client() -> None:
            nonlocal answered
            with httpx.Client(base_url=base, timeout=5) as c:
                for _ in range(400):  # bounded
                    if stop.is_set():
                        return
                    try:
                        r = c.post("/api/v1/lookups/card", json={"card_serial": "NOSUCHCARD"}, headers={"X-API-Key": key})
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200:
                        with lock:
                            answered += 1

        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(8):
                pool.submit(client)
            time.sleep(1.5)
            os.kill(proc.pid, signal.SIGKILL)  # the supervisor only: its workers get no word from it
            time.sleep(0.5)
            stop.set()
        proc.wait(10)
        deadline = time.monotonic() + 30
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "the workers outlived their supervisor"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{base}/api/v1/health", timeout=1)
        engine = make_engine(database)
        with engine.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(schema.verification).where(schema.verification.c.facility_code == facility)).scalar_one()
        engine.dispose()
        assert answered > 0 and logged >= answered  # every answered lookup is in the log
    finally:
        for pid in {proc.pid, *workers, *_children(proc.pid)}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        log.close()


def test_a_worker_freezes_what_it_built_before_serving(tmp_path, monkeypatch):
    """The worker's app and everything imported before it are out of the collector's reach
    (gc.freeze), so a full collection does not stop the loop for all of them (server.py)."""
    import gc

    from onshi.interfaces.http import server

    from onshi.registry import db

    url = f"sqlite:///{tmp_path / 'frozen.sqlite3'}"
    db.migrate(db.make_engine(url))
    monkeypatch.setenv("ONSHI_DATABASE_URL", url)
    monkeypatch.delenv("ONSHI_SUPERVISOR_PID", raising=False)
    gc.unfreeze()
    try:
        app = server.app_from_env()
        assert gc.get_freeze_count() > 10_000  # the modules and the app, not a handful
        assert callable(app)  # the ASGI app, built before the freeze
        gc.collect()
        assert gc.get_freeze_count() > 10_000  # a full collection leaves the frozen alone
    finally:
        gc.unfreeze()
