"""Segmentation task logic: which pixels belong to what. Image segmentation (`image-segmentation`:
SegFormer semantic, Mask2Former semantic / instance / panoptic) and a mask from a point (SAM, the
`mask-generation` models prompted with one click).

Pure functions over loaded pipelines and decoded PIL pictures (no Gradio): masks as boolean arrays the
picture's size, the segments' areas, and the "show code" snippets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import Raw, format_call, pipeline_snippet
from playground.core.texts import Texts
from tabs.detect_segment.detection_task import check_threshold

TASK = "image-segmentation"
MASK_TASK = "mask-generation"
# The pipeline tries these in this order when no subtask is named ("auto").
SUBTASKS = ("panoptic", "instance", "semantic")
AUTO = "auto"
# The pipeline's own default: instance and panoptic segments below it are dropped (semantic ones
# have no score).
DEFAULT_THRESHOLD = 0.9
SEGMENT_COLUMNS = ["label", "score", "pixels", "area %"]

TEXTS = Texts.load("detect_segment.task", Path(__file__).with_name("locales"))


def supported_subtasks(pipe: Any) -> list[str]:
    """The subtasks the pipeline's image processor can post-process, in the order "auto" tries them."""
    return [name for name in SUBTASKS if hasattr(pipe.image_processor, f"post_process_{name}_segmentation")]


def check_subtask(pipe: Any, subtask: str | None, label: str) -> str | None:
    """The subtask to ask the pipeline for: None for "auto", else one the model supports (or the tab's message)."""
    subtask = (subtask or AUTO).strip().lower()
    if subtask == AUTO:
        return None
    supported = supported_subtasks(pipe)
    if subtask not in supported:
        raise TEXTS.error("bad_subtask", subtask=subtask, label=label, supported=", ".join([AUTO, *supported]))
    return subtask


def segment(pipe: Any, image: Any, subtask: str | None, threshold: float = DEFAULT_THRESHOLD) -> list[dict[str, Any]]:
    """The segments of a decoded picture: label, score (None for semantic segments) and a boolean mask
    the picture's size; a label found several times is numbered ("person", "person 2"); empty masks left out."""
    import numpy as np

    kwargs = {"threshold": check_threshold(threshold)}
    if subtask:
        kwargs["subtask"] = subtask
    segments, seen = [], {}
    for found in pipe(image, **kwargs):
        mask = np.asarray(found["mask"]) > 0
        if not mask.any():  # an instance whose mask fell below mask_threshold everywhere: nothing to show
            continue
        label = str(found["label"])
        seen[label] = seen.get(label, 0) + 1
        score = found.get("score")
        segments.append(
            {
                "label": label if seen[label] == 1 else f"{label} {seen[label]}",
                "score": None if score is None else float(score),
                "mask": mask,
            }
        )
    return segments


def segment_rows(segments: list[dict[str, Any]]) -> list[list[Any]]:
    """The table of segments (SEGMENT_COLUMNS): pixels covered and their share of the picture, largest first."""
    rows = []
    for found in segments:
        pixels = int(found["mask"].sum())
        share = round(100 * pixels / found["mask"].size, 2)
        rows.append([found["label"], found["score"], pixels, share])
    return sorted(rows, key=lambda row: row[2], reverse=True)


def annotations(segments: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    """The (mask, label) pairs a gr.AnnotatedImage draws as coloured layers with a legend."""
    return [(found["mask"].astype("float32"), found["label"]) for found in segments]


def snippet(model_id: str, load_kwargs: dict[str, Any], subtask: str | None, threshold: float) -> str:
    """The image-segmentation pipeline loaded as the app loaded it, on a picture file."""
    return pipeline_snippet(
        TASK,
        model_id,
        [Raw("image")],
        {"subtask": subtask, "threshold": threshold},
        load_kwargs,
        imports=["from PIL import Image"],
        setup=['image = Image.open("your_image.jpg").convert("RGB")'],
        show='for segment in result:\n    print(segment["label"], segment["score"], segment["mask"].size)',
    )


# ---- a mask from a point (SAM) --------------------------------------------------------------------


def check_point(x: Any, y: Any, image: Any) -> tuple[int, int]:
    """The clicked point in pixels; the picture's centre when none is given; refused outside the picture."""
    width, height = image.size
    point = []
    for value, size in ((x, width), (y, height)):
        if value is None or value == "":
            point.append(size // 2)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TEXTS.error("bad_point", width=width, height=height) from None
        if not 0 <= number < size:  # also refuses NaN
            raise TEXTS.error("bad_point", width=width, height=height)
        point.append(int(number))
    return point[0], point[1]


def mask_at_point(pipe: Any, image: Any, point: tuple[int, int]) -> tuple[Any, float]:
    """SAM's best mask for the object under `point`: a boolean array the picture's size and the model's
    own estimate of the mask's quality (predicted IoU).

    The `mask-generation` pipeline segments everything on a grid of points (and needs torchvision for it);
    one clicked point goes to the model and its processor directly, as SAM's model card shows.
    """
    import torch
    from transformers import SamProcessor

    processor = SamProcessor(image_processor=pipe.image_processor)
    inputs = processor(image, input_points=[[list(point)]], return_tensors="pt").to(pipe.model.device)
    inputs["pixel_values"] = inputs["pixel_values"].to(pipe.model.dtype)
    with torch.no_grad():
        # Three candidate masks (whole, part, sub-part of what is under the point): keep the best scored.
        outputs = pipe.model(**inputs, multimask_output=True)
    masks = processor.image_processor.post_process_masks(
        outputs.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu()
    )[0][0]
    scores = outputs.iou_scores[0, 0].float().cpu()
    best = int(scores.argmax())
    return masks[best].numpy().astype(bool), float(scores[best])


def mask_snippet(model_id: str, from_pretrained: dict[str, Any], device: str | None, point: tuple[int, int]) -> str:
    """SAM loaded as the app loaded it (`from_pretrained_kwargs`), prompted with the same point."""
    model = format_call("SamModel.from_pretrained", [model_id], from_pretrained)
    lines = [
        "import torch",
        "from PIL import Image",
        "from transformers import SamModel, SamProcessor",
        "",
        f"model = {model}" + (f".to({device!r})" if device else ""),
        f"processor = SamProcessor.from_pretrained({model_id!r})",
        'image = Image.open("your_image.jpg").convert("RGB")',
        "",
        f"inputs = processor(image, input_points=[[{list(point)!r}]], return_tensors='pt').to(model.device)",
        'inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)  # half precision on a GPU',
        "with torch.no_grad():",
        "    outputs = model(**inputs, multimask_output=True)",
        "masks = processor.image_processor.post_process_masks(",
        '    outputs.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu()',
        ")[0][0]",
        "scores = outputs.iou_scores[0, 0]",
        "best = int(scores.argmax())",
        "print(masks[best].shape, float(scores[best]), int(masks[best].sum()))",
    ]
    return "\n".join(lines) + "\n"
