"""Text generation: time to the first streamed token and tokens/s, the app's `/generate` against bare
`model.generate` with a streamer. Greedy, exactly `new_tokens` tokens every time (bench/models.py pins
min_new_tokens), so both do the same work.

TTFT = request sent -> first generated token shown (bare: the streamer's first new token, decoded;
app: the first non-empty text in the stream; the app streams token by token). tokens/s = new tokens /
(request sent -> last token received), the rate a user sees. The app is timed through the browser's
protocol (queue/join + server-sent events, bench/users.py), on which the targets are judged, and
through gradio_client for API users; the client floor (a gradio_client round trip to `/loaded_models`,
which does no work; see bench/latency.py) shows how much of the gradio_client gap is the client's.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path
from typing import Any

from bench.browser import BrowserSession
from bench.common import Server, Settings, paired_ratio, ratio, say, timed
from bench.inputs import PROMPT
from bench.users import browser_request, generate_inputs

TTFT_MARGIN_S = 0.050
RATE_TARGET = 0.95


def first_token_timer(tokenizer: Any, start: float) -> Any:
    """A streamer for `model.generate` that records, in `first_s`, the seconds from `start` until its
    first new tokens are decoded (generate's first `put` is the prompt; any batch size)."""
    from transformers.generation.streamers import BaseStreamer

    class FirstTokenTimer(BaseStreamer):
        def __init__(self) -> None:
            self.prompt_seen, self.first_s = False, None

        def put(self, value: Any) -> None:
            if not self.prompt_seen:
                self.prompt_seen = True
            elif self.first_s is None:
                tokenizer.batch_decode(value.reshape(-1, 1).tolist(), skip_special_tokens=True)
                self.first_s = time.perf_counter() - start

        def end(self) -> None:
            return None

    return FirstTokenTimer()


def bare_run(pipe: Any, new_tokens: int) -> tuple[float, float]:
    """(seconds to the first generated token, decoded; seconds to the end)."""
    tokenizer, model = pipe.tokenizer, pipe.model
    start = time.perf_counter()
    first = first_token_timer(tokenizer, start)
    encoded = tokenizer(PROMPT, return_tensors="pt")
    model.generate(
        **encoded,
        streamer=first,
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
    )
    end = time.perf_counter() - start
    return first.first_s if first.first_s is not None else end, end


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


def browser_run(page: BrowserSession, new_tokens: int, model: str | None = None) -> tuple[float, float]:
    """(seconds to the first streamed text, seconds to the end) of one greedy /generate call made the
    way the page makes it."""
    done = browser_request(page, generate_inputs(new_tokens, model))
    return done["ttft_s"], done["end_s"]


def compare(
    runs: dict[str, list[tuple[float, float]]], baseline: str, new_tokens: int, floor: list[float]
) -> dict[str, Any]:
    """Medians of each way's (TTFT, end) runs, and the app's (browser path, then gradio_client) gaps to
    `baseline`, round by round (the runs are interleaved; see bench.common.paired_ratio); the targets
    are judged on the browser path."""
    stats = {
        name: {
            "ttft_s": statistics.median(t for t, _ in values),
            "tokens_per_s": statistics.median(new_tokens / e for _, e in values),
            "runs": len(values),
        }
        for name, values in runs.items()
    }
    base = stats[baseline]

    def ttft_gap(way: str) -> float:
        return statistics.median(t - b for (t, _), (b, _) in zip(runs[way], runs[baseline], strict=True))

    def rate_ratio_of(way: str) -> float:  # tokens/s ratio = the baseline's time to the end over the way's
        return paired_ratio([e for _, e in runs[baseline]], [e for _, e in runs[way]])

    ttft_delta, client_delta = ttft_gap("app"), ttft_gap("app_gradio_client")
    client_floor = statistics.median(floor)
    rate_ratio = rate_ratio_of("app")
    return {
        **stats,
        "new_tokens": new_tokens,
        "ttft_delta_s": ttft_delta,
        "ratio_ttft": paired_ratio([t for t, _ in runs["app"]], [t for t, _ in runs[baseline]]),
        "ratio_tokens_per_s": rate_ratio,
        "medians_ttft_delta_s": stats["app"]["ttft_s"] - base["ttft_s"],
        "ratio_of_medians_tokens_per_s": ratio(stats["app"]["tokens_per_s"], base["tokens_per_s"]),
        "gradio_client_ttft_delta_s": client_delta,
        "ratio_gradio_client_tokens_per_s": rate_ratio_of("app_gradio_client"),
        "client_floor_s": client_floor,
        "ttft_delta_minus_floor_s": client_delta - client_floor,
        "target_ttft_delta_s": TTFT_MARGIN_S,
        "target_tokens_per_s_ratio": RATE_TARGET,
        "met": ttft_delta <= TTFT_MARGIN_S and rate_ratio >= RATE_TARGET,
    }


def measure(models: Path, app: Server, settings: Settings) -> dict[str, Any]:
    from transformers import pipeline

    say("generation …")
    pipe = pipeline("text-generation", model=str(models / "llama-chat"), device="cpu")
    client = app.client()
    page = BrowserSession(app.url)
    n = settings.new_tokens
    bare_run(pipe, n)
    app_run(client, n)  # warm-ups; the app loads its model on first use
    browser_run(page, n)
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "app": [], "app_gradio_client": []}
    floor: list[float] = []
    for _ in range(settings.generation_runs):
        runs["bare"].append(bare_run(pipe, n))
        runs["app"].append(browser_run(page, n))
        runs["app_gradio_client"].append(app_run(client, n))
        floor += [timed(lambda: client.predict(api_name="/loaded_models")) for _ in range(3)]
    del pipe
    page.close()
    gc.collect()
    return compare(runs, "bare", n, floor)
