"""Image classification task logic: a decoded picture in, the model's top-k labels with scores out.

Pure functions over a loaded `image-classification` pipeline (no Gradio), one picture or several in
one batched forward pass, and the "show code" snippet that reproduces a call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.snippets import Raw, pipeline_snippet
from playground.core.texts import Texts

TASK = "image-classification"
MAX_TOP_K = 20

# Messages raised by the task logic (the page's strings are the same files' `image_classification` section).
TEXTS = Texts.load("image_classification.task", Path(__file__).with_name("locales"))


def check_top_k(top_k: Any) -> int:
    """`top_k` as a whole number in [1, MAX_TOP_K], or the tab's message."""
    return whole_number_in_range(top_k, 1, MAX_TOP_K, lambda: TEXTS.error("bad_top_k", limit=MAX_TOP_K))


def _labels(results: list[dict[str, Any]]) -> dict[str, float]:
    return {str(r["label"]): float(r["score"]) for r in results}


def classify(pipe: Any, image: Any, top_k: int = 5) -> dict[str, float]:
    """Label -> score for the `top_k` best classes of an already-decoded PIL image."""
    return _labels(pipe(image, top_k=check_top_k(top_k)))


def classify_many(pipe: Any, images: list[Any], top_k: int = 5) -> list[dict[str, float]]:
    """classify() for several decoded images in one batched forward pass."""
    results = pipe(images, top_k=check_top_k(top_k), batch_size=len(images))
    return [_labels(per_image) for per_image in results]


def snippet(model_id: str, load_kwargs: dict[str, Any], top_k: int) -> str:
    """The pipeline loaded as the app loaded it (`load_kwargs`: snippet_load_kwargs), on a picture file."""
    return pipeline_snippet(
        TASK,
        model_id,
        [Raw("image")],
        {"top_k": top_k},
        load_kwargs,
        imports=["from PIL import Image"],
        setup=['image = Image.open("your_image.jpg").convert("RGB")'],
    )
