"""`onshi simulate` on a small seeded population: each visit decided by the real engine and
recorded with its verifications, the month's claims built, filed and reviewed; deterministic
under a seed (whatever the chunking), resumable per month, bad input refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from onshi.domain.errors import InputError
from onshi.frontdesk.live import VisitRequest
from onshi.registry import schema
from onshi.registry.seed import seed_registry
from onshi.stats import simulate as sim
from onshi.stats.calibration import Calibration
from onshi.stats.population import Population
from onshi.stats.rates import compute, parse_query

MONTH = dt.date(2025, 12, 1)


@pytest.fixture
def seeded(engine):  # noqa: ANN001, ANN201
    seed_registry(engine, people=400, seed=3, today=dt.date(2026, 11, 30), progress=False)
    return engine


def count(engine, table, *where) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_a_simulated_month_records_visits_verifications_and_reviewed_claims(seeded):
    [report] = sim.simulate(seeded, MONTH, MONTH, seed=5, workers=1, chunk_size=150)
    assert report.status == "done" and report.people == 400
    assert report.visits == count(seeded, schema.visit) > 400  # the elderly visit several times a month
    assert report.verifications == count(seeded, schema.verification, schema.verification.c.channel == "sim") > 0
    with seeded.connect() as conn:
        rows = conn.execute(select(schema.visit)).mappings().all()
        month = conn.execute(select(schema.simulation_month)).mappings().one()
        chunks = conn.execute(select(func.count()).select_from(schema.simulation_chunk)).scalar_one()
    assert month["status"] == "done" and month["chunks"] == chunks == 3
    # Every visit holds what its desk was given, and the decision it took.
    for v in rows:
        req = VisitRequest.model_validate_json(v["request"])
        assert req.patient_ref == v["patient_ref"] and (v["person_id"] is None or v["patient_ref"] == f"S{v['person_id']}")
        assert json.loads(v["decision"])["claim"]["basis"] == v["basis"]
    presented = {v["presented"] for v in rows}
    assert {"my_number_card", "eligibility_certificate"} <= presented  # cards, and the 後期's certificates (R-T3)
    assert any(v["basis"] == "current" and v["verification_result"] == "valid" for v in rows)
    # Claims: built from the visits, filed for January, reviewed on 2026-01-10.
    assert report.claims - report.held == count(seeded, schema.claim, schema.claim.c.care_month == MONTH, schema.claim.c.status == "filed") > 0
    assert report.claims == count(seeded, schema.claim, schema.claim.c.care_month == MONTH)
    with seeded.connect() as conn:
        run = conn.execute(select(schema.review_run)).mappings().one()
    assert run["billing_month"] == dt.date(2026, 1, 1) and run["review_date"] == dt.date(2026, 1, 10) and run["claims"] == report.claims - report.held
    # The rates of the month come out of it.
    [visits] = compute(seeded, parse_query("usage", "2025-12", formula="visits"))
    [claims] = compute(seeded, parse_query("usage", "2025-12", formula="claims"))
    assert 0 < visits.rate < 1 and 0 < claims.rate < 1 and claims.denominator == report.claims
    # A month already done is kept, not simulated twice.
    [again] = sim.simulate(seeded, MONTH, MONTH, seed=5, workers=1, chunk_size=150)
    assert again.status == "done" and count(seeded, schema.visit) == report.visits


def test_deterministic_under_a_seed_whatever_the_chunks(seeded):
    cal = Calibration.load()
    with seeded.connect() as conn:
        facilities = sim.Facilities.load(conn)
        whole = Population(conn, 1, 400)
        parts = [Population(conn, lo, lo + 99) for lo in range(1, 401, 100)]

    def rows(populations, seed):  # noqa: ANN001, ANN202
        s = sim.Simulator(cal, facilities, seed=seed)
        out = []
        for p in populations:
            out += s.run_chunk(p, MONTH, 0, lambda *a: None).visits
        return sorted((r[0], r[1], r[3], r[4] or 0, r[10], r[15]) for r in out)  # facility, patient, day, person, presented, basis

    assert rows([whole], 5) == rows(parts, 5)
    assert rows([whole], 5) != rows([whole], 6)


def test_resumable_per_chunk_and_month(seeded, monkeypatch):
    calls = []
    real = sim.run_chunk_and_write

    def failing(month, chunk, lo, hi):  # noqa: ANN001, ANN202
        calls.append(chunk)
        if chunk == 1:
            raise RuntimeError("the machine went down")
        return real(month, chunk, lo, hi)

    monkeypatch.setattr(sim, "run_chunk_and_write", failing)
    with pytest.raises(RuntimeError):
        sim.simulate(seeded, MONTH, MONTH, seed=5, workers=1, chunk_size=150)
    with seeded.connect() as conn:
        assert conn.execute(select(schema.simulation_month.c.status)).scalar_one() == "visits"
        written = conn.execute(select(schema.simulation_chunk.c.chunk)).scalars().all()
    assert written == [0]
    monkeypatch.setattr(sim, "run_chunk_and_write", real)
    [report] = sim.simulate(seeded, MONTH, MONTH, seed=5, workers=1, chunk_size=150)
    assert report.status == "done"
    # Each chunk written once: the visits are those of the chunks, nothing twice.
    with seeded.connect() as conn:
        per_chunk = conn.execute(select(func.sum(schema.simulation_chunk.c.visits))).scalar_one()
    assert per_chunk == report.visits == count(seeded, schema.visit)
    # Resuming with another seed would mix two simulations: refused.
    with pytest.raises(InputError) as exc:
        sim.simulate(seeded, MONTH, dt.date(2026, 1, 1), seed=6, workers=1, chunk_size=150)
    assert exc.value.errors[0].field == "month"


def test_people_share_and_bad_input(seeded):
    [report] = sim.simulate(seeded, MONTH, MONTH, seed=5, people_share=0.25, workers=1, claims=False)
    assert 60 < report.people < 140 and report.status == "claims"
    for kwargs, field in (({"people_share": 0}, "people_share"), ({"people_share": 1.5}, "people_share")):
        with pytest.raises(InputError) as exc:
            sim.simulate(seeded, MONTH, MONTH, **kwargs)
        assert exc.value.errors[0].field == field
    with pytest.raises(InputError) as exc:
        sim.simulate(seeded, MONTH, dt.date(2025, 11, 1))
    assert exc.value.errors[0].field == "to"


def test_calibration_table_has_sources_and_refuses_a_bad_file(tmp_path):
    cal = Calibration.load()
    assert all(t["source"] in cal.data["sources"] for t in cal.targets())
    assert {t["group"] for t in cal.targets() if t["month"] == "2025-10"} >= {"70-74", "75-79", "80-84", "85+"}
    assert 0 < cal.card_use(dt.date(2030, 1, 1), "85+") <= 1  # the last month applies later
    assert cal.episodes("75-79") > cal.episodes("20-29")  # the elderly visit more (seed 002)
    bad = tmp_path / "cal.yaml"
    bad.write_text("visits: {}\ncard_use: {}\ndesk: {}\nsources: {}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        Calibration.load(bad)
    assert exc.value.errors[0].field.startswith("calibration.")


def test_bulk_inquiry_by_month_or_one_value(tmp_path):
    """desk.bulk_inquiry: one chance, or a chance by month (the last month given applies)."""
    import yaml

    cal = Calibration.load()
    assert cal.bulk_inquiry(dt.date(2025, 10, 1)) < cal.bulk_inquiry(dt.date(2025, 12, 1)) == cal.bulk_inquiry(dt.date(2026, 6, 1))
    data = yaml.safe_load(Path(cal.path).read_text(encoding="utf-8"))
    for value, expect in ((0.2, {dt.date(2025, 1, 1): 0.2, dt.date(2030, 1, 1): 0.2}),
                          ({"2025-10": 0.1, "2026-01": 0.3}, {dt.date(2025, 12, 1): 0.1, dt.date(2026, 1, 1): 0.3, dt.date(2025, 1, 1): 0.1})):
        data["desk"]["bulk_inquiry"] = value
        f = tmp_path / "cal.yaml"
        f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        loaded = Calibration.load(f)
        assert {m: loaded.bulk_inquiry(m) for m in expect} == expect
    for bad in (1.5, "often", {"2025-10": -0.1}, {"October": 0.1}):
        data["desk"]["bulk_inquiry"] = bad
        f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        with pytest.raises(InputError) as exc:
            Calibration.load(f)
        assert exc.value.errors[0].field == "calibration.desk.bulk_inquiry"


def test_the_command_line(engine, monkeypatch):
    if engine.dialect.name != "sqlite":
        pytest.skip("the command line is exercised once, on SQLite")
    from typer.testing import CliRunner

    from onshi.interfaces.cli import app

    seed_registry(engine, people=150, seed=4, today=dt.date(2026, 11, 30), progress=False)
    monkeypatch.setenv("ONSHI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    dry = runner.invoke(app, ["simulate", "--from", "2025-10", "--to", "2025-10", "--dry-run", "--workers", "1"])
    assert dry.exit_code == 0, dry.output
    assert set(json.loads(dry.stdout)["visits"]) >= {"all", "70-74"} and count(engine, schema.visit) == 0  # nothing written
    done = runner.invoke(app, ["simulate", "--from", "2025-10", "--to", "2025-11"])
    assert done.exit_code == 0, done.output
    assert [json.loads(line)["status"] for line in done.stdout.splitlines()] == ["done", "done"]
    bad = runner.invoke(app, ["simulate", "--from", "2025-10", "--to", "2025-11", "--people-share", "2"])
    assert bad.exit_code == 2 and "people_share" in bad.output


def test_the_fast_constructor_builds_what_model_construct_builds():
    from onshi.frontdesk.live import DocumentIn, Numbers, UnknownRemarks

    day = dt.date(2025, 12, 3)
    cases = [
        (VisitRequest, dict(patient_ref="S1", date=day, presented=["my_number_card"], card_serial="AB12", consent=True)),
        (VisitRequest, dict(patient_ref="S2", date=day, name="試験 太郎", birth_date=dt.date(1950, 1, 2))),
        (Numbers, dict(insurer_number="01130012", number="123", relation="self")),
        (DocumentIn, dict(insurer_number="01130012", symbol="1", number="123", branch="00", kind="notice", issued=day, expires=None)),
        (UnknownRemarks, dict(insurance_kind="社保", phone="090-0000-0000", contacted_on=day)),
    ]
    for model, values in cases:
        fast, slow = sim._constructor(model)(**values), model.model_construct(**values)
        assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__), model
        assert fast.model_fields_set == slow.model_fields_set and fast.model_dump_json(exclude_defaults=True) == slow.model_dump_json(exclude_defaults=True)
    a, b = sim._constructor(VisitRequest)(patient_ref="S3"), sim._constructor(VisitRequest)(patient_ref="S4")
    assert a.presented == [] and a.presented is not b.presented  # a default factory is called each time


def test_answers_shared_over_a_chunk_are_the_answers_given_afresh(seeded):
    """MemoryPort(answers=…): a lookup asked again over the chunk (the clinic, then the pharmacy
    the same day) gets the stored answer. Every visit and verification of a simulated month is
    the same as with each lookup evaluated afresh — and the store was used."""
    cal = Calibration.load()
    with seeded.connect() as conn:
        facilities = sim.Facilities.load(conn)
        shared, fresh = Population(conn, 1, 400), Population(conn, 1, 400)
    direct = sim.Simulator(cal, facilities, seed=5)
    direct.share_answers = False
    memo = sim.Simulator(cal, facilities, seed=5)
    for month in (MONTH, dt.date(2026, 4, 1)):
        a = memo.run_chunk(shared, month, 0, lambda *a: None)
        b = direct.run_chunk(fresh, month, 0, lambda *a: None)
        assert len(a.visits) > 400 and a.visits == b.visits and a.verifications == b.verifications
    assert fresh.answers == {} and 0 < len(shared.answers) < len(a.verifications) + len(b.verifications)
    # The stored answer is the one evaluate_card gives for the question.
    from onshi.registry.lookup import evaluate_card

    for key, answer in list(shared.answers.items())[:200]:
        if key[0] == "card":
            _, serial, identity, day, repertoire = key
            assert answer == evaluate_card(shared.by_card(serial), day, identity=identity, policy=memo.card_policy(day), repertoire=repertoire)
