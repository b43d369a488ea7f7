"""Settings from the environment.

ONSHI_DATABASE_URL   database (default: SQLite file ./onshi.sqlite3)
ONSHI_TODAY          the date the system treats as today (YYYY-MM-DD), to replay any day
ONSHI_MYNUMBER_KEY   key of the keyed hash that stands in for the 個人番号
ONSHI_CHARSET        repertoire of the ● mask: jisx0208 (default), cp932, jisx0213, unicode
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

JST = dt.timezone(dt.timedelta(hours=9), "JST")
DEV_MYNUMBER_KEY = "onshi-development-key-do-not-use-in-production"


def database_url(url: str | None = None) -> str:
    url = url or os.environ.get("ONSHI_DATABASE_URL") or f"sqlite:///{Path.cwd() / 'onshi.sqlite3'}"
    # psycopg 3 is the PostgreSQL driver; accept the plain scheme.
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def today() -> dt.date:
    """Today in Japan, or ONSHI_TODAY when set."""
    fixed = os.environ.get("ONSHI_TODAY")
    if fixed:
        return dt.date.fromisoformat(fixed.strip())
    return dt.datetime.now(JST).date()


def now() -> dt.datetime:
    """The current instant (UTC, aware). With ONSHI_TODAY the date part is that day in JST."""
    real = dt.datetime.now(JST)
    fixed = os.environ.get("ONSHI_TODAY")
    if fixed:
        day = dt.date.fromisoformat(fixed.strip())
        real = real.replace(year=day.year, month=day.month, day=day.day)
    return real.astimezone(dt.timezone.utc)


def mynumber_key() -> bytes:
    return os.environ.get("ONSHI_MYNUMBER_KEY", DEV_MYNUMBER_KEY).encode()


def using_dev_key() -> bool:
    return "ONSHI_MYNUMBER_KEY" not in os.environ
