"""Text classification tab: a text, or a text pair, in; every label of the model with its score out.

Endpoints:
- `/classify_text(text, model, top_k, text_pair, function_to_apply)` -> label scores, note, code.
- `/classify_dataset(file, column, model, function_to_apply, hub_dataset, hub_split)` -> summary,
  results table, CSV file (a file, or a Hub dataset's split).

Sentiment models score one text; NLI models (roberta-large-mnli) and rerankers (bge-reranker) score
a pair. The scores come from the `text-classification` pipeline with the function the model was
trained for (softmax, or sigmoid for multi-label models and single-score rerankers) unless the user
picks another.
"""

from __future__ import annotations

from typing import Any

from playground.media import datasets
from playground.web.errors import guarded
from playground.core.checks import whole_number_in_range
from playground.core.snippets import Raw, pipeline_snippet, snippet_load_kwargs
from playground.tasks import text_classification as task_logic
from playground.core.texts import Texts, request_language
from playground.web.ui import COMMON, TabContext, about_panel, code_panel, dataset_panel, model_picker

MAX_TOP_K = 100
EXAMPLE_TEXTS = (
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
)
# The NLI example of the pipeline tutorial: does the premise entail the hypothesis?
NLI_EXAMPLE = ("A soccer game with multiple males playing.", "Some men are playing a sport.")

STRINGS = {
    "en": {
        "title": "Text classification",
        "text": "Text",
        "text_pair": "Second text (for pair models: NLI hypothesis, reranker passage)",
        "top_k": "Labels to show (0 = all)",
        "function": "Score function",
        "choice_auto": "auto (the model's own)",
        "choice_softmax": "softmax",
        "choice_sigmoid": "sigmoid",
        "choice_none": "none (raw logits)",
        "function_info": "auto = what the model was trained with: sigmoid for multi-label and single-score models, softmax otherwise.",
        "scores": "Scores",
        "note": "How the scores were computed",
        "fn_softmax": "**softmax**: the scores of all labels add up to 1 (one label is true).",
        "fn_sigmoid": "**sigmoid**: each label scores from 0 to 1 on its own (several may be true; a reranker's one score is the pair's relevance).",
        "fn_none": "**none**: the raw logits, before any function.",
        "fn_auto": " This is the model's own function (`function_to_apply` left at auto).",
        "pair_note": "The two texts went in as one pair: `{\"text\": …, \"text_pair\": …}`.",
        "about": (
            "The `text-classification` pipeline tokenizes the text (or the two texts of a pair, joined with the "
            "model's separator token), runs a sequence-classification model and turns its logits into scores. "
            "Which function it uses matters: **softmax** for single-label models (sentiment, NLI: the scores add up "
            "to 1), **sigmoid** for multi-label models and for rerankers with one output (bge-reranker: one score for "
            "how well the passage answers the query). The labels come from the model's `id2label`. NLI models "
            "(roberta-large-mnli) take a premise and a hypothesis and say entailment, neutral or contradiction; the "
            "zero-shot tab builds on them. Below, the same model runs over every row of a file."
        ),
    },
    "ko": {
        "title": "텍스트 분류",
        "text": "텍스트",
        "text_pair": "두 번째 텍스트 (쌍 모델용: NLI 가설, 리랭커 문단)",
        "top_k": "보여 줄 레이블 수 (0 = 전부)",
        "function": "점수 함수",
        "choice_auto": "자동 (모델 기본값)",
        "choice_softmax": "softmax",
        "choice_sigmoid": "sigmoid",
        "choice_none": "없음 (로짓 그대로)",
        "function_info": "auto = 모델이 학습된 방식: 다중 레이블·단일 점수 모델은 sigmoid, 그 밖에는 softmax.",
        "scores": "점수",
        "note": "점수를 계산한 방법",
        "fn_softmax": "**softmax**: 모든 레이블의 점수 합이 1입니다 (레이블 하나가 맞음).",
        "fn_sigmoid": "**sigmoid**: 레이블마다 0과 1 사이에서 따로 매긴 점수입니다 (여러 개가 맞을 수 있음; 리랭커의 점수 하나는 쌍의 관련도).",
        "fn_none": "**none**: 함수를 적용하기 전의 로짓 그대로입니다.",
        "fn_auto": " 모델 자체의 함수입니다 (`function_to_apply`를 auto로 둠).",
        "pair_note": "두 텍스트는 한 쌍으로 들어갔습니다: `{\"text\": …, \"text_pair\": …}`.",
        "about": (
            "`text-classification` 파이프라인은 텍스트(쌍이면 두 텍스트를 모델의 구분 토큰으로 이어서)를 토큰으로 "
            "나누고, 시퀀스 분류 모델을 실행해 로짓을 점수로 바꿉니다. 어떤 함수를 쓰는지가 중요합니다: 단일 레이블 "
            "모델(감성, NLI)은 **softmax**(점수 합이 1), 다중 레이블 모델과 출력이 하나인 리랭커(bge-reranker: 문단이 "
            "질의에 얼마나 잘 답하는지 점수 하나)는 **sigmoid**입니다. 레이블은 모델의 `id2label`에서 옵니다. NLI "
            "모델(roberta-large-mnli)은 전제와 가설을 받아 함의, 중립, 모순을 말하며, 제로샷 탭이 이를 활용합니다. "
            "아래에서는 같은 모델을 파일의 모든 행에 실행합니다."
        ),
    },
}
TEXTS = Texts("text_classification", STRINGS)


def score_note(function: str, chosen: str, pair: bool, lang: str) -> str:
    note = TEXTS.get(f"fn_{function}", lang) + (TEXTS.get("fn_auto", lang) if chosen == "auto" else "")
    return note + ("\n\n" + TEXTS.get("pair_note", lang) if pair else "")


def check_top_k(top_k: Any) -> int:
    return whole_number_in_range(top_k, 0, MAX_TOP_K, lambda: task_logic.TEXTS.error("top_k_range", high=MAX_TOP_K, value=top_k))


def build(ctx: TabContext) -> None:
    import gradio as gr

    task = ctx.tasks[0]
    default = ctx.default_model(task)
    limits = ctx.limits

    def classify_text(text: str, model: str = default, top_k: int = 0, text_pair: str = "", function_to_apply: str = "auto",
                      progress: Any = gr.Progress(), request: Any = None) -> tuple[dict[str, float], str, str]:
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
        loaded = ctx.load(model, task, progress)
        function = task_logic.model_function(loaded.model.model.config) if chosen == "auto" else chosen
        inputs = task_logic.pipeline_input(text, text_pair)
        scores = task_logic.classify(loaded.model, [inputs], chosen, top or None)[0]
        # top_k=None must be written out: left out, the pipeline returns only the best label.
        call = {**task_logic.call_options(chosen, top or None), "top_k": top or Raw("None")}
        code = pipeline_snippet(task, loaded.source, [inputs], call, load_kwargs=snippet_load_kwargs(loaded))
        return {s["label"]: float(s["score"]) for s in scores}, score_note(function, chosen, bool(text_pair), lang), code

    def classify_dataset(file: str | None, column: str = "", model: str = default, function_to_apply: str = "auto",
                         hub_dataset: str = "", hub_split: str = "", progress: Any = gr.Progress(),
                         request: Any = None) -> tuple[str, Any, str]:
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
        table, name = datasets.open_dataset(file, column, limits, hub_dataset, hub_split, progress, lang)
        chosen = task_logic.check_function(function_to_apply)
        loaded = ctx.load(model, task, progress)
        labels = list(loaded.model.model.config.id2label.values())

        def run_batch(texts: list[str]) -> list[list[Any]]:
            rows = []
            for scores in task_logic.classify(loaded.model, texts, chosen, None, batch_size=datasets.BATCH_SIZE):
                by_label = {s["label"]: round(float(s["score"]), 6) for s in scores}
                rows.append([scores[0]["label"], by_label[scores[0]["label"]], *(by_label.get(label) for label in labels)])
            return rows

        return datasets.run_dataset(table, name, run_batch, ["label", "score", *labels], progress, lang, "text_classification_")

    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=3)
            text_pair = gr.Textbox(label=TEXTS.ui("text_pair"), lines=2, value="")
            model = model_picker(ctx, task)
            with gr.Row():
                top_k = gr.Slider(0, MAX_TOP_K, value=0, step=1, label=TEXTS.ui("top_k"))
                function = gr.Radio([(TEXTS.ui(f"choice_{name}"), name) for name in task_logic.FUNCTIONS], value="auto", label=TEXTS.ui("function"),
                                    info=TEXTS.ui("function_info"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            scores = gr.Label(label=TEXTS.ui("scores"))
            note = gr.Markdown(label=TEXTS.ui("note"))
    code = code_panel()
    handler = guarded(classify_text, gpu=True)
    inputs = [text, model, top_k, text_pair, function]
    outputs = [scores, note, code]
    nli = next((m.id for m in ctx.models(task) if "mnli" in m.id.lower()), None)
    examples = [[sample, default, 0, "", "auto"] for sample in EXAMPLE_TEXTS]
    if nli:
        examples.append([NLI_EXAMPLE[0], nli, 0, NLI_EXAMPLE[1], "auto"])
    # The button's event is registered first so it owns the endpoint name (the examples' run is unnamed).
    run.click(handler, inputs, outputs, api_name="classify_text")
    gr.Examples(examples, inputs=inputs, outputs=outputs, fn=handler, run_on_click=True, cache_examples=False,
                label=COMMON.ui("examples"), example_labels=[" → ".join(filter(None, (e[0], e[3]))) for e in examples])
    panel = dataset_panel(limits)
    panel.run.click(guarded(classify_dataset, gpu=True), panel.inputs(model, function), panel.outputs,
                    api_name="classify_dataset")
    about_panel(TEXTS)
