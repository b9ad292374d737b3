"""In a real browser, clicking an example on the fill-mask, zero-shot and image classification tabs (and
on each of their sections and sub-tabs) fills the inputs and runs: the output appears without Run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from page_helpers import open_tab, shows_tab
from test_browser import _wait_for_text, _wait_idle, browser  # noqa: F401 - `browser` is a fixture

from tabs import TAB_SPECS

PERCENT = r"^\d+(\.\d+)?%$"


def _visible(locator: Any) -> Any:
    return locator.locator("visible=true").first


def _open_tab(page: Any, module: str) -> None:
    [key] = [spec.key for spec in TAB_SPECS if spec.module == module]
    if not shows_tab(page, key):
        pytest.skip(f"{key} tab not shown in this run (PLAYGROUND_TEST_TABS)")
    open_tab(page, key)
    page.wait_for_timeout(500)


def _no_error(page: Any) -> None:
    toasts = page.locator(".toast-body.error").locator("visible=true")
    assert not toasts.count(), toasts.all_inner_texts()
    assert "__i18n__" not in page.inner_text("body"), "a label reached the page untranslated"


@pytest.fixture
def page(app, browser):  # noqa: ANN001, ANN201, F811
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app.url, wait_until="networkidle")
    page.get_by_role("tab").first.wait_for(timeout=30_000)
    yield page
    page.close()
    assert not errors, errors


def test_fill_mask_examples_fill_and_run(page) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    from tabs.fill_mask import ui as fill_mask

    _open_tab(page, "tabs.fill_mask.ui")
    sentence = fill_mask.COURSE_SENTENCES[1]
    _visible(page.locator(".gallery-item", has_text=sentence)).click()
    expect(_visible(page.get_by_label(fill_mask.TEXTS.get("text", "en")))).to_have_value(sentence, timeout=30_000)
    # The output shows the sentence as the model saw it: the example ran without a click on Run.
    expect(_visible(page.get_by_label(fill_mask.TEXTS.get("seen", "en")))).to_have_value(sentence, timeout=90_000)
    _wait_idle(page)
    _no_error(page)

    adjectives = fill_mask.load_presets()["adjectives"]
    first_template = adjectives["templates"].splitlines()[0]
    _visible(page.get_by_role("gridcell").filter(has_text=first_template)).click()
    expect(_visible(page.get_by_label(fill_mask.TEXTS.get("templates", "en")))).to_have_value(
        adjectives["templates"], timeout=30_000
    )
    expect(_visible(page.get_by_label(fill_mask.TEXTS.get("groups", "en")))).to_have_value(adjectives["groups"])
    _wait_for_text(page, r"^What the numbers are\.")  # the comparison's note: it ran
    # The tables, hidden until then, show with the groups as their headers.
    expect(page.locator("th").locator("visible=true").filter(has_text="woman").first).to_be_visible(timeout=30_000)
    _wait_idle(page)
    _no_error(page)


def test_zero_shot_examples_fill_and_run(page) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    from tabs.zero_shot import ui as zero_shot

    _open_tab(page, "tabs.zero_shot.ui")
    text, labels = zero_shot.TEXT_EXAMPLES[0]
    _visible(page.get_by_role("gridcell").filter(has_text=text)).click()
    expect(_visible(page.get_by_label(zero_shot.TEXTS.get("text", "en")))).to_have_value(text, timeout=30_000)
    expect(_visible(page.get_by_label(zero_shot.TEXTS.get("labels", "en")))).to_have_value(labels)
    for label in labels.split(", "):
        _wait_for_text(page, f"^{label}$")  # each label is scored in the output
    _wait_idle(page)
    _no_error(page)

    page.get_by_role("tab", name=zero_shot.TEXTS.get("image_tab", "en"), exact=True).first.click()
    page.wait_for_timeout(500)
    image = page.get_by_test_id("image").locator("visible=true")
    assert not image.locator("img").count(), "the image input starts empty"
    _visible(page.locator("tr.tr-body")).click()
    expect(image.locator("img").first).to_be_visible(timeout=30_000)  # the example picture is in the input
    for label in zero_shot.IMAGE_LABELS.split(", "):
        _wait_for_text(page, f"^{label}$")
    _wait_for_text(page, PERCENT)
    _wait_idle(page)
    _no_error(page)


def test_image_classification_example_fills_and_runs(page) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    _open_tab(page, "tabs.image_classification.ui")
    image = page.get_by_test_id("image").locator("visible=true")
    assert not image.locator("img").count(), "the image input starts empty"
    assert not page.get_by_text(re.compile(PERCENT)).locator("visible=true").count(), "no result before the click"
    _visible(page.locator(".gallery-item")).click()
    expect(image.locator("img").first).to_be_visible(timeout=30_000)
    _wait_for_text(page, PERCENT)
    _wait_idle(page)
    _no_error(page)


def test_dataset_panel_on_fill_mask_and_zero_shot(page) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    from playground.web.ui import DATASET_UI

    heading = DATASET_UI.get("heading")
    for module in ("tabs.fill_mask.ui", "tabs.zero_shot.ui"):
        _open_tab(page, module)
        _visible(page.get_by_text(heading, exact=True)).click()  # opens the accordion
        expect(_visible(page.get_by_role("button", name=DATASET_UI.get("run"), exact=True))).to_be_visible(
            timeout=10_000
        )
        # The test app is offline (HF_HUB_OFFLINE=1): the Hub dataset fields are hidden.
        assert not page.get_by_label(DATASET_UI.get("hub_dataset")).locator("visible=true").count()
    _no_error(page)
