"""Request latency: the bare pipeline in-process, the tutorial's plain demo and this app, interleaved.

All three get the same file or text. Calls are interleaved round by round (bare, demo, app, then
the next round) so a noisy neighbour slows every variant alike and the ratios stay fair.

Each round also times the client floor: a round trip through the same gradio_client to an endpoint
that does no work (`/loaded_models`). The client creates a TLS context (loading the CA bundle) for
every request, even to a plain-http URL, and polls its message queue every 50 ms; that cost is the
same for the demo and the app and no server can remove it, so the report shows (app − floor) ÷ bare
beside the raw ratio. The floor is an upper estimate: a call that does no work always waits a whole
poll period, a longer call half of one on average.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any, Callable

from bench.common import Server, Settings, ratio, summary, timed, say
from bench.inputs import SENTENCE, ZERO_SHOT_LABELS, ZERO_SHOT_TEXT, Inputs

# task -> (pipeline task, model folder, the app's endpoint, target for app/bare (None: no target))
TASKS: dict[str, tuple[str, str, str, float | None]] = {
    "asr": ("automatic-speech-recognition", "whisper", "/transcribe", 1.05),
    "image_classification": ("image-classification", "vit", "/classify_image", 1.10),
    "fill_mask": ("fill-mask", "bert-mlm", "/fill_mask", None),
    "zero_shot": ("zero-shot-classification", "nli", "/zero_shot_text", None),
}
PLAIN_DEMO_TARGET = 1.0


def calls(task: str, pipe: Any, plain: Any, app: Any, inputs: Inputs, settings: Settings) -> dict[str, Callable[[], Any]]:
    """One request per variant, doing the same work (same input, same options)."""
    from gradio_client import handle_file

    if task == "asr":
        audio = getattr(inputs, settings.asr_audio)
        return {
            "bare": lambda: pipe(audio),
            "plain_demo": lambda: plain.predict(handle_file(audio), api_name=f"/{task}"),
            # timestamps "off": the bare call and the demo return plain text too.
            "app": lambda: app.predict(handle_file(audio), None, "transcribe", "auto", "off", 42, api_name="/transcribe"),
        }
    if task == "image_classification":
        return {
            "bare": lambda: pipe(inputs.image, top_k=5),
            "plain_demo": lambda: plain.predict(handle_file(inputs.image), api_name=f"/{task}"),
            "app": lambda: app.predict(handle_file(inputs.image), None, 5, api_name="/classify_image"),
        }
    if task == "fill_mask":
        return {
            "bare": lambda: pipe(SENTENCE, top_k=5),
            "plain_demo": lambda: plain.predict(SENTENCE, api_name=f"/{task}"),
            "app": lambda: app.predict(SENTENCE, None, 5, "", api_name="/fill_mask"),
        }
    labels = list(ZERO_SHOT_LABELS)
    return {
        "bare": lambda: pipe(ZERO_SHOT_TEXT, candidate_labels=labels),
        "plain_demo": lambda: plain.predict(ZERO_SHOT_TEXT, ",".join(labels), api_name=f"/{task}"),
        "app": lambda: app.predict(ZERO_SHOT_TEXT, None, ", ".join(labels), "This example is {}.", False, False,
                                   api_name="/zero_shot_text"),
    }


def measure_task(task: str, models: Path, app: Server, plain: Any, inputs: Inputs, settings: Settings) -> dict[str, Any]:
    from transformers import pipeline

    pipeline_task, folder, _, target = TASKS[task]
    pipe = pipeline(pipeline_task, model=str(models / folder), device="cpu")
    client = app.client()
    variants = {**calls(task, pipe, plain, client, inputs, settings),
                "client_floor": lambda: client.predict(api_name="/loaded_models")}
    for call in variants.values():
        call()  # warm-up: the app loads its model on first use
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(settings.latency_calls[task]):
        for name, call in variants.items():
            samples[name].append(timed(call))
    del pipe, variants
    gc.collect()
    stats = {name: summary(values) for name, values in samples.items()}
    app_bare = ratio(stats["app"]["median_s"], stats["bare"]["median_s"])
    app_plain = ratio(stats["app"]["median_s"], stats["plain_demo"]["median_s"])
    return {
        **stats,
        "ratio_app_bare": app_bare,
        "ratio_app_plain_demo": app_plain,
        "ratio_app_bare_p90": ratio(stats["app"]["p90_s"], stats["bare"]["p90_s"]),
        "ratio_app_minus_floor_bare": ratio(stats["app"]["median_s"] - stats["client_floor"]["median_s"],
                                            stats["bare"]["median_s"]),
        "target_app_bare": target,
        "target_app_plain_demo": PLAIN_DEMO_TARGET,
        "met": (target is None or app_bare <= target) and app_plain <= PLAIN_DEMO_TARGET,
    }


def measure(models: Path, app: Server, inputs: Inputs, settings: Settings, log_dir: Path) -> dict[str, Any]:
    say("latency: starting the plain demos …")
    with Server([sys.executable, "-m", "bench.plain_demo", str(models), "{port}"], log_dir, "plain-demos") as demos:
        plain = demos.client()
        results = {}
        for task in TASKS:
            say(f"latency: {task} …")
            results[task] = measure_task(task, models, app, plain, inputs, settings)
    return results
