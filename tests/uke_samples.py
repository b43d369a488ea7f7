"""Sample UKE files written by hand from ../shared/domain/UKE-layouts.md — one per 点数表 (医科,
歯科, 調剤) and revision (H30 和暦, R04 西暦), in the shapes real レセコン write: no JD/SN/MF
before 2021-09 (and optional after), an empty 番号, several KO, 公費単独, 後期高齢者 with a
番号 only, detail records with 点数 and day columns, GO counting payers.

The field counts below are the specification's (UKE-layouts.md), written here again and not
taken from onshi's layouts, so that a wrong layout fails a test. `sample_bytes` gives each
file in the encodings and line ends onshi reads.
"""

from __future__ import annotations

# Fields per record (the record type included), by 点数表.
COUNTS = {
    "1": dict(IR=10, RE=38, HO=15, KO=12, SN=9, JD=33, MF=33, GR=3, SY=8, SI=44, IY=44, TO=48, CO=5, SJ=3, GO=4),
    "3": dict(UK=10, IR=9, RE=27, HO=14, KO=10, SN=9, JD=33, MF=33, HS=13, SS=109, SI=38, IY=39, TO=45, CO=11, SJ=3, GO=4),
    "4": dict(YK=9, RE=42, HO=14, KO=10, SN=9, JD=33, MF=33, GO=4),
}


def rec(table: str, kind: str, values: dict[int, object]) -> str:
    """A record with every field; `values` by 1-based position, as the specification numbers them."""
    fields = [""] * COUNTS[table][kind]
    fields[0] = kind
    for pos, value in values.items():
        fields[pos - 1] = str(value)
    return ",".join(fields)


def days(first: int, counts: dict[int, object]) -> dict[int, object]:
    """Day columns: day d at position first + d - 1."""
    return {first + d - 1: v for d, v in counts.items()}


def jd(table: str, payer: int, marks: dict[int, str]) -> str:
    return rec(table, "JD", {2: payer, **days(3, marks)})


def mf(table: str) -> str:
    return rec(table, "MF", {2: "00"})


# ---------------------------------------------------------------- 医科 H30 (和暦), 国保連, as ORCA writes them

def si(code: str, points: object, count: int, day_counts: dict[int, object], care: str = "", payer: str = "1") -> str:
    return rec("1", "SI", {2: care, 3: payer, 4: code, 6: points, 7: count, **days(14, day_counts)})


def iy(code: str, qty: str, points: object, count: int, day_counts: dict[int, object], care: str = "", payer: str = "1") -> str:
    return rec("1", "IY", {2: care, 3: payer, 4: code, 5: qty, 6: points, 7: count, **days(14, day_counts)})


MEDICAL_H30 = [
    rec("1", "IR", {2: 2, 3: 13, 4: 1, 5: "1234567", 7: "医療法人　霞が関内科医院", 8: "43012", 9: "00", 10: "03-3581-0000"}),
    # 1: 国保, 本人, 給付割合 70, two visit days, 記号・番号 in full-width digits
    rec("1", "RE", {2: 1, 3: 1112, 4: "43011", 5: "国保　太郎", 6: 1, 7: "3550307", 8: 70, 14: "00083", 21: "2018120314513500",
                    37: "コクホタロウ"}),
    rec("1", "HO", {2: "  138057", 3: "１２", 4: "３４５", 5: 2, 6: 490}),
    rec("1", "SY", {2: "4629008", 3: "4301105", 4: 1}),
    si("111000110", 282, 1, {5: 1}, care="11"),
    si("112007410", 72, 1, {20: 1}, care="12"),
    iy("620098801", "1", 0, 10, {5: 10}, care="21"),
    rec("1", "CO", {2: "", 3: 1, 4: "810000001", 5: "１日１回朝食後"}),
    si("120002910", 68, 2, {5: 1, 20: 1}, care="80"),
    rec("1", "SJ", {2: "01", 3: "咳、発熱、倦怠感"}),
    # 2: 国保 + 1 公費 (2併), 記号 empty
    rec("1", "RE", {2: 2, 3: 1122, 4: "43011", 5: "公費　花子", 6: 2, 7: "3600101", 8: 70, 14: "00111", 37: "コウヒハナコ"}),
    rec("1", "HO", {2: "  138057", 4: "１１１", 5: 1, 6: 354}),
    rec("1", "KO", {2: "21136015", 3: "0000000", 5: 1, 6: 354, 7: 0}),
    si("111000110", 282, 1, {8: 1}, care="11", payer="2"),
    si("120002910", 68, 1, {8: 1}, care="80", payer="2"),
    si("120003570", 4, 1, {8: 1}, payer="2"),
    # 3: 後期高齢者, no 給付割合, a 番号 only
    rec("1", "RE", {2: 3, 3: 1318, 4: "43011", 5: "後期　一郎", 6: 1, 7: "3030408", 12: "29", 14: "00120", 37: "コウキイチロウ"}),
    rec("1", "HO", {2: "39131156", 4: "０７", 5: 1, 6: 282}),
    si("111000110", 282, 1, {12: 1}, care="11"),
    # 4: a test patient: empty 番号 (a warning, not an error)
    rec("1", "RE", {2: 4, 3: 1116, 4: "43011", 5: "テスト患者", 6: 2, 7: "4100101", 8: 70, 14: "00130"}),
    rec("1", "HO", {2: "  138057", 5: 1, 6: 282}),
    si("111000110", 282, 1, {15: 1}, care="11"),
    # 5: 公費単独 (no HO)
    rec("1", "RE", {2: 5, 3: 1212, 4: "43011", 5: "生保　次郎", 6: 1, 7: "3450101", 14: "00140", 37: "セイホジロウ"}),
    rec("1", "KO", {2: "12136014", 3: "1234567", 5: 1, 6: 282}),
    si("111000110", 282, 1, {22: 1}, care="11", payer="5"),
    # 6: 国保 + 2 公費 (3併)
    rec("1", "RE", {2: 6, 3: 1132, 4: "43011", 5: "三併　三郎", 6: 1, 7: "3400101", 8: 70, 14: "00150"}),
    rec("1", "HO", {2: "  138057", 3: "９", 4: "９９", 5: 1, 6: 282}),
    rec("1", "KO", {2: "21136015", 3: "0000000", 5: 1, 6: 282}),
    rec("1", "KO", {2: "54136015", 3: "7654321", 5: 1, 6: 282}),
    si("111000110", 282, 1, {26: 1}, care="11", payer="4"),
    # GO: 総件数 counts payers (1 + 2 + 1 + 1 + 1 + 3), 総合計点数 the HO points (the KO's for 公費単独)
    rec("1", "GO", {2: 9, 3: 490 + 354 + 282 + 282 + 282 + 282, 4: 99}),
]

# ---------------------------------------------------------------- 医科 R04 (西暦), 支払基金

MEDICAL_R04 = [
    rec("1", "IR", {2: 1, 3: 13, 4: 1, 5: "0000017", 7: "霞が関内科クリニック", 8: "202606", 9: "00", 10: "03-1234-5678"}),
    # 1: SN (枝番 00), JD, MF as a facility writes them
    rec("1", "RE", {2: 1, 3: 1112, 4: "202605", 5: "山田　太郎", 6: 1, 7: "19800615", 14: "P001", 37: "ヤマダタロウ"}),
    rec("1", "HO", {2: "01130012", 3: "５０１２", 4: "３４１", 5: 2, 6: 366, 12: 1100}),
    rec("1", "SN", {2: 1, 3: "01", 7: "00"}),
    jd("1", 1, {12: "1", 19: "1"}),
    mf("1"),
    rec("1", "SY", {2: "8833421", 3: "20260512", 4: 1}),
    si("111000110", 291, 1, {12: 1}, care="11"),
    si("112007410", 75, 1, {19: 1}, care="12"),
    # 2: no SN, JD or MF (all optional): the care days come from the SI day columns (estimated)
    rec("1", "RE", {2: 2, 3: 1116, 4: "202605", 5: "鈴木　花子", 6: 2, 7: "19850203", 14: "P002", 37: "スズキハナコ"}),
    rec("1", "HO", {2: "06139984", 3: "８８", 4: "１７", 5: 2, 6: 366}),
    si("111000110", 291, 1, {3: 1}, care="11"),
    si("112007410", 75, 1, {24: 1}, care="12"),
    # 3: 医保 + 4 公費 (5併): KO in priority order, one JD per payer, a visit on the 9th not counted (2)
    rec("1", "RE", {2: 3, 3: 1152, 4: "202605", 5: "佐藤　四郎", 6: 1, 7: "19700101", 14: "P003", 37: "サトウシロウ"}),
    rec("1", "HO", {2: "01130012", 3: "１", 4: "２", 5: 1, 6: 291}),
    rec("1", "KO", {2: "10136016", 3: "1111111", 5: 1, 6: 291}),
    rec("1", "KO", {2: "21136015", 3: "2222222", 5: 1, 6: 291}),
    rec("1", "KO", {2: "54136015", 3: "3333333", 5: 1, 6: 291}),
    rec("1", "KO", {2: "80136014", 3: "4444444", 5: 1, 6: 291}),
    rec("1", "SN", {2: 1, 3: "01"}),
    *[jd("1", k, {8: "1", 9: "2"}) for k in (1, 2, 3, 4, 5)],
    mf("1"),
    si("111000110", 291, 1, {8: 1}, care="11", payer="A"),
    # 4: 後期高齢者 (no 枝番 in SN), a TO record, and a record type onshi does not know (kept)
    rec("1", "RE", {2: 4, 3: 1318, 4: "202605", 5: "高橋　五郎", 6: 1, 7: "19450505", 14: "P004", 37: "タカハシゴロウ"}),
    rec("1", "HO", {2: "39131156", 4: "１２３４５６７８", 5: 1, 6: 400}),
    rec("1", "SN", {2: 1, 3: "01"}),
    jd("1", 1, {20: "1"}),
    mf("1"),
    si("111000110", 291, 1, {20: 1}, care="11"),
    rec("1", "TO", {2: "40", 3: 1, 4: "700590000", 5: "1", 6: 109, 7: 1, **days(18, {20: 1})}),
    "ZZ,1,future record",
    rec("1", "CO", {3: 1, 4: "810000001", 5: "経過観察"}),
    rec("1", "GO", {2: 1 + 1 + 5 + 1, 3: 366 + 366 + 291 + 400, 4: 99}),
]

# ---------------------------------------------------------------- 歯科 H30 (和暦): UK, then IR and RE per claim


def ss(code: str, points: object, count: int, day_counts: dict[int, object], care: str = "", additions: dict[int, str] | None = None) -> str:
    values = {2: care, 3: 1, 4: code, 77: points, 78: count, **days(79, day_counts)}
    for i, add in (additions or {}).items():
        values[6 + 2 * i - 1] = add
    return rec("3", "SS", values)


DENTAL_IR_H30 = rec("3", "IR", {2: 1, 3: 13, 4: 3, 5: "1234567", 7: "43102", 8: "03-3123-4123"})
DENTAL_H30 = [
    rec("3", "UK", {2: 1, 3: 13, 4: 3, 5: "1234567", 7: "麹町歯科医院", 8: "43102", 10: "00"}),
    DENTAL_IR_H30,
    rec("3", "RE", {2: 1, 3: 3112, 4: "43101", 5: "鈴木　雅規", 6: 1, 7: "3430101", 10: "4310114", 11: 1, 16: "1/7", 26: "スズキマサノリ"}),
    rec("3", "HO", {2: "01130012", 3: "１３４０１５１８", 4: "１２", 5: 1, 6: 438}),
    rec("3", "HS", {4: "102400102500", 5: "5220063"}),
    ss("301072810", 226, 1, {14: 1}, care="11"),
    ss("302000110", 110, 1, {14: 1}, care="13", additions={1: "CB023"}),
    rec("3", "TO", {2: "80", 3: 1, 4: "700720000", 5: "1", 13: 102, 14: 1, **days(15, {14: 1})}),
    DENTAL_IR_H30,
    rec("3", "RE", {2: 2, 3: 3112, 4: "43101", 5: "佐藤　大介", 6: 1, 7: "3320102", 10: "4310130", 11: 1, 16: "3/7", 26: "サトウダイスケ"}),
    rec("3", "HO", {2: "06130512", 3: "２１２１２", 4: "２１", 5: 2, 6: 562}),
    rec("3", "HS", {4: "104200103600", 5: "8843836"}),
    ss("301072810", 226, 1, {30: 1}, care="11"),
    ss("313002010", 126, 2, {29: 1, 30: 1}, care="61"),
    rec("3", "SI", {2: "21", 3: 1, 4: "120002910", 6: 84, 7: 1, **days(8, {30: 1})}),
    rec("3", "GO", {2: 2, 3: 438 + 562, 4: 99}),
]

# ---------------------------------------------------------------- 歯科 R04 (西暦) with SN, JD, MF and a 公費

DENTAL_IR_R04 = rec("3", "IR", {2: 1, 3: 13, 4: 3, 5: "1234567", 7: "202606", 8: "03-3123-4123"})
DENTAL_R04 = [
    rec("3", "UK", {2: 1, 3: 13, 4: 3, 5: "1234567", 7: "麹町歯科医院", 8: "202606", 10: "00"}),
    DENTAL_IR_R04,
    rec("3", "RE", {2: 1, 3: 3122, 4: "202605", 5: "田中　美咲", 6: 2, 7: "19900808", 10: "20260507", 11: 1, 16: "D01", 26: "タナカミサキ"}),
    rec("3", "HO", {2: "06130512", 3: "１", 4: "２", 5: 2, 6: 352}),
    rec("3", "KO", {2: "54136015", 3: "1234567", 5: 2, 6: 352}),
    rec("3", "SN", {2: 1, 3: "01", 7: "01"}),
    jd("3", 1, {7: "1", 21: "1"}),
    jd("3", 2, {7: "1", 21: "1"}),
    mf("3"),
    rec("3", "HS", {4: "102400", 5: "5220063"}),
    ss("301072810", 226, 1, {7: 1}, care="11"),
    ss("302000610", 126, 1, {21: 1}, care="13"),
    rec("3", "CO", {3: 1, 4: "810000001", 5: "次回抜歯予定"}),
    rec("3", "GO", {2: 2, 3: 352, 4: 99}),
]

# ---------------------------------------------------------------- 調剤 H30 (和暦) and R04 (西暦)
# The detail records (SH, CZ, IY, TK) are written with the fields the readers name; onshi keeps them whole.

PHARMACY_H30 = [
    rec("4", "YK", {2: 2, 3: 13, 4: 4, 5: "7654321", 6: "霞が関薬局", 7: "43012", 8: "00", 9: "03-0000-0000"}),
    rec("4", "RE", {2: 1, 3: 4112, 4: "43011", 5: "調剤　一子", 6: 2, 7: "3600101", 8: 70, 10: 13, 11: 1, 12: "1234567", 36: "R001",
                    42: "チョウザイイチコ"}),
    rec("4", "HO", {2: "  138057", 3: "３", 4: "４５", 5: 1, 6: 156}),
    "SH,1,1,1013044400000000,,10,,,,",
    "CZ,1,1105,1105,1,14,1,1,1,,86,,,70",
    "IY,1,620098801,3,,,,,,",
    "TK,810000001,後発医薬品へ変更",
    rec("4", "GO", {2: 1, 3: 156, 4: 99}),
]

PHARMACY_R04 = [
    rec("4", "YK", {2: 1, 3: 13, 4: 4, 5: "7654321", 6: "霞が関薬局", 7: "202606", 8: "00"}),
    rec("4", "RE", {2: 1, 3: 4116, 4: "202605", 5: "調剤　二郎", 6: 1, 7: "20100404", 10: 13, 11: 1, 12: "0000017", 36: "R002",
                    42: "チョウザイジロウ"}),
    rec("4", "HO", {2: "01130012", 3: "７", 4: "８", 5: 2, 6: 312}),
    rec("4", "SN", {2: 1, 3: "01", 7: "02"}),
    jd("4", 1, {11: "1", 25: "1"}),
    mf("4"),
    "SH,1,1,1013044400000000,,10,,,,",
    "CZ,1,0511,0511,1,14,1,1,1,,86,,,70",
    "CZ,1,0525,0525,2,14,1,1,1,,86,,,70",
    rec("4", "GO", {2: 1, 3: 312, 4: 99}),
]

# ---------------------------------------------------------------- 医科 R02 (西暦): a 2021-10 billing (R02 in force),
# care 2021-09 (the first month SN/JD/MF may be recorded)

MEDICAL_R02 = [line.replace(",202606,", ",202110,").replace(",202605,", ",202109,").replace(",20260512,", ",20210912,")
               for line in MEDICAL_R04]

SAMPLES = {
    "medical_h30": MEDICAL_H30, "medical_r02": MEDICAL_R02, "medical_r04": MEDICAL_R04, "dental_h30": DENTAL_H30, "dental_r04": DENTAL_R04,
    "pharmacy_h30": PHARMACY_H30, "pharmacy_r04": PHARMACY_R04,
}

# How files reach a review body: as the specification says (Shift_JIS, CR LF, EOF), and after
# other tools (UTF-8 with or without BOM, bare LF, no EOF byte, trailing empty fields cut).
VARIANTS = {
    "cp932_crlf_eof": dict(encoding="cp932", newline="\r\n", eof=True),
    "cp932_crlf": dict(encoding="cp932", newline="\r\n"),
    "utf8_lf": dict(encoding="utf-8", newline="\n"),
    "utf8_bom_crlf": dict(encoding="utf-8", newline="\r\n", bom=True),
    "cp932_trimmed": dict(encoding="cp932", newline="\r\n", eof=True, trim=True),
    "utf8_lf_no_final_newline": dict(encoding="utf-8", newline="\n", final_newline=False),
}


def sample_bytes(lines: list[str], *, encoding: str = "cp932", newline: str = "\r\n", eof: bool = False, bom: bool = False,
                 trim: bool = False, final_newline: bool = True) -> bytes:
    rows = [line.rstrip(",") for line in lines] if trim else list(lines)
    text = newline.join(rows) + (newline if final_newline else "")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding) + (b"\x1a" if eof else b"")
