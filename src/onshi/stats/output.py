"""Rows of a figure as JSON, CSV or a text table (the command, the API and the 統計 page share them)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Iterable

from .rates import Row

CSV_COLUMNS = ("month", "group", "label", "numerator", "denominator", "rate")


def to_json(rows: Iterable[Row]) -> str:
    return json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2)


def to_csv(rows: Iterable[Row]) -> str:
    """UTF-8 CSV with a header; the rate as a fraction, empty when there is no denominator."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow((r.month, r.group, r.label, r.numerator, r.denominator, "" if r.rate is None else f"{r.rate:.4f}"))
    return out.getvalue()


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def to_table(rows: Iterable[Row]) -> str:
    rows = list(rows)
    header = ("月", "区分", "名称", "分子", "分母", "率")
    body = [(r.month, r.group, r.label, f"{r.numerator:,}", f"{r.denominator:,}", percent(r.rate)) for r in rows]
    widths = [max(_width(x) for x in col) for col in zip(header, *body)] if body else [_width(h) for h in header]
    lines = []
    for line in (header, *body):
        cells = [c + " " * (w - _width(c)) if i < 3 else " " * (w - _width(c)) + c for i, (c, w) in enumerate(zip(line, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width (full-width characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


__all__ = ["CSV_COLUMNS", "percent", "to_csv", "to_json", "to_table"]
