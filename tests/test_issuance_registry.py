"""What the registry holds for the issuance rules (issue 12 item 3), on every backend: the events
the insurer operations record (R-I4a, R-I4b, R-I5, R-I7c), applications for a 資格確認書
(R-I3f), 利用登録解除 and カード返納 (R-I3c), the mailing address a member gave (R-I3e), and
each insurer's options and print settings — each validated, idempotent under a request id,
and only for the insurer's own members."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from onshi.domain.errors import Conflict, Forbidden, InputError, NotFound
from onshi.issuance.models import InsurerOptions
from onshi.issuance.settings import settings_of, write_settings
from onshi.registry import schema

from factories import FACILITY, KOKUHO, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO

D = dt.date.fromisoformat
CARD = {"issued": "2022-03-01", "registered_on": "2022-04-01"}


def events(world, qualification_id: int) -> list[tuple]:  # noqa: ANN001
    e = schema.member_event
    with world.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(e.c.kind, e.c.date, e.c.recorded).where(e.c.qualification_id == qualification_id).order_by(e.c.id))]


def test_R_I4a_R_I5_an_acquisition_records_enrolment_and_registration(world, today):
    today("2026-05-12")
    m = world.member(start="2026-05-01", notified="2026-05-08")
    assert events(world, m["qualification_id"]) == [("acquisition", D("2026-05-01"), D("2026-05-12")), ("registration_done", D("2026-05-12"), D("2026-05-12"))]


def test_R_I4b_changes_record_the_events_that_send_a_document(world, today):
    today("2026-05-12")
    m = world.member(KOUKI_TOKYO, name="髙橋 花子", kana="タカハシ ハナコ", symbol="", number="12345678", branch="", birth_date="1945-03-03", kouki_ratio=10)
    qid = m["qualification_id"]
    base = dict(symbol="", number="12345678", branch="", notified="2026-05-10")
    world.registry.operate(KOUKI_TOKYO, "change", base | {"request_id": "c1", "kouki_ratio": 20})
    world.registry.operate(KOUKI_TOKYO, "change", base | {"request_id": "c2", "kouki_ratio": 20, "postcode": "100-0001"})  # same ratio: no event
    world.registry.operate(KOUKI_TOKYO, "change", base | {"request_id": "c3", "name": "高橋 花子"})  # the insurer corrects to the common form (R-I2 tolerant)
    world.registry.operate(KOUKI_TOKYO, "change", base | {"request_id": "c4", "new_number": "22345678"})
    kinds = [k for k, *_ in events(world, qid)]
    assert kinds == ["acquisition", "registration_done", "copay_changed", "name_changed", "numbers_changed", "registration_done"]
    assert events(world, qid)[2] == ("copay_changed", D("2026-05-10"), D("2026-05-12"))  # dated the notified day
    world.registry.operate(KOUKI_TOKYO, "change", {"request_id": "c5", "symbol": "", "number": "22345678", "branch": "", "notified": "2026-05-11",
                                                   "dv_flag": True, "mailing_address": "福岡県福岡市中央区天神1-8-1", "mailing_postcode": "810-0001"})
    assert [k for k, *_ in events(world, qid)][6:] == ["dv_flag"]  # R-I3e: the run finds the member (a mailing address is no event)


def test_R_I7c_a_loss_records_its_last_day(world, today):
    today("2026-05-12")
    m = world.member()
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l1", symbol="1234", number=m["number"], branch="00", end="2026-05-31", notified="2026-05-11"))
    assert events(world, m["qualification_id"])[-1] == ("loss", D("2026-05-31"), D("2026-05-12"))


def test_R_I3e_the_mailing_address_is_the_insurers_own(world):
    m = world.member(dv_flag=True, mailing_address="福岡県福岡市中央区天神1-8-1 支援センター気付", mailing_postcode="8100001")
    with world.engine.connect() as conn:
        row = conn.execute(select(schema.qualification.c.mailing_address, schema.qualification.c.mailing_postcode)
                           .where(schema.qualification.c.id == m["qualification_id"])).one()
    assert tuple(row) == ("福岡県福岡市中央区天神1-8-1 支援センター気付", "810-0001")
    with pytest.raises(InputError) as exc:
        world.member(number="4444", mailing_address="どこか")
    assert exc.value.errors[0].field == "mailing_postcode"


# ---------------------------------------------------------------- applications (R-I3f)


def apply(world, m: dict, request_id: str = "a1", **over):  # noqa: ANN001, ANN201
    body = dict(request_id=request_id, symbol=m["symbol"], number=m["number"], branch=m["branch"], date="2026-05-10", reason="care") | over
    return world.registry.operate(m["insurer"], "application", body)


def test_R_I3f_an_application_is_recorded_once_under_its_request_id(world, today):
    today("2026-05-12")
    m = world.member()
    first = apply(world, m)
    assert first.body["reason"] == "care" and first.body["date"] == "2026-05-10" and not first.replayed
    again = apply(world, m)
    assert again.replayed and again.body == first.body
    with pytest.raises(Conflict) as exc:
        apply(world, m, request_id="a1", reason="other")  # the same id for another request
    assert exc.value.field == "request_id"
    with pytest.raises(Conflict) as exc:
        apply(world, m, request_id="a2")  # the same application under a new id
    assert exc.value.field == "date"
    apply(world, m, request_id="a3", reason="card_lost")
    with world.engine.connect() as conn:
        rows = conn.execute(select(schema.certificate_application.c.reason, schema.certificate_application.c.decision)).all()
    assert sorted(rows) == [("card_lost", None), ("care", None)]


@pytest.mark.parametrize("over,field", [
    ({"reason": "bored"}, "reason"), ({"date": "2026-05-13"}, "date"), ({"date": "20260510x"}, "date"), ({"number": ""}, "number"),
    ({"request_id": ""}, "request_id"), ({"extra": 1}, "extra"),
])
def test_bad_applications_name_their_field_and_store_nothing(world, today, over, field):
    today("2026-05-12")
    m = world.member()
    with pytest.raises(InputError) as exc:
        apply(world, m, **over)
    assert field in [e.field for e in exc.value.errors]
    with world.engine.connect() as conn:
        assert conn.execute(select(schema.certificate_application)).first() is None


def test_an_insurer_applies_only_for_its_own_current_members(world, today):
    today("2026-05-12")
    m = world.member(KYOKAI_TOKYO)
    with pytest.raises(NotFound) as exc:  # another insurer's member: not found there, nothing said about them
        world.registry.operate(KUMIAI, "application", dict(request_id="x", symbol=m["symbol"], number=m["number"], branch="00",
                                                                        date="2026-05-10", reason="care"))
    assert exc.value.status == 404 and "1234" in str(exc.value) and "山田" not in str(exc.value)
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l", symbol="1234", number=m["number"], branch="00", end="2026-04-30", notified="2026-05-01"))
    with pytest.raises(Conflict):
        apply(world, m, request_id="late", date="2026-04-20")


# ---------------------------------------------------------------- 利用登録解除, カード返納 (R-I3c)


def test_R_I3c_a_cancelled_registration_stops_the_card_and_a_new_one_starts_it(world, today):
    today("2026-05-12")
    m = world.member(card=CARD)
    r = world.registry.operate(KYOKAI_TOKYO, "card_cancellation", {"request_id": "k1", "serial": m["serial"], "cancelled_on": "2026-05-11"})
    assert r.body["registration_cancelled"] == "2026-05-11"
    lookup = world.registry.lookup_by_card(FACILITY, m["serial"])
    assert lookup.error == "not_registered"  # the card no longer answers as マイナ保険証
    assert world.registry.operate(KYOKAI_TOKYO, "card_cancellation", {"request_id": "k1", "serial": m["serial"], "cancelled_on": "2026-05-11"}).replayed
    with pytest.raises(Conflict):
        world.registry.operate(KYOKAI_TOKYO, "card_cancellation", {"request_id": "k2", "serial": m["serial"]})
    world.registry.operate(KYOKAI_TOKYO, "card_registration", {"request_id": "k3", "serial": m["serial"]})
    with world.engine.connect() as conn:
        row = conn.execute(select(schema.card.c.insurance_registered, schema.card.c.registration_cancelled).where(schema.card.c.serial == m["serial"])).one()
    assert tuple(row) == (D("2026-05-12"), None)


def test_R_I3c_a_returned_card_no_longer_verifies(world, today):
    today("2026-05-12")
    m = world.member(card=CARD)
    with pytest.raises(InputError) as exc:
        world.registry.operate(KYOKAI_TOKYO, "card_return", {"request_id": "r0", "serial": m["serial"], "returned_on": "2026-06-01"})
    assert exc.value.errors[0].field == "returned_on"
    world.registry.operate(KYOKAI_TOKYO, "card_return", {"request_id": "r1", "serial": m["serial"], "returned_on": "2026-05-01"})
    assert world.registry.lookup_by_card(FACILITY, m["serial"]).error == "card_revoked"
    with pytest.raises(Conflict):
        world.registry.operate(KYOKAI_TOKYO, "card_return", {"request_id": "r2", "serial": m["serial"]})


def test_card_operations_only_for_the_insurers_own_members(world, today):
    today("2026-05-12")
    m = world.member(KYOKAI_TOKYO, card=CARD)
    for kind in ("card_cancellation", "card_return"):
        with pytest.raises(Forbidden) as exc:
            world.registry.operate(KOKUHO, kind, {"request_id": f"x-{kind}", "serial": m["serial"]})
        assert exc.value.status == 403
        with pytest.raises(NotFound):
            world.registry.operate(KYOKAI_TOKYO, kind, {"request_id": f"y-{kind}", "serial": "ZZZZZZZZZZZZ"})
    with world.engine.connect() as conn:
        row = conn.execute(select(schema.card).where(schema.card.c.serial == m["serial"])).mappings().one()
    assert row["revoked"] is None and row["insurance_registered"] is not None


# ---------------------------------------------------------------- options and print settings


def test_settings_are_validated_insurer_options_and_idempotent(world, today):
    today("2026-05-12")
    assert settings_of(world.engine, KOKUHO).options == InsurerOptions() and settings_of(world.engine, KOKUHO).certificate_form == "card"
    body = {"request_id": "s1", "options": {"annual_end": "03-31", "certificate_to_all": True}, "certificate_form": "postcard",
            "issuer_name": "練馬区長", "sender_postcode": "176-8501", "sender_address": "東京都練馬区豊玉北6-12-1", "phone": "03-3993-1111"}
    r = write_settings(world.engine, KOKUHO, body)
    assert r.body["options"] == {"annual_end": "03-31", "certificate_to_all": True} and r.body["certificate_form"] == "postcard"
    assert write_settings(world.engine, KOKUHO, body).replayed
    s = settings_of(world.engine, KOKUHO)
    assert s.options.explicit() == {"annual_end": "03-31", "certificate_to_all": True}
    assert s.print_insurer.issuer_name == "練馬区長" and s.print_insurer.address.postal_display == "176-8501"
    with world.engine.connect() as conn:
        stored = json.loads(conn.execute(select(schema.issuance_setting.c.options)).scalar_one())
    assert stored == InsurerOptions(annual_end="03-31", certificate_to_all=True).stored()
    write_settings(world.engine, KOKUHO, {"request_id": "s2", "options": {"annual_end": None, "certificate_years": 2}})
    s = settings_of(world.engine, KOKUHO)  # replaced whole: unset options take the policy default again
    assert s.options.explicit() == {"annual_end": None, "certificate_years": 2} and s.certificate_form == "card" and s.issuer_name is None
    assert s.print_insurer.issuer_name == "練馬区長"  # the default from the insurer's name


@pytest.mark.parametrize("body,field", [
    ({"options": {"annual_end": "02-29"}}, "options.annual_end"), ({"options": {"certificate_years": 0}}, "options.certificate_years"),
    ({"options": {"bonus": 1}}, "options.bonus"), ({"certificate_form": "electronic"}, "certificate_form"),
    ({"sender_postcode": "1"}, "sender_postcode"), ({"sender_postcode": "176-8501"}, "sender_address"),
    ({"options": {"certificate_until": "someday"}}, "options.certificate_until"),
])
def test_bad_settings_name_their_field(world, body, field):
    with pytest.raises(InputError) as exc:
        write_settings(world.engine, KOUKI_TOKYO, {"request_id": "bad"} | body)
    assert field in [e.field for e in exc.value.errors]
    with world.engine.connect() as conn:
        assert conn.execute(select(schema.issuance_setting)).first() is None
