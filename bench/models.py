"""The benchmark's models: random weights at the shipped defaults' sizes, written once and reused.

`scripts/make_test_models.py --size real` writes them (tiny ones for the smoke run). Two settings of
the written generation configs are fixed here so every variant does the same amount of work, since
random weights would otherwise decide it:
- Whisper decodes a fixed-length transcript (ASR_DECODE_TOKENS, 40-50 words of transcript in the
  full run; a few words in the smoke run, where the pipeline's default 5-beam search over 64 tokens
  would take most of its time) instead of running to its 448-token limit;
- the Llama model always produces exactly `new_tokens` tokens (min_new_tokens = max_new_tokens).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from bench.common import ROOT

BENCH_MODELS = ("whisper", "vit", "bert-mlm", "nli", "llama-chat")
ASR_DECODE_TOKENS = {"full": 64, "smoke": 8}
MEMORY_BUDGET_GB = {"full": 2.5, "smoke": 0.5}
ENGINE_SMOKE_MODEL = "llama-hd64"
# tab key, model folder, task: the bench catalog, one model per measured tab.
CATALOG = (
    ("speech_to_text", "whisper", "automatic-speech-recognition"),
    ("image_classification", "vit", "image-classification"),
    ("fill_mask", "bert-mlm", "fill-mask"),
    ("zero_shot", "nli", "zero-shot-classification"),
    ("text_generation", "llama-chat", "text-generation"),
)


def models_dir(mode: str) -> Path:
    return ROOT / ".cache" / ("bench-models" if mode == "full" else "bench-models-tiny")


def ensure_models(mode: str, new_tokens: int) -> Path:
    """Write the models if missing, pin their generation lengths, and write the bench catalog."""
    out = models_dir(mode)
    missing = [name for name in BENCH_MODELS if not (out / name / "config.json").exists()]
    if missing:
        size = "real" if mode == "full" else "tiny"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "make_test_models.py"),
                str(out),
                "--size",
                size,
                "--only",
                ",".join(missing),
            ],
            check=True,
            cwd=ROOT,
        )
    _update_json(out / "whisper" / "generation_config.json", max_length=ASR_DECODE_TOKENS[mode])
    _update_json(out / "llama-chat" / "generation_config.json", min_new_tokens=new_tokens, max_new_tokens=new_tokens)
    return write_catalog(out, MEMORY_BUDGET_GB[mode])


def ensure_engine_model(mode: str, new_tokens: int) -> Path:
    """The generation model the vLLM section serves and compares: the bench Llama in the full run; in
    the smoke run the tiny Llama with 64-dimensional heads (vLLM's CPU attention refuses the tiny bench
    Llama's 16), written if missing, its length pinned as ensure_models pins the bench Llama's."""
    if mode == "full":
        return models_dir(mode) / "llama-chat"
    out = models_dir(mode)
    if not (out / ENGINE_SMOKE_MODEL / "config.json").exists():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_test_models.py"), str(out), "--only", ENGINE_SMOKE_MODEL],
            check=True,
            cwd=ROOT,
        )
    _update_json(
        out / ENGINE_SMOKE_MODEL / "generation_config.json", min_new_tokens=new_tokens, max_new_tokens=new_tokens
    )
    return out / ENGINE_SMOKE_MODEL


def _update_json(path: Path, **values: object) -> None:
    data = json.loads(path.read_text())
    if any(data.get(key) != value for key, value in values.items()):
        path.write_text(json.dumps({**data, **values}, indent=2))


def write_catalog(out: Path, budget_gb: float) -> Path:
    catalog = {
        "defaults": {"device": "cpu", "max_loaded_models": 5, "memory_budget_gb": budget_gb},
        "tabs": {
            tab: {"models": [{"id": f"./{folder}", "label": f"{folder} (bench)", "task": task, "default": True}]}
            for tab, folder, task in CATALOG
        },
    }
    path = out / "bench.yaml"
    path.write_text("# Benchmark catalog written by bench/models.py.\n" + yaml.safe_dump(catalog, sort_keys=False))
    return path
