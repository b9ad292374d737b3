"""Summarization tab: a long text in, a short one out, written token by token.

Endpoint:
- `/summarize(text, model, max_new_tokens, min_new_tokens, num_beams)` -> summary (streamed), note, code.

Sequence-to-sequence models (BART fine-tuned on CNN/DailyMail, T5 / flan-T5 with their
"summarize: " prefix) run through `AutoModelForSeq2SeqLM.generate` (`playground.tasks.seq2seq`): the
`summarization` pipeline no longer exists in transformers 5. A text longer than the model reads is
cut to its limit, and the note says so.
"""

from __future__ import annotations

from typing import Any, Iterator

from playground.errors import guarded
from playground.inputs import whole_number_in_range
from playground.snippets import from_pretrained_kwargs
from playground.tasks import seq2seq
from playground.texts import Texts, request_language
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

EXAMPLE = (
    "The Hugging Face course teaches natural language processing with the libraries of the Hugging Face "
    "ecosystem: Transformers, Datasets, Tokenizers and Accelerate. Its first chapters show what Transformer "
    "models can do with a single line of code, the pipeline function, and then open it up: the tokenizer turns "
    "text into numbers, the model turns those numbers into predictions, and post-processing turns predictions "
    "back into something people can read. Later chapters fine-tune a pretrained model on a dataset of one's own "
    "and share it on the Hub. The course is free, needs no account, and can be followed in several languages, "
    "Korean among them."
)

STRINGS = {
    "en": {
        "title": "Summarization",
        "text": "Text to summarize",
        "max_new_tokens": "Max new tokens",
        "min_new_tokens": "Min new tokens",
        "num_beams": "Beams (0: the model's own; 1 streams the text as it is written; more search longer and show it at the end)",
        "summary": "Summary",
        "note": "Note",
        "read_all": "The model read the whole text ({tokens} of at most {limit} tokens).",
        "prefix": "The model's task prefix {prefix!r} was put before the text (from its config).",
        "chat_prompt": "{label} is a chat model: it was sent this fixed prompt (greedy decoding; beams and min new tokens apply to sequence-to-sequence models only):",
        "about": (
            "Summarization is a sequence-to-sequence task: an encoder reads the text, a decoder writes the summary "
            "one token at a time, each token chosen from the text read and the tokens already written. BART-CNN was "
            "fine-tuned on news articles and their highlights; T5 models were trained on many tasks and are told "
            "which one with a prefix (\"summarize: \"). transformers 5 removed the `summarization` pipeline, so the "
            "tab calls `AutoModelForSeq2SeqLM.generate()` directly (see **show code**). With one beam the words "
            "appear as they are generated; beam search keeps several candidates and shows the best at the end. "
            "A model reads a limited number of tokens: a longer text is cut, and the note says so. An "
            "instruction-tuned chat model (a `text-generation` model of the catalog) can summarize too: it gets a "
            "fixed prompt, shown in the note."
        ),
    },
    "ko": {
        "title": "요약",
        "text": "요약할 텍스트",
        "max_new_tokens": "최대 생성 토큰 수",
        "min_new_tokens": "최소 생성 토큰 수",
        "num_beams": "빔 수 (0이면 모델 자체 설정, 1이면 쓰는 대로 글이 나오고, 더 많으면 더 오래 찾은 뒤 끝에 보여 줌)",
        "summary": "요약",
        "note": "참고",
        "read_all": "모델이 텍스트 전체를 읽었습니다 (최대 {limit}토큰 중 {tokens}토큰).",
        "prefix": "모델의 작업 접두어 {prefix!r}를 텍스트 앞에 붙였습니다 (모델 설정에서).",
        "chat_prompt": "{label}은(는) 채팅 모델이라 이 고정 프롬프트를 받았습니다 (greedy 디코딩; 빔과 최소 생성 토큰 수는 시퀀스-투-시퀀스 모델에만 적용):",
        "about": (
            "요약은 시퀀스-투-시퀀스 작업입니다: 인코더가 텍스트를 읽고, 디코더가 읽은 내용과 이미 쓴 토큰을 보고 "
            "요약을 한 토큰씩 씁니다. BART-CNN은 뉴스 기사와 그 요점으로 미세조정되었고, T5 모델은 여러 작업으로 "
            "학습되어 접두어(\"summarize: \")로 어떤 작업인지 듣습니다. transformers 5에서 `summarization` 파이프라인이 "
            "없어져서 이 탭은 `AutoModelForSeq2SeqLM.generate()`를 직접 부릅니다 (**코드 보기** 참고). 빔이 하나면 "
            "생성되는 대로 단어가 나타나고, 빔 탐색은 후보 여럿을 유지하다가 끝에 가장 좋은 것을 보여 줍니다. 모델이 "
            "읽는 토큰 수에는 한도가 있어서, 더 긴 텍스트는 잘리고 참고에 그렇게 적힙니다. 지시를 따르도록 조정된 채팅 "
            "모델(카탈로그의 `text-generation` 모델)도 요약할 수 있습니다: 고정 프롬프트를 받으며, 그 프롬프트는 참고에 나옵니다."
        ),
    },
}
TEXTS = Texts("summarization", STRINGS)


def check_lengths(max_new_tokens: Any, min_new_tokens: Any, num_beams: Any) -> tuple[int, int, int]:
    def number(value: Any, name: str, low: int, high: int) -> int:
        return whole_number_in_range(value, low, high, lambda: seq2seq.TEXTS.error("range", name=name, low=low, high=high, value=value))

    most = number(max_new_tokens, "max_new_tokens", 1, seq2seq.MAX_NEW_TOKENS)
    least = number(min_new_tokens, "min_new_tokens", 0, seq2seq.MAX_NEW_TOKENS)
    beams = number(num_beams, "num_beams", 0, seq2seq.MAX_BEAMS)
    if least > most:
        raise seq2seq.TEXTS.error("min_over_max", low=least, high=most)
    return most, least, beams


def build(ctx: TabContext) -> None:
    import gradio as gr

    task, *others = ctx.tasks
    chat_task = others[0] if others else None
    entries = [*ctx.models(task), *(ctx.models(chat_task) if chat_task else [])]
    # A catalog may list only chat models here: the default is then a chat model.
    default = next((m for m in entries if m.default), entries[0]).id

    def summarize(text: str, model: str = default, max_new_tokens: int = 128, min_new_tokens: int = 0, num_beams: int = 0,
                  progress: Any = gr.Progress(), request: Any = None) -> Iterator[tuple[str, Any, Any]]:
        """Summarize a text with a sequence-to-sequence model (BART, T5) or a chat model; the summary streams as it is written.

        Args:
            text: The text to summarize; a text longer than the model reads is cut to its limit.
            model: A catalog model id or label (a summarization model, or a chat model given a fixed prompt); empty for the tab's default.
            max_new_tokens: The longest summary, in tokens.
            min_new_tokens: The shortest summary, in tokens (0: no minimum beyond the model's own).
            num_beams: Beam search width; 0 for the model's own (BART-CNN: 4); 1 streams the summary token by token.
        """
        lang = request_language(request)
        text = seq2seq.check_text(text)
        most, least, beams = check_lengths(max_new_tokens, min_new_tokens, num_beams)
        entry = ctx.entry(model or default)
        if chat_task and entry.task == chat_task:
            yield from summarize_with_chat(entry.id, text, most, progress, lang)
            return
        loaded = ctx.load(entry.id, task, progress)
        generator = loaded.model
        prefix = generator.prefix(task)
        source = prefix + text
        tokens, limit = generator.count_tokens(source), generator.input_limit
        notes = [TEXTS.get("prefix", lang, prefix=prefix)] if prefix else []
        notes.append(seq2seq.TEXTS.get("truncated", lang, kept=limit, total=tokens) if tokens > limit
                     else TEXTS.get("read_all", lang, tokens=tokens, limit=limit))
        asked = {"max_new_tokens": most, "num_beams": beams or None, "min_new_tokens": least or None}
        settings, used = generator.settings(task, loaded.entry.generate_kwargs, asked, loaded.entry.label, lang)
        notes += used
        kwargs, device = from_pretrained_kwargs(loaded)
        code = seq2seq.seq2seq_snippet(loaded.source, kwargs, device, [[source]], settings.options, limit)
        note = "\n\n".join(notes)
        # The note and the code go out with every update unchanged: Gradio streams only what changed, and an
        # unchanged value costs less per update than gr.skip() (which rebuilds the component's config).
        summary = ""
        for summary in seq2seq.stream_lines(ctx.engines.seq2seq(loaded), [[source]], settings):
            yield summary, note, code
        yield summary, note, code

    def summarize_with_chat(model: str, text: str, most: int, progress: Any, lang: str) -> Iterator[tuple[str, Any, Any]]:
        loaded = ctx.load(model, chat_task, progress)
        prompt = seq2seq.CHAT_PROMPTS[task].format(text=text)
        request = seq2seq.chat_request(prompt, most)
        note = TEXTS.get("chat_prompt", lang, label=loaded.entry.label) + "\n\n```text\n" + prompt + "\n```"
        # The same engine as the text-generation tab's (batched with its requests, under the same budget).
        engine = ctx.engines.local(loaded)
        code = engine.snippet(request)
        summary = ""
        for summary in seq2seq.stream_chat(engine, request):
            yield summary, note, code
        yield summary, note, code

    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=8)
            model = model_picker(ctx, entries=entries)
            with gr.Row():
                most = gr.Slider(1, seq2seq.MAX_NEW_TOKENS, value=128, step=1, label=TEXTS.ui("max_new_tokens"))
                least = gr.Slider(0, seq2seq.MAX_NEW_TOKENS, value=0, step=1, label=TEXTS.ui("min_new_tokens"))
            beams = gr.Slider(0, seq2seq.MAX_BEAMS, value=0, step=1, label=TEXTS.ui("num_beams"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            summary = gr.Textbox(label=TEXTS.ui("summary"), lines=8, buttons=["copy"])
            note = gr.Markdown(label=TEXTS.ui("note"))
    code = code_panel()
    handler = guarded(summarize, gpu=True)
    inputs, outputs = [text, model, most, least, beams], [summary, note, code]
    run.click(handler, inputs, outputs, api_name="summarize")  # first: it owns the endpoint name
    gr.Examples([[EXAMPLE, default, 128, 0, 0]], inputs=inputs, outputs=outputs, fn=handler, run_on_click=True,
                cache_examples=False, label=COMMON.ui("examples"), example_labels=[EXAMPLE[:80] + "…"])
    about_panel(TEXTS)
