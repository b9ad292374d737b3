"""Throughput on image classification: N concurrent clients on the app against a sequential bare loop.

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
from bench.inputs import Inputs

TARGET_AT_16 = 1.5
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


def browser_images_per_s(app: Server, endpoint: str, image: str, clients: int, requests: int) -> dict[str, float]:
    """images/s of `clients` concurrent page sessions run by a process of their own, and the CPU
    seconds per image the app's process and that process used."""
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
        "--file",
        image,
        "--data",
        json.dumps([None, 5]),
    ]
    subprocess.run(
        [*command[:-6], "--clients", "1", "--requests", "1", *command[-4:]],
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
    return results
