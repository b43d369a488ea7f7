"""`onshi bench uke`: reading and writing claim files — MB/s and claims/s on a generated 医科
file (R04, CP932, CRLF, EOF) of N claims with detail records, as a レセコン writes them.

Timed, each on the same file:
- read: bytes → records → claims, every interpreted record checked against its layout;
- write back: the read file through the model to bytes (`onshi claims copy`);
- write reviewed: the read claims written again from their records with an SN 確認区分 set
  (what a review body's output is made of);
- write built: claims without detail records from onshi's own writer (what a facility files).

The reference in the same run is the floor of any Python reader and writer of the format:
decode + split into lines and fields, and join + encode — the ratio says what the checks and
the model cost on top of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from typing import Callable

from ..claims import uke
from ..claims.models import FacilityHeader

BILLING = dt.date(2026, 6, 1)
CARE = "202605"
INSURERS = ("01130012", "06139984", "06132013", "  138057", "  133033", "39131156")


def _rec(count: int, values: dict[int, object], kind: str) -> str:
    fields = [""] * count
    fields[0] = kind
    for pos, value in values.items():
        fields[pos - 1] = str(value)
    return ",".join(fields)


def _days(first: int, counts: dict[int, object]) -> dict[int, object]:
    return {first + d - 1: v for d, v in counts.items()}


def generate(claims: int, seed: int = 1) -> bytes:
    """A 医科 R04 file of `claims` claims: RE, HO, (KO), SN, JD per payer, MF (most), SY, SI and
    IY lines with points and day columns, now and then a CO; no JD/MF on one claim in ten."""
    rng = random.Random(seed)
    out = [_rec(10, {2: 1, 3: 13, 4: 1, 5: "0000017", 7: "霞が関内科クリニック", 8: "202606", 9: "00", 10: "03-1234-5678"}, "IR")]
    payers = total = 0
    for no in range(1, claims + 1):
        insurer = INSURERS[rng.randrange(len(INSURERS))]
        kouki = insurer.startswith("39")
        public = not kouki and rng.random() < 0.08
        kind = ("1318" if kouki else rng.choice(("1112", "1116", "1114")))
        kind = kind[:2] + ("2" if public else "1") + kind[3]
        days = sorted(rng.sample(range(1, 32), rng.choice((1, 1, 1, 2, 2, 3, 4))))
        details = []
        points = 0
        for d in days:
            first = d == days[0]
            lines = [("111000110", 291) if first else ("112007410", 75), ("120002910", 68)]
            if rng.random() < 0.4:
                lines.append(("160008010", rng.choice((21, 25, 144))))
            for code, p in lines:
                details.append(_rec(44, {2: code[:2], 3: 2 if public else 1, 4: code, 6: p, 7: 1, **_days(14, {d: 1})}, "SI"))
                points += p
            if rng.random() < 0.5:
                qty = rng.choice((7, 14, 28))
                details.append(_rec(44, {2: "21", 3: 1, 4: "620098801", 5: "1", 6: 0, 7: qty, **_days(14, {d: qty})}, "IY"))
            if rng.random() < 0.1:
                details.append(_rec(5, {3: 1, 4: "810000001", 5: "１日３回毎食後"}, "CO"))
        full = rng.random() >= 0.1
        name = rng.choice(("山田　太郎", "佐藤　花子", "鈴木　一郎", "高橋　美咲", "田中　健"))
        out.append(_rec(38, {2: no, 3: kind, 4: CARE, 5: name, 6: rng.choice((1, 2)), 7: f"19{rng.randint(30, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}",
                             8: 70 if insurer.startswith(" ") else "", 14: f"P{no:06d}", 37: "ヤマダタロウ"}, "RE"))
        out.append(_rec(15, {2: insurer, 3: "" if kouki else "１２３", 4: f"{rng.randint(1, 99999):d}".translate(str.maketrans("0123456789", "０１２３４５６７８９")),
                             5: len(days), 6: points}, "HO"))
        if public:
            out.append(_rec(12, {2: "54136015", 3: "1234567", 5: len(days), 6: points}, "KO"))
        if full:
            out.append(_rec(9, {2: 1, 3: "01", 7: "" if kouki else "00"}, "SN"))
            for payer in (1, 2) if public else (1,):
                out.append(_rec(33, {2: payer, **_days(3, {d: 1 for d in days})}, "JD"))
            out.append(_rec(33, {2: "00"}, "MF"))
        out.append(_rec(8, {2: "8833421", 3: f"{CARE}{days[0]:02d}", 4: 1}, "SY"))
        out.extend(details)
        payers += 2 if public else 1
        total += points
    out.append(_rec(4, {2: payers, 3: total, 4: 99}, "GO"))
    return ("\r\n".join(out) + "\r\n").encode("cp932") + b"\x1a"


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(*, claims: int = 100_000, seed: int = 1, repeat: int = 2, progress=None) -> dict:  # noqa: ANN001
    say = progress.print if progress is not None else (lambda *a, **k: None)
    started = time.perf_counter()
    data = generate(claims, seed)
    say(f"generated {claims:,} claims, {len(data) / 1e6:.1f} MB, in {time.perf_counter() - started:.1f} s")
    mb = len(data) / 1e6

    def reference_read() -> int:
        return sum(len(line.split(",")) for line in data.decode("cp932").split("\r\n"))

    seconds_ref_read, _ = _best(reference_read, repeat)
    rows = [line.split(",") for line in data.rstrip(b"\x1a").decode("cp932").split("\r\n")]
    seconds_ref_write, _ = _best(lambda: "\r\n".join(",".join(r) for r in rows).encode("cp932"), repeat)
    del rows
    seconds_read, doc = _best(lambda: uke.read(data), repeat)
    assert doc is not None and len(doc.claims) == claims
    seconds_back, back = _best(doc.to_bytes, repeat)
    assert back == data, "the round trip must give the same bytes"
    header = FacilityHeader(doc.header.facility_code, doc.header.name, BILLING, doc.header.payer)
    reviewed = [dataclasses.replace(p.claim, confirm_code="02") for p in doc.claims]
    seconds_reviewed, text = _best(lambda: uke.encode(uke.write(header, reviewed)), repeat)
    built = [dataclasses.replace(c, records=()) for c in reviewed]
    seconds_built, built_bytes = _best(lambda: uke.encode(uke.write(header, built)), repeat)

    def figures(seconds: float, size: float) -> dict:
        return {"seconds": round(seconds, 3), "mb_per_second": round(size / seconds, 1), "claims_per_second": round(claims / seconds)}

    return {
        "claims": claims, "records": len(doc.text.records), "mb": round(mb, 1),
        "read": figures(seconds_read, mb),
        "write_back": figures(seconds_back, mb),
        "write_reviewed": figures(seconds_reviewed, len(text) / 1e6),
        "write_built": figures(seconds_built, len(built_bytes) / 1e6) | {"mb": round(len(built_bytes) / 1e6, 1)},
        "reference_read": figures(seconds_ref_read, mb),
        "reference_write": figures(seconds_ref_write, mb),
        "read_vs_reference": round(seconds_read / seconds_ref_read, 1),
        "write_back_vs_reference": round(seconds_back / seconds_ref_write, 1),
    }


def print_report(report: dict) -> None:
    print(f"UKE 医科 R04: {report['claims']:,} claims, {report['records']:,} records, {report['mb']} MB (CP932, CRLF)")
    rows = [("read (checked, claims built)", "read"), ("write back (lossless, through the model)", "write_back"),
            ("write reviewed claims (from their records, SN set)", "write_reviewed"),
            (f"write built claims (no details, {report['write_built']['mb']} MB)", "write_built"),
            ("reference: decode + split", "reference_read"), ("reference: join + encode", "reference_write")]
    for label, key in rows:
        f = report[key]
        print(f"  {label:<52} {f['seconds']:7.2f} s  {f['mb_per_second']:7.1f} MB/s  {f['claims_per_second']:>9,} claims/s")
    print(f"  read is {report['read_vs_reference']}× the reference; write back {report['write_back_vs_reference']}×")
