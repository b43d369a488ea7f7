"""Issuance case files (ISSUANCE-CASES.md): the shared worked examples and our own
tests/cases/issuance-*.yaml, decided by the issuance engine; `onshi issuance decide` and
`onshi issuance check`, and the errors a malformed case gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from onshi.interfaces.cli import app
from onshi.issuance.runner import check_case, decide_case

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "domain" / "cases"
OURS = sorted((HERE / "cases").glob("issuance-*.yaml"))


def _files() -> list[Path]:
    shared = sorted(SHARED.glob("issuance-*.yaml")) if SHARED.is_dir() else []
    names = {p.name for p in shared}
    return shared + [p for p in OURS if p.name not in names]


def _load(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


CASES = [pytest.param(c, id=f"{p.stem}[{i}] {c.get('name', '')}") for p in _files() for i, c in enumerate(_load(p))]
ISSUANCE_RULES = [f"R-I3{c}" for c in "abcdefgh"] + [f"R-I4{c}" for c in "abcde"] + ["R-I5"] + [f"R-I6{c}" for c in "abcd"] + [f"R-I7{c}" for c in "abcd"] + ["R-T3"]


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    failures = check_case(case)
    assert not failures, "\n".join(failures)


def test_enough_cases_of_our_own_cover_every_issuance_rule():
    """At least 60 of our own, and each rule of ISSUANCE.md cited by an `expect` or named in a case."""
    ours = [c for p in OURS for c in _load(p)]
    assert len(ours) >= 60
    for rule in ISSUANCE_RULES:
        cited = [c for c in ours if rule in (c.get("expect") or {}).get("rules", []) or rule in c["name"].split()[0].split("/")]
        assert cited, rule


def test_the_shared_examples_are_run():
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout")
    assert sum(len(_load(p)) for p in SHARED.glob("issuance-*.yaml")) >= 6


def test_nothing_sent_keys_are_exact():
    """`issue` lists exactly what certificate / notice / registration_notice say is sent."""
    for param in CASES:
        decision = decide_case(param.values[0])
        sent = [k for k, v in (("eligibility_certificate", decision["certificate"]), ("notice", decision["notice"]),
                                ("registration_notice", decision["registration_notice"])) if v]
        assert decision["issue"] == sent
        assert not (decision["certificate"] and decision["notice"])  # at most one per run (R-I6a)
        assert all(set(r) == {"id", "valid_until"} for r in decision["replaces"])
        if not sent and not decision["replaces"] and decision["application"] != "refused":
            assert decision["rules"] == []


# ---------------------------------------------------------------- the command line

GOOD = {
    "date": "2026-04-08",
    "insurer": {"number": "01130012", "kind": "kyokai"},
    "member": {"birth_date": "1997-09-18", "qualification": {"start": "2026-04-01"}, "events": [{"kind": "acquisition", "date": "2026-04-01"}]},
}


def test_decide_prints_one_json_decision(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    result = CliRunner().invoke(app, ["issuance", "decide", str(path)])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["issue"] == ["eligibility_certificate"] and decision["certificate"] == {"valid_from": "2026-04-08", "expires": "2031-03-31"}
    result = CliRunner().invoke(app, ["issuance", "decide", "-"], input=json.dumps(GOOD))
    assert result.exit_code == 0 and json.loads(result.stdout)["rules"] == ["R-I3a", "R-I6a", "R-I6c"]


def _with(path: str, value: object) -> dict:
    case = json.loads(json.dumps(GOOD))
    *head, last = path.split(".")
    node = case
    for key in head:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return case


MALFORMED = [
    (_with("date", "2026-02-30"), "date"),
    ({k: v for k, v in GOOD.items() if k != "member"}, "member"),
    ({k: v for k, v in GOOD.items() if k != "date"}, "date"),
    (_with("insurer.number", "01130013"), "insurer.number"),
    (_with("insurer.kind", "kouki"), "insurer.kind"),
    (_with("insurer.kind", "mutual"), "insurer.kind"),
    (_with("insurer.options", {"annual_end": "13-01"}), "insurer.options.annual_end"),
    (_with("insurer.options", {"annual_end": "02-29"}), "insurer.options.annual_end"),
    (_with("insurer.options", {"certificate_years": 0}), "insurer.options.certificate_years"),
    (_with("insurer.options", {"certificate_for_all": True}), "insurer.options.certificate_for_all"),
    (_with("member.birth_date", "yesterday"), "member.birth_date"),
    (_with("member.relation", "spouse"), "member.relation"),
    (_with("member.qualification", {"start": "2026-04-01", "copay": 0.5}), "member.qualification.copay"),
    (_with("member.qualification", {"start": "2026-04-01", "end": "2026-01-01"}), "member.qualification.end"),
    (_with("member.qualification", {"start": "1990-01-01"}), "member.qualification.start"),
    (_with("member.card", {"issued": "2024-01-01", "insurance_registered": "2023-01-01"}), "member.card.insurance_registered"),
    (_with("member.application", {"date": "2026-04-01", "reason": "bored"}), "member.application.reason"),
    (_with("member.documents", [{"id": "d1", "kind": "notice", "issued": "2026-04-01"}]), "member.documents.0.valid_from"),
    (_with("member.documents", [{"id": "d1", "kind": "eligibility_certificate", "issued": "2026-04-01", "valid_from": "2026-04-01", "expires": "2025-01-01"}]),
     "member.documents.0.expires"),
    (_with("member.documents", [{"id": "d1", "kind": "registration_notice", "issued": "2026-04-01"},
                                {"id": "d1", "kind": "registration_notice", "issued": "2026-04-02"}]), "member.documents.1.id"),
    (_with("member.documents", [{"id": "d1", "kind": "insurance_card", "issued": "2026-04-01"}]), "member.documents.0.kind"),
    (_with("member.events", [{"kind": "moved", "date": "2026-04-01"}]), "member.events.0.kind"),
    (_with("member.events", [{"kind": "acquisition"}]), "member.events.0.date"),
    (_with("member.dv", True), "member.dv"),
]


@pytest.mark.parametrize("case, field", MALFORMED, ids=[f for _, f in MALFORMED])
def test_a_malformed_case_exits_2_naming_the_field(tmp_path, case, field):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["issuance", "decide", str(path)])
    assert result.exit_code == 2, result.output
    assert f"error: {field}:" in result.stderr, result.stderr
    assert result.stdout == ""


def test_decide_refuses_bad_yaml_a_list_and_a_missing_file(tmp_path):
    result = CliRunner().invoke(app, ["issuance", "decide", "-"], input="date: [unclosed")
    assert result.exit_code == 2 and "not valid YAML" in result.stderr and result.stdout == ""
    result = CliRunner().invoke(app, ["issuance", "decide", "-"], input=json.dumps([GOOD]))
    assert result.exit_code == 2 and "error: case:" in result.stderr
    result = CliRunner().invoke(app, ["issuance", "decide", "-"], input="42")
    assert result.exit_code == 2 and "error: case:" in result.stderr
    result = CliRunner().invoke(app, ["issuance", "decide", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_check_runs_test_files_and_fails_on_a_mismatch(tmp_path):
    result = CliRunner().invoke(app, ["issuance", "check", *map(str, OURS)])
    assert result.exit_code == 0, result.stderr
    assert f"{sum(len(_load(p)) for p in OURS)}/" in result.stderr
    wrong = tmp_path / "issuance-wrong.yaml"
    wrong.write_text(yaml.safe_dump([GOOD | {"name": "wrong", "expect": {"notice": {"valid_from": "2026-04-08"}}}]), encoding="utf-8")
    result = CliRunner().invoke(app, ["issuance", "check", str(wrong)])
    assert result.exit_code == 1 and "FAIL" in result.stderr and "0/1 cases pass" in result.stderr


def test_cases_check_sends_issuance_files_to_the_issuance_engine():
    """`onshi cases check tests/cases/*.yaml` keeps working with issuance-*.yaml among the desk's files."""
    files = sorted((HERE / "cases").glob("*.yaml"))
    result = CliRunner().invoke(app, ["cases", "check", *map(str, files)])
    assert result.exit_code == 0, result.stderr
    total = sum(len(_load(p)) for p in files)
    assert f"{total}/{total} cases pass" in result.stderr

