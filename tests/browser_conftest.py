"""A real browser on the real server, for the page tests (`from browser_conftest import *`).

The server is the app `onshi serve` runs (create_app), served by uvicorn in a thread on a
free port over a temporary SQLite registry built with `World`. The browser is Debian's
Chromium (/usr/bin/chromium, or ONSHI_CHROMIUM) driven by Playwright — no browser download.
Without a browser the tests skip, except with CI=true, where they fail.
Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from onshi.registry import db

from factories import World

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("ONSHI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"CI=true: the browser tests need Chromium and Playwright: {reason}", pytrace=False)
    pytest.skip(f"no browser for the page tests ({reason}); `./run test` installs Debian's chromium when it can")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app, port: int, **config):  # noqa: ANN001, ANN003 - more of uvicorn's Config (http=, lifespan=)
        import uvicorn

        self.url = f"http://127.0.0.1:{port}"
        config = {"log_level": "warning", "access_log": False, "lifespan": "off"} | config
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
        self.thread = threading.Thread(target=self.server.run, name="onshi-web-test-server", daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def web_world(tmp_path_factory, sqlite_template):  # noqa: ANN001, ANN201
    """A SQLite registry with the four insurers and two facilities of `World`, served live."""
    from onshi.interfaces.http.app import create_app

    path = tmp_path_factory.mktemp("web") / "registry.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    world = World.build(engine)
    server = LiveServer(create_app(world.registry), _free_port()).start()
    world.url = server.url
    yield world
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"the playwright package is missing: {exc}")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 — any launch failure means no browser here
            _unavailable(f"{CHROMIUM} does not start: {exc}")
        yield b
        b.close()


@pytest.fixture
def page(browser, web_world):  # noqa: ANN001, ANN201
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900}, base_url=web_world.url)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name: str, *, full_page: bool = True) -> Path:  # noqa: ANN001
    """Save a screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def login(page, key: str) -> None:  # noqa: ANN001
    page.goto("/login")
    page.get_by_label("利用者の鍵").fill(key)
    page.get_by_label("利用者の鍵").press("Enter")
    page.wait_for_load_state()


def logout(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/login")


__all__ = ["CHROMIUM", "LiveServer", "browser", "login", "logout", "page", "shot", "web_world"]
