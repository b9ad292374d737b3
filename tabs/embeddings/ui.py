"""Embeddings tab: the vectors a model makes of texts and pictures, compared and projected.

Endpoints (each sub-tab only when the catalog lists a model for it):
- `/embed(texts, model, pooling)` -> vectors (a table), the cosine-similarity matrix (coloured), the
  2-D PCA projection (x, y, input), a note, code. `feature-extraction` pipeline.
- `/embed_images(images, model, pooling)` -> vectors, the similarity matrix, a note, code.
  `image-feature-extraction` pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media.images import EXAMPLES_DIR, open_image
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker
from tabs.embeddings import task
from tabs.embeddings.task import IMAGE_TASK, TEXT_TASK

TEXTS = Texts.load("embeddings", Path(__file__).with_name("locales"))

# Two pairs of related sentences and one apart: the matrix and the projection show the pairs.
TEXT_EXAMPLES = (
    (
        "A man is playing a guitar.\nSomeone is playing an instrument.\nThe new movie is awesome.\n"
        "The film was great fun to watch.\nThe stock market fell sharply today."
    ),
    "I've been waiting for a HuggingFace course my whole life.\nI hate this so much!\nThis course is amazing.",
)


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def embed(
    ctx: TabContext,
    texts: str,
    model: str | None = None,
    pooling: str = "mean",
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, Any, Any, str, str]:
    """Embed sentences with a feature-extraction model: their vectors, cosine similarities and a 2-D map.

    Args:
        texts: The sentences, one per line (at most 50).
        model: A text model of the catalog, by id or label (default: the tab's default).
        pooling: How the token vectors become one vector: mean (the average of all tokens) or cls (the first token's).

    Returns:
        A table of the vectors (their first numbers), the cosine-similarity matrix, the 2-D PCA projection (x, y, input), a note, and Python code that does the same.
    """
    import pandas as pd

    lang = request_language(request)
    lines = task.check_texts(texts)
    pooling = task.check_pooling(pooling)
    entry = ctx.entry(model or ctx.default_model(TEXT_TASK))
    task.check_model_task(entry.task, TEXT_TASK, entry.label)
    loaded = ctx.load(entry.id, TEXT_TASK, progress)
    embeddings = task.embed_texts(loaded.model, lines, pooling)
    labels = task.names(lines)
    matrix = task.cosine_matrix(embeddings.vectors)
    header, rows = task.vector_rows(labels, embeddings)
    notes = [TEXTS.get("dimensions", lang, count=len(lines), dimensions=embeddings.vectors.shape[1], pooling=pooling)]
    closest = task.closest_pair(labels, matrix)
    if closest:
        notes.append(TEXTS.get("closest", lang, first=closest[0], second=closest[1], cosine=round(closest[2], 3)))
    cut = [label for label, truncated in zip(labels, embeddings.truncated) if truncated]
    if cut:
        notes.append("⚠️ " + TEXTS.get("truncated", lang, texts=", ".join(cut)))
    code = task.text_snippet(loaded.entry.id, snippet_load_kwargs(loaded), lines, pooling)
    return (
        pd.DataFrame(rows, columns=header),
        task.heatmap(labels, matrix),
        task.projection_frame(labels, task.projection(embeddings.vectors)),
        "\n\n".join(notes),
        code,
    )


def embed_images(
    ctx: TabContext,
    images: list[str] | None,
    model: str | None = None,
    pooling: str = "cls",
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, Any, str, str]:
    """Embed pictures with an image-feature-extraction model: their vectors and cosine similarities.

    Args:
        images: The pictures (PNG, JPEG, WebP, GIF, TIFF or BMP), at most 8.
        model: An image model of the catalog, by id or label (default: the tab's default).
        pooling: How the patch vectors become one vector: cls (the first token's) or mean (the average of all patches).

    Returns:
        A table of the vectors (their first numbers), the cosine-similarity matrix, a note, and Python code that does the same.
    """
    import pandas as pd

    lang = request_language(request)
    files = [f for f in (images or []) if f]
    if not files:
        raise task.TEXTS.error("no_images")
    if len(files) > task.MAX_IMAGES:
        raise task.TEXTS.error("too_many_images", count=len(files), limit=task.MAX_IMAGES)
    pictures = [open_image(_path(f)) for f in files]
    pooling = task.check_pooling(pooling)
    entry = ctx.entry(model or ctx.default_model(IMAGE_TASK))
    task.check_model_task(entry.task, IMAGE_TASK, entry.label)
    loaded = ctx.load(entry.id, IMAGE_TASK, progress)
    embeddings = task.embed_images(loaded.model, pictures, pooling)
    labels = task.names([Path(_path(f)).name for f in files])
    matrix = task.cosine_matrix(embeddings.vectors)
    header, rows = task.vector_rows(labels, embeddings)
    note = TEXTS.get("dimensions", lang, count=len(files), dimensions=embeddings.vectors.shape[1], pooling=pooling)
    code = task.image_snippet(loaded.entry.id, snippet_load_kwargs(loaded), len(files), pooling)
    return pd.DataFrame(rows, columns=header), task.heatmap(labels, matrix), note, code


def _path(file: Any) -> str:
    """A file as Gradio hands it over: a path, or a dict with one (API clients)."""
    return file.get("path") if isinstance(file, dict) else str(file)


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    progress = gr.Progress()
    if ctx.models(TEXT_TASK):
        text_default = ctx.default_model(TEXT_TASK)
        with gr.Tab(TEXTS.ui("text_tab")):
            with gr.Row():
                with gr.Column():
                    texts = gr.Textbox(label=TEXTS.ui("texts"), lines=6, value=TEXT_EXAMPLES[0])
                    model = model_picker(ctx, TEXT_TASK)
                    pooling = gr.Radio(
                        [(TEXTS.ui(f"pooling_{name}"), name) for name in task.POOLINGS],
                        value="mean",
                        label=TEXTS.ui("pooling"),
                    )
                    run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    note = gr.Markdown()
                    projection = gr.ScatterPlot(x="x", y="y", color="input", label=TEXTS.ui("projection"), height=320)
            similarity = gr.Dataframe(label=TEXTS.ui("similarity"), interactive=False, wrap=True)
            vectors = gr.Dataframe(label=TEXTS.ui("vectors"), interactive=False, wrap=True)
            code = code_panel()
            run_embed = guarded(bind(embed, ctx, model=text_default, progress=progress), gpu=True)
            inputs, outputs = [texts, model, pooling], [vectors, similarity, projection, note, code]
            run.click(run_embed, inputs, outputs, api_name="embed")
            examples = gr.Examples(
                [[t, None, "mean"] for t in TEXT_EXAMPLES],
                inputs=inputs,
                outputs=outputs,
                fn=run_embed,
                run_on_click=True,
                cache_examples=False,
                visible_columns=[0],
                label=TEXTS.ui("examples"),
            )
            examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
    if ctx.models(IMAGE_TASK):
        image_default = ctx.default_model(IMAGE_TASK)
        with gr.Tab(TEXTS.ui("image_tab")):
            with gr.Row():
                with gr.Column():
                    images = gr.File(
                        label=TEXTS.ui("images"), file_count="multiple", file_types=["image"], type="filepath"
                    )
                    image_model = model_picker(ctx, IMAGE_TASK)
                    image_pooling = gr.Radio(
                        [(TEXTS.ui(f"pooling_{name}"), name) for name in task.POOLINGS],
                        value="cls",
                        label=TEXTS.ui("pooling"),
                    )
                    image_run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    image_note = gr.Markdown()
                    image_similarity = gr.Dataframe(label=TEXTS.ui("similarity"), interactive=False, wrap=True)
            image_vectors = gr.Dataframe(label=TEXTS.ui("vectors"), interactive=False, wrap=True)
            image_code = code_panel()
            run_images = guarded(bind(embed_images, ctx, model=image_default, progress=progress), gpu=True)
            image_inputs = [images, image_model, image_pooling]
            image_outputs = [image_vectors, image_similarity, image_note, image_code]
            image_run.click(run_images, image_inputs, image_outputs, api_name="embed_images")
            pictures = [str(p) for p in sorted(EXAMPLES_DIR.glob("*.png"))]
            if pictures:
                examples = gr.Examples(
                    [[pictures, None, "cls"]],
                    inputs=image_inputs,
                    outputs=image_outputs,
                    fn=run_images,
                    run_on_click=True,
                    cache_examples=False,
                    visible_columns=[0],
                    label=TEXTS.ui("examples"),
                )
                examples.dataset.headers = []
    about_panel(TEXTS)
