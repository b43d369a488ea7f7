"""UKE claim files: writer (JIS X 0208, CP932, CRLF, 西暦/和暦) and reader (round trip,
line-numbered errors, never a crash)."""

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
from onshi.claims.uke_codes import LAYOUTS
from onshi.domain import charset
from onshi.interfaces.cli import app

MAY, JUNE = dt.date(2026, 5, 1), dt.date(2026, 6, 1)
HEADER = FacilityHeader("1310000017", "霞が関内科クリニック", JUNE, "1", "03-1234-5678")
REMARKS = Remarks(kana="ヨシノ ハナコ", insurance_kind="kokuho", insurer_name="練馬区", address="東京都練馬区豊玉北6-12-1",
                  contact_phone="03-3993-1111", contact_date=dt.date(2026, 5, 20))


def sample_claims() -> list[Claim]:
    return [
        Claim("1310000017", MAY, "P001", "山田 太郎", dt.date(1980, 6, 15), "01130012", "341", (12, 19), 30, 366, symbol="5012", branch="00",
              kana="ヤマダ タロウ", sex=1, relation="self", receipt_no=1, copay_amount=1100),
        Claim("1310000017", MAY, "P002", "練馬 花子", dt.date(1975, 2, 3), "138057", "55", (3,), 30, 291, kana="ネリマ ハナコ", sex=2,
              relation="family", receipt_no=2, copay_amount=870),
        Claim("1310000017", MAY, "P003", "吉野 花子", dt.date(2018, 4, 1), "77777777", "77777777", (3, 31), 30, 366, symbol="7777",
              kana="ヨシノ ハナコ", sex=2, relation="self", unknown=True, remarks=REMARKS, receipt_no=3, copay_amount=1100),
    ]


def lines(text: str) -> list[str]:
    return text.split("\r\n")[:-1]


@pytest.mark.parametrize("era", [False, True])
def test_round_trip_both_date_styles(era):
    claims = [c.with_kind() for c in sample_claims()]
    data = uke.encode(uke.write(HEADER, claims, era=era))
    doc = uke.read(data)
    assert doc.era is era and doc.header == HEADER
    for original, parsed in zip(claims, doc.claims, strict=True):
        assert dataclasses.replace(parsed.claim, basis=None, billing_month=None) == dataclasses.replace(original, basis=None)
    assert [r.type for r in doc.claims[2].records] == ["RE", "HO", "SN", "JD", "MF", "CO", "CO", "CO", "CO", "CO", "CO", "CO"]


def test_file_layout_crlf_cp932_and_field_counts():
    text = uke.write(HEADER, sample_claims())
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = lines(text)
    assert rows[0].startswith("IR,1,13,1,0000017,,") and rows[-1] == "GO,3,1023,99"
    for row in rows:
        assert len(row.split(",")) == LAYOUTS[row[:2]].count
    ho_kokuho = next(r for r in rows if r.startswith("HO,  138057"))  # 国保: right-aligned in 8 with two spaces
    assert ho_kokuho.split(",")[4] == "1"
    uke.encode(text)  # CP932 throughout


def test_unknown_claim_has_sevens_and_co_remarks_starting_with_fusho():
    rows = lines(uke.write(HEADER, sample_claims()))
    ho = next(r for r in rows if r.startswith("HO,77777777"))
    assert ho.split(",")[2] == "７７７７" and ho.split(",")[3] == "７７７７７７７７"  # R-E8
    cos = [r.split(",") for r in rows if r.startswith("CO")]
    assert [c[3] for c in cos] == ["810000001"] * 7
    assert cos[0][4] == "不詳" and cos[1][4] == "カナ氏名：ヨシノ　ハナコ" and cos[-1][4] == "連絡日：２０２６年５月２０日"
    wareki = [r for r in lines(uke.write(HEADER, sample_claims(), era=True)) if "連絡日" in r]
    assert wareki == ["CO,,,810000001,連絡日：令和８年５月２０日"]


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


def test_commas_and_long_remarks_stay_inside_their_fields():
    remarks = dataclasses.replace(REMARKS, employer="株式会社A,B", address="東京都" + "あ" * 150)
    claim = dataclasses.replace(sample_claims()[2], remarks=remarks)
    doc = uke.read(uke.write(HEADER, [claim]))
    assert doc.claims[0].claim.remarks.employer == "株式会社A,B"
    assert doc.claims[0].claim.remarks.address == remarks.address  # split over two CO records, joined again


def test_reader_accepts_utf8_lf_and_eof_marker():
    text = uke.write(HEADER, sample_claims())
    doc = uke.read(text.replace("\r\n", "\n").encode("utf-8") + b"\x1a")
    assert len(doc.claims) == 3 and doc.claims[0].claim.name == "山田 太郎"
    assert len(uke.read(b"\xef\xbb\xbf" + text.encode("utf-8")).claims) == 3


def test_reader_reads_confirm_codes_and_corrected_numbers():
    claim = dataclasses.replace(sample_claims()[0], confirm_code="04", confirmed=Numbers("06139984", "88", "17", "00"))
    parsed = uke.read(uke.write(HEADER, [claim])).claims[0].claim
    assert parsed.confirm_code == "04" and parsed.confirmed == Numbers("06139984", "88", "17", "00")


def broken(replace_line: int | None = None, with_: str | None = None, drop: int | None = None, append: str | None = None) -> str:
    rows = lines(uke.write(HEADER, sample_claims()))
    if replace_line is not None:
        rows[replace_line - 1] = with_
    if drop is not None:
        del rows[drop - 1]
    if append is not None:
        rows.append(append)
    return "\r\n".join(rows) + "\r\n"


def errors_of(text: str | bytes) -> list[str]:
    with pytest.raises(uke.UkeFormatError) as info:
        uke.read(text)
    return [f"{e.field}: {e.reason}" for e in info.value.errors]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"replace_line": 3, "with_": "XX,1,2"}, "line 3: unknown record type 'XX'"),
        ({"replace_line": 4, "with_": "SN,1,01,01130012"}, "line 4: SN has 4 fields, expected 9"),
        ({"drop": 1}, "line 1: the file must start with an IR record"),
        ({"drop": 24}, "line 23: the file must end with a GO record"),
        ({"drop": 3}, "line 2: RE without an HO record"),
        ({"append": "RE,9"}, "line 25: RE has 2 fields, expected 38"),
        ({"append": "MF,00,"}, "line 25: a record after GO"),
    ],
)
def test_reader_rejects_malformed_files_with_line_numbers(kwargs, expected):
    assert any(e.startswith(expected) for e in errors_of(broken(**kwargs))), errors_of(broken(**kwargs))


def test_reader_rejects_bad_dates_and_inconsistent_totals():
    rows = lines(uke.write(HEADER, sample_claims()))
    rows[1] = rows[1].replace(",19800615,", ",19800231,")
    rows[6] = rows[6].replace(",202605,", ",5081305,")
    rows[-1] = "GO,4,1023,99"
    errs = errors_of("\r\n".join(rows) + "\r\n")
    assert "line 2: RE 生年月日: '19800231' is not a real calendar date" in errs
    assert any(e.startswith("line 7: RE 診療年月") for e in errs)
    assert any(e.startswith("line 24: GO 総件数 4 differs") for e in errs)


def test_reader_checks_jd_against_the_month_and_ho_days():
    rows = lines(uke.write(HEADER, sample_claims()))
    jd = rows[4].split(",")
    jd[32] = "1"  # day 31 of a 31-day month is fine; HO still says 2 days
    rows[4] = ",".join(jd)
    assert any("HO 診療実日数 2 differs from the 3 days marked in JD" in e for e in errors_of("\r\n".join(rows) + "\r\n"))
    june = [r.replace(",202605,", ",202606,") for r in rows]
    assert any("JD marks day 31, which the care month does not have" in e for e in errors_of("\r\n".join(june) + "\r\n"))


def test_reader_names_undecodable_lines():
    data = uke.encode(uke.write(HEADER, sample_claims()))
    bad = data.replace("山田".encode("cp932"), b"\x81 ")
    assert errors_of(bad) == ["line 2: is neither Shift_JIS (CP932) nor UTF-8 text"]


def test_empty_file():
    assert errors_of(b"") == ["line 1: the file is empty (it must start with IR and end with GO)"]


# ---------------------------------------------------------------- properties and fuzzing

JIS_KANJI = st.sampled_from(list("山田太郎花子佐藤鈴木高橋渡辺伊藤中村小林加藤吉田山本斎藤松本井上木村林清水"))
KANA = st.sampled_from(list("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"))


@st.composite
def claims(draw) -> Claim:  # noqa: ANN001
    month = dt.date(draw(st.integers(2019, 2030)), draw(st.integers(1, 12)), 1)
    last = ((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)).day
    days = tuple(sorted(draw(st.sets(st.integers(1, last), min_size=1, max_size=10))))
    unknown = draw(st.booleans())
    name = draw(st.text(JIS_KANJI, min_size=1, max_size=4)) + " " + draw(st.text(JIS_KANJI, min_size=1, max_size=4))
    kana = draw(st.text(KANA, min_size=1, max_size=6)) + " " + draw(st.text(KANA, min_size=1, max_size=6))
    insurer = draw(st.sampled_from(["01130012", "06139984", "138057", "39131156"]))
    return Claim(
        "1310000017", month, draw(st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)), name,
        draw(st.dates(dt.date(1900, 1, 1), month - dt.timedelta(days=1))),
        "77777777" if unknown else insurer, "77777777" if unknown else draw(st.from_regex(r"[0-9]{1,10}", fullmatch=True)),
        days, draw(st.sampled_from([10, 20, 30])), draw(st.integers(0, 10**7)),
        symbol="7777" if unknown else draw(st.from_regex(r"[0-9]{0,6}", fullmatch=True)),
        branch="" if unknown else draw(st.sampled_from(["", "00", "01"])),
        kana=kana, sex=draw(st.sampled_from([1, 2])), unknown=unknown,
        remarks=Remarks(kana=kana, insurance_kind="shaho", contact_phone="090-0000-0000", contact_date=month) if unknown else None,
        receipt_kind=draw(st.sampled_from(["1112", "1116"])), relation=None,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claims(), min_size=1, max_size=4), st.booleans())
def test_round_trip_property(items, era):
    items = [dataclasses.replace(c, receipt_no=n, relation={"1112": "self", "1116": "family"}[c.receipt_kind]).with_kind() for n, c in enumerate(items, 1)]
    if era and any(c.birth_date < dt.date(1873, 1, 1) for c in items):
        era = False
    doc = uke.read(uke.encode(uke.write(HEADER, items, era=era)))
    assert [dataclasses.replace(p.claim, basis=None, billing_month=None) for p in doc.claims] == [dataclasses.replace(c, basis=None) for c in items]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_reader_never_crashes_on_bytes(data):
    try:
        uke.read(data)
    except uke.UkeFormatError as exc:
        assert all(e.field.startswith("line ") for e in exc.errors)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_reader_never_crashes_on_mutated_files(data):
    rows = lines(uke.write(HEADER, sample_claims()))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(rows) - 1))
        action = data.draw(st.sampled_from(["drop", "dup", "field", "swap"]))
        if action == "drop" and len(rows) > 1:
            del rows[i]
        elif action == "dup":
            rows.insert(i, rows[i])
        elif action == "swap":
            j = data.draw(st.integers(0, len(rows) - 1))
            rows[i], rows[j] = rows[j], rows[i]
        else:
            fields = rows[i].split(",")
            k = data.draw(st.integers(0, len(fields) - 1))
            fields[k] = data.draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=",\r\n"), max_size=10))
            rows[i] = ",".join(fields)
    try:
        uke.read("\r\n".join(rows) + "\r\n")
    except uke.UkeFormatError as exc:
        assert exc.errors and all(e.field.startswith("line ") for e in exc.errors)


# ---------------------------------------------------------------- onshi claims read


def test_cli_read_json_prints_one_object_per_claim_with_its_records(tmp_path):
    path = tmp_path / "RECEIPTC.UKE"
    path.write_bytes(uke.encode(uke.write(HEADER, sample_claims(), era=True)))
    result = CliRunner().invoke(app, ["claims", "read", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [c["receipt_no"] for c in data] == [1, 2, 3]
    assert data[0]["birth_date"] == "1980-06-15" and data[0]["care_days"] == [12, 19] and data[0]["line"] == 2
    assert [r["type"] for r in data[0]["records"]] == ["RE", "HO", "SN", "JD", "MF"]
    assert data[0]["records"][1]["fields"]["insurer_number"] == "01130012"
    assert data[2]["unknown"] is True and data[2]["remarks"]["contact_date"] == "2026-05-20"


def test_cli_read_malformed_file_exits_2_with_line_numbers(tmp_path):
    path = tmp_path / "bad.UKE"
    path.write_text(broken(replace_line=3, with_="XX,1"), encoding="utf-8")
    result = CliRunner().invoke(app, ["claims", "read", str(path)])
    assert result.exit_code == 2 and "line 3: unknown record type 'XX'" in result.output


PUBLIC_PAYER = "54136015"  # 法別54 (難病) 東京 601, check digit 5 (R-P5's method)


def test_a_public_expense_goes_in_ko_sn_and_jd_and_reads_back():
    from onshi.domain.numbers import check_digit

    assert check_digit(PUBLIC_PAYER[:7]) == int(PUBLIC_PAYER[7])
    claim = dataclasses.replace(sample_claims()[0], public_payer=PUBLIC_PAYER, public_recipient="1234567").with_kind()
    assert claim.receipt_kind == "1122"  # 社保本人, 2併
    rows = lines(uke.write(HEADER, [claim]))
    assert [r[:2] for r in rows] == ["IR", "RE", "HO", "KO", "SN", "SN", "JD", "JD", "MF", "GO"]
    assert rows[3].split(",")[1:5] == [PUBLIC_PAYER, "1234567", "", "2"] and rows[5].startswith(f"SN,2,01,{PUBLIC_PAYER},")
    for row in rows:
        assert len(row.split(",")) == LAYOUTS[row[:2]].count or not LAYOUTS[row[:2]].exact
    parsed = uke.read(uke.encode("\r\n".join(rows) + "\r\n")).claims[0].claim
    assert (parsed.public_payer, parsed.public_recipient, parsed.relation, parsed.copay_percent) == (PUBLIC_PAYER, "1234567", "self", 30)
    assert dataclasses.replace(parsed, billing_month=None) == claim


def test_reader_rejects_a_malformed_ko_with_its_line():
    claim = dataclasses.replace(sample_claims()[0], public_payer=PUBLIC_PAYER, public_recipient="1234567")
    rows = lines(uke.write(HEADER, [claim]))
    rows[3] = rows[3].replace(PUBLIC_PAYER, "54AB6014").replace("1234567", "12345")
    errs = errors_of("\r\n".join(rows) + "\r\n")
    assert "line 4: KO 負担者番号 '54AB6014' must be 8 digits" in errs and "line 4: KO 受給者番号 '12345' must be 7 digits" in errs
