"""`onshi simulate`, `onshi stats usage|registration|analyst-key`, `onshi whatif` and `onshi bench stats`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..stats.definitions import DIMENSIONS, FIGURES, REGISTRATION_DIMENSIONS, USAGE_FORMULAS
from .cli_common import DatabaseOpt, TodayOpt, err, guard, setup
from .cli_common import engine as _engine

DEFINITIONS = "\n\n".join(f"{f.key} — {f.rule} {f.name}: {f.formula}. {f.counts} {f.note}".strip() for f in FIGURES.values())
stats_app = typer.Typer(
    help="The published rates (RULES section S) on the registry database.\n\n" + DEFINITIONS,
    no_args_is_help=True,
)

MonthOpt = Annotated[str, typer.Option("--month", "-m", help="the (first) month, YYYY-MM")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="the last month of a range, YYYY-MM (default: --month)")]
FormatOpt = Annotated[str, typer.Option("--format", help="table | csv | json")]
FacilityScope = Annotated[Optional[str], typer.Option("--facility", help="only what this facility's key sees (its own verifications and claims)")]
InsurerScope = Annotated[Optional[str], typer.Option("--insurer", help="only what this insurer's key sees (its own members)")]


def _print(rows: list, fmt: str) -> None:
    from ..stats import output

    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("must be table, csv or json", param_hint="--format")
    text = {"table": output.to_table, "csv": output.to_csv, "json": output.to_json}[fmt](rows)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _scope(facility: str | None, insurer: str | None):  # noqa: ANN202
    from ..stats.rates import Scope

    if facility and insurer:
        raise typer.BadParameter("give --facility or --insurer, not both", param_hint="--facility")
    return Scope(facility_code=facility, insurer_number=insurer)


def _rates(kind: str, month: str, to: str | None, by: str | None, formula: str | None, fmt: str, facility: str | None, insurer: str | None,
           database: str | None) -> None:
    from ..stats import rates

    setup(database, None)
    scope = _scope(facility, insurer)
    guard(lambda: _print(rates.compute(_engine(), rates.parse_query(kind, month, to, by, formula), scope), fmt))


@stats_app.command("usage", help="マイナ保険証利用率: R-S1 (--formula visits, 件数ベース) or R-S2 (claims, レセプト件数ベース; "
                   "claims_outpatient: 外来のみ).\n\n" + "\n\n".join(f"{k} ({FIGURES[k].rule}): {FIGURES[k].formula}. {FIGURES[k].counts}" for k in USAGE_FORMULAS)
                   + f"\n\n--by: {', '.join(DIMENSIONS)}. JSON: a list of {{month, group, numerator, denominator, rate}} (rate a fraction; group 'all' without --by).")
def usage(
    month: MonthOpt,
    to: ToOpt = None,
    by: Annotated[Optional[str], typer.Option("--by", help=" | ".join(DIMENSIONS))] = None,
    formula: Annotated[str, typer.Option("--formula", help="visits (R-S1) | claims (R-S2) | claims_outpatient (R-S2, 外来のみ)")] = "visits",
    fmt: FormatOpt = "table",
    facility: FacilityScope = None,
    insurer: InsurerScope = None,
    database: DatabaseOpt = None,
) -> None:
    _rates("usage", month, to, by, formula, fmt, facility, insurer, database)


@stats_app.command("registration", help=f"マイナ保険証利用登録率 (R-S3): {FIGURES['registration'].formula}. {FIGURES['registration'].counts}"
                   f"\n\n--by: {', '.join(REGISTRATION_DIMENSIONS)}.")
def registration(
    month: MonthOpt,
    to: ToOpt = None,
    by: Annotated[Optional[str], typer.Option("--by", help=" | ".join(REGISTRATION_DIMENSIONS))] = None,
    fmt: FormatOpt = "table",
    insurer: InsurerScope = None,
    database: DatabaseOpt = None,
) -> None:
    _rates("registration", month, to, by, None, fmt, None, insurer, database)


@stats_app.command("summarize")
def summarize(
    month: MonthOpt,
    to: ToOpt = None,
    drop: Annotated[bool, typer.Option("--drop", help="forget the summary instead (the rates count the rows again)")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Write the monthly summary behind R-S1 and R-S2 (verifications, first uses and claims by
    facility, insurer and age band) of each month: their rates then fold it instead of scanning
    the month, with the same answer. A month changed since (a verification or claim added, a
    claim deleted or rebuilt) is counted from its rows again until it is summarized again;
    `onshi simulate` summarizes each month it finishes."""
    from ..claims.models import parse_month
    from ..stats import summary
    from ..stats.simulate import months_between

    setup(database, None)

    def go() -> None:
        first = parse_month(month, "month")
        last = parse_month(to, "to") if to else first
        for m in months_between(first, last):
            if drop:
                summary.drop(_engine(), m)
                print(json.dumps({"month": f"{m:%Y-%m}", "dropped": True}))
            else:
                print(json.dumps(summary.summarize(_engine(), m), ensure_ascii=False))

    guard(go)


@stats_app.command("analyst-key")
def analyst_key(
    label: Annotated[str, typer.Option(help="a name for the key")] = "分析者",
    database: DatabaseOpt = None,
) -> None:
    """Create an API key for an analyst: `onshi keys create --role analyst --subject all` (every statistic and what-if)."""
    from .cli_keys import create

    create("analyst", "all", label, database)


def _progress(enabled: bool):  # noqa: ANN202
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), disable=not enabled)


def simulate(
    start: Annotated[str, typer.Option("--from", help="first month, YYYY-MM")],
    end: Annotated[str, typer.Option("--to", help="last month, YYYY-MM")],
    people_share: Annotated[float, typer.Option("--people-share", help="simulate this share of the seeded people (0–1]")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed of the simulation (the same seed gives the same visits)")] = 1,
    workers: Annotated[Optional[int], typer.Option(help="worker processes (default: the cores; 1 on SQLite)")] = None,
    calibration: Annotated[Optional[Path], typer.Option(help="another calibration table (default: stats/data/calibration.yaml)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="decide in memory, write nothing, print the rates (to tune a calibration)")] = False,
    claims: Annotated[bool, typer.Option(help="build, file and review each month's claims")] = True,
    database: DatabaseOpt = None,
) -> None:
    """A month of a nation: each month's outpatient visits of the seeded population, decided by the
    front-desk engine on the registry as of that day and recorded with their verifications; then
    the month's claims built, filed and reviewed. Deterministic under --seed, resumable per month
    (run it again to finish an interrupted month). Seed the registry up to the last month first,
    e.g. `onshi seed --people 100000 --today 2026-11-30`."""
    from ..claims.models import parse_month
    from ..stats.calibration import Calibration
    from ..stats.simulate import dry_run as run_dry
    from ..stats.simulate import months_between
    from ..stats.simulate import simulate as run

    setup(database, None)

    def go() -> None:
        first, last = parse_month(start, "from"), parse_month(end, "to")
        cal = Calibration.load(calibration)
        eng = _engine()
        if dry_run:
            for month in months_between(first, last):
                print(json.dumps(run_dry(eng, month, seed=seed, people_share=people_share, calibration=cal, workers=workers), ensure_ascii=False))
            return
        with _progress(sys.stderr.isatty()) as bar:
            reports = run(eng, first, last, seed=seed, people_share=people_share, calibration=cal, workers=workers, progress=bar, claims=claims)
        for r in reports:
            print(json.dumps(r.to_dict(), ensure_ascii=False))

    guard(go)


def whatif(
    start: Annotated[str, typer.Option("--from", help="first month, YYYY-MM")],
    end: Annotated[str, typer.Option("--to", help="last month, YYYY-MM")],
    policy_dir: Annotated[list[Path], typer.Option("--policy-dir", help="policy YAML merged after the built-in data (repeatable); "
                                                   "an entry `withdraw: [source]` under a rule removes that notice's entries")],
    fmt: FormatOpt = "json",
    save: Annotated[bool, typer.Option(help="keep the report for the what-if page")] = True,
    database: DatabaseOpt = None,
) -> None:
    """Decide the recorded visits of those months again under the built-in policy plus
    --policy-dir, and report what would have changed by month and insurer kind: visits that
    become self-pay (10割) or stop being, 不詳 claims, claims returned at review. Nothing in the
    registry changes (lookups are not logged; the claims are reviewed in a transaction that is
    rolled back)."""
    from ..claims.models import parse_month
    from ..stats.whatif import whatif as run

    setup(database, None)

    def go() -> None:
        with _progress(sys.stderr.isatty()) as bar:
            report = run(_engine(), parse_month(start, "from"), parse_month(end, "to"), policy_dir, save=save, progress=bar)
        if fmt == "json":
            print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        else:
            _print_whatif(report)

    guard(go)


WHATIF_HEADERS = ("月", "保険者種別", "受診", "変化", "10割に", "10割でなく", "不詳前", "不詳後", "返戻前", "返戻後")


def _print_whatif(report: dict) -> None:
    from ..stats.definitions import KIND_NAMES

    print(f"{report['from']}…{report['to']}  policy: {', '.join(report['policy']['dirs'])}  "
          f"withdrawn: {', '.join(w['source'] for w in report['policy']['withdrawn']) or '—'}")
    print("\t".join(WHATIF_HEADERS))
    for r in report["rows"]:
        print("\t".join(str(x) for x in (r["month"], KIND_NAMES.get(r["insurer_kind"], r["insurer_kind"]), r["visits"], r["changed"],
                                            r["became_self_pay"], r["no_longer_self_pay"], r["unknown_claims_before"], r["unknown_claims_after"],
                                            r["returned_claims_before"], r["returned_claims_after"])))


def bench_stats(
    people: Annotated[int, typer.Option(help="people simulated for a month (the registry must hold at least this many; --seed-people seeds)")] = 1_000_000,
    month: Annotated[str, typer.Option(help="the month simulated, YYYY-MM")] = "2025-12",
    verifications: Annotated[int, typer.Option(help="verifications in the month whose every rate is computed (PostgreSQL)")] = 10_000_000,
    seed_people: Annotated[int, typer.Option(help="seed this many people first if the registry is empty")] = 0,
    workers: Annotated[Optional[int], typer.Option(help="simulation worker processes (default: the cores)")] = None,
    simulate_month: Annotated[bool, typer.Option("--simulate/--no-simulate", help="measure the simulation")] = True,
    rates: Annotated[bool, typer.Option("--rates/--no-rates", help="measure every rate on a month of --verifications")] = True,
    pgbench: Annotated[bool, typer.Option(help="run pgbench -S on the same server for the ratio")] = True,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Simulate a month (visits/s) and compute every rate for a month of N verifications (seconds), with pgbench -S beside them."""
    from ..bench import stats as bench
    from ..registry import db
    from ..registry.seed import seed_registry

    setup(database, today)
    eng = _engine()
    if db.is_empty(eng):
        if not seed_people:
            err.print("[red]the registry is empty: pass --seed-people N to seed it first (with --today after the month)[/red]")
            raise typer.Exit(2)
        summary = seed_registry(eng, people=seed_people, seed=1, progress=sys.stderr.isatty())
        err.print(f"seeded {summary.people:,} people in {summary.seconds:.0f} s")

    def go() -> None:
        report = bench.run(eng, people=people, month=month, verifications=verifications, workers=workers, simulate=simulate_month,
                           rates=rates, pgbench=pgbench, say=err.print)
        bench.print_report(report)
        if json_out:
            with open(json_out, "w", encoding="utf-8") as f:
                json.dump(report, f, ensure_ascii=False, indent=2)

    guard(go)


__all__ = ["bench_stats", "simulate", "stats_app", "whatif"]
