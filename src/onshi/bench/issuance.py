"""`onshi bench issuance` (first half of issue 12): the pure parts of an issuance run, without
a database — decisions/s of the batch engine on synthetic members shaped like the annual
run (every 後期 member renews for 2026-08-01, 国保 certificates end 07-31, employee members
with events), and PDF pages/s of a mixed run printed into one PDF. Each figure comes with a
reference measured in the same run: building the members (what reading the rows costs at
the least) and reportlab printing one line per page (the library's floor).

With a database (issue 12, second half): `registry_figures` seeds a registry as of the day
before the heavy day (with the history of runs), runs the issuance of that day over every
insurer (members/s, documents/s, its phases), prints part of what it sent from the registry's
rows (pages/s, in one and in several processes), with pgbench -S on the same server."""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from dataclasses import asdict
from pathlib import Path

from .lookup import Figure

D = dt.date.fromisoformat


def synthetic_members(n: int, day: dt.date, seed: int = 1) -> tuple[list, dict, dict]:
    """(members, insurers by number, member id → insurer number): 16 % 後期, 20 % 国保, the rest employee insurers."""
    from ..issuance import Application, Card, Event, HeldDocument, Insurer, InsurerOptions, Member, Qualification

    rng = random.Random(seed)
    insurers = {
        "39131156": Insurer("39131156", "kouki"), "138107": Insurer("138107", "kokuho"), "01130012": Insurer("01130012", "kyokai"),
        "06139984": Insurer("06139984", "kumiai", InsurerOptions(certificate_years=4)), "133041": Insurer("133041", "kokuho", InsurerOptions(certificate_to_all=True)),
    }
    members, insurer_of = [], {}
    for i in range(n):
        pick = rng.random()
        number = "39131156" if pick < 0.16 else ("138107" if pick < 0.34 else "133041" if pick < 0.36 else "01130012" if pick < 0.75 else "06139984")
        kouki = number.startswith("39")
        birth = D("1930-01-01") + dt.timedelta(days=rng.randrange(0, 365 * 20)) if kouki else D("1952-01-01") + dt.timedelta(days=rng.randrange(0, 365 * 70))
        card = None
        if rng.random() < 0.8:
            issued = D("2020-09-01") + dt.timedelta(days=rng.randrange(0, 365 * 6))  # certificates expire 2025-09 … 2031
            cert = issued + dt.timedelta(days=365 * 5)
            card = Card(issued, issued + dt.timedelta(days=365 * 10), cert, issued + dt.timedelta(days=rng.randrange(0, 200)) if rng.random() < 0.85 else None)
        docs, events = [], []
        if kouki or number in ("138107", "133041"):
            kind = "eligibility_certificate" if kouki or card is None else "notice"
            docs.append(HeldDocument(f"d{i}", kind, D("2025-07-10"), D("2025-08-01"), D("2026-07-31")))
        else:  # the FY2024 お知らせ; a certificate for those who had no usable card at the 2025-12 switch
            docs.append(HeldDocument(f"d{i}", "notice", D("2024-10-01"), D("2024-10-01"), None))
            if card is None or card.insurance_registered is None or card.cert_expires < D("2025-09-01"):
                docs.append(HeldDocument(f"c{i}", "eligibility_certificate", D("2025-11-20"), D("2025-12-02"), D("2030-11-30")))
            if rng.random() < 0.1:
                events.append(Event(rng.choice(["numbers_changed", "name_changed", "registration_done"]), day - dt.timedelta(days=rng.randrange(0, 10))))
        application = Application(D("2026-05-01"), rng.choice(["care", "other", "card_lost"])) if rng.random() < 0.03 else None
        members.append(Member(f"m{i}", birth, Qualification(D("2015-04-01"), None, 0.1 if kouki else None), card, rng.random() < 0.97,
                              rng.random() < 0.002, application, tuple(docs), tuple(events)))
        insurer_of[f"m{i}"] = number
    return members, insurers, insurer_of


def decide_figures(n: int, day: dt.date, seed: int) -> list[Figure]:
    from ..issuance import IssuanceEngine
    from ..policy import load_policy

    t0 = time.perf_counter()
    members, insurers, insurer_of = synthetic_members(n, day, seed)
    build = time.perf_counter() - t0
    engine = IssuanceEngine(load_policy())
    t0 = time.perf_counter()
    decisions = engine.decide_many(members, insurers, day, insurer_of=insurer_of)
    elapsed = time.perf_counter() - t0
    sent = sum(d.sends for d in decisions)
    kinds = {k: sum(k in d.issue for d in decisions) for k in ("eligibility_certificate", "notice", "registration_notice")}
    return [
        Figure("decide_many (pure engine, 1 process)", n, elapsed, n / elapsed, None, None,
               f"{sent:,} members get a document: {kinds['eligibility_certificate']:,} 資格確認書, {kinds['notice']:,} お知らせ, {kinds['registration_notice']:,} 登録完了"),
        Figure("reference: building the members", n, build, n / build, None, None, "dataclasses from random values (the floor of reading rows)"),
    ]


def print_figures(pages: int, day: dt.date, seed: int, output: Path | None) -> list[Figure]:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from ..issuance.printing import load_fonts, render_pdf
    from ..issuance.printing.fonts import MINCHO
    from ..issuance.printing.samples import bulk_documents

    load_fonts()
    documents = bulk_documents(pages, day, seed)
    render_pdf(documents[:20])  # warm up
    t0 = time.perf_counter()
    result = render_pdf(documents)
    elapsed = time.perf_counter() - t0
    if output is not None:
        output.write_bytes(result.pdf)
    t0 = time.perf_counter()
    canvas = Canvas(io.BytesIO(), pagesize=A4, pageCompression=1)
    for d in documents:
        canvas.setFont(MINCHO, 12)
        canvas.drawString(72, 720, f"{d.member.name} 様")
        canvas.showPage()
    canvas.save()
    floor = time.perf_counter() - t0
    return [
        Figure("render_pdf (one PDF, postal-code order)", result.pages, elapsed, result.pages / elapsed, None, None,
               f"{len(result.pdf) / 1e6:.1f} MB, {len(result.pdf) / max(result.pages, 1) / 1e3:.1f} kB/page, {len(result.warnings)} warnings"),
        Figure("reference: reportlab, one line per page", len(documents), floor, len(documents) / floor, None, None, "same fonts, one drawString per page"),
    ]


def run(*, members: int, pages: int, day: dt.date, seed: int = 1, output: Path | None = None) -> dict:
    figures = []
    if members:
        figures += decide_figures(members, day, seed)
    if pages:
        figures += print_figures(pages, day, seed, output)
    return {"day": day.isoformat(), "members": members, "pages": pages, "figures": [asdict(f) for f in figures]}


def print_report(report: dict) -> None:
    from .lookup import print_report as table

    table(report | {"title": report.get("title", "issuance")})
    figures = {f["name"]: f for f in report["figures"]}
    render = figures.get("render_pdf (one PDF, postal-code order)")
    floor = figures.get("reference: reportlab, one line per page")
    if render and floor:
        from rich.console import Console

        Console().print(f"printing: {render['per_second']:,.0f} pages/s = {render['per_second'] / floor['per_second']:.0%} of reportlab's one-line floor (direction: ≥ 200 pages/s)")


# ---------------------------------------------------------------- the run over the registry (issue 12, second half)

HEAVY_DAY = dt.date(2026, 7, 1)  # the run that sends every 後期 and 国保 document of 2026-08-01 (the renewal window opens on 07-01)


def undo_runs(engine, since: dt.date) -> int:  # noqa: ANN001
    """BENCHMARK ONLY: forget the runs on or after `since` (their documents deleted, the ends they
    set restored, their application decisions cleared), so that the same heavy day can be run
    again on the same seeded registry. Never used by onshi itself."""
    from sqlalchemy import text

    with engine.begin() as conn:
        runs = [r[0] for r in conn.execute(text("SELECT id FROM issuance_run WHERE run_date >= :d ORDER BY id DESC"), {"d": since})]
        for run_id in runs:
            undo_run(conn, run_id)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE document"))
    return len(runs)


def undo_run(conn, run_id: int) -> None:  # noqa: ANN001
    """BENCHMARK ONLY: forget one run (see undo_runs), inside the caller's transaction."""
    from sqlalchemy import text

    params = {"r": run_id}
    conn.execute(text("UPDATE document SET expires = (SELECT e.previous_expires FROM document_end e WHERE e.document_id = document.id "
                      "AND e.run_id = :r) WHERE id IN (SELECT document_id FROM document_end WHERE run_id = :r)"), params)
    conn.execute(text("DELETE FROM document_end WHERE run_id = :r OR replaced_by IN (SELECT id FROM document WHERE run_id = :r)"), params)
    conn.execute(text("DELETE FROM document WHERE run_id = :r"), params)
    conn.execute(text("UPDATE certificate_application SET decision = NULL, decided = NULL, decided_run = NULL WHERE decided_run = :r"), params)
    conn.execute(text("DELETE FROM issuance_run WHERE id = :r"), params)


def registry_figures(url: str, *, people: int, seed: int, day: dt.date, workers: int, pages: int, print_workers: int,
                     pgbench: bool, progress: bool) -> tuple[list[Figure], dict]:
    """Seed (when empty, as of the day before `day`, with the history of runs), run the issuance of
    `day` over every insurer, print a part of what it sent; pgbench -S for the ratio."""
    from sqlalchemy import text

    from ..issuance.run import Progress, run_issuance
    from ..registry import db
    from ..registry.seed import seed_registry

    engine = db.make_engine(url)
    db.migrate(engine)
    info: dict = {"database": url.rsplit("@", 1)[-1], "day": day.isoformat()}
    figures: list[Figure] = []
    if db.is_empty(engine):
        if not people:
            raise SystemExit("the registry is empty: pass --people N to seed it")
        t0 = time.perf_counter()
        summary = seed_registry(engine, people, seed=seed, today=day - dt.timedelta(days=1), progress=progress)
        info["seeded"] = {"people": summary.people, "seconds": round(time.perf_counter() - t0, 1)}
    info["undone_runs"] = undo_runs(engine, day)
    with engine.connect() as conn:
        members = conn.execute(text("SELECT COUNT(*) FROM qualification WHERE notified IS NULL OR notified <= :d"), {"d": day}).scalar_one()
        info["seed_history"] = conn.execute(text("SELECT COUNT(*), MIN(run_date), MAX(run_date) FROM issuance_run")).one()._asdict()
    info["members"] = members
    result = run_issuance(engine, day, origin="cli", workers=workers, progress=Progress())
    docs = sum(result.tally.documents.values())
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in (result.phases or {}).items())
    figures += [
        Figure(f"issuance run {day.isoformat()}, all insurers ({workers} process{'es' if workers > 1 else ''})", members, result.seconds,
               members / result.seconds, None, None, f"{members:,} members in the registry; {result.candidates:,} selected in SQL and decided; {phases}"),
        Figure("  members decided (the SQL's candidates)", result.candidates, result.seconds, result.candidates / result.seconds, None, None,
               f"{result.tally.sent:,} sent something"),
        Figure("  documents recorded", docs, result.seconds, docs / result.seconds, None, None,
               ", ".join(f"{k} {v:,}" for k, v in sorted(result.tally.documents.items())) + f"; {sum(result.tally.ends.values()):,} ends (R-I7)"),
    ]
    info["run"] = result.to_json()
    if pages:
        figures += _print_run(engine, result.id, min(pages, docs), print_workers, day)
    if pgbench:
        from .lookup import pgbench_select

        fig = pgbench_select(url, 10, clients=8, threads=2)
        if fig is not None:
            figures.append(fig)
    engine.dispose()
    return figures, info


def _print_part(url: str, run_id: int, part: int, per_file: int) -> tuple[int, float]:
    from ..issuance.documents import run_pdf_part
    from ..issuance.printing import load_fonts
    from ..registry import db

    load_fonts()
    engine = db.make_engine(url, pool_size=1)
    t0 = time.perf_counter()
    result = run_pdf_part(engine, run_id, part, per_file=per_file)
    engine.dispose()
    return (result.pages if result else 0), time.perf_counter() - t0


def _print_run(engine, run_id: int, pages: int, workers: int, day: dt.date) -> list[Figure]:  # noqa: ANN001
    """The run's first `pages` documents in post-room order, read from the registry and printed:
    in one process, then split over `workers` processes; reportlab's one-line floor beside."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from ..issuance.documents import run_pdf_part
    from ..issuance.printing import load_fonts
    from ..issuance.printing.fonts import MINCHO

    load_fonts()
    url = engine.url.render_as_string(hide_password=False)
    t0 = time.perf_counter()
    result = run_pdf_part(engine, run_id, 1, per_file=pages)
    one = time.perf_counter() - t0
    figures = [Figure("run PDF from registry rows (1 process)", result.pages, one, result.pages / one, None, None,
                      f"{len(result.pdf) / 1e6:.1f} MB, {len(result.warnings)} warnings, {len(result.held_back)} held back")]
    if workers > 1:
        per = (pages + workers - 1) // workers
        t0 = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            done = list(pool.map(_print_part, [url] * workers, [run_id] * workers, range(1, workers + 1), [per] * workers))
        wall = time.perf_counter() - t0
        printed = sum(n for n, _ in done)
        figures.append(Figure(f"run PDF from registry rows ({workers} processes, parts of {per:,})", printed, wall, printed / wall, None, None,
                              "spawned processes, each reads and prints its part"))
    t0 = time.perf_counter()
    canvas = Canvas(io.BytesIO(), pagesize=A4, pageCompression=1)
    for _ in range(result.pages):
        canvas.setFont(MINCHO, 12)
        canvas.drawString(72, 720, "山田 太郎 様")
        canvas.showPage()
    canvas.save()
    floor = time.perf_counter() - t0
    figures.append(Figure("reference: reportlab, one line per page", result.pages, floor, result.pages / floor, None, None, "same fonts"))
    return figures
