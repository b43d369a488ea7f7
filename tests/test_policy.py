"""The dated policy (policy/): what is in force on a day, and a new notice as data only."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from typer.testing import CliRunner

from onshi.frontdesk.runner import decide_case
from onshi.interfaces.cli import app
from onshi.policy import PolicyError, load_policy
from onshi.policy.loader import Policy

D = dt.date.fromisoformat
EXPIRED_CARD = {
    "visit": {"date": "2026-09-15", "presented": ["insurance_card"]},
    "person": {
        "birth_date": "1988-09-30",
        "qualifications": [{"id": "q1", "insurer": "01130012", "symbol": "5012", "number": "341", "branch": "00", "start": "2019-04-01", "registered": "2019-04-04"}],
        "documents": [{"kind": "insurance_card", "qualification": "q1", "expires": "2025-12-01"}],
    },
}


@pytest.mark.parametrize(
    "day, document, kind, source",
    [
        ("2025-07-31", "expired_insurance_card", "kokuho", None),
        ("2025-08-01", "expired_insurance_card", "kokuho", "jimurenraku_2025_06_27"),
        ("2025-08-01", "notice_only", "kouki", "jimurenraku_2025_08_04"),
        ("2025-12-01", "expired_insurance_card", "kyokai", None),
        ("2025-12-02", "expired_insurance_card", "kyokai", "jimurenraku_2025_11_12"),
        ("2026-03-31", "notice_only", "kumiai", "jimurenraku_2025_11_12"),
        ("2026-04-01", "notice_only", "kumiai", "jimurenraku_2026_03_25"),
        ("2026-07-31", "expired_insurance_card", "kyosai", "jimurenraku_2026_03_25"),
        ("2026-08-01", "expired_insurance_card", "kyosai", None),
    ],
)
def test_R_T1_periods_and_their_sources(day, document, kind, source):
    entry = load_policy().at(D(day)).interim(document, kind)
    assert (entry.source.key if entry else None) == source


def test_R_B2_grace_and_R_B3_alert_are_policy_values():
    policy = load_policy()
    assert policy.at(D("2025-12-01")).card.grace_months == 0  # before the 2025-12 change
    assert policy.at(D("2025-12-02")).card.grace_months == 3
    assert policy.at(D("2026-05-12")).card.alert_months == 3


def test_R_T3_kouki_certificates_change_on_2026_08_01():
    policy = load_policy()
    assert policy.at(D("2026-07-31")).kouki_certificates.value["automatic_age"] == 0
    assert policy.at(D("2026-08-01")).kouki_certificates.value == {"automatic_age": 85, "others": "without_usable_card"}


def test_R_E8_and_R_T4_values():
    snap = load_policy().at(D("2026-05-12"))
    assert snap.unknown_numbers["insurer"] == "77777777" and snap.unknown_numbers["insurer_check_digit"] == "77777779"
    assert frozenset({"my_number_card", "notice"}) in snap.paper_facility_documents


def test_R_T1_a_further_extension_is_one_yaml_file_and_no_code(tmp_path, monkeypatch):
    before = decide_case(EXPIRED_CARD)
    assert before["insured"] is False and "R-T2" in before["rules"]
    (tmp_path / "extension.yaml").write_text(
        yaml.safe_dump(
            {
                "sources": {"jimurenraku_2026_07_20": {"title": "暫定的な取扱いの再延長について（事務連絡）", "date": "2026-07-20", "issuer": "厚生労働省保険局"}},
                "interim_acceptance": {"entries": [{
                    "from": "2026-08-01", "to": "2026-12-31", "insurers": "all",
                    "documents": ["expired_insurance_card", "notice_only"], "source": "jimurenraku_2026_07_20",
                }]},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("ONSHI_POLICY_DIR", str(tmp_path))
    after = decide_case(EXPIRED_CARD)
    assert after["insured"] is True and after["claim"]["basis"] == "current" and "R-T1" in after["rules"]
    notice = next(c for c in after["citations"] if c["rule"] == "R-T1")["notice"]
    assert notice["date"] == "2026-07-20" and notice["in_force"] == {"from": "2026-08-01", "to": "2026-12-31"}
    assert decide_case(EXPIRED_CARD | {"visit": {"date": "2027-01-04", "presented": ["insurance_card"]}})["insured"] is False


@pytest.mark.parametrize(
    "content, message",
    [
        ({"interim_acceptance": {"entries": [{"from": "2026-08-01", "source": "nope"}]}}, "unknown source 'nope'"),
        ({"interim_acceptance": {"entries": [{"from": "2026-08-01", "to": "2026-07-01", "source": "jimurenraku_2025_11_12"}]}}, "'to' is before 'from'"),
        ({"interim_acceptance": {"entries": [{"to": "2026-07-01", "source": "jimurenraku_2025_11_12"}]}}, "needs a 'from' date"),
        ({"grace_months": {"entries": [{"from": "2026-13-01", "value": 3, "source": "jimurenraku_2025_11_12"}]}}, "not a date"),
    ],
)
def test_a_bad_policy_file_is_refused_naming_the_entry(tmp_path, content, message):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(PolicyError) as e:
        Policy.load([tmp_path])
    assert message in str(e.value) and "bad.yaml" in str(e.value)


def test_policy_show_cli():
    result = CliRunner().invoke(app, ["policy", "show", "--date", "2026-07-31", "--json"])
    assert result.exit_code == 0
    assert any(r["rule"] == "R-T1" and r["to"] == "2026-07-31" for r in yaml.safe_load(result.stdout)["in_force"])
    result = CliRunner().invoke(app, ["policy", "show", "--date", "2026-08-01", "--json"])
    assert not any(r["rule"] == "R-T1" for r in yaml.safe_load(result.stdout)["in_force"])


def test_decide_cli_prints_one_decision_and_refuses_malformed_cases(tmp_path):
    good = tmp_path / "case.yaml"
    good.write_text(yaml.safe_dump(EXPIRED_CARD | {"visit": {"date": "2026-05-12", "presented": ["insurance_card"]}}), encoding="utf-8")
    result = CliRunner().invoke(app, ["decide", str(good)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["claim"]["basis"] == "current"
    for bad, field in [
        ({"visit": {"date": "2026-02-30"}, "person": {"birth_date": "1980-01-01"}}, "visit.date"),
        ({"visit": {"date": "2026-05-12"}}, "person"),
        ({"visit": {"date": "2026-05-12", "presented": ["passport"]}, "person": {"birth_date": "1980-01-01"}}, "visit.presented.0"),
        ({"visit": {"date": "2026-05-12"}, "person": {"birth_date": "1980-01-01", "qualifications": [{"id": "q1", "insurer": "01130013", "number": "1", "start": "2020-01-01"}]}}, "person.qualifications.0.insurer"),
        ({"visit": {"date": "2026-05-12", "past_visit": "q9"}, "person": {"birth_date": "1980-01-01"}}, "visit.past_visit"),
    ]:
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(bad), encoding="utf-8")
        result = CliRunner().invoke(app, ["decide", str(path)])
        assert result.exit_code != 0 and field in result.stderr, (field, result.stderr)
        assert result.stdout == ""
    result = CliRunner().invoke(app, ["decide", "-"], input="visit: [unclosed")
    assert result.exit_code != 0 and "not valid YAML" in result.stderr
