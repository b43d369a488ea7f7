"""Issue 10 item 1: what each insurer asserts about a member is its own (per qualification);
a DV flag set by any insurer hides the address in every read channel until that insurer
lifts it (R-D5, ISSUANCE R-I3e); an insurer writes only members it currently insures."""

from __future__ import annotations

import logging

import orjson
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from onshi.domain.errors import Conflict, InputError
from onshi.interfaces.http.app import create_app
from onshi.interfaces.oqs_xml import codec, codes
from onshi.registry import db, members, schema
from onshi.registry.security import api_key_hash
from onshi.registry.service import parse_number_query

from factories import FACILITY, KUMIAI, KYOKAI_TOKYO, key
from test_fhir import by_card, by_numbers
from test_oqs_xml import search
from test_web_routes import login, visit

ADDRESS = "東京都千代田区霞が関1-2-2"  # the resident register's (factories.World)
FRAGMENT = "霞が関1-2-2"
POSTCODE = "100-8916"
CARD = {"issued": "2022-03-01"}
FK = {"X-API-Key": key("facility", FACILITY)}


def numbers(m: dict):  # noqa: ANN201
    return parse_number_query(m["insurer"], m["symbol"], m["number"], m["branch"], m["birth_date"])


def change(world, m: dict, request_id: str, insurer: str | None = None, **values) -> dict:  # noqa: ANN001, ANN003
    body = dict(request_id=request_id, symbol=m["symbol"], number=m["number"], branch=m["branch"], notified="2026-05-12", **values)
    return world.registry.operate(insurer or m["insurer"], "change", body).body


def second_insurer(world, m: dict, insurer: str = KUMIAI, **extra) -> dict:  # noqa: ANN001, ANN003
    """The same person acquired by another insurer (the attack of the issue: no DV flag sent)."""
    return world.member(insurer, my_number=m["my_number"], number="8801", start="2026-05-01", notified="2026-05-10",
                        address=ADDRESS, postcode=POSTCODE, **extra)


def every_channel(world, dv: dict) -> list[str]:  # noqa: ANN001
    """What every read channel answers about the member: JSON (both ways in), XML, FHIR, the pages, the log."""
    out = []
    for fast in (True, False):
        with TestClient(create_app(world.registry, fast_lookups=fast)) as c:
            out.append(c.post("/api/v1/lookups/card", json={"card_serial": dv["serial"], "identity": "face"}, headers=FK).text)
            out.append(c.post("/api/v1/lookups/numbers", headers=FK, json={
                "insurer_number": dv["insurer"], "symbol": dv["symbol"], "number": dv["number"], "branch": dv["branch"], "birth_date": dv["birth_date"]}).text)
    with TestClient(create_app(world.registry), follow_redirects=False) as c:
        xml = codec.inquiry_request(FACILITY, [search(dv)])
        r = c.post(f"/oqs/v1/{codes.SINGLE_INQUIRY}", content=xml, headers=FK)
        assert r.status_code == 200 and b"ResultOfQualificationConfirmation" in r.content
        out.append(r.content.decode())
        for body in (by_card(dv["serial"]), by_numbers(dv)):
            r = c.post("/fhir/r4/CoverageEligibilityRequest/$submit", content=orjson.dumps(body), headers=FK | {"content-type": "application/fhir+json"})
            assert r.status_code == 200 and "Patient" in r.text
            out.append(r.text)
        csrf = login(c, key("facility", FACILITY))
        page = visit(c, csrf, patient_ref="DV-1", presented="my_number_card", card_serial=dv["serial"])
        assert page.status_code == 200, page.text
        out += [page.text, c.get("/reception/today").text]
        out.append(c.get("/api/v1/verifications", headers=FK).text)
    return out


def test_R_D5_another_insurers_acquisition_cannot_clear_the_flag_in_any_channel(world, caplog):
    dv = world.member(KYOKAI_TOKYO, card=CARD, address=ADDRESS, postcode=POSTCODE, dv_flag=True)
    b = second_insurer(world, dv)  # insurer B acquires the same person without the flag (and with the address)
    assert b["person_id"] == dv["person_id"]
    with world.engine.connect() as conn:
        assert members.insurer_dv_flag(conn, KYOKAI_TOKYO, dv["person_id"]) is True  # A's flag is A's: untouched
        assert members.insurer_dv_flag(conn, KUMIAI, dv["person_id"]) is False
    caplog.set_level(logging.DEBUG)
    answers = every_channel(world, dv)
    assert all(FRAGMENT not in a and POSTCODE not in a for a in answers)
    assert FRAGMENT not in caplog.text and POSTCODE not in caplog.text
    # the lookup on B's own qualification hides it too: the flag protects the person
    r = world.registry.lookup_by_numbers(FACILITY, numbers(b | {"insurer": KUMIAI}))
    assert r.validity.value == "valid" and r.person.address is None and r.person.postcode is None


def test_each_insurer_keeps_its_own_member_data(world):
    a = world.member(KYOKAI_TOKYO, name="髙橋 一", kana="タカハシ ハジメ", address=ADDRESS, postcode=POSTCODE)
    world.member(KUMIAI, my_number=a["my_number"], name="高橋 一", kana="タカハシ ハジメ", number="8801", start="2026-05-01",
                 notified="2026-05-10", address="東京都千代田区霞が関一丁目2番2号", postcode="100-0013")
    change(world, a, "a-move", postcode="100-0001")
    on_a = world.registry.lookup_by_numbers(FACILITY, numbers(a))
    on_b = world.registry.lookup_by_numbers(FACILITY, numbers(a | {"insurer": KUMIAI, "number": "8801"}))
    assert (on_a.person.name, on_a.person.address, on_a.person.postcode) == ("●橋 一", ADDRESS, "100-0001")
    assert (on_b.person.name, on_b.person.address, on_b.person.postcode) == ("高橋 一", "東京都千代田区霞が関一丁目2番2号", "100-0013")


def test_R_D5_the_flag_lasts_until_the_insurer_that_set_it_lifts_it(world, today):
    a = world.member(KYOKAI_TOKYO, card=CARD, address=ADDRESS, postcode=POSTCODE, dv_flag=True)
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="a-loss", symbol=a["symbol"], number=a["number"], branch=a["branch"],
                                                      end="2026-04-30", notified="2026-05-01", loss_reason="03"))
    b = second_insurer(world, a)
    change(world, b | {"insurer": KUMIAI, "number": "8801"}, "b-lift", dv_flag=False)  # B lifts only its own
    assert world.registry.lookup_by_card(FACILITY, a["serial"]).person.address is None
    # A no longer insures the member, yet its flag is its own: it may lift it (and nothing else)
    with pytest.raises(Conflict) as refused:
        change(world, a, "a-name", name="髙橋 一", dv_flag=False)
    assert refused.value.field == "name"
    change(world, a, "a-lift", dv_flag=False)
    r = world.registry.lookup_by_card(FACILITY, a["serial"])
    assert r.qualification.insurer_number == KUMIAI and (r.person.address, r.person.postcode) == (ADDRESS, POSTCODE)
    change(world, a, "a-set-again", dv_flag=True)  # and set it again
    assert world.registry.lookup_by_card(FACILITY, a["serial"]).person.address is None


def test_a_former_insurer_cannot_change_or_end_its_ended_member_but_may_correct_the_loss(world, today):
    a = world.member(KYOKAI_TOKYO, card=CARD, address=ADDRESS)
    loss = dict(symbol=a["symbol"], number=a["number"], branch=a["branch"], notified="2026-05-01", loss_reason="03")
    world.registry.operate(KYOKAI_TOKYO, "loss", loss | dict(request_id="l1", end="2026-04-30"))
    before = _member_rows(world)
    for values in ({"address": "東京都千代田区霞が関1-2-3"}, {"name": "山田 太郎"}, {"new_number": "9999"}, {"income": "high"}):
        with pytest.raises(Conflict):
            change(world, a, f"c-{next(iter(values))}", **values)
    with pytest.raises(Conflict):  # a second loss is no loss: it would silently move the end
        world.registry.operate(KYOKAI_TOKYO, "loss", loss | dict(request_id="l2", end="2026-03-31"))
    with pytest.raises(Conflict) as e:  # a correction cannot reopen what has ended
        world.registry.operate(KYOKAI_TOKYO, "loss", loss | dict(request_id="l3", end="2026-12-31", correction=True))
    assert e.value.field == "end"
    with pytest.raises(InputError):  # nor correct what has no end
        world.registry.operate(KUMIAI, "loss", loss | dict(request_id="l4", end="2026-03-31", correction=True, number=second_insurer(world, a)["number"]))
    assert _member_rows(world, KYOKAI_TOKYO) == [r for r in before if r[0] == KYOKAI_TOKYO]
    body = world.registry.operate(KYOKAI_TOKYO, "loss", loss | dict(request_id="l5", end="2026-03-31", loss_reason="99", correction=True)).body
    assert (body["end"], body["corrected"], body["loss_reason"]) == ("2026-03-31", "2026-04-30", "99")


def test_migration_0008_moves_member_data_to_every_qualification_and_revokes_derived_keys(engine):
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "0005")
    try:
        _migrate_0005_rows(engine, cfg)
    finally:
        db.migrate(engine)


def _migrate_0005_rows(engine, cfg) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        conn.execute(insert(schema.insurer), [dict(number=n, name=n, kind="kyokai", prefecture=13) for n in (KYOKAI_TOKYO, KUMIAI)])
        conn.execute(text("INSERT INTO person (id, my_number_hash, name, kana, birth_date, sex, address, postcode, dv_flag) "
                          "VALUES (1, 'h', '山田 花子', 'ヤマダ ハナコ', '1980-01-01', 2, :a, '100-8916', true)"), {"a": ADDRESS})
        for qid, insurer, end in ((1, KYOKAI_TOKYO, "2026-03-31"), (2, KUMIAI, None)):
            conn.execute(text('INSERT INTO qualification (id, person_id, insurer_number, symbol, number, branch, relation, '
                              'card_classification, start, "end", income) VALUES (:id, 1, :i, \'1\', :n, \'00\', \'self\', \'01\', '
                              "'2020-01-01', :e, 'general')"), {"id": qid, "i": insurer, "n": str(qid), "e": end})
        derived = "fk_1310000017_" + __import__("hmac").new(b"onshi-demo-1", b"facility:1310000017", "sha256").hexdigest()[:24]
        conn.execute(text("INSERT INTO api_key (key_hash, role, subject, label) VALUES (:h, 'facility', '1310000017', ''), "
                          "(:r, 'facility', '1310000017', '')"), {"h": api_key_hash(derived), "r": api_key_hash("random-key")})
    db.migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(schema.qualification.c.id, schema.qualification.c.name, schema.qualification.c.address,
                                   schema.qualification.c.dv_flag).order_by(schema.qualification.c.id)).all()
        assert [tuple(r) for r in rows] == [(1, "山田 花子", ADDRESS, True), (2, "山田 花子", ADDRESS, True)]
        revoked = dict(conn.execute(select(schema.api_key.c.key_hash, schema.api_key.c.revoked_at.is_not(None))).all())
        assert revoked == {api_key_hash(derived): True, api_key_hash("random-key"): False}
    command.downgrade(cfg, "0005")  # and back: the person gets its newest qualification's data
    with engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT name, address, dv_flag FROM person")).one()) == ("山田 花子", ADDRESS, True)


def _member_rows(world, insurer: str | None = None) -> list[tuple]:  # noqa: ANN001
    q = schema.qualification
    stmt = select(q.c.insurer_number, q.c.name, q.c.kana, q.c.address, q.c.postcode, q.c.dv_flag, q.c.symbol, q.c.number, q.c.income, q.c.end)
    with world.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt.where(q.c.insurer_number == insurer) if insurer else stmt).all()]
