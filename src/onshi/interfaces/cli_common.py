"""What every `onshi` command shares: the --database / --today options, the engine, and
turning bad input into a message naming the field and exit status 2."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Optional

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)

DatabaseOpt = Annotated[Optional[str], typer.Option("--database", "-d", help="database URL (default: $ONSHI_DATABASE_URL or ./onshi.sqlite3)")]
TodayOpt = Annotated[Optional[str], typer.Option("--today", help="treat this day as today (YYYY-MM-DD); also $ONSHI_TODAY")]


def setup(database: str | None, today: str | None) -> None:
    """Options become environment so that server workers and helpers see the same values."""
    if database:
        os.environ["ONSHI_DATABASE_URL"] = database
    if today:
        try:
            dt.date.fromisoformat(today)
        except ValueError:
            raise typer.BadParameter(f"'{today}' is not a date (YYYY-MM-DD)", param_hint="--today") from None
        os.environ["ONSHI_TODAY"] = today


def engine():  # noqa: ANN201
    """The configured database, migrated to the newest schema."""
    from ..registry.db import make_engine, migrate

    eng = make_engine()
    migrate(eng)
    return eng


def guard(fn):  # noqa: ANN001, ANN201
    """Run `fn`; bad input or a refused operation exits 2 with each field's reason."""
    from ..domain.errors import InputError, ServiceError

    try:
        return fn()
    except InputError as exc:
        for e in exc.errors:
            err.print(f"[red]error:[/red] {e.field}: {e.reason}", highlight=False)
        raise typer.Exit(2) from None
    except ServiceError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
