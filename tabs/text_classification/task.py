"""Text classification: every label of a `text-classification` model with its score, for one text
or a text pair (NLI models, rerankers), with the score function the model was trained for.

`function_to_apply="auto"` lets the pipeline choose as the model's config says: sigmoid for
multi-label models and for single-score models (rerankers), softmax otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playground.core.texts import Texts

FUNCTIONS = ("auto", "softmax", "sigmoid", "none")
MAX_TEXT_CHARS = 10_000

TEXTS = Texts.load("text_classification.task", Path(__file__).with_name("locales"))


def check_text(text: str | None, key: str = "long_text", required: bool = True) -> str:
    """The text, stripped; refuses an empty one (when required) and one over the limit."""
    text = (text or "").strip()
    if required and not text:
        raise TEXTS.error("empty_text")
    if len(text) > MAX_TEXT_CHARS:
        raise TEXTS.error(key, length=len(text), limit=MAX_TEXT_CHARS)
    return text


def check_function(function_to_apply: str | None) -> str:
    function = (function_to_apply or "auto").strip().lower()
    if function not in FUNCTIONS:
        raise TEXTS.error("bad_function", choices=", ".join(FUNCTIONS), value=function_to_apply)
    return function


def model_function(config: Any) -> str:
    """The score function the pipeline applies by default for this model config."""
    if getattr(config, "problem_type", None) == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    if getattr(config, "problem_type", None) == "regression":
        return "none"
    return "softmax"


def pipeline_input(text: str, text_pair: str = "") -> str | dict[str, str]:
    """What the pipeline takes: the text, or {"text", "text_pair"} for a pair."""
    return {"text": text, "text_pair": text_pair} if text_pair else text


def call_options(function: str, top_k: int | None) -> dict[str, Any]:
    """The pipeline call's keyword arguments (top_k=None: every label)."""
    options: dict[str, Any] = {"top_k": top_k}
    if function != "auto":
        options["function_to_apply"] = function
    return options


def classify(
    pipe: Any,
    inputs: Sequence[str | dict[str, str]],
    function: str = "auto",
    top_k: int | None = None,
    batch_size: int = 8,
) -> list[list[dict[str, Any]]]:
    """Label scores (best first) for each input: a list of {"label", "score"} per input."""
    results = pipe(list(inputs), batch_size=batch_size, **call_options(function, top_k))
    # One input with top_k=1 comes back as a bare dict per input.
    return [[r] if isinstance(r, dict) else [dict(x) for x in r] for r in results]
