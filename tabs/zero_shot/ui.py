"""Zero-shot tab: classify text or images into labels the user types, with no training.

Endpoints (each sub-tab only when the catalog lists a model for it):
- `/zero_shot_text(text, model, labels, hypothesis_template, multi_label, batch)` -> label scores,
  batch table, CSV file (or None), code. NLI models use the `zero-shot-classification` pipeline;
  sentence-similarity models compare the text's embedding with each label's hypothesis.
- `/zero_shot_text_dataset(file, column, model, labels, hypothesis_template, multi_label, hub_dataset,
  hub_split)` -> summary, results table (best label, its score, one column per label), CSV file.
- `/zero_shot_image(image, model, labels, hypothesis_template)` -> label scores and code (CLIP).
- `/zero_shot_steps(text, model, labels, hypothesis_template, multi_label)` -> the three steps for
  that text (playground.web.steps_view).

The task logic is tabs.zero_shot.task; this module holds the handlers and the page (strings: `locales/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.labels import parse_labels
from playground.core.texts import Texts, request_language
from playground.media import datasets
from playground.media.images import EXAMPLES_DIR, open_image
from playground.tasks import pipeline_steps
from playground.web.errors import guarded
from playground.web.steps_view import StepsOutputs, steps_outputs, steps_panel
from playground.web.ui import (
    COMMON,
    TabContext,
    about_panel,
    bind,
    code_panel,
    dataset_panel,
    image_input,
    model_picker,
)
from tabs.zero_shot import task
from tabs.zero_shot.task import EMBEDDING_TASK, IMAGE_TASK, IMAGE_TEMPLATE, NLI_TASK, TEXT_TASKS, TEXT_TEMPLATE

# The Hugging Face course's zero-shot example (chapter 1), and a second one on sentiment.
TEXT_EXAMPLES = (
    ("This is a course about the Transformers library", "education, politics, business"),
    ("I loved this film, the acting was wonderful.", "positive, negative, neutral"),
)
IMAGE_LABELS = "circle, triangle, house"

TEXTS = Texts.load("zero_shot", Path(__file__).with_name("locales"))


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def text_default(ctx: TabContext) -> str:
    """The text sub-tab's default model: a sentence-similarity model if the catalog has one, else NLI
    ("" when the catalog has neither: the sub-tab is not built)."""
    if ctx.models(EMBEDDING_TASK):
        return ctx.default_model(EMBEDDING_TASK)
    return ctx.default_model(NLI_TASK) if ctx.models(NLI_TASK) else ""


def zero_shot_text(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    labels: str = "",
    hypothesis_template: str = TEXT_TEMPLATE,
    multi_label: bool = False,
    batch: bool = False,
    progress: Any = None,
) -> tuple[Any, Any, Any, str]:
    """Classify text into labels you choose, with no training, using an NLI or a sentence-similarity model.

    Args:
        text: The text to classify; in batch mode, one text per line.
        model: A text model of the catalog (NLI or sentence similarity), by id or label (default: the tab's default).
        labels: The candidate labels, comma-separated or one per line (at most 100).
        hypothesis_template: The sentence each label is put into, with {} where the label goes (blank: "This example is {}.").
        multi_label: True scores each label on its own (several can be true); False gives scores that sum to 1.
        batch: True classifies every line of the text on its own (at most 200 lines), into a table and a CSV file.

    Returns:
        The label scores (of the first line in batch mode), the batch table and its CSV file (none for one text), and Python code that does the same.
    """
    texts = task.text_lines(text, bool(batch))
    label_list = parse_labels(labels)
    template = task.check_template(hypothesis_template, TEXT_TEMPLATE)
    task.check_batch(texts)
    entry = ctx.entry(model or text_default(ctx))
    task.check_text_model(entry.task, entry.label)
    loaded = ctx.load(model, entry.task, progress)
    results = task.text_scores(entry.task, loaded.model, texts, label_list, template, bool(multi_label))
    code = task.text_snippet(loaded, texts[0], label_list, template, bool(multi_label))
    if len(texts) == 1:
        return results[0], None, None, code
    table = task.batch_outputs(texts, results, label_list)
    import pandas as pd

    return results[0], pd.DataFrame(table.rows, columns=table.header), table.csv_path, code


def zero_shot_steps(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    labels: str = "",
    hypothesis_template: str = TEXT_TEMPLATE,
    multi_label: bool = False,
    progress: Any = None,
    request: Any = None,
) -> StepsOutputs:
    """Show what zero-shot classification does, step by step: the NLI pairs' logits (or the sentence vectors' cosines) and the labels' scores.

    Args:
        text: The text to classify.
        model: A text model of the catalog (NLI or sentence similarity), by id or label (default: the tab's default).
        labels: The candidate labels, comma-separated or one per line (at most 100).
        hypothesis_template: The sentence each label is put into, with {} where the label goes (blank: "This example is {}.").
        multi_label: True scores each label on its own (several can be true); False gives scores that sum to 1.

    Returns:
        Notes on the preprocess step, the tokens (of the first pair, or of the text), no picture, notes on the forward and postprocess steps, each label's logits (or cosine) and score, every number as JSON, and the same steps as Python code with the Auto classes.
    """
    texts = task.text_lines(text, False)
    label_list = parse_labels(labels)
    template = task.check_template(hypothesis_template, TEXT_TEMPLATE)
    entry = ctx.entry(model or text_default(ctx))
    task.check_text_model(entry.task, entry.label)
    loaded = ctx.load(entry.id, entry.task, progress)
    if entry.task == NLI_TASK:
        steps = pipeline_steps.zero_shot_steps(loaded, texts[0], label_list, template, bool(multi_label))
    else:
        steps = pipeline_steps.similarity_steps(
            loaded, texts[0], label_list, template, bool(multi_label), task.SIMILARITY_SCALE
        )
    return steps_outputs(steps, request_language(request))


def zero_shot_text_dataset(
    ctx: TabContext,
    file: str | None,
    column: str = "",
    model: str | None = None,
    labels: str = "",
    hypothesis_template: str = TEXT_TEMPLATE,
    multi_label: bool = False,
    hub_dataset: str = "",
    hub_split: str = "",
    progress: Any = None,
    request: Any = None,
) -> tuple[str, Any, str]:
    """Classify every row of a CSV, JSONL or TXT file into labels you choose; returns a summary, the results and a CSV download.

    Args:
        file: The dataset: CSV with a header row, JSONL (one object a line) or TXT (one text a line); None with hub_dataset.
        column: The column holding the text; empty when the file has one column or a column named text.
        model: A text model of the catalog (NLI or sentence similarity), by id or label (default: the tab's default).
        labels: The candidate labels, comma-separated or one per line (at most 100).
        hypothesis_template: The sentence each label is put into, with {} where the label goes (blank: "This example is {}.").
        multi_label: True scores each label on its own (several can be true); False gives scores that sum to 1.
        hub_dataset: Instead of a file, a Hugging Face Hub dataset: owner/name, or owner/name:config (empty: use the file).
        hub_split: The Hub dataset's split (empty: train).

    Returns:
        A summary, one row per text (the best label, its score, one score column per label) and the same table as CSV.
    """
    lang = request_language(request)
    label_list = parse_labels(labels)
    template = task.check_template(hypothesis_template, TEXT_TEMPLATE)
    entry = ctx.entry(model or text_default(ctx))
    task.check_text_model(entry.task, entry.label)
    table, name = datasets.open_dataset(file, column, ctx.limits, hub_dataset, hub_split, progress, lang)
    loaded = ctx.load(model, entry.task, progress)

    def run_batch(texts: list[str]) -> list[list[Any]]:
        results = task.text_scores(
            entry.task, loaded.model, texts, label_list, template, bool(multi_label), batch_size=datasets.BATCH_SIZE
        )
        return task.dataset_rows(results, label_list)

    return datasets.run_dataset(
        table, name, run_batch, task.dataset_columns(label_list), progress, lang, "zero_shot_dataset_"
    )


def zero_shot_image(
    ctx: TabContext,
    image: str | None,
    model: str | None = None,
    labels: str = "",
    hypothesis_template: str = IMAGE_TEMPLATE,
    progress: Any = None,
) -> tuple[dict[str, float], str]:
    """Classify a picture into labels you choose, with no training, using a CLIP model.

    Args:
        image: The picture to classify (PNG, JPEG, WebP, GIF, TIFF or BMP).
        model: A CLIP model of the catalog, by id or label (default: the tab's default).
        labels: The candidate labels, comma-separated or one per line (at most 100).
        hypothesis_template: The caption each label is put into, with {} where the label goes (blank: "a photo of a {}.").

    Returns:
        The label scores (they sum to 1) and Python code that does the same.
    """
    picture = open_image(image)
    label_list = parse_labels(labels)
    template = task.check_template(hypothesis_template, IMAGE_TEMPLATE)
    loaded = ctx.load(model, IMAGE_TASK, progress)
    return task.image_scores(loaded.model, picture, label_list, template), task.image_snippet(
        loaded, label_list, template
    )


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    # Any non-empty subset of the tab's tasks is a valid catalog: each sub-tab is built only for its models.
    text_entries = [m for t in TEXT_TASKS for m in ctx.models(t)]
    text_model_default = text_default(ctx)
    image_default = ctx.default_model(IMAGE_TASK) if ctx.models(IMAGE_TASK) else ""
    progress = gr.Progress()

    if text_entries:
        with gr.Tab(TEXTS.ui("text_tab")):
            with gr.Row():
                with gr.Column():
                    text = gr.Textbox(label=TEXTS.ui("text"), lines=4, value=TEXT_EXAMPLES[1][0])
                    text_model = gr.Dropdown(
                        choices=[(m.label, m.id) for m in text_entries],
                        value=text_model_default,
                        label=COMMON.ui("model"),
                        allow_custom_value=True,
                        interactive=True,
                    )
                    text_labels = gr.Textbox(label=TEXTS.ui("labels"), value=TEXT_EXAMPLES[1][1])
                    text_template = gr.Textbox(label=TEXTS.ui("template"), value=TEXT_TEMPLATE)
                    with gr.Row():
                        multi_label = gr.Checkbox(label=TEXTS.ui("multi_label"), value=False)
                        batch = gr.Checkbox(label=TEXTS.ui("batch"), value=False)
                    text_run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    text_scores = gr.Label(label=TEXTS.ui("scores"))
                    table = gr.Dataframe(label=TEXTS.ui("table"), interactive=False, wrap=True)
                    csv_file = gr.File(label=TEXTS.ui("csv"))
            text_code = code_panel()
            run_text = guarded(
                bind(zero_shot_text, ctx, model=text_model_default, progress=progress), gpu=True
            )  # one handler: Run and the examples share its queue
            text_inputs = [text, text_model, text_labels, text_template, multi_label, batch]
            text_outputs = [text_scores, table, csv_file, text_code]
            text_run.click(run_text, text_inputs, text_outputs, api_name="zero_shot_text")
            steps_panel(
                guarded(bind(zero_shot_steps, ctx, model=text_model_default, progress=progress), gpu=True),
                [text, text_model, text_labels, text_template, multi_label],
                "zero_shot_steps",
            )
            # One text, single label, the default template (as the course calls the pipeline); the model stays.
            examples = gr.Examples(
                [[sentence, None, labels, TEXT_TEMPLATE, False, False] for sentence, labels in TEXT_EXAMPLES],
                inputs=text_inputs,
                outputs=text_outputs,
                fn=run_text,
                run_on_click=True,
                cache_examples=False,
                visible_columns=[0, 2],
                label=TEXTS.ui("examples"),
            )
            examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
            panel = dataset_panel(ctx.limits)
            panel.run.click(
                guarded(bind(zero_shot_text_dataset, ctx, model=text_model_default, progress=progress), gpu=True),
                panel.inputs(text_model, text_labels, text_template, multi_label),
                panel.outputs,
                api_name="zero_shot_text_dataset",
            )
    if image_default:
        with gr.Tab(TEXTS.ui("image_tab")):
            with gr.Row():
                with gr.Column():
                    image = image_input(TEXTS.ui("image"))
                    image_model = model_picker(ctx, IMAGE_TASK)
                    image_labels = gr.Textbox(label=TEXTS.ui("labels"), value=IMAGE_LABELS)
                    image_template = gr.Textbox(label=TEXTS.ui("template"), value=IMAGE_TEMPLATE)
                    image_run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    image_scores = gr.Label(label=TEXTS.ui("scores"))
            image_code = code_panel()
            run_image = guarded(bind(zero_shot_image, ctx, model=image_default, progress=progress), gpu=True)
            image_inputs = [image, image_model, image_labels, image_template]
            image_run.click(run_image, image_inputs, [image_scores, image_code], api_name="zero_shot_image")
            pictures = sorted(EXAMPLES_DIR.glob("*.png"))
            if pictures:
                examples = gr.Examples(
                    [[str(p), None, IMAGE_LABELS, IMAGE_TEMPLATE] for p in pictures],
                    inputs=image_inputs,
                    outputs=[image_scores, image_code],
                    fn=run_image,
                    run_on_click=True,
                    cache_examples=False,
                    visible_columns=[0, 2],
                    label=TEXTS.ui("examples"),
                )
                examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
    about_panel(TEXTS)
