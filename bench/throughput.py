"""Throughput on image classification: N concurrent clients on the app against a sequential bare loop.

The app is measured on `/classify_image_batch` (Gradio request batching: queued requests share one
forward pass) and, for comparison, on the plain `/classify_image` endpoint. The bare pipeline is also run
in-process on batches of 16 images: the most any server could get from batching on this machine.
"""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import Server, Settings, ratio, say
from bench.inputs import Inputs

TARGET_AT_16 = 1.5
BATCH = 16
ENDPOINTS = {"app_batched": "/classify_image_batch", "app_unbatched": "/classify_image"}


def bare_images_per_s(models: Path, inputs: Inputs, count: int) -> tuple[float, float]:
    """(images/s of a sequential loop, images/s of batched calls of BATCH images), in-process."""
    from transformers import pipeline

    pipe = pipeline("image-classification", model=str(models / "vit"), device="cpu")
    pipe(inputs.image, top_k=5)
    start = time.perf_counter()
    for _ in range(count):
        pipe(inputs.image, top_k=5)
    sequential = count / (time.perf_counter() - start)
    batch = [inputs.image] * BATCH
    pipe(batch, top_k=5, batch_size=BATCH)
    rounds = max(1, count // BATCH)
    start = time.perf_counter()
    for _ in range(rounds):
        pipe(batch, top_k=5, batch_size=BATCH)
    batched = rounds * BATCH / (time.perf_counter() - start)
    del pipe
    gc.collect()
    return sequential, batched


def app_images_per_s(app: Server, endpoint: str, image: str, clients: int, requests: int) -> float:
    from gradio_client import handle_file

    connections = [app.client() for _ in range(clients)]
    connections[0].predict(handle_file(image), None, 5, api_name=endpoint)  # warm-up
    per_client = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def client_loop(client: Any, count: int) -> None:
        barrier.wait()
        try:
            for _ in range(count):
                client.predict(handle_file(image), None, 5, api_name=endpoint)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client_loop, args=(c, n)) for c, n in zip(connections, per_client)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    return requests / elapsed


def measure(models: Path, app: Server, inputs: Inputs, settings: Settings) -> dict[str, Any]:
    say("throughput: bare sequential loop …")
    bare, batched = bare_images_per_s(models, inputs, settings.bare_throughput_images)
    results: dict[str, Any] = {"bare_sequential_images_per_s": bare, "bare_batched_images_per_s": batched,
                               "ratio_bare_batched_to_sequential": ratio(batched, bare)}
    for name, endpoint in ENDPOINTS.items():
        results[name] = {}
        for clients, requests in settings.throughput_requests.items():
            say(f"throughput: {name}, {clients} clients …")
            rate = app_images_per_s(app, endpoint, inputs.image, clients, requests)
            results[name][str(clients)] = {"images_per_s": rate, "ratio_to_bare": ratio(rate, bare)}
    best = max(results[name]["16"]["ratio_to_bare"] for name in ENDPOINTS)
    results.update(ratio_at_16=results["app_batched"]["16"]["ratio_to_bare"], best_ratio_at_16=best,
                   target_at_16=TARGET_AT_16, met=results["app_batched"]["16"]["ratio_to_bare"] >= TARGET_AT_16)
    return results
