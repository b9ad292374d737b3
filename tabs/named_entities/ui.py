"""Named entities tab: the people, organisations and places in a text (`token-classification`).

Endpoints:
- `/extract_entities(text, model, aggregation)` -> the text with entities highlighted, entity table
  (word, type, score, start, end), code.
- `/extract_entities_dataset(file, column, model, aggregation, hub_dataset, hub_split)` -> summary,
  results table, CSV file (a file, or a Hub dataset's split).
- `/named_entities_steps(text, model)` -> the pipeline's three steps for that text
  (playground.web.steps_view).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import pipeline_snippet, snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media import datasets
from playground.tasks import pipeline_steps
from playground.web.errors import guarded
from playground.web.steps_view import StepsOutputs, steps_outputs, steps_panel
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, dataset_panel, model_picker
from tabs.named_entities import task as task_logic

EXAMPLES = (
    "My name is Sylvain and I work at Hugging Face in Brooklyn.",
    "Marie Curie was born in Warsaw and worked at the University of Paris.",
)
COLUMNS = ("word", "entity", "score", "start", "end")

TEXTS = Texts.load("named_entities", Path(__file__).with_name("locales"))


def entity_table(entities: list[dict[str, Any]], lang: str) -> Any:
    import pandas as pd

    rows = [[e["word"], e["entity"], round(e["score"], 4), e["start"], e["end"]] for e in entities]
    return pd.DataFrame(rows, columns=[TEXTS.get(f"col_{c}", lang) for c in COLUMNS])


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def extract_entities(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    aggregation: str = "simple",
    progress: Any = None,
    request: Any = None,
) -> tuple[dict[str, Any], Any, str]:
    """Find the named entities (people, organisations, places…) in a text with a token-classification model.

    Args:
        text: The text to read.
        model: A catalog model id or label; empty for the tab's default model.
        aggregation: How tokens become entities: none, simple, first, average or max.
    """
    lang = request_language(request)
    text = task_logic.check_text(text)
    strategy = task_logic.check_aggregation(aggregation)
    loaded = ctx.load(model, ctx.tasks[0], progress)
    entities = task_logic.extract(loaded.model, [text], strategy, loaded.entry.label)[0]
    code = pipeline_snippet(
        ctx.tasks[0], loaded.source, [text], {"aggregation_strategy": strategy}, load_kwargs=snippet_load_kwargs(loaded)
    )
    return task_logic.highlighted(text, entities), entity_table(entities, lang), code


def named_entities_steps(
    ctx: TabContext, text: str, model: str | None = None, progress: Any = None, request: Any = None
) -> StepsOutputs:
    """Show what the token-classification pipeline does, step by step: tokens and ids, one row of logits per token, each token's best label.

    Args:
        text: The text to read.
        model: A catalog model id or label; empty for the tab's default model.

    Returns:
        Notes on the preprocess step, the tokens table, no picture, notes on the forward and postprocess steps, each token's best label and score, every number as JSON, and the same steps as Python code with the Auto classes.
    """
    text = task_logic.check_text(text)
    loaded = ctx.load(model, ctx.tasks[0], progress)
    return steps_outputs(pipeline_steps.token_classification_steps(loaded, text), request_language(request))


def extract_entities_dataset(
    ctx: TabContext,
    file: str | None,
    column: str = "",
    model: str | None = None,
    aggregation: str = "simple",
    hub_dataset: str = "",
    hub_split: str = "",
    progress: Any = None,
    request: Any = None,
) -> tuple[str, Any, str]:
    """Find the named entities in every row of a CSV, JSONL or TXT file; returns a summary, the results and a CSV download.

    Args:
        file: The dataset: CSV with a header row, JSONL (one object a line) or TXT (one text a line); None with hub_dataset.
        column: The column holding the text; empty when the file has one column or a column named text.
        model: A catalog model id or label; empty for the tab's default model.
        aggregation: How tokens become entities: none, simple, first, average or max.
        hub_dataset: Instead of a file, a Hugging Face Hub dataset: owner/name, or owner/name:config (empty: use the file).
        hub_split: The Hub dataset's split (empty: train).
    """
    import json

    lang = request_language(request)
    table, name = datasets.open_dataset(file, column, ctx.limits, hub_dataset, hub_split, progress, lang)
    strategy = task_logic.check_aggregation(aggregation)
    loaded = ctx.load(model, ctx.tasks[0], progress)

    def run_batch(texts: list[str]) -> list[list[Any]]:
        found = task_logic.extract(loaded.model, texts, strategy, loaded.entry.label, batch_size=datasets.BATCH_SIZE)
        return [
            [
                len(entities),
                "; ".join(f"{e['word']} ({e['entity']})" for e in entities),
                json.dumps(entities, ensure_ascii=False),
            ]
            for entities in found
        ]

    return datasets.run_dataset(
        table, name, run_batch, ["count", "entities", "entities_json"], progress, lang, "named_entities_"
    )


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    task = ctx.tasks[0]
    default = ctx.default_model(task)
    limits = ctx.limits

    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=4)
            model = model_picker(ctx, task)
            aggregation = gr.Radio(
                [(TEXTS.ui(f"strategy_{name}"), name) for name in task_logic.AGGREGATIONS],
                value="simple",
                label=TEXTS.ui("aggregation"),
            )
            gr.Markdown(TEXTS.ui("aggregation_help"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            highlighted = gr.HighlightedText(label=TEXTS.ui("highlighted"), combine_adjacent=False, show_legend=True)
            table = gr.Dataframe(label=TEXTS.ui("table"), interactive=False, wrap=True)
    code = code_panel()
    handler = guarded(bind(extract_entities, ctx, model=default, progress=gr.Progress()), gpu=True)
    inputs, outputs = [text, model, aggregation], [highlighted, table, code]
    steps_panel(
        guarded(bind(named_entities_steps, ctx, model=default, progress=gr.Progress()), gpu=True),
        [text, model],
        "named_entities_steps",
    )
    run.click(handler, inputs, outputs, api_name="extract_entities")  # first: it owns the endpoint name
    gr.Examples(
        [[sample, default, "simple"] for sample in EXAMPLES],
        inputs=inputs,
        outputs=outputs,
        fn=handler,
        run_on_click=True,
        cache_examples=False,
        label=COMMON.ui("examples"),
        visible_columns=[0],
    )
    panel = dataset_panel(limits)
    panel.run.click(
        guarded(bind(extract_entities_dataset, ctx, model=default, progress=gr.Progress()), gpu=True),
        panel.inputs(model, aggregation),
        panel.outputs,
        api_name="extract_entities_dataset",
    )
    about_panel(TEXTS)
