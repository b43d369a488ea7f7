"""Printing what a run recorded, from the registry's rows (issue 12 item 5).

    files = write_run_pdfs(engine, run_id, Path("out"))         # the whole run, numbered PDFs of 5,000 pages
    pdf = run_pdf_part(engine, run_id, part=1, insurer="…")     # one of those parts, as bytes (HTTP)
    pdf = member_pdf(engine, insurer, qualification_id, run_id)  # one member's documents

The documents are read in post-room order by SQL (the postal code the letter goes to: the
address the member gave when there is one — a DV-flagged member's only —, else the
resident address), and printed a part at a time with `render_pdf` (reportlab holds a PDF's
pages in memory until it is saved). Names print as the insurer stores them (no ●);
the printing's warnings (a character the fonts lack, a letter held back) go to the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, case, func, or_, select

from ..domain.copay import copay_percent, elderly_start
from ..registry.members import dv_flag_of
from ..registry.schema import document, member_event, person, qualification
from .models import CERTIFICATE, NOTICE, REGISTRATION_NOTICE
from .printing import Address, PrintDocument, PrintMember, PrintResult, render_pdf, render_per_member
from .run import add_warnings
from .settings import Settings, read_settings

PRINTED = (CERTIFICATE, NOTICE, REGISTRATION_NOTICE)
PER_FILE = 5000


def _columns():  # noqa: ANN202
    q, d, p = qualification, document, person
    e = member_event.alias("reg")
    dv = dv_flag_of(q.c.insurer_number, q.c.person_id)
    mailing = case((or_(dv, q.c.mailing_postcode.is_not(None)), q.c.mailing_postcode), else_=q.c.postcode)
    registered = (select(func.max(e.c.date)).where(e.c.qualification_id == q.c.id, e.c.kind == "registration_done", e.c.date <= d.c.issued)
                  .scalar_subquery())
    postal = func.replace(func.coalesce(mailing, "9999999"), "-", "")
    kind_order = case((d.c.kind == CERTIFICATE, 0), (d.c.kind == NOTICE, 1), else_=2)
    columns = (d.c.id, d.c.kind, d.c.form, d.c.issued, d.c.valid_from, d.c.expires, d.c.run_id, q.c.id.label("qid"), q.c.insurer_number,
               q.c.name, q.c.kana, q.c.symbol, q.c.number, q.c.branch, q.c.start, q.c.address, q.c.postcode, q.c.mailing_address,
               q.c.mailing_postcode, q.c.insured_name, q.c.relation, q.c.kouki_ratio, q.c.income, q.c.registered, p.c.sex, p.c.birth_date,
               dv.label("dv"), registered.label("reg_date"))
    return columns, (postal, q.c.id, kind_order, d.c.id)


def _query(*conditions):  # noqa: ANN001, ANN202
    columns, order = _columns()
    q, d, p = qualification, document, person
    return (select(*columns).select_from(d.join(q, q.c.id == d.c.qualification_id).join(p, p.c.id == q.c.person_id))
            .where(d.c.kind.in_(PRINTED), *conditions).order_by(*order))


def _print_document(row, settings: Settings) -> PrintDocument:  # noqa: ANN001
    kouki = settings.kind == "kouki"
    first = row.valid_from or row.issued
    if kouki:
        copay = (row.kouki_ratio or 10) / 100
    elif first >= elderly_start(row.birth_date):  # 負担割合 is printed from the copay-70 day (seed 002)
        copay = copay_percent(row.birth_date, first, income=row.income or "general") / 100
    else:
        copay = None
    householder = None
    if settings.kind == "kokuho":  # 世帯主氏名
        householder = row.insured_name if row.relation == "family" and row.insured_name else row.name
    member = PrintMember(
        member_id=str(row.qid), name=row.name, kana=row.kana, sex=row.sex, birth_date=row.birth_date, symbol=row.symbol, number=row.number,
        branch=row.branch, qualification_start=row.start, address=Address(row.postcode or "", row.address) if row.address else None,
        copay=copay, householder_name=householder, dv_flag=bool(row.dv),
        mailing_address=Address(row.mailing_postcode or "", row.mailing_address) if row.mailing_address else None,
    )
    return PrintDocument(str(row.id), row.kind, row.issued, member, settings.print_insurer, row.valid_from, row.expires,
                         form=row.form if row.kind == CERTIFICATE else None, registered=row.reg_date or row.registered)


def print_documents(conn: Connection, *conditions, chunk: int = PER_FILE) -> Iterator[list[PrintDocument]]:  # noqa: ANN002
    """The documents meeting `conditions` (on `document` / `qualification`) in post-room
    order, `chunk` at a time."""
    settings: dict[str, Settings] = {}
    out: list[PrintDocument] = []
    for row in conn.execution_options(yield_per=chunk).execute(_query(*conditions)):
        found = settings.get(row.insurer_number)
        if found is None:
            found = settings[row.insurer_number] = read_settings(conn, [row.insurer_number])[row.insurer_number]
        out.append(_print_document(row, found))
        if len(out) == chunk:
            yield out
            out = []
    if out:
        yield out


def _run_conditions(run_id: int, insurer: str | None) -> list:
    cond = [document.c.run_id == run_id]
    if insurer is not None:
        cond.append(qualification.c.insurer_number == insurer)
    return cond


@dataclass
class PrintedRun:
    files: list[tuple[Path, PrintResult]]
    pages: int
    warnings: list[str]
    held_back: list[str]


def write_run_pdfs(engine: Engine, run_id: int, directory: Path, *, insurer: str | None = None, per_file: int = PER_FILE,
                   prefix: str | None = None) -> PrintedRun:
    """The run's documents as numbered PDFs of at most `per_file` pages, in postal-code order
    across the files; the printing's warnings are added to the run."""
    directory.mkdir(parents=True, exist_ok=True)
    prefix = prefix or f"issuance-run{run_id}" + (f"-{insurer}" if insurer else "")
    files: list[tuple[Path, PrintResult]] = []
    with engine.connect() as conn:
        for n, docs in enumerate(print_documents(conn, *_run_conditions(run_id, insurer), chunk=per_file), 1):
            path = directory / f"{prefix}-{n:04d}.pdf"
            with path.open("wb") as f:
                files.append((path, render_pdf(docs, order="given", output=f, title=f"onshi 交付書類 run {run_id} ({n})")))
    warnings = [f"印刷: {w}" for _, r in files for w in r.warnings]
    add_warnings(engine, run_id, warnings)
    return PrintedRun(files, sum(r.pages for _, r in files), warnings, [h for _, r in files for h in r.held_back])


def count_parts(engine: Engine, run_id: int, insurer: str | None = None, per_file: int = PER_FILE) -> tuple[int, int]:
    """(documents to print, parts of `per_file`) of a run."""
    q, d = qualification, document
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(d.join(q, q.c.id == d.c.qualification_id))
                         .where(d.c.kind.in_(PRINTED), *_run_conditions(run_id, insurer))).scalar_one()
    return n, (n + per_file - 1) // per_file


def run_pdf_part(engine: Engine, run_id: int, part: int = 1, *, insurer: str | None = None, per_file: int = PER_FILE) -> PrintResult | None:
    """Part `part` (from 1) of a run's PDF: its documents `(part-1)*per_file …` in post-room order."""
    query = _query(*_run_conditions(run_id, insurer)).offset((part - 1) * per_file).limit(per_file)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return None
        settings = read_settings(conn, sorted({r.insurer_number for r in rows}))
        docs = [_print_document(r, settings[r.insurer_number]) for r in rows]
    return render_pdf(docs, order="given", title=f"onshi 交付書類 run {run_id} ({part})")


def member_pdf(engine: Engine, insurer: str, qualification_id: int, run_id: int | None = None) -> PrintResult | None:
    """One member's documents (of one run, or all they were sent) as one PDF; None when the
    insurer sent this qualification nothing (another insurer's member included)."""
    cond = [qualification.c.id == qualification_id, qualification.c.insurer_number == insurer, document.c.run_id.is_not(None)]
    if run_id is not None:
        cond.append(document.c.run_id == run_id)
    with engine.connect() as conn:
        docs = [d for chunk in print_documents(conn, *cond) for d in chunk]
    if not docs:
        return None
    return render_per_member(docs)[str(qualification_id)]


def run_documents(conn: Connection, run_id: int, insurer: str, *, offset: int = 0, limit: int = 100) -> list[dict]:
    """A page of what a run sent to an insurer's members (the insurer page and API list it)."""
    q, d = qualification, document
    rows = conn.execute(
        select(d.c.id, d.c.kind, d.c.form, d.c.issued, d.c.valid_from, d.c.expires, d.c.rules, q.c.id.label("qualification_id"), q.c.symbol,
               q.c.number, q.c.branch, q.c.name)
        .select_from(d.join(q, q.c.id == d.c.qualification_id))
        .where(d.c.run_id == run_id, q.c.insurer_number == insurer).order_by(q.c.id, d.c.id).offset(offset).limit(limit)
    ).mappings().all()
    return [{str(k): v for k, v in r.items()} | {"rules": (r["rules"] or "").split()} for r in rows]


def run_counts(conn: Connection, run_id: int, insurer: str) -> dict[str, int]:
    """Documents of a run sent to one insurer's members, by kind (an all-insurer run included)."""
    q, d = qualification, document
    rows = conn.execute(select(d.c.kind, func.count()).select_from(d.join(q, q.c.id == d.c.qualification_id))
                        .where(d.c.run_id == run_id, q.c.insurer_number == insurer).group_by(d.c.kind)).all()
    return {k: n for k, n in rows}


__all__ = ["PER_FILE", "PrintedRun", "count_parts", "member_pdf", "print_documents", "run_counts", "run_documents", "run_pdf_part", "write_run_pdfs"]

