"""The history of the insurers' issuance runs (issue 12 item 6): a seeded population looks as
if the rules of ISSUANCE.md had run since 2024-12-02 — because they did. After a generator has
loaded people, qualifications, cards, the old 保険証, the FY2024 お知らせ and the facts the runs
react to (member events, applications, returned cards, each insurer's options), `run_history`
plays the real run (`run_issuance`, every insurer) on each past run day (the 1st and 15th of each month, and today), the registry read as
it stood that day (issuance/store.py). The 後期 members then hold the certificates of
2025-08-01 … 2026-07-31 (R-T3) and from 2026-08 a certificate or an お知らせ per the split
(R-I3g, R-I4c); employee members who had no usable card on 2025-12-02 hold a certificate…

`onshi seed` (registry/seed.py) calls it; a new generator (issue 14) calls it the same way.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from ..domain.dates import add_months
from .run import RunResult, run_issuance

HISTORY_START = dt.date(2024, 12, 2)  # the first day no old 保険証 is issued (A6): certificates and お知らせ from then on


def run_days(today: dt.date, start: dt.date = HISTORY_START, days_of_month: tuple[int, ...] = (1, 15)) -> list[dt.date]:
    """The history's run days: `start`, then the `days_of_month` of every month, and `today`
    (insurers mail twice a month here; the renewal window and R-I6b count from the first of a
    month; the last run brings the population up to today)."""
    days = [start] if start <= today else []
    month = start.replace(day=1)
    while month <= today:
        days += [month.replace(day=n) for n in days_of_month if start < month.replace(day=n) <= today]
        month = add_months(month, 1)
    if days and days[-1] < today:
        days.append(today)
    return days


def run_history(engine: Engine, today: dt.date, *, start: dt.date = HISTORY_START, progress: bool = False, batch: int = 5000) -> list[RunResult]:
    """Run the issuance for every insurer on each history day through `today` (set-based, one
    run per day; already-run days are resumed or rerun and send nothing)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    days = run_days(today, start)
    results = []
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), disable=not progress) as bar:
        task = bar.add_task("issuance runs since 2024-12", total=len(days))
        for day in days:
            bar.update(task, description=f"issuance run {day.isoformat()}")
            results.append(run_issuance(engine, day, None, origin="seed", batch=batch))
            bar.advance(task)
    return results
