"""`onshi bench review` (issue 14 item 4) at a tiny size: the registry and the month's claims
generated in PostgreSQL have the intended shapes, and slices decide as one run. Figures only:
speed is never asserted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from onshi.bench import review_scale
from onshi.registry import schema


@pytest.fixture
def pg(engine, today):  # noqa: ANN001, ANN201
    if engine.dialect.name != "postgresql":
        pytest.skip("the review benchmark generates its data in PostgreSQL")
    today("2026-11-23")
    return engine


def test_the_generated_month_has_the_intended_mix_and_slices_decide_alike(pg):
    runs = {sl: review_scale.run(pg, people=3000, claims=4000, unknown=20, seed=3, slices=sl, say=lambda _m: None)
            for sl in ("none", "payer", "prefecture")}
    first = runs["none"]
    assert first["registry_built"]["people"] == 3000 and runs["payer"]["registry_built"] is None  # generated once, then reused
    assert first["claims"] == 4000 and first["generated_mix"]["unchanged"] == 4000 - 20 - sum(
        v for k, v in first["generated_mix"].items() if k not in ("unchanged", "unknown"))
    o = first["outcomes"]
    # 90 % billed on a qualification that covers them; the job changes as 振替 / 分割 / 返戻.
    assert 0.85 < o["unchanged"] / 4000 < 0.95 and o["rerouted"] > 0.04 * 4000 and o["split"] > 0.015 * 4000 and o["returned"] > 0.01 * 4000
    assert runs["payer"]["outcomes"] == o and runs["prefecture"]["outcomes"] == o
    assert runs["payer"]["runs"] == 2 and runs["prefecture"]["runs"] == 47
    assert first["reference"]["matched"] > 0.95 * 4000 and first["national_month_hours"] > 0
    with pg.connect() as conn:
        # households share numbers; 75 and over in their prefecture's 広域連合 (法別 39)
        kouki = conn.execute(text("SELECT count(*) FROM qualification q JOIN person p ON p.id = q.person_id "
                                  "WHERE length(q.insurer_number) = 8 AND q.insurer_number LIKE '39%' AND p.birth_date > DATE '2026-11-23' - interval '75 years'")).scalar_one()
        assert kouki == 0
        assert conn.execute(text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'claims_bench'")).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(schema.person)).scalar_one() == 3000


def test_a_registry_it_did_not_generate_is_refused(pg):
    from factories import World

    World.build(pg).member()
    with pytest.raises(RuntimeError, match="did not generate"):
        review_scale.run(pg, people=100, claims=100, unknown=0, seed=1, say=lambda _m: None)
