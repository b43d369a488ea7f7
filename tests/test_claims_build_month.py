"""A simulated month's claims built in one pass over ranges of facilities
(claims.service.build_facilities) are the claims `build` makes facility by facility: the same
rows, 初診 points over a patient seen in an earlier month, R-E5 facts of 不詳 claims — on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from onshi.claims import service
from onshi.registry import schema
from onshi.registry.seed import seed_registry
from onshi.stats import simulate as sim

NOVEMBER, DECEMBER = dt.date(2025, 11, 1), dt.date(2025, 12, 1)
SKIP = {"id", "created_at"}


def claims_of(engine, month):  # noqa: ANN001, ANN201
    with engine.connect() as conn:
        rows = conn.execute(select(schema.claim).where(schema.claim.c.care_month == month)).mappings().all()
    return sorted(tuple((k, v) for k, v in r.items() if k not in SKIP) for r in rows)


def test_the_month_built_in_one_pass_is_the_month_built_facility_by_facility(engine):
    seed_registry(engine, people=300, seed=6, today=dt.date(2026, 11, 30), progress=False)
    sim.simulate(engine, NOVEMBER, NOVEMBER, seed=3, workers=1, chunk_size=300)  # an earlier month: 再診, R-E5 facts
    sim.simulate(engine, DECEMBER, DECEMBER, seed=3, workers=1, chunk_size=300, claims=False)
    with engine.connect() as conn:
        codes = list(conn.execute(select(schema.visit.c.facility_code).where(schema.visit.c.care_date >= DECEMBER).distinct()
                                  .order_by(schema.visit.c.facility_code)).scalars())
    for code in codes:
        service.build(engine, code, DECEMBER)
    one_by_one = claims_of(engine, DECEMBER)
    assert len(one_by_one) > 100
    assert any(dict(c)["points"] % 75 == 0 for c in one_by_one) and any(dict(c)["points"] % 75 for c in one_by_one)  # 再診 and 初診
    with engine.begin() as conn:
        conn.execute(delete(schema.claim).where(schema.claim.c.care_month == DECEMBER))
    middle = codes[len(codes) // 2]
    first = service.build_facilities(engine, DECEMBER, codes[0], middle)
    second = service.build_facilities(engine, DECEMBER, codes[codes.index(middle) + 1], codes[-1])
    assert first["claims"] + second["claims"] == len(one_by_one)
    assert claims_of(engine, DECEMBER) == one_by_one
    # Built again: the built claims are replaced; filed ones are kept and not built twice.
    service.file_month(engine, DECEMBER)
    again = service.build_facilities(engine, DECEMBER, codes[0], codes[-1])
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(schema.claim).where(schema.claim.c.care_month == DECEMBER)).scalar_one()
    assert n == len(one_by_one) and again["claims"] == sum(1 for c in one_by_one if dict(c)["checks"] and '"error"' in dict(c)["checks"])
