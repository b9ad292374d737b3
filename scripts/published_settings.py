"""The generation settings that real checkpoints ship, copied onto their random-weight stand-ins.

A stand-in has random weights but must generate the way its real checkpoint does: transformers reads
these settings from the checkpoint's `generation_config.json` (or, for checkpoints older than that
file, from `config.json`) and `task_specific_params` in `config.json`, and every generating path of
the app has to honour them (a Marian model that beam-searches cannot be streamed token by token).
Each entry says where its values were read. Token ids are the stand-in's own: "pad" stands for its
padding token (Marian bans it as a word).

Used by tabs/translation/test_models.py (the test catalog's Marian model) and
tests/test_shipped_catalogs.py (every shipped entry's stand-in).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CNN_SUMMARY = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 142,
    "min_length": 56,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
}


@dataclass(frozen=True)
class Published:
    read_from: str
    # Values for generation_config.json ("pad" in bad_words_ids: the stand-in's padding token).
    generation: dict[str, Any] = field(default_factory=dict)
    # config.json's task_specific_params (older checkpoints keep their per-task settings there).
    task_specific_params: dict[str, dict[str, Any]] = field(default_factory=dict)


PUBLISHED: dict[str, Published] = {
    "Helsinki-NLP/opus-mt-fr-en": Published(
        "generation_config.json: num_beams 4, max_length 512, bad_words_ids [[pad]], renormalize_logits",
        {"num_beams": 4, "max_length": 512, "bad_words_ids": [["pad"]], "renormalize_logits": True},
    ),
    "Helsinki-NLP/opus-mt-ko-en": Published(
        "generation_config.json: num_beams 4, max_length 512, bad_words_ids [[pad]], renormalize_logits",
        {"num_beams": 4, "max_length": 512, "bad_words_ids": [["pad"]], "renormalize_logits": True},
    ),
    "facebook/bart-large-cnn": Published(
        "generation_config.json and config.json task_specific_params.summarization (the CNN settings)",
        CNN_SUMMARY,
        {"summarization": CNN_SUMMARY},
    ),
    "sshleifer/distilbart-cnn-12-6": Published(
        "config.json (no generation_config.json) and its task_specific_params.summarization",
        CNN_SUMMARY,
        {"summarization": CNN_SUMMARY},
    ),
    "google/flan-t5-small": Published(
        "config.json task_specific_params (generation_config.json holds token ids only)",
        {},
        {
            "summarization": {
                "early_stopping": True,
                "length_penalty": 2.0,
                "max_length": 200,
                "min_length": 30,
                "no_repeat_ngram_size": 3,
                "num_beams": 4,
                "prefix": "summarize: ",
            },
            "translation_en_to_de": {
                "early_stopping": True,
                "max_length": 300,
                "num_beams": 4,
                "prefix": "translate English to German: ",
            },
            "translation_en_to_fr": {
                "early_stopping": True,
                "max_length": 300,
                "num_beams": 4,
                "prefix": "translate English to French: ",
            },
        },
    ),
    "facebook/nllb-200-distilled-600M": Published("generation_config.json: max_length 200", {"max_length": 200}),
    "Qwen/Qwen2.5-0.5B-Instruct": Published(
        "generation_config.json: sampling with temperature 0.7, top_p 0.8, top_k 20, repetition_penalty 1.1",
        {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.1},
    ),
    "meta-llama/Llama-3.1-8B-Instruct": Published(
        "generation_config.json: sampling with temperature 0.6, top_p 0.9",
        {"do_sample": True, "temperature": 0.6, "top_p": 0.9},
    ),
    "HuggingFaceTB/SmolLM2-360M": Published("generation_config.json: token ids only (greedy decoding)"),
    # transformers 5's text-generation pipeline no longer applies task_specific_params (nor does the
    # app, so its snippet and the app agree): GPT-2 decodes greedily unless asked to sample.
    "openai-community/gpt2": Published(
        "generation_config.json: token ids only; config.json task_specific_params",
        {},
        {"text-generation": {"do_sample": True, "max_length": 50}},
    ),
    "HuggingFaceTB/SmolVLM-256M-Instruct": Published("generation_config.json: token ids only (greedy decoding)"),
    # The stand-in (tabs/text_to_speech/test_models.py) is built with these values already.
    "facebook/musicgen-small": Published(
        "generation_config.json: sampling with guidance_scale 3.0, max_length 1500 (30 s of codes at 50 a second)",
        {"do_sample": True, "guidance_scale": 3.0, "max_length": 1500},
    ),
    "HuggingFaceTB/SmolVLM-500M-Instruct": Published("generation_config.json: token ids only (greedy decoding)"),
    # The stand-in's decoder has the same 128 positions (scripts/make_test_models.py build_donut).
    "naver-clova-ix/donut-base-finetuned-docvqa": Published(
        "config.json: max_length 128, also its decoder's max_position_embeddings", {"max_length": 128}
    ),
}


def _replace(path: Path, data: dict[str, Any]) -> None:
    """Write a new file in place of `path` (which may be a hard link shared with another folder)."""
    if path.exists():
        os.unlink(path)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def apply_published(folder: Path, hub_id: str) -> bool:
    """Give the stand-in in `folder` the settings `hub_id` ships; False when the table has none."""
    published = PUBLISHED.get(hub_id)
    if published is None:
        return False
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    if published.generation:
        generation_path = folder / "generation_config.json"
        generation = json.loads(generation_path.read_text()) if generation_path.exists() else {}
        pad = generation.get("pad_token_id", config.get("pad_token_id"))
        values = dict(published.generation)
        if "bad_words_ids" in values:
            values["bad_words_ids"] = [
                [pad if token == "pad" else token for token in word] for word in values["bad_words_ids"]
            ]
        # The stand-in's own length cap gives way to the checkpoint's lengths.
        generation.pop("max_new_tokens", None)
        _replace(generation_path, {**generation, **values})
    if published.task_specific_params:
        _replace(config_path, {**config, "task_specific_params": published.task_specific_params})
    return True
