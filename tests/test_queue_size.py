"""`--queue-size N` (a class-sized queue) bounds how many requests may wait, whatever the catalog says."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from conftest import catalog_variant, launch_app

LONG = dict(
    max_new_tokens=2000, temperature=0.7, top_p=0.95, top_k=50, repetition_penalty=1.0, do_sample=False, seed=0, stop=""
)


def test_queue_size_flag_overrides_the_catalog(test_catalog: Path, tmp_path: Path) -> None:
    # One generation at a time (no batching), so the second request waits in Gradio's queue.
    one_at_a_time = [
        {"id": str(test_catalog.parent / "llama-chat"), "label": "Llama", "default": True, "max_batch_size": 1}
    ]
    catalog = catalog_variant(
        test_catalog, tmp_path / "models.yaml", models={"text_generation": one_at_a_time}, queue_size=500
    )
    running = launch_app(catalog, tmp_path, "--tabs", "text_generation", "--queue-size", "1")
    try:
        busy, waiting = running.client(), running.client()
        first = busy.submit("Hello", **LONG, api_name="/generate")
        while len(first.outputs()) < 2:  # the one generation slot is taken
            time.sleep(0.1)
        second = waiting.submit("Hi", **{**LONG, "max_new_tokens": 2}, api_name="/generate")
        while second.status().rank is None:  # the one place in the queue is taken
            time.sleep(0.05)
        assert second.status().rank == 0 and not first.done(), "its place in the queue is shown"
        with pytest.raises(Exception, match="[Qq]ueue is full"):
            running.client().predict("Hey", **{**LONG, "max_new_tokens": 2}, api_name="/generate")
        # Stop does not queue (it must work while the queue is full): the browser and plain HTTP call
        # it directly, for the caller's own session.
        stopped = httpx.post(
            running.url + "gradio_api/run/stop_generation", json={"data": [], "session_hash": busy.session_hash}
        )
        assert stopped.status_code == 200, stopped.text
        first.result(timeout=60)
        text, *_ = second.result(timeout=60)
        assert isinstance(text, str), "the waiting request is served once the slot frees"
    finally:
        running.stop()
