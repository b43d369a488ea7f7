"""The seed's issuance history replayed in one pass (issuance/replay.py, issue 14) records what
playing the real run on each run day since 2024-12-02 records (issuance/history.py): the same
documents, the same ends, the same application decisions and the same run summaries; a run
of today afterwards sends nothing; on both databases (PostgreSQL in several processes)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text

from onshi.issuance.history import run_history
from onshi.issuance.replay import replay_history
from onshi.issuance.run import run_issuance
from onshi.registry import db
from onshi.registry.seed import seed_registry

from factories import issuance_outcome

TODAY = dt.date(2026, 12, 5)


def _runs(engine) -> tuple[list, list]:  # noqa: ANN001
    """Each run's day, status and summary, and its warnings apart: `members` (and `candidates`)
    count the members each way decided, and the engine warns about a member it decides even
    when it sends nothing (the replay keeps the warnings of the members it acts on)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT run_date, status, origin, summary, warnings FROM issuance_run ORDER BY run_date, id")).all()
    runs, warnings = [], []
    for day, status, origin, summary, warned in rows:
        summary = json.loads(summary)
        summary.pop("members")
        summary.pop("warning_count")
        runs.append((str(day), status, origin, summary))
        warnings.append(set(json.loads(warned)))
    return runs, warnings


def test_the_replayed_history_is_the_played_history(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("ONSHI_TODAY", TODAY.isoformat())
    seed_registry(engine, 2500, seed=7, today=TODAY, progress=False, history=False)
    played = db.make_engine(f"sqlite:///{tmp_path / 'played.sqlite3'}")
    db.migrate(played)
    seed_registry(played, 2500, seed=7, today=TODAY, progress=False, history=False)

    run_history(played, TODAY)
    results = replay_history(engine, TODAY, workers=2, part=600)  # PostgreSQL: five parts in two processes

    want, got = issuance_outcome(played), issuance_outcome(engine)
    # the history holds what the rules send over two years: certificates and お知らせ by each trigger, ends, applications
    rules = " ".join(row[6] for row in want["sent"])
    assert len(want["sent"]) > 2500 and len(want["ended"]) > 800 and any(a[3] for a in want["applications"])
    assert all(r in rules for r in ("R-I3a", "R-I3d", "R-I3g", "R-I4a", "R-I4c", "R-I4e", "R-I5", "R-I6b", "R-T3")), rules[:200]
    for part in want:
        assert got[part] == want[part], part
    (runs, warned), (want_runs, want_warned) = _runs(engine), _runs(played)
    assert runs == want_runs
    assert all(w <= want for w, want in zip(warned, want_warned))
    assert [r.status for r in results] == ["done"] * len(results) and results[-1].day == TODAY

    for target in (engine, played):  # the history reached today: today's run sends and ends nothing
        rerun = run_issuance(target, TODAY, origin="cli")
        assert rerun.tally.sent == 0 and not rerun.tally.ends
    assert issuance_outcome(engine) == want
    played.dispose()


def test_the_seed_writes_the_history_and_refuses_a_second_one(engine, monkeypatch):
    monkeypatch.setenv("ONSHI_TODAY", TODAY.isoformat())
    summary = seed_registry(engine, 400, seed=2, today=TODAY, progress=False, workers=2)  # the default: with the history
    assert summary.history_seconds is not None
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT COUNT(*), MIN(run_date), MAX(run_date), MIN(status), MAX(status) FROM issuance_run")).one()
        sent = conn.execute(text("SELECT COUNT(*) FROM document WHERE run_id IS NOT NULL")).scalar_one()
    assert (runs[0], str(runs[1]), str(runs[2]), runs[3], runs[4]) == (50, "2024-12-02", "2026-12-05", "done", "done")
    assert sent > 300
    try:
        replay_history(engine, TODAY)
    except RuntimeError as exc:
        assert "already holds issuance runs" in str(exc)
    else:
        raise AssertionError("a second history was written")
