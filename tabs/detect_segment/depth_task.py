"""Depth estimation task logic (`depth-estimation`: Depth Anything, DPT): how far each pixel is, as a
coloured picture with a colour scale, and the "show code" snippet.

Pure functions over a loaded pipeline and decoded PIL pictures (no Gradio).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import Raw, pipeline_snippet
from playground.core.texts import Texts

TASK = "depth-estimation"
# Perceptually uniform and readable in grey: bright is near (see `depth_picture`).
COLOUR_MAP = "inferno"

TEXTS = Texts.load("detect_segment.task", Path(__file__).with_name("locales"))


def estimate(pipe: Any, image: Any) -> tuple[Any, Any, bool]:
    """The model's depth for every pixel of a decoded picture, at the picture's size (a float array),
    the pipeline's own grey picture of it, and whether the values are metric distances.

    Relative models (the usual Depth Anything and DPT checkpoints) predict inverse depth: larger is
    nearer, in no unit. Metric ones (`depth_estimation_type: metric`) predict metres: larger is farther.
    """
    import numpy as np

    result = pipe(image)
    depth = result["predicted_depth"].float().cpu().numpy()
    if depth.ndim == 3:
        depth = depth[0]
    metric = getattr(pipe.model.config, "depth_estimation_type", "relative") == "metric"
    return np.asarray(depth, dtype=np.float32), result["depth"], metric


def depth_picture(depth: Any, metric: bool) -> Any:
    """The depth as a colour picture the input's size, near bright and far dark, with a colour scale on
    its right: the top of the scale is the nearest value, the bottom the farthest, both written."""
    import numpy as np
    from matplotlib import colormaps
    from PIL import Image, ImageDraw, ImageFont

    low, high = float(depth.min()), float(depth.max())
    span = high - low or 1.0
    nearness = (depth - low) / span
    if metric:  # metres: small values are near
        nearness = 1.0 - nearness
    colour = colormaps[COLOUR_MAP]
    coloured = (colour(nearness)[..., :3] * 255).astype(np.uint8)
    height, width = depth.shape
    bar_width = max(12, width // 25)
    font = ImageFont.load_default(size=max(10, height // 30))
    near, far = (low, high) if metric else (high, low)
    labels = [f"{near:.3g}", f"{far:.3g}"]
    text_width = max(int(font.getlength(text)) for text in labels) + 8
    canvas = Image.new("RGB", (width + bar_width + text_width + 8, height), "white")
    canvas.paste(Image.fromarray(coloured), (0, 0))
    ramp = np.linspace(1.0, 0.0, height)[:, None].repeat(bar_width, axis=1)  # near (1) at the top
    canvas.paste(Image.fromarray((colour(ramp)[..., :3] * 255).astype(np.uint8)), (width + 4, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((width + bar_width + 8, 0), labels[0], fill="black", font=font)
    draw.text((width + bar_width + 8, height), labels[1], fill="black", font=font, anchor="ld")
    return canvas


def summary(depth: Any, metric: bool, lang: str) -> dict[str, Any]:
    """The numbers behind the picture: the range of the predicted values and what they mean (in `lang`)."""
    return {
        "kind": TEXTS.get("depth_metric" if metric else "depth_relative", lang),
        "min": float(depth.min()),
        "max": float(depth.max()),
        "height": int(depth.shape[0]),
        "width": int(depth.shape[1]),
    }


def snippet(model_id: str, load_kwargs: dict[str, Any]) -> str:
    """The depth-estimation pipeline loaded as the app loaded it, on a picture file."""
    return pipeline_snippet(
        TASK,
        model_id,
        [Raw("image")],
        {},
        load_kwargs,
        imports=["from PIL import Image"],
        setup=['image = Image.open("your_image.jpg").convert("RGB")'],
        show='depth = result["predicted_depth"]\nprint(depth.shape, float(depth.min()), float(depth.max()))\n'
        'result["depth"].save("depth.png")',
    )
