"""`onshi issuance …`: decide issuance case files (ISSUANCE-CASES.md), check test files, print
sample documents, run the issuance over the registry (`run`); and `onshi bench issuance`
(decisions/s and printed pages/s, or the heavy-day run over a registry)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_common import DatabaseOpt, TodayOpt, guard, setup
from .cli_common import engine as open_engine
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


@issuance_app.command("run")
def run(
    date: Annotated[Optional[str], typer.Option(help="the run day D (default: today)")] = None,
    insurer: Annotated[Optional[str], typer.Option("--insurer", help="保険者番号: run for this insurer's members only (default: every insurer)")] = None,
    pdf: Annotated[Optional[Path], typer.Option("--pdf", help="write the run's documents here as PDFs (postal-code order, 5,000 pages a file)")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="decide every member, not only the candidates the SQL selects (a check)")] = False,
    batch: Annotated[int, typer.Option(help="members read, decided and committed at a time")] = 5000,
    workers: Annotated[int, typer.Option(help="PostgreSQL: processes deciding batches side by side")] = 1,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="also write the result as JSON to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Run the insurer issuance on the registry: decide every member the rules send or end
    something for on day D, record what is sent (idempotent: a rerun the same day sends
    nothing; a killed run resumes where it stopped), and print a summary by kind and rule."""
    import sys

    from .. import config
    from ..domain.dates import parse_date
    from ..issuance.run import Progress, run_issuance

    setup(database, today)
    day = guard(lambda: parse_date(date, "date")) if date else config.today()
    number = guard(lambda: _insurer_number(insurer)) if insurer else None
    if day > config.today():
        err.print(f"[red]error:[/red] date: {day.isoformat()} is after today ({config.today().isoformat()}; set --today to replay a day)")
        raise typer.Exit(2)
    engine = open_engine()
    with _bar(sys.stderr.isatty()) as bar:
        task = bar.add_task(f"issuance {day.isoformat()} {number or 'all insurers'}", total=None)
        progress = Progress(total=lambda n: bar.update(task, total=n), advance=lambda k: bar.advance(task, k))
        result = guard(lambda: run_issuance(engine, day, number, origin="cli", batch=batch, progress=progress, everyone=everyone, workers=workers))
    printed = None
    if pdf is not None:
        from ..issuance.documents import write_run_pdfs

        printed = write_run_pdfs(engine, result.id, pdf)
        from ..issuance.run import read_run

        with engine.connect() as conn:
            result.tally = read_run(conn, result.id).tally
    print_summary(result.to_json(), printed)
    if json_out:
        json_out.write_text(json.dumps(result.to_json() | ({"pdf": [str(p) for p, _ in printed.files]} if printed else {}), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    engine.dispose()


def _insurer_number(value: str) -> str:
    from ..domain.numbers import parse_insurer_number

    return parse_insurer_number(value).value


def _bar(enabled: bool):  # noqa: ANN202
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not enabled)


KIND_NAMES = {"eligibility_certificate": "資格確認書", "notice": "資格情報のお知らせ", "registration_notice": "登録完了の通知"}


def print_summary(result: dict, printed=None) -> None:  # noqa: ANN001
    """The run's summary: documents by kind and rule, ends by rule, applications, warnings."""
    from rich.console import Console
    from rich.table import Table

    out = Console()
    s = result["summary"]
    resumed = "（再開）" if result.get("resumed") else ""
    out.print(f"run {result['run_id']} {result['date']} {result['scope']} {result['status']}{resumed}: "
              f"{result['candidates'] or 0:,} candidates decided, {s.get('sent', 0):,} members sent something"
              + (f" in {result['seconds']:.1f} s" if result.get("seconds") else ""))
    table = Table(title="documents by kind and rule")
    for col in ("kind", "documents", "rules (documents citing each)"):
        table.add_column(col)
    for kind, n in s.get("documents", {}).items():
        rules = ", ".join(f"{r} {c:,}" for r, c in s.get("rules", {}).get(kind, {}).items())
        table.add_row(f"{KIND_NAMES.get(kind, kind)} ({kind})", f"{n:,}", rules)
    if not s.get("documents"):
        table.add_row("—", "0", "nothing to send")
    out.print(table)
    if s.get("triggers"):
        out.print("triggers (R-I6a): " + ", ".join(f"{k} {v:,}" for k, v in s["triggers"].items()))
    if s.get("ends"):
        out.print("held documents ended (R-I7): " + ", ".join(f"{k} {v:,}" for k, v in s["ends"].items()))
    if s.get("applications"):
        out.print("applications decided (R-I3f): " + ", ".join(f"{k} {v:,}" for k, v in s["applications"].items()))
    if printed is not None:
        out.print(f"printed {printed.pages:,} pages into {len(printed.files)} PDF file(s)" + (f": {printed.files[0][0].parent}" if printed.files else "")
                  + (f"; {len(printed.held_back)} held back" if printed.held_back else ""))
    count = s.get("warning_count", 0)
    if count:
        err.print(f"[yellow]{count:,} warning(s)[/yellow]" + (f" (first {len(result['warnings'])})" if count > len(result["warnings"]) else "") + ":")
        for w in result["warnings"]:
            err.print(f"  {w}", highlight=False, soft_wrap=True)


def bench_issuance(
    members: Annotated[int, typer.Option(help="synthetic members to decide (in memory, no database)")] = 100_000,
    pages: Annotated[int, typer.Option(help="documents to print into one PDF")] = 2_000,
    print_only: Annotated[bool, typer.Option("--print-only", help="measure printing only")] = False,
    date: Annotated[Optional[str], typer.Option(help="the run day (synthetic: 2026-07-08; registry: 2026-07-01, the run of the 2026-08-01 documents)")] = None,
    seed: Annotated[int, typer.Option(help="random seed of the synthetic members, or of the seeded registry")] = 1,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="keep the printed PDF here")] = None,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
    database: Annotated[Optional[str], typer.Option("--database", "-d", help="run over this registry (PostgreSQL): seeded when empty, the heavy day's runs undone first")] = None,
    people: Annotated[int, typer.Option(help="with --database: people to seed into an empty registry (as of the day before, with the history of runs)")] = 0,
    workers: Annotated[int, typer.Option(help="with --database: processes of the run (and of the printing)")] = 2,
    pgbench: Annotated[bool, typer.Option(help="with --database: pgbench -S on the same server for the ratio")] = True,
) -> None:
    """Issuance speed. Without --database: decisions/s of the pure batch engine on synthetic
    members and PDF pages/s. With --database: the whole run over the registry on the heavy day
    (members/s, documents/s, phases), the run's PDF from registry rows (pages/s), pgbench -S."""
    import datetime as dt
    import sys

    from ..bench import issuance as bench

    if database:
        day = dt.date.fromisoformat(date) if date else bench.HEAVY_DAY
        figures, info = bench.registry_figures(database, people=people, seed=seed, day=day, workers=workers, pages=pages,
                                               print_workers=workers, pgbench=pgbench, progress=sys.stderr.isatty())
        from dataclasses import asdict

        report = {"title": f"issuance over the registry — {info['members']:,} members, {os.cpu_count()} cores", "figures": [asdict(f) for f in figures], **info}
        bench.print_report(report)
        pg = next((f for f in figures if f.name.startswith("pgbench")), None)
        if pg is not None:
            err.print(f"reference: pgbench -S {pg.per_second:,.0f} tps on the same server during this run")
    else:
        report = bench.run(members=0 if print_only else members, pages=pages, day=dt.date.fromisoformat(date or "2026-07-08"), seed=seed, output=output)
        bench.print_report(report | {"title": f"issuance — {os.cpu_count()} cores"})
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2, default=str)
