"""Memory: every bench-catalog model loaded in turn under the catalog's memory budget.

Run first on a freshly started app. A first pass loads every model once and unloads them all: that
imports every tab's libraries (torch, transformers, each architecture's modules, image and audio
processing), so the RSS after it is the baseline, the app with its libraries and no weights (the
RSS after importing only the speech tab's libraries is reported too). The second pass loads each
model again through its tab's endpoint while the peak RSS is tracked; finally `/unload_model("all")`.
Targets: peak <= baseline + budget at every step; after unloading, RSS within 10 % of the baseline,
so a load/unload cycle gives its memory back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.common import PeakRss, Server, rss_bytes, say
from bench.inputs import PROMPT, SENTENCE, ZERO_SHOT_TEXT, Inputs
from bench.models import CATALOG

MB = 2**20
AFTER_UNLOAD_TOLERANCE = 0.10


def loaders(client: Any, inputs: Inputs) -> dict[str, Callable[[], Any]]:
    """One small request per tab: enough to load its model."""
    from gradio_client import handle_file

    return {
        "speech_to_text": lambda: client.predict(
            handle_file(inputs.audio_1s), None, "transcribe", "auto", "off", 42, api_name="/transcribe"
        ),
        "image_classification": lambda: client.predict(handle_file(inputs.image), None, 5, api_name="/classify_image"),
        "fill_mask": lambda: client.predict(SENTENCE, None, 5, "", api_name="/fill_mask"),
        "zero_shot": lambda: client.predict(
            ZERO_SHOT_TEXT, None, "positive, negative", "This example is {}.", False, False, api_name="/zero_shot_text"
        ),
        "text_generation": lambda: client.predict(
            PROMPT, None, 4, 0.7, 0.95, 50, 1.0, False, 0, "", api_name="/generate"
        ),
    }


def measure(app: Server, catalog: Path, inputs: Inputs) -> dict[str, Any]:
    say("memory …")
    budget_gb = yaml.safe_load(catalog.read_text())["defaults"]["memory_budget_gb"]
    client = app.client()
    load = loaders(client, inputs)
    idle = rss_bytes(app.pid)
    load["speech_to_text"]()
    client.predict("all", api_name="/unload_model")
    speech_libraries = rss_bytes(app.pid)
    for tab, _, _ in CATALOG:
        load[tab]()
    client.predict("all", api_name="/unload_model")
    baseline = rss_bytes(app.pid)
    steps = []
    for tab, folder, _ in CATALOG:
        with PeakRss(app.pid) as peak:
            load[tab]()
        steps.append(
            {
                "tab": tab,
                "model": folder,
                "peak_mb": peak.peak / MB,
                "after_mb": rss_bytes(app.pid) / MB,
                "loaded": [m["label"] for m in client.predict(api_name="/loaded_models")],
            }
        )
    client.predict("all", api_name="/unload_model")
    after = rss_bytes(app.pid)
    left = [m["label"] for m in client.predict(api_name="/loaded_models")]
    limit = baseline + budget_gb * 2**30
    peak_mb = max(step["peak_mb"] for step in steps)
    after_ratio = after / baseline
    return {
        "budget_gb": budget_gb,
        "idle_mb": idle / MB,
        "speech_libraries_mb": speech_libraries / MB,
        "baseline_mb": baseline / MB,
        "steps": steps,
        "peak_mb": peak_mb,
        "limit_mb": limit / MB,
        "ratio_peak_to_limit": peak_mb * MB / limit,
        "after_unload_mb": after / MB,
        "loaded_after_unload": left,
        "ratio_after_unload_to_baseline": after_ratio,
        "met": peak_mb * MB <= limit and after_ratio <= 1 + AFTER_UNLOAD_TOLERANCE and not left,
    }
