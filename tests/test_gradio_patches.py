"""playground.web.gradio_patches: each patch still does what it claims on the pinned Gradio, and on a
version it was not checked against every patch is off, with one logged warning. What the operations
features built on patches 6-11 do with them is tested in tests/test_operations.py, test_sign_in.py
and test_url_inputs.py.

Real gr.Blocks apps launched on 127.0.0.1 and called with gradio_client. The queue patch's wake-ups
are tested in tests/test_queue_wakeup.py; here, that it idles without polling.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import types
from pathlib import Path

import gradio
import pytest

from playground.web import gradio_patches
from playground.web.gradio_patches import (
    CHECKED_VERSIONS,
    check_before_processing,
    current_request,
    download_urls_with,
    gradio_checked,
    locale_module_url,
    pass_unreadable_files,
    queue_length,
    remember_block_signatures,
    session_of,
    session_token_user,
    session_user,
    set_mcp_client_headers,
    share_api_schemas,
    share_queue,
    trust_playable_folder,
    wake_queue_on_work,
    wrap_endpoints,
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
    from gradio import processing_utils

    queue_loop, process_api, preprocess = demo._queue.start_processing, demo.process_api, image.preprocess
    push, handlers = demo._queue.push, [block_fn.fn for block_fn in demo.fns.values()]
    gradio_download = processing_utils.async_ssrf_protected_download
    probes = processing_utils.audio_is_playable, processing_utils.video_is_playable
    from gradio.components.base import Component

    api_info = Component.api_info

    async def download(url, target, trusted_hosts):  # noqa: ANN001, ANN202
        return str(target)

    with caplog.at_level(logging.WARNING, logger=gradio_patches.__name__):
        assert wake_queue_on_work(demo) is False
        assert check_before_processing(demo, lambda *args: None, lambda detail, lang: ValueError(detail)) is False
        assert current_request() is None
        assert locale_module_url() is None
        assert pass_unreadable_files(image, (OSError,)) is image
        assert share_queue(demo, lambda count, request: "refused", lambda owners, running: []) is False
        assert queue_length(demo) is None
        assert wrap_endpoints(demo, lambda name, fn: None) is False
        assert download_urls_with(download) is False
        assert trust_playable_folder(ROOT / "assets" / "examples") is False
        assert remember_block_signatures() is False and share_api_schemas() is False
        app = types.SimpleNamespace(cookie_id="id", tokens={"token": "ann"})
        assert session_of(app, "bob", "other") is None and app.tokens == {"token": "ann"}
        assert session_user(app, {"access-token-id": "token"}) is None and session_token_user(app, "token") is None
        assert (
            set_mcp_client_headers(
                types.SimpleNamespace(
                    mcp_server_obj=types.SimpleNamespace(_client_instance=None), local_url="http://127.0.0.1:1/"
                ),
                {"x": "1"},
            )
            is False
        )
    assert demo._queue.start_processing == queue_loop and demo.process_api == process_api
    assert image.preprocess == preprocess
    assert demo._queue.push == push and [block_fn.fn for block_fn in demo.fns.values()] == handlers
    assert processing_utils.async_ssrf_protected_download is gradio_download
    assert (processing_utils.audio_is_playable, processing_utils.video_is_playable) == probes
    assert Component.api_info is api_info
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
    assert re.search(r"export\s*\{[^}]*\bchangeLocale\b", module.read_text(encoding="utf-8")) or re.search(
        r"\bas changeLocale\b", module.read_text(encoding="utf-8")
    )


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


def wait_until(condition, seconds: float = 30) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_shared_queue_refuses_beyond_a_share_and_serves_users_in_turn() -> None:
    import gradio as gr
    from gradio_client import Client

    from playground.core.turns import in_turn

    started: list[str] = []
    release = threading.Event()

    def work(label: str) -> str:
        started.append(label)
        release.wait(30)
        return label

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(work, box, out, api_name="work", concurrency_limit=1)
    demo.queue()
    counts: list[int] = []

    def refusal(count: int, request) -> str | None:  # noqa: ANN001
        counts.append(count)
        return f"you have {count}" if count >= 3 else None

    assert share_queue(demo, refusal, in_turn)
    assert queue_length(demo) == 0
    launched(demo)
    try:
        flood, latecomer = Client(demo.local_url, verbose=False), Client(demo.local_url, verbose=False)
        jobs = [flood.submit("a0", api_name="/work")]
        wait_until(lambda: started == ["a0"])
        for waiting, label in enumerate(("a1", "a2"), start=1):
            jobs.append(flood.submit(label, api_name="/work"))
            wait_until(lambda waiting=waiting: queue_length(demo) == waiting)
        with pytest.raises(Exception, match="you have 3"):  # one running and two waiting
            flood.predict("a3", api_name="/work")
        jobs.append(latecomer.submit("b0", api_name="/work"))
        wait_until(lambda: queue_length(demo) == 3)
        assert counts == [0, 1, 2, 3, 0]
        release.set()
        assert [job.result(timeout=30) for job in jobs] == ["a0", "a1", "a2", "b0"]
        assert started == ["a0", "b0", "a1", "a2"], "the latecomer's first request before the flood's second"
        assert queue_length(demo) == 0
    finally:
        release.set()
        demo.close()


def test_every_named_endpoint_is_wrapped() -> None:
    import gradio as gr
    from gradio_client import Client

    calls: list[str] = []

    def wrap(name: str, fn):  # noqa: ANN001, ANN202
        def counted(*args):  # noqa: ANN002, ANN202
            calls.append(name)
            return fn(*args)

        return counted

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(str.upper, box, out, api_name="shout")
        box.change(str.lower, box, out, api_visibility="private")
    demo.queue()
    assert wrap_endpoints(demo, wrap)
    launched(demo)
    try:
        assert Client(demo.local_url, verbose=False).predict("hi", api_name="/shout") == "HI"
    finally:
        demo.close()
    assert calls == ["/shout"]


def test_file_urls_are_downloaded_by_the_given_download(monkeypatch) -> None:  # noqa: ANN001
    import gradio as gr
    from gradio import processing_utils
    from gradio_client import Client, handle_file

    # The patch replaces a function of Gradio's module: restored after the test.
    gradio_download = processing_utils.async_ssrf_protected_download
    monkeypatch.setattr(processing_utils, "async_ssrf_protected_download", gradio_download)
    downloads: list[tuple[str, Path, tuple[str, ...]]] = []

    async def download(url: str, target: Path, trusted_hosts: tuple[str, ...]) -> str:
        downloads.append((url, target, trusted_hosts))
        target.write_text("fetched by the app's download")
        return str(target)

    assert download_urls_with(download)
    with gr.Blocks() as demo:
        file, out = gr.File(type="filepath"), gr.Textbox()
        file.upload(lambda path: Path(path).read_text(), file, out, api_name="read")
    demo.queue()
    launched(demo)
    url = f"http://example.com/{time.time_ns()}/notes.txt"
    try:
        client = Client(demo.local_url, verbose=False)
        assert client.predict(handle_file(url), api_name="/read") == "fetched by the app's download"
        assert client.predict(handle_file(url), api_name="/read") == "fetched by the app's download"
    finally:
        demo.close()
    ((fetched, target, trusted),) = downloads  # the second call found the file in Gradio's cache
    assert fetched == url and target.name == "notes.txt" and target.parent.name == processing_utils.hash_url(url)
    assert "huggingface.co" in trusted


def test_a_registered_session_signs_a_request_in() -> None:
    import gradio as gr
    import httpx

    with gr.Blocks() as demo:
        gr.Textbox()
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, ssr_mode=False, auth=[("ann", "secret")])
    try:
        app = demo.app
        assert httpx.get(f"{demo.local_url}config", timeout=30).status_code == 401
        cookie = session_of(app, "ann", "a-token")
        assert cookie is not None
        name, value = cookie.split("=", 1)
        assert httpx.get(f"{demo.local_url}config", cookies={name: value}, timeout=30).status_code == 200
        assert session_user(app, {name: value}) == "ann" and session_token_user(app, "a-token") == "ann"
        assert session_user(app, {name: "forged"}) is None and session_user(app, {}) is None
        # A session made at Gradio's own /login form is seen too.
        with httpx.Client(base_url=demo.local_url, timeout=30) as browser:
            assert browser.post("login", data={"username": "ann", "password": "secret"}).status_code == 200
            assert session_user(app, dict(browser.cookies)) == "ann"
    finally:
        demo.close()


def echo_header(text: str, request: gradio.Request) -> str:
    """Echo a request header.

    Args:
        text: Any text.
    """
    return f"{text} {request.headers.get('x-playground-test')}"


def test_the_mcp_server_calls_the_app_with_the_given_headers() -> None:
    import gradio as gr
    from test_mcp import call_tools, text_of

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(echo_header, box, out, api_name="echo_header")
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, ssr_mode=False, mcp_server=True)
    try:
        assert set_mcp_client_headers(demo, {"x-playground-test": "carried"})
        mcp_url = f"{demo.local_url}gradio_api/mcp/"
        names, (result,) = asyncio.run(call_tools(mcp_url, [("echo_header", {"text": "hi"})]))
    finally:
        demo.close()
    assert not result.isError, (names, text_of(result))
    assert "hi carried" in text_of(result)


def gradio_probe(name: str):  # noqa: ANN201
    """Gradio's own playability probe (`audio_is_playable` or `video_is_playable`), unwrapped."""
    from gradio import processing_utils

    probe = getattr(processing_utils, name)
    return getattr(probe, "__wrapped__", probe)


def test_the_shipped_example_media_are_playable_as_the_patch_assumes() -> None:
    import mimetypes

    from playground.media.images import EXAMPLES_DIR

    media = {
        path: kind
        for path in EXAMPLES_DIR.rglob("*")
        if (kind := (mimetypes.guess_type(path.name)[0] or "").split("/")[0]) in ("audio", "video")
    }
    assert {kind for kind in media.values()} == {"audio", "video"}, "the examples hold both kinds"
    unplayable = [str(path) for path, kind in media.items() if not gradio_probe(f"{kind}_is_playable")(str(path))]
    assert unplayable == [], "a browser cannot play these: convert them, the app serves them unprobed"


def test_files_in_a_playable_folder_are_not_probed_and_others_are(tmp_path: Path) -> None:
    import subprocess

    import numpy as np
    import soundfile
    from gradio import processing_utils

    trusted, elsewhere = tmp_path / "trusted", tmp_path / "elsewhere"
    tone = (0.3 * np.sin(np.arange(8000) / 5)).astype("float32")
    for folder in (trusted, elsewhere):  # AIFF and MPEG-4 Part 2 in AVI: no browser plays them
        folder.mkdir()
        soundfile.write(folder / "tone.aiff", tone, 8000, format="AIFF", subtype="PCM_16")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=32x32:duration=0.2", "-c:v", "mpeg4"]
            + [str(folder / "clip.avi")],
            check=True,
            timeout=60,
        )
    assert gradio_probe("audio_is_playable")(str(trusted / "tone.aiff")) is False
    assert gradio_probe("video_is_playable")(str(trusted / "clip.avi")) is False
    assert trust_playable_folder(trusted)
    assert trust_playable_folder(trusted), "applying it again changes nothing"
    assert processing_utils.audio_is_playable(str(trusted / "tone.aiff")) is True, "taken as playable, not probed"
    assert processing_utils.video_is_playable(str(trusted / "clip.avi")) is True, "taken as playable, not probed"
    assert processing_utils.audio_is_playable(str(elsewhere / "tone.aiff")) is False, "still probed"
    assert processing_utils.video_is_playable(str(elsewhere / "clip.avi")) is False, "still probed"


def test_signatures_and_api_schemas_are_made_once_and_stay_the_same() -> None:
    import inspect

    import gradio as gr

    assert remember_block_signatures() and share_api_schemas()
    assert inspect.signature(gr.Textbox.__init__) is inspect.signature(gr.Textbox.__init__)
    assert "lines" in inspect.signature(gr.Textbox.__init__).parameters
    first, second = gr.Image(), gr.Image()
    schema = gr.Image.data_model.model_json_schema()  # Gradio's own: the description moved aside
    schema["additional_description"] = schema.pop("description", None)
    assert first.api_info() == second.api_info() == schema
    assert first.api_info() is not second.api_info(), "each component has its own copy"


def test_the_whole_page_has_the_same_config_with_the_start_up_patches(test_catalog: Path) -> None:
    """Patches 12-14 (and every other patch) off, then on: the page Gradio sends the browser is the same."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, app; from playground.config.catalog import load_catalog; "
        "from playground.loading.model_manager import ModelManager; from playground.web import gradio_patches; "
        "gradio_patches.gradio_version = (lambda: '0.0.0') if sys.argv[1] == 'off' else gradio_patches.gradio_version; "
        f"catalog = load_catalog({str(test_catalog)!r}); "
        "demo, _ = app.build_app(catalog, ModelManager(catalog), app.tab_modules(app.selected_tabs(catalog, None))); "
        "config = demo.get_config_file(); config.pop('app_id'); "  # random each build
        "print(json.dumps(config, sort_keys=True, default=str))"
    )
    configs = {
        patches: subprocess.run(
            [sys.executable, "-c", code, patches], capture_output=True, text=True, cwd=ROOT, timeout=300, check=True
        ).stdout.splitlines()[-1]
        for patches in ("off", "on")
    }
    assert len(json.loads(configs["on"])["components"]) > 500, "the whole page"
    assert configs["on"] == configs["off"]
