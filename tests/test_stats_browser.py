"""The 統計 and 政策シミュレーション pages in a real browser (Chromium via Playwright) on the real
server, over a small seeded population whose months were simulated: the charts drawn on the
server (SVG with the IPA font), the numbers under them, the month form, the branch switch, the
CSV download, a facility's own view. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import shutil
from types import SimpleNamespace

import pytest

from onshi.registry import db
from onshi.registry.seed import seed_registry
from onshi.stats.simulate import simulate
from onshi.stats.whatif import whatif

from browser_conftest import LiveServer, _free_port, login, shot
from browser_conftest import browser, page  # noqa: F401 — the fixtures
from factories import analyst_key


@pytest.fixture(scope="module")
def web_world(tmp_path_factory, sqlite_template):  # noqa: ANN001, ANN201
    """600 seeded people, 2025-10 … 2025-12 simulated, a what-if without the 2025-11-12 notice, served
    live (browser_conftest's `page` opens it)."""
    from onshi.interfaces.http.app import create_app
    from onshi.registry.service import Registry

    path = tmp_path_factory.mktemp("stats") / "registry.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    summary = seed_registry(engine, people=600, seed=2, today=dt.date(2026, 11, 30), progress=False)
    simulate(engine, dt.date(2025, 10, 1), dt.date(2025, 12, 1), seed=2, workers=1)
    alt = tmp_path_factory.mktemp("alt")
    (alt / "without_widening.yaml").write_text("interim_acceptance:\n  withdraw: [jimurenraku_2025_11_12]\n", encoding="utf-8")
    whatif(engine, dt.date(2025, 12, 1), dt.date(2025, 12, 1), [alt])
    server = LiveServer(create_app(Registry(engine)), _free_port()).start()
    yield SimpleNamespace(url=server.url, analyst=analyst_key(engine), facility=summary.demo_facility_key, facility_code=summary.demo_facility_code)
    server.stop()
    engine.dispose()


def drawn(page, test_id: str) -> bool:  # noqa: ANN001
    """The chart image was decoded and has a size (the SVG is valid)."""
    return page.get_by_test_id(test_id).evaluate("img => img.complete && img.naturalWidth > 300 && img.naturalHeight > 100")


def test_analyst_sees_the_national_series_age_bands_and_branches(page, web_world):
    login(page, web_world.analyst)
    assert page.url.endswith("/stats")
    assert page.get_by_role("link", name="統計").get_attribute("aria-current") == "page"
    for chart in ("chart-series", "chart-age", "chart-branch"):
        assert drawn(page, chart), chart
    series = page.get_by_test_id("table-series")
    assert [r.inner_text().split("\t")[0] for r in series.locator("tbody tr").all()] == ["2025-10", "2025-11", "2025-12"]
    assert "%" in series.inner_text()
    assert page.get_by_test_id("table-age").locator("tbody tr").count() >= 10  # the age bands of 2025-12
    assert page.get_by_test_id("table-branch").locator("tbody tr").last.inner_text().startswith("全国")
    assert page.locator("dl.definitions dt").count() == 4 and "R-S2" in page.locator("dl.definitions").inner_text()
    shot(page, "30_stats_analyst")


def test_the_month_form_the_branch_switch_and_the_csv(page, web_world):
    login(page, web_world.analyst)
    page.get_by_label("開始月").fill("2025-10")
    page.get_by_label("終了月").fill("2025-10")
    page.get_by_label("終了月").press("Enter")
    page.wait_for_url("**/stats?month=2025-10&to=2025-10*")
    assert page.get_by_test_id("table-series").locator("tbody tr").count() == 1
    # The published 2025-10 age-band figures of seed 002 appear beside the simulated ones.
    assert "48.00%" in page.get_by_test_id("table-age").inner_text()
    shot(page, "31_stats_2025_10")
    page.get_by_role("link", name="利用率・件数ベース（R-S1）").click()
    page.wait_for_url("**branch=visits*")
    assert "利用率・件数ベース" in page.get_by_test_id("section-branch").locator("h2").inner_text() and drawn(page, "chart-branch")
    with page.expect_download() as info:
        page.get_by_test_id("section-age").get_by_role("link", name="マイナ保険証利用率（オンライン資格確認件数ベース）").click()
    text = open(info.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0] == "month,group,label,numerator,denominator,rate" and "2025-10,70-74," in text
    page.get_by_label("開始月").fill("2025-99")
    page.get_by_label("開始月").press("Enter")
    assert page.get_by_role("alert").is_visible() and "開始月" in page.get_by_role("alert").inner_text()
    shot(page, "32_stats_error")


def test_whatif_page_shows_the_stored_report(page, web_world):
    login(page, web_world.analyst)
    page.get_by_role("link", name="政策シミュレーション").click()
    page.wait_for_url("**/stats/whatif")
    report = page.get_by_test_id("whatif-report")
    assert "jimurenraku_2025_11_12" in report.inner_text()
    assert drawn(page, "chart-whatif")
    assert page.get_by_test_id("table-whatif").locator("tbody tr").count() >= 1
    shot(page, "33_whatif")


def test_a_facility_sees_its_own_rates_and_no_branches(page, web_world):
    login(page, web_world.facility)
    page.goto("/stats")
    assert web_world.facility_code in page.get_by_test_id("scope").inner_text()
    assert drawn(page, "chart-series") and page.get_by_test_id("section-branch").count() == 0
    page.goto("/stats/whatif")
    assert "この画面は利用できません" in page.locator("main").inner_text()
    shot(page, "34_stats_facility")
