"""Questions about a table (TAPAS, the `table-question-answering` pipeline): the "Table" sub-tab of the
visual QA tab.

Endpoint:
- `/answer_table_question(question, table, csv_file, model)` -> the answer in words (with the
  aggregation applied), the table with the cells the answer used highlighted, details (JSON: answer,
  aggregator, value, cells with their row and column, rows read), code.

The table comes from the page's editable grid or from a CSV upload (which replaces it); the task logic
is `table_task`. `build_table_qa(ctx)` is called inside the visual QA tab's `build()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker
from tabs.visual_qa import table_task as task_logic

TASK = task_logic.TASK
# The transformers documentation's table for TAPAS (strings, as TAPAS reads them), and questions on it
# that need no aggregation, a SUM and a COUNT.
EXAMPLE_TABLE = {
    "Repository": ["Transformers", "Datasets", "Tokenizers"],
    "Stars": ["36542", "4512", "3934"],
    "Contributors": ["651", "77", "34"],
    "Programming language": ["Python", "Python", "Rust, Python and NodeJS"],
}
EXAMPLE_QUESTIONS = (
    "How many stars does the transformers repository have?",
    "What is the total number of contributors?",
    "How many repositories use Python?",
)

TEXTS = Texts.load("visual_qa.table", Path(__file__).with_name("locales"))


def answer_sentence(answer: task_logic.TableAnswer, lang: str) -> str:
    """The answer in words: the cells, and the aggregation with its value."""
    cells = ", ".join(answer.cells)
    if not answer.cells:
        return TEXTS.get("no_cells", lang)
    if answer.aggregator in ("", "NONE"):
        return TEXTS.get("cells_answer", lang, cells=cells)
    if answer.value is None:
        return TEXTS.get("not_numbers", lang, aggregator=answer.aggregator, cells=cells)
    value = task_logic.format_value(answer.value)
    return TEXTS.get("aggregated", lang, aggregator=answer.aggregator, cells=cells, value=value)


def reading_note(answer: task_logic.TableAnswer, rows: int, lang: str) -> str:
    if answer.rows_read < rows:
        return TEXTS.get("rows_dropped", lang, read=answer.rows_read, rows=rows)
    return TEXTS.get("rows_all", lang, rows=rows)


def answer_table_question(
    ctx: TabContext,
    question: str,
    table: Any = None,
    csv_file: str | None = None,
    model: str | None = None,
    progress: Any = None,
    request: Any = None,
) -> tuple[str, Any, dict[str, Any], str]:
    """Answer a question about a table with TAPAS: the cells it picks and the aggregation it applies (SUM, AVERAGE, COUNT).

    Args:
        question: The question about the table, in words (at most 500 characters).
        table: The table: column names and rows of cells (every cell is read as text).
        csv_file: A CSV file with a header row; when given it replaces `table`.
        model: A table question answering model of the catalog, by id or label (default: the sub-tab's default).

    Returns:
        The answer in words, the table with the cells the answer used highlighted, the answer's details
        (aggregator, value, cells with their row and column) and Python code that does the same.
    """
    lang = request_language(request)
    question = task_logic.check_question(question)
    if csv_file:
        frame = task_logic.table_from_file(csv_file, ctx.limits.max_dataset_rows, ctx.limits.max_dataset_mb)
    else:
        frame = task_logic.clean_table(table)
    loaded = ctx.load(model, TASK, progress)
    answer = task_logic.answer_table(loaded.model, frame, question)
    text = answer_sentence(answer, lang) + "\n\n" + reading_note(answer, len(frame), lang)
    code = task_logic.snippet(loaded.source, snippet_load_kwargs(loaded), frame, question)
    return text, task_logic.highlighted(frame, answer.coordinates), answer.as_dict(list(frame.columns)), code


def load_csv(ctx: TabContext, csv_file: str | None) -> tuple[Any, None]:
    """Read an uploaded CSV into the page's table (and empty the upload: the table is what is asked)."""
    frame = task_logic.table_from_file(csv_file, ctx.limits.max_dataset_rows, ctx.limits.max_dataset_mb)
    return frame, None


def build_table_qa(ctx: TabContext) -> None:
    """The "Table" sub-tab (when the registry entry serves table QA and the catalog lists a model for it)."""
    import gradio as gr
    import pandas as pd

    if TASK not in ctx.tasks or not ctx.models(TASK):
        return
    default = ctx.default_model(TASK)

    with gr.Tab(TEXTS.ui("title"), id="table"):
        with gr.Row():
            with gr.Column():
                question = gr.Textbox(label=TEXTS.ui("question"))
                # Empty until the user types, loads a CSV or clicks an example (English data would be
                # the first thing a Korean page shows).
                table = gr.Dataframe(
                    label=TEXTS.ui("table"),
                    type="pandas",
                    interactive=True,
                    wrap=True,
                    elem_id="table-qa-table",
                )
                csv_file = gr.File(label=TEXTS.ui("csv_file"), file_types=[".csv"], type="filepath")
                model = model_picker(ctx, TASK)
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                answer = gr.Markdown(label=TEXTS.ui("answer"), elem_id="table-qa-answer")
                used = gr.Dataframe(label=TEXTS.ui("used_cells"), interactive=False, wrap=True)
                with gr.Accordion(TEXTS.ui("details"), open=False):
                    details = gr.JSON(label=TEXTS.ui("details"))
        code = code_panel()
        handler = guarded(bind(answer_table_question, ctx, model=default, progress=gr.Progress()), gpu=True)
        inputs = [question, table, csv_file, model]
        outputs = [answer, used, details, code]
        run.click(handler, inputs, outputs, api_name="answer_table_question")  # first: it owns the endpoint name
        csv_file.upload(guarded(bind(load_csv, ctx)), csv_file, [table, csv_file], api_visibility="private")
        gr.Examples(
            [[q, pd.DataFrame(EXAMPLE_TABLE), None, default] for q in EXAMPLE_QUESTIONS],
            inputs=inputs,
            outputs=outputs,
            fn=handler,
            run_on_click=True,
            cache_examples=False,
            label=COMMON.ui("examples"),
            example_labels=list(EXAMPLE_QUESTIONS),
            elem_id="table-examples",
        )
        about_panel(TEXTS)
