"""The insurer's 資格確認書等の交付 pages over HTTP, on every backend (issue 12 items 3, 5 and 6):
settings, applications, cancellations and returns validated with Japanese errors next to their
fields; a run started from the page; what it sent listed and printed — only the insurer's own.
And the run's PDFs from registry rows (item 5): post-room order, a DV-flagged member's letter
to the address they gave only, names as stored; a few pages kept as PNG in artifacts/issuance/."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onshi.interfaces.http.app import create_app
from onshi.issuance.documents import write_run_pdfs
from onshi.issuance.run import run_issuance
from onshi.issuance.settings import write_settings

from factories import KOKUHO, KOUKI_TOKYO, KYOKAI_TOKYO, key
from test_issuance_printing import ARTIFACTS, _flat, _need, _pages, fonts  # noqa: F401 — fixture

CARD = {"issued": "2024-03-01", "registered_on": "2024-04-01"}
D = dt.date.fromisoformat


def login(client: TestClient, insurer: str) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf": csrf, "api_key": key("insurer", insurer), "next": "/insurer/issuance"})
    return re.search(r'name="csrf" value="([^"]+)"', client.get(r.headers["location"]).text).group(1)


def member_at(world, insurer: str, address: str, **kw) -> dict:  # noqa: ANN001
    """A member whose resident register holds `address` (R-I2 compares them)."""
    mn = world.resident(name=kw.get("name", "山田 太郎"), kana=kw.get("kana", "ヤマダ タロウ"), birth_date=kw.get("birth_date", "1980-06-15"),
                        sex=kw.get("sex", 1), address=address)
    return world.member(insurer, my_number=mn, address=address, **kw)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def client(world):  # noqa: ANN001, ANN201
    with TestClient(create_app(world.registry), follow_redirects=False) as c:
        yield c


def test_settings_and_applications_on_the_page(client, world, today):
    today("2026-06-10")
    m = world.member(KYOKAI_TOKYO, card=CARD)
    csrf = login(client, KYOKAI_TOKYO)
    r = client.post("/insurer/issuance/settings", data={"csrf": csrf, "request_id": "s1", "options.term": "years", "options.certificate_years": "0",
                                                       "certificate_form": "card"})
    assert r.status_code == 422 and "1〜99の年数を入力してください" in text(r.text) and 'id="e-options-certificate-years"' in r.text
    r = client.post("/insurer/issuance/settings", data={"csrf": csrf, "request_id": "s2", "options.term": "years", "options.certificate_years": "3",
                                                       "certificate_form": "postcard", "issuer_name": "全国健康保険協会東京支部長"})
    assert r.status_code == 201 and "交付の設定を保存しました" in text(r.text) and "はがき型" in text(r.text)
    assert 'value="3"' in r.text  # the form shows what is stored
    r = client.post("/insurer/issuance/application", data={"csrf": csrf, "request_id": "a1", "application.symbol": "1234",
                                                          "application.number": m["number"], "application.branch": "00",
                                                          "application.date": "R8.6.9", "application.reason": "care"})
    assert r.status_code == 201 and "資格確認書の交付申請を登録しました" in text(r.text) and "要配慮者" in text(r.text)
    r = client.post("/insurer/issuance/application", data={"csrf": csrf, "request_id": "a2", "application.number": "99999",
                                                          "application.date": "明日", "application.reason": ""})
    body = text(r.text)
    assert r.status_code == 422 and "申請日" in body and "日付として読み取れません" in body
    r = client.post("/insurer/issuance/card_cancellation", data={"csrf": csrf, "request_id": "k1", "card_cancellation.serial": m["serial"].lower()})
    assert r.status_code == 201 and "利用登録解除を登録しました" in text(r.text)
    r = client.post("/insurer/issuance/card_return", data={"csrf": csrf, "request_id": "k2", "card_return.serial": "ZZZZZZZZZZZZ"})
    assert r.status_code == 404 and "このカード番号は登録されていません" in text(r.text)
    assert client.post("/insurer/issuance/settings", data={"request_id": "x"}).status_code == 403  # no CSRF token


def test_a_run_from_the_page_lists_and_prints_what_was_sent(client, world, today):
    today("2026-07-01")
    m = member_at(world, KOUKI_TOKYO, "東京都新宿区西新宿2-8-1", name="髙橋 﨑子", kana="タカハシ サキコ", symbol="", number="12345678", branch="",
                  birth_date="1938-03-03", kouki_ratio=10, card=CARD, postcode="163-8001")
    csrf = login(client, KOUKI_TOKYO)
    r = client.post("/insurer/issuance/run", data={"csrf": csrf, "request_id": "r1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/insurer/issuance/runs/")
    url = r.headers["location"]
    deadline = time.monotonic() + 20
    while "状態： 完了" not in text(client.get(url).text) and time.monotonic() < deadline:
        time.sleep(0.05)
    body = text(client.get(url).text)
    assert "状態： 完了" in body and "髙橋 﨑子" in body and "資格確認書（カード型）" in body and "R-I3g" in body
    pdf = client.get(f"{url}/pdf?part=1")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.headers["cache-control"] == "no-store"
    member = client.get(f"/insurer/issuance/members/{m['qualification_id']}.pdf")
    assert member.status_code == 200 and member.content.startswith(b"%PDF")
    run_id = url.rsplit("/", 1)[1]
    with TestClient(create_app(world.registry), follow_redirects=False) as other:  # another insurer sees nothing of it
        login(other, KYOKAI_TOKYO)
        assert other.get(url).status_code == 404 and other.get(f"{url}/pdf").status_code == 404
        assert other.get(f"/insurer/issuance/members/{m['qualification_id']}.pdf").status_code == 404
        assert "髙橋" not in other.get("/insurer/issuance").text and f"/runs/{run_id}" not in other.get("/insurer/issuance").text


# ---------------------------------------------------------------- the run's PDFs (registry rows)


def test_a_runs_pdf_in_postal_order_with_the_dv_members_own_address(world, today, fonts, tmp_path):
    """R-I3e: the DV-flagged member's letter goes to — and shows — only the address they gave;
    国保 prints the householder; names as the insurer stores them; pages kept as PNG."""
    today("2026-07-01")
    write_settings(world.engine, KOKUHO, {"request_id": "s", "certificate_form": "a4", "issuer_name": "練馬区長",
                                          "sender_postcode": "176-8501", "sender_address": "東京都練馬区豊玉北6-12-1"})
    member_at(world, KYOKAI_TOKYO, "東京都千代田区隠れ1-1-1", name="山本 陽子", kana="ヤマモト ヨウコ", birth_date="1979-05-05", sex=2, number="998",
              postcode="100-0001", dv_flag=True, mailing_address="福岡県福岡市中央区天神1丁目8番1号 支援センター気付", mailing_postcode="810-0001")
    member_at(world, KOKUHO, "東京都練馬区豊玉北5-1-1", name="渡邉 一郎", kana="ワタナベ イチロウ", birth_date="1960-09-15", symbol="練01", number="100234",
              branch="01", postcode="176-0012")
    member_at(world, KOUKI_TOKYO, "北海道札幌市中央区北1条西2丁目", name="髙橋 﨑子", kana="タカハシ サキコ", symbol="", number="12345678", branch="",
              birth_date="1938-03-03", sex=2, kouki_ratio=10, card=CARD, postcode="060-0001")
    run = run_issuance(world.engine, D("2026-07-01"))
    printed = write_run_pdfs(world.engine, run.id, tmp_path, per_file=2)
    assert [p.name for p, _ in printed.files] == [f"issuance-run{run.id}-0001.pdf", f"issuance-run{run.id}-0002.pdf"]
    pages = [page for path, _ in printed.files for page in _pages(path)]
    flat = [_flat(p) for p in pages]
    assert len(pages) == printed.pages == 4 and not printed.held_back
    # post-room order: 060 (札幌: the certificate, then the R-I5 notice) < 176 (練馬) < 810 (the DV member's own address, 福岡)
    assert ["〒060-0001" in flat[0], "〒060-0001" in flat[1], "〒176-0012" in flat[2], "〒810-0001" in flat[3]] == [True] * 4
    assert "髙橋﨑子" in flat[0] and "負担割合1割" in flat[0] and "資格情報の登録完了のお知らせ" in flat[1] and "●" not in "".join(flat)
    assert "世帯主氏名渡邉一郎" in flat[2] and "交付者名練馬区長" in flat[2] and "176-8501" in flat[2]
    assert "福岡県福岡市中央区天神1丁目8番1号支援センター気付" in flat[3] and "隠れ" not in flat[3] and "100-0001" not in flat[3]
    _need("pdftoppm")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for n, (path, _) in enumerate(printed.files, 1):
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(ARTIFACTS / f"run-part{n}")], check=True)
    assert sorted(p.name for p in ARTIFACTS.glob("run-part*.png"))


def test_a_dv_member_without_a_given_address_is_held_back_with_a_warning(world, today, fonts, tmp_path):
    today("2026-07-01")
    member_at(world, KYOKAI_TOKYO, "東京都千代田区隠れ1-1-1", number="997", postcode="100-0001", dv_flag=True)
    run = run_issuance(world.engine, D("2026-07-01"))
    printed = write_run_pdfs(world.engine, run.id, tmp_path)
    assert printed.pages == 0 and len(printed.held_back) == 1
    assert any("DVフラグ" in w for w in printed.warnings)
    from onshi.issuance.run import read_run

    with world.engine.connect() as conn:
        assert any("DVフラグ" in w for w in read_run(conn, run.id).tally.warnings)  # the run summary lists it
    assert "隠れ" not in Path(printed.files[0][0]).read_bytes().decode("latin-1")
