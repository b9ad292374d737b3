"""A real browser (Debian's chromium driven by Playwright) opens the app and visits every tab.

Screenshots go to the test's temporary folder, or to SCREENSHOT_DIR when set (the README's pictures
are made with `SCREENSHOT_DIR=docs make test ARGS=tests/test_browser.py`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (as root, `make test` installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("locale,heading", [("en-US", "Pipeline Playground"), ("ko-KR", "파이프라인 놀이터")])
def test_every_tab_opens_in_a_real_browser(app, browser, tmp_path: Path, locale: str, heading: str) -> None:  # noqa: ANN001
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(locale=locale, viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app.url, wait_until="networkidle")
    page.get_by_text(heading).first.wait_for(timeout=30_000)
    tabs = page.get_by_role("tab")
    tabs.first.wait_for(timeout=30_000)  # the heading can render before the tab strip
    page.wait_for_timeout(500)
    count = tabs.count()
    assert count >= 2, "at least one catalog tab and the Models tab"
    for index in range(count):
        tab = tabs.nth(index)
        name = tab.inner_text().strip()
        tab.click()
        page.wait_for_timeout(300)
        assert tab.get_attribute("aria-selected") == "true", name
        if locale == "en-US":
            page.screenshot(path=str(out / f"tab-{index}.png"))
    assert not errors, errors
    page.close()
