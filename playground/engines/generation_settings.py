"""The settings a generation really runs with, and where each came from.

Models ship their own way of generating: Marian translation models beam-search with 4 beams, the
CNN BARTs add a length penalty and a minimum length, Qwen2.5-Instruct samples with top-p 0.8 and a
repetition penalty of 1.1, SmolLM2 decodes greedily. transformers keeps these in the model's
generation config (and older checkpoints in `task_specific_params` of config.json). Every generating
path of the app decides on the *effective* settings, layered as generate() itself layers them:

    the model's own  <  the catalog entry's `generate_kwargs`  <  the request's

so a request that leaves an option out (None) gets what the model ships, and the page can show
each setting with its source. Imports neither gradio nor torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts

# The settings people choose between, in the order they are shown.
SHOWN = (
    "do_sample",
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "num_beams",
    "max_new_tokens",
    "max_length",
    "min_new_tokens",
    "min_length",
    "length_penalty",
    "no_repeat_ngram_size",
    "early_stopping",
)
# What generate() does with a setting nobody set (transformers' GenerationConfig defaults, which
# transformers 5 stores as None).
LIBRARY_DEFAULTS: dict[str, Any] = {
    "do_sample": False,
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": 50,
    "repetition_penalty": 1.0,
    "num_beams": 1,
    "max_length": 20,
}
# Settings that only matter when sampling, and those that only matter with beams.
SAMPLING_ONLY = ("temperature", "top_p", "top_k")
BEAMS_ONLY = ("length_penalty", "early_stopping")

TEXTS = Texts.load("generation_settings", SHARED_LOCALES)


def read_shipped(source: str, revision: str | None = None) -> Any | None:
    """The model's generation config and config, read from a local folder or the Hub cache without
    loading the weights or going online (the page shows them before the model is loaded); None when
    neither is here yet. Returned as an object with `generation_config` and `config`, as a model has.
    Read as plain JSON: the page is built at start-up, which imports neither transformers nor torch."""
    import json
    from types import SimpleNamespace

    from playground.loading.hub import cached_snapshot

    folder = cached_snapshot(source, revision)
    if folder is None or not (folder / "config.json").is_file():
        return None
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    generation_file = folder / "generation_config.json"
    # Without a generation config, transformers takes the generation settings from config.json.
    generation = json.loads(generation_file.read_text(encoding="utf-8")) if generation_file.is_file() else config
    return SimpleNamespace(generation_config=SimpleNamespace(**generation), config=SimpleNamespace(**config))


def model_defaults(model: Any, task: str | None = None) -> dict[str, Any]:
    """What the model ships: its generation config's values that are set, then (for old checkpoints
    such as the CNN BARTs and T5) the `task_specific_params` of its config for `task`, prefix aside."""
    shipped: dict[str, Any] = {}
    generation_config = getattr(model, "generation_config", None)
    if generation_config is not None:
        for key in SHOWN:
            value = getattr(generation_config, key, None)
            if value is not None:
                shipped[key] = value
    params = getattr(getattr(model, "config", None), "task_specific_params", None) or {}
    if task:
        shipped.update({key: value for key, value in (params.get(task) or {}).items() if key != "prefix"})
    return shipped


@dataclass(frozen=True)
class EffectiveSettings:
    """The layered settings: `values` is what generate() runs with (the model's own config included),
    `sources` says where each came from ("model", "catalog" or "request"), and `options` is what must
    be passed to generate() on top of the model's own generation config."""

    values: dict[str, Any]
    sources: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        """The value generate() uses for `key` (transformers' default when nobody set it)."""
        return self.values.get(key, LIBRARY_DEFAULTS.get(key))

    @property
    def beams(self) -> int:
        return int(self.get("num_beams") or 1)

    @property
    def sampling(self) -> bool:
        return bool(self.get("do_sample"))

    def describe(self) -> dict[str, str]:
        """ "Settings used: …" in every language, each setting with its source; options that do
        nothing in this mode (temperature when greedy, length penalty with one beam) are left out."""

        def shown(key: str) -> bool:
            if key not in self.values:
                return False
            if key in SAMPLING_ONLY and not self.sampling:
                return False
            # A length in new tokens supersedes the same length counted with the prompt.
            if key == "max_length" and "max_new_tokens" in self.values:
                return False
            if key == "min_length" and "min_new_tokens" in self.values:
                return False
            return not (key in BEAMS_ONLY and self.beams == 1)

        keys = [key for key in SHOWN if shown(key)]
        rendered = {}
        for lang in TEXTS.table:
            parts = [f"{key}={self.values[key]!r} ({TEXTS.get(f'source_{self.sources[key]}', lang)})" for key in keys]
            rendered[lang] = TEXTS.get("settings", lang, settings=", ".join(parts))
        return rendered


def effective_settings(
    model: Any, catalog: Mapping[str, Any] | None, request: Mapping[str, Any], task: str | None = None
) -> EffectiveSettings:
    """The model's own settings (for `task`), then the catalog entry's, then the request's; a request
    value of None means "the model's own". Task-specific params are not in the generation config, so
    they travel in `options` with the catalog's and the request's."""
    layers = (
        ("model", model_defaults(model, task)),
        ("catalog", dict(catalog or {})),
        ("request", {key: value for key, value in request.items() if value is not None}),
    )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key, value in layer.items():
            values[key] = value
            sources[key] = source
    in_config = model_defaults(model)
    options = {
        key: value for key, value in values.items() if sources[key] != "model" or in_config.get(key, object()) != value
    }
    if not values.get("do_sample"):
        # Greedy: sampling options would do nothing (and make generate() warn).
        options = {key: value for key, value in options.items() if key not in SAMPLING_ONLY}
    # A length the request gives wins over a length the model ships in the other unit.
    if "max_new_tokens" in request and request["max_new_tokens"] is not None:
        options.pop("max_length", None)
    if "min_new_tokens" in request and request["min_new_tokens"] is not None:
        options.pop("min_length", None)
    return EffectiveSettings(values, sources, options)


def decoder_positions(model: Any) -> int | None:
    """How many positions the model's decoder reads (prompt and answer), when its config says: the
    text or decoder config's learned positions. None for models with no such limit."""
    config = getattr(model, "config", None)
    for part in ("decoder", "text_config"):
        sub = getattr(config, part, None)
        if sub is not None and getattr(sub, "max_position_embeddings", None):
            return int(sub.max_position_embeddings)
    if getattr(config, "is_encoder_decoder", False):
        return getattr(config, "max_position_embeddings", None)
    return None


def bounded_new_tokens(
    model: Any, model_label: str, asked: int, prompt_tokens: int
) -> tuple[int, dict[str, str] | None]:
    """`asked` new tokens, lowered to what the decoder's positions leave after the prompt; with the
    note that says so (None when nothing was lowered)."""
    positions = decoder_positions(model)
    if not positions or asked + prompt_tokens <= positions:
        return asked, None
    kept = max(1, positions - prompt_tokens)
    return kept, TEXTS.render(
        "bounded", asked=asked, kept=kept, model=model_label, positions=positions, prompt=prompt_tokens
    )
