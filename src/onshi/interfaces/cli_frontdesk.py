"""`onshi decide`, `onshi cases check` and `onshi policy show`."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

err = Console(stderr=True)
cases_app = typer.Typer(help="Case files (../shared/domain/CASES.md).", no_args_is_help=True)
policy_app = typer.Typer(help="The dated policy data (policy/).", no_args_is_help=True)


def _read(path: str) -> tuple[str, str]:
    if path == "-":
        return sys.stdin.read(), "stdin"
    p = Path(path)
    if not p.is_file():
        err.print(f"[red]error:[/red] {path}: no such file")
        raise typer.Exit(2)
    return p.read_text(encoding="utf-8"), path


def decide_file(case: str, decide_case, command: str, check: str) -> None:  # noqa: ANN001
    """Read one case file (or - for stdin), print its decision as JSON; exit 2 naming the
    field of a malformed case, 3 on a policy error. Shared by `onshi decide` and `onshi issuance decide`."""
    from ..domain.errors import InputError
    from ..frontdesk.runner import load_cases
    from ..policy import PolicyError

    text, source = _read(case)
    try:
        data = load_cases(text, source)
        if isinstance(data, list):
            raise InputError("case", f"is a list; `{command}` takes one case (use `{check}` for a test file)")
        decision = decide_case(data)
    except InputError as exc:
        for e in exc.errors:
            err.print(f"[red]error:[/red] {e.field}: {e.reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except PolicyError as exc:
        err.print(f"[red]policy error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    print(json.dumps(decision, ensure_ascii=False, indent=2, default=str))


def decide(case: Annotated[str, typer.Argument(help="a case file (YAML or JSON), or - for standard input")]) -> None:
    """Decide one case: prints the decision as one JSON object (non-zero exit on a malformed case)."""
    from ..frontdesk.runner import decide_case

    decide_file(case, decide_case, "onshi decide", "onshi cases check")


@cases_app.command("check")
def check(files: Annotated[list[Path], typer.Argument(help="test files: YAML lists of cases with `expect`")]) -> None:
    """Run test files; exits non-zero when a case does not match its `expect`. Files named
    issuance-*.yaml are insurer issuance cases (ISSUANCE-CASES.md) and go to that engine."""
    from ..frontdesk.runner import check_file
    from ..issuance.runner import check_file as check_issuance_file

    failed = total = 0
    for path in files:
        for name, failures in (check_issuance_file if path.name.startswith("issuance") else check_file)(path):
            total += 1
            if failures:
                failed += 1
                err.print(f"[red]FAIL[/red] {path}: {name}")
                for f in failures:
                    err.print(f"     {f}")
    err.print(f"{total - failed}/{total} cases pass")
    if failed:
        raise typer.Exit(1)


@policy_app.command("show")
def show(
    date: Annotated[Optional[str], typer.Option("--date", help="the day (YYYY-MM-DD, default today)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """What is in force on a day, with the notice behind each value (R-T1, R-T3, R-B2…)."""
    from .. import config
    from ..policy import load_policy

    day = dt.date.fromisoformat(date) if date else config.today()
    policy = load_policy()
    rows = []
    for name, rule in sorted(policy.rules.items(), key=lambda kv: kv[1].rule):
        for e in rule.entries:
            if e.in_force(day):
                rows.append({
                    "rule": rule.rule, "name": name, "from": e.start.isoformat(), "to": e.end.isoformat() if e.end else None,
                    "value": e.value, **{k: v for k, v in e.scope.items()}, "note": e.note, "source": e.source.cite(),
                })
    if as_json:
        print(json.dumps({"date": day.isoformat(), "in_force": rows}, ensure_ascii=False, indent=2, default=str))
        return
    from ..domain.wareki import format_wareki

    out = Console(soft_wrap=True)
    out.print(f"[bold]{format_wareki(day, with_seireki=True)} に有効な規定[/bold]")
    for r in rows:
        period = f"{r['from']} 〜 {r['to'] or '（終期なし）'}"
        out.print(f"\n[bold]{r['rule']}[/bold] {r['name']}  {period}")
        scope = {k: v for k, v in r.items() if k not in ("rule", "name", "from", "to", "note", "source") and v is not None}
        if scope:
            out.print("    " + ", ".join(f"{k}: {json.dumps(v, ensure_ascii=False, default=str)}" for k, v in scope.items()), highlight=False)
        if r["note"]:
            out.print(f"    {r['note']}")
        out.print(f"    出典: {r['source']}", highlight=False)
    missing = [n for n, rule in policy.rules.items() if not any(e.in_force(day) for e in rule.entries)]
    if missing:
        out.print("この日に有効な期間がない規定: " + ", ".join(sorted(missing)))
