"""Object detection task logic: boxes with labels and scores for a picture, from a detector with a fixed
set of classes (`object-detection`: DETR, YOLOS, RT-DETR) or for labels the user types
(`zero-shot-object-detection`: OWLv2, Grounding DINO); the boxes drawn on the picture, as a table, and
the "show code" snippets.

Pure functions over loaded pipelines and decoded PIL pictures (no Gradio).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playground.core.snippets import Raw, pipeline_snippet
from playground.core.texts import Texts

TASK = "object-detection"
ZERO_SHOT_TASK = "zero-shot-object-detection"
# The pipelines' own defaults: a detector's boxes below half certainty are noise; an open-vocabulary
# detector's scores are far lower for the same certainty.
DEFAULT_THRESHOLD = 0.5
ZERO_SHOT_THRESHOLD = 0.1
# The zero-shot pipeline runs the whole model once per label.
MAX_LABELS = 20
MAX_LABEL_CHARS = 100
BOX_COLUMNS = ["label", "score", "xmin", "ymin", "xmax", "ymax"]
# Distinct colours for up to ten labels (then they repeat): Matplotlib's "tab10".
PALETTE = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)

# Messages raised by the task logic (the page's strings are the same files' `detect_segment` section).
TEXTS = Texts.load("detect_segment.task", Path(__file__).with_name("locales"))


def check_threshold(value: Any) -> float:
    """A score threshold in [0, 1], or the tab's message."""
    try:
        threshold = float(value)
    except (TypeError, ValueError):
        raise TEXTS.error("bad_threshold") from None
    if not 0.0 <= threshold <= 1.0:  # also refuses NaN
        raise TEXTS.error("bad_threshold")
    return threshold


def parse_object_labels(labels: str | list[str] | None) -> list[str]:
    """The object names to look for, from a comma/newline separated string: blanks and repeats dropped."""
    parts = labels if isinstance(labels, list) else re.split(r"[,\n]", labels or "")
    cleaned = list(dict.fromkeys(part.strip() for part in parts if part and part.strip()))
    if not cleaned:
        raise TEXTS.error("no_labels")
    if len(cleaned) > MAX_LABELS:
        raise TEXTS.error("too_many_labels", count=len(cleaned), limit=MAX_LABELS)
    long = [label for label in cleaned if len(label) > MAX_LABEL_CHARS]
    if long:
        raise TEXTS.error("long_label", limit=MAX_LABEL_CHARS, label=long[0][:40] + "…")
    return cleaned


def _within(detections: list[dict[str, Any]], width: int, height: int) -> list[dict[str, Any]]:
    """Detections best first, boxes clipped to the picture (models may place an edge just outside it)."""
    clipped = []
    for found in sorted(detections, key=lambda d: d["score"], reverse=True):
        box = found["box"]
        clipped.append(
            {
                "label": str(found["label"]),
                "score": float(found["score"]),
                "box": {
                    "xmin": min(max(int(box["xmin"]), 0), width - 1),
                    "ymin": min(max(int(box["ymin"]), 0), height - 1),
                    "xmax": min(max(int(box["xmax"]), 0), width - 1),
                    "ymax": min(max(int(box["ymax"]), 0), height - 1),
                },
            }
        )
    return clipped


def detect(pipe: Any, image: Any, threshold: float = DEFAULT_THRESHOLD) -> list[dict[str, Any]]:
    """The objects an `object-detection` pipeline finds in a decoded picture, scoring above `threshold`."""
    return _within(pipe(image, threshold=check_threshold(threshold)), *image.size)


def detect_labels(
    pipe: Any, image: Any, labels: list[str], threshold: float = ZERO_SHOT_THRESHOLD
) -> list[dict[str, Any]]:
    """The boxes a `zero-shot-object-detection` pipeline finds for each of `labels`, above `threshold`."""
    return _within(pipe(image, candidate_labels=labels, threshold=check_threshold(threshold)), *image.size)


def box_rows(detections: list[dict[str, Any]]) -> list[list[Any]]:
    """The table of boxes (BOX_COLUMNS): one row per detection, corners in pixels."""
    return [[d["label"], d["score"], *(d["box"][k] for k in ("xmin", "ymin", "xmax", "ymax"))] for d in detections]


def label_colours(labels: list[str]) -> dict[str, tuple[int, int, int]]:
    """One colour per label, in order of first appearance."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(labels))}


def draw_boxes(image: Any, detections: list[dict[str, Any]]) -> Any:
    """A copy of the picture with each box outlined in its label's colour and captioned "label 0.93"."""
    from PIL import ImageDraw, ImageFont

    drawn = image.copy()
    draw = ImageDraw.Draw(drawn)
    # Lines and captions scale with the picture so they stay readable on large photos.
    width = max(2, round(max(image.size) / 300))
    font = ImageFont.load_default(size=max(12, round(max(image.size) / 50)))
    colours = label_colours([d["label"] for d in detections])
    # Worst first, so the best boxes and captions end up on top.
    for found in reversed(detections):
        box, colour = found["box"], colours[found["label"]]
        draw.rectangle((box["xmin"], box["ymin"], box["xmax"], box["ymax"]), outline=colour, width=width)
        caption = f"{found['label']} {found['score']:.2f}"
        left, top, right, bottom = draw.textbbox((box["xmin"], box["ymin"]), caption, font=font)
        # Above the box when there is room, else inside its top edge.
        shift = bottom - top + 2 * width if box["ymin"] >= bottom - top + 2 * width else 0
        draw.rectangle((left, top - shift, right + 2 * width, bottom - shift + width), fill=colour)
        draw.text((box["xmin"] + width, box["ymin"] - shift), caption, fill="white", font=font)
    return drawn


_PICTURE = ["from PIL import Image"], ['image = Image.open("your_image.jpg").convert("RGB")']


def snippet(model_id: str, load_kwargs: dict[str, Any], threshold: float) -> str:
    """The object-detection pipeline loaded as the app loaded it, on a picture file."""
    imports, setup = _PICTURE
    return pipeline_snippet(
        TASK, model_id, [Raw("image")], {"threshold": threshold}, load_kwargs, imports=imports, setup=setup
    )


def zero_shot_snippet(model_id: str, load_kwargs: dict[str, Any], labels: list[str], threshold: float) -> str:
    """The zero-shot object-detection pipeline loaded as the app loaded it, on a picture file."""
    imports, setup = _PICTURE
    return pipeline_snippet(
        ZERO_SHOT_TASK,
        model_id,
        [Raw("image")],
        {"candidate_labels": labels, "threshold": threshold},
        load_kwargs,
        imports=imports,
        setup=setup,
    )
