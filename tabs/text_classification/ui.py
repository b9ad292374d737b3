"""Text classification tab: a text, or a text pair, in; every label of the model with its score out.

Endpoints:
- `/classify_text(text, model, top_k, text_pair, function_to_apply)` -> label scores, note, code.
- `/classify_dataset(file, column, model, function_to_apply, hub_dataset, hub_split)` -> summary,
  results table, CSV file (a file, or a Hub dataset's split).
- `/text_classification_steps(text, model, text_pair, function_to_apply)` -> the pipeline's three
  steps for that input (playground.web.steps_view).

Sentiment models score one text; NLI models (roberta-large-mnli) and rerankers (bge-reranker) score
a pair. The scores come from the `text-classification` pipeline with the function the model was
trained for (softmax, or sigmoid for multi-label models and single-score rerankers) unless the user
picks another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.snippets import Raw, pipeline_snippet, snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media import datasets
from playground.tasks import pipeline_steps
from playground.web.errors import guarded
from playground.web.steps_view import StepsOutputs, steps_outputs, steps_panel
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, dataset_panel, model_picker
from tabs.text_classification import task as task_logic

MAX_TOP_K = 100
EXAMPLE_TEXTS = (
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
)
# The NLI example of the pipeline tutorial: does the premise entail the hypothesis?
NLI_EXAMPLE = ("A soccer game with multiple males playing.", "Some men are playing a sport.")

TEXTS = Texts.load("text_classification", Path(__file__).with_name("locales"))


def score_note(function: str, chosen: str, pair: bool, lang: str) -> str:
    note = TEXTS.get(f"fn_{function}", lang) + (TEXTS.get("fn_auto", lang) if chosen == "auto" else "")
    return note + ("\n\n" + TEXTS.get("pair_note", lang) if pair else "")


def check_top_k(top_k: Any) -> int:
    return whole_number_in_range(
        top_k, 0, MAX_TOP_K, lambda: task_logic.TEXTS.error("top_k_range", high=MAX_TOP_K, value=top_k)
    )


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def classify_text(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    top_k: int = 0,
    text_pair: str = "",
    function_to_apply: str = "auto",
    progress: Any = None,
    request: Any = None,
) -> tuple[dict[str, float], str, str]:
    """Score the labels of a text-classification model for a text, or for a pair of texts (NLI, rerankers).

    Args:
        text: The text to classify (the premise of an NLI pair, the query of a reranker).
        model: A catalog model id or label; empty for the tab's default model.
        top_k: How many labels to return, best first; 0 returns every label.
        text_pair: A second text for pair models (NLI hypothesis, reranker passage); empty for one text.
        function_to_apply: auto (the model's own), softmax, sigmoid or none (raw logits).
    """
    lang = request_language(request)
    text = task_logic.check_text(text)
    text_pair = task_logic.check_text(text_pair, "long_pair", required=False)
    top = check_top_k(top_k)
    chosen = task_logic.check_function(function_to_apply)
    loaded = ctx.load(model, ctx.tasks[0], progress)
    function = task_logic.model_function(loaded.model.model.config) if chosen == "auto" else chosen
    inputs = task_logic.pipeline_input(text, text_pair)
    scores = task_logic.classify(loaded.model, [inputs], chosen, top or None)[0]
    # top_k=None must be written out: left out, the pipeline returns only the best label.
    call = {**task_logic.call_options(chosen, top or None), "top_k": top or Raw("None")}
    code = pipeline_snippet(ctx.tasks[0], loaded.source, [inputs], call, load_kwargs=snippet_load_kwargs(loaded))
    return {s["label"]: float(s["score"]) for s in scores}, score_note(function, chosen, bool(text_pair), lang), code


def text_classification_steps(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    text_pair: str = "",
    function_to_apply: str = "auto",
    progress: Any = None,
    request: Any = None,
) -> StepsOutputs:
    """Show what the text-classification pipeline does, step by step: tokens and ids, the model's logits, the scores per label.

    Args:
        text: The text to classify (the premise of an NLI pair, the query of a reranker).
        model: A catalog model id or label; empty for the tab's default model.
        text_pair: A second text for pair models (NLI hypothesis, reranker passage); empty for one text.
        function_to_apply: auto (the model's own), softmax, sigmoid or none (raw logits).

    Returns:
        Notes on the preprocess step, the tokens table, no picture, notes on the forward and postprocess steps, the scores table, every number as JSON (tokens, input_ids, logits, scores), and the same steps as Python code with the Auto classes.
    """
    text = task_logic.check_text(text)
    text_pair = task_logic.check_text(text_pair, "long_pair", required=False)
    chosen = task_logic.check_function(function_to_apply)
    loaded = ctx.load(model, ctx.tasks[0], progress)
    steps = pipeline_steps.text_classification_steps(loaded, text, text_pair, chosen)
    return steps_outputs(steps, request_language(request))


def classify_dataset(
    ctx: TabContext,
    file: str | None,
    column: str = "",
    model: str | None = None,
    function_to_apply: str = "auto",
    hub_dataset: str = "",
    hub_split: str = "",
    progress: Any = None,
    request: Any = None,
) -> tuple[str, Any, str]:
    """Classify every row of a CSV, JSONL or TXT file; returns a summary, the results and a CSV download.

    Args:
        file: The dataset: CSV with a header row, JSONL (one object a line) or TXT (one text a line); None with hub_dataset.
        column: The column holding the text; empty when the file has one column or a column named text.
        model: A catalog model id or label; empty for the tab's default model.
        function_to_apply: auto (the model's own), softmax, sigmoid or none (raw logits).
        hub_dataset: Instead of a file, a Hugging Face Hub dataset: owner/name, or owner/name:config (empty: use the file).
        hub_split: The Hub dataset's split (empty: train).
    """
    lang = request_language(request)
    table, name = datasets.open_dataset(file, column, ctx.limits, hub_dataset, hub_split, progress, lang)
    chosen = task_logic.check_function(function_to_apply)
    loaded = ctx.load(model, ctx.tasks[0], progress)
    labels = list(loaded.model.model.config.id2label.values())

    def run_batch(texts: list[str]) -> list[list[Any]]:
        rows = []
        for scores in task_logic.classify(loaded.model, texts, chosen, None, batch_size=datasets.BATCH_SIZE):
            by_label = {s["label"]: round(float(s["score"]), 6) for s in scores}
            rows.append([scores[0]["label"], by_label[scores[0]["label"]], *(by_label.get(label) for label in labels)])
        return rows

    return datasets.run_dataset(
        table, name, run_batch, ["label", "score", *labels], progress, lang, "text_classification_"
    )


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    task = ctx.tasks[0]
    default = ctx.default_model(task)
    limits = ctx.limits

    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=3)
            text_pair = gr.Textbox(label=TEXTS.ui("text_pair"), lines=2, value="")
            model = model_picker(ctx, task)
            with gr.Row():
                top_k = gr.Slider(0, MAX_TOP_K, value=0, step=1, label=TEXTS.ui("top_k"))
                function = gr.Radio(
                    [(TEXTS.ui(f"choice_{name}"), name) for name in task_logic.FUNCTIONS],
                    value="auto",
                    label=TEXTS.ui("function"),
                    info=TEXTS.ui("function_info"),
                )
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            scores = gr.Label(label=TEXTS.ui("scores"))
            note = gr.Markdown(label=TEXTS.ui("note"))
    code = code_panel()
    handler = guarded(bind(classify_text, ctx, model=default, progress=gr.Progress()), gpu=True)
    inputs = [text, model, top_k, text_pair, function]
    outputs = [scores, note, code]
    steps_panel(
        guarded(bind(text_classification_steps, ctx, model=default, progress=gr.Progress()), gpu=True),
        [text, model, text_pair, function],
        "text_classification_steps",
    )
    nli = next((m.id for m in ctx.models(task) if "mnli" in m.id.lower()), None)
    examples = [[sample, default, 0, "", "auto"] for sample in EXAMPLE_TEXTS]
    if nli:
        examples.append([NLI_EXAMPLE[0], nli, 0, NLI_EXAMPLE[1], "auto"])
    # The button's event is registered first so it owns the endpoint name (the examples' run is unnamed).
    run.click(handler, inputs, outputs, api_name="classify_text")
    gr.Examples(
        examples,
        inputs=inputs,
        outputs=outputs,
        fn=handler,
        run_on_click=True,
        cache_examples=False,
        label=COMMON.ui("examples"),
        example_labels=[" → ".join(filter(None, (e[0], e[3]))) for e in examples],
    )
    panel = dataset_panel(limits)
    panel.run.click(
        guarded(bind(classify_dataset, ctx, model=default, progress=gr.Progress()), gpu=True),
        panel.inputs(model, function),
        panel.outputs,
        api_name="classify_dataset",
    )
    about_panel(TEXTS)
