"""Image classification tab: an image in, the model's top-k ImageNet-style labels with scores out.

Endpoints: `/classify_image(image, model, top_k=5)` -> label scores (gr.Label dict) and a code snippet;
`/classify_image_batch` (same parameters, label scores only) queues concurrent requests into batches
of up to MAX_BATCH images that share one forward pass, for throughput under many clients;
`/image_classification_steps(image, model, top_k=5)` -> the pipeline's three steps for that picture
(playground.web.steps_view).

The task logic is tabs.image_classification.task; this module holds the handlers and the page (strings: `locales/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media.images import EXAMPLES_DIR, open_image
from playground.tasks import pipeline_steps
from playground.web.errors import guarded
from playground.web.steps_view import StepsOutputs, steps_outputs, steps_panel
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, image_input, model_picker
from tabs.image_classification import task as task
from tabs.image_classification.task import MAX_TOP_K, TASK

MAX_BATCH = 16

TEXTS = Texts.load("image_classification", Path(__file__).with_name("locales"))


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def classify_image(
    ctx: TabContext, image: str | None, model: str | None = None, top_k: int = 5, progress: Any = None
) -> tuple[dict[str, float], str]:
    """Name what a picture shows: the image classification model's top labels with their probabilities.

    Args:
        image: The picture to classify (PNG, JPEG, WebP, GIF, TIFF or BMP).
        model: An image classification model of the catalog, by id or label (default: the tab's default).
        top_k: How many labels to return, 1 to 20.

    Returns:
        The top labels with their probabilities, and Python code that does the same.
    """
    picture = open_image(image)  # decode first: a bad file should not wait for a model download
    loaded = ctx.load(model, TASK, progress)
    scores = task.classify(loaded.model, picture, top_k)
    return scores, task.snippet(loaded.entry.id, snippet_load_kwargs(loaded), task.check_top_k(top_k))


def image_classification_steps(
    ctx: TabContext,
    image: str | None,
    model: str | None = None,
    top_k: int = 5,
    progress: Any = None,
    request: Any = None,
) -> StepsOutputs:
    """Show what the image-classification pipeline does, step by step: the processed pixel tensor, the model's logits, the best labels.

    Args:
        image: The picture to classify (PNG, JPEG, WebP, GIF, TIFF or BMP).
        model: An image classification model of the catalog, by id or label (default: the tab's default).
        top_k: How many labels to show, 1 to 20.

    Returns:
        Notes on the preprocess step (size, rescaling, normalisation), no tokens, the pixel tensor as a picture, notes on the forward and postprocess steps, the best labels with logit and probability, every number as JSON, and the same steps as Python code with the Auto classes.
    """
    top_k = task.check_top_k(top_k)
    picture = open_image(image)
    loaded = ctx.load(model, TASK, progress)
    return steps_outputs(pipeline_steps.image_classification_steps(loaded, picture, top_k), request_language(request))


def classify_image_batch(
    ctx: TabContext, images: list[str | None], models: list[str], top_ks: list[int]
) -> tuple[list[dict[str, float]]]:
    """Name what a picture shows, batched with concurrent requests into one forward pass (for throughput).

    Args:
        images: The picture to classify (PNG, JPEG, WebP, GIF, TIFF or BMP).
        models: An image classification model of the catalog, by id or label (default: the tab's default).
        top_ks: How many labels to return, 1 to 20.

    Returns:
        The top labels with their probabilities.
    """
    # Gradio hands over the queued requests together; one forward pass per (model, top_k) group. A bad
    # image fails its whole batch (Gradio answers a batch as one): /classify_image is for untrusted uploads.
    pictures = [open_image(image) for image in images]
    groups: dict[tuple[str, int], list[int]] = {}
    for index, (model, top_k) in enumerate(zip(models, top_ks)):
        groups.setdefault((model or ctx.default_model(TASK), task.check_top_k(top_k)), []).append(index)
    labels: list[dict[str, float]] = [{} for _ in images]
    for (model, top_k), indices in groups.items():
        scores = task.classify_many(ctx.load(model, TASK).model, [pictures[i] for i in indices], top_k)
        for index, result in zip(indices, scores):
            labels[index] = result
    return (labels,)


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    # One handler: Run and the examples share its queue.
    run_classify = guarded(bind(classify_image, ctx, model=ctx.default_model(TASK), progress=gr.Progress()), gpu=True)
    with gr.Row():
        with gr.Column():
            image = image_input(TEXTS.ui("image"))
            model = model_picker(ctx, TASK)
            top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            labels = gr.Label(label=TEXTS.ui("labels"))
    code = code_panel()
    inputs, outputs = [image, model, top_k], [labels, code]
    # Before the examples: the first event of a handler takes its name (the examples' run would get "classify_image").
    run.click(run_classify, inputs, outputs, api_name="classify_image")
    steps_panel(
        guarded(bind(image_classification_steps, ctx, model=ctx.default_model(TASK), progress=gr.Progress()), gpu=True),
        inputs,
        "image_classification_steps",
        picture=True,
        tokens=False,
    )
    examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
    if examples:
        # The picture only: the model and top_k stay as the user set them.
        gr.Examples(
            [[p, None, None] for p in examples],
            inputs=inputs,
            outputs=outputs,
            fn=run_classify,
            run_on_click=True,
            cache_examples=False,
            label=TEXTS.ui("examples"),
        )
    about_panel(TEXTS)
    # API-only: a hidden trigger, so the browser's Run button never fires it.
    gr.Button(visible=False).click(
        guarded(bind(classify_image_batch, ctx), gpu=True),
        inputs,
        [labels],
        batch=True,
        max_batch_size=MAX_BATCH,
        api_name="classify_image_batch",
    )
