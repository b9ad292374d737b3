"""playground.web.gradio_patches: Gradio's queue, woken on work, still starts every event it should.

A real gr.Blocks launched on 127.0.0.1 with the replacement loop, called with gradio_client: an event
queued behind a full concurrency limit starts when the running one ends (the wake from
`process_events`), a batched function still gathers the events waiting together, a short run's
progress still reaches the page, and the app's own queue has the loop. That it idles without polling is
tested in tests/test_gradio_patches.py and measured by the benchmark (bench/RESULTS.md).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from playground.web import gradio_patches
from playground.web.gradio_patches import supported, wake_on_work


@pytest.fixture(scope="module")
def woken_app():
    import gradio as gr

    started: list[float] = []
    release = threading.Event()
    batches: list[int] = []

    def slow(text: str) -> str:
        started.append(time.monotonic())
        release.wait(30)
        return text.upper()

    def batched(texts: list[str]) -> tuple[list[str]]:
        batches.append(len(texts))
        time.sleep(0.3)  # long enough for the other calls to join the queue behind this batch
        return ([t[::-1] for t in texts],)

    def counted(text: str, progress=gr.Progress()) -> str:
        for _ in progress.tqdm(range(10), desc="Steps"):
            time.sleep(0.01)  # 0.1 s in all: a progress loop that looks less often than Gradio's sees little
        return text

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        gr.Button().click(counted, box, out, api_name="counted")
        gr.Button().click(slow, box, out, api_name="slow", concurrency_limit=1)
        gr.Button().click(batched, box, out, api_name="batched", batch=True, max_batch_size=8)
    demo.queue()
    # No safety wake within the tests: an event that starts was woken by the work itself.
    safety, gradio_patches.SAFETY_WAKE_S = gradio_patches.SAFETY_WAKE_S, 120.0
    assert wake_on_work(demo._queue)
    assert wake_on_work(demo._queue)  # a second call changes nothing
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        yield SimpleNamespace(url=demo.local_url, started=started, release=release, batches=batches)
    finally:
        release.set()
        demo.close()
        gradio_patches.SAFETY_WAKE_S = safety


def test_event_behind_a_full_limit_starts_when_the_slot_frees(woken_app):
    from gradio_client import Client

    client = Client(woken_app.url, verbose=False)
    first = client.submit("a", api_name="/slow")
    second = client.submit("b", api_name="/slow")
    deadline = time.monotonic() + 20
    while not woken_app.started and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    assert len(woken_app.started) == 1, "the second call must wait for the first one's slot"
    released = time.monotonic()
    woken_app.release.set()
    assert first.result(timeout=20) == "A"
    assert second.result(timeout=20) == "B"
    assert len(woken_app.started) == 2
    assert woken_app.started[1] - released < 10  # woken by the first call's end (the safety wake is 120 s)


def test_batched_function_still_gathers_waiting_events(woken_app):
    from gradio_client import Client

    clients = [Client(woken_app.url, verbose=False) for _ in range(5)]
    jobs = [client.submit(f"x{i}", api_name="/batched") for i, client in enumerate(clients)]
    assert sorted(job.result(timeout=30) for job in jobs) == sorted(f"x{i}"[::-1] for i in range(5))
    assert sum(woken_app.batches) == 5
    assert max(woken_app.batches) > 1, f"no batch gathered more than one event: {woken_app.batches}"


def test_progress_of_a_short_run_reaches_the_page(woken_app):
    from course_helpers import queue_messages

    messages = queue_messages(woken_app.url, "/counted", ["p"])
    steps = [unit["index"] for m in messages if m.get("msg") == "progress" for unit in m["progress_data"] or []]
    assert len(steps) >= 3 and steps == sorted(steps), messages
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"]


def test_unsupported_queue_is_left_alone():
    queue = SimpleNamespace(push=None)
    assert not supported(queue)
    assert wake_on_work(queue) is False
    assert not hasattr(queue, "start_processing")


def test_app_queue_waits_to_be_woken(test_catalog):
    import app
    from playground.config.catalog import load_catalog
    from playground.loading.model_manager import ModelManager

    catalog = load_catalog(test_catalog)
    modules = app.tab_modules(["fill_mask"])
    demo, _ = app.build_app(catalog, ModelManager(catalog), modules)
    assert getattr(demo._queue, "_wakes_on_work", False)
