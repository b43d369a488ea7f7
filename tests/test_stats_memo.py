"""stats/memo.py: a decision remembered by its path is the engine's own decision — checked on
every visit of simulated months (the engine decides each one again, afresh, and every field of
the two decisions but the explanation's notes and certificate dates is compared), and the
month's rows are the same with the memo as without it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from onshi.frontdesk.engine import decide
from onshi.registry.seed import seed_registry
from onshi.stats import simulate as sim
from onshi.stats.calibration import Calibration
from onshi.stats.memo import DecisionMemo
from onshi.stats.population import MemoryPort, Population

MONTHS = (dt.date(2025, 12, 1), dt.date(2026, 4, 1))
EXPLANATION = {"notes", "certificate"}


class Checked(DecisionMemo):
    """The memo, with every decision compared to the engine's own on a port that logs nothing."""

    compared = 0

    def decide(self, visit, patient, port, policy):  # noqa: ANN001, ANN201
        got = super().decide(visit, patient, port, policy)
        fresh = MemoryPort(port.source, port.facility_code, port.card_policy, log=None, repertoire=port.repertoire)
        want = decide(visit, patient, fresh, policy)
        for f in dataclasses.fields(want):
            if f.name not in EXPLANATION:
                assert getattr(got, f.name) == getattr(want, f.name), (f.name, visit, patient)
        Checked.compared += 1
        return got


@pytest.fixture
def seeded(engine):  # noqa: ANN001, ANN201
    seed_registry(engine, people=600, seed=11, today=dt.date(2026, 11, 30), progress=False)
    return engine


def test_every_remembered_decision_is_the_engines(seeded):
    cal = Calibration.load()
    with seeded.connect() as conn:
        facilities = sim.Facilities.load(conn)
        populations = [Population(conn, lo, lo + 199) for lo in (1, 201, 401)]
    s = sim.Simulator(cal, facilities, seed=7)
    s.memo = Checked()
    for month in MONTHS:
        for p in populations:
            s.run_chunk(p, month, 0, lambda *a: None)
    assert Checked.compared > 1000 and s.memo.hits > 500 and s.memo.misses > 0  # many from memory (keyed by day: a million people hit 9 in 10), all checked
    assert {o.basis for o in s.memo.outcomes.values()} >= {"current", "self_pay"}


def test_the_same_month_with_and_without_the_memo(seeded):
    cal = Calibration.load()
    with seeded.connect() as conn:
        facilities = sim.Facilities.load(conn)
        population = Population(conn, 1, 600)
    remembered, direct = sim.Simulator(cal, facilities, seed=7), sim.Simulator(cal, facilities, seed=7)
    direct.memo = None
    for month in MONTHS:
        a = remembered.run_chunk(population, month, 0, lambda *a: None)
        b = direct.run_chunk(population, month, 0, lambda *a: None)
        assert len(a.visits) > 600 and a.visits == b.visits and a.verifications == b.verifications
    assert remembered.memo.hits > 0
