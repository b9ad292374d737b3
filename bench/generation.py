"""Text generation: time to the first streamed token and tokens/s, the app's `/generate` against bare
`model.generate` with a TextIteratorStreamer. Greedy, exactly `new_tokens` tokens every time
(bench/models.py pins min_new_tokens), so both do the same work.

tokens/s = new tokens / (request sent -> last token received), the rate a user sees. The client floor
(a gradio_client round trip to `/loaded_models`, which does no work; see bench/latency.py) is timed
between runs, so the report can show how much of the TTFT gap is the client's.
"""

from __future__ import annotations

import gc
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import Server, Settings, ratio, say, timed
from bench.inputs import PROMPT

TTFT_MARGIN_S = 0.050
RATE_TARGET = 0.95


def bare_run(pipe: Any, new_tokens: int) -> tuple[float, float]:
    """(seconds to the first streamed text, seconds to the end)."""
    from transformers import TextIteratorStreamer

    tokenizer, model = pipe.tokenizer, pipe.model
    start = time.perf_counter()
    encoded = tokenizer(PROMPT, return_tensors="pt")
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    worker = threading.Thread(target=model.generate, kwargs=dict(
        **encoded, streamer=streamer, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
        pad_token_id=tokenizer.pad_token_id))
    worker.start()
    first = None
    for piece in streamer:
        if piece and first is None:
            first = time.perf_counter() - start
    worker.join()
    end = time.perf_counter() - start
    return first if first is not None else end, end


def app_run(client: Any, new_tokens: int, model: str | None = None) -> tuple[float, float]:
    """(seconds to the first streamed text, seconds to the end) of one greedy /generate call."""
    start = time.perf_counter()
    job = client.submit(PROMPT, model, new_tokens, 0.7, 0.95, 50, 1.0, False, 0, "", api_name="/generate")
    first = None
    for output in job:
        if output[0] and first is None:
            first = time.perf_counter() - start
    job.result()
    end = time.perf_counter() - start
    return first if first is not None else end, end


def measure(models: Path, app: Server, settings: Settings) -> dict[str, Any]:
    from transformers import pipeline

    say("generation …")
    pipe = pipeline("text-generation", model=str(models / "llama-chat"), device="cpu")
    client = app.client()
    n = settings.new_tokens
    bare_run(pipe, n)
    app_run(client, n)  # warm-ups; the app loads its model on first use
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "app": []}
    floor: list[float] = []
    for _ in range(settings.generation_runs):
        runs["bare"].append(bare_run(pipe, n))
        runs["app"].append(app_run(client, n))
        floor += [timed(lambda: client.predict(api_name="/loaded_models")) for _ in range(3)]
    del pipe
    gc.collect()
    stats = {
        name: {"ttft_s": statistics.median(t for t, _ in values), "tokens_per_s": statistics.median(n / e for _, e in values),
               "runs": len(values)}
        for name, values in runs.items()
    }
    ttft_delta = stats["app"]["ttft_s"] - stats["bare"]["ttft_s"]
    client_floor = statistics.median(floor)
    rate_ratio = ratio(stats["app"]["tokens_per_s"], stats["bare"]["tokens_per_s"])
    return {**stats, "new_tokens": n, "ttft_delta_s": ttft_delta, "ratio_ttft": ratio(stats["app"]["ttft_s"], stats["bare"]["ttft_s"]),
            "ratio_tokens_per_s": rate_ratio, "client_floor_s": client_floor,
            "ttft_delta_minus_floor_s": ttft_delta - client_floor, "target_ttft_delta_s": TTFT_MARGIN_S, "target_tokens_per_s_ratio": RATE_TARGET,
            "met": ttft_delta <= TTFT_MARGIN_S and rate_ratio >= RATE_TARGET}
