"""Keypoint matching task logic (`keypoint-matching`: SuperGlue, LightGlue): points found in two pictures
of the same scene and which point of one matches which of the other, drawn as lines, as a table, and
the "show code" snippet.

Pure functions over a loaded pipeline and decoded PIL pictures (no Gradio).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import Raw, pipeline_snippet
from playground.core.texts import Texts
from tabs.detect_segment.detection_task import PALETTE, check_threshold

TASK = "keypoint-matching"
# The pipeline's own default keeps every match the model makes; the model's confidence is shown per match.
DEFAULT_THRESHOLD = 0.0
MATCH_COLUMNS = ["x0", "y0", "x1", "y1", "score"]
# Lines drawn at most: beyond this a picture shows only a tangle (the table keeps them all).
MAX_DRAWN = 300

TEXTS = Texts.load("detect_segment.task", Path(__file__).with_name("locales"))


def check_pair(first: Any, second: Any) -> None:
    """Both pictures given, or a message that says which one is missing."""
    if not first:
        raise TEXTS.error("missing_first")
    if not second:
        raise TEXTS.error("missing_second")


def match(pipe: Any, first: Any, second: Any, threshold: float = DEFAULT_THRESHOLD) -> list[dict[str, Any]]:
    """Matches between two decoded pictures scoring at least `threshold`, best first: each a point in
    the first picture, its match in the second (pixels) and the model's score."""
    found = pipe([first, second], threshold=check_threshold(threshold))
    matches = [
        {
            "x0": int(m["keypoint_image_0"]["x"]),
            "y0": int(m["keypoint_image_0"]["y"]),
            "x1": int(m["keypoint_image_1"]["x"]),
            "y1": int(m["keypoint_image_1"]["y"]),
            "score": float(m["score"]),
        }
        for m in found
    ]
    return sorted(matches, key=lambda m: m["score"], reverse=True)


def match_rows(matches: list[dict[str, Any]]) -> list[list[Any]]:
    return [[m[column] for column in MATCH_COLUMNS] for m in matches]


def draw_matches(first: Any, second: Any, matches: list[dict[str, Any]]) -> Any:
    """The two pictures side by side (top-aligned) with a line from each point to its match."""
    from PIL import Image, ImageDraw

    width = first.width + second.width
    canvas = Image.new("RGB", (width, max(first.height, second.height)), "white")
    canvas.paste(first, (0, 0))
    canvas.paste(second, (first.width, 0))
    draw = ImageDraw.Draw(canvas)
    line = max(1, round(max(canvas.size) / 500))
    dot = line + 2
    for index, m in enumerate(matches[:MAX_DRAWN]):
        colour = PALETTE[index % len(PALETTE)]
        start, end = (m["x0"], m["y0"]), (m["x1"] + first.width, m["y1"])
        draw.line((start, end), fill=colour, width=line)
        for x, y in (start, end):
            draw.ellipse((x - dot, y - dot, x + dot, y + dot), outline=colour, width=line)
    return canvas


def snippet(model_id: str, load_kwargs: dict[str, Any], threshold: float) -> str:
    """The keypoint-matching pipeline loaded as the app loaded it, on two picture files."""
    return pipeline_snippet(
        TASK,
        model_id,
        [[Raw("first"), Raw("second")]],
        {"threshold": threshold},
        load_kwargs,
        imports=["from PIL import Image"],
        setup=[
            'first = Image.open("first.jpg").convert("RGB")',
            'second = Image.open("second.jpg").convert("RGB")',
        ],
    )
