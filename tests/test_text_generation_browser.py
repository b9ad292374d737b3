"""The text generation tab's examples in a real browser: one click fills the input and runs it, in
English and in Korean (whose page shows the stats and the teaching table in Korean)."""

from __future__ import annotations

import re

import page_helpers
import pytest
from test_browser import _wait_idle, browser  # noqa: F401 - the shared chromium fixture

from tabs.text_generation.ui import CHAT_EXAMPLES, COMPLETION_EXAMPLES, TEXTS


def open_tab(browser, app, lang: str):  # noqa: ANN001, ANN201, F811
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app.url}?lang={lang}", wait_until="networkidle")
    page_helpers.open_tab(page, "text_generation", lang)
    page.wait_for_timeout(500)
    return page, errors


@pytest.mark.parametrize("lang,rate", [("en", "tokens/s"), ("ko", "초당")])
def test_clicking_an_example_runs_it(app, browser, lang: str, rate: str) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    page, errors = open_tab(browser, app, lang)
    page.get_by_text(COMPLETION_EXAMPLES[0]).locator("visible=true").first.click()
    expect(page.get_by_label(TEXTS.get("prompt", lang)).locator("visible=true").first).to_have_value(
        COMPLETION_EXAMPLES[0]
    )
    page.get_by_text(re.compile(rate)).locator("visible=true").first.wait_for(timeout=90_000)
    _wait_idle(page)
    output = page.get_by_label(TEXTS.get("output", lang)).locator("visible=true").first
    assert output.input_value().strip(), "the example produced text"
    page.get_by_text(TEXTS.get("alternatives", lang)).locator("visible=true").first.click()
    header = page.locator("th", has_text=TEXTS.get("col_token", lang)).locator("visible=true").first
    expect(header).to_be_visible()  # the teaching table's headers are in the page's language

    page.get_by_role("tab", name=TEXTS.get("chat_title", lang), exact=True).first.click()
    page.wait_for_timeout(300)
    page.get_by_text(CHAT_EXAMPLES[0]).locator("visible=true").first.click()
    page.get_by_text(re.compile(rate)).locator("visible=true").first.wait_for(timeout=90_000)
    _wait_idle(page)
    assert page.get_by_test_id("user").locator("visible=true").first.inner_text().strip() == CHAT_EXAMPLES[0]
    # The test chat model decodes greedily, as its generation config says, and a random-weight model's
    # greedy reply can be special tokens only (no bubble text): the stats count the tokens it wrote.
    stats = page.get_by_text(re.compile(rate)).locator("visible=true").first.inner_text()
    written = re.search(r"(?:out|출력) (\d+)", stats)
    assert written and int(written.group(1)) > 0, stats
    toasts = page.locator(".toast-body.error").locator("visible=true")
    assert not toasts.count(), toasts.all_inner_texts()
    assert not errors, errors
    page.close()
