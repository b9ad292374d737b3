"""Request latency: the bare pipeline in-process, the tutorial's plain demo and this app, interleaved.

All three get the same file or text. Calls are interleaved round by round (bare, demo, app, then
the next round) so a noisy neighbour slows every variant alike, and the ratios judged are the medians
of each round's own ratio (bench.common.paired_ratio).

The demo and the app are called the way their page calls them (bench/browser.py: upload, queue
join, server-sent events), and the targets are judged on that path; the app is also called through
gradio_client, the way API users call it. Each round also times gradio_client's floor: a round trip through the same gradio_client to an endpoint
that does no work (`/loaded_models`). The client creates a TLS context (loading the CA bundle) for
every request, even to a plain-http URL, and polls its message queue every 50 ms; that cost is the
same for the demo and the app and no server can remove it, so the report shows (app − floor) ÷ bare
beside the raw ratio. The floor is an upper estimate: a call that does no work always waits a whole
poll period, a longer call half of one on average.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.browser import BrowserSession
from bench.common import Server, Settings, paired_ratio, ratio, say, summary, timed
from bench.inputs import SENTENCE, ZERO_SHOT_LABELS, ZERO_SHOT_TEXT, Inputs

# task -> (pipeline task, model folder, the app's endpoint, target for app/bare (None: no target))
TASKS: dict[str, tuple[str, str, str, float | None]] = {
    "asr": ("automatic-speech-recognition", "whisper", "/transcribe", 1.05),
    "image_classification": ("image-classification", "vit", "/classify_image", 1.10),
    "fill_mask": ("fill-mask", "bert-mlm", "/fill_mask", None),
    "zero_shot": ("zero-shot-classification", "nli", "/zero_shot_text", None),
}
PLAIN_DEMO_TARGET = 1.0


def app_arguments(task: str, file: str | None, inputs: Inputs) -> tuple[str, list[Any]]:
    """The app's endpoint for `task` and its inputs (`file`: the file's value as the caller sends it)."""
    if task == "asr":
        # timestamps "off": the bare call and the demo return plain text too.
        return "/transcribe", [file, None, "transcribe", "auto", "off", 42]
    if task == "image_classification":
        return "/classify_image", [file, None, 5]
    if task == "fill_mask":
        return "/fill_mask", [SENTENCE, None, 5, ""]
    return "/zero_shot_text", [ZERO_SHOT_TEXT, None, ", ".join(ZERO_SHOT_LABELS), "This example is {}.", False, False]


def demo_arguments(task: str, file: str | None) -> list[Any]:
    if task in ("asr", "image_classification"):
        return [file]
    if task == "fill_mask":
        return [SENTENCE]
    return [ZERO_SHOT_TEXT, ",".join(ZERO_SHOT_LABELS)]


def bare_call(task: str, pipe: Any, file: str | None) -> Callable[[], Any]:
    if task == "asr":
        return lambda: pipe(file)
    if task == "image_classification":
        return lambda: pipe(file, top_k=5)
    if task == "fill_mask":
        return lambda: pipe(SENTENCE, top_k=5)
    return lambda: pipe(ZERO_SHOT_TEXT, candidate_labels=list(ZERO_SHOT_LABELS))


def input_file(task: str, inputs: Inputs, asr_audio: str) -> str | None:
    """The file a request of `task` uploads (`asr_audio`: which Inputs recording); None for a text task."""
    return {"asr": getattr(inputs, asr_audio), "image_classification": inputs.image}.get(task)


def browser_call(
    session: BrowserSession, api_name: str, file: str | None, arguments: Callable[[Any], list[Any]]
) -> Callable[[], Any]:
    """A page's request: the file's upload (as the page does on drop), then the event."""
    return lambda: session.call(api_name, arguments(session.upload(file) if file else None))


def calls(
    task: str, pipe: Any, plain: BrowserSession, app: BrowserSession, client: Any, inputs: Inputs, settings: Settings
) -> dict[str, Callable[[], Any]]:
    """One request per variant, doing the same work (same input, same options)."""
    from gradio_client import handle_file

    file = input_file(task, inputs, settings.asr_audio)
    endpoint, _ = app_arguments(task, None, inputs)
    return {
        "bare": bare_call(task, pipe, file),
        "plain_demo": browser_call(plain, f"/{task}", file, lambda value: demo_arguments(task, value)),
        "app": browser_call(app, endpoint, file, lambda value: app_arguments(task, value, inputs)[1]),
        "app_gradio_client": lambda: client.predict(
            *app_arguments(task, handle_file(file) if file else None, inputs)[1], api_name=endpoint
        ),
    }


def measure_task(
    task: str, models: Path, app: Server, plain: BrowserSession, inputs: Inputs, settings: Settings
) -> dict[str, Any]:
    from transformers import pipeline

    pipeline_task, folder, _, target = TASKS[task]
    pipe = pipeline(pipeline_task, model=str(models / folder), device="cpu")
    client = app.client()
    page = BrowserSession(app.url)
    variants = {
        **calls(task, pipe, plain, page, client, inputs, settings),
        "client_floor": lambda: client.predict(api_name="/loaded_models"),
    }
    for call in variants.values():
        call()  # warm-up: the app loads its model on first use
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(settings.latency_calls[task]):
        for name, call in variants.items():
            samples[name].append(timed(call))
    del pipe, variants
    page.close()
    gc.collect()
    stats = {name: summary(values) for name, values in samples.items()}
    # Judged round by round (bench.common.paired_ratio); the ratio of medians is kept beside it.
    app_bare = paired_ratio(samples["app"], samples["bare"])
    app_plain = paired_ratio(samples["app"], samples["plain_demo"])
    return {
        **stats,
        "samples_s": samples,
        "ratio_app_bare": app_bare,
        "ratio_app_plain_demo": app_plain,
        "ratio_of_medians_app_bare": ratio(stats["app"]["median_s"], stats["bare"]["median_s"]),
        "ratio_of_medians_app_plain_demo": ratio(stats["app"]["median_s"], stats["plain_demo"]["median_s"]),
        "ratio_app_bare_p90": ratio(stats["app"]["p90_s"], stats["bare"]["p90_s"]),
        "ratio_gradio_client_bare": ratio(stats["app_gradio_client"]["median_s"], stats["bare"]["median_s"]),
        "ratio_app_minus_floor_bare": ratio(
            stats["app_gradio_client"]["median_s"] - stats["client_floor"]["median_s"], stats["bare"]["median_s"]
        ),
        "target_app_bare": target,
        "target_app_plain_demo": PLAIN_DEMO_TARGET,
        "met": (target is None or app_bare <= target) and app_plain <= PLAIN_DEMO_TARGET,
    }


def measure(models: Path, app: Server, inputs: Inputs, settings: Settings, log_dir: Path) -> dict[str, Any]:
    say("latency: starting the plain demos …")
    with Server([sys.executable, "-m", "bench.plain_demo", str(models), "{port}"], log_dir, "plain-demos") as demos:
        plain = BrowserSession(demos.url)
        results = {}
        for task in TASKS:
            say(f"latency: {task} …")
            results[task] = measure_task(task, models, app, plain, inputs, settings)
        plain.close()
    return results
