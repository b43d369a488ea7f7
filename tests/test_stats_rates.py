"""R-S1, R-S2 and R-S3 on small hand-made data with known answers, on SQLite and PostgreSQL:
both usage formulas, a person counted once across several verifications (R-S2), a facility
with no claims, the age band on the day of the visit, the 外来のみ variant, scopes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert

from onshi.domain.errors import Forbidden, InputError
from onshi.registry import schema
from onshi.stats import output
from onshi.stats.rates import Scope, compute, compute_many, every_rate, parse_query

from factories import FACILITY, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO

D = dt.date
OSAKA = "2710000012"  # a clinic in Osaka (prefecture 27)
NO_CLAIMS = "1310000033"  # a Tokyo clinic that issued no claim this month


@pytest.fixture
def data(world):
    """Five people, verifications of 2025-10 (and one of 2025-11), claims of 2025-10, cards."""
    with world.engine.begin() as conn:
        conn.execute(insert(schema.facility), [
            dict(code=OSAKA, name="大阪中央クリニック", prefecture=27, online=True, smartphone=False, mobile_consent=False),
            dict(code=NO_CLAIMS, name="請求前クリニック", prefecture=13, online=True, smartphone=False, mobile_consent=False),
        ])
        people = {  # id: (birth, insurer, relation)
            1: (D(1955, 10, 15), KYOKAI_TOKYO, "self"),  # 69 until 2025-10-14, 70 from the 15th
            2: (D(1980, 1, 1), KUMIAI, "self"),
            3: (D(1948, 3, 3), KOUKI_TOKYO, "self"),
            4: (D(2020, 5, 5), KYOKAI_TOKYO, "family"),
            5: (D(1990, 7, 7), KYOKAI_TOKYO, "self"),
        }
        conn.execute(insert(schema.person), [
            dict(id=pid, name=f"試験 {pid}", kana=f"シケン {pid}", birth_date=birth, sex=1) for pid, (birth, _, _) in people.items()
        ])
        conn.execute(insert(schema.qualification), [
            dict(id=pid, person_id=pid, insurer_number=ins, symbol="1", number=str(100 + pid), branch="00", relation=rel,
                 start=D(2015, 4, 1), registered=D(2015, 4, 3)) for pid, (_, ins, rel) in people.items()
        ])
        conn.execute(insert(schema.card), [{"revoked": None, **c} for c in [
            dict(serial="C1", person_id=1, issued=D(2021, 1, 1), card_expires=D(2031, 1, 1), cert_expires=D(2027, 10, 15), insurance_registered=D(2022, 1, 1)),
            dict(serial="C2", person_id=2, issued=D(2021, 1, 1), card_expires=D(2031, 1, 1), cert_expires=D(2027, 1, 1), insurance_registered=D(2022, 1, 1), revoked=D(2025, 9, 1)),
            dict(serial="C3", person_id=3, issued=D(2020, 6, 15), card_expires=D(2030, 6, 15), cert_expires=D(2025, 6, 15), insurance_registered=D(2022, 1, 1)),
            dict(serial="C4", person_id=4, issued=D(2021, 1, 1), card_expires=D(2026, 5, 5), cert_expires=D(2026, 5, 5), insurance_registered=None),
            dict(serial="C5", person_id=5, issued=D(2020, 9, 10), card_expires=D(2030, 9, 10), cert_expires=D(2025, 9, 10), insurance_registered=D(2022, 1, 1)),
        ]])
        at = dt.datetime(2025, 10, 1, 1, 0, tzinfo=dt.timezone.utc)
        card, numbers = "my_number_card", "number_inquiry"
        rows = [  # facility, day, method, result, person
            (FACILITY, D(2025, 10, 10), card, "valid", 1),  # age 69: 60-69
            (FACILITY, D(2025, 10, 20), card, "valid", 1),  # age 70: 70-74 — the same person again (R-S2 counts once)
            (FACILITY, D(2025, 10, 25), numbers, "valid", 1),
            (FACILITY, D(2025, 10, 5), numbers, "valid", 2),
            (FACILITY, D(2025, 10, 6), card, "error", 2),  # the card could not be used: not counted
            (OSAKA, D(2025, 10, 7), "smartphone", "valid", 3),
            (OSAKA, D(2025, 10, 8), card, "valid", 3),
            (FACILITY, D(2025, 10, 9), numbers, "valid", 4),
            (FACILITY, D(2025, 10, 11), numbers, "not_found", None),
            (NO_CLAIMS, D(2025, 10, 12), card, "valid", 2),
            (FACILITY, D(2025, 11, 3), card, "valid", 2),  # another month
        ]
        conn.execute(insert(schema.verification), [
            dict(facility_code=f, at=at, as_of=day, method=m, identity="face" if m != numbers else None, result=r,
                 error="identity_not_verified" if r == "error" else None, person_id=p, qualification_id=p, channel="api")
            for f, day, m, r, p in rows
        ])
        claims = [  # facility, person, receipt kind, first day, origin
            (FACILITY, 1, "1112", D(2025, 10, 10), "visits"),
            (FACILITY, 2, "1112", D(2025, 10, 5), "visits"),
            (FACILITY, 2, "1111", D(2025, 10, 5), "uke"),  # 入院: not in the 外来のみ variant
            (FACILITY, 4, "1114", D(2025, 10, 9), "visits"),
            (FACILITY, 4, "1114", D(2025, 10, 9), "reclaim"),  # the same レセプト again: never counted
            (OSAKA, 3, "1318", D(2025, 10, 7), "visits"),
        ]
        conn.execute(insert(schema.claim), [
            dict(facility_code=f, payer="1", care_month=D(2025, 10, 1), patient_ref=f"P{p}", receipt_kind=kind, insurer_number=people[p][1],
                 symbol="1", number=str(100 + p), branch="00", unknown=False, name=f"試験 {p}", birth_date=people[p][0], copay_percent=30,
                 days=1, days_mask=1 << (first.day - 1), first_day=first, last_day=first, points=75, status="built", origin=origin, created_at=at)
            for f, p, kind, first, origin in claims
        ])
    return world


def rows(engine, kind="usage", by=None, formula=None, month="2025-10", to=None, scope=Scope()):  # noqa: ANN001, ANN201
    return {r.group: (r.numerator, r.denominator, r.rate) for r in compute(engine, parse_query(kind, month, to, by, formula), scope)}


def test_R_S1_count_based_rate_in_all_and_by_age_band_on_the_day(data):
    assert rows(data.engine, formula="visits") == {"all": (5, 9, 0.5556)}
    # Person 1 turns 70 on 2025-10-15: the card use of the 10th is 60-69, those of the 20th and 25th 70-74.
    assert rows(data.engine, by="age_band", formula="visits") == {
        "0-9": (0, 1, 0.0), "40-49": (1, 2, 0.5), "60-69": (1, 1, 1.0), "70-74": (1, 2, 0.5), "75-79": (2, 2, 1.0), "unknown": (0, 1, 0.0),
    }


def test_R_S1_by_insurer_kind_branch_insurer_facility_and_prefecture(data):
    e = data.engine
    assert rows(e, by="insurer_kind") == {"kyokai": (2, 4, 0.5), "kumiai": (1, 2, 0.5), "kouki": (2, 2, 1.0), "unknown": (0, 1, 0.0)}
    assert rows(e, by="branch") == {"13": (2, 4, 0.5)}  # 協会けんぽ members only, by their 都道府県支部
    assert rows(e, by="insurer") == {KYOKAI_TOKYO: (2, 4, 0.5), KUMIAI: (1, 2, 0.5), KOUKI_TOKYO: (2, 2, 1.0), "unknown": (0, 1, 0.0)}
    assert rows(e, by="facility") == {FACILITY: (2, 6, 0.3333), OSAKA: (2, 2, 1.0), NO_CLAIMS: (1, 1, 1.0)}
    assert rows(e, by="facility_prefecture") == {"13": (3, 7, 0.4286), "27": (2, 2, 1.0)}


def test_R_S2_persons_once_per_facility_over_its_claims_and_a_facility_without_claims(data):
    # F1: person 1 used the card twice → 1 person; 4 claims (the re-claim is not counted).
    # Osaka: person 3 twice → 1 person; 1 claim. The facility without claims is left out of both.
    assert rows(data.engine, formula="claims") == {"all": (2, 5, 0.4)}
    assert rows(data.engine, by="facility", formula="claims") == {FACILITY: (1, 4, 0.25), OSAKA: (1, 1, 1.0)}
    # 外来のみ (seed 001): the same persons over outpatient claims only (the 入院 1111 drops out).
    assert rows(data.engine, formula="claims_outpatient") == {"all": (2, 4, 0.5)}


def test_R_S2_age_band_of_the_first_use_and_insurer_kind(data):
    assert rows(data.engine, by="age_band", formula="claims") == {"0-9": (0, 1, 0.0), "40-49": (0, 2, 0.0), "60-69": (1, 1, 1.0), "75-79": (1, 1, 1.0)}
    assert rows(data.engine, by="insurer_kind", formula="claims") == {"kyokai": (1, 2, 0.5), "kumiai": (0, 2, 0.0), "kouki": (1, 1, 1.0)}


def test_R_S3_registration_at_the_end_of_the_month(data):
    # Members on 2025-10-31: five. Registered and in effect: person 1, and person 5 whose
    # certificate expired on 2025-09-10 (R-B4: cancelled only after the end of December).
    # Person 2's card was replaced (revoked), person 3's expired in June (past R-B4), person 4's is not registered.
    e = data.engine
    assert rows(e, kind="registration") == {"all": (2, 5, 0.4)}
    assert rows(e, kind="registration", by="insurer_kind") == {"kyokai": (2, 3, 0.6667), "kumiai": (0, 1, 0.0), "kouki": (0, 1, 0.0)}
    assert rows(e, kind="registration", by="branch") == {"13": (2, 3, 0.6667)}
    assert rows(e, kind="registration", by="age_band") == {"0-9": (0, 1, 0.0), "30-39": (1, 1, 1.0), "40-49": (0, 1, 0.0), "70-74": (1, 1, 1.0), "75-79": (0, 1, 0.0)}
    # In January person 5's registration has lapsed (the end of the 3rd month after September).
    assert rows(e, kind="registration", month="2026-01") == {"all": (1, 5, 0.2)}


def test_a_range_of_months_lists_every_month_of_the_national_series(data):
    got = compute(data.engine, parse_query("usage", "2025-09", "2025-11", None, "visits"))
    assert [(r.month, r.numerator, r.denominator, r.rate) for r in got] == [("2025-09", 0, 0, None), ("2025-10", 5, 9, 0.5556), ("2025-11", 1, 1, 1.0)]


def test_scopes_a_facility_sees_its_own_an_insurer_its_members(data):
    e = data.engine
    assert rows(e, scope=Scope(facility_code=FACILITY)) == {"all": (2, 6, 0.3333)}
    assert rows(e, formula="claims", scope=Scope(facility_code=FACILITY)) == {"all": (1, 4, 0.25)}
    assert rows(e, scope=Scope(insurer_number=KUMIAI)) == {"all": (1, 2, 0.5)}
    assert rows(e, formula="claims", scope=Scope(insurer_number=KYOKAI_TOKYO)) == {"all": (1, 2, 0.5)}
    assert rows(e, kind="registration", scope=Scope(insurer_number=KYOKAI_TOKYO)) == {"all": (2, 3, 0.6667)}
    with pytest.raises(Forbidden):
        rows(e, kind="registration", scope=Scope(facility_code=FACILITY))
    with pytest.raises(Forbidden):
        Scope.of("reviewer", "all")
    assert Scope.of("analyst", "all").everything


def test_every_rate_folds_each_grouping_from_one_count(data):
    every = every_rate(data.engine, D(2025, 10, 1))
    assert {k: [(r.group, r.numerator, r.denominator) for r in v] for k, v in every.items() if k.endswith(":all")} == {
        "visits:all": [("all", 5, 9)], "claims:all": [("all", 2, 5)], "claims_outpatient:all": [("all", 2, 4)], "registration:all": [("all", 2, 5)],
    }
    many = compute_many(data.engine, "usage", "2025-10", bys=["branch", "insurer_kind"], formula="visits")
    assert [(r.group, r.numerator, r.denominator) for r in many["branch"]] == [("13", 2, 4)]
    assert len(every) == 3 * 7 + 5


def test_json_csv_and_table_outputs(data):
    got = compute(data.engine, parse_query("usage", "2025-10", None, "age_band", "visits"))
    parsed = json.loads(output.to_json(got))
    assert parsed[0] == {"month": "2025-10", "group": "0-9", "numerator": 0, "denominator": 1, "rate": 0.0}
    assert all(set(r) == {"month", "group", "numerator", "denominator", "rate"} for r in parsed)
    csv_text = output.to_csv(got)
    assert csv_text.splitlines()[0] == "month,group,label,numerator,denominator,rate"
    assert "2025-10,75-79,75-79,2,2,1.0000" in csv_text
    assert "75-79" in output.to_table(got) and "100.00%" in output.to_table(got)


@pytest.mark.parametrize(
    ("kind", "month", "to", "by", "formula", "field"),
    [
        ("usage", "2025-13", None, None, None, "month"),
        ("usage", "2025-10", "2025-09", None, None, "to"),
        ("usage", "2025-10", None, "colour", None, "by"),
        ("usage", "2025-10", None, None, "people", "formula"),
        ("registration", "2025-10", None, "facility", None, "by"),
        ("registration", "2025-10", None, None, "claims", "formula"),
        ("usage", "2015-01", "2025-01", None, None, "to"),
    ],
)
def test_bad_requests_name_the_field(kind, month, to, by, formula, field):
    with pytest.raises(InputError) as exc:
        parse_query(kind, month, to, by, formula)
    assert field in [e.field for e in exc.value.errors]


def test_the_command_line(data, monkeypatch, tmp_path):
    if data.engine.dialect.name != "sqlite":
        pytest.skip("the command line is exercised once, on SQLite")
    from typer.testing import CliRunner

    from onshi.interfaces.cli import app

    monkeypatch.setenv("ONSHI_DATABASE_URL", data.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    got = runner.invoke(app, ["stats", "usage", "--month", "2025-10", "--by", "age_band", "--format", "json"])
    assert got.exit_code == 0, got.output
    assert {r["group"]: r["rate"] for r in json.loads(got.stdout)}["75-79"] == 1.0
    table = runner.invoke(app, ["stats", "usage", "--month", "2025-10", "--formula", "claims", "--facility", FACILITY])
    assert table.exit_code == 0 and "25.00%" in table.stdout
    csv_out = runner.invoke(app, ["stats", "registration", "--month", "2025-10", "--by", "branch", "--format", "csv"])
    assert csv_out.stdout.splitlines()[1] == "2025-10,13,東京都支部,2,3,0.6667"
    bad = runner.invoke(app, ["stats", "usage", "--month", "2025-10", "--by", "colour"])
    assert bad.exit_code == 2 and "by:" in bad.output
    helped = runner.invoke(app, ["stats", "usage", "--help"])
    assert "R-S1" in helped.output and "R-S2" in helped.output
    k = runner.invoke(app, ["stats", "analyst-key"]).stdout.strip()
    assert data.registry.authenticate(k).role == "analyst"
