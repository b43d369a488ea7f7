"""Claims from the desk's visits: grouping, レセプト種別, points, and the 不詳 checklist (R-E1–E8)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import insert, select

from onshi.claims import service
from onshi.claims.models import Claim, Remarks, copay_amount, receipt_kind
from onshi.domain.errors import InputError, NotFound
from onshi.registry import schema

from factories import FACILITY, KOKUHO, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO

MAY = dt.date(2026, 5, 1)
COMPLETE_REMARKS = {
    "kana": "ヤマダ タロウ", "insurance_kind": "社保", "insurer_name": "全国健康保険協会東京支部", "employer": "霞が関商事株式会社",
    "address": "東京都千代田区霞が関1-2-2", "contact_phone": "03-1234-5678", "contact_date": "2026-05-20",
}


def add_visit(
    engine,
    *,
    patient: str = "P001",
    date: str = "2026-05-12",
    basis: str = "current",
    member: dict | None = None,
    insurer: str | None = None,
    symbol: str = "",
    number: str = "",
    branch: str = "",
    facility: str = FACILITY,
    name: str | None = "山田 太郎",
    kana: str | None = "ヤマダ タロウ",
    birth_date: str = "1980-06-15",
    sex: int | None = 1,
    relation: str | None = "self",
    presented: str = "my_number_card",
    verification_result: str = "valid",
    copay: int = 30,
    remarks: dict | None = None,
    points: int | None = None,
    at_hour: int = 9,
    public: tuple[str, str] | None = None,
) -> int:
    """A visit row as the front desk records it (POST /frontdesk/visits), written directly."""
    if member is not None:
        insurer = insurer or member["insurer"]
        symbol, number, branch = member["symbol"], member["number"], member["branch"]
        birth_date = member["birth_date"]
    if basis == "unknown":
        insurer, symbol, number, branch = "77777777", "", "", ""
    day = dt.date.fromisoformat(date)
    decision = {"claim": {"basis": basis}, **({"points": points} if points is not None else {})}
    with engine.begin() as conn:
        return conn.execute(
            insert(schema.visit).values(
                facility_code=facility, patient_ref=patient, at=dt.datetime(day.year, day.month, day.day, at_hour, tzinfo=dt.timezone.utc),
                care_date=day, person_id=None, name=name, kana=kana, birth_date=dt.date.fromisoformat(birth_date), sex=sex,
                relation=relation, presented=presented, device="ok", identity="face" if "my_number_card" in presented else None,
                insured=basis != "self_pay", copay_percent=100 if basis == "self_pay" else copay, basis=basis,
                insurer_number=None if basis == "self_pay" else insurer, symbol=symbol, number=number, branch=branch, qualification_id=None,
                verification_method="my_number_card" if "my_number_card" in presented else "none",
                verification_result=verification_result, rules="", decision=json.dumps(decision),
                remarks=json.dumps(remarks, ensure_ascii=False) if remarks is not None else None,
                public_payer=public[0] if public else None, public_recipient=public[1] if public else None,
            ).returning(schema.visit.c.id)
        ).scalar_one()


def by_patient(result: dict) -> dict:
    return {(c["patient_ref"], c["unknown"]): c for c in result["claims"]}


def test_one_claim_per_patient_and_qualification_with_jd_days(engine, world):
    m = world.member(KYOKAI_TOKYO, symbol="5012", number="341")
    other = world.member(KUMIAI, name="佐藤 花子", kana="サトウ ハナコ", birth_date="1990-01-02", sex=2, symbol="77", number="9")
    for day in ("2026-05-12", "2026-05-19", "2026-05-19"):  # two visits on the 19th: one 実日数
        add_visit(engine, member=m, date=day)
    add_visit(engine, patient="P002", member=other, date="2026-05-03", name="佐藤 花子", kana="サトウ ハナコ", sex=2)
    add_visit(engine, patient="P002", basis="declared", insurer=KYOKAI_TOKYO, symbol="5012", number="999", date="2026-05-25",
              birth_date="1990-01-02", sex=2)
    add_visit(engine, patient="P003", basis="self_pay", date="2026-05-14")  # R-T2: no claim
    add_visit(engine, patient="P001", member=m, date="2026-04-30")  # another month

    result = service.build(engine, FACILITY, MAY)
    claims = result["claims"]
    assert len(claims) == 3 and result["self_pay_visits"] == 1
    p1 = next(c for c in claims if c["patient_ref"] == "P001")
    assert p1["care_days"] == [12, 19] and p1["days"] == 2
    assert p1["points"] == 75 * 3  # 再診 ×3: the 初診 was in April
    assert p1["receipt_kind"] == "1112" and p1["copay_percent"] == 30 and p1["payer"] == "1"
    p2 = sorted((c for c in claims if c["patient_ref"] == "P002"), key=lambda c: c["care_days"][0])
    assert [c["insurer_number"] for c in p2] == [KUMIAI, KYOKAI_TOKYO]
    assert p2[0]["points"] == 291 and p2[1]["points"] == 75  # 初診 on the 3rd, 再診 after
    assert p2[1]["basis"] == "declared"


def test_points_can_be_carried_per_visit_and_copay_rounds_to_ten_yen(engine, world):
    m = world.member()
    add_visit(engine, member=m, points=1234)
    c = service.build(engine, FACILITY, MAY)["claims"][0]
    assert c["points"] == 1234 and c["copay_amount"] == copay_amount(1234, 30) == 3700


@pytest.mark.parametrize(
    "kouki, relation, birth, copay, expected",
    [
        (False, "self", "1980-06-15", 30, "1112"),
        (False, "family", "1980-06-15", 30, "1116"),
        (False, "family", "2022-01-01", 20, "1114"),  # 未就学 (R-P1)
        (False, "self", "1954-03-01", 20, "1118"),  # 70–74 一般 (R-P3)
        (False, "self", "1954-03-01", 30, "1110"),  # 70–74 現役並み
        (True, "self", "1940-03-01", 10, "1318"),  # 後期 1割
        (True, "self", "1940-03-01", 30, "1310"),  # 後期 3割
    ],
)
def test_receipt_kind_from_insurance_kind_and_patient_class(kouki, relation, birth, copay, expected):
    assert receipt_kind(kouki=kouki, relation=relation, birth=dt.date.fromisoformat(birth), day=dt.date(2026, 5, 12), copay_percent=copay) == expected


def test_kokuho_and_kouki_claims_go_to_the_kokuhoren(engine, world):
    k = world.member(KOKUHO, name="練馬 一郎", kana="ネリマ イチロウ", symbol="", number="12345")
    o = world.member(KOUKI_TOKYO, name="高齢 花子", kana="コウレイ ハナコ", birth_date="1940-03-01", sex=2, symbol="", number="00112233", kouki_ratio=10)
    add_visit(engine, patient="K1", member=k)
    add_visit(engine, patient="K2", member=o, copay=10, sex=2)
    claims = {c["patient_ref"]: c for c in service.build(engine, FACILITY, MAY)["claims"]}
    assert claims["K1"]["payer"] == "2" and claims["K1"]["receipt_kind"] == "1112"
    assert claims["K2"]["payer"] == "2" and claims["K2"]["receipt_kind"] == "1318"


def test_rebuilding_replaces_built_claims_but_keeps_filed_ones(engine, world):
    m = world.member()
    add_visit(engine, member=m)
    service.build(engine, FACILITY, MAY)
    service.build(engine, FACILITY, MAY)
    assert len(service.list_claims(engine, FACILITY, MAY)) == 1
    service.write(engine, FACILITY, MAY)
    again = service.build(engine, FACILITY, MAY)
    assert again["claims"] == [] and len(again["already_filed"]) == 1
    assert [c["status"] for c in service.list_claims(engine, FACILITY, MAY)] == ["filed"]


def test_unknown_facility_is_not_found(engine, world):
    with pytest.raises(NotFound):
        service.build(engine, "1310009999", MAY)


# ---------------------------------------------------------------- 不詳 (R-E, R-E8)


def unknown_claim(result: dict) -> dict:
    return next(c for c in result["claims"] if c["unknown"])


def rules_failed(claim: dict) -> set[str]:
    return {f["rule"] for f in claim["checks"] if f["severity"] == "error"}


def test_unknown_claim_carries_77777777_sevens_and_the_remarks(engine, world):
    add_visit(engine, basis="unknown", remarks=COMPLETE_REMARKS, copay=30)
    result = service.build(engine, FACILITY, MAY)
    c = unknown_claim(result)
    assert c["insurer_number"] == "77777777" and set(c["symbol"]) == {"7"} and set(c["number"]) == {"7"}  # R-E8
    assert c["remarks"]["contact_phone"] == "03-1234-5678" and c["remarks"]["insurance_kind"] == "shaho"
    assert c["checks"] == [] and result["held"] == []


def test_unknown_insurer_option_77777779(engine, world):
    add_visit(engine, basis="unknown", remarks=COMPLETE_REMARKS)
    c = unknown_claim(service.build(engine, FACILITY, MAY, unknown_insurer="77777779"))
    assert c["insurer_number"] == "77777779"
    with pytest.raises(InputError):
        service.build(engine, FACILITY, MAY, unknown_insurer="99999999")


def test_front_desk_japanese_remark_items_are_accepted(engine, world):
    remarks = {"カナ氏名": "ヤマダ タロウ", "保険種別": "国保", "保険者名": "練馬区", "住所": "東京都練馬区豊玉北6-12-1",
               "連絡先電話番号": "03-3993-1111", "連絡日": "令和8年5月20日"}
    add_visit(engine, basis="unknown", remarks=remarks)
    c = unknown_claim(service.build(engine, FACILITY, MAY))
    assert c["checks"] == []  # 国保: no employer needed (R-E1)
    assert c["remarks"]["contact_date"] == "2026-05-20" and c["payer"] == "2"


def test_remarks_as_the_front_desk_stores_them(engine, world):
    stored = {"insurance_kind": "後期", "insurer_name": "東京都後期高齢者医療広域連合", "employer": None, "address": "東京都練馬区豊玉北6-12-1",
              "phone": "03-3993-1111", "contacted_on": "2026-05-21"}  # frontdesk/live.py UnknownRemarks; kana on the visit
    add_visit(engine, basis="unknown", remarks=stored, birth_date="1945-01-02", copay=10)
    c = unknown_claim(service.build(engine, FACILITY, MAY))
    assert c["checks"] == [] and c["payer"] == "2" and c["receipt_kind"] == "1318"
    assert c["remarks"]["kana"] == "ヤマダ タロウ" and c["remarks"]["contact_date"] == "2026-05-21"


def test_r_e1_missing_contact_phone_is_named(engine, world):
    add_visit(engine, basis="unknown", remarks={k: v for k, v in COMPLETE_REMARKS.items() if k != "contact_phone"})
    result = service.build(engine, FACILITY, MAY)
    c = unknown_claim(result)
    assert rules_failed(c) == {"R-E1"}
    assert any("contact phone (連絡先電話番号)" in f["message"] for f in c["checks"])
    assert [h["patient_ref"] for h in result["held"]] == ["P001"]


def test_r_e1_lists_each_missing_item(engine, world):
    add_visit(engine, basis="unknown", kana=None, remarks={"contact_date": "2026-05-20"})
    messages = " | ".join(f["message"] for f in unknown_claim(service.build(engine, FACILITY, MAY))["checks"] if f["rule"] == "R-E1")
    for item in ("kana name", "insurance kind", "insurer name", "employer", "address", "contact phone"):
        assert item in messages


def test_r_e2_no_my_number_card_presented(engine, world):
    add_visit(engine, basis="unknown", presented="eligibility_certificate", remarks=COMPLETE_REMARKS)
    c = unknown_claim(service.build(engine, FACILITY, MAY))
    assert rules_failed(c) == {"R-E2"}
    assert "R-C3" in c["checks"][0]["message"] and "eligibility_certificate" in c["checks"][0]["message"]


def test_r_e3_contact_date_missing_or_before_the_visit(engine, world):
    add_visit(engine, basis="unknown", remarks={k: v for k, v in COMPLETE_REMARKS.items() if k != "contact_date"})
    assert rules_failed(unknown_claim(service.build(engine, FACILITY, MAY))) == {"R-E3"}
    early = service.build(engine, FACILITY, MAY, remarks={"P001": {"contact_date": "2026-05-01"}})
    assert any("before the first visit day" in f["message"] for f in unknown_claim(early)["checks"])
    fixed = service.build(engine, FACILITY, MAY, remarks={"P001": {"contact_date": "2026-05-21"}})  # R-E3 recorded after the visit
    assert unknown_claim(fixed)["checks"] == []


def test_r_e4_relation_not_recorded(engine, world):
    add_visit(engine, basis="unknown", relation=None, remarks=COMPLETE_REMARKS)
    c = unknown_claim(service.build(engine, FACILITY, MAY))
    assert rules_failed(c) == {"R-E4"} and "本人/家族" in c["checks"][0]["message"]


def test_r_e5_revisit_must_use_the_past_qualification(engine, world):
    m = world.member()
    add_visit(engine, member=m, date="2026-03-02")
    add_visit(engine, basis="unknown", remarks=COMPLETE_REMARKS)
    c = unknown_claim(service.build(engine, FACILITY, MAY))
    assert rules_failed(c) == {"R-E5"}
    assert "2026-03-02" in c["checks"][0]["message"] and KYOKAI_TOKYO in c["checks"][0]["message"]


def test_r_e6_two_visit_days_without_reconfirmation(engine, world):
    add_visit(engine, basis="unknown", date="2026-05-12", remarks=COMPLETE_REMARKS)
    add_visit(engine, basis="unknown", date="2026-05-19", verification_result="not_queried", remarks=COMPLETE_REMARKS)
    c = unknown_claim(service.build(engine, FACILITY, MAY))
    assert rules_failed(c) == {"R-E6"} and "2 visit days" in c["checks"][0]["message"]


def test_r_e6_reconfirmed_by_a_later_lookup_passes(engine, world):
    add_visit(engine, basis="unknown", date="2026-05-12", remarks=COMPLETE_REMARKS, verification_result="not_found")
    add_visit(engine, basis="unknown", date="2026-05-19", verification_result="not_found", remarks=COMPLETE_REMARKS)
    assert unknown_claim(service.build(engine, FACILITY, MAY))["checks"] == []


def test_r_e6_reconfirmation_that_found_a_qualification_must_be_billed_on_it(engine, world):
    m = world.member()
    add_visit(engine, basis="unknown", date="2026-05-12", remarks=COMPLETE_REMARKS)
    add_visit(engine, member=m, date="2026-05-19", verification_result="valid")
    c = unknown_claim(service.build(engine, FACILITY, MAY))
    assert rules_failed(c) == {"R-E6"} and "bill the month on what it found" in c["checks"][0]["message"]


def test_r_e7_newborn_is_a_warning_not_a_hold(engine, world):
    add_visit(engine, basis="unknown", birth_date="2026-04-28", remarks=COMPLETE_REMARKS, copay=20)
    result = service.build(engine, FACILITY, MAY)
    c = unknown_claim(result)
    assert [f["rule"] for f in c["checks"]] == ["R-E7"] and c["checks"][0]["severity"] == "warning"
    assert result["held"] == []


def test_r_e8_numbers_of_a_claim_read_from_a_file():
    from onshi.claims.checklist import check_unknown_claim

    base = Claim(FACILITY, MAY, "P1", "山田 太郎", dt.date(1980, 6, 15), "77777777", "77777777", (12,), 30, 75, symbol="7777",
                 relation="self", unknown=True, remarks=Remarks.from_mapping(COMPLETE_REMARKS))
    assert check_unknown_claim(base) == ()
    wrong = dataclasses.replace(base, number="12345")
    assert [f.rule for f in check_unknown_claim(wrong)] == ["R-E8"]
    disaster = dataclasses.replace(base, insurer_number="99999999")
    assert any("disaster" in f.message for f in check_unknown_claim(disaster))


def test_write_holds_back_failing_unknown_claims_unless_asked(engine, world):
    m = world.member()
    add_visit(engine, member=m)
    add_visit(engine, patient="P009", basis="unknown", remarks={"kana": "フメイ タロウ"})
    service.build(engine, FACILITY, MAY)
    result = service.write(engine, FACILITY, MAY)
    assert [h["patient_ref"] for h in result.held] == ["P009"]
    assert len(result.files) == 1 and result.files[0].claims == 1
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(schema.claim.c.patient_ref, schema.claim.c.status)).all())
    assert statuses == {"P001": "filed", "P009": "built"}
    forced = service.write(engine, FACILITY, MAY, include_failing=True)
    assert forced.files[0].claims == 2 and forced.held == []
    assert "不詳" in forced.files[0].text


def test_cli_build_write_review_report(engine, world, tmp_path, monkeypatch):
    if engine.dialect.name != "sqlite":
        pytest.skip("the command line is exercised once, on SQLite")
    from typer.testing import CliRunner

    from onshi.interfaces.cli import app

    monkeypatch.setenv("ONSHI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    m = world.member(address=COMPLETE_REMARKS["address"])
    add_visit(engine, member=m)
    add_visit(engine, patient="P009", basis="unknown", remarks={k: v for k, v in COMPLETE_REMARKS.items() if k != "contact_date"})
    runner = CliRunner()
    later = tmp_path / "later.json"
    later.write_text(json.dumps({"P009": {"contact_date": "2026-05-22"}}), encoding="utf-8")
    built = runner.invoke(app, ["claims", "build", "-f", FACILITY, "-m", "2026-05"])
    assert built.exit_code == 0 and "held: patient P009: R-E3" in built.output
    assert runner.invoke(app, ["claims", "build", "-f", FACILITY, "-m", "2026-05", "--remarks", str(later)]).exit_code == 0
    written = runner.invoke(app, ["claims", "write", "-f", FACILITY, "-m", "2026-05", "-o", str(tmp_path / "out")])
    assert written.exit_code == 0, written.output
    files = list((tmp_path / "out").glob("RECEIPTC_*.UKE"))
    assert [f.name for f in files] == [f"RECEIPTC_{FACILITY}_202606_1.UKE"]
    key = runner.invoke(app, ["claims", "reviewer-key", "--payer", "1"]).stdout.strip()
    assert world.registry.authenticate(key).role == "reviewer"
    reviewed = runner.invoke(app, ["claims", "review", "-m", "2026-06", "--review-date", "2026-06-10", "-o", str(tmp_path / "rev")])
    assert reviewed.exit_code == 0, reviewed.output
    summary = json.loads(reviewed.stdout)
    assert summary["summary"]["claims"] == 2 and summary["summary"]["unchanged"] == 1 and summary["summary"]["rerouted"] == 1  # R-R5
    report = json.loads(next((tmp_path / "rev").glob("review_*.json")).read_text(encoding="utf-8"))
    assert report["rerouted_claims"][0]["rule"] == "R-R5"
    bad = runner.invoke(app, ["claims", "build", "-f", FACILITY, "-m", "2026-13"])
    assert bad.exit_code == 2 and "--month" in bad.output


def test_a_public_expense_on_the_visits_makes_a_2_hei_claim_with_ko(engine, world):
    """公費 with the insurance: the claim carries its 負担者番号 and 受給者番号 (KO) and レセプト種別 1122."""
    from onshi.claims import uke

    member = world.member(card={"issued": "2022-03-01"})
    add_visit(engine, member=member, date="2026-05-12", public=("54136015", "1234567"))
    add_visit(engine, member=member, date="2026-05-19", public=("54136015", "1234567"))
    [c] = service.build(engine, FACILITY, MAY)["claims"]
    assert c["public_expense"] == {"payer_number": "54136015", "recipient_number": "1234567"} and c["receipt_kind"] == "1122"
    [f] = service.write(engine, FACILITY, MAY, billing_month=dt.date(2026, 6, 1)).files
    text = f.content.decode("cp932")
    ko = next(line for line in text.split("\r\n") if line.startswith("KO,"))
    assert ko.split(",")[1:5] == ["54136015", "1234567", "", "2"] and len(ko.split(",")) == 12  # KO has 12 fields
    assert text.endswith("GO,2,366,99\r\n")  # 総件数 counts payers: the insurance and the 公費
