"""Many users: 1, 4 and 16 concurrent streaming `/generate` clients on the app with batching (the
catalog's default max_batch_size) and with batching off (`max_batch_size: 1`, one generate() at a
time), beside the bare in-process padded batch (`model.generate` on N left-padded prompts: the
ceiling). Greedy, exactly `new_tokens` tokens per request (bench/models.py pins min_new_tokens).

The clients run in a separate process (bench/users.py) and report the CPU they used. Each level is
measured through the browser's protocol (queue/join + server-sent events, httpx) and, for API users,
through gradio_client, whose 50 ms polling adds to every figure.

aggregate tokens/s = all tokens / (first request sent -> last token received); per-user tokens/s =
a request's tokens / its own duration (median); TTFT = request sent -> first streamed text.
Both apps run side by side; the lone browser user's requests alternate between them round by round,
and "one client" is judged on the median of the rounds' ratios (bench.common.paired_ratio).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, Server, Settings, app_command, paired_ratio, ratio, say, summary
from bench.inputs import PROMPT

TARGET_AGGREGATE_AT_16 = 3.0  # × batching off
TARGET_TTFT_P90_AT_16_S = 3.0
TARGET_ALONE_RATIO = 0.95  # one client: batched tokens/s ≥ 0.95 × batching off
TARGET_TO_BARE = 0.9  # 4 and more clients: aggregate ≥ 0.9 × the bare padded batch of as many prompts
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
            output = model.generate(
                **encoded,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                streamer=first,
            )
            elapsed = time.perf_counter() - start
            produced = (output.shape[1] - encoded.input_ids.shape[1]) * count
            results[str(count)] = {
                "tokens_per_s": produced / elapsed,
                "seconds": elapsed,
                "first_token_s": first.first_s,
            }
    del model
    gc.collect()
    return results


def client_run(
    url: str,
    clients: int,
    requests: int,
    new_tokens: int,
    protocol: str,
    extra: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """bench.users in a process of its own (`extra`: more of its arguments, `env`: more variables): its raw
    JSON (each request's times and tokens, the clients' CPU)."""
    command = [
        sys.executable,
        "-m",
        "bench.users",
        url,
        "--clients",
        str(clients),
        "--requests",
        str(requests),
        "--new-tokens",
        str(new_tokens),
        "--protocol",
        protocol,
        *extra,
    ]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
        env={**os.environ, **env} if env else None,
    )
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    if raw["failures"]:
        raise RuntimeError(f"{clients} {protocol} clients: {raw['failures'][:3]}")
    return raw


def level_summary(clients: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One level's figures from one or more client runs (the lone user's interleaved rounds are several)."""
    requests_done = [request for run in runs for request in run["requests"]]
    wall = sum(run["wall_s"] for run in runs)
    cpu = sum(run["client_cpu_s"] for run in runs)
    tokens = sum(r["tokens"] for r in requests_done)
    ttft = summary([r["ttft_s"] for r in requests_done])
    return {
        "clients": clients,
        "requests": len(requests_done),
        "tokens": tokens,
        "wall_s": wall,
        "aggregate_tokens_per_s": tokens / wall,
        "per_user_tokens_per_s": statistics.median(r["tokens"] / r["end_s"] for r in requests_done),
        "ttft_p50_s": ttft["median_s"],
        "ttft_p90_s": ttft["p90_s"],
        "client_cpu_s": cpu,
        "client_cpu_share": cpu / wall,  # of one core
    }


def run_clients(url: str, clients: int, requests: int, new_tokens: int, protocol: str) -> dict[str, Any]:
    return level_summary(clients, [client_run(url, clients, requests, new_tokens, protocol)])


def lone_rounds(apps: dict[str, Server], rounds: int, new_tokens: int) -> tuple[dict[str, dict[str, Any]], float]:
    """The lone user on both apps, interleaved: each round one request on each (the order alternating),
    so a slow stretch of this shared machine slows both sides of a round alike. Returns each variant's
    level and the median of the rounds' batched / off tokens/s ratios."""
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in apps}
    for index in range(rounds):
        for variant in list(apps) if index % 2 == 0 else list(reversed(apps)):
            runs[variant].append(client_run(apps[variant].url, 1, 1, new_tokens, "browser"))
    speed = {
        variant: [run["requests"][0]["tokens"] / run["requests"][0]["end_s"] for run in done]
        for variant, done in runs.items()
    }
    return (
        {variant: level_summary(1, done) for variant, done in runs.items()},
        paired_ratio(speed["batched"], speed["off"]),
    )


def measure(models: Path, catalog: Path, settings: Settings, work: Path) -> dict[str, Any]:
    counts = settings.users
    new_tokens = settings.user_new_tokens
    say("many users: bare padded batch …")
    results: dict[str, Any] = {
        "new_tokens": new_tokens,
        "bare_padded_batch": bare_padded_batch(models, counts, new_tokens),
    }
    apps: dict[str, Server] = {}
    try:
        # Both apps run side by side (an idle one uses well under 1 % of a core), so the lone user's
        # requests can alternate between them.
        for variant, max_batch_size in (("batched", None), ("off", 1)):
            variant_path = variant_catalog(catalog, work / f"many-users-{variant}.yaml", max_batch_size)
            apps[variant] = Server(
                app_command(variant_path, "--tabs", "text_generation"), work, f"many-users-{variant}"
            )
        for app in apps.values():
            run_clients(app.url, 1, 1, new_tokens, "browser")  # loads the model (and warms the engine)
        say(f"many users: one browser client, {settings.user_requests_alone} rounds on both apps …")
        alone, results["ratio_alone"] = lone_rounds(apps, settings.user_requests_alone, new_tokens)
        for variant, level in alone.items():
            results.setdefault(variant, {}).setdefault("browser", {})["1"] = level
        for variant, protocol, levels in MEASURES:
            for clients in (level for level in levels if level in counts):
                if clients == 1 and protocol == "browser":
                    continue  # the interleaved rounds above
                # One request per user; the lone user makes several, one after another.
                requests = settings.user_requests_alone if clients == 1 else clients
                say(f"many users: {variant}, {clients} {protocol} clients …")
                level = run_clients(apps[variant].url, clients, requests, new_tokens, protocol)
                results[variant].setdefault(protocol, {})[str(clients)] = level
    finally:
        for app in apps.values():
            app.stop()
    batched, off = results["batched"]["browser"], results["off"]["browser"]
    top = str(max(counts))
    results["ratio_aggregate_at_16"] = ratio(batched[top]["aggregate_tokens_per_s"], off[top]["aggregate_tokens_per_s"])
    results["ratio_alone_of_medians"] = ratio(batched["1"]["per_user_tokens_per_s"], off["1"]["per_user_tokens_per_s"])
    results["ratio_to_bare"] = {
        c: ratio(batched[c]["aggregate_tokens_per_s"], results["bare_padded_batch"][c]["tokens_per_s"]) for c in batched
    }
    results["targets"] = {
        "aggregate_at_16": TARGET_AGGREGATE_AT_16,
        "ttft_p90_at_16_s": TARGET_TTFT_P90_AT_16_S,
        "alone_ratio": TARGET_ALONE_RATIO,
        "to_bare": TARGET_TO_BARE,
    }
    results["met"] = {
        "to_bare": all(value >= TARGET_TO_BARE for c, value in results["ratio_to_bare"].items() if int(c) > 1),
        "aggregate_at_16": results["ratio_aggregate_at_16"] >= TARGET_AGGREGATE_AT_16,
        "ttft_p90_at_16": batched[top]["ttft_p90_s"] <= TARGET_TTFT_P90_AT_16_S,
        "alone": results["ratio_alone"] >= TARGET_ALONE_RATIO,
    }
    return results
