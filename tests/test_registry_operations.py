"""Insurer operations: validation, idempotency, R-I1 deadlines, R-I2 linkage, access."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from onshi.domain.errors import Conflict, Forbidden, InputError, NotFound
from onshi.registry import schema

from factories import KOKUHO, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO, World


def counts(engine) -> dict:  # noqa: ANN001
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in schema.TABLES_IN_LOAD_ORDER}


def acquisition(world: World, **over) -> dict:
    mn = over.pop("my_number", None) or world.resident(name="山田 太郎", kana="ヤマダ タロウ", birth_date="1980-06-15")
    return dict(
        request_id="req-1", my_number=mn, name="山田 太郎", kana="ヤマダ タロウ", birth_date="1980-06-15", sex=1,
        symbol="1234", number="5678", branch="00", start="2026-05-01", notified="2026-05-08",
    ) | over


def test_R_I1_acquisition_within_five_days_meets_the_deadline(world, today):
    today("2026-05-12")
    body = world.registry.operate(KYOKAI_TOKYO, "acquisition", acquisition(world, notified="2026-05-07")).body
    assert body["days_taken"] == 5 and body["deadline_days"] == 5 and body["deadline_met"] is True
    body = world.registry.operate(KYOKAI_TOKYO, "acquisition", acquisition(world, request_id="req-2", number="5679", notified="2026-05-06")).body
    assert body["days_taken"] == 6 and body["deadline_met"] is False
    report = world.registry.compliance(KYOKAI_TOKYO)
    assert report["by_kind"]["acquisition"] == {"total": 2, "on_time": 1, "late": 1, "max_days": 6}


def test_R_I1_change_has_ten_days(world, today):
    m = world.member(start="2020-04-01")
    today("2026-05-20")
    body = world.registry.operate(KYOKAI_TOKYO, "change", dict(request_id="c1", symbol="1234", number=m["number"], branch="00", income="high", notified="2026-05-10")).body
    assert body["deadline_days"] == 10 and body["days_taken"] == 10 and body["deadline_met"] is True
    assert body["changed"] == ["income"]


def test_idempotent_under_request_id(world):
    data = acquisition(world)
    first = world.registry.operate(KYOKAI_TOKYO, "acquisition", data)
    again = world.registry.operate(KYOKAI_TOKYO, "acquisition", data)
    assert not first.replayed and again.replayed and again.body == first.body
    assert counts(world.engine)["qualification"] == 1
    with pytest.raises(Conflict) as e:
        world.registry.operate(KYOKAI_TOKYO, "acquisition", data | {"number": "9999"})
    assert e.value.field == "request_id"


def test_R_I2_linkage_tolerates_variants_width_and_spacing(world):
    mn = world.resident(name="高橋 一郎", kana="タカハシ イチロウ", birth_date="1975-01-20", address="東京都千代田区霞が関一丁目2番2号")
    body = world.registry.operate(
        KYOKAI_TOKYO, "acquisition",
        acquisition(world, my_number=mn, name="髙橋　一郎", kana="ﾀｶﾊｼｲﾁﾛｳ", birth_date="1975-01-20", address="東京都千代田区霞が関１－２－２"),
    ).body
    assert body["qualification_id"]


def test_R_I2_linkage_mismatch_is_refused_naming_the_fields(world):
    mn = world.resident(name="高橋 一郎", kana="タカハシ イチロウ", birth_date="1975-01-20", sex=1)
    before = counts(world.engine)
    with pytest.raises(InputError) as e:
        world.registry.operate(KYOKAI_TOKYO, "acquisition", acquisition(world, my_number=mn, name="髙梨 一郎", kana="タカナシ イチロウ", birth_date="1975-01-21", sex=2))
    assert {x.field for x in e.value.errors} == {"name", "kana", "birth_date", "sex"}
    assert counts(world.engine) == before


def test_R_I2_number_absent_from_resident_register_is_refused(world):
    from factories import my_number

    with pytest.raises(InputError) as e:
        world.registry.operate(KYOKAI_TOKYO, "acquisition", acquisition(world, my_number=my_number(999)))
    assert e.value.errors[0].field == "my_number"


@pytest.mark.parametrize(
    "over, field",
    [
        ({"my_number": "123456789012"}, "my_number"),  # wrong check digit
        ({"birth_date": "1980-13-01"}, "birth_date"),
        ({"start": "2026-02-30"}, "start"),
        ({"name": "あ" * 101}, "name"),
        ({"number": "1" * 21}, "number"),
        ({"symbol": "記" * 21}, "symbol"),
        ({"branch": "123"}, "branch"),
        ({"sex": 4}, "sex"),
        ({"kana": "山田"}, "kana"),
        ({"request_id": ""}, "request_id"),
        ({"notified": "2026-06-01"}, "notified"),  # after today
        ({"kouki_ratio": 0.1}, "kouki_ratio"),  # not a 後期 insurer
        ({"limit_category": "Z9"}, "limit_category"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_acquisitions_name_the_field_and_store_nothing(world, over, field):
    data = acquisition(world) | over
    before = counts(world.engine)
    with pytest.raises(InputError) as e:
        world.registry.operate(KYOKAI_TOKYO, "acquisition", data)
    assert field in {x.field for x in e.value.errors}, e.value.errors
    assert counts(world.engine) == before


def test_kouki_insurer_requires_a_ratio(world):
    mn = world.resident(name="田中 ハナ", kana="タナカ ハナ", birth_date="1945-01-01", sex=2)
    data = acquisition(world, my_number=mn, name="田中 ハナ", kana="タナカ ハナ", birth_date="1945-01-01", sex=2, start="2020-01-01", notified="2020-01-01")
    with pytest.raises(InputError) as e:
        world.registry.operate(KOUKI_TOKYO, "acquisition", data)
    assert e.value.errors[0].field == "kouki_ratio"
    assert world.registry.operate(KOUKI_TOKYO, "acquisition", data | {"kouki_ratio": 0.3}).body["qualification_id"]


def test_numbers_already_assigned_are_refused(world):
    world.member(number="5678")
    with pytest.raises(Conflict) as e:
        world.registry.operate(KYOKAI_TOKYO, "acquisition", acquisition(world, name="山田 次郎", kana="ヤマダ ジロウ", my_number=world.resident(name="山田 次郎", kana="ヤマダ ジロウ", birth_date="1980-06-15")))
    assert e.value.field == "number"


def test_loss_ends_the_qualification_once(world):
    m = world.member(start="2020-04-01")
    body = world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-04-30", loss_reason="03", notified="2026-05-01")).body
    assert body["end"] == "2026-04-30" and body["deadline_days"] == 10
    with pytest.raises(Conflict):  # already ended: only a correction may change the date
        world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l2", symbol="1234", number=m["number"], branch="00", end="2026-04-30", notified="2026-05-01"))
    with pytest.raises(InputError) as e:
        world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l3", symbol="1234", number="1", end="2026-04-31", notified="2026-05-01"))
    assert e.value.errors[0].field == "end"


def test_writes_for_another_insurers_member_are_refused(world):
    m = world.member(KYOKAI_TOKYO, card={"issued": "2022-03-01"})
    before = counts(world.engine)
    with pytest.raises(NotFound):  # the numbers are not KUMIAI's
        world.registry.operate(KUMIAI, "loss", dict(request_id="x1", symbol="1234", number=m["number"], branch="00", end="2026-04-30", notified="2026-05-01"))
    with pytest.raises(Forbidden):
        world.registry.operate(KUMIAI, "card_link", dict(request_id="x2", my_number=m["my_number"], serial="ZZ0000000001", issued="2024-01-01"))
    with pytest.raises(Forbidden):
        world.registry.operate(KOKUHO, "card_registration", dict(request_id="x3", serial=m["serial"]))
    assert counts(world.engine) == before


def test_card_link_computes_expiry_and_replaces_the_old_card(world):
    m = world.member(birth_date="1988-09-30", card={"issued": "2022-03-01"})
    body = world.registry.operate(KYOKAI_TOKYO, "card_link", dict(request_id="new", my_number=m["my_number"], serial="NEW000000001", issued="2026-05-01")).body
    assert body["card_expires"] == "2035-09-30" and body["cert_expires"] == "2030-09-30"  # R-B1: 10th and 5th birthday after issue
    with world.engine.connect() as conn:
        revoked = conn.execute(select(schema.card.c.revoked).where(schema.card.c.serial == m["serial"])).scalar_one()
    assert revoked == dt.date(2026, 5, 1)
    assert world.registry.lookup_by_card("1310000017", m["serial"]).error == "card_revoked"


def test_my_number_is_never_stored_in_clear(world):
    m = world.member(card={"issued": "2022-03-01"})
    world.registry.operate(KYOKAI_TOKYO, "card_link", dict(request_id="dup", my_number=m["my_number"], serial="NEW000000002", issued="2026-05-01"))
    with world.engine.connect() as conn:
        for t in schema.TABLES_IN_LOAD_ORDER:
            for row in conn.execute(select(t)).all():
                assert m["my_number"] not in " ".join(str(v) for v in row), t.name
        if world.engine.dialect.name == "sqlite":
            dump = "\n".join(conn.connection.dbapi_connection.iterdump())
            assert m["my_number"] not in dump


def test_person_with_two_insurers_in_sequence(world, today):
    today("2026-03-01")
    m = world.member(card={"issued": "2022-03-01"})
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-03-31", notified="2026-03-01", loss_reason="03"))
    today("2026-04-05")
    b = world.member(KUMIAI, my_number=m["my_number"], symbol="88", number="1207", start="2026-04-01", notified="2026-04-02")
    assert b["person_id"] == m["person_id"]
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM person")).scalar_one() == 1
