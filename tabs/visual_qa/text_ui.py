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

from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.snippets import format_call, from_pretrained_kwargs
from playground.core.texts import Texts, request_language
from playground.tasks import extractive_qa as task_logic
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker

TASK = "question-answering"
EXAMPLE_QUESTION = "Where do I work?"
EXAMPLE_CONTEXT = "My name is Sylvain and I work at Hugging Face in Brooklyn."
EXAMPLES = (
    (EXAMPLE_QUESTION, EXAMPLE_CONTEXT),
    ("What is my name?", EXAMPLE_CONTEXT),
)

TEXTS = Texts.load("visual_qa.text", Path(__file__).with_name("locales"))


def qa_snippet(
    loaded: Any,
    question: str,
    context: str,
    top_k: int,
    max_answer_length: int,
    allow_no_answer: bool,
    result: task_logic.Result,
) -> str:
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
        f'inputs = tokenizer(question, context, truncation="only_second", max_length={result.window_tokens}, '
        f"stride={result.doc_stride},",
        '                   return_overflowing_tokens=True, return_offsets_mapping=True, padding=True, return_tensors="pt")',
        'offsets = inputs.pop("offset_mapping")',
        'inputs.pop("overflow_to_sample_mapping")',
        "with torch.inference_mode():",
        "    output = model(**{k: v.to(model.device) for k, v in inputs.items() if k in tokenizer.model_input_names})",
        "",
        "answers, no_answer = {}, 1.0",
        "for window in range(len(offsets)):",
        "    in_context = torch.tensor([part == 1 for part in inputs.sequence_ids(window)])",
        "    keep = in_context.clone()",
        '    keep[0] = True  # the [CLS] token scores "no answer"',
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
        'result = [{"answer": context[s:e], "score": score, "start": s, "end": e} for (s, e), score in answers.items()]',
    ]
    if allow_no_answer:
        lines.append('result.append({"answer": "", "score": no_answer, "start": 0, "end": 0})  # "no answer"')
    lines += [f'print(sorted(result, key=lambda answer: -answer["score"])[:{top_k}])']
    return "\n".join(lines) + "\n"


def reading_note(result: task_logic.Result, lang: str) -> str:
    note = (
        TEXTS.get("one_window", lang, window=result.window_tokens)
        if result.windows == 1
        else TEXTS.get("windows", lang, count=result.windows, window=result.window_tokens, stride=result.doc_stride)
    )
    if result.answers and not result.answers[0].answer:
        note += "\n\n" + TEXTS.get("no_answer", lang, score=result.answers[0].score)
    return note


def answer_question(
    ctx: TabContext,
    question: str,
    context: str,
    model: str | None = None,
    top_k: int = 1,
    max_answer_length: int = 30,
    allow_no_answer: bool = False,
    progress: Any = None,
    request: Any = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], str, str]:
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
    top = whole_number_in_range(
        top_k,
        1,
        task_logic.MAX_TOP_K,
        lambda: task_logic.TEXTS.error("top_k_range", high=task_logic.MAX_TOP_K, value=top_k),
    )
    longest = whole_number_in_range(
        max_answer_length,
        1,
        task_logic.MAX_ANSWER_TOKENS,
        lambda: task_logic.TEXTS.error(
            "answer_length_range", high=task_logic.MAX_ANSWER_TOKENS, value=max_answer_length
        ),
    )
    loaded = ctx.load(model, TASK, progress)
    result = loaded.model(
        question, context, top_k=top, max_answer_length=longest, allow_no_answer=bool(allow_no_answer)
    )
    code = qa_snippet(loaded, question, context, top, longest, bool(allow_no_answer), result)
    return (
        task_logic.highlighted(context, result.answers),
        [a.as_dict() for a in result.answers],
        reading_note(result, lang),
        code,
    )


def build_text_qa(ctx: TabContext) -> None:
    """The "Text" sub-tab (when the registry entry serves extractive QA and the catalog lists a model for it)."""
    import gradio as gr

    if TASK not in ctx.tasks or not ctx.models(TASK):
        return
    default = ctx.default_model(TASK)

    with gr.Tab(TEXTS.ui("title")):
        with gr.Row():
            with gr.Column():
                question = gr.Textbox(label=TEXTS.ui("question"))
                context = gr.Textbox(label=TEXTS.ui("context"), lines=6)
                model = model_picker(ctx, TASK)
                with gr.Row():
                    top_k = gr.Slider(1, task_logic.MAX_TOP_K, value=1, step=1, label=TEXTS.ui("top_k"))
                    longest = gr.Slider(
                        1, task_logic.MAX_ANSWER_TOKENS, value=30, step=1, label=TEXTS.ui("max_answer_length")
                    )
                allow_no_answer = gr.Checkbox(value=False, label=TEXTS.ui("allow_no_answer"))
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                highlighted = gr.HighlightedText(label=TEXTS.ui("highlighted"), combine_adjacent=False)
                note = gr.Markdown(label=TEXTS.ui("note"))
                answers = gr.JSON(label=TEXTS.ui("answers"))
        code = code_panel()
        handler = guarded(bind(answer_question, ctx, model=default, progress=gr.Progress()), gpu=True)
        inputs = [question, context, model, top_k, longest, allow_no_answer]
        outputs = [highlighted, answers, note, code]
        run.click(handler, inputs, outputs, api_name="answer_question")  # first: it owns the endpoint name
        gr.Examples(
            [[q, c, default, 1, 30, False] for q, c in EXAMPLES],
            inputs=inputs,
            outputs=outputs,
            fn=handler,
            run_on_click=True,
            cache_examples=False,
            label=COMMON.ui("examples"),
            example_labels=[f"{q} ({c[:40]}…)" for q, c in EXAMPLES],
        )
        about_panel(TEXTS)
