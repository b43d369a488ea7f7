"""The insurer's 資格確認書等の交付 pages in a real browser (Chromium via Playwright) on the real
server (issue 12 item 6): settings and an application typed in with the keyboard, errors next
to their fields, today's run started from the page, what it sent listed member by member and
printed as PDF (rendered to PNG to look at). Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

from browser_conftest import *  # noqa: F403 — fixtures: web_world, browser, page
from browser_conftest import SCREENSHOTS, login, shot
from factories import KOUKI_TOKYO, key

CARD = {"issued": "2024-03-01", "registered_on": "2024-04-01"}


def field(scope, label: str):  # noqa: ANN001, ANN201
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}(必須)?$"))


def test_R_I3_an_insurer_sets_up_runs_and_prints_its_issuance(page, web_world, today):
    today("2026-07-01")
    w = web_world
    for number, name, kana, birth in (("31000001", "髙橋 﨑子", "タカハシ サキコ", "1938-03-03"), ("31000002", "佐藤 一郎", "サトウ イチロウ", "1948-05-20")):
        mn = w.resident(name=name, kana=kana, birth_date=birth, sex=2 if "子" in name else 1, address="東京都新宿区西新宿2-8-1")
        m = w.member(KOUKI_TOKYO, my_number=mn, name=name, kana=kana, birth_date=birth, sex=2 if "子" in name else 1, symbol="", number=number, branch="",
                     start="2015-04-01", kouki_ratio=10, card=CARD, address="東京都新宿区西新宿2-8-1", postcode="163-8001")
        w.certificate(m, issued="2025-07-10", valid_from="2025-08-01", expires="2026-07-31")
    login(page, key("insurer", KOUKI_TOKYO))
    page.get_by_role("link", name="資格確認書等の交付").click()
    page.wait_for_url("**/insurer/issuance")
    assert page.get_by_role("heading", name=re.compile("^資格確認書等の交付")).is_visible()
    shot(page, "20_issuance_page")

    # settings: A4 certificates, the issuer printed — a bad yearly end date is named next to its field
    form = page.locator("#settings")
    form.get_by_label("毎年の期限日", exact=True).check()
    field(form, "毎年の期限日（月-日）").fill("02-29")
    form.get_by_label("A4型").check()
    field(form, "交付者名").fill("東京都後期高齢者医療広域連合長")
    form.get_by_role("button", name="設定を保存する").click()
    assert "月-日（例 07-31）で入力してください" in page.locator("#settings .error-summary").inner_text()
    assert page.locator("#f-options-annual-end").get_attribute("aria-invalid") == "true"
    shot(page, "21_issuance_settings_error")
    form = page.locator("#settings")
    field(form, "毎年の期限日（月-日）").fill("07-31")
    form.get_by_role("button", name="設定を保存する").click()
    assert "交付の設定を保存しました" in page.get_by_role("status").inner_text()

    # an application: 要配慮者 (R-I3f), typed with the keyboard
    form = page.locator("#application")
    field(form, "番号").fill("31000002")
    field(form, "申請日").fill("令和8年6月20日")
    field(form, "申請の理由").select_option(label="要配慮者（高齢・障害等で介助が必要）")
    field(form, "申請日").press("Enter")
    assert "資格確認書の交付申請を登録しました" in page.get_by_role("status").inner_text()
    shot(page, "22_issuance_application")

    # today's run, and what it sent
    page.get_by_role("button", name="本日の職権交付を実行する").click()
    page.wait_for_url("**/insurer/issuance/runs/*")
    deadline = time.monotonic() + 20
    while "完了" not in page.get_by_test_id("run-status").inner_text() and time.monotonic() < deadline:
        time.sleep(0.1)
        page.reload()
    assert "完了" in page.get_by_test_id("run-status").inner_text()
    summary = page.get_by_test_id("summary").inner_text()
    assert re.search(r"資格確認書\s+2", summary) and "R-I3g" in summary and "R-I3f" in summary  # 85+ by age; 78 by the application
    rows = page.get_by_test_id("documents").locator("tbody tr[data-kind=eligibility_certificate]")
    assert rows.count() == 2 and "髙橋 﨑子" in rows.first.inner_text() + rows.last.inner_text()
    assert "令和8年8月1日（2026年8月1日） 〜 令和9年7月31日（2027年7月31日）" in rows.first.inner_text()
    assert "A4型" in rows.first.inner_text()
    shot(page, "23_issuance_run")

    # print: the whole run as one PDF (post-room order), and one member's documents
    href = page.get_by_test_id("pdf-parts").get_by_role("link").first.get_attribute("href")
    pdf = page.request.get(href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "24_issuance_run.pdf"
    path.write_bytes(pdf.body())
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path), str(SCREENSHOTS / "24_issuance_run_page")], check=True)
    member = page.request.get(rows.first.get_by_role("link").get_attribute("href"))
    assert member.ok and member.body().startswith(b"%PDF")
    page.get_by_role("link", name="資格確認書等の交付に戻る").click()
    runs = page.get_by_test_id("runs").inner_text()
    assert "令和8年7月1日" in runs and "完了" in runs
    shot(page, "25_issuance_runs")
