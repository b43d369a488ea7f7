"""Running issuance case files: `decide_case` for one case, `check_file` for a test file's
`expect` (matched as the front desk's case files are: ISSUANCE-CASES.md "Test files")."""

from __future__ import annotations

from pathlib import Path

from ..domain.errors import InputError
from ..frontdesk.runner import forbidden, load_cases, mismatches
from ..policy import Policy, load_policy
from .case import parse_case
from .engine import engine_for


# A dated value is cited when a rule of the decision used it (A3 is the 5-year cap of R-I6c,
# R-B2 the grace of R-I3d).
_USED_BY = {"A3": "R-I6c", "R-B2": "R-I3d"}


def decide_case(data: object, policy: Policy | None = None) -> dict:
    """The decision (ISSUANCE-CASES.md output, as JSON-ready data) for one parsed case, with
    `citations`: each rule's title and seeds, and the dated values it used with their notices."""
    case = parse_case(data)
    day, insurer, member = case.inputs()
    policy = policy or load_policy()
    engine = engine_for(policy)
    decision = engine.decide(member, insurer, day)
    out = decision.to_json()
    first = decision.certificate or decision.notice
    entries = engine.rules(first.valid_from if first else day).entries
    out["citations"] = [
        {
            "rule": rule, "title": policy.title(rule), "seeds": policy.seeds(rule),
            "policy": [
                {"name": e.name, "value": e.value, "from": e.start.isoformat(), "to": e.end.isoformat() if e.end else None, "source": e.source.cite()}
                for e in entries if (e.rule == rule or _USED_BY.get(e.rule) == rule)
                and (not e.scope.get("insurers") or insurer.kind in e.scope["insurers"])
            ],
        }
        for rule in decision.rules
    ]
    return out


def check_case(case: dict, policy: Policy | None = None) -> list[str]:
    """The failures of one case against its `expect` (and `expect_not`)."""
    decision = decide_case(case, policy)
    return mismatches(_jsonish(case.get("expect") or {}), decision) + forbidden(_jsonish(case.get("expect_not") or {}), decision)


def _jsonish(value: object) -> object:
    """YAML dates in `expect` compare with the decision's ISO strings."""
    if isinstance(value, dict):
        return {k: _jsonish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonish(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def check_file(path: Path, policy: Policy | None = None) -> list[tuple[str, list[str]]]:
    """Run a test file (a YAML list of cases with `expect`): (case name, failures) per case."""
    cases = load_cases(Path(path).read_text(encoding="utf-8"), str(path))
    if not isinstance(cases, list):
        raise InputError(str(path), "a test file is a YAML list of cases")
    policy = policy or load_policy()
    results = []
    for i, case in enumerate(cases):
        name = (case.get("name") if isinstance(case, dict) else None) or f"case {i}"
        try:
            results.append((name, check_case(case, policy)))
        except InputError as exc:
            results.append((name, [f"malformed: {exc}"]))
    return results
