"""Summarization tab: a long text in, a short one out, written token by token.

Endpoint:
- `/summarize(text, model, max_new_tokens, min_new_tokens, num_beams)` -> summary (streamed), note, code.

Sequence-to-sequence models (BART fine-tuned on CNN/DailyMail, T5 / flan-T5 with their
"summarize: " prefix) run through `AutoModelForSeq2SeqLM.generate` (`playground.engines.seq2seq`): the
`summarization` pipeline no longer exists in transformers 5. A text longer than the model reads is
cut to its limit, and the note says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.snippets import from_pretrained_kwargs
from playground.core.texts import Texts, request_language
from playground.engines import seq2seq
from playground.web.errors import guarded
from playground.web.ui import (
    COMMON,
    TabContext,
    about_panel,
    bind,
    chat_task,
    code_panel,
    model_picker,
    tab_default_model,
    tab_models,
)

EXAMPLE = (
    "The Hugging Face course teaches natural language processing with the libraries of the Hugging Face "
    "ecosystem: Transformers, Datasets, Tokenizers and Accelerate. Its first chapters show what Transformer "
    "models can do with a single line of code, the pipeline function, and then open it up: the tokenizer turns "
    "text into numbers, the model turns those numbers into predictions, and post-processing turns predictions "
    "back into something people can read. Later chapters fine-tune a pretrained model on a dataset of one's own "
    "and share it on the Hub. The course is free, needs no account, and can be followed in several languages, "
    "Korean among them."
)

TEXTS = Texts.load("summarization", Path(__file__).with_name("locales"))


def check_lengths(max_new_tokens: Any, min_new_tokens: Any, num_beams: Any) -> tuple[int, int, int]:
    def number(value: Any, name: str, low: int, high: int) -> int:
        return whole_number_in_range(
            value, low, high, lambda: seq2seq.TEXTS.error("range", name=name, low=low, high=high, value=value)
        )

    most = number(max_new_tokens, "max_new_tokens", 1, seq2seq.MAX_NEW_TOKENS)
    least = number(min_new_tokens, "min_new_tokens", 0, seq2seq.MAX_NEW_TOKENS)
    beams = number(num_beams, "num_beams", 0, seq2seq.MAX_BEAMS)
    if least > most:
        raise seq2seq.TEXTS.error("min_over_max", low=least, high=most)
    return most, least, beams


def summarize(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    max_new_tokens: int = 128,
    min_new_tokens: int = 0,
    num_beams: int = 0,
    progress: Any = None,
    request: Any = None,
) -> Iterator[tuple[str, Any, Any]]:
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
    entry = ctx.entry(model or tab_default_model(ctx))
    if entry.task == chat_task(ctx):
        yield from summarize_with_chat(ctx, entry.id, text, most, progress, lang)
        return
    loaded = ctx.load(entry.id, ctx.tasks[0], progress)
    generator = loaded.model
    prefix = generator.prefix(ctx.tasks[0])
    source = prefix + text
    tokens, limit = generator.count_tokens(source), generator.input_limit
    notes = [TEXTS.get("prefix", lang, prefix=prefix)] if prefix else []
    notes.append(
        seq2seq.TEXTS.get("truncated", lang, kept=limit, total=tokens)
        if tokens > limit
        else TEXTS.get("read_all", lang, tokens=tokens, limit=limit)
    )
    asked = {"max_new_tokens": most, "num_beams": beams or None, "min_new_tokens": least or None}
    settings, used = generator.settings(ctx.tasks[0], loaded.entry.generate_kwargs, asked, loaded.entry.label, lang)
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


def summarize_with_chat(
    ctx: TabContext, model: str, text: str, most: int, progress: Any, lang: str
) -> Iterator[tuple[str, Any, Any]]:
    loaded = ctx.load(model, chat_task(ctx), progress)
    prompt = seq2seq.CHAT_PROMPTS[ctx.tasks[0]].format(text=text)
    note = TEXTS.get("chat_prompt", lang, label=loaded.entry.label) + "\n\n```text\n" + prompt + "\n```"
    # The same engine as the text-generation tab's (batched with its requests, under the same budget).
    code, summaries = seq2seq.ask_chat_model(ctx.engines.local(loaded), prompt, most)
    for summary in summaries:
        yield summary, note, code


def build(ctx: TabContext) -> None:
    import gradio as gr

    entries, default = tab_models(ctx), tab_default_model(ctx)

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
    handler = guarded(bind(summarize, ctx, model=default, progress=gr.Progress()), gpu=True)
    inputs, outputs = [text, model, most, least, beams], [summary, note, code]
    run.click(handler, inputs, outputs, api_name="summarize")  # first: it owns the endpoint name
    gr.Examples(
        [[EXAMPLE, default, 128, 0, 0]],
        inputs=inputs,
        outputs=outputs,
        fn=handler,
        run_on_click=True,
        cache_examples=False,
        label=COMMON.ui("examples"),
        example_labels=[EXAMPLE[:80] + "…"],
    )
    about_panel(TEXTS)
