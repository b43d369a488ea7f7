"""What the insurer's HTTP API and pages share about its runs: starting today's run in a thread
of the server, and a run as the insurer sees it (its own scope or an all-insurer run,
counted over its own members only)."""

from __future__ import annotations

import threading

from .. import config
from ..registry.service import Registry
from . import documents as printed
from .run import ALL, execute_run, read_run, start_run


def run_view(registry: Registry, run_id: int, insurer: str) -> dict | None:
    """A run as this insurer sees it: its own scope or an all-insurer run, counted over its own members."""
    with registry.engine.connect() as conn:
        run = read_run(conn, run_id)
        if run is None or run.scope not in (insurer, ALL):
            return None
        counts = printed.run_counts(conn, run_id, insurer)
    body = run.to_json()
    if run.scope == ALL:  # another insurer's counts and warnings are not this insurer's business
        body |= {"summary": {"documents": counts}, "warnings": [], "candidates": None}
    total = sum(counts.get(k, 0) for k in printed.PRINTED)
    body |= {"documents": counts, "pdf_parts": (total + printed.PER_FILE - 1) // printed.PER_FILE, "pages_per_part": printed.PER_FILE}
    return body


def start_insurer_run(registry: Registry, insurer: str, request_id: str, *, wait: bool = False) -> tuple[dict, bool]:
    """Start today's run of `insurer` in a thread of this server (or answer the run of a request
    id used before): (the run as the insurer sees it, started now)."""
    started = start_run(registry.engine, config.today(), insurer, origin="http", request_id=request_id)
    if not started.replayed:
        worker = threading.Thread(target=_execute, args=(registry, started.id), name=f"issuance-run-{started.id}", daemon=True)
        worker.start()
        if wait:
            worker.join()
    return run_view(registry, started.id, insurer), not started.replayed


def _execute(registry: Registry, run_id: int) -> None:
    try:
        execute_run(registry.engine, run_id)
    except Exception:  # noqa: BLE001 — recorded on the run (status failed, error); the client reads it there
        pass
