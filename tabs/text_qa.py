"""Questions about a text (extractive question answering): the "Text" sub-tab of the visual QA tab.

Endpoint:
- `/answer_question(question, context, model, top_k, max_answer_length, allow_no_answer)` -> the
  context with the answer span(s) highlighted, answers (JSON list: answer, score, start, end, window:
  `context[start:end] == answer`), note, code.

transformers 5 has no question-answering pipeline: the model runs through
`playground.tasks.extractive_qa` (an adapter), and "show code" prints the AutoModel code that does
the same. `build_text_qa(ctx)` is called inside the visual QA tab's `build()`.
"""

from __future__ import annotations

from typing import Any

from playground.web.errors import guarded
from playground.core.checks import whole_number_in_range
from playground.core.snippets import format_call, from_pretrained_kwargs
from playground.tasks import extractive_qa as task_logic
from playground.core.texts import Texts, request_language
from playground.web.ui import COMMON, TabContext, about_panel, code_panel, model_picker

TASK = "question-answering"
EXAMPLE_QUESTION = "Where do I work?"
EXAMPLE_CONTEXT = "My name is Sylvain and I work at Hugging Face in Brooklyn."
EXAMPLES = (
    (EXAMPLE_QUESTION, EXAMPLE_CONTEXT),
    ("What is my name?", EXAMPLE_CONTEXT),
)

STRINGS = {
    "en": {
        "title": "Text",
        "question": "Question",
        "context": "Context (the text that holds the answer)",
        "top_k": "Number of answers",
        "max_answer_length": "Longest answer (tokens)",
        "allow_no_answer": "The text may not hold the answer (SQuAD 2.0 models can say so)",
        "highlighted": "The answer in the context",
        "answers": "Answers (start and end are character offsets in the context)",
        "note": "How the context was read",
        "one_window": "The question and the context fit in one window of {window} tokens.",
        "windows": (
            "The context was too long for one window: it was read in {count} windows of {window} tokens that "
            "overlap by {stride} tokens (doc_stride), and the best answers of all windows were compared."
        ),
        "no_answer": "The model's best guess is that the context holds **no answer** (score {score:.3f}).",
        "about": (
            "Extractive question answering picks the answer out of the text: the model (BERT, DistilBERT, RoBERTa "
            "fine-tuned on SQuAD) reads the question and the context together and scores every token as the start "
            "and as the end of the answer. The answer is the span with the best P(start) × P(end); its `start` and "
            "`end` point at characters of your context. A long context is read in overlapping windows. SQuAD 2.0 "
            "models were also trained to say that there is no answer. transformers 5 removed the old "
            "`question-answering` pipeline, so this runs `AutoModelForQuestionAnswering` directly: **show code** "
            "has the lines that do it."
        ),
    },
    "ko": {
        "title": "텍스트",
        "question": "질문",
        "context": "문맥 (답이 들어 있는 글)",
        "top_k": "답 개수",
        "max_answer_length": "가장 긴 답 (토큰)",
        "allow_no_answer": "글에 답이 없을 수도 있음 (SQuAD 2.0 모델은 그렇다고 말할 수 있음)",
        "highlighted": "문맥 속의 답",
        "answers": "답 (start와 end는 문맥 속 글자 위치)",
        "note": "문맥을 읽은 방법",
        "one_window": "질문과 문맥이 {window}토큰 창 하나에 들어갔습니다.",
        "windows": (
            "문맥이 창 하나에 들어가기에 너무 길어서, {stride}토큰씩 겹치는(doc_stride) {window}토큰 창 {count}개로 "
            "나누어 읽고 모든 창의 가장 좋은 답을 비교했습니다."
        ),
        "no_answer": "모델은 문맥에 **답이 없다**고 봅니다 (점수 {score:.3f}).",
        "about": (
            "추출형 질의응답은 글에서 답을 골라냅니다: 모델(SQuAD로 미세조정한 BERT, DistilBERT, RoBERTa)은 질문과 "
            "문맥을 함께 읽고 모든 토큰에 답의 시작과 끝이 될 점수를 매깁니다. 답은 P(시작) × P(끝)이 가장 큰 구간이고, "
            "`start`와 `end`는 문맥의 글자를 가리킵니다. 긴 문맥은 겹치는 창으로 나누어 읽습니다. SQuAD 2.0 모델은 답이 "
            "없다고 말하도록 학습되었습니다. transformers 5에서 예전 `question-answering` 파이프라인이 없어져서 "
            "`AutoModelForQuestionAnswering`을 직접 실행합니다: **코드 보기**에 그 코드가 있습니다."
        ),
    },
}
TEXTS = Texts("text_qa", STRINGS)


def qa_snippet(loaded: Any, question: str, context: str, top_k: int, max_answer_length: int, allow_no_answer: bool,
               result: task_logic.Result) -> str:
    """AutoModelForQuestionAnswering code that finds the same answers as the app."""
    kwargs, device = from_pretrained_kwargs(loaded)
    load = format_call("AutoModelForQuestionAnswering.from_pretrained", [loaded.source], kwargs)
    lines = [
        "import torch",
        "from transformers import AutoModelForQuestionAnswering, AutoTokenizer",
        "",
        f"tokenizer = AutoTokenizer.from_pretrained({loaded.source!r})",
        f"model = {load}" + (f".to({device!r})" if device else ""),
        "",
        f"question = {question!r}",
        f"context = {context!r}",
        f"# A long context is read in windows of {result.window_tokens} tokens that overlap by {result.doc_stride}.",
        f"inputs = tokenizer(question, context, truncation=\"only_second\", max_length={result.window_tokens}, "
        f"stride={result.doc_stride},",
        "                   return_overflowing_tokens=True, return_offsets_mapping=True, padding=True, return_tensors=\"pt\")",
        "offsets = inputs.pop(\"offset_mapping\")",
        "inputs.pop(\"overflow_to_sample_mapping\")",
        "with torch.inference_mode():",
        "    output = model(**{k: v.to(model.device) for k, v in inputs.items() if k in tokenizer.model_input_names})",
        "",
        "answers, no_answer = {}, 1.0",
        "for window in range(len(offsets)):",
        "    in_context = torch.tensor([part == 1 for part in inputs.sequence_ids(window)])",
        "    keep = in_context.clone()",
        "    keep[0] = True  # the [CLS] token scores \"no answer\"",
        "    start = output.start_logits[window].float().masked_fill(~keep, -10_000.0).softmax(-1)",
        "    end = output.end_logits[window].float().masked_fill(~keep, -10_000.0).softmax(-1)",
        "    no_answer = min(no_answer, float(start[0] * end[0]))",
        f"    # P(start) * P(end) for every span of the context of at most {max_answer_length} tokens",
        "    pairs = torch.triu((start * in_context)[:, None] * (end * in_context)[None, :])",
        f"    pairs = (pairs - torch.triu(pairs, diagonal={max_answer_length})).flatten()",
        f"    scores, ids = pairs.topk(min({top_k}, int((pairs > 0).sum())))",
        "    for score, i in zip(scores.tolist(), ids.tolist()):",
        "        first, last = divmod(i, len(start))",
        "        span = (int(offsets[window, first, 0]), int(offsets[window, last, 1]))",
        "        answers[span] = max(score, answers.get(span, 0.0))",
        "",
        "result = [{\"answer\": context[s:e], \"score\": score, \"start\": s, \"end\": e} for (s, e), score in answers.items()]",
    ]
    if allow_no_answer:
        lines.append("result.append({\"answer\": \"\", \"score\": no_answer, \"start\": 0, \"end\": 0})  # \"no answer\"")
    lines += [f"print(sorted(result, key=lambda answer: -answer[\"score\"])[:{top_k}])"]
    return "\n".join(lines) + "\n"


def reading_note(result: task_logic.Result, lang: str) -> str:
    note = (TEXTS.get("one_window", lang, window=result.window_tokens) if result.windows == 1 else
            TEXTS.get("windows", lang, count=result.windows, window=result.window_tokens, stride=result.doc_stride))
    if result.answers and not result.answers[0].answer:
        note += "\n\n" + TEXTS.get("no_answer", lang, score=result.answers[0].score)
    return note


def build_text_qa(ctx: TabContext) -> None:
    """The "Text" sub-tab (when the registry entry serves extractive QA and the catalog lists a model for it)."""
    import gradio as gr

    if TASK not in ctx.tasks or not ctx.models(TASK):
        return
    default = ctx.default_model(TASK)

    def answer_question(question: str, context: str, model: str = default, top_k: int = 1, max_answer_length: int = 30,
                        allow_no_answer: bool = False, progress: Any = gr.Progress(),
                        request: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]], str, str]:
        """Find the answer to a question in a text (extractive QA): the span of the context that answers it.

        Args:
            question: The question.
            context: The text that holds the answer; long texts are read in overlapping windows.
            model: A catalog model id or label; empty for the default extractive QA model.
            top_k: How many answers to return, best first.
            max_answer_length: The longest answer, in tokens.
            allow_no_answer: Let the model answer that the context holds no answer (SQuAD 2.0 models).
        """
        lang = request_language(request)
        question, context = task_logic.check_inputs(question, context)
        top = whole_number_in_range(top_k, 1, task_logic.MAX_TOP_K,
                                    lambda: task_logic.TEXTS.error("top_k_range", high=task_logic.MAX_TOP_K, value=top_k))
        longest = whole_number_in_range(max_answer_length, 1, task_logic.MAX_ANSWER_TOKENS,
                                        lambda: task_logic.TEXTS.error("answer_length_range", high=task_logic.MAX_ANSWER_TOKENS,
                                                                       value=max_answer_length))
        loaded = ctx.load(model, TASK, progress)
        result = loaded.model(question, context, top_k=top, max_answer_length=longest, allow_no_answer=bool(allow_no_answer))
        code = qa_snippet(loaded, question, context, top, longest, bool(allow_no_answer), result)
        return (task_logic.highlighted(context, result.answers), [a.as_dict() for a in result.answers],
                reading_note(result, lang), code)

    with gr.Tab(TEXTS.ui("title")):
        with gr.Row():
            with gr.Column():
                question = gr.Textbox(label=TEXTS.ui("question"))
                context = gr.Textbox(label=TEXTS.ui("context"), lines=6)
                model = model_picker(ctx, TASK)
                with gr.Row():
                    top_k = gr.Slider(1, task_logic.MAX_TOP_K, value=1, step=1, label=TEXTS.ui("top_k"))
                    longest = gr.Slider(1, task_logic.MAX_ANSWER_TOKENS, value=30, step=1, label=TEXTS.ui("max_answer_length"))
                allow_no_answer = gr.Checkbox(value=False, label=TEXTS.ui("allow_no_answer"))
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                highlighted = gr.HighlightedText(label=TEXTS.ui("highlighted"), combine_adjacent=False)
                note = gr.Markdown(label=TEXTS.ui("note"))
                answers = gr.JSON(label=TEXTS.ui("answers"))
        code = code_panel()
        handler = guarded(answer_question, gpu=True)
        inputs = [question, context, model, top_k, longest, allow_no_answer]
        outputs = [highlighted, answers, note, code]
        run.click(handler, inputs, outputs, api_name="answer_question")  # first: it owns the endpoint name
        gr.Examples([[q, c, default, 1, 30, False] for q, c in EXAMPLES], inputs=inputs, outputs=outputs, fn=handler,
                    run_on_click=True, cache_examples=False, label=COMMON.ui("examples"),
                    example_labels=[f"{q} ({c[:40]}…)" for q, c in EXAMPLES])
        about_panel(TEXTS)
