"""The reception pages over HTTP without a browser, on every database: sessions and CSRF,
roles, errors named in Japanese with nothing stored, the DV address never shown (R-D5),
the insurer's own members only, the calendar's dates, the label tables."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from onshi.frontdesk import engine as fd
from onshi.frontdesk.explain import ACTION_TEXT
from onshi.frontdesk.live import visits_on
from onshi.interfaces.http.app import create_app
from onshi.interfaces.web import labels
from onshi.interfaces.web.forms import parse_day
from onshi.interfaces.web.session import COOKIE, SALT
from onshi.registry.keys import session_secret
from onshi.registry.lookup import CARD_ERRORS, Validity

from factories import FACILITY, KUMIAI, KYOKAI_TOKYO, OFFLINE_FACILITY, World, key

CARD = {"issued": "2022-03-01"}


@pytest.fixture
def client(world):  # noqa: ANN001, ANN201
    with TestClient(create_app(world.registry), raise_server_exceptions=True, follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, api_key: str) -> str:  # noqa: ANN001
    client.cookies.clear()
    page = client.get("/login")
    r = client.post("/login", data={"csrf": csrf_of(page.text), "api_key": api_key, "next": ""})
    assert r.status_code == 303, r.text
    return csrf_of(client.get(r.headers["location"]).text)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def visit(client, csrf: str, **fields) -> object:  # noqa: ANN001, ANN003
    data = {"csrf": csrf, "identity": "face", "device": "ok", **fields}
    return client.post("/reception", data=data)


# ---------------------------------------------------------------- access


def test_pages_need_a_login_and_the_right_role(client):
    r = client.get("/reception")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/reception"
    assert client.get("/").headers["location"] == "/login"
    login(client, key("facility", FACILITY))
    assert client.get("/").headers["location"] == "/reception"
    r = client.get("/insurer")
    assert r.status_code == 403 and "保険者の鍵でログインした場合に利用できます" in r.text
    assert client.get("/calendar").status_code == 200
    login_page = client.get("/reception")
    client.post("/logout", data={"csrf": csrf_of(login_page.text)})
    login(client, key("insurer", KYOKAI_TOKYO))
    assert client.get("/reception").status_code == 403
    assert client.get("/calendar").status_code == 200


def test_login_refuses_unknown_keys_forged_forms_and_foreign_redirects(client):
    page = client.get("/login")
    r = client.post("/login", data={"csrf": csrf_of(page.text), "api_key": "nope", "next": ""})
    assert r.status_code == 401 and "利用者の鍵：鍵が正しくありません" in text(r.text)
    r = client.post("/login", data={"csrf": "forged", "api_key": key("facility", FACILITY), "next": ""})
    assert r.status_code == 403 and client.get("/reception").status_code == 303
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value=""' in page.text
    r = client.post("/login", data={"csrf": csrf_of(page.text), "api_key": key("facility", FACILITY), "next": "//evil.example/x"})
    assert r.headers["location"] == "/reception"
    client.cookies.clear()
    r = client.post("/login", headers={"origin": "http://evil.example"}, data={"csrf": csrf_of(client.get("/login").text), "api_key": key("facility", FACILITY)})
    assert r.status_code == 403 and client.get("/reception").status_code == 303  # a cross-site login is refused


def test_the_session_cookie_holds_a_session_id_never_the_key(client, world):
    api_key = key("facility", FACILITY)
    login(client, api_key)
    raw = client.cookies[COOKIE]
    assert api_key not in raw
    data = URLSafeTimedSerializer(session_secret(world.engine), salt=SALT).loads(raw)
    assert set(data) == {"sid", "csrf"} and api_key not in str(data)  # the principal lives on the server
    client.cookies.set(COOKIE, raw[:-2] + ("AA" if not raw.endswith("AA") else "BB"))  # tampered: logged out
    assert client.get("/reception").status_code == 303


def test_a_post_without_the_session_token_is_refused_and_stores_nothing(client, world):
    m = world.member(card=CARD)
    login(client, key("facility", FACILITY))
    r = visit(client, "forged", patient_ref="K-1", presented="my_number_card", card_serial=m["serial"])
    assert r.status_code == 403 and "画面の有効期限が切れました" in r.text
    csrf = csrf_of(client.get("/reception").text)
    r = client.post("/reception", headers={"origin": "http://evil.example"}, data={"csrf": csrf, "patient_ref": "K-1", "presented": "my_number_card", "card_serial": m["serial"]})
    assert r.status_code == 403
    assert visits_on(world.registry, FACILITY, dt.date(2026, 5, 12)) == [] and world.registry.log.for_facility(FACILITY) == []


# ---------------------------------------------------------------- 受付画面


def test_reception_errors_name_the_fields_in_japanese_and_store_nothing(client, world):
    csrf = login(client, key("facility", FACILITY))
    r = visit(client, csrf, patient_ref="", birth_date="平成2年2月30日", presented="eligibility_certificate", **{
        "document.insurer_number": "01130013", "document.number": "77", "declared.branch": "abc", "remarks.phone": "電話"})
    assert r.status_code == 422
    body = text(r.text)
    for message in ("患者番号（カルテ番号）：", "生年月日：存在しない日付です", "書類の保険者番号：検証番号が正しくありません（正しくは 2）",
                    "申告の枝番：", "申告の番号：入力してください", "連絡先電話番号：使えない文字が含まれています"):
        assert message in body, message
    assert body.index("患者番号（カルテ番号）：") < body.index("生年月日：") < body.index("書類の保険者番号：")  # in the form's order
    assert 'id="f-document-insurer-number"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="01130013"' in r.text  # what was typed stays in the form
    assert visits_on(world.registry, FACILITY, dt.date(2026, 5, 12)) == [] and world.registry.log.for_facility(FACILITY) == []
    # A card presented without its serial (and read): the field is named, nothing stored.
    r = visit(client, csrf, patient_ref="K-9", presented="my_number_card")
    assert r.status_code == 422 and "カード番号：カードを提示した場合は入力してください" in text(r.text)
    r = visit(client, csrf, patient_ref="K-9", presented="eligibility_certificate", birth_date="1980-06-15")
    assert r.status_code == 422 and "提示書類の番号：提示された書類の保険者番号・番号を入力してください" in text(r.text)
    r = visit(client, csrf, patient_ref="K-9", presented="eligibility_certificate", birth_date="1980-06-15",
              **{"document.insurer_number": "06270011", "document.number": "1"})
    assert r.status_code == 422 and "書類の保険者番号：登録されていない保険者番号です" in text(r.text)
    assert visits_on(world.registry, FACILITY, dt.date(2026, 5, 12)) == []


def test_R_D1_card_visit_shows_the_decision_and_is_listed(client, world):
    m = world.member(card=CARD)
    csrf = login(client, key("facility", FACILITY))
    r = visit(client, csrf, patient_ref="K-1", presented="my_number_card", card_serial=m["serial"].lower(), identity="pin", consent="1")
    assert r.status_code == 200
    body = text(r.text)
    assert "3割" in body and "現在の資格で請求" in body and "マイナ保険証・有効" in body and "R-D1" in body
    assert "薬剤情報・特定健診情報等を閲覧できます" in body
    [v] = visits_on(world.registry, FACILITY, dt.date(2026, 5, 12))
    assert v["identity"] == "pin" and v["basis"] == "current"
    assert [e["channel"] for e in world.registry.log.for_facility(FACILITY)] == ["web"]
    listing = text(client.get("/reception/today").text)
    assert "K-1" in listing and "マイナ保険証・有効" in listing and "受付画面" in listing
    detail = client.get(f"/reception/visits/2026-05-12/{v['id']}")
    assert detail.status_code == 200 and "現在の資格で請求" in text(detail.text)
    assert client.get(f"/reception/visits/2026-05-12/{v['id']}/declaration").status_code == 404  # not a 不詳 visit
    # the same form sent twice (a double click, a reload) records one visit and shows it
    page = client.get("/reception")
    form_id = re.search(r'name="form_id" value="([0-9a-f]+)"', page.text).group(1)
    first = visit(client, csrf_of(page.text), form_id=form_id, patient_ref="K-2", presented="my_number_card", card_serial=m["serial"])
    again = visit(client, csrf_of(page.text), form_id=form_id, patient_ref="K-2", presented="my_number_card", card_serial=m["serial"])
    assert first.status_code == 200 and again.status_code == 303
    visits = visits_on(world.registry, FACILITY, dt.date(2026, 5, 12))
    assert [x["patient_ref"] for x in visits] == ["K-1", "K-2"] and again.headers["location"] == f"/reception/visits/2026-05-12/{visits[1]['id']}"
    assert len(world.registry.log.for_facility(FACILITY)) == 2
    # another facility never sees it
    login(client, key("facility", OFFLINE_FACILITY))
    assert client.get(f"/reception/visits/2026-05-12/{v['id']}").status_code == 404


def test_R_D5_a_dv_flagged_address_is_on_no_page_and_R_D4_names_keep_their_mask(client, world, today):
    address = "東京都千代田区霞が関1-2-2"  # the resident register's (World's default)
    dv = world.member(KUMIAI, name="𠮷田 花子", kana="ヨシダ ハナコ", sex=2, address=address, dv_flag=True, start="2026-06-01", notified="2026-05-12", card=CARD)
    plain = world.member(KUMIAI, name="田中 一", kana="タナカ ハジメ", address=address, card=CARD)
    csrf = login(client, key("facility", FACILITY))
    r = visit(client, csrf, patient_ref="DV-1", presented="my_number_card", card_serial=dv["serial"])
    assert "申立書による不詳請求" in text(r.text) and "●田 花子" in r.text and "𠮷" not in r.text
    assert "霞が関1-2-2" not in r.text
    [v] = visits_on(world.registry, FACILITY, dt.date(2026, 5, 12))
    for path in (f"/reception/visits/2026-05-12/{v['id']}", f"/reception/visits/2026-05-12/{v['id']}/declaration", "/reception/today"):
        page = client.get(path)
        assert page.status_code == 200 and "霞が関1-2-2" not in page.text and "𠮷" not in page.text, path
    r = visit(client, csrf, patient_ref="P-1", presented="my_number_card", card_serial=plain["serial"])
    assert address in r.text  # an address the registry returns is shown


# ---------------------------------------------------------------- 保険者画面


def insurer_form(client, kind: str, csrf: str, insurer: str = KYOKAI_TOKYO, request_id: str = "web-test-1", **fields):  # noqa: ANN001, ANN003, ANN201
    data = {"csrf": csrf, "insurer_number": insurer, "request_id": request_id, **{f"{kind}.{k}": v for k, v in fields.items()}}
    return client.post(f"/insurer/{kind}", data=data)


def test_insurer_registers_its_own_members_with_the_R_I1_deadline(client, world, today):
    mn = world.resident(name="伊藤 健", kana="イトウ ケン", birth_date="1990-04-01")
    other = world.member(KUMIAI, number="777")
    csrf = login(client, key("insurer", KYOKAI_TOKYO))
    acq = dict(my_number=mn, name="伊藤 健", kana="イトウ ケン", birth_date="H2.4.1", sex="1", symbol="5012", number="9001", branch="00",
               relation="self", start="2026-05-01", notified="2026-05-10", income="general")
    # another insurer in the form: refused, nothing stored
    r = insurer_form(client, "acquisition", csrf, insurer=KUMIAI, **acq)
    assert r.status_code == 403 and "他の保険者の届出はできません" in r.text
    assert world.registry.compliance(KUMIAI)["by_kind"].get("acquisition", {}).get("total") == 1  # only `other`
    r = insurer_form(client, "acquisition", csrf, **acq)
    assert r.status_code == 201
    body = text(r.text)
    assert "資格取得を登録しました" in body and "5日以内（要した日数 2日）" in body and "遵守" in body
    assert mn not in r.text  # the 個人番号 is never echoed
    again = insurer_form(client, "acquisition", csrf, **acq)  # the same form sent twice: one registration
    assert again.status_code == 200 and "再送" in again.text
    assert world.registry.compliance(KYOKAI_TOKYO)["by_kind"]["acquisition"]["total"] == 1
    # a change and a loss of its own member
    r = insurer_form(client, "change", csrf, request_id="web-test-2", symbol="5012", number="9001", branch="00", notified="2026-04-30", income="high")
    assert r.status_code == 201 and "資格変更を登録しました" in text(r.text) and "10日以内（要した日数 12日）" in text(r.text) and "超過" in text(r.text)
    r = insurer_form(client, "loss", csrf, request_id="web-test-3", symbol="5012", number="9001", branch="00", end="2026-05-11", notified="2026-05-12", loss_reason="03")
    assert r.status_code == 201 and "他の保険の資格取得" in text(r.text)
    # another insurer's member cannot be touched from here
    r = insurer_form(client, "loss", csrf, request_id="web-test-4", symbol=other["symbol"], number="777", branch="00", end="2026-05-11", notified="2026-05-12")
    assert r.status_code == 404 and "番号：この保険者の該当する資格が見つかりません" in text(r.text)
    # errors are named, in Japanese, next to their field; nothing stored
    r = insurer_form(client, "acquisition", csrf, request_id="web-test-5", my_number="123", name="", kana="ito", birth_date="1990-13-01", number="1", start="2026-05-01", notified="2026-05-13")
    body = text(r.text)
    assert r.status_code == 422
    for message in ("個人番号：12桁の数字で入力してください", "氏名：入力してください", "カナ氏名：カタカナで入力してください", "生年月日：存在しない日付です"):
        assert message in body, message
    assert 'id="e-acquisition-kana"' in r.text
    summary = world.registry.compliance(KYOKAI_TOKYO)["by_kind"]
    assert summary["acquisition"]["total"] == 1 and summary["change"]["late"] == 1
    assert client.post("/insurer/card_link", data={"csrf": csrf, "insurer_number": KYOKAI_TOKYO}).status_code == 404


# ---------------------------------------------------------------- 制度カレンダー


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-07-31", "この日は有効 （令和8年7月31日（2026年7月31日）まで）"),
    ("R8.8.1", "この日は適用されません （令和8年7月31日（2026年7月31日）に終了しました）"),
    ("2025-07-31", "この日は適用されません （令和7年8月1日（2025年8月1日）から）"),
])
def test_R_T1_on_the_calendar(client, day, expected):
    login(client, key("facility", FACILITY))
    page = text(client.get(f"/calendar?date={day}").text)
    section = page[page.index("R-T1 暫定的な取扱い（期限切れの保険証・お知らせのみ） この日"):]
    assert section.startswith("R-T1 暫定的な取扱い（期限切れの保険証・お知らせのみ） " + expected), section[:200]
    assert "2026-03-25" in page and "000_8394ff2d9ccc5cd1.txt" in page


def test_calendar_names_a_bad_date(client):
    login(client, key("insurer", KYOKAI_TOKYO))
    r = client.get("/calendar?date=2026-02-30")
    assert r.status_code == 422 and "日付：存在しない日付です" in text(r.text)


# ---------------------------------------------------------------- small pieces


def test_every_code_has_its_japanese_label():
    assert set(fd.BASES) <= set(labels.BASIS)
    assert set(fd.DOCUMENT_KINDS) == set(labels.PRESENTED) == set(labels.PRESENTED_SHORT)
    assert set(fd.DEVICE_STATES) == set(labels.DEVICE) and set(fd.IDENTITIES) == set(labels.IDENTITY)
    assert {v.value for v in Validity} | {"not_queried"} <= set(labels.RESULT)
    assert {"my_number_card", "smartphone", "number_inquiry", "none"} <= set(labels.METHOD)
    assert {"cert_expiring", "card_expiring", "cert_grace", "card_grace"} == set(labels.ALERT)
    assert set(fd.ACTIONS) <= set(ACTION_TEXT) and set(CARD_ERRORS) == set(labels.CARD_ERROR)
    assert labels.verification("my_number_card", "valid") == "マイナ保険証・有効"
    assert labels.verification("none", "not_queried") == "照会なし"
    assert labels.ratio(100) == "10割（全額自己負担）" and labels.ratio(20) == "2割"


@pytest.mark.parametrize(("typed", "day"), [
    ("2026-05-12", "2026-05-12"), ("2026/5/2", "2026-05-02"), ("20260512", "20260512"), ("令和8年5月12日", "2026-05-12"),
    ("R8.5.12", "2026-05-12"), ("S55.6.15", "1980-06-15"), ("平成元年1月8日", "1989-01-08"), ("５０８０５１２", "2026-05-12"),
])
def test_dates_typed_at_the_desk(typed, day):
    expected = dt.date(int(day[:4]), int(day[-4:-2] if "-" not in day else day[5:7]), int(day[-2:]))
    assert parse_day(typed, "birth_date") == expected


def test_static_files_headers_and_no_pages_in_the_api_schema(client):
    css = client.get("/static/onshi.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "@page { size: A4" in css.text
    assert client.get("/static/missing.css").status_code == 404 and client.get("/static/..%2Froutes.py").status_code == 404
    page = client.get("/login")
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert '<html lang="ja">' in page.text
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p.startswith(("/reception", "/insurer", "/calendar", "/login")) for p in paths)
