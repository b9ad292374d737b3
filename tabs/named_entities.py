"""Named entities tab: the people, organisations and places in a text (`token-classification`).

Endpoints:
- `/extract_entities(text, model, aggregation)` -> the text with entities highlighted, entity table
  (word, type, score, start, end), code.
- `/extract_entities_dataset(file, column, model, aggregation, hub_dataset, hub_split)` -> summary,
  results table, CSV file (a file, or a Hub dataset's split).
"""

from __future__ import annotations

from typing import Any

from playground.media import datasets
from playground.web.errors import guarded
from playground.core.snippets import pipeline_snippet, snippet_load_kwargs
from playground.tasks import token_classification as task_logic
from playground.core.texts import Texts, request_language
from playground.web.ui import COMMON, TabContext, about_panel, code_panel, dataset_panel, model_picker

EXAMPLES = (
    "My name is Sylvain and I work at Hugging Face in Brooklyn.",
    "Marie Curie was born in Warsaw and worked at the University of Paris.",
)
COLUMNS = ("word", "entity", "score", "start", "end")

STRINGS = {
    "en": {
        "title": "Named entities",
        "text": "Text",
        "aggregation": "Aggregation (how tokens become entities)",
        "strategy_none": "none (every token)",
        "strategy_simple": "simple",
        "strategy_first": "first",
        "strategy_average": "average",
        "strategy_max": "max",
        "aggregation_help": (
            "- **none**: one row per token, with its B-/I- tag (`B-PER` begins a person, `I-PER` continues it).\n"
            "- **simple**: neighbouring tokens with the same type join into one entity; its score is their average.\n"
            "- **first**: words first: a word takes the type of its first sub-word token.\n"
            "- **average**: a word takes the type whose scores, averaged over its sub-word tokens, are best.\n"
            "- **max**: a word takes the type of its sub-word token with the highest score."
        ),
        "highlighted": "Entities in the text",
        "table": "Entities",
        "col_word": "word",
        "col_entity": "type",
        "col_score": "score",
        "col_start": "start",
        "col_end": "end",
        "about": (
            "The `token-classification` pipeline gives every token of the text a tag (`O` for outside any entity, "
            "`B-`/`I-` + a type for the beginning and inside of one: PER, ORG, LOC, MISC for CoNLL models) and a "
            "score. The aggregation strategy then decides how tokens become entities: the course uses "
            "`grouped_entities=True`, which is today's `aggregation_strategy=\"simple\"`. Each entity's `start` and "
            "`end` are character offsets in your text. Below, the same model runs over every row of a file."
        ),
    },
    "ko": {
        "title": "개체명 인식",
        "text": "텍스트",
        "aggregation": "묶기 방식 (토큰이 개체가 되는 방법)",
        "strategy_none": "없음 (토큰마다)",
        "strategy_simple": "단순",
        "strategy_first": "첫 토큰",
        "strategy_average": "평균",
        "strategy_max": "최댓값",
        "aggregation_help": (
            "- **none**: 토큰마다 한 행, B-/I- 태그 그대로 (`B-PER`는 사람 이름의 시작, `I-PER`는 그 이어짐).\n"
            "- **simple**: 종류가 같은 이웃 토큰을 한 개체로 묶고, 점수는 그 평균입니다.\n"
            "- **first**: 단어 단위: 단어는 첫 하위 토큰의 종류를 따릅니다.\n"
            "- **average**: 단어는 하위 토큰들의 점수 평균이 가장 높은 종류를 따릅니다.\n"
            "- **max**: 단어는 점수가 가장 높은 하위 토큰의 종류를 따릅니다."
        ),
        "highlighted": "텍스트 속 개체",
        "table": "개체",
        "col_word": "단어",
        "col_entity": "종류",
        "col_score": "점수",
        "col_start": "시작",
        "col_end": "끝",
        "about": (
            "`token-classification` 파이프라인은 텍스트의 토큰마다 태그(개체 밖이면 `O`, 개체의 시작과 안쪽이면 "
            "`B-`/`I-` + 종류: CoNLL 모델은 PER, ORG, LOC, MISC)와 점수를 줍니다. 그다음 묶기 방식이 토큰을 개체로 "
            "만듭니다: 강좌의 `grouped_entities=True`는 지금의 `aggregation_strategy=\"simple\"`입니다. 개체의 "
            "`start`와 `end`는 텍스트 속 글자 위치입니다. 아래에서는 같은 모델을 파일의 모든 행에 실행합니다."
        ),
    },
}
TEXTS = Texts("named_entities", STRINGS)


def entity_table(entities: list[dict[str, Any]], lang: str) -> Any:
    import pandas as pd

    rows = [[e["word"], e["entity"], round(e["score"], 4), e["start"], e["end"]] for e in entities]
    return pd.DataFrame(rows, columns=[TEXTS.get(f"col_{c}", lang) for c in COLUMNS])


def build(ctx: TabContext) -> None:
    import gradio as gr

    task = ctx.tasks[0]
    default = ctx.default_model(task)
    limits = ctx.limits

    def extract_entities(text: str, model: str = default, aggregation: str = "simple", progress: Any = gr.Progress(),
                         request: Any = None) -> tuple[dict[str, Any], Any, str]:
        """Find the named entities (people, organisations, places…) in a text with a token-classification model.

        Args:
            text: The text to read.
            model: A catalog model id or label; empty for the tab's default model.
            aggregation: How tokens become entities: none, simple, first, average or max.
        """
        lang = request_language(request)
        text = task_logic.check_text(text)
        strategy = task_logic.check_aggregation(aggregation)
        loaded = ctx.load(model, task, progress)
        entities = task_logic.extract(loaded.model, [text], strategy, loaded.entry.label)[0]
        code = pipeline_snippet(task, loaded.source, [text], {"aggregation_strategy": strategy},
                                load_kwargs=snippet_load_kwargs(loaded))
        return task_logic.highlighted(text, entities), entity_table(entities, lang), code

    def extract_entities_dataset(file: str | None, column: str = "", model: str = default, aggregation: str = "simple",
                                 hub_dataset: str = "", hub_split: str = "", progress: Any = gr.Progress(),
                                 request: Any = None) -> tuple[str, Any, str]:
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
        table, name = datasets.open_dataset(file, column, limits, hub_dataset, hub_split, progress, lang)
        strategy = task_logic.check_aggregation(aggregation)
        loaded = ctx.load(model, task, progress)

        def run_batch(texts: list[str]) -> list[list[Any]]:
            found = task_logic.extract(loaded.model, texts, strategy, loaded.entry.label, batch_size=datasets.BATCH_SIZE)
            return [[len(entities), "; ".join(f"{e['word']} ({e['entity']})" for e in entities),
                     json.dumps(entities, ensure_ascii=False)] for entities in found]

        return datasets.run_dataset(table, name, run_batch, ["count", "entities", "entities_json"], progress, lang,
                                    "named_entities_")

    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=4)
            model = model_picker(ctx, task)
            aggregation = gr.Radio([(TEXTS.ui(f"strategy_{name}"), name) for name in task_logic.AGGREGATIONS], value="simple", label=TEXTS.ui("aggregation"))
            gr.Markdown(TEXTS.ui("aggregation_help"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            highlighted = gr.HighlightedText(label=TEXTS.ui("highlighted"), combine_adjacent=False, show_legend=True)
            table = gr.Dataframe(label=TEXTS.ui("table"), interactive=False, wrap=True)
    code = code_panel()
    handler = guarded(extract_entities, gpu=True)
    inputs, outputs = [text, model, aggregation], [highlighted, table, code]
    run.click(handler, inputs, outputs, api_name="extract_entities")  # first: it owns the endpoint name
    gr.Examples([[sample, default, "simple"] for sample in EXAMPLES], inputs=inputs, outputs=outputs, fn=handler,
                run_on_click=True, cache_examples=False, label=COMMON.ui("examples"), visible_columns=[0])
    panel = dataset_panel(limits)
    panel.run.click(guarded(extract_entities_dataset, gpu=True), panel.inputs(model, aggregation), panel.outputs,
                    api_name="extract_entities_dataset")
    about_panel(TEXTS)
