"""The detect-and-segment tab: what is where in a picture, one sub-tab per pipeline task.

Endpoints (each takes the picture first, the model as `model`, every other input with the page's default):
- `/detect_objects(image, model, threshold)` -> the picture with boxes, the boxes (label, score,
  pixels), code.
- `/detect_objects_zero_shot(image, labels, model, threshold)` -> the same for the labels typed.

A sub-tab is shown when the catalog has a model for its task. The task logic is in the `*_task`
modules beside this one; this module holds the handlers and the page (strings: `locales/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts
from playground.media.images import EXAMPLES_DIR, open_image
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, image_input, model_picker
from tabs.detect_segment import detection_task as detection

TEXTS = Texts.load("detect_segment", Path(__file__).with_name("locales"))

# Example inputs (CC0, see assets/examples/LICENSE.md): the picture, then the sub-tab's text input if any.
PICTURES = ["house.png", "red_circle.png", "yellow_triangle.png"]
ZERO_SHOT_EXAMPLES = [("house.png", "house, door, window, roof"), ("red_circle.png", "circle, square")]


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


# ---- the page ----


def _examples(rows: list[list[Any]], inputs: list[Any], outputs: list[Any], handler: Any, label: str) -> None:
    """Clickable examples that fill the picture (and the text input) and run at once; the other inputs
    stay as the user set them."""
    import gradio as gr

    found = [[str(EXAMPLES_DIR / row[0]), *row[1:]] for row in rows if (EXAMPLES_DIR / row[0]).is_file()]
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
    boxes = gr.Dataframe(label=TEXTS.ui("boxes_table"), headers=detection.BOX_COLUMNS, interactive=False)
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
                labels = gr.Textbox(label=TEXTS.ui("object_labels"), placeholder="cat, remote control")
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


# One sub-tab per task, in the registry's order of tasks.
SUB_TABS = {
    detection.TASK: detection_tab,
    detection.ZERO_SHOT_TASK: zero_shot_tab,
}


def build(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Tabs():
        for task in ctx.tasks:
            if task in SUB_TABS and ctx.models(task):
                SUB_TABS[task](ctx)
    about_panel(TEXTS)
