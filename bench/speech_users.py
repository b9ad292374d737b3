"""Many users transcribing at once: 1 client making requests one after another, then 4 and 16
(smoke: 4) concurrent `/transcribe` clients on an app with the speech tab alone (the bench Whisper-base-size
model, one 30 s clip per request; the tiny model and a 1 s clip in smoke mode), beside the bare
in-process pipeline one clip after another and on one batch of the same clips (the ceiling: as many
clips as the app batches, at most APP_BATCH_SIZE).

The clients run in a separate process (bench/users.py) and report the CPU they used; each uploads
its clip as the page does (POST /gradio_api/upload, then queue/join with the returned path; the
browser protocol), and 4 clients also go through gradio_client. Concurrent requests share forward
passes in the app when its catalog entry allows it (playground.engines.speech_batching): the largest
batch seen is read from /generation_activity after each level. Two apps are measured: the CPU default
(no max_batch_size: one window a forward pass, concurrent requests taking turns on the cores, which on
a CPU must never be slower than one after another) and the entry's max_batch_size set to
APP_BATCH_SIZE (what a GPU does by default), so the table shows whether batching pays on this machine.

Fewer requests than clients at 16 would not measure 16 at once, so each level sends one request per
client (16 × 30 s is the section's largest cost, about 4.5 minutes an app). The lone client (on the
CPU default's app: one request at a time is the same work on both) makes `speech_requests_alone` (2)
one after another before and after each concurrent level, and each level is compared with the lone
runs on either side of it: this machine's speed drifts by several percent over minutes (consecutive
lone runs differed by up to 20 % on a busy day), more than the effect measured. The bare loop makes
`speech_requests_alone` clips too. The full section takes about 13 minutes on a quiet 2-core machine,
more when shared.

clips/s = requests / (first request sent -> last answer received); latency = a request's own
duration, upload included (p50 / p90).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, Server, Settings, app_command, ratio, say, summary
from bench.users import transcribe_inputs

APP_BATCH_SIZE = 8
GRADIO_CLIENT_LEVEL = 4  # the one level also measured through gradio_client, for API users
TARGET_UNDER_LOAD = 1.0  # on a CPU, concurrent clients never get fewer clips/s than one after another
APPS = {"cpu_default": None, "batched": APP_BATCH_SIZE}  # name -> the speech entry's max_batch_size


def speech_catalog(catalog: Path, out: Path, max_batch_size: int | None) -> Path:
    """The bench catalog's speech tab alone, its model path made absolute, batching up to
    `max_batch_size` windows (None: the device's default, one window on a CPU)."""
    data = yaml.safe_load(catalog.read_text())
    model = dict(data["tabs"]["speech_to_text"]["models"][0])
    model.pop("max_batch_size", None)
    if max_batch_size is not None:
        model["max_batch_size"] = max_batch_size
    model["id"] = str(catalog.parent / model["id"][2:]) if model["id"].startswith("./") else model["id"]
    data["tabs"] = {"speech_to_text": {"models": [model]}}
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def bare_pipeline(models: Path, audio: str, sequential: int, batches: tuple[int, ...]) -> dict[str, Any]:
    """clips/s of the bare pipeline in this process: `sequential` clips one after another, then each
    of `batches` clips as one `pipe(clips, batch_size=len(clips))` call. The pipeline gets the options
    the app's requests carry (the page's defaults: segment timestamps, which on Whisper roughly double
    the decoding time of a clip), so both do the same work."""
    import soundfile as sf
    from transformers import pipeline

    from tabs.speech_to_text.task import call_kwargs, whisper_language

    samples, rate = sf.read(audio, dtype="float32")
    pipe = pipeline("automatic-speech-recognition", model=str(models / "whisper"), device="cpu")
    _, _, task, language, timestamps, *_ = transcribe_inputs(None)
    options = call_kwargs(True, task, whisper_language(pipe, language), timestamps, len(samples) / rate)

    def clip() -> dict[str, Any]:
        return {"raw": samples, "sampling_rate": rate}  # the pipeline pops its keys: a fresh dict each time

    pipe(clip(), **options)  # warm-up
    start = time.perf_counter()
    for _ in range(sequential):
        pipe(clip(), **options)
    elapsed = time.perf_counter() - start
    results: dict[str, Any] = {
        "sequential": {"clips": sequential, "seconds": elapsed, "clips_per_s": sequential / elapsed}
    }
    for size in batches:
        start = time.perf_counter()
        pipe([clip() for _ in range(size)], batch_size=size, **options)
        elapsed = time.perf_counter() - start
        results[f"batch_{size}"] = {"clips": size, "seconds": elapsed, "clips_per_s": size / elapsed}
    results["options"] = options
    del pipe
    gc.collect()
    return results


def run_clients(url: str, audio: str, clients: int, requests: int, protocol: str) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.users",
        url,
        "--clients",
        str(clients),
        "--requests",
        str(requests),
        "--protocol",
        protocol,
        "--endpoint",
        "transcribe",
        "--audio",
        audio,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=3600)
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    if raw["failures"]:
        raise RuntimeError(f"{clients} {protocol} /transcribe clients: {raw['failures'][:3]}")
    answered = raw["requests"]
    return level_figures(
        clients, raw["wall_s"], [r["end_s"] for r in answered], {r["text"] for r in answered}, raw["client_cpu_s"]
    )


def level_figures(
    clients: int, wall_s: float, latencies: list[float], texts: set[str], client_cpu_s: float
) -> dict[str, Any]:
    latency = summary(latencies)
    return {
        "clients": clients,
        "requests": len(latencies),
        "wall_s": wall_s,
        "clips_per_s": len(latencies) / wall_s,
        "latency_p50_s": latency["median_s"],
        "latency_p90_s": latency["p90_s"],
        "latencies_s": latencies,
        "texts": sorted(texts),
        "same_text": len(texts) == 1,  # one clip, greedy: every answer must be equal
        "client_cpu_s": client_cpu_s,
        "client_cpu_share": client_cpu_s / wall_s,  # of one core
    }


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One client's runs taken together: every clip over the runs' summed wall time."""
    return level_figures(
        1,
        sum(r["wall_s"] for r in runs),
        [s for r in runs for s in r["latencies_s"]],
        {t for r in runs for t in r["texts"]},
        sum(r["client_cpu_s"] for r in runs),
    )


def lone_client(app: Server, audio: str, settings: Settings) -> dict[str, Any]:
    say("speech users (cpu_default): 1 browser client …")
    return run_clients(app.url, audio, 1, settings.speech_requests_alone, "browser")


def peak_batch_size(app: Server) -> int:
    """The most windows that shared one forward pass so far, from the Models view's activity table."""
    from playground.engines.generation import TEXTS

    table = app.client().predict(api_name="/generation_activity")
    column = table["headers"].index(TEXTS.get("activity_peak"))
    return max((int(row[column] or 0) for row in table["data"]), default=0)


def measure(models: Path, catalog: Path, settings: Settings, audio: str, work: Path) -> dict[str, Any]:
    levels = settings.speech_users
    say("speech users: bare pipeline, sequential and batched …")
    # The app batches at most APP_BATCH_SIZE windows: a bare batch of that size is the ceiling beyond it.
    bare = bare_pipeline(
        models, audio, settings.speech_requests_alone, tuple(sorted({ceiling(c) for c in levels if c > 1}))
    )
    results: dict[str, Any] = {"audio_s": _seconds(audio), "app_batch_size": APP_BATCH_SIZE, "bare": bare, "app": {}}
    for name, max_batch_size in APPS.items():
        catalog_path = speech_catalog(catalog, work / f"speech-users-{name}.yaml", max_batch_size)
        with Server(app_command(catalog_path, "--tabs", "speech_to_text"), work, f"speech-users-{name}") as app:
            run_clients(app.url, audio, 1, 1, "browser")  # loads the model
            measured = results["app"][name] = {}
            # One request at a time is the same work on both apps: the lone client is measured on the
            # CPU default's app only, before and after each concurrent level there, because this
            # machine's speed drifts by several percent over minutes: each level is compared with the
            # lone client's runs on either side of it.
            lone: list[dict[str, Any]] = []
            concurrent = [c for c in settings.speech_users if c > 1]
            protocols = (("browser", concurrent), ("gradio_client", (GRADIO_CLIENT_LEVEL,)))
            if name == "cpu_default":
                lone.append(lone_client(app, audio, settings))
            for protocol, counts in protocols if name == "cpu_default" else protocols[:1]:
                for clients in counts:
                    say(f"speech users ({name}): {clients} {protocol} clients …")
                    level = run_clients(app.url, audio, clients, clients, protocol)
                    level["peak_batch_size"] = peak_batch_size(app)
                    if name == "cpu_default":
                        lone.append(lone_client(app, audio, settings))
                        level["alone_around"] = pooled(lone[-2:])
                    measured.setdefault(protocol, {})[str(clients)] = level
            if lone:
                every = {**pooled(lone), "peak_batch_size": 0, "runs": len(lone)}
                measured["browser"] = {"1": every, **measured["browser"]}
    alone_all = results["app"]["cpu_default"]["browser"]["1"]["clips_per_s"]
    sequential = bare["sequential"]["clips_per_s"]
    for name in APPS:
        browser = results["app"][name]["browser"]
        results[name] = {
            "ratio_to_one_after_another": {
                c: ratio(r["clips_per_s"], r.get("alone_around", {}).get("clips_per_s", alone_all))
                for c, r in browser.items()
            },
            "ratio_to_bare_sequential": {c: ratio(r["clips_per_s"], sequential) for c, r in browser.items()},
            "ratio_to_bare_batch": {
                c: ratio(r["clips_per_s"], bare[f"batch_{ceiling(int(c))}"]["clips_per_s"])
                for c, r in browser.items()
                if int(c) > 1
            },
        }
    under_load = results["cpu_default"]["ratio_to_one_after_another"]
    results["target_cpu_default"] = TARGET_UNDER_LOAD
    results["met"] = all(v >= TARGET_UNDER_LOAD for c, v in under_load.items() if int(c) > 1)
    results["ratio_bare_batch_to_sequential"] = {
        name[len("batch_") :]: ratio(b["clips_per_s"], sequential)
        for name, b in bare.items()
        if name.startswith("batch_")
    }
    return results


def ceiling(clients: int) -> int:
    """The bare batch a level is compared with: as many clips as the app can batch for it."""
    return min(clients, APP_BATCH_SIZE)


def _seconds(audio: str) -> float:
    import soundfile as sf

    return sf.info(audio).duration
