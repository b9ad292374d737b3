"""playground.web.gradio_patches: each patch still does what it claims on the pinned Gradio, and on a
version it was not checked against every patch is off, with one logged warning.

Real gr.Blocks apps launched on 127.0.0.1 and called with gradio_client. The queue patch's wake-ups
are tested in tests/test_queue_wakeup.py; here, that it idles without polling.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from playground.web import gradio_patches
from playground.web.gradio_patches import (
    CHECKED_VERSIONS,
    check_before_processing,
    current_request,
    gradio_checked,
    locale_module_url,
    pass_unreadable_files,
    wake_queue_on_work,
)

ROOT = Path(__file__).resolve().parents[1]


def launched(demo):  # noqa: ANN001, ANN201
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, ssr_mode=False)
    return demo


def test_the_pinned_gradio_is_a_checked_version() -> None:
    pinned = re.search(r"^gradio==(\S+)", (ROOT / "requirements.in").read_text(), re.MULTILINE)
    assert pinned and pinned.group(1) in CHECKED_VERSIONS
    assert gradio_checked()


def test_an_unchecked_gradio_turns_every_patch_off_with_one_warning(monkeypatch, caplog) -> None:  # noqa: ANN001
    import gradio as gr

    monkeypatch.setattr(gradio_patches, "gradio_version", lambda: "99.0.0")
    monkeypatch.setattr(gradio_patches, "_warned", [])
    with gr.Blocks() as demo:
        box = gr.Textbox()
        box.submit(lambda text: text, box, box)
        image = gr.Image(type="filepath")
    demo.queue()
    queue_loop, process_api, preprocess = demo._queue.start_processing, demo.process_api, image.preprocess
    with caplog.at_level(logging.WARNING, logger=gradio_patches.__name__):
        assert wake_queue_on_work(demo) is False
        assert check_before_processing(demo, lambda *args: None, lambda detail, lang: ValueError(detail)) is False
        assert current_request() is None
        assert locale_module_url() is None
        assert pass_unreadable_files(image, (OSError,)) is image
    assert demo._queue.start_processing == queue_loop and demo.process_api == process_api
    assert image.preprocess == preprocess
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1, [record.getMessage() for record in warnings]
    assert "Gradio 99.0.0" in warnings[0].getMessage() and "6.31.0" in warnings[0].getMessage()


def process_cpu_share(seconds: float) -> float:
    """The share of one core this process used over `seconds` of wall time (every thread counted)."""
    started_cpu, started = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - started_cpu) / (time.monotonic() - started)


def idle_cpu_of_an_app(woken: bool) -> float:
    import gradio as gr

    with gr.Blocks() as demo:
        box = gr.Textbox()
        box.submit(lambda text: text, box, box)
    demo.queue()
    if woken:
        assert wake_queue_on_work(demo)
    launched(demo)
    try:
        time.sleep(1.0)  # start-up settles
        return process_cpu_share(3.0)
    finally:
        demo.close()


def test_the_woken_queue_idles_without_polling() -> None:
    """What the patch is kept for: Gradio's own loop looks for work every millisecond (several % of a
    core on the development machine), the woken one sleeps until work arrives."""
    polling = idle_cpu_of_an_app(woken=False)
    woken = idle_cpu_of_an_app(woken=True)
    assert woken < 0.03, f"idle with the patch: {woken:.1%} of a core"
    assert woken < polling / 2, f"idle: {woken:.1%} with the patch, {polling:.1%} without"


@pytest.fixture(scope="module")
def checked_app():  # noqa: ANN201
    import gradio as gr

    def refuse_thirteen(block_fn, inputs, lang) -> None:  # noqa: ANN001
        if inputs and inputs[0] == 13:
            raise gr.Error(f"13 refused before preprocessing ({lang})", print_exception=False)

    def language(number: float) -> str:
        return f"{number:g} {current_request().headers.get('accept-language')}"

    with gr.Blocks() as demo:
        number, out = gr.Number(), gr.Textbox()
        number.submit(language, number, out, api_name="language")
    demo.queue()
    assert check_before_processing(demo, refuse_thirteen, lambda detail, lang: gr.Error(f"unreadable: {detail}"))
    launched(demo)
    try:
        yield demo
    finally:
        demo.close()


def test_inputs_are_checked_before_preprocessing(checked_app) -> None:  # noqa: ANN001
    from gradio_client import Client

    client = Client(checked_app.local_url, verbose=False, headers={"Accept-Language": "ko"})
    with pytest.raises(Exception, match=r"13 refused before preprocessing \(ko\)"):
        client.predict(13, api_name="/language")
    assert client.predict(12, api_name="/language").startswith("12 ")


def test_the_current_request_is_the_one_being_handled(checked_app) -> None:  # noqa: ANN001
    from gradio_client import Client

    for language in ("ko-KR", "en-GB"):
        client = Client(checked_app.local_url, verbose=False, headers={"Accept-Language": language})
        assert client.predict(1, api_name="/language") == f"1 {language}"
    assert current_request() is None  # outside a request


def test_the_locale_module_exports_change_locale() -> None:
    import gradio

    url = locale_module_url()
    assert url and url.startswith("./assets/core-") and url.endswith(".js")
    module = Path(gradio.__file__).parent / "templates" / "frontend" / url.removeprefix("./")
    assert re.search(r"\bchangeLocale\b", module.read_text(encoding="utf-8"))
    assert re.search(r"export\s*\{[^}]*\bchangeLocale\b", module.read_text(encoding="utf-8")) or \
        re.search(r"\bas changeLocale\b", module.read_text(encoding="utf-8"))


def test_an_unreadable_upload_reaches_the_handler(tmp_path: Path) -> None:
    import gradio as gr
    from gradio.data_classes import FileData
    from PIL import UnidentifiedImageError

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a picture")
    payload = FileData(path=str(not_an_image), orig_name="notes.png")
    with pytest.raises((UnidentifiedImageError, OSError)):
        gr.Image(type="filepath").preprocess(payload)
    image = pass_unreadable_files(gr.Image(type="filepath"), (UnidentifiedImageError, OSError))
    assert image.preprocess(payload) == str(not_an_image)
