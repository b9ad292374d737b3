"""A real browser (Debian's chromium driven by Playwright) opens the app, visits every tab in both
languages, and runs one example on every tab.

Screenshots go to the test's temporary folder, or to SCREENSHOT_DIR when set (the README's pictures
are made with `make screenshots`, i.e. `SCREENSHOT_DIR=docs/screenshots` on this file).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from page_helpers import open_tab, shows_tab

from bench.inputs import write_tone
from tabs import TAB_SPECS

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


@pytest.mark.parametrize(
    "lang,locale,heading", [("en", "en-US", "Pipeline Playground"), ("ko", "ko-KR", "파이프라인 놀이터")]
)
def test_every_tab_opens_in_a_real_browser(app, browser, lang: str, locale: str, heading: str) -> None:  # noqa: ANN001
    """Every tab opens through its group of the tab strip, and at 1400 px no tab strip needs its
    overflow menu (a tab hidden there is one a class cannot find)."""
    page = browser.new_page(locale=locale, viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app.url, wait_until="networkidle")
    page.get_by_text(heading).first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    shown = [spec.key for spec in TAB_SPECS if shows_tab(page, spec.key, lang)]
    assert len(shown) >= 2 and "models" in shown, "at least one catalog tab and the Models tab"
    for key in shown:
        open_tab(page, key, lang)
        page.wait_for_timeout(300)
        overflowing = page.locator(".overflow-menu:not(.hide)").locator("visible=true")
        assert not overflowing.count(), f"{key}: a tab strip overflows at 1400 px"
    assert not errors, errors
    page.close()


def _wait_for_text(page, pattern: str, timeout: float = 90_000) -> None:  # noqa: ANN001
    page.get_by_text(re.compile(pattern)).locator("visible=true").first.wait_for(timeout=timeout)


def _wait_idle(page) -> None:  # noqa: ANN001
    """Until no event is queued or processing (Gradio shows "processing | 1.2s" on busy outputs)."""
    page.wait_for_function("() => !/(processing|queue:) ?\\|/.test(document.body.innerText)", timeout=90_000)


def _upload(page, path: Path) -> None:  # noqa: ANN001
    """Upload like a user: click the visible upload area and pick the file."""
    with page.expect_file_chooser() as chooser:
        page.get_by_text("Click to Upload").locator("visible=true").first.click()
    chooser.value.set_files(str(path))


def _click_run(page, name: str = "Run") -> None:  # noqa: ANN001
    page.get_by_role("button", name=name, exact=True).locator("visible=true").first.click()


def _speech_to_text(page, files: Path) -> None:  # noqa: ANN001
    page.get_by_test_id("source-select").locator("visible=true").first.get_by_label("Upload file").click()
    _upload(page, files / "tone.wav")
    page.get_by_text("Click to Upload").locator("visible=true").first.wait_for(state="hidden", timeout=60_000)
    _click_run(page, "Transcribe")
    _wait_for_text(page, r"Real-time factor")


def _audio_classification(page, files: Path) -> None:  # noqa: ANN001
    _first_example(page, files)  # the spoken welcome on the default model, in windows
    _wait_for_text(page, r"Windows:")


def _text_to_speech(page, files: Path) -> None:  # noqa: ANN001
    _first_example(page, files)  # the English sentences on the default voice
    _wait_for_text(page, r"Sampling rate:")


def _image_classification(page, files: Path) -> None:  # noqa: ANN001
    page.locator(".gallery-item, .example").locator("visible=true").first.click()  # the tab's first example
    page.wait_for_timeout(1000)
    _click_run(page)
    _wait_for_text(page, r"^\d+(\.\d+)?%$")


def _fill_mask(page, files: Path) -> None:  # noqa: ANN001
    _click_run(page)  # the sentence box starts with the tab's example sentence
    expect_value(page.get_by_label("Sentence as the model saw it"), "Paris is the [MASK] of France.")


def _zero_shot(page, files: Path) -> None:  # noqa: ANN001
    _click_run(page)  # text, labels and template start with the tab's example
    _wait_for_text(page, r"^\d+(\.\d+)?%$")


def _visual_qa(page, files: Path) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    _upload(page, files / "red.png")
    page.get_by_test_id("download-link").locator("visible=true").first.wait_for(timeout=60_000)  # the upload finished
    page.get_by_label("Question").locator("visible=true").first.fill("What colour is the picture?")
    _click_run(page)
    _wait_idle(page)
    expect(page.get_by_test_id("json").locator("visible=true").first).to_contain_text(
        re.compile(r"\d\.\d{3}"), timeout=30_000
    )
    # The captioner's example: the picture described with the entry's own prompt, in one click.
    from tabs.visual_qa.ui import CAPTION_EXAMPLE

    caption = page.locator("#picture-examples tr.tr-body").filter(has_text=Path(CAPTION_EXAMPLE).stem)
    caption.filter(has_text="Describe this picture").click()
    expect(page.get_by_label("Question").locator("visible=true").first).to_have_value(re.compile("^Describe this"))
    expect(page.get_by_test_id("json").locator("visible=true").first).to_contain_text("answer", timeout=60_000)
    _wait_idle(page)
    # The "Table" sub-tab: each example fills the table and the question, and runs (the code shows its question).
    from tabs.visual_qa.table_ui import EXAMPLE_QUESTIONS

    page.get_by_role("tab", name="Table", exact=True).click()
    page.get_by_text("Show code: do the same in Python").locator("visible=true").first.click()
    for question in EXAMPLE_QUESTIONS:
        page.locator("#table-examples").get_by_text(question, exact=True).click()
        code = page.locator(".cm-content").locator("visible=true").first
        expect(code).to_contain_text(repr(question), timeout=60_000)
        _wait_for_text(page, r"The model read all 3 rows")
        _wait_idle(page)
    if os.environ.get("SCREENSHOT_DIR"):  # the README's picture of the Table sub-tab
        page.screenshot(path=str(Path(os.environ["SCREENSHOT_DIR"]) / "table_qa.png"), full_page=True, timeout=120_000)
    page.get_by_role("tab", name="Image", exact=True).click()  # the tab's own picture shows its pictures


def _video_classification(page, files: Path) -> None:  # noqa: ANN001
    page.locator("#video-examples").locator(".gallery-item, [role=gridcell]").locator("visible=true").first.click()
    _wait_for_text(page, r"The model read 16 frames")


def _text_generation(page, files: Path) -> None:  # noqa: ANN001
    page.get_by_label("Prompt", exact=True).fill("Once upon a time")
    _click_run(page)
    _wait_for_text(page, r"tokens/s")


def _models(page, files: Path) -> None:  # noqa: ANN001
    _click_run(page, "Refresh")
    page.get_by_text("load_seconds").first.wait_for(timeout=60_000)


def _anatomy(page, files: Path) -> None:  # noqa: ANN001
    _first_example(page, files)  # the catalog's first model as saved: the test catalog's MiniLM, a body with no head
    _wait_for_text(page, r"no head on top")


def _attention(page, files: Path) -> None:  # noqa: ANN001
    _first_example(page, files)  # the example sentence on the default model
    page.get_by_text("row_tokens").locator("visible=true").first.wait_for(timeout=60_000)


def _fine_tune(page, files: Path) -> None:  # noqa: ANN001
    """The tab's example: the shipped topics set on the default base, trained as the page starts it."""
    _click_run(page, "Train")
    _wait_for_text(page, r"Validation accuracy \d", timeout=180_000)


def _first_example(page, files: Path) -> None:  # noqa: ANN001
    """The course tabs: click the tab's first example, which fills the inputs and runs."""
    page.locator(".gallery-item, [role=gridcell]").locator("visible=true").first.click()
    page.wait_for_timeout(500)
    _wait_idle(page)


def _tokenizer(page, files: Path) -> None:  # noqa: ANN001
    _first_example(page, files)
    page.locator(".tok").locator("visible=true").first.wait_for(timeout=60_000)  # the coloured tokens


def _embeddings(page, files: Path) -> None:  # noqa: ANN001
    _first_example(page, files)
    page.get_by_text("Closest pair").locator("visible=true").first.wait_for(timeout=60_000)


def _detect_segment(page, files: Path) -> None:  # noqa: ANN001
    _first_example(page, files)  # the object-detection sub-tab's first picture
    drawn = page.get_by_test_id("block-label").filter(has_text="Detected objects")
    page.locator(".block").filter(has=drawn).locator("img").locator("visible=true").first.wait_for(timeout=60_000)


def expect_value(locator, value: str) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    expect(locator).to_have_value(value, timeout=90_000)


EXAMPLES = {
    "speech_to_text": _speech_to_text,
    "audio_classification": _audio_classification,
    "text_to_speech": _text_to_speech,
    "image_classification": _image_classification,
    "fill_mask": _fill_mask,
    "zero_shot": _zero_shot,
    "visual_qa": _visual_qa,
    "text_generation": _text_generation,
    "text_classification": _first_example,
    "named_entities": _first_example,
    "summarization": _first_example,
    "translation": _first_example,
    "anatomy": _anatomy,
    "attention": _attention,
    "tokenizer": _tokenizer,
    "embeddings": _embeddings,
    "video_classification": _video_classification,
    "detect_segment": _detect_segment,
    "fine_tune": _fine_tune,
    "models": _models,
}


@pytest.fixture(scope="module")
def example_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    folder = tmp_path_factory.mktemp("browser-files")
    Image.new("RGB", (96, 64), (200, 30, 30)).save(folder / "red.png")
    write_tone(folder / "tone.wav")
    return folder


def test_one_example_runs_on_every_tab(app, browser, example_files: Path) -> None:  # noqa: ANN001
    """Run one example per tab and check its result appears. With SCREENSHOT_DIR set, save each tab
    as SCREENSHOT_DIR/<tab>.png (`SCREENSHOT_DIR=docs/screenshots` refreshes the README's pictures);
    without it no picture is taken: a full-page capture of a tall tab can take over 30 s on a busy
    2-core machine and checks nothing."""
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app.url, wait_until="networkidle")
    ran = []
    shown = [spec.key for spec in TAB_SPECS if shows_tab(page, spec.key)]  # PLAYGROUND_TEST_TABS narrows it
    for key in shown:
        open_tab(page, key)
        page.wait_for_timeout(500)
        EXAMPLES[key](page, example_files)
        _wait_idle(page)
        toasts = page.locator(".toast-body.error").locator("visible=true")
        assert not toasts.count(), f"{key}: {toasts.all_inner_texts()}"
        if out:
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / f"{key}.png"), full_page=True, timeout=120_000)
        ran.append(key)
    assert "models" in ran and ran == shown, ran
    assert not errors, errors
    page.close()
