"""Throughput on image classification: N concurrent clients on the app against a sequential bare loop.
Then the CPU-heavy tabs under load: 16 clients at once on the plain image-classification and
fill-mask endpoints against one client calling one after another (on a CPU their forward passes take
turns: concurrent users must never get fewer answers per second than one after another).

The app is measured on `/classify_image_batch` (Gradio request batching: queued requests share one
forward pass) and, for comparison, on the plain `/classify_image` endpoint; each through the page's
protocol (bench/browser.py, clients in a process of their own: the target's path) and through
gradio_client (clients in this process, as API users call). The bare pipeline is also run
in-process on batches of 16 images: the most any server could get from batching on this machine.

Where the time goes: each level also records the CPU the app's process used (all its threads: the
model's and the web server's) and the CPU the clients used (this process), per image, beside the bare
loop's CPU per image. On 2 cores, whatever the clients and the web stack take is not there for the model.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Server, Settings, ratio, say
from bench.inputs import SENTENCE, Inputs

TARGET_AT_16 = 1.5
TARGET_UNDER_LOAD = 1.0  # 16 clients at once against one client one after another
BATCH = 16
ENDPOINTS = {"app_batched": "/classify_image_batch", "app_unbatched": "/classify_image"}
PROTOCOLS = {"": "browser", "_gradio_client": "gradio_client"}  # result key suffix -> protocol


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def bare_images_per_s(models: Path, inputs: Inputs, count: int) -> tuple[float, float, float]:
    """(images/s of a sequential loop, its CPU seconds per image, images/s of batched calls of BATCH
    images), in-process."""
    from transformers import pipeline

    pipe = pipeline("image-classification", model=str(models / "vit"), device="cpu")
    pipe(inputs.image, top_k=5)
    start, cpu = time.perf_counter(), own_cpu_s()
    for _ in range(count):
        pipe(inputs.image, top_k=5)
    sequential = count / (time.perf_counter() - start)
    cpu_per_image = (own_cpu_s() - cpu) / count
    batch = [inputs.image] * BATCH
    pipe(batch, top_k=5, batch_size=BATCH)
    rounds = max(1, count // BATCH)
    start = time.perf_counter()
    for _ in range(rounds):
        pipe(batch, top_k=5, batch_size=BATCH)
    batched = rounds * BATCH / (time.perf_counter() - start)
    del pipe
    gc.collect()
    return sequential, cpu_per_image, batched


def browser_images_per_s(
    app: Server, endpoint: str, image: str | None, clients: int, requests: int, data: tuple[Any, ...] = (None, 5)
) -> dict[str, float]:
    """images/s (answers/s where `image` is None: a text endpoint) of `clients` concurrent page sessions
    run by a process of their own, and the CPU seconds per answer the app's process and that process used."""
    command = [
        sys.executable,
        "-m",
        "bench.browser",
        app.url,
        endpoint,
        "--clients",
        str(clients),
        "--requests",
        str(requests),
        *(("--file", image) if image else ()),
        "--data",
        json.dumps(list(data)),
    ]
    subprocess.run(
        [*command[:5], "--clients", "1", "--requests", "1", *command[9:]],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )  # warm-up
    server_cpu = process_cpu_s(app.pid)
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, timeout=3600)
    server_cpu = process_cpu_s(app.pid) - server_cpu
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    if raw["failures"]:
        raise RuntimeError(f"{clients} clients on {endpoint}: {raw['failures'][:3]}")
    wall = raw["wall_s"]
    return {
        "images_per_s": requests / wall,
        "server_cpu_s_per_image": server_cpu / requests,
        "client_cpu_s_per_image": raw["client_cpu_s"] / requests,
    }


def app_images_per_s(app: Server, endpoint: str, image: str, clients: int, requests: int) -> dict[str, float]:
    """images/s of `clients` concurrent gradio_client users, and the CPU seconds per image the app's
    process and the clients used."""
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
    server_cpu, client_cpu = process_cpu_s(app.pid), own_cpu_s()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    return {
        "images_per_s": requests / elapsed,
        "server_cpu_s_per_image": (process_cpu_s(app.pid) - server_cpu) / requests,
        "client_cpu_s_per_image": (own_cpu_s() - client_cpu) / requests,
    }


def measure(models: Path, app: Server, inputs: Inputs, settings: Settings) -> dict[str, Any]:
    say("throughput: bare sequential loop …")
    bare, bare_cpu, batched = bare_images_per_s(models, inputs, settings.bare_throughput_images)
    results: dict[str, Any] = {
        "bare_sequential_images_per_s": bare,
        "bare_cpu_s_per_image": bare_cpu,
        "bare_batched_images_per_s": batched,
        "ratio_bare_batched_to_sequential": ratio(batched, bare),
    }
    for name, endpoint in ENDPOINTS.items():
        for suffix, protocol in PROTOCOLS.items():
            run = browser_images_per_s if protocol == "browser" else app_images_per_s
            levels = results[name + suffix] = {}
            for clients, requests in settings.throughput_requests.items():
                say(f"throughput: {name}, {clients} {protocol} clients …")
                level = run(app, endpoint, inputs.image, clients, requests)
                levels[str(clients)] = {**level, "ratio_to_bare": ratio(level["images_per_s"], bare)}
    best = max(results[name]["16"]["ratio_to_bare"] for name in ENDPOINTS)
    results.update(
        ratio_at_16=results["app_batched"]["16"]["ratio_to_bare"],
        best_ratio_at_16=best,
        target_at_16=TARGET_AT_16,
        met=results["app_batched"]["16"]["ratio_to_bare"] >= TARGET_AT_16,
    )
    results["under_load"] = under_load(app, results["app_unbatched"], settings)
    return results


def under_load(app: Server, image_levels: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Answers/s of 16 page sessions at once against one session one after another, on the plain
    endpoints of the CPU-heavy tabs (image classification's levels are those measured above)."""
    tabs: dict[str, Any] = {"image_classification": {c: image_levels[c] for c in ("1", "16")}}
    levels = tabs["fill_mask"] = {}
    for clients, requests in (settings.fill_mask_requests or {}).items():
        say(f"throughput under load: /fill_mask, {clients} browser clients …")
        levels[str(clients)] = browser_images_per_s(app, "/fill_mask", None, clients, requests, (SENTENCE, None, 5, ""))
    for levels in tabs.values():
        levels["ratio_16_to_1"] = ratio(levels["16"]["images_per_s"], levels["1"]["images_per_s"])
    return {
        "tabs": tabs,
        "target": TARGET_UNDER_LOAD,
        "met": all(levels["ratio_16_to_1"] >= TARGET_UNDER_LOAD for levels in tabs.values()),
    }
