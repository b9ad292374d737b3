"""In a real browser, every example of the detect-and-segment tab's sub-tabs fills the inputs and runs
(the result appears without Run), and a click on the picture of the mask sub-tab prompts SAM there."""

from __future__ import annotations

import re
from typing import Any

import pytest
from page_helpers import open_tab, shows_tab
from test_browser import _wait_idle, browser  # noqa: F401 - `browser` is a fixture

from tabs.detect_segment import ui as detect_segment


def _text(key: str) -> str:
    return detect_segment.TEXTS.get(key, "en")


def _visible(locator: Any) -> Any:
    return locator.locator("visible=true")


def _no_error(page: Any) -> None:
    toasts = _visible(page.locator(".toast-body.error"))
    assert not toasts.count(), toasts.all_inner_texts()


def _block(page: Any, label: str) -> Any:
    """The visible component whose label is `label` (an image, an annotated image, a table)."""
    # The label's text starts with its icon's whitespace.
    labelled = page.get_by_test_id("block-label").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return _visible(page.locator(".block").filter(has=labelled)).last


def _shown_picture(page: Any, label: str) -> Any:
    return _block(page, label).locator("img").first


@pytest.fixture
def page(app, browser):  # noqa: ANN001, ANN201, F811
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app.url, wait_until="networkidle")
    page.get_by_role("tab").first.wait_for(timeout=30_000)
    if not shows_tab(page, "detect_segment"):
        pytest.skip("detect_segment tab not shown in this run (PLAYGROUND_TEST_TABS)")
    open_tab(page, "detect_segment")
    yield page
    page.close()
    assert not errors, errors


def _open_sub_tab(page: Any, title_key: str) -> None:
    page.get_by_role("tab", name=_text(title_key), exact=True).first.click()
    page.wait_for_timeout(500)


def _examples(page: Any) -> Any:
    """The visible sub-tab's examples: a gallery of pictures, or a table when a row has several inputs."""
    return _visible(page.locator(".gallery-item, tr.tr-body"))


def _run_each_example(page: Any, output: str) -> None:
    """Click each example in turn; each time the output picture is drawn anew."""
    from playwright.sync_api import expect

    count = _examples(page).count()
    assert count, "the sub-tab shows its examples"
    previous = None
    for index in range(count):
        _examples(page).nth(index).click()
        picture = _shown_picture(page, output)
        if previous is None:
            expect(picture).to_be_visible(timeout=90_000)
        else:  # each example is another picture: the result is another file
            expect(picture).not_to_have_attribute("src", previous, timeout=90_000)
        _wait_idle(page)
        _no_error(page)
        previous = picture.get_attribute("src")


@pytest.mark.parametrize(
    "title, output",
    [
        ("detect_tab", "boxes_image"),
        ("zero_shot_tab", "boxes_image"),
        ("segment_tab", "segments_image"),
        ("depth_tab", "depth_image"),
        ("mask_tab", "mask_image"),
        ("match_tab", "matches_image"),
    ],
)
def test_every_example_fills_and_runs(page, title: str, output: str) -> None:  # noqa: ANN001
    _open_sub_tab(page, title)
    assert not _shown_picture(page, _text(output)).count(), "no result before an example is clicked"
    _run_each_example(page, _text(output))


def test_a_click_on_the_picture_prompts_sam_there(page) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    _open_sub_tab(page, "mask_tab")
    _examples(page).first.click()  # house.png (224 × 224) with the point (112, 150)
    legend = _block(page, _text("mask_image"))
    expect(legend.get_by_text("(112, 150)")).to_be_visible(timeout=90_000)
    _wait_idle(page)

    picture = _shown_picture(page, _text("image"))
    box = picture.bounding_box()
    picture.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.75})
    # The picture is shown at its own aspect: a quarter across and three quarters down is near (56, 168).
    point = re.compile(r"^\((\d+), (\d+)\)$")
    expect(legend.get_by_text(point)).not_to_have_text("(112, 150)", timeout=90_000)
    _wait_idle(page)
    x, y = map(int, point.match(legend.get_by_text(point).first.inner_text()).groups())
    assert abs(x - 56) <= 12 and abs(y - 168) <= 12, (x, y)
    assert _visible(page.get_by_label(_text("point_x"))).first.input_value() == str(x)
    assert _visible(page.get_by_label(_text("point_y"))).first.input_value() == str(y)
    _no_error(page)
