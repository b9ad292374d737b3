"""Quantized and offloaded loading on this CPU: process memory after a generation, tokens/s and first-token
time of the same Llama-style bench model in each configuration, in one run.

Every variant is a catalog entry as a user would write it (`quantization:`, `cpu_dtype:`, `device_map` +
`max_memory`), loaded through the app's ModelManager in a process of its own, so its memory is its own
(float32 safetensors are memory-mapped: before a generation their pages are not yet resident, so memory
is read after one). The processes stay up and generate in interleaved rounds, one generation each per
round, so a slow stretch of this shared machine slows every variant of a round alike; a ratio is the
median of the rounds' own ratios to float32.

Run as a worker: python -m bench.quantization --worker CATALOG LABEL NEW_TOKENS (lines of JSON out;
one "round" line in -> one measured round).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.common import OFFLINE_ENV, ROOT, Settings, paired_ratio, say, summary
from bench.inputs import PROMPT

MB = 2**20
BASELINE = "float32"
# The large-model row: a memory budget well below the float32 weights' size, so most of the layers are
# left on disk and read back for every token.
OFFLOAD_BUDGET = "0.75GiB"


@dataclass(frozen=True)
class Variant:
    name: str
    entry: dict[str, Any]  # catalog fields besides id / label / task
    note: str


VARIANTS = (
    Variant(
        BASELINE,
        {"cpu_packed_linears": False},
        "as stored, plain `nn.Linear` (`cpu_packed_linears: false`); `dtype: auto` is float32 on this CPU",
    ),
    Variant("float32 packed", {}, "float32 as the app loads it on a CPU: linear layers packed for oneDNN"),
    Variant("bfloat16", {"dtype": "bfloat16", "cpu_dtype": "bfloat16"}, "plain half precision, for reference"),
    Variant("int8", {"quantization": "int8"}, "shipped `quantization: int8` (torchao int8 weight-only)"),
    Variant(
        "int8 + bfloat16",
        {"quantization": "int8", "cpu_dtype": "bfloat16"},
        "`quantization: int8` with `cpu_dtype: bfloat16`",
    ),
    Variant("int4", {"quantization": "int4"}, "shipped `quantization: int4` (torchao int4, CPU layout, bfloat16)"),
    Variant(
        "offloaded",
        {"device_map": "auto", "max_memory": {"cpu": OFFLOAD_BUDGET}},
        f"float32 with `device_map: auto` and `max_memory: {{cpu: {OFFLOAD_BUDGET}}}`: the rest on disk",
    ),
)


def write_catalog(models: Path, out: Path) -> Path:
    """The bench model once per variant (a distinct id each, so the catalog accepts them together)."""
    model = models / "llama-chat"
    entries = [
        {"id": f"{model}{'/' * (i + 1)}", "label": v.name, "task": "text-generation", **v.entry}
        for i, v in enumerate(VARIANTS)
    ]
    entries[0]["default"] = True
    catalog = {"defaults": {"device": "cpu", "max_loaded_models": 1}, "tabs": {"text_generation": {"models": entries}}}
    out.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return out


def _memory() -> dict[str, float]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            values[key] = int(value.split()[0]) * 1024 / MB
    return values


def worker(catalog_path: str, label: str, new_tokens: int) -> None:
    """Load one variant, generate once, report memory; then one measured round per "round" line."""
    import torch  # noqa: F401  (imported before the memory baseline, as the app has it)
    import transformers  # noqa: F401

    from playground.config.catalog import load_catalog
    from playground.loading.devices import release_memory
    from playground.loading.model_manager import ModelManager

    before_load = _memory()
    began = time.perf_counter()
    loaded = ModelManager(load_catalog(catalog_path)).get("text_generation", label)
    load_s = time.perf_counter() - began

    def generate(tokens: int) -> float:
        start = time.perf_counter()
        loaded.model(PROMPT, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        return time.perf_counter() - start

    generate(new_tokens)
    after = _memory()
    release_memory()  # what of it the allocator was only holding on to (freed per-call temporaries)
    trimmed = _memory()
    ready = {
        "load_s": load_s,
        "dtype": loaded.dtype,
        "device": loaded.device,
        "rss_before_load_mb": before_load["VmRSS"],
        "rss_after_generation_mb": after["VmRSS"],
        "anonymous_mb": after["RssAnon"],
        "file_mapped_mb": after["RssFile"],
        "peak_mb": after["VmHWM"],
        "rss_after_trim_mb": trimmed["VmRSS"],
    }
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        first = generate(1)
        print(json.dumps({"first_token_s": first, "generate_s": generate(new_tokens)}), flush=True)


class Worker:
    def __init__(self, catalog: Path, variant: Variant, new_tokens: int, log: Path):
        self.variant = variant
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.quantization", "--worker", str(catalog), variant.name, str(new_tokens)],
            cwd=ROOT,
            env={**os.environ, **OFFLINE_ENV},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def answer(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            tail = Path(self.log.name).read_text()[-3000:]
            raise RuntimeError(f"variant {self.variant.name} stopped (exit {self.process.returncode}):\n{tail}")
        return json.loads(line)

    def round(self) -> dict[str, Any]:
        self.process.stdin.write("round\n")
        self.process.stdin.flush()
        return self.answer()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def measure(models: Path, settings: Settings, work: Path) -> dict[str, Any]:
    new_tokens, rounds = settings.quantization_new_tokens, settings.quantization_rounds
    catalog = write_catalog(models, work / "quantization.yaml")
    workers: list[Worker] = []
    variants: dict[str, dict[str, Any]] = {}
    try:
        for variant in VARIANTS:  # loaded one after another: each load gets the CPU to itself
            say(f"quantization: loading {variant.name} …")
            worker_process = Worker(catalog, variant, new_tokens, work / f"quantization-{len(workers)}.log")
            try:
                variants[variant.name] = {"note": variant.note, **worker_process.answer()}
            except RuntimeError as failure:  # reported in its row; the other variants are still measured
                variants[variant.name] = {"note": variant.note, "error": str(failure).splitlines()[-1]}
                worker_process.stop()
                continue
            workers.append(worker_process)
        samples: dict[str, list[dict[str, float]]] = {w.variant.name: [] for w in workers}
        for number in range(rounds):
            say(f"quantization: round {number + 1}/{rounds} …")
            for worker_process in workers:
                samples[worker_process.variant.name].append(worker_process.round())
    finally:
        for worker_process in workers:
            worker_process.stop()
    base = samples[BASELINE]
    for name, runs in samples.items():
        tokens_per_s = [new_tokens / run["generate_s"] for run in runs]
        variants[name].update(
            tokens_per_s=summary(tokens_per_s)["median_s"],
            first_token=summary([run["first_token_s"] for run in runs]),
            tokens_per_s_ratio=paired_ratio(tokens_per_s, [new_tokens / run["generate_s"] for run in base]),
            first_token_ratio=paired_ratio([r["first_token_s"] for r in runs], [r["first_token_s"] for r in base]),
            memory_ratio=variants[name]["rss_after_generation_mb"] / variants[BASELINE]["rss_after_generation_mb"],
        )
    return {"new_tokens": new_tokens, "rounds": rounds, "offload_budget": OFFLOAD_BUDGET, "variants": variants}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
