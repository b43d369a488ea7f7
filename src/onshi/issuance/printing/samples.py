"""Made-up documents of every kind and form, for `onshi issuance sample-pdf`, the tests and the
printing benchmark. Names and addresses are invented; the insurer numbers carry valid check digits."""

from __future__ import annotations

import datetime as dt
import random

from ..models import CERTIFICATE, NOTICE, REGISTRATION_NOTICE
from .models import Address, PrintDocument, PrintInsurer, PrintMember

D = dt.date.fromisoformat

KOUKI = PrintInsurer("39131156", "kouki", "東京都後期高齢者医療広域連合", "東京都後期高齢者医療広域連合長",
                     Address("1020072", "東京都千代田区飯田橋三丁目5番1号"), "0570-086-519", "card")
KOKUHO = PrintInsurer("138107", "kokuho", "千代田区", "千代田区長", Address("1028688", "東京都千代田区九段南1-2-1"), "03-3264-2111", "a4")
KYOKAI = PrintInsurer("01130012", "kyokai", "全国健康保険協会 東京支部", "全国健康保険協会 東京支部長",
                      Address("1648540", "東京都中野区中野4-10-2 中野セントラルパークサウス7階"), "03-6853-6111", "postcard")
KUMIAI = PrintInsurer("06139984", "kumiai", "みなと電機健康保険組合", "みなと電機健康保険組合 理事長", Address("1050011", "東京都港区芝公園1-1-1"), "03-0000-0000", "card")


def member(member_id: str, name: str, kana: str, sex: int, birth: str, postal: str, address: str, **more) -> PrintMember:  # noqa: ANN003
    return PrintMember(member_id, name, kana, sex, D(birth), more.pop("symbol", "1234"), more.pop("number", "567"), more.pop("branch", "00"),
                       D(more.pop("start", "2016-08-01")), Address(postal, address), **more)


def sample_documents(issued: dt.date = D("2026-07-08")) -> list[PrintDocument]:
    """One of each document: 資格確認書 (card, postcard, A4), お知らせ (under and over 70),
    the registration notice, a DV-flagged member, a name the font cannot print."""
    kouki85 = member("M-KOUKI-1", "髙橋 﨑子", "タカハシ サキコ", 2, "1938-03-03", "1600023", "東京都新宿区西新宿2丁目8番1号 都庁前ハイツ101",
                     symbol="", number="12345678", branch="", start="2013-03-03", copay=0.1)
    kokuho = member("M-KOKUHO-1", "渡邊 一郎", "ワタナベ イチロウ", 1, "1956-09-15", "1020074", "東京都千代田区九段南2丁目3番14号",
                    symbol="千01", number="100234", branch="01", start="2000-04-01", householder_name="渡邊 一郎")
    kyokai = member("M-KYOKAI-1", "佐藤 花子", "サトウ ハナコ", 2, "1986-02-10", "2310023", "神奈川県横浜市中区山下町1番地 シルクセンター305",
                    symbol="5012", number="341", branch="02", start="2010-04-01")
    notice70 = member("M-KUMIAI-1", "鈴木 次郎", "スズキ ジロウ", 1, "1954-02-10", "5300001", "大阪府大阪市北区梅田1丁目1番3号",
                      symbol="77", number="4021", branch="00", start="2014-04-01", copay=0.2)
    young = member("M-KUMIAI-2", "𠮷田 太郎", "ヨシダ タロウ", 1, "1990-11-30", "0600001", "北海道札幌市中央区北1条西2丁目",
                   symbol="77", number="5120", branch="00", start="2026-05-01")
    dv = member("M-DV-1", "山本 陽子", "ヤマモト ヨウコ", 2, "1979-05-05", "9999999", "（保護された住所）", symbol="5012", number="998", branch="00",
                dv_flag=True, mailing_address=Address("8100001", "福岡県福岡市中央区天神1丁目8番1号 支援センター気付"))
    kouki78 = member("M-KOUKI-2", "葛󠄀西 文子", "カサイ フミコ", 2, "1948-06-30", "1700013", "東京都豊島区東池袋1丁目18番1号",
                     symbol="", number="87654321", branch="", start="2023-06-30", copay=0.2)
    return [
        PrintDocument("D-0001", CERTIFICATE, issued, kouki85, KOUKI, D("2026-08-01"), D("2027-07-31"), form="card"),
        PrintDocument("D-0002", CERTIFICATE, issued, kyokai, KYOKAI, issued, D("2031-06-30"), form="postcard"),
        PrintDocument("D-0003", CERTIFICATE, issued, kokuho, KOKUHO, D("2026-08-01"), D("2026-09-30"), form="a4"),
        PrintDocument("D-0004", NOTICE, issued, kouki78, KOUKI, D("2026-08-01"), D("2027-07-31")),
        PrintDocument("D-0005", NOTICE, issued, notice70, KUMIAI, D("2026-08-01"), D("2027-07-31")),
        PrintDocument("D-0006", NOTICE, issued, young, KUMIAI, issued, None),
        PrintDocument("D-0007", REGISTRATION_NOTICE, issued, young, KUMIAI, registered=issued - dt.timedelta(days=3)),
        PrintDocument("D-0008", CERTIFICATE, issued, dv, KYOKAI, issued, D("2031-06-30"), form="card"),
    ]


_SURNAMES = "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水 山崎 森 池田 橋本 阿部 石川 髙橋 渡邊 齋藤 﨑山".split()
_GIVEN = "太郎 花子 一郎 次郎 陽子 和子 幸子 誠 清 実 茂 明美 由美子 健一 直樹 美咲 大輔 恵子 裕子 翔太".split()
_TOWNS = ["東京都千代田区九段南1丁目", "東京都新宿区西新宿2丁目", "大阪府大阪市北区梅田1丁目", "北海道札幌市中央区北1条西2丁目",
          "福岡県福岡市中央区天神1丁目", "愛知県名古屋市中区三の丸3丁目", "宮城県仙台市青葉区本町3丁目", "広島県広島市中区基町10番"]


def bulk_documents(n: int, issued: dt.date = D("2026-07-08"), seed: int = 1) -> list[PrintDocument]:
    """`n` documents of a mixed run (half 後期 certificates on cards, お知らせ, A4 and postcard
    certificates, registration notices) for the printing benchmark."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind_pick = rng.random()
        insurer = [KOUKI, KOKUHO, KYOKAI, KUMIAI][i % 4]
        birth = D("1935-01-01") + dt.timedelta(days=rng.randrange(0, 365 * 60))
        m = PrintMember(
            f"B{i:07d}", f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)}", "ヤマダ タロウ", rng.choice((1, 2)), birth, f"{rng.randrange(10, 99)}",
            f"{rng.randrange(1, 99999)}", "00", D("2016-08-01"), Address(f"{rng.randrange(1000000, 9999999)}", f"{rng.choice(_TOWNS)}{rng.randrange(1, 30)}番{rng.randrange(1, 20)}号"),
            copay=rng.choice((0.1, 0.2, 0.3)), householder_name="山田 太郎" if insurer is KOKUHO else None,
        )
        if kind_pick < 0.5:
            out.append(PrintDocument(f"B-{i}", CERTIFICATE, issued, m, insurer, D("2026-08-01"), D("2027-07-31")))
        elif kind_pick < 0.9:
            out.append(PrintDocument(f"B-{i}", NOTICE, issued, m, insurer, D("2026-08-01"), D("2027-07-31")))
        else:
            out.append(PrintDocument(f"B-{i}", REGISTRATION_NOTICE, issued, m, insurer, registered=issued))
    return out
