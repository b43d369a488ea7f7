"""Every case file: ../shared/domain/cases (when present, else the copy in tests/cases) and
our own tests/cases/*.yaml, decided by the front-desk engine (RULES section F)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from onshi.frontdesk.runner import check_case

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "domain" / "cases"


def _files() -> list[Path]:
    # issuance-*.yaml files are insurer issuance cases (ISSUANCE-CASES.md), not desk cases.
    ours = sorted(p for p in (HERE / "cases").glob("*.yaml") if not p.name.startswith("issuance"))
    shared = sorted(p for p in SHARED.glob("*.yaml") if not p.name.startswith("issuance")) if SHARED.is_dir() else []
    names = {p.name for p in shared}
    return shared + [p for p in ours if p.name not in names]  # the shared copy wins when present


def _cases() -> list:
    params = []
    for path in _files():
        for i, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            params.append(pytest.param(case, id=f"{path.stem}[{i}] {case.get('name', '')}"))
    return params


CASES = _cases()


def test_enough_cases_cover_the_rules():
    """At least 60 cases of our own, and every rule of sections A–F cited by some case."""
    ours = [c for p in sorted((HERE / "cases").glob("*.yaml")) if p.name != "examples.yaml" for c in yaml.safe_load(p.read_text(encoding="utf-8"))]
    assert len(ours) >= 60
    cited = {r for c in ours for r in (c.get("expect") or {}).get("rules", [])} | {c["name"].split()[0] for c in ours}
    for rule in ("A1", "A2", "A3", "A5", "A6", "R-A3a", "R-A3b", "R-A3c", "R-B1", "R-B2", "R-B3", "R-B4", "R-C1", "R-C2", "R-C3",
                 "R-C4", "R-C5", "R-D1", "R-D2", "R-D3", "R-D7", "R-T1", "R-T2", "R-T3", "R-T4", "R-E1", "R-E5", "R-E8",
                 "R-P1", "R-P2", "R-P3", "R-P4"):
        assert any(rule == c or c.startswith(rule + "/") or rule in c.split("/") for c in cited), rule


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    failures = check_case(case)
    assert not failures, "\n".join(failures)
