"""`onshi whatif`: recorded visits decided again under the built-in policy plus other files —
here without the extension of R-T1 by the 2026-03-25 notice — and what changes: self-pay
visits, claims, 不詳 and returned claims, by month and insurer kind. Nothing in the registry
changes; the report is kept for the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from onshi.domain.errors import InputError
from onshi.frontdesk.live import record_visit
from onshi.policy import Policy, PolicyError
from onshi.registry import schema
from onshi.stats import whatif

from factories import FACILITY, KUMIAI, KYOKAI_TOKYO

WITHOUT_EXTENSION = "interim_acceptance:\n  withdraw: [jimurenraku_2026_03_25]\n"


@pytest.fixture
def alt(tmp_path):  # noqa: ANN001, ANN201
    d = tmp_path / "alt"
    d.mkdir()
    (d / "no_extension.yaml").write_text(WITHOUT_EXTENSION, encoding="utf-8")
    return d


def counts(engine) -> dict:  # noqa: ANN001
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (schema.verification, schema.claim, schema.claim_review, schema.visit)}


def test_R_T1_withdrawn_extension_the_policy_file_removes_its_entries(alt):
    policy = Policy.load([alt])
    assert policy.at(dt.date(2026, 5, 12)).interim("expired_insurance_card", "kyokai") is None
    assert policy.at(dt.date(2026, 3, 12)).interim("expired_insurance_card", "kyokai") is not None  # the 2025-11-12 notice stays
    assert policy.withdrawn == [("interim_acceptance", "jimurenraku_2026_03_25", "no_extension.yaml")]
    (alt / "bad.yaml").write_text("interim_acceptance:\n  withdraw: [no_such_notice]\n", encoding="utf-8")
    with pytest.raises(PolicyError):
        Policy.load([alt])


def test_whatif_without_the_extension_makes_the_expired_card_visits_self_pay(world, today, alt):
    today("2026-05-12")
    old = world.member(KYOKAI_TOKYO)
    user = world.member(KUMIAI, name="佐藤 花子", kana="サトウ ハナコ", birth_date="1950-02-03", symbol="88", card={"issued": "2022-03-01"})
    doc = {"kind": "insurance_card", "insurer_number": KYOKAI_TOKYO, "symbol": "1234", "number": old["number"], "branch": "00", "expires": "2025-12-01"}
    for day in ("2026-05-12", "2026-05-19"):  # R-T1 (extended to 2026-07-31): insured on the expired card
        d = record_visit(world.registry, FACILITY, {"patient_ref": "K-1", "date": day, "presented": ["insurance_card"], "documents": [doc], "birth_date": "1980-06-15"})
        assert d["insured"] and "R-T1" in d["rules"]
    record_visit(world.registry, FACILITY, {"patient_ref": "K-2", "date": "2026-06-02", "presented": ["my_number_card"], "card_serial": user["serial"]})
    from onshi.claims import service

    for month in (dt.date(2026, 5, 1), dt.date(2026, 6, 1)):
        service.build(world.engine, FACILITY, month)
    before = counts(world.engine)

    report = whatif.whatif(world.engine, dt.date(2026, 4, 1), dt.date(2026, 7, 1), [alt])

    assert counts(world.engine) == before  # no verification logged, no claim or review kept
    rows = {(r["month"], r["insurer_kind"]): r for r in report["rows"]}
    may = rows[("2026-05", "kyokai")]
    assert may["visits"] == 2 and may["changed"] == 2 and may["became_self_pay"] == 2 and may["no_longer_self_pay"] == 0
    assert (may["claims_before"], may["claims_after"]) == (1, 0)  # the month's one claim is no longer made (R-T2)
    assert (may["returned_claims_before"], may["returned_claims_after"]) == (0, 0)
    june = rows[("2026-06", "kumiai")]
    assert june["visits"] == 1 and june["changed"] == 0 and june["claims_before"] == 0  # the card visit does not change
    assert report["totals"]["became_self_pay"] == 2 and report["visits_not_redecided"] == 0
    assert report["policy"]["withdrawn"] == [{"rule": "interim_acceptance", "source": "jimurenraku_2026_03_25", "file": "no_extension.yaml"}]
    # Kept for the page.
    [stored] = whatif.runs(world.engine)
    assert stored["id"] == report["id"] and whatif.stored(world.engine, report["id"])["totals"] == report["totals"]


def test_whatif_under_the_same_policy_changes_nothing(world, today, tmp_path):
    today("2026-05-12")
    m = world.member(KYOKAI_TOKYO, card={"issued": "2022-03-01"})
    record_visit(world.registry, FACILITY, {"patient_ref": "K-1", "presented": ["my_number_card"], "card_serial": m["serial"]})
    empty = tmp_path / "same"
    empty.mkdir()
    report = whatif.whatif(world.engine, dt.date(2026, 5, 1), dt.date(2026, 5, 1), [empty], save=False)
    assert report["totals"]["visits"] == 1 and report["totals"]["changed"] == 0 and "id" not in report


def test_whatif_bad_input_names_the_field(world, tmp_path):
    with pytest.raises(InputError) as exc:
        whatif.whatif(world.engine, dt.date(2026, 5, 1), dt.date(2026, 5, 1), [tmp_path / "missing"])
    assert exc.value.errors[0].field == "policy_dir"
    (tmp_path / "broken.yaml").write_text("interim_acceptance: [", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        whatif.whatif(world.engine, dt.date(2026, 5, 1), dt.date(2026, 5, 1), [tmp_path])
    assert exc.value.errors[0].field == "policy_dir"
    with pytest.raises(InputError) as exc:
        whatif.whatif(world.engine, dt.date(2026, 5, 1), dt.date(2026, 4, 1), [tmp_path])
    assert exc.value.errors[0].field == "to"


def test_the_command_line(world, today, alt, monkeypatch):
    if world.engine.dialect.name != "sqlite":
        pytest.skip("the command line is exercised once, on SQLite")
    import json

    from typer.testing import CliRunner

    from onshi.interfaces.cli import app

    today("2026-05-12")
    old = world.member(KYOKAI_TOKYO)
    doc = {"kind": "insurance_card", "insurer_number": KYOKAI_TOKYO, "symbol": "1234", "number": old["number"], "branch": "00", "expires": "2025-12-01"}
    record_visit(world.registry, FACILITY, {"patient_ref": "K-1", "presented": ["insurance_card"], "documents": [doc], "birth_date": "1980-06-15"})
    monkeypatch.setenv("ONSHI_DATABASE_URL", world.engine.url.render_as_string(hide_password=False))
    got = CliRunner().invoke(app, ["whatif", "--from", "2026-04", "--to", "2026-07", "--policy-dir", str(alt)])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["totals"]["became_self_pay"] == 1
    table = CliRunner().invoke(app, ["whatif", "--from", "2026-05", "--to", "2026-05", "--policy-dir", str(alt), "--format", "table", "--no-save"])
    assert table.exit_code == 0 and "協会けんぽ" in table.stdout and "jimurenraku_2026_03_25" in table.stdout
    assert CliRunner().invoke(app, ["whatif", "--from", "2026-05", "--to", "2026-05", "--policy-dir", "/no/such/dir"]).exit_code == 2
