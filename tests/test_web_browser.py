"""The reception pages in a real browser (Chromium via Playwright) on the real server:
a マイナ保険証 visit end to end, an expired card inside and outside the interim (R-T1/R-T2),
a 不詳 visit printing the 被保険者資格申立書, an insurer registering a member who then
verifies at the desk. SQLite only: the registry itself is tested on PostgreSQL elsewhere.
Screenshots of every page go to artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

from browser_conftest import *  # noqa: F403 — fixtures: web_world, browser, page
from browser_conftest import login, logout, shot
from factories import FACILITY, KOKUHO, KUMIAI, KYOKAI_TOKYO, OFFLINE_FACILITY, key

FACILITY_KEY = key("facility", FACILITY)


def field(scope, label: str):  # noqa: ANN001, ANN201
    """The control labelled `label` (a required field's label ends with 必須)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}(必須)?$"))


def receive(page, *, patient_ref: str, presented: list[str], serial: str | None = None, identity: str | None = None,  # noqa: ANN001
            birth: str | None = None, document: dict | None = None, remarks: dict | None = None, consent: bool = False) -> None:
    """Fill the 受付画面 as a clerk would, and submit with Enter."""
    page.goto("/reception")
    page.get_by_label("患者番号（カルテ番号）").fill(patient_ref)
    for text in presented:
        page.get_by_label(text, exact=True).check()
    if serial:
        page.get_by_label("カード番号（読み取り結果）").fill(serial)
    if identity:
        page.get_by_label(identity, exact=True).check()
    if consent:
        page.get_by_label("薬剤情報・特定健診情報等の閲覧に同意している").check()
    if birth:
        page.get_by_label("生年月日").fill(birth)
    for label, value in (document or {}).items():
        page.locator("#f-documents").get_by_label(label, exact=True).fill(value)
    if remarks:
        page.get_by_text("氏名・住所・保険の種類などを入力する").click()
        for label, value in remarks.items():
            control = page.locator("section[aria-labelledby=s-remarks]").get_by_label(label, exact=True)
            if control.evaluate("e => e.tagName") == "SELECT":
                control.select_option(label=value)
            else:
                control.fill(value)
    page.get_by_label("患者番号（カルテ番号）").press("Enter")
    page.wait_for_load_state()


def test_login_is_required_and_keys_are_checked(page, web_world):
    page.goto("/reception")
    assert page.url.endswith("/login?next=/reception")
    page.get_by_label("利用者の鍵").fill("not-a-key")
    page.get_by_label("利用者の鍵").press("Enter")
    assert page.get_by_role("alert").is_visible() and "鍵が正しくありません" in page.get_by_role("alert").inner_text()
    shot(page, "01_login_error")
    page.get_by_label("利用者の鍵").fill(FACILITY_KEY)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/reception")
    assert "霞が関内科クリニック" in page.locator("header").inner_text()
    logout(page)
    page.goto("/reception")
    assert "/login" in page.url


def test_R_D1_my_number_card_visit_end_to_end(page, web_world, today):
    today("2026-05-12")
    m = web_world.member(name="𠮷田 太郎", kana="ヨシダ タロウ", card={"issued": "2021-07-01", "cert_expires": "2026-07-20"})
    login(page, FACILITY_KEY)
    shot(page, "02_reception_form")
    # Keyboard: the patient number field has the focus, tab order follows the sections.
    assert page.evaluate("document.activeElement.name") == "patient_ref"
    receive(page, patient_ref="K-0001", presented=["マイナ保険証（マイナンバーカード）"], serial=m["serial"], identity="顔認証", consent=True)
    assert page.get_by_test_id("copay").inner_text() == "3割"
    assert page.get_by_test_id("basis").inner_text() == "現在の資格で請求"
    assert page.get_by_test_id("verification").inner_text() == "マイナ保険証・有効"
    assert page.get_by_test_id("name").inner_text() == "●田 太郎"  # R-D4: as the system returns it
    alerts = page.get_by_role("alert")
    assert "電子証明書の有効期限が近づいています" in alerts.inner_text()  # R-B3
    cites = page.locator(".citations").inner_text()
    assert "R-D1" in cites and "R-B3" in cites and "002_0976fd6e73ac3729.txt" in cites
    assert "市区町村で更新" in page.locator(".tell").inner_text()
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    big = page.evaluate("parseFloat(getComputedStyle(document.querySelector('[data-testid=copay]')).fontSize)")
    assert font >= 16 and big >= 3 * font  # readable at a desk; 負担割合 in large type
    shot(page, "03_result_my_number_card")
    page.get_by_role("link", name="本日の受付一覧").first.click()
    page.wait_for_url("**/reception/today")
    row = page.locator("tr", has_text="K-0001")
    assert "マイナ保険証・有効" in row.inner_text() and "3割" in row.inner_text()
    assert "受付画面" in page.locator("table").nth(1).inner_text()  # the verification log, channel web
    shot(page, "04_today_list")
    row.get_by_role("link", name=re.compile("詳細")).click()
    assert page.get_by_test_id("copay").inner_text() == "3割"
    shot(page, "05_visit_detail")


def test_R_T1_expired_card_inside_and_R_T2_outside_the_interim(page, web_world, today):
    today("2026-04-01")
    m = web_world.member(KOKUHO, name="佐藤 花子", kana="サトウ ハナコ", birth_date="1958-03-03", sex=2, symbol="", number="55001")
    card = {"保険者番号": KOKUHO, "番号": m["number"], "有効期限（資格確認書・保険証）": "2025-07-31"}
    login(page, FACILITY_KEY)
    today("2026-07-31")  # the last day of the extension (事務連絡 2026-03-25)
    receive(page, patient_ref="K-0002", presented=["健康保険証（従来の保険証）"], birth="S33.3.3", document=card)
    assert page.get_by_test_id("copay").inner_text() == "3割"
    assert page.get_by_test_id("basis").inner_text() == "現在の資格で請求"
    assert page.get_by_test_id("verification").inner_text() == "被保険者番号等・有効"
    cites = page.locator(".citations").inner_text()
    assert "R-T1" in cites and "2026-03-25" in cites and "令和8年7月31日（2026年7月31日）" in cites
    assert "マイナ保険証か資格確認書" in page.locator(".tell").inner_text()
    shot(page, "06_expired_card_inside_interim")
    today("2026-08-01")
    receive(page, patient_ref="K-0002", presented=["健康保険証（従来の保険証）"], birth="昭和33年3月3日", document=card)
    assert page.get_by_test_id("copay").inner_text() == "10割"
    assert page.get_by_test_id("basis").inner_text() == "自費"
    assert "R-T2" in page.locator(".citations").inner_text()
    assert "療養費" in page.locator(".tell").inner_text()
    shot(page, "07_expired_card_outside_interim")
    page.get_by_role("link", name="制度カレンダー").click()
    status = page.get_by_test_id("status-interim_acceptance")
    assert "この日は適用されません" in status.inner_text() and "令和8年7月31日（2026年7月31日）に終了" in status.inner_text()
    shot(page, "08_calendar_2026-08-01")
    page.get_by_role("link", name="令和8年7月31日（2026年7月31日）").click()
    assert "この日は有効" in page.get_by_test_id("status-interim_acceptance").inner_text()
    shot(page, "09_calendar_2026-07-31")


def test_unknown_claim_prints_the_declaration_form_and_never_a_dv_address(page, web_world, today):
    today("2026-05-12")
    # Registered today with a start next month: the card reads but finds no qualification (資格情報なし).
    a = web_world.member(KUMIAI, name="髙橋 一郎", kana="タカハシ イチロウ", birth_date="1985-11-02", start="2026-06-01",
                         notified="2026-05-11", address="東京都千代田区霞が関1-2-2", card={"issued": "2023-01-10"})
    b = web_world.member(KUMIAI, name="鈴木 良子", kana="スズキ ヨシコ", birth_date="1979-02-20", sex=2, start="2026-06-01",
                         notified="2026-05-11", address="東京都千代田区霞が関1-2-2", dv_flag=True, card={"issued": "2023-01-10"})
    login(page, FACILITY_KEY)
    remarks = {"保険種別": "社保", "保険者等名称": "霞が関健康保険組合", "事業所名（勤務先）": "霞が関商事", "連絡先電話番号": "03-1234-5678"}
    receive(page, patient_ref="K-0003", presented=["マイナ保険証（マイナンバーカード）"], serial=a["serial"], identity="暗証番号", remarks=remarks)
    assert page.get_by_test_id("basis").inner_text() == "申立書による不詳請求"
    assert page.get_by_test_id("copay").inner_text() == "3割"  # never 10割 (R-C2)
    assert page.get_by_test_id("verification").inner_text() == "マイナ保険証・資格情報なし"
    sheet = page.get_by_test_id("declaration")
    assert page.get_by_test_id("sheet-name").inner_text() == "●橋 一郎"  # 髙 is outside JIS X 0208
    assert page.get_by_test_id("sheet-kana").inner_text() == "タカハシ イチロウ"
    birth = page.get_by_test_id("sheet-birth")
    assert birth.locator(".opt.on").inner_text().startswith("✓\n昭和") and re.search(r"60\s*年\s*11\s*月\s*2\s*日", birth.inner_text())
    assert page.get_by_test_id("sheet-address").inner_text() == "東京都千代田区霞が関1-2-2"
    assert "令和8年5月12日" in page.get_by_test_id("sheet-care-date").inner_text()
    assert "霞が関内科クリニック（医療機関コード 1310000017）" in page.get_by_test_id("sheet-facility").inner_text()
    assert "霞が関商事" in sheet.inner_text() and sheet.locator(".opt.on", has_text="社保").count() == 1
    assert page.get_by_test_id("sheet-phone").inner_text() == "03-1234-5678"
    shot(page, "10_unknown_claim_result")
    # Printing: the 申立書 alone, on one A4 page, without the navigation.
    page.emulate_media(media="print")
    assert page.locator("nav.site").is_hidden() and page.locator(".decision").is_hidden() and sheet.is_visible()
    shot(page, "11_declaration_print_preview")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    boxes = {tuple(round(float(x)) for x in mb) for mb in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)}
    assert len(pages) == 1, f"the 申立書 printed on {len(pages)} pages"
    assert boxes == {(595, 842)}, boxes  # A4 in points
    (shot.__globals__["SCREENSHOTS"] / "declaration.pdf").write_bytes(pdf)
    # DV-flagged member: the address appears nowhere, not on the result, not on the form (R-D5).
    receive(page, patient_ref="K-0004", presented=["マイナ保険証（マイナンバーカード）"], serial=b["serial"], identity="目視確認")
    assert page.get_by_test_id("basis").inner_text() == "申立書による不詳請求"
    assert "霞が関1-2-2" not in page.content()
    assert page.get_by_test_id("sheet-address").inner_text() == ""
    assert page.get_by_test_id("sheet-name").inner_text() == "鈴木 良子"
    shot(page, "12_unknown_claim_dv")
    # Reprint later from the list of the day.
    page.goto("/reception/today")
    page.locator("tr", has_text="K-0003").get_by_role("link", name="申立書").click()
    assert page.get_by_test_id("sheet-name").inner_text() == "●橋 一郎"
    shot(page, "13_declaration_page")


def test_insurer_registers_a_member_who_then_verifies_at_the_desk(page, web_world, today):
    today("2026-05-12")
    mn = web_world.resident(name="伊藤 健", kana="イトウ ケン", birth_date="1990-04-01", address="東京都港区芝公園4-2-8")
    other = web_world.member(KUMIAI, name="加藤 誠", kana="カトウ マコト", birth_date="1970-01-01", number="777")
    login(page, key("insurer", KYOKAI_TOKYO))
    page.wait_for_url("**/insurer")
    shot(page, "14_insurer_page")
    form = page.locator("#acquisition")
    field(form, "個人番号（12桁）").fill(mn)
    field(form, "氏名").fill("伊藤 健")
    field(form, "カナ氏名").fill("伊藤 健")  # not katakana: refused, the field named
    field(form, "生年月日").fill("平成2年2月30日")
    field(form, "性別").select_option(label="男")
    field(form, "住所").fill("東京都港区芝公園4-2-8")
    field(form, "記号").fill("5012")
    field(form, "番号").fill("9001")
    field(form, "枝番").fill("00")
    field(form, "資格取得日").fill("2026-05-01")
    field(form, "届出日").fill("2026-05-05")
    form.get_by_role("button", name="資格取得を登録する").click()
    summary = page.locator("#acquisition .error-summary")
    assert "カナ氏名：カタカナで入力してください" in summary.inner_text()
    assert "生年月日：存在しない日付です" in summary.inner_text()
    assert page.locator("#f-acquisition-kana").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert field(form, "個人番号（12桁）").input_value() == ""  # the 個人番号 is never echoed
    shot(page, "15_insurer_validation_error")
    form = page.locator("#acquisition")
    field(form, "個人番号（12桁）").fill(mn)
    field(form, "カナ氏名").fill("いとう けん")  # hiragana is folded to katakana
    field(form, "生年月日").fill("平成2年4月1日")
    form.get_by_role("button", name="資格取得を登録する").click()
    done = page.get_by_role("status")
    assert "資格取得を登録しました" in done.inner_text()
    assert "令和8年5月5日（2026年5月5日） → 令和8年5月12日（2026年5月12日）" in done.inner_text()
    assert page.get_by_test_id("deadline").inner_text().startswith("超過")  # 7 days > 5 (R-I1)
    assert "5日以内" in done.inner_text()
    compliance = page.locator("tr[data-kind=acquisition]").inner_text()
    assert "資格取得" in compliance
    shot(page, "16_insurer_registered")
    # Another insurer's member: refused, nothing changed.
    form = page.locator("#loss")
    field(form, "番号").fill(other["number"])
    field(form, "記号").fill(other["symbol"])
    field(form, "枝番").fill("00")
    field(form, "資格の最終日").fill("2026-05-10")
    field(form, "届出日").fill("2026-05-11")
    form.get_by_role("button", name="資格喪失を登録する").click()
    assert "この保険者の該当する資格が見つかりません" in page.locator("#loss .error-summary").inner_text()
    shot(page, "17_insurer_wrong_member")
    page.locator("#loss input[name=insurer_number]").evaluate(f"e => e.value = '{KUMIAI}'")
    page.locator("#loss").get_by_role("button", name="資格喪失を登録する").click()
    assert "他の保険者の届出はできません" in page.locator("h1").inner_text()
    logout(page)
    # The member verifies at the desk with the numbers of their 資格確認書.
    login(page, FACILITY_KEY)
    cert = {"保険者番号": KYOKAI_TOKYO, "記号": "5012", "番号": "9001", "枝番": "00", "交付年月日（資格確認書）": "2026-05-12", "有効期限（資格確認書・保険証）": "2031-05-11"}
    receive(page, patient_ref="K-0005", presented=["資格確認書"], birth="1990-04-01", document=cert)
    assert page.get_by_test_id("verification").inner_text() == "被保険者番号等・有効"
    assert page.get_by_test_id("copay").inner_text() == "3割"
    assert page.get_by_test_id("name").inner_text() == "伊藤 健"
    assert "R-A3a" in page.locator(".citations").inner_text()
    # the registry's answer, the same dates the terminal writes (no certificate registered: the qualification's)
    assert page.get_by_role("heading", name="資格の期間（照会結果：資格確認書の登録なし）").is_visible()
    assert "有効開始年月日 令和8年5月1日（2026年5月1日）" in " ".join(page.get_by_test_id("certificate-dates").inner_text().split())
    shot(page, "18_certificate_visit")


def test_paper_facility_and_keyboard_only_reception(page, web_world, today):
    """A paper-claim facility (R-T4) — and the whole form driven by the keyboard alone."""
    today("2026-05-12")
    m = web_world.member(name="中村 光", kana="ナカムラ ヒカル", birth_date="2001-08-08")
    login(page, key("facility", OFFLINE_FACILITY))
    assert "紙レセプト" in page.locator(".lead").inner_text()
    page.keyboard.type("P-1")
    page.keyboard.press("Tab")  # 本人・家族
    page.keyboard.press("Tab")  # 生年月日
    page.keyboard.type("2001-08-08")
    page.keyboard.press("Tab")  # 持参したもの: マイナ保険証
    page.keyboard.press("Tab")  # スマホ保険証
    page.keyboard.press("Tab")  # 資格確認書
    page.keyboard.press("Space")
    focus = page.evaluate("document.activeElement.value")
    assert focus == "eligibility_certificate"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus
    page.locator("#f-document-insurer-number").focus()
    page.keyboard.type(KYOKAI_TOKYO)
    page.keyboard.press("Tab")
    page.keyboard.type(m["symbol"])
    page.keyboard.press("Tab")
    page.keyboard.type(m["number"])
    page.keyboard.press("Tab")
    page.keyboard.type("00")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.get_by_test_id("basis").inner_text() == "書類の番号で請求"
    assert page.get_by_test_id("verification").inner_text() == "照会なし"
    assert "R-T4" in page.locator(".citations").inner_text()
    shot(page, "19_paper_facility")


@pytest.mark.parametrize("path", ["/reception", "/calendar"])
def test_pages_answer_without_a_session_by_asking_to_log_in(page, web_world, path):
    page.goto(path)
    assert page.locator("h1").inner_text() == "ログイン"
