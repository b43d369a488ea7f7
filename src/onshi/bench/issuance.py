"""`onshi bench issuance` (first half of issue 12): the pure parts of an issuance run, without
a database — decisions/s of the batch engine on synthetic members shaped like the annual
run (every 後期 member renews for 2026-08-01, 国保 certificates end 07-31, employee members
with events), and PDF pages/s of a mixed run printed into one PDF. Each figure comes with a
reference measured in the same run: building the members (what reading the rows costs at
the least) and reportlab printing one line per page (the library's floor)."""

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
