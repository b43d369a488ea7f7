"""`onshi issuance …`: decide issuance case files (ISSUANCE-CASES.md), check test files, print
sample documents; and `onshi bench issuance` (decisions/s and printed pages/s)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_frontdesk import decide_file, err

issuance_app = typer.Typer(help="Insurer issuance of 資格確認書 and 資格情報のお知らせ (../shared/domain/ISSUANCE.md).", no_args_is_help=True)


@issuance_app.command("decide")
def decide(case: Annotated[str, typer.Argument(help="an issuance case file (YAML or JSON), or - for standard input")]) -> None:
    """Decide one issuance case: prints the decision as one JSON object (exit 2 on a malformed case)."""
    from ..issuance.runner import decide_case

    decide_file(case, decide_case, "onshi issuance decide", "onshi issuance check")


@issuance_app.command("check")
def check(files: Annotated[list[Path], typer.Argument(help="test files: YAML lists of issuance cases with `expect`")]) -> None:
    """Run issuance test files; exits 1 when a case does not match its `expect`."""
    from ..domain.errors import InputError
    from ..issuance.runner import check_file

    failed = total = 0
    for path in files:
        try:
            results = check_file(path)
        except (InputError, OSError) as exc:
            err.print(f"[red]error:[/red] {path}: {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        for name, failures in results:
            total += 1
            if failures:
                failed += 1
                err.print(f"[red]FAIL[/red] {path}: {name}", highlight=False, soft_wrap=True)
                for f in failures:
                    err.print(f"     {f}", highlight=False, soft_wrap=True)
    err.print(f"{total - failed}/{total} cases pass")
    if failed:
        raise typer.Exit(1)


@issuance_app.command("sample-pdf")
def sample_pdf(
    output: Annotated[Path, typer.Option("--output", "-o", help="the PDF to write")] = Path("issuance-sample.pdf"),
    date: Annotated[str, typer.Option(help="the issue date printed (YYYY-MM-DD)")] = "2026-07-08",
) -> None:
    """Print one of each document (資格確認書 card / postcard / A4, お知らせ, 登録完了の通知) for
    made-up members into one PDF, to look at the forms."""
    import datetime as dt

    from ..issuance.printing import render_pdf
    from ..issuance.printing.samples import sample_documents

    result = render_pdf(sample_documents(dt.date.fromisoformat(date)))
    output.write_bytes(result.pdf)
    err.print(f"{result.pages} pages → {output}")
    for w in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {w}", highlight=False, soft_wrap=True)


def bench_issuance(
    members: Annotated[int, typer.Option(help="synthetic members to decide (in memory, no database)")] = 100_000,
    pages: Annotated[int, typer.Option(help="documents to print into one PDF")] = 2_000,
    print_only: Annotated[bool, typer.Option("--print-only", help="measure printing only")] = False,
    date: Annotated[str, typer.Option(help="the run day (the 2026-07-08 run renews every 後期 member for 2026-08-01)")] = "2026-07-08",
    seed: Annotated[int, typer.Option(help="random seed of the synthetic members")] = 1,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="keep the printed PDF here")] = None,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
) -> None:
    """Issuance speed without a database: decisions/s of the pure batch engine and PDF pages/s.
    (The run over the registry, with SQL selection and recording, comes with issue 12's second half.)"""
    import datetime as dt

    from ..bench import issuance as bench

    report = bench.run(members=0 if print_only else members, pages=pages, day=dt.date.fromisoformat(date), seed=seed, output=output)
    bench.print_report(report | {"title": f"issuance — {os.cpu_count()} cores"})
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)
