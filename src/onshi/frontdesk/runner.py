"""Running case files: `decide_case` for one case, `check` for a test file's `expect`."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..domain.errors import InputError
from ..policy import Policy, load_policy
from .case import case_inputs, parse_case
from .engine import decide
from .explain import to_json


def load_cases(text: str, source: str = "case") -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(source, f"is not valid YAML or JSON: {exc}") from None


def decide_case(data: object, policy: Policy | None = None) -> dict:
    """The decision (CASES.md output) for one parsed case."""
    case = parse_case(data)
    policy = policy or load_policy()
    visit, patient, port = case_inputs(case, policy.at(case.visit.date))
    return to_json(decide(visit, patient, port, policy.at(case.visit.date)), policy)


def mismatches(expect: object, actual: object, path: str = "") -> list[str]:
    """Where `actual` fails `expect`: mappings by key, lists by containment (CASES.md)."""
    if isinstance(expect, dict):
        if not isinstance(actual, dict):
            return [f"{path or '.'}: expected a mapping, got {actual!r}"]
        out = []
        for k, v in expect.items():
            out += mismatches(v, actual.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(expect, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list containing {expect!r}, got {actual!r}"]
        missing = [x for x in expect if x not in actual]
        return [f"{path}: {missing!r} missing from {actual!r}"] if missing else []
    if isinstance(expect, float) or isinstance(actual, float):
        try:
            return [] if abs(float(expect) - float(actual)) < 1e-9 else [f"{path}: expected {expect!r}, got {actual!r}"]
        except (TypeError, ValueError):
            return [f"{path}: expected {expect!r}, got {actual!r}"]
    return [] if expect == actual else [f"{path}: expected {expect!r}, got {actual!r}"]


def forbidden(expect_not: object, actual: object, path: str = "") -> list[str]:
    """`expect_not` (an onshi extension of CASES.md): list values that must be absent."""
    if isinstance(expect_not, dict) and isinstance(actual, dict):
        out = []
        for k, v in expect_not.items():
            out += forbidden(v, actual.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(expect_not, list) and isinstance(actual, list):
        present = [x for x in expect_not if x in actual]
        return [f"{path}: {present!r} must not be in {actual!r}"] if present else []
    return [f"{path}: must not be {actual!r}"] if expect_not == actual else []


def check_case(case: dict, policy: Policy | None = None) -> list[str]:
    """The failures of one case against its `expect` (and `expect_not`)."""
    decision = decide_case(case, policy)
    return mismatches(case.get("expect") or {}, decision) + forbidden(case.get("expect_not") or {}, decision)


def check_file(path: Path, policy: Policy | None = None) -> list[tuple[str, list[str]]]:
    """Run a test file (a YAML list of cases with `expect`); (case name, failures) per case."""
    cases = load_cases(Path(path).read_text(encoding="utf-8"), str(path))
    if not isinstance(cases, list):
        raise InputError(str(path), "a test file is a YAML list of cases")
    results = []
    for i, case in enumerate(cases):
        name = case.get("name") or f"case {i}" if isinstance(case, dict) else f"case {i}"
        try:
            results.append((name, check_case(case, policy)))
        except InputError as exc:
            results.append((name, [f"malformed: {exc}"]))
    return results
