"""The `onshi` command."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from .. import config

app = typer.Typer(help="onshi — オンライン資格確認等システム (registry, lookups, demo data)", no_args_is_help=True, add_completion=False)
lookup_app = typer.Typer(help="Look a patient up as a facility would (RULES F.1).", no_args_is_help=True)
app.add_typer(lookup_app, name="lookup")
bench_app = typer.Typer(help="Benchmarks: speed is measured here, not asserted in tests.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
from .oqs_xml.cli import terminal_app  # noqa: E402

app.add_typer(terminal_app, name="terminal")
from .cli_frontdesk import cases_app, decide, policy_app  # noqa: E402

app.command("decide")(decide)
app.add_typer(cases_app, name="cases")
app.add_typer(policy_app, name="policy")
from .cli_claims import bench_claims, bench_review, bench_uke, claims_app  # noqa: E402
from .cli_keys import keys_app  # noqa: E402

app.add_typer(keys_app, name="keys")

app.add_typer(claims_app, name="claims")
bench_app.command("claims")(bench_claims)
bench_app.command("review")(bench_review)
from .cli_issuance import bench_issuance, issuance_app  # noqa: E402

app.add_typer(issuance_app, name="issuance")
bench_app.command("issuance")(bench_issuance)
bench_app.command("uke")(bench_uke)
from .cli_stats import bench_stats, simulate, stats_app, whatif  # noqa: E402

app.add_typer(stats_app, name="stats")
app.command("simulate")(simulate)
app.command("whatif")(whatif)
bench_app.command("stats")(bench_stats)
from .cli_common import DatabaseOpt, TodayOpt, err, guard as _guard, setup as _setup  # noqa: E402
from .cli_common import engine as _engine  # noqa: E402


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    people: Annotated[int, typer.Option(help="demo population seeded into an empty database")] = 3000,
    seed: Annotated[int, typer.Option(help="seed of the demo population")] = 1,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Create the schema, seed a demo population if the database is empty, and serve.

    On an address other than loopback it refuses to start with the development 個人番号 key
    or without ONSHI_SESSION_SECRET. On a demo database (seeded by onshi) it prints fresh demo
    keys on every start; the keys of a production database come from `onshi keys create`."""
    import uvicorn

    from ..registry import db
    from ..registry.seed import seed_registry

    _setup(database, today)
    refusals = serve_refusals(host)
    if refusals:
        err.print(f"[red]refusing to serve on {host}:[/red] a non-loopback address needs production secrets:", highlight=False)
        for reason in refusals:
            err.print(f"  - {reason}", highlight=False)
        err.print("Set them (see README, Production), or serve on 127.0.0.1 behind a TLS proxy.", highlight=False)
        raise typer.Exit(2)
    if config.using_dev_key():
        err.print("[yellow]ONSHI_MYNUMBER_KEY is not set: 個人番号 are hashed with the development key (demo only).[/yellow]")
    engine = _engine()
    if db.is_empty(engine):
        err.print(f"空のデータベースにデモ用の {people:,} 人を登録します（seed {seed}）…")
        seed_registry(engine, people=people, seed=seed, progress=sys.stderr.isatty())
    _print_demo_keys(engine, seed)
    err.print("統計（/stats）: `onshi keys create --role analyst` で分析者の鍵を作り、`onshi simulate --from 2025-10 --to 2025-12` で受診を作成します。")
    engine.dispose()
    url = f"http://{host}:{port}/"
    print(f"onshi serving on {url}  (API docs: {url}docs, today: {config.today().isoformat()}, database: {config.database_url()})", flush=True)
    if workers > 1:  # the workers watch this process and leave with it, even after a kill -9 (server.py)
        os.environ["ONSHI_SUPERVISOR_PID"] = str(os.getpid())
    from .http.server import PROTOCOL

    uvicorn.run(
        "onshi.interfaces.http.server:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning",
        access_log=False, timeout_graceful_shutdown=10, http=PROTOCOL,
    )


MIN_SECRET = 32


def serve_refusals(host: str) -> list[str]:
    """Why `serve` must not listen on `host` as configured (nothing on a loopback address)."""
    if is_loopback(host):
        return []
    out = []
    key = os.environ.get("ONSHI_MYNUMBER_KEY", "")
    if not key or key == config.DEV_MYNUMBER_KEY:
        out.append("ONSHI_MYNUMBER_KEY is not set: 個人番号 would be hashed with the public development key")
    elif len(key) < MIN_SECRET:
        out.append(f"ONSHI_MYNUMBER_KEY is shorter than {MIN_SECRET} characters")
    secret = os.environ.get("ONSHI_SESSION_SECRET", "")
    if not secret:
        out.append("ONSHI_SESSION_SECRET is not set (the pages' session cookies are signed with it)")
    elif len(secret) < MIN_SECRET:
        out.append(f"ONSHI_SESSION_SECRET is shorter than {MIN_SECRET} characters")
    return out


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


@app.command("seed")
def seed_cmd(
    people: Annotated[int, typer.Option("--people", "-n", help="number of people")] = 3000,
    seed: Annotated[int, typer.Option(help="random seed (the same seed gives the same population)")] = 1,
    sample: Annotated[int, typer.Option(help="also print K seeded people as JSON lines")] = 0,
    reset: Annotated[bool, typer.Option(help="drop and recreate the registry first")] = False,
    history: Annotated[bool | None, typer.Option(
        "--history/--no-history", help="write the insurers' issuance runs since 2024-12 (default: up to 1,000,000 people)")] = None,
    workers: Annotated[int | None, typer.Option(help="PostgreSQL: processes generating and COPYing chunks (default: one per core)")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Seed a deterministic, realistic population (insurers, facilities, people, cards…)."""
    from ..registry import db
    from ..registry.seed import sample_people, seed_registry

    _setup(database, today)
    engine = _engine()
    if reset:
        db.reset(engine)
    if not db.is_empty(engine):
        err.print("[red]the registry is not empty; use --reset to replace it[/red]")
        raise typer.Exit(2)
    try:
        summary = seed_registry(engine, people=people, seed=seed, progress=sys.stderr.isatty(), history=history, workers=workers)
    except RuntimeError as exc:  # another seed running, or one that finished first
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    err.print(
        f"{summary.people:,} people, {summary.qualifications:,} qualifications, {summary.cards:,} cards, "
        f"{summary.documents:,} documents, {summary.insurers:,} insurers, {summary.facilities:,} facilities "
        f"in {summary.seconds:.1f} s ({summary.rows:,} rows"
        + (f"; the issuance history since 2024-12 {summary.history_seconds:.1f} s of it)" if summary.history_seconds is not None else ")")
    )
    for row in sample_people(engine, sample, seed=seed) if sample else []:
        print(json.dumps(row, ensure_ascii=False))


def _print_demo_keys(engine, seed: int) -> None:  # noqa: ANN001
    """On a demo database (seeded by onshi): fresh keys for the demo facility and insurer and
    a few seeded people to try (the earlier demo keys stop working). Nothing otherwise."""
    from ..registry.keys import attach_keys, get_setting
    from ..registry.seed import DEMO_INSURER, sample_people

    code = get_setting(engine, "demo_facility")
    if not code:
        return
    demo = {"facility_code": code, "insurer_number": DEMO_INSURER}
    people = sample_people(engine, 3, seed=seed)
    attach_keys(engine, [demo, *people], "demo")
    err.print(
        f"デモ用の鍵（この起動で作成、以前のデモ用の鍵は無効）: 施設 {code} X-API-Key: {demo['facility_key']}\n"
        f"           保険者 {DEMO_INSURER} X-API-Key: {demo['insurer_key']}"
    )
    if people:
        err.print("試せる患者（カード番号・被保険者番号等）と施設の鍵:")
    for p in people:
        err.print(
            f"  card_serial={p['card_serial']}  保険者番号={p['insurer_number']} 記号={p['symbol']} 番号={p['number']} "
            f"枝番={p['branch']} 生年月日={p['birth_date']}  施設={p['facility_code']} X-API-Key: {p['facility_key']}"
        )


def _print_result(result) -> None:  # noqa: ANN001
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))


FacilityOpt = Annotated[str, typer.Option("--facility", "-f", help="医療機関コード of the facility asking (logged)")]


@lookup_app.command("card")
def lookup_card(
    serial: Annotated[str, typer.Argument(help="card serial")],
    facility: FacilityOpt,
    identity: Annotated[str, typer.Option(help="face | pin | visual | none")] = "face",
    date: Annotated[Optional[str], typer.Option(help="as of this day (default today)")] = None,
    limit_consent: Annotated[bool, typer.Option(help="the patient consents to 限度額 data")] = False,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """資格確認 by My Number card."""
    _setup(database, today)
    from ..domain.dates import parse_date

    registry = _registry(facility)
    _guard(lambda: _print_result(
        registry.lookup_by_card(facility, serial, identity=identity, day=parse_date(date, "date") if date else None, limit_consent=limit_consent, channel="cli")
    ))


@lookup_app.command("numbers")
def lookup_numbers(
    facility: FacilityOpt,
    insurer: Annotated[str, typer.Option("--insurer", help="保険者番号")],
    number: Annotated[str, typer.Option("--number", help="番号")],
    birth_date: Annotated[str, typer.Option("--birth-date", help="生年月日 YYYY-MM-DD")],
    symbol: Annotated[Optional[str], typer.Option("--symbol", help="記号")] = None,
    branch: Annotated[Optional[str], typer.Option("--branch", help="枝番")] = None,
    date: Annotated[Optional[str], typer.Option(help="as of this day (default today)")] = None,
    limit_consent: Annotated[bool, typer.Option(help="the patient consents to 限度額 data")] = False,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """資格確認 by 被保険者番号等 and birth date."""
    _setup(database, today)
    from ..domain.dates import parse_date
    from ..registry.service import parse_number_query

    registry = _registry(facility)

    def run() -> None:
        query = parse_number_query(insurer, symbol, number, branch, birth_date)
        _print_result(registry.lookup_by_numbers(facility, query, day=parse_date(date, "date") if date else None, limit_consent=limit_consent, channel="cli"))

    _guard(run)


def _registry(facility: str | None = None):  # noqa: ANN202
    from ..registry.service import Registry

    registry = Registry(_engine())
    if facility is not None and registry.facility(facility) is None:
        err.print(f"[red]error:[/red] --facility: unknown facility {facility}")
        raise typer.Exit(2)
    return registry



@bench_app.command("lookup")
def bench_lookup(
    seconds: Annotated[float, typer.Option(help="duration of each measurement")] = 10,
    sample: Annotated[int, typer.Option(help="distinct people to look up")] = 2000,
    people: Annotated[int, typer.Option(help="seed this many people first if the registry is empty")] = 0,
    seed: Annotated[int, typer.Option(help="the seed the registry was (or will be) seeded with")] = 1,
    processes: Annotated[int, typer.Option(help="in-process, one lookup after another: parallel processes")] = 1,
    workers: Annotated[Optional[list[int]], typer.Option(help="HTTP: uvicorn workers (repeat for several servers; default: half the cores, and the cores)")] = None,
    connections: Annotated[Optional[list[int]], typer.Option(help="HTTP: concurrent connections (repeat for several runs; the first is also the in-process concurrency and pgbench's clients)")] = None,
    http: Annotated[bool, typer.Option(help="measure over HTTP too")] = True,
    pgbench: Annotated[bool, typer.Option(help="run pgbench -S on the same server (PostgreSQL)")] = True,
    split: Annotated[bool, typer.Option(help="time the phases of a lookup on the event loop (PostgreSQL)")] = True,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Lookups/s and p50/p99 by card and by numbers, in-process (one after another, and many in
    flight on the event loop) and over HTTP (wrk when installed), with pgbench -S in the same run."""
    from ..bench import lookup as bench
    from ..registry import db
    from ..registry.seed import seed_registry

    _setup(database, today)
    engine = _engine()
    if db.is_empty(engine):
        if not people:
            err.print("[red]the registry is empty: pass --people N to seed it first[/red]")
            raise typer.Exit(2)
        summary = seed_registry(engine, people=people, seed=seed, progress=sys.stderr.isatty())
        err.print(f"seeded {summary.people:,} people in {summary.seconds:.0f} s")
    engine.dispose()
    report = bench.run(config.database_url(), seed=seed, sample=sample, seconds=seconds, processes=processes, workers=tuple(workers or ()),
                       connections=tuple(connections or (32,)), http=http, pgbench=pgbench, split=split)
    bench.print_report(report)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)


@bench_app.command("national")
def bench_national(
    seconds: Annotated[float, typer.Option(help="how long the load runs")] = 60,
    rate: Annotated[Optional[str], typer.Option(help="lookups/s asked (open loop), or 'max' (closed loop); default: the nation's peak scaled to the registry × --headroom")] = None,
    headroom: Annotated[float, typer.Option(help="the default rate: the scaled national peak times this")] = 10,
    card_share: Annotated[float, typer.Option(help="share of lookups by card (default: seed 002, 2025-12)")] = 0.4773,
    write_share: Annotated[float, typer.Option(help="insurer writes per lookup")] = 0.1,
    connections: Annotated[int, typer.Option(help="lookup connections (also pgbench -S's clients)")] = 32,
    write_connections: Annotated[int, typer.Option(help="insurer connections")] = 16,
    workers: Annotated[Optional[int], typer.Option(help="uvicorn workers (default: one per core the database leaves free)")] = None,
    sample: Annotated[int, typer.Option(help="distinct seeded people to look up")] = 2000,
    seed: Annotated[int, typer.Option(help="the seed the registry was seeded with (sampling)")] = 1,
    job: Annotated[bool, typer.Option(help="run today's issuance run (every insurer) during the load")] = True,
    job_timeout: Annotated[float, typer.Option(help="seconds after the load the issuance run may take before it is stopped (and reported as far as it got)")] = 60,
    pgbench: Annotated[bool, typer.Option(help="run pgbench -S on the same server afterwards")] = True,
    pgbench_seconds: Annotated[float, typer.Option(help="duration of pgbench -S")] = 10,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the report to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """The peak hour: lookups by card and by numbers at a constant rate while insurers register
    acquisitions and changes and an issuance run goes on; p50/p99/p99.9, errors (exit 1 if any),
    database size per million people, pgbench -S on the same server. Every write is undone."""
    from ..bench import national as bench

    _setup(database, today)
    _engine().dispose()
    if rate is not None and rate != "max":
        try:
            asked: float | str | None = float(rate)
        except ValueError:
            raise typer.BadParameter(f"'{rate}' is neither a number nor 'max'", param_hint="--rate") from None
        if asked <= 0:
            raise typer.BadParameter("must be positive", param_hint="--rate")
    else:
        asked = rate
    try:
        report = bench.run(config.database_url(), seconds=seconds, rate=asked, headroom=headroom, card_share=card_share, write_share=write_share,
                           connections=connections, write_connections=write_connections, workers=workers, sample=sample, seed=seed, job=job, job_timeout=job_timeout,
                           pgbench=pgbench, pgbench_seconds=pgbench_seconds, say=lambda m: err.print(m, highlight=False))
    except RuntimeError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    bench.print_report(report)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)
    if report["errors"]:
        raise typer.Exit(1)


@bench_app.command("decide")
def bench_decide(
    cases: Annotated[Optional[list[str]], typer.Argument(help="case files for the in-process figure (default: tests/cases/*.yaml)")] = None,
    seconds: Annotated[float, typer.Option(help="duration of each measurement")] = 10,
    sample: Annotated[int, typer.Option(help="distinct seeded people for the HTTP figure")] = 1000,
    seed: Annotated[int, typer.Option(help="the seed the registry was seeded with")] = 1,
    workers: Annotated[Optional[int], typer.Option(help="uvicorn workers (default: cores)")] = None,
    connections: Annotated[int, typer.Option(help="HTTP: concurrent connections")] = 16,
    http: Annotated[bool, typer.Option(help="measure POST /frontdesk/visits on the live registry too")] = True,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Front-desk decisions per second: in-process on case files, over HTTP on the live registry."""
    from pathlib import Path

    from ..bench import decide as bench
    from ..bench.lookup import print_report

    _setup(database, today)
    files = [Path(c) for c in cases] if cases else sorted(p for p in Path("tests/cases").glob("*.yaml") if not p.name.startswith("issuance"))
    if http:
        _engine().dispose()
    report = bench.run(config.database_url(), files, seed=seed, sample=sample, seconds=seconds, workers=workers, connections=connections, http=http)
    print_report(report | {"title": f"front-desk decisions — {report['database']}, {os.cpu_count()} cores"})


@bench_app.command("xml")
def bench_xml(
    bulk: Annotated[int, typer.Option(help="patients in the bulk inquiry")] = 10_000,
    singles: Annotated[int, typer.Option(help="single-inquiry files dropped at once")] = 1_000,
    seconds: Annotated[float, typer.Option(help="duration of the one-at-a-time and HTTP measurements")] = 10,
    interval: Annotated[float, typer.Option(help="the terminal's polling interval (seconds)")] = 0.01,
    people: Annotated[int, typer.Option(help="seed this many people first if the registry is empty")] = 0,
    seed: Annotated[int, typer.Option(help="the seed the registry was (or will be) seeded with")] = 1,
    http: Annotated[bool, typer.Option(help="measure over HTTP too")] = True,
    connections: Annotated[int, typer.Option(help="HTTP: concurrent connections")] = 16,
    workers: Annotated[Optional[int], typer.Option(help="HTTP: uvicorn workers (default: cores)")] = None,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """The facility XML interface: a bulk inquiry end to end through the folder, single inquiries/s through the folder and over HTTP."""
    from ..bench import xml as bench
    from ..registry import db
    from ..registry.seed import seed_registry

    _setup(database, today)
    engine = db.make_engine()
    if db.is_empty(engine):
        if not people:
            err.print("[red]the registry is empty: pass --people N to seed it first[/red]")
            raise typer.Exit(2)
        db.migrate(engine)
        summary = seed_registry(engine, people=people, seed=seed, progress=sys.stderr.isatty())
        err.print(f"seeded {summary.people:,} people in {summary.seconds:.0f} s")
    engine.dispose()
    report = bench.run(config.database_url(), seed=seed, bulk=bulk, singles=singles, seconds=seconds, interval=interval, http=http,
                       connections=connections, workers=workers)
    bench.print_report(report)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)


@bench_app.command("seed")
def bench_seed(
    people: Annotated[int, typer.Option("--people", "-n", help="people to seed (the database is reset first)")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    workers: Annotated[Optional[int], typer.Option(help="processes generating and COPYing (default: one per core)")] = None,
    history: Annotated[Optional[bool], typer.Option("--history/--no-history", help="write the issuance history (default: up to 1,000,000 people)")] = None,
    pgbench_scale: Annotated[Optional[int], typer.Option(help="pgbench -i scale (default: the seed's rows / 100,000)")] = None,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """The seed's rows/s and people/s beside `pgbench -i` of a similar size and `pgbench -S`, same run. RESETS the database."""
    from ..bench import seed as bench

    _setup(database, today)
    report = bench.run(config.database_url(), people=people, seed=seed, today=config.today(), workers=workers, history=history,
                       pgbench_scale=pgbench_scale)
    bench.print_report(report)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)


def main() -> None:
    app()
