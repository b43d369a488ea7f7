"""`onshi bench decide`: front-desk decisions per second, in-process on case files and
over HTTP on the live registry (POST /api/v1/frontdesk/visits, which also records visits)."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import yaml

from .. import config
from .lookup import Figure, _percentile, start_server, wrk_requests


def in_process(cases: list[dict], seconds: float) -> Figure:
    from ..frontdesk.runner import decide_case
    from ..policy import load_policy

    policy = load_policy()
    for c in cases:
        decide_case(c, policy)
    lat, n = [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter_ns()
        decide_case(cases[n % len(cases)], policy)
        lat.append(time.perf_counter_ns() - t0)
        n += 1
    elapsed = time.perf_counter() - start
    lat.sort()
    return Figure(f"in-process decide ({len(cases)} cases)", n, elapsed, n / elapsed, _percentile(lat, 0.5), _percentile(lat, 0.99), "parse + decide + JSON")


def visit_bodies(people: list[dict]) -> list[tuple[str, str, str]]:
    """A mix of desk situations for sampled people: card read, card + device failure,
    number inquiry from an eligibility certificate, expired card."""
    out = []
    for i, p in enumerate(people):
        body: dict = {"patient_ref": f"B-{i}", "birth_date": p["birth_date"], "consent": True}
        numbers = {k: p[k] for k in ("symbol", "number", "branch")} | {"insurer_number": p["insurer_number"]}
        match i % 4:
            case 0 | 1:
                body |= {"presented": ["my_number_card"], "card_serial": p["card_serial"]}
            case 2:
                body |= {"presented": ["eligibility_certificate"], "documents": [numbers | {"kind": "eligibility_certificate"}]}
            case 3:
                body |= {"presented": ["my_number_card", "notice"], "card_serial": p["card_serial"], "device": "reader_failure",
                         "documents": [numbers | {"kind": "notice"}]}
        out.append(("/api/v1/frontdesk/visits", p["facility_key"], json.dumps(body, ensure_ascii=False)))
    return out


def run(url: str, case_files: list[Path], *, seed: int = 1, sample: int = 1000, seconds: float = 10, workers: int | None = None, connections: int = 16, http: bool = True) -> dict:
    from ..registry.db import make_engine
    from ..registry.keys import attach_keys
    from ..registry.seed import sample_people

    cases = [c for f in case_files for c in (yaml.safe_load(f.read_text(encoding="utf-8")) or [])]
    figures = [in_process(cases, seconds)] if cases else []
    if http:
        if not shutil.which("wrk"):
            raise RuntimeError("the HTTP measurement needs wrk (apt-get install wrk)")
        engine = make_engine(url)
        people = attach_keys(engine, sample_people(engine, sample, seed=seed, today=config.today()), "bench")
        engine.dispose()
        proc, base = start_server(url, workers or os.cpu_count() or 1)
        try:
            items = visit_bodies(people)
            wrk_requests(base, items, "warm-up", 2, connections, 1)
            fig = wrk_requests(base, items, "HTTP POST /frontdesk/visits (live registry)", seconds, connections, 1)
            fig.note += f"; mix: card ×2, certificate, card+notice with reader failure; {workers or os.cpu_count()} workers"
            figures.append(fig)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {"database": url.split("@")[-1], "today": config.today().isoformat(), "figures": [asdict(f) for f in figures]}
