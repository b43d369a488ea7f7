"""The monthly summary (stats/summary.py) gives the same rates as the month's rows: every
figure by every grouping and scope, on hand-made data and on a small simulated month, on SQLite
and PostgreSQL; a month changed since it was summarized is counted from its rows again."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, insert, select

from onshi.registry import schema
from onshi.registry.seed import seed_registry
from onshi.stats import simulate as sim
from onshi.stats import summary
from onshi.stats.definitions import DIMENSIONS, USAGE_FORMULAS
from onshi.stats.rates import Scope, compute, every_rate, parse_query

from factories import FACILITY, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO
from test_stats_rates import NO_CLAIMS, OSAKA, data  # noqa: F401 — the hand-made month (a fixture)

D = dt.date
OCTOBER = D(2025, 10, 1)


def table(rows_by_key: dict) -> dict:
    return {k: [(r.month, r.group, r.numerator, r.denominator) for r in v] for k, v in rows_by_key.items()}


def both(engine, month: dt.date, scope: Scope = Scope()) -> tuple[dict, dict]:  # noqa: ANN001
    return table(every_rate(engine, month, scope)), table(every_rate(engine, month, scope, use_summary=False))


SCOPES = [Scope(), Scope(facility_code=FACILITY), Scope(facility_code=OSAKA), Scope(facility_code=NO_CLAIMS),
          Scope(insurer_number=KYOKAI_TOKYO), Scope(insurer_number=KUMIAI), Scope(insurer_number=KOUKI_TOKYO)]


def test_the_summary_gives_every_rate_of_the_rows_on_hand_made_data(data):  # noqa: F811
    e = data.engine
    raw = {s: table(every_rate(e, OCTOBER, s, use_summary=False)) for s in SCOPES}
    done = summary.summarize(e, OCTOBER)
    assert done["verifications"] == 9 and done["claims"] == 6 and done["rows"] > 0
    with e.connect() as conn:
        assert summary.fresh_months(conn, [OCTOBER, D(2025, 11, 1)]) == {OCTOBER}
        ss = schema.stats_summary
        detail = (ss.c.facility_code != summary.ROLLUP, ss.c.insurer_number != summary.ROLLUP)
        users = conn.execute(select(func.sum(ss.c.claim_users), func.sum(ss.c.outpatient_users), func.sum(ss.c.verifications)).where(*detail)).one()
        rolled = {r[0]: r[1:] for r in conn.execute(select(ss.c.facility_code, func.sum(ss.c.claim_users), func.sum(ss.c.verifications))
                                                     .where(ss.c.insurer_number == summary.ROLLUP).group_by(ss.c.facility_code))}
    # Person 1 (twice at one clinic) and person 3 (twice in Osaka), each once; person 2 used a card
    # at the clinic without claims, which R-S2 leaves out.
    assert tuple(users) == (2, 2, 9)
    assert rolled == {FACILITY: (1, 6), OSAKA: (1, 2), NO_CLAIMS: (0, 1)}
    with e.connect() as conn:
        by_insurer = conn.execute(select(func.sum(ss.c.verifications)).where(ss.c.facility_code == summary.ROLLUP)).scalar_one()
    assert by_insurer == 9
    for s in SCOPES:
        assert table(every_rate(e, OCTOBER, s)) == raw[s], s
    # The known answers of test_stats_rates hold from the summary too.
    by = {r.group: (r.numerator, r.denominator) for r in compute(e, parse_query("usage", "2025-10", None, "age_band", "claims"))}
    assert by == {"0-9": (0, 1), "40-49": (0, 2), "60-69": (1, 1), "75-79": (1, 1)}
    # A range mixing a summarized month (October) with one that is not (November).
    for figure in USAGE_FORMULAS:
        for dim in (None, *DIMENSIONS):
            q = parse_query("usage", "2025-09", "2025-11", dim, figure)
            assert compute(e, q) == compute(e, q, use_summary=False), (figure, dim)


def test_a_month_changed_since_its_summary_is_counted_from_its_rows(data):  # noqa: F811
    e = data.engine
    summary.summarize(e, OCTOBER)
    at = dt.datetime(2025, 11, 1, 1, 0, tzinfo=dt.timezone.utc)
    with e.begin() as conn:  # a late verification of October: the summary no longer holds
        conn.execute(insert(schema.verification).values(facility_code=OSAKA, at=at, as_of=D(2025, 10, 30), method="my_number_card",
                                                         identity="face", result="valid", person_id=5, qualification_id=5, channel="api"))
    with e.connect() as conn:
        assert summary.fresh_months(conn, [OCTOBER]) == set()
    summed, raw = both(e, OCTOBER)
    assert summed == raw and raw["visits:all"] == [("2025-10", "all", 6, 10)]
    summary.summarize(e, OCTOBER)
    with e.begin() as conn:  # a claim of October deleted (rebuilt later): the summary no longer holds
        conn.execute(delete(schema.claim).where(schema.claim.c.facility_code == OSAKA))
    with e.connect() as conn:
        assert summary.fresh_months(conn, [OCTOBER]) == set()
    summed, raw = both(e, OCTOBER)
    assert summed == raw and raw["claims:all"] == [("2025-10", "all", 1, 4)]
    summary.summarize(e, OCTOBER)  # summarized again: fresh, and the same answer
    with e.connect() as conn:
        assert summary.fresh_months(conn, [OCTOBER]) == {OCTOBER}
        assert conn.execute(select(func.count()).select_from(schema.stats_summary_month)).scalar_one() == 1
    assert both(e, OCTOBER)[0] == raw
    summary.drop(e, OCTOBER)
    with e.connect() as conn:
        assert summary.fresh_months(conn, [OCTOBER]) == set()


def test_a_simulated_month_is_summarized_and_gives_the_rates_of_its_rows(engine):
    month = D(2025, 12, 1)
    seed_registry(engine, people=300, seed=4, today=D(2026, 11, 30), progress=False)
    [report] = sim.simulate(engine, month, month, seed=2, workers=1, chunk_size=200)
    assert "summary" in report.seconds
    with engine.connect() as conn:
        assert summary.fresh_months(conn, [month]) == {month}
        facilities = list(conn.execute(select(schema.claim.c.facility_code).distinct().order_by(schema.claim.c.facility_code).limit(3)).scalars())
        insurers = list(conn.execute(select(schema.claim.c.insurer_number).distinct().order_by(schema.claim.c.insurer_number).limit(3)).scalars())
    scopes = [Scope(), *[Scope(facility_code=f) for f in facilities], *[Scope(insurer_number=i) for i in insurers]]
    for s in scopes:
        summed, raw = both(engine, month, s)
        assert summed == raw, s
    assert raw and all(rows for key, rows in raw.items() if key.endswith(":all"))


def test_the_summarize_command(data, monkeypatch):  # noqa: F811
    if data.engine.dialect.name != "sqlite":
        pytest.skip("the command line is exercised once, on SQLite")
    import json

    from typer.testing import CliRunner

    from onshi.interfaces.cli import app

    monkeypatch.setenv("ONSHI_DATABASE_URL", data.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    got = runner.invoke(app, ["stats", "summarize", "--month", "2025-10", "--to", "2025-11"])
    assert got.exit_code == 0, got.output
    done = [json.loads(line) for line in got.stdout.splitlines()]
    assert [(d["month"], d["verifications"], d["claims"]) for d in done] == [("2025-10", 9, 6), ("2025-11", 1, 0)]
    with data.engine.connect() as conn:
        assert summary.fresh_months(conn, [OCTOBER, D(2025, 11, 1)]) == {OCTOBER, D(2025, 11, 1)}
    dropped = runner.invoke(app, ["stats", "summarize", "--month", "2025-11", "--drop"])
    assert dropped.exit_code == 0 and '"dropped": true' in dropped.stdout
    bad = runner.invoke(app, ["stats", "summarize", "--month", "2025-13"])
    assert bad.exit_code != 0 and "month" in bad.output


def test_two_summaries_of_one_month_at_once_leave_one(data):  # noqa: F811
    """`onshi stats summarize` twice at the same moment (or beside the simulation's own): the
    second meets the first's primary keys, runs again and replaces them — one summary, the same
    rates, no error."""
    import threading

    e = data.engine
    raw = table(every_rate(e, OCTOBER, Scope(), use_summary=False))
    start, results, errors = threading.Barrier(4), [], []

    def run() -> None:
        start.wait()
        try:
            results.append(summary.summarize(e, OCTOBER))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 4
    with e.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.stats_summary_month)).scalar_one() == 1
        assert summary.fresh_months(conn, [OCTOBER]) == {OCTOBER}
    assert table(every_rate(e, OCTOBER, Scope())) == raw
