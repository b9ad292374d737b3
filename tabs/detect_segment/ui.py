"""The detect-and-segment tab: what is where in a picture, one sub-tab per pipeline task.

Endpoints (each takes the picture first, the model as `model`, every other input with the page's default):
- `/detect_objects(image, model, threshold)` -> the picture with boxes, the boxes (label, score,
  pixels), code.
- `/detect_objects_zero_shot(image, labels, model, threshold)` -> the same for the labels typed.
- `/segment_image(image, model, subtask, threshold)` -> the picture with coloured masks and a legend
  (gr.AnnotatedImage), the segments (label, score, pixels, area %), code.
- `/estimate_depth(image, model)` -> the depth as a colour picture with its scale, the pipeline's grey
  depth picture (the input's size), the range of values and what they mean, code.
- `/generate_mask(image, x, y, model)` -> the picture with SAM's mask for the object under the point
  (the centre when no point is given), the mask's predicted quality, code. On the page, a click on
  the picture picks the point and runs.
- `/match_keypoints(first, second, model, threshold)` -> both pictures with the matches drawn as
  lines, the matches (x0, y0 in the first picture, x1, y1 in the second, score), code.

A sub-tab is shown when the catalog has a model for its task. The task logic is in the `*_task`
modules beside this one; this module holds the handlers and the page (strings: `locales/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import from_pretrained_kwargs, snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media.images import EXAMPLES_DIR, open_image
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, image_input, model_picker
from tabs.detect_segment import depth_task as depth
from tabs.detect_segment import detection_task as detection
from tabs.detect_segment import matching_task as matching
from tabs.detect_segment import segmentation_task as segmentation

TEXTS = Texts.load("detect_segment", Path(__file__).with_name("locales"))

# Example inputs (CC0, see assets/examples/LICENSE.md): the picture, then the sub-tab's text input if any.
PICTURES = ["house.png", "red_circle.png", "yellow_triangle.png"]
ZERO_SHOT_EXAMPLES = [("house.png", "house, door, window, roof"), ("red_circle.png", "circle, square")]
# A point on the house's wall and one on the circle, in pixels.
MASK_EXAMPLES = [("house.png", 112, 150), ("red_circle.png", 112, 112)]
MATCH_EXAMPLES = [("house.png", "pairs/house_turned.png")]


def _table(rows: list[list[Any]], columns: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def detect_objects(
    ctx: TabContext,
    image: str | None,
    model: str | None = None,
    threshold: float = detection.DEFAULT_THRESHOLD,
    progress: Any = None,
) -> tuple[Any, Any, str]:
    """Find the objects in a picture: boxes with a label and a score, from a detector trained on fixed classes.

    Args:
        image: The picture (PNG, JPEG, WebP, GIF, TIFF or BMP).
        model: An object detection model of the catalog, by id or label (default: the sub-tab's default).
        threshold: Keep the boxes that score at least this (0 to 1).

    Returns:
        The picture with the boxes drawn, the boxes (label, score, xmin, ymin, xmax, ymax in pixels), and
        Python code that does the same.
    """
    picture = open_image(image)  # decode first: a bad file should not wait for a model download
    threshold = detection.check_threshold(threshold)
    loaded = ctx.load(model, detection.TASK, progress)
    found = detection.detect(loaded.model, picture, threshold)
    return (
        detection.draw_boxes(picture, found),
        _table(detection.box_rows(found), detection.BOX_COLUMNS),
        detection.snippet(loaded.entry.id, snippet_load_kwargs(loaded), threshold),
    )


def detect_objects_zero_shot(
    ctx: TabContext,
    image: str | None,
    labels: str,
    model: str | None = None,
    threshold: float = detection.ZERO_SHOT_THRESHOLD,
    progress: Any = None,
) -> tuple[Any, Any, str]:
    """Find the objects you name in a picture: boxes for each label typed, from an open-vocabulary detector.

    Args:
        image: The picture (PNG, JPEG, WebP, GIF, TIFF or BMP).
        labels: The objects to look for, comma-separated (at most 20), e.g. "cat, remote control".
        model: A zero-shot object detection model of the catalog, by id or label (default: the sub-tab's default).
        threshold: Keep the boxes that score at least this (0 to 1).

    Returns:
        The picture with the boxes drawn, the boxes (label, score, xmin, ymin, xmax, ymax in pixels), and
        Python code that does the same.
    """
    picture = open_image(image)
    names = detection.parse_object_labels(labels)
    threshold = detection.check_threshold(threshold)
    loaded = ctx.load(model, detection.ZERO_SHOT_TASK, progress)
    found = detection.detect_labels(loaded.model, picture, names, threshold)
    return (
        detection.draw_boxes(picture, found),
        _table(detection.box_rows(found), detection.BOX_COLUMNS),
        detection.zero_shot_snippet(loaded.entry.id, snippet_load_kwargs(loaded), names, threshold),
    )


def segment_image(
    ctx: TabContext,
    image: str | None,
    model: str | None = None,
    subtask: str = segmentation.AUTO,
    threshold: float = segmentation.DEFAULT_THRESHOLD,
    progress: Any = None,
) -> tuple[tuple[Any, list[tuple[Any, str]]], Any, str]:
    """Split a picture into labelled regions: coloured masks with a legend and the share of the picture each covers.

    Args:
        image: The picture (PNG, JPEG, WebP, GIF, TIFF or BMP).
        model: An image segmentation model of the catalog, by id or label (default: the sub-tab's default).
        subtask: "auto" (the model's first of panoptic, instance, semantic), or one of those the model supports.
        threshold: Keep the instance and panoptic segments that score at least this (0 to 1); semantic
            segments have no score.

    Returns:
        The picture with its masks (one layer per segment, with its label), the segments (label, score,
        pixels, area %), and Python code that does the same.
    """
    picture = open_image(image)
    threshold = detection.check_threshold(threshold)
    loaded = ctx.load(model, segmentation.TASK, progress)
    chosen = segmentation.check_subtask(loaded.model, subtask, loaded.entry.label)
    segments = segmentation.segment(loaded.model, picture, chosen, threshold)
    return (
        (picture, segmentation.annotations(segments)),
        _table(segmentation.segment_rows(segments), segmentation.SEGMENT_COLUMNS),
        segmentation.snippet(loaded.entry.id, snippet_load_kwargs(loaded), chosen, threshold),
    )


def estimate_depth(
    ctx: TabContext, image: str | None, model: str | None = None, progress: Any = None, request: Any = None
) -> tuple[Any, Any, dict[str, Any], str]:
    """Estimate how far away each pixel of a picture is: the depth map, coloured, with its colour scale.

    Args:
        image: The picture (PNG, JPEG, WebP, GIF, TIFF or BMP).
        model: A depth estimation model of the catalog, by id or label (default: the sub-tab's default).

    Returns:
        The depth as a colour picture (near bright, far dark) with its scale on the right, the pipeline's
        grey depth picture at the input's size, the range of the predicted values and what they mean,
        and Python code that does the same.
    """
    picture = open_image(image)
    loaded = ctx.load(model, depth.TASK, progress)
    values, grey, metric = depth.estimate(loaded.model, picture)
    return (
        depth.depth_picture(values, metric),
        grey,
        depth.summary(values, metric, request_language(request)),
        depth.snippet(loaded.entry.id, snippet_load_kwargs(loaded)),
    )


def generate_mask(
    ctx: TabContext,
    image: str | None,
    x: float | None = None,
    y: float | None = None,
    model: str | None = None,
    progress: Any = None,
) -> tuple[tuple[Any, list[tuple[Any, str]]], float, str]:
    """Cut out the object under a point of a picture: SAM's mask for it and how good the model thinks it is.

    Args:
        image: The picture (PNG, JPEG, WebP, GIF, TIFF or BMP).
        x: The point's distance from the left edge, in pixels (default: the picture's centre).
        y: The point's distance from the top edge, in pixels (default: the picture's centre).
        model: A mask generation (SAM) model of the catalog, by id or label (default: the sub-tab's default).

    Returns:
        The picture with the mask (labelled with the point), the model's predicted IoU of the mask (0 to 1),
        and Python code that does the same.
    """
    picture = open_image(image)
    point = segmentation.check_point(x, y, picture)
    loaded = ctx.load(model, segmentation.MASK_TASK, progress)
    mask, score = segmentation.mask_at_point(loaded.model, picture, point)
    kwargs, device = from_pretrained_kwargs(loaded)
    return (
        (picture, [(mask.astype("float32"), f"({point[0]}, {point[1]})")]),
        score,
        segmentation.mask_snippet(loaded.entry.id, kwargs, device, point),
    )


def match_keypoints(
    ctx: TabContext,
    first: str | None,
    second: str | None,
    model: str | None = None,
    threshold: float = matching.DEFAULT_THRESHOLD,
    progress: Any = None,
) -> tuple[Any, Any, str]:
    """Find the same points in two pictures of a scene: the matches drawn as lines between the pictures.

    Args:
        first: The first picture (PNG, JPEG, WebP, GIF, TIFF or BMP).
        second: The second picture, the same scene seen differently.
        model: A keypoint matching model of the catalog, by id or label (default: the sub-tab's default).
        threshold: Keep the matches that score at least this (0 to 1).

    Returns:
        Both pictures side by side with the matches drawn, the matches (x0, y0 in the first picture, x1, y1
        in the second, in pixels, and the score), and Python code that does the same.
    """
    matching.check_pair(first, second)
    pictures = [open_image(first), open_image(second)]
    threshold = detection.check_threshold(threshold)
    loaded = ctx.load(model, matching.TASK, progress)
    found = matching.match(loaded.model, *pictures, threshold)
    return (
        matching.draw_matches(*pictures, found),
        _table(matching.match_rows(found), matching.MATCH_COLUMNS),
        matching.snippet(loaded.entry.id, snippet_load_kwargs(loaded), threshold),
    )


def clicked_point(evt: Any) -> tuple[int, int]:
    """The pixel a click on the picture landed on, (x, y): the point that prompts SAM."""
    return evt.index[0], evt.index[1]


# ---- the page ----


def _examples(
    rows: list[list[Any]], inputs: list[Any], outputs: list[Any], handler: Any, label: str, files: int = 1
) -> None:
    """Clickable examples that fill the first `files` inputs with example pictures (and the next ones with
    the row's values) and run at once; the other inputs stay as the user set them."""
    import gradio as gr

    found = [
        [*(str(EXAMPLES_DIR / name) for name in row[:files]), *row[files:]]
        for row in rows
        if all((EXAMPLES_DIR / name).is_file() for name in row[:files])
    ]
    if found:
        shown = gr.Examples(
            [[*row, *[None] * (len(inputs) - len(row))] for row in found],
            inputs=inputs,
            outputs=outputs,
            fn=handler,
            run_on_click=True,
            cache_examples=False,
            label=TEXTS.ui(label),
        )
        # The table's column headers would be the inputs' labels, which Gradio does not translate there.
        shown.dataset.headers = []


def _boxes_outputs() -> tuple[Any, Any]:
    import gradio as gr

    picture = gr.Image(label=TEXTS.ui("boxes_image"), type="pil", format="png", interactive=False)
    boxes = gr.Dataframe(label=TEXTS.ui("boxes_table"), interactive=False)
    return picture, boxes


def detection_tab(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tab(TEXTS.ui("detect_tab"), id="object-detection"):
        with gr.Row():
            with gr.Column():
                image = image_input(TEXTS.ui("image"))
                model = model_picker(ctx, detection.TASK)
                threshold = gr.Slider(0, 1, value=detection.DEFAULT_THRESHOLD, step=0.05, label=TEXTS.ui("threshold"))
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                picture, boxes = _boxes_outputs()
        code = code_panel()
        inputs, outputs = [image, model, threshold], [picture, boxes, code]
        handler = guarded(
            bind(detect_objects, ctx, model=ctx.default_model(detection.TASK), progress=gr.Progress()), gpu=True
        )
        # Before the examples: the first event of a handler takes its name.
        run.click(handler, inputs, outputs, api_name="detect_objects")
        _examples([[name] for name in PICTURES], inputs, outputs, handler, "detect_examples")


def zero_shot_tab(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tab(TEXTS.ui("zero_shot_tab"), id="zero-shot-object-detection"):
        with gr.Row():
            with gr.Column():
                image = image_input(TEXTS.ui("image"))
                labels = gr.Textbox(label=TEXTS.ui("object_labels"))
                model = model_picker(ctx, detection.ZERO_SHOT_TASK)
                threshold = gr.Slider(0, 1, value=detection.ZERO_SHOT_THRESHOLD, step=0.01, label=TEXTS.ui("threshold"))
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                picture, boxes = _boxes_outputs()
        code = code_panel()
        inputs, outputs = [image, labels, model, threshold], [picture, boxes, code]
        handler = guarded(
            bind(
                detect_objects_zero_shot,
                ctx,
                model=ctx.default_model(detection.ZERO_SHOT_TASK),
                progress=gr.Progress(),
            ),
            gpu=True,
        )
        run.click(handler, inputs, outputs, api_name="detect_objects_zero_shot")
        _examples([list(row) for row in ZERO_SHOT_EXAMPLES], inputs, outputs, handler, "zero_shot_examples")


def segmentation_tab(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tab(TEXTS.ui("segment_tab"), id="image-segmentation"):
        with gr.Row():
            with gr.Column():
                image = image_input(TEXTS.ui("image"))
                model = model_picker(ctx, segmentation.TASK)
                subtask = gr.Radio(
                    [(TEXTS.ui(f"subtask_{name}"), name) for name in (segmentation.AUTO, *segmentation.SUBTASKS)],
                    value=segmentation.AUTO,
                    label=TEXTS.ui("subtask"),
                )
                threshold = gr.Slider(
                    0, 1, value=segmentation.DEFAULT_THRESHOLD, step=0.05, label=TEXTS.ui("segment_threshold")
                )
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                segments = gr.AnnotatedImage(label=TEXTS.ui("segments_image"))
                table = gr.Dataframe(label=TEXTS.ui("segments_table"), interactive=False)
        code = code_panel()
        inputs, outputs = [image, model, subtask, threshold], [segments, table, code]
        handler = guarded(
            bind(segment_image, ctx, model=ctx.default_model(segmentation.TASK), progress=gr.Progress()), gpu=True
        )
        run.click(handler, inputs, outputs, api_name="segment_image")
        _examples([[name] for name in PICTURES], inputs, outputs, handler, "detect_examples")


def depth_tab(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tab(TEXTS.ui("depth_tab"), id="depth-estimation"):
        with gr.Row():
            with gr.Column():
                image = image_input(TEXTS.ui("image"))
                model = model_picker(ctx, depth.TASK)
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                coloured = gr.Image(label=TEXTS.ui("depth_image"), type="pil", format="png", interactive=False)
                gr.Markdown(TEXTS.ui("depth_scale"))
        with gr.Accordion(TEXTS.ui("depth_details"), open=False):
            with gr.Row():
                grey = gr.Image(label=TEXTS.ui("depth_grey"), type="pil", format="png", interactive=False)
                numbers = gr.JSON(label=TEXTS.ui("depth_numbers"))
        code = code_panel()
        inputs, outputs = [image, model], [coloured, grey, numbers, code]
        handler = guarded(
            bind(estimate_depth, ctx, model=ctx.default_model(depth.TASK), progress=gr.Progress()), gpu=True
        )
        run.click(handler, inputs, outputs, api_name="estimate_depth")
        _examples([[name] for name in PICTURES], inputs, outputs, handler, "detect_examples")


def mask_tab(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tab(TEXTS.ui("mask_tab"), id="mask-generation"):
        gr.Markdown(TEXTS.ui("mask_help"))
        with gr.Row():
            with gr.Column():
                image = image_input(TEXTS.ui("image"))
                with gr.Row():
                    x = gr.Number(label=TEXTS.ui("point_x"), precision=0, minimum=0)
                    y = gr.Number(label=TEXTS.ui("point_y"), precision=0, minimum=0)
                model = model_picker(ctx, segmentation.MASK_TASK)
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                masked = gr.AnnotatedImage(label=TEXTS.ui("mask_image"))
                score = gr.Number(label=TEXTS.ui("mask_score"), interactive=False)
        code = code_panel()
        inputs, outputs = [image, x, y, model], [masked, score, code]
        handler = guarded(
            bind(generate_mask, ctx, model=ctx.default_model(segmentation.MASK_TASK), progress=gr.Progress()),
            gpu=True,
        )
        run.click(handler, inputs, outputs, api_name="generate_mask")

        # Gradio hands the click's data to a parameter whose resolved type is gr.SelectData: the class
        # itself, since this module's annotations are strings and gradio is imported on first use.
        clicked_point.__annotations__["evt"] = gr.SelectData
        # A click on the picture is the prompt: its pixel becomes the point, and SAM runs.
        image.select(clicked_point, None, [x, y], api_visibility="private").then(
            handler, inputs, outputs, api_visibility="private"
        )
        _examples([list(row) for row in MASK_EXAMPLES], inputs, outputs, handler, "mask_examples")


def matching_tab(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tab(TEXTS.ui("match_tab"), id="keypoint-matching"):
        with gr.Row():
            first = image_input(TEXTS.ui("first_image"))
            second = image_input(TEXTS.ui("second_image"))
        with gr.Row():
            model = model_picker(ctx, matching.TASK)
            threshold = gr.Slider(0, 1, value=matching.DEFAULT_THRESHOLD, step=0.05, label=TEXTS.ui("match_threshold"))
        run = gr.Button(COMMON.ui("run"), variant="primary")
        drawn = gr.Image(label=TEXTS.ui("matches_image"), type="pil", format="png", interactive=False)
        table = gr.Dataframe(label=TEXTS.ui("matches_table"), interactive=False)
        code = code_panel()
        inputs, outputs = [first, second, model, threshold], [drawn, table, code]
        handler = guarded(
            bind(match_keypoints, ctx, model=ctx.default_model(matching.TASK), progress=gr.Progress()), gpu=True
        )
        run.click(handler, inputs, outputs, api_name="match_keypoints")
        _examples([list(row) for row in MATCH_EXAMPLES], inputs, outputs, handler, "match_examples", files=2)


# One sub-tab per task, in the registry's order of tasks.
SUB_TABS = {
    detection.TASK: detection_tab,
    detection.ZERO_SHOT_TASK: zero_shot_tab,
    segmentation.TASK: segmentation_tab,
    depth.TASK: depth_tab,
    segmentation.MASK_TASK: mask_tab,
    matching.TASK: matching_tab,
}


def build(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tabs():
        for task in ctx.tasks:
            if task in SUB_TABS and ctx.models(task):
                SUB_TABS[task](ctx)
    about_panel(TEXTS)
