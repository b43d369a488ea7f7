"""Settings from the environment.

ONSHI_DATABASE_URL   database (default: SQLite file ./onshi.sqlite3)
ONSHI_TODAY          the date the system treats as today (YYYY-MM-DD), to replay any day
ONSHI_MYNUMBER_KEY   key of the keyed hash that stands in for the 個人番号
ONSHI_CHARSET        repertoire of the ● mask: jisx0208 (default), cp932, jisx0213, unicode
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
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


@lru_cache(maxsize=16)
def _fixed_day(text: str) -> dt.date:
    """ONSHI_TODAY read (each lookup asks for now() and today(): parsed once per value)."""
    return dt.date.fromisoformat(text.strip())


def today() -> dt.date:
    """Today in Japan, or ONSHI_TODAY when set."""
    fixed = os.environ.get("ONSHI_TODAY")
    if fixed:
        return _fixed_day(fixed)
    return dt.datetime.now(JST).date()


def now() -> dt.datetime:
    """The current instant (UTC, aware). With ONSHI_TODAY the date part is that day in JST."""
    fixed = os.environ.get("ONSHI_TODAY")
    if not fixed:
        return dt.datetime.now(dt.timezone.utc)
    day = _fixed_day(fixed)
    real = dt.datetime.now(JST)
    return real.replace(year=day.year, month=day.month, day=day.day).astimezone(dt.timezone.utc)


def mynumber_key() -> bytes:
    return os.environ.get("ONSHI_MYNUMBER_KEY", DEV_MYNUMBER_KEY).encode()


def using_dev_key() -> bool:
    return "ONSHI_MYNUMBER_KEY" not in os.environ
