"""`onshi claims build|write|read|copy|review|report|reclaim|reviewer-key`, `onshi bench claims`, `onshi bench review` and `onshi bench uke`."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_common import DatabaseOpt, TodayOpt, engine as _engine, err, guard as _guard, setup as _setup

claims_app = typer.Typer(help="Claims: a month from the desk's visits, 不詳 checks, UKE files, the review (振替・分割・返戻).", no_args_is_help=True)

FacilityOpt = Annotated[str, typer.Option("--facility", "-f", help="医療機関コード")]
MonthOpt = Annotated[str, typer.Option("--month", "-m", help="診療年月 YYYY-MM")]
PayerOpt = Annotated[Optional[str], typer.Option("--payer", help="審査支払機関: 1 支払基金 (社保), 2 国保連 (国保・後期)")]


def _month(value: str, field: str = "--month"):  # noqa: ANN202
    from ..claims.models import parse_month

    return _guard(lambda: parse_month(value, field))


def _print(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _tell_held(held: list[dict]) -> None:
    for claim in held:
        for f in claim["checks"]:
            if f["severity"] == "error":
                err.print(f"held: patient {claim['patient_ref']}: {f['message']}", highlight=False)


@claims_app.command("build")
def build(
    facility: FacilityOpt,
    month: MonthOpt,
    remarks: Annotated[Optional[Path], typer.Option(help="JSON: per patient number, 不詳 remarks learned after the visits (連絡日…)")] = None,
    unknown_insurer: Annotated[str, typer.Option(help="不詳 保険者番号: 77777777, or 77777779 (R-E8)")] = "77777777",
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Build the month's claims from the recorded visits; 不詳 claims are checked (R-E1–E8)."""
    from ..claims import service

    _setup(database, today)
    extra = None
    if remarks is not None:
        try:
            extra = json.loads(remarks.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            err.print(f"[red]error:[/red] --remarks: {exc}")
            raise typer.Exit(2) from None
    engine = _engine()
    result = _guard(lambda: service.build(engine, facility, _month(month), remarks=extra, unknown_insurer=unknown_insurer))
    _tell_held(result["held"])
    _print(result)


@claims_app.command("write")
def write(
    facility: FacilityOpt,
    month: MonthOpt,
    billing_month: Annotated[Optional[str], typer.Option(help="請求年月 YYYY-MM (default: the month after)")] = None,
    payer: PayerOpt = None,
    include_failing: Annotated[bool, typer.Option(help="also file 不詳 claims that fail the checklist")] = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="directory for the UKE files")] = Path("."),
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """File the month's built claims: one UKE file (CP932, CRLF, 西暦) per review body."""
    from ..claims import service

    _setup(database, today)
    engine = _engine()
    billing = _month(billing_month, "--billing-month") if billing_month else None
    result = _guard(lambda: service.write(engine, facility, _month(month), billing_month=billing, payer=payer, include_failing=include_failing))
    _tell_held(result.held)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in result.files:
        path = out / f.filename
        path.write_bytes(f.content)
        written.append({"path": str(path), "payer": f.payer, "claims": f.claims})
    if not result.files:
        err.print("nothing filed: build the month first (`onshi claims build`)")
    _print({"files": written, "held": result.held})


@claims_app.command("read")
def read(
    file: Annotated[str, typer.Argument(help="a UKE file (CP932 or UTF-8), or - for standard input")],
    json_: Annotated[bool, typer.Option("--json", help="print the file as JSON: one object per RE with every record of its claim, the count, the warnings")] = False,
) -> None:
    """Read a UKE file (医科, 歯科 or 調剤; 和暦 or 西暦; CP932 or UTF-8); a malformed one exits 2 with line-numbered errors."""
    from ..claims import service, uke
    from ..claims.uke_layouts import TABLE_NAMES

    data = sys.stdin.buffer.read() if file == "-" else _read_bytes(file)
    if json_:
        _print(_guard(lambda: service.read_file(data)))
        return
    doc = _guard(lambda: uke.read(data))
    h = doc.header
    print(f"{h.facility_code} {h.name}  請求年月 {h.billing_month:%Y-%m}  審査支払機関 {h.payer}  {len(doc.claims)} 件  "
          f"({TABLE_NAMES[doc.layouts.table]} {doc.layouts.revision}, {'和暦' if doc.era else '西暦'}, {doc.text.encoding})")
    for p in doc.claims:
        c = p.claim
        numbers = "-".join(x for x in (c.symbol, c.number, c.branch) if x)
        to = f" → {c.confirmed.insurer_number} {'-'.join(x for x in (c.confirmed.symbol, c.confirmed.number, c.confirmed.branch) if x)}" if c.confirmed else ""
        days = f"{c.days}日" + ("" if c.has_jd else "(JDなし)")
        print(f"  RE {c.receipt_no:>4}  {c.receipt_kind}  {c.care_month:%Y-%m}  {c.name}  {c.insurer_number or '-'} {numbers}  "
              f"{days} {c.points}点  SN {c.confirm_code}{to}{'  不詳' if c.unknown else ''}")
    for w in doc.warnings:
        err.print(f"warning: {w.field}: {w.reason}", highlight=False)
    if doc.warning_count > len(doc.warnings):
        err.print(f"warning: {doc.warning_count - len(doc.warnings)} more warnings not listed", highlight=False)


@claims_app.command("copy")
def copy(
    source: Annotated[str, typer.Argument(help="a UKE file (CP932 or UTF-8, CRLF or LF), or - for standard input")],
    target: Annotated[Path, typer.Argument(help="where to write it")],
) -> None:
    """Read a UKE file and write it back through the model: the same bytes (encoding and line ends kept)."""
    from ..claims import uke

    data = sys.stdin.buffer.read() if source == "-" else _read_bytes(source)
    doc = _guard(lambda: uke.read(data))
    target.write_bytes(doc.to_bytes())
    err.print(f"{target}: {len(doc.claims)} claims, {len(doc.text.records)} records", highlight=False)


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/red] {path}: {exc.strerror}")
        raise typer.Exit(2) from None


@claims_app.command("review")
def review(
    month: Annotated[str, typer.Option("--month", "-m", help="請求年月 YYYY-MM of the claims to review")],
    review_date: Annotated[Optional[str], typer.Option(help="the registry as known on this day (default today)")] = None,
    payer: PayerOpt = None,
    file: Annotated[Optional[list[Path]], typer.Option("--file", help="UKE files to take in first (repeatable)")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="write each facility's report (JSON) and reviewed UKE files here")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """The review body's batch: 変更なし / 振替 / 分割 / 返戻 for the billing month's filed claims."""
    from ..domain.dates import parse_date
    from ..claims import service

    _setup(database, today)
    engine = _engine()
    for path in file or []:
        loaded = _guard(lambda p=path: service.load_file(engine, _read_bytes(str(p))))
        err.print(f"{path}: {loaded['claims']} claims of {loaded['facility_code']} taken in")
    day = _guard(lambda: parse_date(review_date, "--review-date")) if review_date else None
    result = _guard(lambda: service.review(engine, _month(month), day, payer=payer))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        full = service.report(engine, result["run_id"])
        for entry in full["facilities"]:
            code = entry["facility_code"]
            (out / f"review_{result['run_id']}_{code}.json").write_text(json.dumps(entry, ensure_ascii=False, indent=2), encoding="utf-8")
            for f in service.reviewed_files(engine, result["run_id"], code):
                (out / f"REVIEWED_{result['run_id']}_{f.filename}").write_bytes(f.content)
    _print({k: v for k, v in result.items() if k != "facilities"} | {"facilities": len(result["facilities"])})


@claims_app.command("report")
def report(
    run_id: Annotated[int, typer.Argument(help="review run")],
    facility: Annotated[Optional[str], typer.Option("--facility", "-f", help="only this facility")] = None,
    database: DatabaseOpt = None,
) -> None:
    """A review's result per facility: counts, the returns with their reasons, 振替 and 分割."""
    from ..claims import service

    _setup(database, None)
    _print(_guard(lambda: service.report(_engine(), run_id, facility)))


@claims_app.command("reclaim")
def reclaim(
    claim_id: Annotated[int, typer.Argument(help="the returned claim")],
    facility: FacilityOpt,
    billing_month: Annotated[str, typer.Option(help="請求年月 YYYY-MM of the re-claim")],
    insurer: Annotated[Optional[str], typer.Option("--insurer", help="current 保険者番号, when known")] = None,
    symbol: Annotated[Optional[str], typer.Option(help="記号")] = None,
    number: Annotated[Optional[str], typer.Option(help="番号")] = None,
    branch: Annotated[Optional[str], typer.Option(help="枝番")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """再請求: file a returned claim again for a later billing month (once)."""
    from ..claims import service

    _setup(database, today)
    numbers = {"insurer_number": insurer, "symbol": symbol or "", "number": number, "branch": branch or ""} if insurer or number else None
    _print(_guard(lambda: service.reclaim(_engine(), facility, claim_id, _month(billing_month, "--billing-month"), numbers=numbers)))


@claims_app.command("reviewer-key")
def reviewer_key(
    payer: PayerOpt = None,
    label: Annotated[str, typer.Option(help="a name for the key")] = "審査支払機関",
    database: DatabaseOpt = None,
) -> None:
    """Create an API key for the review body: `onshi keys create --role reviewer --subject 1|2|all`."""
    from .cli_keys import create

    if payer not in (None, "1", "2"):
        raise typer.BadParameter("must be 1 or 2", param_hint="--payer")
    create("reviewer", payer or "all", label, database)


def bench_claims(
    claims: Annotated[int, typer.Option("--claims", "-n", help="claims in the reviewed month")] = 1_000_000,
    unknown: Annotated[int, typer.Option(help="of which 不詳 claims")] = 1_000,
    seed: Annotated[int, typer.Option(help="random seed of the generated claims")] = 1,
    keep: Annotated[bool, typer.Option(help="keep the generated claims and the review afterwards")] = False,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Review throughput: N claims against the seeded registry, claims/s, and the national month (143,000,000)."""
    from .. import config
    from ..bench import claims as bench

    from ..registry.db import make_engine, migrate

    _setup(database, today)
    engine = make_engine()
    if engine.dialect.name != "postgresql":  # PostgreSQL: a scratch schema, the registry's migrations untouched
        migrate(engine)
    report = _guard(lambda: bench.run(engine, claims=claims, unknown=unknown, seed=seed, keep=keep, progress=err))
    bench.print_report(report | {"database": config.database_url().split("@")[-1]})
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)


def bench_review(
    people: Annotated[int, typer.Option("--people", help="people in the generated registry (an empty database; reused afterwards)")] = 1_000_000,
    claims: Annotated[int, typer.Option("--claims", "-n", help="claims in the reviewed month")] = 1_430_000,
    unknown: Annotated[Optional[int], typer.Option(help="of which 不詳 claims (default: a tenth of the nation's 651 a month, scaled)")] = None,
    slices: Annotated[str, typer.Option(help="none (one run) | payer (one run per review body) | prefecture (one per facility prefecture)")] = "none",
    seed: Annotated[int, typer.Option(help="random seed of the generated registry and claims")] = 1,
    work_mem: Annotated[str, typer.Option(help="PostgreSQL work_mem of the review: what each hash or sort may hold before it spills to disk")] = "256MB",
    keep: Annotated[bool, typer.Option(help="keep the generated claims and the review afterwards")] = False,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """The month's review at scale (PostgreSQL): a registry and a month of claims generated in the
    database, reviewed whole or in slices; claims/s, peak memory, disk spill, the national month;
    the bare join of step 1 timed in the same run for the ratio."""
    from .. import config
    from ..bench import review_scale as bench
    from ..registry.db import make_engine

    _setup(database, today)
    engine = make_engine()
    if engine.dialect.name != "postgresql":
        err.print("[red]onshi bench review needs PostgreSQL (--database postgresql://…, an empty database of its own)[/red]")
        raise typer.Exit(2)
    if slices not in bench.SLICES:
        err.print(f"[red]error:[/red] --slices: one of {', '.join(bench.SLICES)}")
        raise typer.Exit(2)
    if not re.fullmatch(r"[0-9]+(kB|MB|GB)", work_mem):
        err.print("[red]error:[/red] --work-mem: a PostgreSQL size such as 64MB or 1GB")
        raise typer.Exit(2)
    unknown = round(651 * claims / 14_300_000 * 10) if unknown is None else unknown
    report = _guard(lambda: bench.run(engine, people=people, claims=claims, unknown=unknown, seed=seed, slices=slices, keep=keep,
                                      work_mem=work_mem, say=lambda m: err.print(m, highlight=False)))
    bench.print_report(report | {"database": config.database_url().split("@")[-1]})
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)


def bench_uke(
    claims: Annotated[int, typer.Option("--claims", "-n", help="claims in the generated 医科 file")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed of the generated file")] = 1,
    repeat: Annotated[int, typer.Option(help="runs of each step; the best is reported")] = 2,
    json_out: Annotated[Optional[str], typer.Option("--json", help="also write the figures to this file")] = None,
) -> None:
    """Claim files: read and write MB/s and claims/s on a generated 医科 file with detail records, against decode+split."""
    from ..bench import uke as bench

    report = bench.run(claims=claims, seed=seed, repeat=repeat, progress=err)
    bench.print_report(report)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)
