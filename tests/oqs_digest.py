"""OQS-XML.md read by the tests, independently of onshi's code: its tables, the element names
it spells out, and a small client that reads results by those names only.

The digest is ../shared/domain/OQS-XML.md when the shared folder is there, else the copy in
tests/oqs_golden/ (a clean checkout of the repository alone)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "domain" / "OQS-XML.md"
COPY = HERE / "oqs_golden" / "OQS-XML.md"


def digest_path() -> Path:
    return SHARED if SHARED.is_file() else COPY


@lru_cache(maxsize=1)
def digest_text() -> str:
    return digest_path().read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def tables() -> dict[str, list[list[str]]]:
    """Every Markdown table under its nearest heading: heading → rows of cells (header and
    separator rows dropped)."""
    out: dict[str, list[list[str]]] = {}
    heading = ""
    for line in digest_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            rows = out.setdefault(heading, [])
            if not rows and cells[0] in ("element", "file prefix"):
                rows.append([])  # the header row: a marker, dropped below
                continue
            rows.append(cells)
    return {h: [r for r in rows if r] for h, rows in out.items()}


_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+\b")  # two humps or more: ElderlyRecipientValidStartDate
_WORD = re.compile(r"\b[A-Z][A-Za-z0-9]*\b")


@lru_cache(maxsize=1)
def element_names() -> frozenset[str]:
    """The element names the digest spells out: CamelCase names anywhere in its prose and
    tables, the one-word names (Name, Address, Birthdate, Sex1…) of the tables' first
    column and of code spans, and the tags of its XML example. An abbreviation ("…ConsTime",
    "X + ConsFlg") names nothing."""
    text = re.sub(r"…\w+", "", digest_text())
    fenced = re.findall(r"```.*?```", text, flags=re.S)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    names = set(_CAMEL.findall(prose))
    for rows in tables().values():
        for row in rows:
            names |= set(_WORD.findall(re.sub(r"…\w+|\+.*$", "", row[0])))
    for span in re.findall(r"`([^`]+)`", prose):
        names |= set(_WORD.findall(span))
    for block in fenced:
        names |= set(re.findall(r"</?([A-Za-z][A-Za-z0-9]*)", block))
    return frozenset(names)


def _row(section: str, first_cell: str) -> list[str]:
    return next(r for r in tables()[section] if r[0] == first_cell)


def _names_in(cell: str) -> list[str]:
    return _CAMEL.findall(cell)


@dataclass(frozen=True)
class DigestNames:
    """The names a client needs, looked up in the digest's tables by what they mean."""

    segment: str
    status: str
    validity: str
    result: str
    certificate: dict[str, str]  # 交付年月日 / 有効開始年月日 / 有効終了年月日 → element
    elderly_info: str
    elderly: dict[str, str]  # issued / start / end / ratio → element
    kouki_ratio: str
    limit_info: str
    limit: dict[str, str]  # category / issued / start / end → element


@lru_cache(maxsize=1)
def names() -> DigestNames:
    header = tables()["MessageHeader"]
    body = tables()["MessageBody (result)"]
    roqc = "ResultOfQualificationConfirmation"
    segment = next(r[0] for r in header if "正常終了" in r[1] and "異常終了" in r[1])
    status = next(r[0] for r in body if "エラー" in r[1] and "正常終了" in r[1])
    validity = next(r[0] for r in body if "有効" in r[1] and "該当資格なし" in r[1])
    result = next(n for r in body if r[0].startswith("ResultList") for n in _names_in(r[0]) if n != "ResultList")
    dates = next(r for r in tables()[roqc] if "有効開始年月日" in r[1])
    labels = [x.strip() for x in dates[1].split(" of ")[0].split("/")]
    certificate = dict(zip(labels, [n.strip() for n in dates[0].split(",")]))
    elderly_row = next(r for r in tables()[roqc] if "高齢受給者" in r[1])
    e = _names_in(elderly_row[1].split("—")[-1])
    elderly = {
        "issued": next(n for n in e if re.search(rf"`{n}` \(交付年月日\)", elderly_row[1])),
        "start": next(n for n in e if n.endswith("ValidStartDate")),
        "end": next(n for n in e if n.endswith("ValidEndDate")),
        "ratio": next(n for n in e if n.endswith("ContributionRatio")),
    }
    kouki_ratio = next(r[0] for r in tables()[roqc] if "後期高齢者" in r[1] and "3-digit percent" in r[1])
    limit_row = next(r for r in tables()[roqc] if "限度額適用認定証" in r[1])
    ln = _names_in(limit_row[1])
    limit = {
        "category": next(n for n in ln if re.search(rf"{n} \(A01", limit_row[1])),
        "issued": next(n for n in ln if re.search(rf"`{n}` \(交付年月日\)", limit_row[1])),
        "start": next(n for n in ln if n.endswith("ValidStartDate")),
        "end": next(n for n in ln if n.endswith("ValidEndDate")),
    }
    return DigestNames(segment, status, validity, result, certificate, elderly_row[0], elderly, kouki_ratio, limit_row[0], limit)


# ---------------------------------------------------------------- a small client


def _find(el: etree._Element, name: str) -> str | None:
    found = el.find(f".//{name}")
    return None if found is None else (found.text or "")


def _date(text: str | None) -> str | None:
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if text else None


def client_record(data: bytes) -> dict | None:
    """What a clinic system makes of a result file, reading only the digest's names: None
    unless the result is confirmed (SegmentOfResult 1, ProcessingResultStatus 1,
    QualificationValidity 1, exactly one result); else the insurance record — the
    certificate's dates (a client refuses the record without the valid-from), the copay of a
    70–74 or 後期 patient, the 限度額 category."""
    n = names()
    root = etree.fromstring(data)  # lxml's own decoding of the declared encoding
    if _find(root, n.segment) != "1" or _find(root, n.status) != "1" or _find(root, n.validity) != "1":
        return None
    results = root.findall(f".//{n.result}")
    if len(results) != 1:
        return None
    r = results[0]
    valid_from = _find(r, n.certificate["有効開始年月日"])
    if not valid_from:
        return None  # 「保険証の有効期限開始日がありません」
    record = {
        "issued": _date(_find(r, n.certificate["交付年月日"])),
        "valid_from": _date(valid_from),
        "valid_to": _date(_find(r, n.certificate["有効終了年月日"])),
        "copay_percent": None,
        "limit_category": None,
    }
    elderly = r.find(n.elderly_info)
    if elderly is not None:
        record["copay_percent"] = int(_find(elderly, n.elderly["ratio"]))
        record["elderly"] = {k: _date(_find(elderly, v)) for k, v in n.elderly.items() if k != "ratio"}
    kouki = _find(r, n.kouki_ratio)
    if kouki:
        record["copay_percent"] = int(kouki)
    limit = r.find(n.limit_info)
    if limit is not None:
        record["limit_category"] = _find(limit, n.limit["category"])
        record["limit"] = {k: _date(_find(limit, v)) for k, v in n.limit.items() if k != "category"}
    return record
