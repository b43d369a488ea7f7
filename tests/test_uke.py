"""UKE claim files: the reader on hand-written samples of every 点数表 and revision (what the
specification allows reads, what it forbids is refused with line and field), the lossless round
trip (`onshi claims copy`), the writer of the current revision, and a fuzzed reader that never
crashes and stays linear with a capped error list."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from onshi.claims import uke
from onshi.claims.models import Claim, FacilityHeader, Numbers, Remarks
from onshi.domain import charset
from onshi.interfaces.cli import app

from uke_samples import (
    COUNTS, DENTAL_H30, DENTAL_R04, MEDICAL_H30, MEDICAL_R02, MEDICAL_R04, PHARMACY_H30, PHARMACY_R04, SAMPLES, VARIANTS, jd, rec, sample_bytes,
)

MAY, JUNE = dt.date(2026, 5, 1), dt.date(2026, 6, 1)
HEADER = FacilityHeader("1310000017", "霞が関内科クリニック", JUNE, "1", "03-1234-5678")
REMARKS = Remarks(kana="ヨシノ ハナコ", insurance_kind="kokuho", insurer_name="練馬区", address="東京都練馬区豊玉北6-12-1",
                  contact_phone="03-3993-1111", contact_date=dt.date(2026, 5, 20))


def lines(text: str) -> list[str]:
    return text.split("\r\n")[:-1]


def errors_of(data: str | bytes) -> list[str]:
    with pytest.raises(uke.UkeFormatError) as info:
        uke.read(data)
    return [f"{e.field}: {e.reason}" for e in info.value.errors]


def with_line(sample: list[str], n: int, new: str | None) -> str:
    """The sample with line n (1-based) replaced (None: removed), CRLF."""
    rows = list(sample)
    if new is None:
        del rows[n - 1]
    else:
        rows[n - 1] = new
    return "\r\n".join(rows) + "\r\n"


# ---------------------------------------------------------------- samples of every 点数表 and revision


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_reads_and_round_trips_byte_for_byte(name, variant):
    data = sample_bytes(SAMPLES[name], **VARIANTS[variant])
    doc = uke.read(data)
    assert len(doc.claims) == sum(line.startswith("RE,") for line in SAMPLES[name])  # one claim per RE
    assert doc.to_bytes() == data
    assert doc.text.encoding == VARIANTS[variant]["encoding"]


def test_medical_h30_as_orca_writes_it():
    doc = uke.read(sample_bytes(MEDICAL_H30, eof=True))
    assert (doc.layouts.table, doc.layouts.revision, doc.era) == ("1", "H30", True)
    assert doc.header == FacilityHeader("1311234567", "医療法人 霞が関内科医院", dt.date(2018, 12, 1), "2", "03-3581-0000")
    kokuho, public, kouki, test_patient, public_only, three = (p.claim for p in doc.claims)
    # 国保: 給付割合 70, full-width numbers folded, no JD: the days from the SI day columns (estimated)
    assert (kokuho.insurer_number, kokuho.symbol, kokuho.number, kokuho.copay_percent) == ("138057", "12", "345", 30)
    assert (kokuho.care_days, kokuho.days, kokuho.days_source, kokuho.has_mf) == ((5, 20), 2, "details", False)
    assert kokuho.care_month == dt.date(2018, 11, 1) and kokuho.birth_date == dt.date(1980, 3, 7)
    assert (public.public_payer, public.public_recipient, public.symbol, public.relation) == ("21136015", "0000000", "", "self")
    assert (kouki.insurer_number, kouki.symbol, kouki.number, kouki.copay_percent) == ("39131156", "", "07", 10)
    assert (public_only.insurer_number, public_only.public_payer, public_only.points, public_only.public_only) == ("", "12136014", 282, True)
    assert [r.type for r in doc.claims[5].records] == ["RE", "HO", "KO", "KO", "SI"]
    # the empty 番号 is a warning of that claim, not an error of the file
    assert [w.reason for w in doc.claims[3].warnings] == [
        "HO 番号 (field 4) empty: the review cannot match this claim to a qualification"]
    assert test_patient.number == "" and doc.warning_count == 1


def test_medical_r04_sn_jd_mf_four_ko_and_an_unknown_record():
    doc = uke.read(sample_bytes(MEDICAL_R04, eof=True))
    assert (doc.layouts.revision, doc.era, doc.header.billing_month) == ("R04", False, JUNE)
    first, no_jd, five, kouki = (p.claim for p in doc.claims)
    assert (first.care_days, first.days_source, first.has_mf, first.branch, first.confirm_code) == ((12, 19), "JD", True, "00", "01")
    assert (first.copay_amount, first.copay_percent) == (1100, 30)  # 社保: no 給付割合, the copay from the レセプト種別
    assert (no_jd.care_days, no_jd.days_source, no_jd.has_mf) == ((3, 24), "details", False)
    # 4 KO in priority order; a visit not counted in 診療実日数 (JD 2) is still a care day
    assert (five.receipt_kind, five.public_payer, five.days, five.care_days) == ("1152", "10136016", 1, (8, 9))
    assert [r.type for r in doc.claims[2].records].count("KO") == 4
    assert kouki.branch == "" and kouki.points == 400
    zz = next(r for r in doc.claims[3].records if r.type == "ZZ")
    assert zz.text == "ZZ,1,future record"  # kept whole, in place
    assert [f"{w.field}: {w.reason}" for w in doc.warnings] == ["line 35: unknown record type 'ZZ' for 医科 R04: kept as it is"]


def test_medical_r02_is_read_with_the_r02_layouts():
    doc = uke.read(sample_bytes(MEDICAL_R02, eof=True))
    assert (doc.layouts.revision, doc.era, doc.header.billing_month) == ("R02", False, dt.date(2021, 10, 1))
    assert [p.claim.days_source for p in doc.claims] == ["JD", "details", "JD", "JD"]
    too_early = [line.replace(",202109,", ",202108,") for line in MEDICAL_R02]  # SN/JD/MF only from 2021-09 care
    assert "line 4: SN may be recorded only for care from 2021-09 (令和3年9月診療分); this claim is for 2021-08" in errors_of(
        "\r\n".join(too_early) + "\r\n")


def test_dental_files_start_with_uk_and_repeat_ir_per_claim():
    for lines_, revision in ((DENTAL_H30, "H30"), (DENTAL_R04, "R04")):
        doc = uke.read(sample_bytes(lines_, eof=True))
        assert (doc.layouts.table, doc.layouts.revision) == ("3", revision)
        assert doc.header.facility_code == "1331234567" and doc.header.name == "麹町歯科医院" and doc.header.phone == "03-3123-4123"
        assert all(p.records[0].type == "IR" and p.records[1].type == "RE" for p in doc.claims)
    h30 = uke.read(sample_bytes(DENTAL_H30))
    assert [(p.claim.care_days, p.claim.points, p.claim.patient_ref) for p in h30.claims] == [((14,), 438, "1/7"), ((29, 30), 562, "3/7")]
    assert [r.type for r in h30.claims[0].records] == ["IR", "RE", "HO", "HS", "SS", "SS", "TO"]
    r04 = uke.read(sample_bytes(DENTAL_R04)).claims[0].claim
    assert (r04.care_days, r04.days_source, r04.branch, r04.public_payer) == ((7, 21), "JD", "01", "54136015")


def test_pharmacy_files_start_with_yk():
    h30 = uke.read(sample_bytes(PHARMACY_H30, eof=True))
    assert (h30.layouts.table, h30.layouts.revision, h30.header.facility_code, h30.header.payer) == ("4", "H30", "1347654321", "2")
    c = h30.claims[0].claim
    assert (c.receipt_kind, c.patient_ref, c.insurer_number, c.days, c.points) == ("4112", "R001", "138057", 1, 156)
    assert c.days_source == "month" and len(c.care_days) == 30  # no JD and no day columns: the whole care month stands for them
    assert [r.type for r in h30.claims[0].records] == ["RE", "HO", "SH", "CZ", "IY", "TK"]
    r04 = uke.read(sample_bytes(PHARMACY_R04)).claims[0].claim
    assert (r04.care_days, r04.days, r04.days_source, r04.branch) == ((11, 25), 2, "JD", "02")


def test_go_counts_payers_not_re_records():
    """GO 総件数 = each HO and each KO (R04 note to GO): 6 RE records, 9 payers in MEDICAL_H30."""
    go = MEDICAL_H30[-1].split(",")
    assert go[1] == "9"
    wrong = with_line(MEDICAL_H30, len(MEDICAL_H30), rec("1", "GO", {2: 6, 3: go[2], 4: 99}))
    assert errors_of(wrong) == [f"line {len(MEDICAL_H30)}: GO 総件数 (field 2) 6 differs from the 9 payers of the file's claims "
                                "(each HO and each KO counts one; 6 RE records)"]
    zero = with_line(MEDICAL_H30, len(MEDICAL_H30), "GO,0,0,99")  # review-body data after 振替/分割
    assert len(uke.read(zero).claims) == 6


def test_ho_points_against_the_detail_records_is_a_warning():
    bad = with_line(MEDICAL_R04, 3, rec("1", "HO", {2: "01130012", 3: "５０１２", 4: "３４１", 5: 2, 6: 400, 12: 1100}))
    doc = uke.read(bad.replace("GO,8,1423,99", "GO,8,1457,99"))
    assert [w.reason for w in doc.claims[0].warnings] == ["HO 合計点数 400 differs from the detail records' 点数 × 回数 (366)"]


# ---------------------------------------------------------------- what the specification forbids: refused with line and field


@pytest.mark.parametrize(
    "sample, n, new, expected",
    [
        (MEDICAL_R04, 2, MEDICAL_R04[1] + ",", "line 2: RE has 39 fields; the 医科 R04 layout has 38"),
        (MEDICAL_R04, 3, rec("1", "HO", {2: "0113001A", 4: "３４１", 5: 2, 6: 366}), "line 3: HO 保険者番号 (field 2) '0113001A' must be 8 digits"),
        (MEDICAL_R04, 3, rec("1", "HO", {2: "01130012", 4: "３４１", 5: 2}), "line 3: HO 合計点数 (field 6) is empty; it is always recorded"),
        (MEDICAL_R04, 2, MEDICAL_R04[1].replace(",19800615,", ",5550615,"), "line 2: RE 生年月日 (field 7) '5550615' is not a date (yyyyMMdd)"),
        (MEDICAL_R04, 2, MEDICAL_R04[1].replace("山田　太郎", "山田 太郎"), "line 2: RE 氏名 (field 5) '山田 太郎' mixes half-width and full-width"),
        (MEDICAL_R04, 2, MEDICAL_R04[1].replace(",1112,", ",1122,"), "line 2: RE レセプト種別 (field 3) '1122' says 2 payer(s)"),
        (MEDICAL_R04, 4, rec("1", "SN", {2: 1, 3: "10"}), "line 4: SN 確認区分 (field 3) '10' is not a code of 別表29"),
        (MEDICAL_R04, 4, rec("1", "SN", {2: 2, 3: "01"}), "line 4: SN 負担者種別 (field 2) '2' is not a payer of this claim"),
        (MEDICAL_R04, 5, jd("1", 1, {12: "1", 19: "3"}), "line 5: JD 19日の情報 (field 21) '3' is not a code of 別表30"),
        (MEDICAL_R04, 5, jd("1", 1, {12: "1"}), "line 5: JD (負担者種別 1) marks 1 days counted in 診療実日数 (1); HO 診療実日数 says 2"),
        (MEDICAL_R04, 6, rec("1", "MF", {2: "05"}), "line 6: MF 窓口負担額区分 (field 2) '05' is not a code of 別表31"),
        (MEDICAL_R04, 6, None, None),  # MF is optional: removing it is fine
        (MEDICAL_R04, 20, MEDICAL_R04[16], "line 20: a fifth KO record"),
        (MEDICAL_R04, 4, MEDICAL_R04[6], "line 5: JD out of order: a claim's records go RE, HO, KO, SN, JD, MF, then the others"),
        (MEDICAL_R04, 1, MEDICAL_R04[0].replace("霞が関", "ｶｽﾐｶﾞｾｷ"), "line 1: IR 医療機関名称 (field 7) 'ｶｽﾐｶﾞｾｷ内科クリニック' must be full-width"),
        (MEDICAL_R04, 1, MEDICAL_R04[0].replace(",1,0000017,", ",3,0000017,"), "line 1: IR 点数表 (field 4) '3': a 歯科 file starts with UK, not IR"),
        (MEDICAL_H30, 2, MEDICAL_H30[1].replace(",43011,", ",201811,"), "line 2: RE 診療年月 (field 4) '201811' is not a month (GYYMM)"),
        (DENTAL_H30, 3, DENTAL_H30[3], "line 3: HO between IR and RE"),
        (DENTAL_H30, 2, DENTAL_H30[2], "line 2: RE must follow its claim's IR"),
        (PHARMACY_R04, 2, PHARMACY_R04[1].replace(",4116,", ",1116,"), "line 2: RE レセプト種別 (field 3) '1116' is not a 調剤 claim"),
        (DENTAL_R04, 2, DENTAL_R04[1].replace(",1234567,", ",1234568,"), "line 2: IR 医療機関コード (field 5) '1234568' differs from the UK"),
        (MEDICAL_R04, 2, MEDICAL_R04[1].replace(",山田　太郎,1,", ",山田　太郎,3,"), "line 2: RE 男女区分 (field 6) '3' is not 1 (男) or 2 (女)"),
        (MEDICAL_H30, 2, MEDICAL_H30[1].replace(",3550307,70,", ",3550307,170,"), "line 2: RE 給付割合 (field 8) 170 is more than 100"),
        (MEDICAL_R04, 3, MEDICAL_R04[2].replace(",2,366,", ",32,366,"), "line 3: HO 診療実日数 (field 5) 32 is more than the days"),
        (MEDICAL_H30, 3, MEDICAL_H30[2].replace("HO,  138057,", "HO,138057,"), "line 3: HO 保険者番号 (field 2) '138057' is 6 bytes; the field is always 8"),
    ],
)
def test_what_the_specification_forbids_is_refused_with_line_and_field(sample, n, new, expected):
    text = with_line(sample, n, new)
    if expected is None:
        assert uke.read(text).claims
        return
    errs = errors_of(text)
    assert any(e.startswith(expected) for e in errs), errs


def test_sn_jd_mf_only_for_care_from_2021_09():
    old = [line.replace(",202606,", ",202009,").replace(",202605,", ",202008,").replace(",20260512,", ",20200812,") for line in MEDICAL_R04]
    errs = errors_of("\r\n".join(old) + "\r\n")
    assert "line 4: SN may be recorded only for care from 2021-09 (令和3年9月診療分); this claim is for 2020-08" in errs


def test_structure_errors_name_their_lines():
    assert errors_of(with_line(MEDICAL_R04, 1, None))[0].startswith("line 1: the file must start with IR (医科), UK (歯科) or YK (調剤)")
    n = len(MEDICAL_R04)
    assert f"line {n - 1}: the file must end with a GO record (診療報酬請求書); none found" in errors_of(with_line(MEDICAL_R04, n, None))
    assert "line 4: is empty (a blank line is not a record)" in errors_of(with_line(MEDICAL_R04, 4, ""))
    assert f"line {n + 1}: MF after GO (GO must be the last record)" in errors_of("\r\n".join(MEDICAL_R04 + ["MF,00"]) + "\r\n")
    assert errors_of("IR,1,13\r\nRE\x00,1\r\n")[0] == "line 2: holds a control character (U+0000) at column 3"
    assert errors_of(b"") == ["line 1: the file is empty (it must start with IR, UK or YK and end with GO)"]


def test_reader_names_undecodable_lines():
    data = sample_bytes(MEDICAL_R04)
    assert errors_of(data.replace("山田".encode("cp932"), b"\x81 ")) == ["line 2: is neither Shift_JIS (CP932) nor UTF-8 text"]
    mixed = sample_bytes(MEDICAL_R04[:3]) + "\r\n".join(MEDICAL_R04[3:]).encode("utf-8")
    assert errors_of(mixed)[0].endswith("the file mixes Shift_JIS (CP932) and UTF-8 text")


# ---------------------------------------------------------------- lossless: onshi changes only what it changed


def test_setting_the_confirm_code_changes_only_that_line():
    data = sample_bytes(MEDICAL_R04, eof=True)
    doc = uke.read(data)
    doc.set_confirm(doc.claims[0], "04", Numbers("06139984", "88", "17", "01"))
    before, after = data.split(b"\r\n"), doc.to_bytes().split(b"\r\n")
    assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [3]
    assert after[3].decode("cp932") == "SN,1,04,06139984,８８,１７,01,,"
    again = uke.read(doc.to_bytes()).claims[0].claim
    assert (again.confirm_code, again.confirmed) == ("04", Numbers("06139984", "88", "17", "01"))


def test_a_claim_without_sn_gets_one_after_its_ho_and_ko_in_the_files_line_ends():
    data = sample_bytes(MEDICAL_R04, encoding="utf-8", newline="\n")
    doc = uke.read(data)
    doc.set_confirm(doc.claims[1], "02")
    out = doc.to_bytes().decode("utf-8").split("\n")
    assert out[:11] == data.decode("utf-8").split("\n")[:11]
    assert out[11] == "SN,1,02,,,,,," and out[12:] == data.decode("utf-8").split("\n")[11:]
    assert uke.read(doc.to_bytes()).claims[1].claim.confirm_code == "02"


def test_cp932_characters_with_two_spellings_keep_their_bytes():
    """NEC-selected IBM extensions (0xED/0xEE) decode to the same characters as IBM's (0xFA…):
    the line keeps its bytes until onshi changes it."""
    assert "髙".encode("cp932") == b"\xee\xe0"  # Python writes the NEC-selected form
    data = sample_bytes(MEDICAL_R04).replace("高橋".encode("cp932"), b"\xfb\xfc" + "橋".encode("cp932"))  # the IBM form of 髙
    doc = uke.read(data)
    assert doc.claims[3].claim.name == "髙橋 五郎" and doc.to_bytes() == data


def test_cli_copy_writes_the_same_bytes(tmp_path):
    for variant in ("cp932_crlf_eof", "utf8_lf", "cp932_trimmed"):
        source = tmp_path / f"{variant}.UKE"
        source.write_bytes(sample_bytes(DENTAL_R04, **VARIANTS[variant]))
        target = tmp_path / f"{variant}.copy.UKE"
        result = CliRunner().invoke(app, ["claims", "copy", str(source), str(target)])
        assert result.exit_code == 0, result.output
        assert target.read_bytes() == source.read_bytes()
    bad = tmp_path / "bad.UKE"
    bad.write_text(with_line(DENTAL_R04, 3, DENTAL_R04[3]), encoding="utf-8")
    result = CliRunner().invoke(app, ["claims", "copy", str(bad), str(tmp_path / "x")])
    assert result.exit_code == 2 and "line 3" in result.output and not (tmp_path / "x").exists()


# ---------------------------------------------------------------- the writer: the current revision exactly


def sample_claims() -> list[Claim]:
    return [
        Claim("1310000017", MAY, "P001", "山田 太郎", dt.date(1980, 6, 15), "01130012", "341", (12, 19), 30, 366, symbol="5012", branch="00",
              kana="ヤマダ タロウ", sex=1, relation="self", receipt_no=1, copay_amount=1100),
        Claim("1310000017", MAY, "P002", "練馬 花子", dt.date(1975, 2, 3), "138057", "55", (3,), 30, 291, kana="ネリマ ハナコ", sex=2,
              relation="family", receipt_no=2, copay_amount=870),
        Claim("1310000017", MAY, "P003", "吉野 花子", dt.date(2018, 4, 1), "77777777", "77777777", (3, 31), 30, 366, symbol="7777",
              kana="ヨシノ ハナコ", sex=2, relation="self", unknown=True, remarks=REMARKS, receipt_no=3, copay_amount=1100),
        Claim("1310000017", MAY, "P004", "高橋 五郎", dt.date(1945, 5, 5), "39131156", "12345678", (20,), 10, 291, branch="00",
              kana="タカハシ ゴロウ", sex=1, relation="self", receipt_no=4),
    ]


def test_writer_field_counts_and_the_sn_a_facility_writes():
    text = uke.write(HEADER, sample_claims())
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = lines(text)
    for row in rows:  # every field of the current layout, the commas of empty ones kept
        assert len(row.split(",")) == COUNTS["1"][row[:2]], row
    assert rows[0] == "IR,1,13,1,0000017,,霞が関内科クリニック,202606,00,03-1234-5678"
    sns = [r for r in rows if r.startswith("SN")]
    # 負担者種別 1, 確認区分 01, fields 4–6 and 8 empty, the 枝番 in 7 — none for 後期高齢者
    assert sns == ["SN,1,01,,,,00,,", "SN,1,01,,,,,,", "SN,1,01,,,,,,", "SN,1,01,,,,,,"]
    assert rows[-1] == "GO,4,1314,99"
    mf = next(r for r in rows if r.startswith("MF"))
    assert mf == "MF,00" + "," * 31


def test_writer_benefit_ratio_only_for_kokuho_and_kana_without_space():
    res = [r.split(",") for r in lines(uke.write(HEADER, sample_claims())) if r.startswith("RE")]
    assert [r[7] for r in res] == ["", "70", "70", ""]  # 社保 and 後期: empty; 国保 (and the 国保 不詳 claim): 70
    assert [r[36] for r in res] == ["ヤマダタロウ", "ネリマハナコ", "ヨシノハナコ", "タカハシゴロウ"]
    assert res[0][4] == "山田　太郎"  # one (full-width) space between 姓 and 名 in 氏名


def test_writer_go_counts_payers_with_a_public_expense():
    claim = dataclasses.replace(sample_claims()[0], public_payer="54136015", public_recipient="1234567").with_kind()
    rows = lines(uke.write(HEADER, [claim]))
    assert [r[:2] for r in rows] == ["IR", "RE", "HO", "KO", "SN", "JD", "JD", "MF", "GO"]  # no SN for the 公費
    assert rows[3] == "KO,54136015,1234567,,2,366,,,,,,"
    assert rows[-1] == "GO,2,366,99"
    parsed = uke.read(uke.encode("\r\n".join(rows) + "\r\n")).claims[0].claim
    assert (parsed.public_payer, parsed.receipt_kind, parsed.days) == ("54136015", "1122", 2)


def test_unknown_claim_has_sevens_and_co_remarks_cut_at_76_bytes():
    rows = lines(uke.write(HEADER, sample_claims()))
    ho = next(r for r in rows if r.startswith("HO,77777777"))
    assert ho.split(",")[2] == "７７７７" and ho.split(",")[3] == "７７７７７７７７"  # R-E8
    cos = [r.split(",") for r in rows if r.startswith("CO")]
    assert [c[3] for c in cos] == ["810000001"] * 7
    assert cos[0][4] == "不詳" and cos[1][4] == "カナ氏名：ヨシノ　ハナコ" and cos[-1][4] == "連絡日：２０２６年５月２０日"
    long = dataclasses.replace(REMARKS, address="東京都" + "あ" * 60)
    texts = [r.split(",")[4] for r in lines(uke.write(HEADER, [dataclasses.replace(sample_claims()[2], remarks=long)])) if r.startswith("CO")]
    assert all(len(t.encode("cp932")) <= 76 for t in texts)  # CO 文字データ: 76 bytes (R02/R04)
    assert uke.read(uke.write(HEADER, [dataclasses.replace(sample_claims()[2], remarks=long)])).claims[0].claim.remarks.address == long.address


def test_names_outside_jis_x_0208_use_the_jis_form_or_katakana_never_the_mask():
    c = sample_claims()[0]
    variants = dataclasses.replace(c, name="髙﨑 德太郎")
    outside = dataclasses.replace(c, name="𩸽田 太郎", kana="ホッケダ タロウ")
    masked = dataclasses.replace(c, name="●田 太郎", kana="ツチダ タロウ")
    text = uke.write(HEADER, [variants, outside, masked])
    names = [r.split(",")[4] for r in lines(text) if r.startswith("RE")]
    assert names == ["高崎　徳太郎", "ホッケダ　タロウ", "ツチダ　タロウ"]
    assert charset.MASK not in text and charset.is_representable(text.replace("\r\n", ""), "jisx0208")
    address = dataclasses.replace(sample_claims()[2], remarks=dataclasses.replace(REMARKS, address="東京都𩸽区●町1"))
    co = [r for r in lines(uke.write(HEADER, [address])) if "住所" in r][0]
    assert co.endswith("住所：東京都〓区〓町１") and charset.MASK not in co


def test_round_trip_through_the_writer():
    claims = [c.with_kind() for c in sample_claims()]
    doc = uke.read(uke.encode(uke.write(HEADER, claims)))
    assert doc.header == HEADER and not doc.era
    for original, parsed in zip(claims, doc.claims, strict=True):
        if original.kind == "kouki":  # no 枝番 for 後期高齢者; 本人/家族 is not in its レセプト種別
            original = dataclasses.replace(original, branch="", relation=None)
        assert _comparable(parsed.claim) == _comparable(original)
    assert [r.type for r in doc.claims[2].records] == ["RE", "HO", "SN", "JD", "MF", "CO", "CO", "CO", "CO", "CO", "CO", "CO"]


def _comparable(c: Claim) -> Claim:
    """What the file carries of a claim (what it does not: the desk's basis, the billing month,
    the records as read, the payer and 診療実日数 as stated)."""
    kana = c.kana.replace(" ", "") if c.kana else c.kana  # カタカナ氏名 is written without a space
    return dataclasses.replace(c, basis=None, billing_month=None, records=(), billed_payer="", day_count=None, kana=kana)


def test_reader_reads_confirm_codes_and_corrected_numbers():
    claim = dataclasses.replace(sample_claims()[0], confirm_code="04", confirmed=Numbers("06139984", "88", "17", "00"))
    rows = lines(uke.write(HEADER, [claim]))
    assert rows[-1] == "GO,0,0,99"  # the review body's file after a 振替
    parsed = uke.read(uke.write(HEADER, [claim])).claims[0].claim
    assert parsed.confirm_code == "04" and parsed.confirmed == Numbers("06139984", "88", "17", "00")


# ---------------------------------------------------------------- properties, fuzzing, linear time

JIS_KANJI = st.sampled_from(list("山田太郎花子佐藤鈴木高橋渡辺伊藤中村小林加藤吉田山本斎藤松本井上木村林清水"))
KANA = st.sampled_from(list("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"))


@st.composite
def claims(draw) -> Claim:  # noqa: ANN001
    month = dt.date(draw(st.integers(2022, 2030)), draw(st.integers(1, 12)), 1)
    last = ((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)).day
    days = tuple(sorted(draw(st.sets(st.integers(1, last), min_size=1, max_size=10))))
    unknown = draw(st.booleans())
    name = draw(st.text(JIS_KANJI, min_size=1, max_size=4)) + " " + draw(st.text(JIS_KANJI, min_size=1, max_size=4))
    kana = draw(st.text(KANA, min_size=1, max_size=6)) + " " + draw(st.text(KANA, min_size=1, max_size=6))
    insurer = draw(st.sampled_from(["01130012", "06139984", "138057"]))
    return Claim(
        "1310000017", month, draw(st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)), name,
        draw(st.dates(dt.date(1900, 1, 1), month - dt.timedelta(days=1))),
        "77777777" if unknown else insurer, "77777777" if unknown else draw(st.from_regex(r"[0-9]{1,10}", fullmatch=True)),
        days, 30, draw(st.integers(0, 10**7)),
        symbol="7777" if unknown else draw(st.from_regex(r"[0-9]{0,6}", fullmatch=True)),
        branch="" if unknown else draw(st.sampled_from(["", "00", "01"])),
        kana=kana, sex=draw(st.sampled_from([1, 2])), unknown=unknown,
        remarks=Remarks(kana=kana, insurance_kind="shaho", contact_phone="090-0000-0000", contact_date=month) if unknown else None,
        receipt_kind=draw(st.sampled_from(["1112", "1116"])), relation=None,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claims(), min_size=1, max_size=4), st.sampled_from(sorted(VARIANTS)))
def test_round_trip_property(items, variant):
    items = [dataclasses.replace(c, receipt_no=n, relation={"1112": "self", "1116": "family"}[c.receipt_kind]).with_kind() for n, c in enumerate(items, 1)]
    header = dataclasses.replace(HEADER, billing_month=max(c.care_month for c in items).replace(day=28) + dt.timedelta(days=4))
    header = dataclasses.replace(header, billing_month=header.billing_month.replace(day=1))
    data = sample_bytes(lines(uke.write(header, items)), **VARIANTS[variant])
    doc = uke.read(data)
    assert doc.to_bytes() == data
    assert [_comparable(p.claim) for p in doc.claims] == [_comparable(c) for c in items]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_reader_never_crashes_on_bytes(data):
    try:
        uke.read(data)
    except uke.UkeFormatError as exc:
        assert all(e.field.startswith("line ") or e.field == "file" for e in exc.errors)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_reader_never_crashes_on_mutated_files(name, data):
    rows = list(SAMPLES[name])
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(rows) - 1))
        action = data.draw(st.sampled_from(["drop", "dup", "field", "swap", "trim", "extend"]))
        if action == "drop" and len(rows) > 1:
            del rows[i]
        elif action == "dup":
            rows.insert(i, rows[i])
        elif action == "swap":
            j = data.draw(st.integers(0, len(rows) - 1))
            rows[i], rows[j] = rows[j], rows[i]
        elif action == "trim":
            rows[i] = rows[i].rstrip(",")
        elif action == "extend":
            rows[i] += "," * data.draw(st.integers(1, 3))
        else:
            fields = rows[i].split(",")
            k = data.draw(st.integers(0, len(fields) - 1))
            fields[k] = data.draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=",\r\n"), max_size=10))
            rows[i] = ",".join(fields)
    text = "\r\n".join(rows) + "\r\n"
    try:
        doc = uke.read(text)
    except uke.UkeFormatError as exc:
        assert exc.errors and all(e.field.startswith("line ") or e.field == "file" for e in exc.errors)
    else:
        assert doc.to_bytes() == text.encode("utf-8")


def test_a_16_mib_file_of_newlines_is_refused_with_a_short_error_list():
    assert errors_of(b"\r\n" * (8 * 1024 * 1024)) == ["line 1: the file is empty (it must start with IR, UK or YK and end with GO)"]
    data = sample_bytes(MEDICAL_R04[:2]) + b"\n" * (16 * 1024 * 1024) + sample_bytes(MEDICAL_R04[2:])
    with pytest.raises(uke.UkeFormatError) as info:
        uke.read(data)
    errors = info.value.errors
    assert len(errors) == uke.MAX_ERRORS + 1 and errors[0].field == "line 3" and errors[-1].field == "file"
    assert info.value.more >= 16 * 1024 * 1024 - uke.MAX_ERRORS


def test_junk_is_refused_with_a_capped_error_list(tmp_path):
    junk = (b"\x00garbage,\xff\xfe" * 23831)[: 256 * 1024]
    path = tmp_path / "junk.UKE"
    path.write_bytes(junk)
    result = CliRunner().invoke(app, ["claims", "read", str(path)])
    assert result.exit_code == 2
    text_junk = ("ab,cd\n" * 43690).encode()  # every line an error: capped
    with pytest.raises(uke.UkeFormatError) as info:
        uke.read(text_junk)
    assert len(info.value.errors) == uke.MAX_ERRORS + 1 and info.value.more == 43690 - uke.MAX_ERRORS


# ---------------------------------------------------------------- onshi claims read


def test_cli_read_json_one_object_per_re_with_every_record(tmp_path):
    path = tmp_path / "RECEIPTC.UKE"
    path.write_bytes(sample_bytes(MEDICAL_H30, eof=True))
    result = CliRunner().invoke(app, ["claims", "read", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["claim_count"] == len(data["claims"]) == 6
    assert data["file"] | {} == data["file"] and data["file"]["revision"] == "H30" and data["file"]["era"] == "和暦"
    first = data["claims"][0]
    assert first["birth_date"] == "1980-03-07" and first["care_days"] == [5, 20] and first["line"] == 2
    assert [r["type"] for r in first["records"]] == ["RE", "HO", "SY", "SI", "SI", "IY", "CO", "SI", "SJ"]
    assert first["records"][1]["fields"] == {"insurer_number": "  138057", "symbol": "１２", "number": "３４５", "days": "2", "points": "490"}
    assert first["records"][3]["fields"]["day_5"] == "1" and first["records"][3]["label"] == "診療行為"
    assert data["warning_count"] == 1 and data["warnings"][0]["line"] == "line 21"
    r04 = tmp_path / "r04.UKE"
    r04.write_bytes(sample_bytes(MEDICAL_R04))
    data = json.loads(CliRunner().invoke(app, ["claims", "read", str(r04), "--json"]).stdout)
    zz = next(r for r in data["claims"][3]["records"] if r["type"] == "ZZ")
    assert zz == {"line": 35, "type": "ZZ", "raw": ["1", "future record"]}  # not interpreted: raw fields


def test_cli_read_malformed_file_exits_2_with_line_numbers(tmp_path):
    path = tmp_path / "bad.UKE"
    path.write_text(with_line(MEDICAL_R04, 3, "xx,1"), encoding="utf-8")
    result = CliRunner().invoke(app, ["claims", "read", str(path)])
    assert result.exit_code == 2 and "line 3: 'xx' is not a record type" in result.output


PUBLIC_PAYER = "54136015"  # 法別54 (難病) 東京 601, check digit 5 (R-P5's method)


def test_public_payer_check_digit():
    from onshi.domain.numbers import check_digit

    assert check_digit(PUBLIC_PAYER[:7]) == int(PUBLIC_PAYER[7])


def test_reader_rejects_a_malformed_ko_with_its_line():
    claim = dataclasses.replace(sample_claims()[0], public_payer=PUBLIC_PAYER, public_recipient="1234567").with_kind()
    rows = lines(uke.write(HEADER, [claim]))
    rows[3] = rows[3].replace(PUBLIC_PAYER, "54AB6014").replace("1234567", "12345")
    errs = errors_of("\r\n".join(rows) + "\r\n")
    assert "line 4: KO 負担者番号 (field 2) '54AB6014' must be 8 digits" in errs
    assert "line 4: KO 受給者番号 (field 3) '12345' must be 7 digits (zero-filled)" in errs


@pytest.mark.parametrize("name", SAMPLES)
def test_claims_read_from_any_file_are_written_back_as_they_were(name):
    """The writer of reviewed files: a claim read from a file is its own records (the header
    and GO written anew, in the file's 点数表 and era), here with SN 02 where the file has SN."""
    doc = uke.read(sample_bytes(SAMPLES[name]))
    header = dataclasses.replace(doc.header, phone="")
    text = uke.write(header, [dataclasses.replace(p.claim, confirm_code="02") for p in doc.claims])
    again = uke.read(text)
    assert (again.layouts.table, again.layouts.revision) == (doc.layouts.table, doc.layouts.revision)
    for before, after in zip(doc.claims, again.claims, strict=True):
        changed = [(a.text, b.text) for a, b in zip(before.records, after.records) if a.text != b.text]
        if doc.era or not any(r.type == "HO" for r in before.records):
            assert changed == [] and len(after.records) == len(before.records)  # H30 has no SN; 公費単独 gets none
        elif any(r.type == "SN" for r in before.records):
            assert [b.split(",")[:3] for a, b in changed] == [["SN", "1", "02"]]
        else:  # an SN added after HO/KO
            assert [r.type for r in after.records].count("SN") == 1 and after.claim.confirm_code == "02"
    assert [p.claim.points for p in again.claims] == [p.claim.points for p in doc.claims]


def test_cli_read_prints_the_claims_and_warnings(tmp_path):
    path = tmp_path / "RECEIPTS.UKE"
    path.write_bytes(sample_bytes(DENTAL_H30, eof=True))
    result = CliRunner().invoke(app, ["claims", "read", str(path)])
    assert result.exit_code == 0, result.output
    assert "1331234567 麹町歯科医院  請求年月 2019-02  審査支払機関 1  2 件  (歯科 H30, 和暦, cp932)" in result.stdout
    assert "RE    2  3112  2019-01  佐藤 大介  06130512 21212-21  2日(JDなし) 562点  SN 01" in result.stdout
    path.write_bytes(sample_bytes(MEDICAL_H30))
    result = CliRunner().invoke(app, ["claims", "read", str(path)])
    assert "warning: line 21: HO 番号 (field 4) empty" in result.output
