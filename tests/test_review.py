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
    text = uke.write(FacilityHeader("1310000033", "霞が関第二診療所", JUNE, "1"), claims)
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


# ---------------------------------------------------------------- claims read from files as real レセコン write them (R-R6, R-R7)

from uke_samples import jd, mf, rec, sample_bytes, si  # noqa: E402

FILE_FACILITY = "1310000033"


def file_of(*claims: list[str], billing: str = "202606") -> bytes:
    """A 医科 R04 file of FILE_FACILITY with the given claims (each a list of records)."""
    records = [line for claim in claims for line in claim]
    payers = sum(line.startswith(("HO,", "KO,")) for line in records)
    points = sum(int(line.split(",")[5]) for line in records if line.startswith("HO,"))
    points += sum(int(c[1].split(",")[5]) for c in claims if not c[1].startswith("HO,"))
    head = rec("1", "IR", {2: 1, 3: 13, 4: 1, 5: "0000033", 7: "霞が関第二診療所", 8: billing, 9: "00"})
    return sample_bytes([head, *records, rec("1", "GO", {2: payers, 3: points, 4: 99})], eof=True)


def yamada(no: int, kind: str = "1112", *, insurer: str = KYOKAI_TOKYO, symbol: str = "５０１２", number: str = "３４１",
           days: tuple[int, ...] = (8, 20), points: int = 291, with_jd: bool = False, with_mf: bool = True, sn: bool = True) -> list[str]:
    """A claim of 山田 太郎 on the given numbers: one SI per care day (points on the first)."""
    lines = [
        rec("1", "RE", {2: no, 3: kind, 4: "202605", 5: "山田　太郎", 6: 1, 7: "19800615", 14: f"Y{no}", 37: "ヤマダタロウ"}),
        rec("1", "HO", {2: insurer, 3: symbol, 4: number, 5: len(days), 6: points}),
    ]
    if sn:
        lines.append(rec("1", "SN", {2: 1, 3: "01"}))
    if with_jd:
        lines.append(jd("1", 1, {d: "1" for d in days}))
    if with_mf:
        lines.append(mf("1"))
    lines += [si("111000110", points if i == 0 else 0, 1, {d: 1}, care="11") for i, d in enumerate(days)]
    return lines


def moved_in_april(world: World, today) -> None:  # noqa: ANN001
    """山田 leaves 協会けんぽ on 2026-04-30 and is in a 健保組合 from 2026-05-01 (registered 06-05)."""
    old = world.member(KYOKAI_TOKYO, symbol="5012", number="341", address=ADDRESS)
    world.registry.operate(KYOKAI_TOKYO, "loss", {"request_id": "loss-341", "symbol": "5012", "number": "341", "branch": "00",
                                                  "notified": "2026-05-01", "end": "2026-04-30", "loss_reason": "03"})
    today("2026-06-05")
    world.member(KUMIAI, my_number=old["my_number"], symbol="88", number="17", start="2026-05-01", notified="2026-05-01", address=ADDRESS)
    today("2026-05-12")


def review_file(engine, data: bytes) -> tuple[dict, dict]:  # noqa: ANN001
    service.load_file(engine, data)
    run = service.review(engine, JUNE, dt.date(2026, 6, 10))
    return run, decisions(engine, run["run_id"])


def test_r_r6_without_jd_a_claim_is_not_split(engine, world, today):
    job_change(world, today)  # 協会けんぽ to 2026-05-10, 健保組合 from 05-11
    data = file_of(yamada(1, days=(8, 20)), yamada(2, days=(8, 20), with_jd=True))
    run, d = review_file(engine, data)
    assert (d["Y1"]["outcome"], d["Y1"]["rule"]) == ("returned", "R-R6") and "not split" in d["Y1"]["reason"]
    assert (d["Y2"]["outcome"], d["Y2"]["rule"]) == ("split", "R-R2")  # with JD the month is split (R-R2)
    assert [p["insurer_number"] for p in d["Y2"]["parts"]] == [KYOKAI_TOKYO, KUMIAI]


def test_r_r6_without_jd_a_claim_is_rerouted_whole_when_one_qualification_covers_the_month(engine, world, today):
    moved_in_april(world, today)
    run, d = review_file(engine, file_of(yamada(1, days=(8, 20))))
    assert (d["Y1"]["outcome"], d["Y1"]["rule"], d["Y1"]["insurer_number"]) == ("rerouted", "R-R1", KUMIAI)
    assert "R-R6" in d["Y1"]["reason"]


@pytest.mark.parametrize("points, kind, outcome", [(11_800, "1112", "rerouted"), (11_801, "1112", "returned"), (17_700, "1114", "rerouted"),
                                                   (4_001, "1118", "returned"), (4_000, "1118", "rerouted")])
def test_r_r7_without_mf_rerouted_only_up_to_the_points_of_its_class(engine, world, today, points, kind, outcome):
    moved_in_april(world, today)
    run, d = review_file(engine, file_of(yamada(1, kind, days=(8, 20), points=points, with_jd=True, with_mf=False)))
    assert d["Y1"]["outcome"] == outcome
    if outcome == "returned":
        assert d["Y1"]["rule"] == "R-R7" and "no MF record" in d["Y1"]["reason"]


def test_r_r7_with_mf_no_limit(engine, world, today):
    moved_in_april(world, today)
    run, d = review_file(engine, file_of(yamada(1, days=(8, 20), points=50_000, with_jd=True, with_mf=True)))
    assert (d["Y1"]["outcome"], d["Y1"]["rule"]) == ("rerouted", "R-R1")


def test_a_public_only_claim_passes_the_review_unchanged(engine, world):
    public_only = [
        rec("1", "RE", {2: 1, 3: 1212, 4: "202605", 5: "生保　次郎", 6: 1, 7: "19450101", 14: "G1", 37: "セイホジロウ"}),
        rec("1", "KO", {2: "12136014", 3: "1234567", 5: 1, 6: 282}),
        si("111000110", 282, 1, {22: 1}, care="11", payer="5"),
    ]
    run, d = review_file(engine, file_of(public_only))
    assert (d["G1"]["outcome"], d["G1"]["confirm_code"]) == ("unchanged", None)


def test_reviewed_files_of_file_claims_change_only_the_sn(engine, world, today):
    """Writing back after the review: each claim is its own records, with only the SN 確認区分
    (and, for a 振替, the numbers paid on) changed — an SN added where the claim had none."""
    moved_in_april(world, today)
    world.member(KOKUHO, name="練馬 花子", kana="ネリマ ハナコ", birth_date="1975-02-03", sex=2, symbol="", number="55")
    kokuho = [
        rec("1", "RE", {2: 1, 3: 1116, 4: "202605", 5: "練馬　花子", 6: 2, 7: "19750203", 8: 70, 14: "N1", 37: "ネリマハナコ"}),
        rec("1", "HO", {2: "  138057", 4: "５５", 5: 1, 6: 291, 12: 870}),
        rec("1", "SN", {2: 1, 3: "01"}),
        jd("1", 1, {3: "1"}),
        mf("1"),
        si("111000110", 291, 1, {3: 1}, care="11"),
    ]
    shaho = yamada(1, days=(8, 20), sn=False)
    service.load_file(engine, file_of(kokuho, billing="202606").replace(b"IR,1,", b"IR,2,", 1))
    service.load_file(engine, file_of(shaho))
    run = service.review(engine, JUNE, dt.date(2026, 6, 10))
    assert run["summary"] == {"claims": 2, "unchanged": 1, "rerouted": 1, "split": 0, "returned": 0}
    files = {f.payer: f.content.decode("cp932").split("\r\n") for f in service.reviewed_files(engine, run["run_id"], FILE_FACILITY)}
    assert files["2"][1:7] == [*kokuho[:2], "SN,1,02,,,,,,", *kokuho[3:]]
    assert files["1"][1:3] == shaho[:2] and files["1"][3] == "SN,1,04,06139984,８８,１７,00,,"
    assert files["1"][4:-2] == shaho[2:] and files["1"][-2] == "GO,0,0,99"
    assert uke.read("\r\n".join(files["1"]).encode("cp932")).claims[0].claim.confirmed.insurer_number == KUMIAI


def test_a_split_file_claim_keeps_each_parts_days(engine, world, today):
    job_change(world, today)
    claim = yamada(1, days=(8, 20), with_jd=True)
    claim[-1] = si("111000110", 291, 1, {20: 1}, care="11")  # both visits carry their points: 582 in all
    claim[1] = rec("1", "HO", {2: KYOKAI_TOKYO, 3: "５０１２", 4: "３４１", 5: 2, 6: 582})
    run, d = review_file(engine, file_of(claim))
    assert d["Y1"]["outcome"] == "split"
    [f] = service.reviewed_files(engine, run["run_id"], FILE_FACILITY)
    doc = uke.read(f.content)
    assert [(p.claim.care_days, p.claim.points, p.claim.days, (p.claim.confirmed or p.claim.numbers).insurer_number) for p in doc.claims] == [
        ((8,), 291, 1, KYOKAI_TOKYO), ((20,), 291, 1, KUMIAI)]
    assert [[r.type for r in p.records] for p in doc.claims] == [["RE", "HO", "SN", "JD", "MF", "SI"]] * 2


def test_slices_by_prefecture_decide_as_one_run(engine, world, today):
    """Issue 14 item 4: a month reviewed in slices (the facility's prefecture, the review body)
    decides every claim as one run does."""
    from sqlalchemy import delete, insert

    from onshi.claims import review

    osaka = "2710000012"
    with engine.begin() as conn:
        conn.execute(insert(schema.facility).values(code=osaka, name="大阪内科", prefecture=27, online=True, smartphone=False, mobile_consent=False))
    old, _new = job_change(world, today)
    m = world.member(name="鈴木 一郎", kana="スズキ イチロウ", birth_date="1970-01-02", number="900")
    k = world.member(KOKUHO, name="練馬 花子", kana="ネリマ ハナコ", birth_date="1975-02-03", sex=2, symbol="", number="55")
    add_visit(engine, member=old, basis="lost", verification_result="invalid", date="2026-05-15")  # 振替
    add_visit(engine, member=old, patient="O1", facility=osaka, date="2026-05-08")  # 分割
    add_visit(engine, member=old, patient="O1", facility=osaka, basis="lost", verification_result="invalid", date="2026-05-20")
    add_visit(engine, member=m, patient="O2", facility=osaka, name="鈴木 一郎", kana="スズキ イチロウ", birth_date="1970-01-02")  # 変更なし
    add_visit(engine, member=k, patient="O3", facility=osaka, name="練馬 花子", kana="ネリマ ハナコ", birth_date="1975-02-03", sex=2)  # 国保連
    add_visit(engine, patient="P009", insurer=KYOKAI_TOKYO, symbol="1", number="99999", birth_date="1999-09-09")  # 返戻
    for facility in (FACILITY, osaka):
        service.build(engine, facility, MAY)
        service.write(engine, facility, MAY, include_failing=True)

    def without_runs(found: dict) -> dict:
        return {ref: {**{k: v for k, v in d.items() if k != "run_id"}, "parts": [{k: v for k, v in p.items() if k != "run_id"} for p in d["parts"]]}
                for ref, d in found.items()}

    sliced: dict = {}
    for prefecture, payer in ((13, None), (27, "2"), (27, "1"), (1, None)):
        with engine.begin() as conn:
            run_id = review.run(conn, JUNE, dt.date(2026, 6, 10), prefecture=prefecture, payer=payer)
        sliced.update(decisions(engine, run_id))
    with engine.begin() as conn:  # the same month once more, in one run
        conn.execute(delete(schema.claim_review))
        conn.execute(delete(schema.review_run))
    whole = decisions(engine, service.review(engine, JUNE, dt.date(2026, 6, 10))["run_id"])
    assert sorted(whole) == ["O1", "O2", "O3", "P001", "P009"]
    assert {ref: d["outcome"] for ref, d in whole.items()} == {"O1": "split", "O2": "unchanged", "O3": "unchanged", "P001": "rerouted", "P009": "returned"}
    assert without_runs(sliced) == without_runs(whole)
