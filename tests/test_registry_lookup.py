"""Lookups by card and by numbers on the real databases (RULES F.1, R-B2–B4, R-D4, R-D5, R-D7)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from onshi.domain.errors import InputError
from onshi.registry import schema
from onshi.registry.lookup import Validity
from onshi.registry.service import parse_number_query

from factories import FACILITY, KOKUHO, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO, World

D = dt.date.fromisoformat
CARD = {"issued": "2022-03-01"}


def numbers(m: dict, **over) -> object:
    args = dict(insurer_number=m["insurer"], symbol=m["symbol"], number=m["number"], branch=m["branch"], birth_date=m["birth_date"]) | over
    return parse_number_query(**args)


def test_F1_card_valid_returns_qualification_and_copay(world):
    m = world.member(card=CARD)
    r = world.registry.lookup_by_card(FACILITY, m["serial"])
    assert r.validity is Validity.VALID
    assert r.qualification.insurer_number == KYOKAI_TOKYO and r.qualification.copay_ratio == 0.3
    assert r.person.birth_date == D("1980-06-15")
    assert r.medical_info_available  # R-D7: read with identity, outside grace


def test_F1_card_invalid_returns_the_ended_qualification(world, today):
    m = world.member(card=CARD)
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-04-30", notified="2026-05-01", loss_reason="03"))
    r = world.registry.lookup_by_card(FACILITY, m["serial"])
    assert r.validity is Validity.INVALID
    assert r.qualification.end == D("2026-04-30") and r.qualification.loss_reason == "03"


def test_F1_card_registered_date_decides_visibility(world, today):
    """The central system knows a qualification only from the day it was registered."""
    today("2026-04-01")
    m = world.member(card=CARD | {"registered_on": "2022-04-01"}, start="2026-03-20", notified="2026-03-25")  # registered 2026-04-01
    assert world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-03-31")).validity is Validity.NOT_FOUND
    assert world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-04-01")).validity is Validity.VALID


def test_F1_card_new_job_not_yet_registered_gives_invalid_with_old(world, today):
    """R-D2: the old insurer registered the loss, the new one has not registered yet."""
    today("2026-03-01")
    m = world.member(card=CARD)
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-03-31", notified="2026-03-01", loss_reason="03"))
    today("2026-04-15")
    world.member(KUMIAI, my_number=m["my_number"], symbol="88", number="1207", start="2026-04-01", notified="2026-04-10")
    assert world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-04-08")).validity is Validity.INVALID
    r = world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-04-15"))
    assert r.validity is Validity.VALID and r.qualification.insurer_number == KUMIAI


def test_F1_numbers_valid_invalid_new_and_not_found(world, today):
    today("2026-03-01")
    m = world.member(card=CARD)
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-03-31", notified="2026-03-01", loss_reason="03"))
    assert world.registry.lookup_by_numbers(FACILITY, numbers(m), day=D("2026-03-31")).validity is Validity.VALID
    today("2026-04-20")
    assert world.registry.lookup_by_numbers(FACILITY, numbers(m), day=D("2026-04-10")).validity is Validity.INVALID
    world.member(KUMIAI, my_number=m["my_number"], symbol="88", number="1207", start="2026-04-01", notified="2026-04-15")
    r = world.registry.lookup_by_numbers(FACILITY, numbers(m), day=D("2026-04-20"))
    assert r.validity is Validity.INVALID_NEW
    assert r.qualification.insurer_number == KYOKAI_TOKYO  # the queried one, ended
    assert world.registry.lookup_by_numbers(FACILITY, numbers(m, number="99999")).validity is Validity.NOT_FOUND
    assert world.registry.lookup_by_numbers(FACILITY, numbers(m, birth_date="1980-06-16")).validity is Validity.NOT_FOUND


def test_F1_numbers_accept_width_spaces_and_missing_optional_fields(world):
    m = world.member(KOKUHO, symbol="練01", branch="01")
    q = parse_number_query("  138057", "練０１", "".join(chr(ord(c) + 0xFEE0) for c in m["number"]), "1", "19800615")
    assert world.registry.lookup_by_numbers(FACILITY, q).validity is Validity.VALID
    q = parse_number_query("00138057", None, m["number"], None, "1980-06-15")
    assert world.registry.lookup_by_numbers(FACILITY, q).validity is Validity.VALID


def test_F1_numbers_twins_without_branch_are_multiple(world):
    a = world.member(name="佐藤 一郎", kana="サトウ イチロウ", birth_date="2010-05-05", number="777", branch="01", relation="family")
    world.member(name="佐藤 二郎", kana="サトウ ジロウ", birth_date="2010-05-05", number="777", branch="02", relation="family")
    assert world.registry.lookup_by_numbers(FACILITY, numbers(a, branch=None)).validity is Validity.MULTIPLE
    assert world.registry.lookup_by_numbers(FACILITY, numbers(a)).validity is Validity.VALID


def test_F1_numbers_reject_bad_input_naming_fields(world):
    with pytest.raises(InputError) as e:
        parse_number_query("01130013", "", "", "123", "2026-02-30")
    fields = {x.field for x in e.value.errors}
    assert fields == {"insurer_number", "number", "branch", "birth_date"}
    with pytest.raises(InputError) as e:  # valid check digit, but no such insurer
        world.registry.lookup_by_numbers(FACILITY, parse_number_query("01140011", "", "1", "", "1980-01-01"))
    assert e.value.errors[0].field == "insurer_number"


def test_R_B2_card_in_grace_gives_qualification_without_medical_info(world, today):
    # born 1988-02-10, issued 2021-03-01 → certificate expires 2026-02-10, grace to 2026-05-31
    today("2021-10-20")
    m = world.member(birth_date="1988-02-10", card={"issued": "2021-03-01", "registered_on": "2021-10-20"})
    r = world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-04-20"))
    assert r.validity is Validity.VALID and r.card.in_grace and "cert_grace" in r.card.alerts
    assert not r.medical_info_available
    r = world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-05-31"))
    assert r.validity is Validity.VALID
    r = world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-06-01"))
    assert r.validity is None and r.error == "cert_expired"  # R-B4


def test_R_B3_expiry_alert_three_months_before(world):
    m = world.member(birth_date="1988-09-30", card={"issued": "2022-03-01"})  # cert 2026-09-30
    assert world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-06-29")).card.alerts == ()
    assert world.registry.lookup_by_card(FACILITY, m["serial"], day=D("2026-06-30")).card.alerts == ("cert_expiring",)


def test_card_not_registered_for_insurance_or_no_identity_cannot_verify(world):
    m = world.member(card={"issued": "2022-03-01", "registered": False})
    assert world.registry.lookup_by_card(FACILITY, m["serial"]).error == "not_registered"
    n = world.member(name="鈴木 花子", kana="スズキ ハナコ", sex=2, card=CARD)
    assert world.registry.lookup_by_card(FACILITY, n["serial"], identity="none").error == "identity_not_verified"
    assert world.registry.lookup_by_card(FACILITY, n["serial"], identity="visual").validity is Validity.VALID  # R-C4
    assert world.registry.lookup_by_card(FACILITY, "NOSUCHCARD").error == "card_not_found"


def test_R_D4_names_outside_jis_x_0208_come_back_masked(world):
    world.resident(name="𠮷田 德子", kana="ヨシダ ノリコ", birth_date="1970-01-01", sex=2)
    m = world.member(name="𠮷田 德子", kana="ヨシダ ノリコ", birth_date="1970-01-01", sex=2, my_number=None, card=CARD)
    r = world.registry.lookup_by_card(FACILITY, m["serial"])
    assert r.person.name == "●田 ●子"
    with world.engine.connect() as conn:  # the stored name keeps the original
        assert conn.execute(select(schema.qualification.c.name).where(schema.qualification.c.person_id == r.person_id)).scalar_one() == "𠮷田 德子"


def test_R_D5_dv_flagged_member_has_no_address_in_any_lookup(world):
    m = world.member(card=CARD, dv_flag=True, address="東京都千代田区霞が関1-2-2", postcode="100-8916")
    for r in (world.registry.lookup_by_card(FACILITY, m["serial"]), world.registry.lookup_by_numbers(FACILITY, numbers(m))):
        assert r.person.address is None and r.person.postcode is None
        assert "霞が関" not in str(r.to_dict())


def test_limit_category_only_with_consent(world):
    m = world.member(card=CARD, limit_category="A03", limit_start="2026-04-01", limit_end="2027-03-31")
    assert world.registry.lookup_by_card(FACILITY, m["serial"]).qualification.limit_category is None
    r = world.registry.lookup_by_card(FACILITY, m["serial"], limit_consent=True)
    assert r.qualification.limit_category == "A03" and r.qualification.limit_end == D("2027-03-31")


def test_R_P4_kouki_member_copay_from_the_insurer_ratio(world):
    m = world.member(KOUKI_TOKYO, birth_date="1948-03-03", start="2023-03-03", kouki_ratio=0.2, card=CARD)
    r = world.registry.lookup_by_card(FACILITY, m["serial"])
    assert r.qualification.kouki and r.qualification.copay_ratio == 0.2


def test_R_P3_elderly_recipient_copay(world):
    m = world.member(birth_date="1955-05-01", income="high", card=CARD)  # 70 from 2025-05
    r = world.registry.lookup_by_numbers(FACILITY, numbers(m))
    assert r.qualification.elderly and r.qualification.copay_ratio == 0.3


def test_every_lookup_is_logged_with_facility_method_and_result(world):
    m = world.member(card=CARD)
    world.registry.lookup_by_card(FACILITY, m["serial"])
    world.registry.lookup_by_card(FACILITY, "NOSUCHCARD")
    world.registry.lookup_by_numbers(FACILITY, numbers(m))
    rows = world.registry.log.for_facility(FACILITY)
    assert [(r["method"], r["result"], r["error"]) for r in rows] == [
        ("my_number_card", "valid", None), ("my_number_card", "error", "card_not_found"), ("number_inquiry", "valid", None),
    ]
    assert rows[0]["person_id"] == rows[2]["person_id"] is not None


def test_verification_log_is_append_only(world):
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    m = world.member(card=CARD)
    world.registry.lookup_by_card(FACILITY, m["serial"])
    for stmt in (update(schema.verification).values(result="valid"), delete(schema.verification)):
        with pytest.raises(DBAPIError), world.engine.begin() as conn:
            conn.execute(stmt)
    with world.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.verification)).scalar_one() == 1


def test_buffered_log_writes_on_flush(engine, today):
    from onshi.registry.service import Registry

    world = World.build(engine)
    m = world.member(card=CARD)
    buffered = Registry(engine, buffered_log=True)
    for _ in range(5):
        buffered.lookup_by_card(FACILITY, m["serial"])
    buffered.close()
    assert len(world.registry.log.for_facility(FACILITY)) == 5


def test_the_reader_pool_is_bounded_and_waits_for_a_free_connection(world):
    """More threads than connections: they wait instead of opening connections of their own."""
    from concurrent.futures import ThreadPoolExecutor

    from onshi.registry.store import Reader

    m = world.member(card=CARD)
    world.registry.reader = Reader(world.engine, size=2)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: world.registry.lookup_by_card(FACILITY, m["serial"]), range(40)))
    assert all(r.validity is Validity.VALID for r in results)
    assert world.registry.reader._open <= 2
    world.registry.reader.close()
