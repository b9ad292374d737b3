"""Many users: 1, 4 and 16 concurrent streaming `/generate` clients on the app with batching (the
catalog's default max_batch_size) and with batching off (`max_batch_size: 1`, one generate() at a
time), beside the bare in-process padded batch (`model.generate` on N left-padded prompts: the
ceiling). Greedy, exactly `new_tokens` tokens per request (bench/models.py pins min_new_tokens).

The clients run in a separate process (bench/users.py) and report the CPU they used. Each level is
measured through the browser's protocol (queue/join + server-sent events, httpx) and, for API users,
through gradio_client, whose 50 ms polling adds to every figure.

aggregate tokens/s = all tokens / (first request sent -> last token received); per-user tokens/s =
a request's tokens / its own duration (median); TTFT = request sent -> first streamed text.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, Server, Settings, app_command, ratio, say, summary
from bench.inputs import PROMPT

TARGET_AGGREGATE_AT_16 = 3.0  # × batching off
TARGET_TTFT_P90_AT_16_S = 3.0
TARGET_ALONE_RATIO = 0.95  # one client: batched tokens/s ≥ 0.95 × batching off
# (app variant, client protocol, client counts, of settings.users): batching off through gradio_client only alone.
MEASURES = (
    ("batched", "browser", (1, 4, 16)),
    ("batched", "gradio_client", (1, 4, 16)),
    ("off", "browser", (1, 4, 16)),
    ("off", "gradio_client", (1,)),
)


def variant_catalog(catalog: Path, out: Path, max_batch_size: int | None) -> Path:
    """The bench catalog's text generation tab alone, its model with `max_batch_size` (None: default)."""
    data = yaml.safe_load(catalog.read_text())
    model = dict(data["tabs"]["text_generation"]["models"][0])
    model["id"] = str(catalog.parent / model["id"][2:]) if model["id"].startswith("./") else model["id"]
    if max_batch_size is not None:
        model["max_batch_size"] = max_batch_size
    data["tabs"] = {"text_generation": {"models": [model]}}
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def bare_padded_batch(models: Path, counts: tuple[int, ...], new_tokens: int) -> dict[str, Any]:
    """tokens/s of one `model.generate` call on N left-padded copies of the prompt, in this process, and
    its first token's time (the prompts' prefill: the least TTFT N requests arriving at once can get)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from bench.generation import first_token_timer

    tokenizer = AutoTokenizer.from_pretrained(models / "llama-chat", padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(models / "llama-chat").eval()
    results: dict[str, Any] = {}
    with torch.inference_mode():
        for count in (1, *counts):  # the first call warms up
            encoded = tokenizer([PROMPT] * count, return_tensors="pt", padding=True)
            start = time.perf_counter()
            first = first_token_timer(tokenizer, start)
            output = model.generate(**encoded, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                    pad_token_id=tokenizer.pad_token_id, streamer=first)
            elapsed = time.perf_counter() - start
            produced = (output.shape[1] - encoded.input_ids.shape[1]) * count
            results[str(count)] = {"tokens_per_s": produced / elapsed, "seconds": elapsed, "first_token_s": first.first_s}
    del model
    gc.collect()
    return results


def run_clients(url: str, clients: int, requests: int, new_tokens: int, protocol: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.users", url, "--clients", str(clients), "--requests", str(requests),
               "--new-tokens", str(new_tokens), "--protocol", protocol]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=3600)
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    if raw["failures"]:
        raise RuntimeError(f"{clients} {protocol} clients: {raw['failures'][:3]}")
    requests_done = raw["requests"]
    tokens = sum(r["tokens"] for r in requests_done)
    ttft = summary([r["ttft_s"] for r in requests_done])
    return {
        "clients": clients,
        "requests": len(requests_done),
        "tokens": tokens,
        "wall_s": raw["wall_s"],
        "aggregate_tokens_per_s": tokens / raw["wall_s"],
        "per_user_tokens_per_s": statistics.median(r["tokens"] / r["end_s"] for r in requests_done),
        "ttft_p50_s": ttft["median_s"],
        "ttft_p90_s": ttft["p90_s"],
        "client_cpu_s": raw["client_cpu_s"],
        "client_cpu_share": raw["client_cpu_s"] / raw["wall_s"],  # of one core
    }


def measure(models: Path, catalog: Path, settings: Settings, work: Path) -> dict[str, Any]:
    counts = settings.users
    new_tokens = settings.user_new_tokens
    say("many users: bare padded batch …")
    results: dict[str, Any] = {"new_tokens": new_tokens, "bare_padded_batch": bare_padded_batch(models, counts, new_tokens)}
    for variant, max_batch_size in (("batched", None), ("off", 1)):
        variant_path = variant_catalog(catalog, work / f"many-users-{variant}.yaml", max_batch_size)
        with Server(app_command(variant_path, "--tabs", "text_generation"), work, f"many-users-{variant}") as app:
            run_clients(app.url, 1, 1, new_tokens, "browser")  # loads the model (and warms the engine)
            for measured, protocol, levels in MEASURES:
                if measured != variant:
                    continue
                for clients in (level for level in levels if level in counts):
                    # One request per user; the lone user makes several, one after another.
                    requests = settings.user_requests_alone if clients == 1 else clients
                    say(f"many users: {variant}, {clients} {protocol} clients …")
                    level = run_clients(app.url, clients, requests, new_tokens, protocol)
                    results.setdefault(variant, {}).setdefault(protocol, {})[str(clients)] = level
    batched, off = results["batched"]["browser"], results["off"]["browser"]
    top = str(max(counts))
    results["ratio_aggregate_at_16"] = ratio(batched[top]["aggregate_tokens_per_s"], off[top]["aggregate_tokens_per_s"])
    results["ratio_alone"] = ratio(batched["1"]["per_user_tokens_per_s"], off["1"]["per_user_tokens_per_s"])
    results["ratio_to_bare"] = {c: ratio(batched[c]["aggregate_tokens_per_s"], results["bare_padded_batch"][c]["tokens_per_s"])
                                for c in batched}
    results["targets"] = {"aggregate_at_16": TARGET_AGGREGATE_AT_16, "ttft_p90_at_16_s": TARGET_TTFT_P90_AT_16_S,
                          "alone_ratio": TARGET_ALONE_RATIO}
    results["met"] = {
        "aggregate_at_16": results["ratio_aggregate_at_16"] >= TARGET_AGGREGATE_AT_16,
        "ttft_p90_at_16": batched[top]["ttft_p90_s"] <= TARGET_TTFT_P90_AT_16_S,
        "alone": results["ratio_alone"] >= TARGET_ALONE_RATIO,
    }
    return results
