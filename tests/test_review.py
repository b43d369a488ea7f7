"""The review (審査支払機関): 変更なし (R-R3), 振替 (R-R1), 分割 (R-R2), 返戻 and re-claim (R-R4),
不詳 identification (R-R5); on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from onshi.claims import service, uke
from onshi.claims.models import Claim, FacilityHeader, Remarks
from onshi.domain.errors import Conflict, Forbidden
from onshi.registry import schema

from factories import FACILITY, KOKUHO, KUMIAI, KYOKAI_TOKYO, World
from test_claims import COMPLETE_REMARKS, MAY, add_visit

JUNE, JULY = dt.date(2026, 6, 1), dt.date(2026, 7, 1)
ADDRESS = "東京都千代田区霞が関1-2-2"


def job_change(world: World, today, *, new_registered: str | None = "2026-06-05", new_start: str = "2026-05-11") -> tuple[dict, dict | None]:  # noqa: ANN001
    """山田 leaves 協会けんぽ on 2026-05-10 and joins a 健保組合 from `new_start`; the 組合
    registers on `new_registered` (None: not yet)."""
    old = world.member(KYOKAI_TOKYO, symbol="5012", number="341", address=ADDRESS)
    world.registry.operate(KYOKAI_TOKYO, "loss", {"request_id": "loss-341", "symbol": "5012", "number": "341", "branch": "00",
                                                  "notified": "2026-05-11", "end": "2026-05-10", "loss_reason": "03"})
    new = None
    if new_registered:
        today(new_registered)
        new = world.member(KUMIAI, my_number=old["my_number"], symbol="88", number="17", start=new_start, notified=new_start, address=ADDRESS)
        today("2026-05-12")
    return old, new


def file_may(engine) -> None:  # noqa: ANN001
    service.build(engine, FACILITY, MAY)
    service.write(engine, FACILITY, MAY, include_failing=True)


def decisions(engine, run_id: int) -> dict[str, dict]:  # noqa: ANN001
    r, c = schema.claim_review, schema.claim
    with engine.connect() as conn:
        rows = conn.execute(select(c.c.patient_ref, r).where(r.c.run_id == run_id, r.c.claim_id == c.c.id).order_by(r.c.part)).mappings().all()
    out: dict[str, dict] = {}
    for row in rows:
        entry = out.setdefault(row["patient_ref"], {"parts": []})
        if row["part"] == 0:
            entry.update(dict(row))
        else:
            entry["parts"].append(dict(row))
    return out


def status_of(engine, claim_id: int) -> str:  # noqa: ANN001
    return service.claim_status(engine, claim_id)["status"]


def test_r_r3_valid_billed_qualification_is_unchanged(engine, world):
    m = world.member()
    add_visit(engine, member=m, date="2026-05-12")
    add_visit(engine, member=m, date="2026-05-26")
    file_may(engine)
    result = service.review(engine, JUNE, dt.date(2026, 6, 10))
    assert result["summary"] == {"claims": 1, "unchanged": 1, "rerouted": 0, "split": 0, "returned": 0}
    d = decisions(engine, result["run_id"])["P001"]
    assert d["confirm_code"] == "02" and d["rule"] == "R-R3" and d["parts"] == []
    assert service.list_claims(engine, FACILITY, MAY)[0]["status"] == "paid"


def test_r_r1_lost_qualification_is_rerouted_to_the_registered_new_one(engine, world, today):
    old, new = job_change(world, today)
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-15")
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-20")
    file_may(engine)
    result = service.review(engine, JUNE, dt.date(2026, 6, 10))
    d = decisions(engine, result["run_id"])["P001"]
    assert (d["outcome"], d["confirm_code"], d["rule"]) == ("rerouted", "04", "R-R1")
    assert (d["insurer_number"], d["symbol"], d["number"]) == (KUMIAI, "88", "17")
    report = service.report(engine, result["run_id"], FACILITY)["facilities"][0]
    assert report["rerouted"] == 1 and report["rerouted_claims"][0]["to"]["insurer_number"] == KUMIAI


def test_r_r2_month_split_between_two_insurers(engine, world, today):
    old, new = job_change(world, today)
    add_visit(engine, member=old, date="2026-05-08")  # still 協会けんぽ
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-20")  # the new 組合 not yet known
    file_may(engine)
    result = service.review(engine, JUNE, dt.date(2026, 6, 10))
    d = decisions(engine, result["run_id"])["P001"]
    assert (d["outcome"], d["confirm_code"], d["rule"]) == ("split", "05", "R-R2")
    parts = [(p["insurer_number"], p["days"], p["days_mask"]) for p in d["parts"]]
    assert parts == [(KYOKAI_TOKYO, 1, 1 << 7), (KUMIAI, 1, 1 << 19)]
    assert result["summary"]["split"] == 1


def test_r_r4_returned_when_nothing_is_registered_then_reclaimed_and_paid_once(engine, world, today):
    old, new = job_change(world, today, new_registered="2026-06-20")
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-15")
    file_may(engine)
    first = service.review(engine, JUNE, dt.date(2026, 6, 10))  # the 組合 registers on 06-20
    d = decisions(engine, first["run_id"])["P001"]
    assert (d["outcome"], d["confirm_code"], d["rule"]) == ("returned", "03", "R-R4")
    assert "registered by 2026-06-10" in d["reason"]
    returned = service.report(engine, first["run_id"], FACILITY)["facilities"][0]["returns"]
    assert [r["rule"] for r in returned] == ["R-R4"] and returned[0]["patient_ref"] == "P001"
    claim_id = d["claim_id"]
    assert status_of(engine, claim_id) == "returned"

    again = service.reclaim(engine, FACILITY, claim_id, JULY)  # R-R4: paid after the insurer registers and the facility re-claims
    assert again["status"] == "filed" and again["reclaim_of"] == claim_id and again["billing_month"] == "2026-07"
    second = service.review(engine, JULY, dt.date(2026, 7, 10))
    d2 = decisions(engine, second["run_id"])["P001"]
    assert (d2["outcome"], d2["insurer_number"]) == ("rerouted", KUMIAI)
    assert status_of(engine, again["id"]) == "paid" and status_of(engine, claim_id) == "reclaimed"
    with pytest.raises(Conflict):
        service.reclaim(engine, FACILITY, claim_id, dt.date(2026, 8, 1))  # already re-claimed
    with pytest.raises(Conflict):
        service.reclaim(engine, FACILITY, again["id"], dt.date(2026, 8, 1))  # paid once
    assert service.review(engine, JULY, dt.date(2026, 7, 11))["summary"]["claims"] == 0  # nothing left to pay twice


def test_reclaim_with_the_current_numbers_is_unchanged(engine, world, today):
    old, new = job_change(world, today, new_registered="2026-06-20")
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-15")
    file_may(engine)
    run = service.review(engine, JUNE, dt.date(2026, 6, 10))["run_id"]
    claim_id = decisions(engine, run)["P001"]["claim_id"]
    with pytest.raises(Forbidden):
        service.reclaim(engine, "1310000025", claim_id, JULY)
    again = service.reclaim(engine, FACILITY, claim_id, JULY, numbers={"insurer_number": KUMIAI, "symbol": "88", "number": "17", "branch": "00"})
    assert again["insurer_number"] == KUMIAI and again["basis"] == "declared"
    d = decisions(engine, service.review(engine, JULY, dt.date(2026, 7, 10))["run_id"])["P001"]
    assert (d["outcome"], d["rule"]) == ("unchanged", "R-R3")


def test_r_r4_unknown_numbers_are_returned(engine, world):
    add_visit(engine, basis="declared", insurer=KYOKAI_TOKYO, symbol="1", number="999999")
    file_may(engine)
    d = decisions(engine, service.review(engine, JUNE, dt.date(2026, 6, 10))["run_id"])["P001"]
    assert (d["outcome"], d["rule"]) == ("returned", "R-R4") and "match no qualification" in d["reason"]


def test_r_r5_unknown_claim_identified_by_kana_birth_sex_and_address(engine, world):
    m = world.member(address=ADDRESS)
    remarks = COMPLETE_REMARKS | {"kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "address": "東京都千代田区霞が関一丁目2番2号"}  # folded before matching
    add_visit(engine, basis="unknown", remarks=remarks)
    file_may(engine)
    d = decisions(engine, service.review(engine, JUNE, dt.date(2026, 6, 10))["run_id"])["P001"]
    assert (d["outcome"], d["confirm_code"], d["rule"]) == ("rerouted", "04", "R-R5")
    assert (d["insurer_number"], d["number"]) == (KYOKAI_TOKYO, m["number"])


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"address": None}, "incomplete remarks (missing address)"),
        ({"kana": None}, "incomplete remarks (missing kana name)"),
        ({"address": "大阪府大阪市北区梅田1-1-1"}, "no registered person matches"),
    ],
)
def test_r_r5_unknown_claim_returned_when_remarks_are_incomplete_or_match_nobody(engine, world, change, reason):
    world.member(address=ADDRESS)
    remarks = {k: v for k, v in (COMPLETE_REMARKS | change).items() if v is not None}
    add_visit(engine, basis="unknown", remarks=remarks, kana=None if "kana" in change else "ヤマダ タロウ")
    file_may(engine)
    d = decisions(engine, service.review(engine, JUNE, dt.date(2026, 6, 10))["run_id"])["P001"]
    assert (d["outcome"], d["rule"]) == ("returned", "R-R5") and reason in d["reason"]


def test_report_per_facility_and_reviewed_uke_with_sn_codes(engine, world, today):
    old, new = job_change(world, today)
    other = world.member(KOKUHO, name="練馬 花子", kana="ネリマ ハナコ", birth_date="1975-02-03", sex=2, symbol="", number="55")
    add_visit(engine, member=old, date="2026-05-08")
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-20")
    add_visit(engine, patient="P002", member=other, sex=2)
    add_visit(engine, patient="P003", basis="declared", insurer=KYOKAI_TOKYO, symbol="1", number="999999")
    file_may(engine)
    run = service.review(engine, JUNE, dt.date(2026, 6, 10))
    assert run["summary"] == {"claims": 3, "unchanged": 1, "rerouted": 0, "split": 1, "returned": 1}
    report = service.report(engine, run["run_id"], FACILITY)
    entry = report["facilities"][0]
    assert (entry["claims"], entry["unchanged"], entry["split"], entry["returned"]) == (3, 1, 1, 1)
    assert [r["patient_ref"] for r in entry["returns"]] == ["P003"]
    assert [p["insurer_number"] for p in entry["split_claims"][0]["parts"]] == [KYOKAI_TOKYO, KUMIAI]

    files = {f.payer: f for f in service.reviewed_files(engine, run["run_id"], FACILITY)}
    shaho = uke.read(files["1"].content)
    sn = [(c.claim.confirm_code, c.claim.care_days, (c.claim.confirmed or c.claim.numbers).insurer_number) for c in shaho.claims]
    assert sn == [("05", (8,), KYOKAI_TOKYO), ("05", (20,), KUMIAI)]  # one claim per qualification, the returned one left out
    kokuho = uke.read(files["2"].content)
    assert [c.claim.confirm_code for c in kokuho.claims] == ["02"]


def test_claims_from_a_uke_file_are_reviewed_like_built_ones(engine, world, today):
    old, new = job_change(world, today)
    claims = [
        Claim("1310000033", MAY, "A1", "山田 太郎", dt.date(1980, 6, 15), KYOKAI_TOKYO, "341", (15, 22), 30, 150, symbol="5012", branch="00",
              kana="ヤマダ タロウ", sex=1, relation="self", receipt_no=1),
        Claim("1310000033", MAY, "A2", "山田 太郎", dt.date(1980, 6, 15), "77777777", "77777777", (3,), 30, 291, symbol="7777",
              kana="ヤマダ タロウ", sex=1, relation="self", unknown=True, receipt_no=2,
              remarks=Remarks.from_mapping(COMPLETE_REMARKS | {"address": ADDRESS})),
    ]
    text = uke.write(FacilityHeader("1310000033", "霞が関第二診療所", JUNE, "1"), claims, era=True)
    loaded = service.load_file(engine, uke.encode(text))
    assert loaded["claims"] == 2 and loaded["facility_code"] == "1310000033"
    with pytest.raises(Conflict):
        service.load_file(engine, uke.encode(text))
    run = service.review(engine, JUNE, dt.date(2026, 6, 10))
    d = decisions(engine, run["run_id"])
    assert (d["A1"]["outcome"], d["A1"]["rule"], d["A1"]["insurer_number"]) == ("rerouted", "R-R1", KUMIAI)
    assert (d["A2"]["outcome"], d["A2"]["rule"], d["A2"]["insurer_number"]) == ("rerouted", "R-R5", KYOKAI_TOKYO)  # care on 05-03: 協会けんぽ


def test_payer_filter_reviews_one_body_only(engine, world):
    m = world.member()
    k = world.member(KOKUHO, name="練馬 花子", kana="ネリマ ハナコ", birth_date="1975-02-03", sex=2, symbol="", number="55")
    add_visit(engine, member=m)
    add_visit(engine, patient="P002", member=k, sex=2)
    file_may(engine)
    first = service.review(engine, JUNE, dt.date(2026, 6, 10), payer="2")
    assert first["summary"]["claims"] == 1 and first["payer"] == "2"
    assert service.review(engine, JUNE, dt.date(2026, 6, 10))["summary"]["claims"] == 1  # the 社保 one is still there
