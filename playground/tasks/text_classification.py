"""Text classification: every label of a `text-classification` model with its score, for one text
or a text pair (NLI models, rerankers), with the score function the model was trained for.

`function_to_apply="auto"` lets the pipeline choose as the model's config says: sigmoid for
multi-label models and for single-score models (rerankers), softmax otherwise.
"""

from __future__ import annotations

from typing import Any, Sequence

from playground.core.texts import Texts

FUNCTIONS = ("auto", "softmax", "sigmoid", "none")
MAX_TEXT_CHARS = 10_000

STRINGS = {
    "en": {
        "empty_text": "Type a text to classify.",
        "long_text": "The text is too long ({length} characters); the limit is {limit}.",
        "long_pair": "The second text is too long ({length} characters); the limit is {limit}.",
        "bad_function": "function_to_apply must be one of {choices} (got {value!r}).",
        "top_k_range": "top_k must be a whole number from 1 to {high} (got {value}).",
    },
    "ko": {
        "empty_text": "분류할 텍스트를 입력하세요.",
        "long_text": "텍스트가 너무 깁니다 ({length}자). 한도는 {limit}자입니다.",
        "long_pair": "두 번째 텍스트가 너무 깁니다 ({length}자). 한도는 {limit}자입니다.",
        "bad_function": "function_to_apply는 {choices} 중 하나여야 합니다 (받은 값: {value!r}).",
        "top_k_range": "top_k는 1부터 {high}까지의 정수여야 합니다 (받은 값: {value}).",
    },
}
TEXTS = Texts("task_text_classification", STRINGS)


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


def classify(pipe: Any, inputs: Sequence[str | dict[str, str]], function: str = "auto", top_k: int | None = None,
             batch_size: int = 8) -> list[list[dict[str, Any]]]:
    """Label scores (best first) for each input: a list of {"label", "score"} per input."""
    results = pipe(list(inputs), batch_size=batch_size, **call_options(function, top_k))
    # One input with top_k=1 comes back as a bare dict per input.
    return [[r] if isinstance(r, dict) else [dict(x) for x in r] for r in results]
