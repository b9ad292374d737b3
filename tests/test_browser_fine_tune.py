"""In a real browser, the Fine-tune tab: the memory estimate shows before training and follows the batch
size; a Hub dataset's name and Enter fill the column pickers, and switching the task to named entities
lists the tagged example sets and picks the words and tags columns (CoNLL-2003 style, from the stand-in
Hub); Train then trains a tagger."""

from __future__ import annotations

import re
from typing import Any

import pytest
from page_helpers import open_tab
from playwright.sync_api import expect
from test_browser import _wait_idle, browser  # noqa: F401 - `browser` is a fixture
from test_fine_tune import HUB_TAGS, fine_tune_app  # noqa: F401 - `fine_tune_app` is a fixture

from tabs.fine_tune import ui as fine_tune

ESTIMATE = re.compile(r"Memory \(estimate\): about ([0-9.]+ [KMG]B)")


def _text(key: str) -> str:
    return fine_tune.TEXTS.get(key, "en")


def _visible(locator: Any) -> Any:
    return locator.locator("visible=true").first


def _estimate(page: Any) -> str:
    return ESTIMATE.search(_visible(page.get_by_text(ESTIMATE)).inner_text()).group(1)


@pytest.fixture
def page(fine_tune_app, browser):  # noqa: ANN001, ANN201, F811
    page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(fine_tune_app.url, wait_until="networkidle")
    page.get_by_role("tab").first.wait_for(timeout=30_000)
    open_tab(page, "fine_tune")
    yield page
    page.close()
    assert not errors, errors


def test_the_task_switch_and_a_hub_dataset_train_a_tagger(page: Any) -> None:
    _visible(page.get_by_text(ESTIMATE)).wait_for(timeout=60_000)
    before = _estimate(page)
    _visible(page.get_by_text(_text("settings"))).click()
    batch = _visible(page.get_by_label(_text("batch_size")))
    batch.fill("32")
    batch.press("Tab")
    page.wait_for_function(
        "before => { const m = document.body.innerText.match(/Memory \\(estimate\\): about ([0-9.]+ [KMG]B)/);"
        " return m && m[1] !== before; }",
        arg=before,
        timeout=30_000,
    )
    assert "a batch of 32 × 128 tokens" in _visible(page.get_by_text(ESTIMATE)).inner_text()

    # The Hub dataset first: as a text classifier's data its first column is the text, no label is guessed.
    hub = _visible(page.get_by_label(_text("hub_dataset")))
    hub.fill(HUB_TAGS)
    hub.press("Enter")
    text_column, label_column = (_visible(page.get_by_label(_text(key))) for key in ("text_column", "label_column"))
    expect(text_column).to_have_value("id", timeout=60_000)
    # Then the task: the tagged example sets, and the words and tags columns.
    _visible(page.get_by_label(_text("task_token-classification"))).check()
    expect(_visible(page.get_by_label(_text("example")))).to_have_value(_text("example_entities_en"), timeout=30_000)
    expect(text_column).to_have_value("tokens", timeout=60_000)
    expect(label_column).to_have_value("ner_tags", timeout=30_000)

    page.get_by_role("button", name=_text("train"), exact=True).locator("visible=true").first.click()
    _visible(page.get_by_text(re.compile(r"entity macro F1 \d"))).wait_for(timeout=180_000)
    _wait_idle(page)
    assert _visible(page.get_by_text(re.compile(r"Added to the Named entities tab"))).is_visible()
    toasts = page.locator(".toast-body.error").locator("visible=true")
    assert not toasts.count(), toasts.all_inner_texts()
