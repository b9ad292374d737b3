"""Tokenizer tab: what a model's tokenizer makes of a text, for any catalog model, one or several side by side.

Endpoints:
- `/tokenize(text, model, text_pair, add_special_tokens)` -> tokens (HTML), the text highlighted by
  token offsets, counts and decodings (Markdown), a table of every token, everything as JSON
  (tokens, input_ids, attention_mask, token_type_ids, offsets, special_tokens_mask), code.
- `/compare_tokenizers(text, models)` -> counts per model, the tokens side by side (HTML), code.
- `/tokenize_batch(texts, model, padding, max_length, truncation)` -> ids and attention masks, a note, code.
- `/decode_ids(ids, model)` -> decode(ids) with and without special tokens, the ids as tokens, code.
- `/chat_template(conversation, model, add_generation_prompt)` -> the prompt, its tokens, counts, code.

Only tokenizers are loaded (tabs.tokenizer.task), never weights; the model list is the tab's catalog
block followed by every other model of the catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.config.catalog import ModelEntry
from playground.core.texts import Texts, request_language
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel
from tabs.tokenizer import task

TEXTS = Texts.load("tokenizer", Path(__file__).with_name("locales"))

# The course's sentences, a Korean one (the lesson of side-by-side tokenizers) and the course's pair.
TEXT_EXAMPLES = (
    ("I've been waiting for a HuggingFace course my whole life.", ""),
    ("트랜스포머 강좌에 오신 것을 환영합니다.", ""),
    ("How old are you?", "I'm 6 years old"),
)
COMPARE_EXAMPLES = ("트랜스포머 강좌에 오신 것을 환영합니다.", "Tokenizers cut unbelievably long words into pieces.")
BATCH_EXAMPLE = "I've been waiting for a HuggingFace course my whole life.\nSo have I!"
CONVERSATION_EXAMPLE = (
    "system: You are a friendly teacher.\nuser: What is a token?\n"
    "assistant: A piece of text the model reads as one unit.\nuser: And an id?"
)


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def tokenizer_entry(ctx: TabContext, model: str | None) -> ModelEntry:
    """Any catalog model by id or label (the tab's own block first); else the app's rules for typed ids."""
    listed = task.listed_entry(ctx.catalog, ctx.key, str(model)) if model and str(model).strip() else None
    return listed or ctx.entry(model)


def tokenizers(ctx: TabContext) -> task.TokenizerCache:
    """The tab's tokenizers, loaded once for the app's lifetime."""
    return ctx.state.setdefault("tokenizers", task.TokenizerCache())


def load(ctx: TabContext, model: str | None) -> task.LoadedTokenizer:
    return tokenizers(ctx).load(ctx.catalog, tokenizer_entry(ctx, model))


def tokenize(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    text_pair: str = "",
    add_special_tokens: bool = True,
    request: Any = None,
) -> tuple[str, list[tuple[str, str | None]], str, Any, dict[str, Any], str]:
    """Tokenize a text (or a pair of texts) with one model's tokenizer: tokens, ids, masks, offsets, special tokens.

    Args:
        text: The text to tokenize.
        model: Any model of the catalog, by id or label (default: the tab's default); only its tokenizer is loaded.
        text_pair: A second text, for models that read sentence pairs (empty: one text).
        add_special_tokens: Whether to add the model's special tokens ([CLS], [SEP], <s>, ...).

    Returns:
        The tokens with their ids (HTML), the text highlighted by where each token came from, counts and decodings, a table of every token, everything as JSON, and Python code that does the same.
    """
    import pandas as pd

    lang = request_language(request)
    text = task.check_text(text)
    pair = task.check_text(text_pair) if text_pair and text_pair.strip() else None
    loaded = load(ctx, model)
    encoding = task.encode(loaded, text, pair, bool(add_special_tokens))
    header, rows = task.token_table(encoding)
    plain, skipped = task.decode_both(loaded, encoding.input_ids)
    details = {
        "model": loaded.entry.id,
        **encoding.as_dict(),
        **task.counts(encoding, text + (pair or "")),
        "decoded": plain,
        "decoded_skip_special_tokens": skipped,
        "model_max_length": loaded.limit,
    }
    spans = task.offset_spans(text, encoding)
    return (
        task.page_html([task.tokens_html(encoding)]),
        spans,
        task.summary_markdown(loaded, encoding, text + (pair or ""), lang),
        pd.DataFrame(rows, columns=header),
        details,
        task.tokenize_snippet(loaded.entry, text, pair, bool(add_special_tokens)),
    )


def compare_tokenizers(
    ctx: TabContext, text: str, models: list[str] | None = None, request: Any = None
) -> tuple[Any, str, str]:
    """Tokenize one text with several models' tokenizers, side by side.

    Args:
        text: The text to tokenize.
        models: Models of the catalog, by id or label (at most 6; empty: the first models of the tab's list).

    Returns:
        A table of counts per model (tokens, characters per token, unknown tokens), the tokens side by side (HTML), and Python code that does the same.
    """
    import pandas as pd

    lang = request_language(request)
    text = task.check_text(text)
    chosen = [m for m in (models or []) if m and str(m).strip()] or [e.id for e in default_comparison(ctx)]
    if len(chosen) > task.MAX_COMPARE:
        raise task.TEXTS.error("too_many_models", count=len(chosen), limit=task.MAX_COMPARE)
    rows, parts, entries = [], [], []
    for model in dict.fromkeys(chosen):
        loaded = load(ctx, model)
        encoding = task.encode(loaded, text)
        numbers = task.counts(encoding, text)
        unknown = task.unknown_count(loaded, encoding.input_ids)
        rows.append(
            [
                loaded.entry.label,
                numbers["token_count"],
                numbers["text_token_count"],
                numbers["characters_per_token"],
                unknown,
                len(loaded.tokenizer),
            ]
        )
        note = task.length_note(loaded, numbers["token_count"], lang)
        parts.append(task.tokens_html(encoding, loaded.entry.label, note))
        entries.append(loaded.entry)
    header = ["model", "tokens", "text_tokens", "characters_per_token", "unknown_tokens", "vocabulary"]
    return pd.DataFrame(rows, columns=header), task.page_html(parts), task.compare_snippet(entries, text)


def tokenize_batch(
    ctx: TabContext,
    texts: str,
    model: str | None = None,
    padding: str = "longest",
    max_length: int = 0,
    truncation: bool = True,
    request: Any = None,
) -> tuple[Any, Any, str, str]:
    """Tokenize several texts as one batch, padded to one length and truncated, as a model receives them.

    Args:
        texts: The texts, one per line (at most 16).
        model: Any model of the catalog, by id or label (default: the tab's default).
        padding: longest (pad to the longest text), max_length (pad to max_length) or do_not_pad.
        max_length: The length to pad or truncate to, in tokens (0: the model's limit).
        truncation: Whether to cut texts longer than max_length.

    Returns:
        The input_ids (one row per text), the attention masks, a note on what padding and truncation did, and Python code that does the same.
    """
    import pandas as pd

    lang = request_language(request)
    lines = task.check_lines(texts)
    loaded = load(ctx, model)
    length = int(max_length or 0) or None
    batch = task.encode_batch(loaded, lines, str(padding or "longest"), length, bool(truncation))
    header, ids, masks = task.batch_tables(batch)
    tokenizer = loaded.tokenizer
    truncated = [str(n) for n, cut in enumerate(batch.truncated) if cut]
    note = task.TEXTS.get(
        "batch_note",
        lang,
        count=len(lines),
        padding=padding,
        truncation=bool(truncation),
        max_length=length or loaded.limit,
        width=max(len(r) for r in batch.input_ids),
        pad=tokenizer.pad_token,
        pad_id=tokenizer.pad_token_id,
        truncated=", ".join(truncated) or task.TEXTS.get("none", lang),
    )
    code = task.batch_snippet(loaded.entry, lines, str(padding or "longest"), length, bool(truncation))
    return pd.DataFrame(ids, columns=header), pd.DataFrame(masks, columns=header), note, code


def decode_ids(ctx: TabContext, ids: str, model: str | None = None) -> tuple[str, str, str, str]:
    """Turn token ids back into text with a model's tokenizer, with and without its special tokens.

    Args:
        ids: Token ids, separated by commas or spaces (e.g. 101, 7592, 102).
        model: Any model of the catalog, by id or label (default: the tab's default).

    Returns:
        decode(ids), decode(ids, skip_special_tokens=True), the ids as tokens (HTML), and Python code that does the same.
    """
    values = task.parse_ids(ids)
    loaded = load(ctx, model)
    task.check_ids_known(loaded, values)
    plain, skipped = task.decode_both(loaded, values)
    encoding = task.ids_encoding(loaded, values)
    return plain, skipped, task.page_html([task.tokens_html(encoding)]), task.decode_snippet(loaded.entry, values)


def chat_default(ctx: TabContext) -> task.LoadedTokenizer:
    """The first model of the tab's own list whose tokenizer has a chat template."""
    for entry in ctx.models():
        loaded = tokenizers(ctx).load(ctx.catalog, entry)
        if getattr(loaded.tokenizer, "chat_template", None):
            return loaded
    raise task.TEXTS.error("no_chat_model")


def chat_template(
    ctx: TabContext,
    conversation: str,
    model: str | None = None,
    add_generation_prompt: bool = True,
    request: Any = None,
) -> tuple[str, str, str, str]:
    """Format a conversation with a chat model's chat template: the exact prompt the model reads, and its tokens.

    Args:
        conversation: One message a line, each starting with "system:", "user:" or "assistant:".
        model: A chat model of the catalog, by id or label (default: the first of the tab's list with a chat template).
        add_generation_prompt: Whether to end with the start of the assistant's turn (as when asking for an answer).

    Returns:
        The prompt text, its tokens (HTML), counts, and Python code that does the same.
    """
    lang = request_language(request)
    messages = task.parse_conversation(conversation)
    loaded = load(ctx, model) if model and str(model).strip() else chat_default(ctx)
    prompt = task.apply_chat_template(loaded, messages, bool(add_generation_prompt))
    # The template already wrote the special tokens into the prompt.
    encoding = task.encode(loaded, prompt, add_special_tokens=False)
    return (
        prompt,
        task.page_html([task.tokens_html(encoding)]),
        task.summary_markdown(loaded, encoding, prompt, lang),
        task.chat_snippet(loaded.entry, messages, bool(add_generation_prompt)),
    )


def default_comparison(ctx: TabContext) -> list[ModelEntry]:
    return task.catalog_entries(ctx.catalog, ctx.key)[: task.MAX_COMPARE]


def ids_text(details: dict[str, Any] | None) -> str:
    """The ids of the last /tokenize answer, for the decode box."""
    return ", ".join(map(str, (details or {}).get("input_ids", [])))


# ---- the page ----


def tokenizer_picker(choices: list[tuple[str, str]], value: str | None, **extra: Any) -> Any:
    """A model dropdown over every catalog model (typed ids reach the handler, which explains a refusal)."""
    import gradio as gr

    return gr.Dropdown(
        choices=choices, value=value, label=COMMON.ui("model"), allow_custom_value=True, interactive=True, **extra
    )


def build(ctx: TabContext) -> None:
    import gradio as gr

    entries = task.catalog_entries(ctx.catalog, ctx.key)
    choices = [(e.label, e.id) for e in entries]
    default = ctx.default_model()

    with gr.Tab(TEXTS.ui("one_tab")):
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(label=TEXTS.ui("text"), lines=3, value=TEXT_EXAMPLES[0][0])
                text_pair = gr.Textbox(label=TEXTS.ui("text_pair"), lines=1, value="")
                model = tokenizer_picker(choices, default)
                special = gr.Checkbox(label=TEXTS.ui("add_special_tokens"), value=True)
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                tokens = gr.HTML(label=TEXTS.ui("tokens"), show_label=True, container=True)
                summary = gr.Markdown()
                offsets = gr.HighlightedText(label=TEXTS.ui("offsets"), show_legend=False, combine_adjacent=False)
        table = gr.Dataframe(label=TEXTS.ui("table"), interactive=False, wrap=True, max_height=360)
        with gr.Accordion(TEXTS.ui("details"), open=False):
            details = gr.JSON(label=TEXTS.ui("details"))
        code = code_panel()
        run_tokenize = guarded(bind(tokenize, ctx, model=default))
        inputs = [text, model, text_pair, special]
        outputs = [tokens, offsets, summary, table, details, code]
        with gr.Accordion(TEXTS.ui("decode_tab"), open=False):
            with gr.Row():
                ids_box = gr.Textbox(label=TEXTS.ui("ids"), scale=3)
                decode_run = gr.Button(COMMON.ui("run"), scale=1)
            with gr.Row():
                decoded = gr.Textbox(label=TEXTS.ui("decoded"), interactive=False)
                decoded_skip = gr.Textbox(label=TEXTS.ui("decoded_skip"), interactive=False)
            id_tokens = gr.HTML(label=TEXTS.ui("id_tokens"), show_label=True, container=True)
            decode_code = code_panel()
        # The Run event first: Examples would otherwise take the endpoint name of the function they share.
        run.click(run_tokenize, inputs, outputs, api_name="tokenize").then(
            ids_text, details, ids_box, api_visibility="private"
        )
        examples = gr.Examples(
            [[t, None, p, True] for t, p in TEXT_EXAMPLES],
            inputs=inputs,
            outputs=outputs,
            fn=run_tokenize,
            run_on_click=True,
            cache_examples=False,
            visible_columns=[0, 2],
            label=TEXTS.ui("examples"),
        )
        examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
        decode_run.click(
            guarded(bind(decode_ids, ctx, model=default)),
            [ids_box, model],
            [decoded, decoded_skip, id_tokens, decode_code],
            api_name="decode_ids",
        )

    with gr.Tab(TEXTS.ui("compare_tab")):
        with gr.Row():
            with gr.Column():
                compare_text = gr.Textbox(label=TEXTS.ui("text"), lines=3, value=COMPARE_EXAMPLES[0])
                compare_models = gr.Dropdown(
                    choices=choices,
                    value=[e.id for e in default_comparison(ctx)],
                    multiselect=True,
                    max_choices=task.MAX_COMPARE,
                    label=TEXTS.ui("models"),
                    allow_custom_value=True,
                    interactive=True,
                )
                compare_run = gr.Button(COMMON.ui("run"), variant="primary")
            compare_table = gr.Dataframe(label=TEXTS.ui("comparison_table"), interactive=False, wrap=True)
        comparison = gr.HTML(label=TEXTS.ui("comparison"), show_label=True, container=True)
        compare_code = code_panel()
        run_compare = guarded(bind(compare_tokenizers, ctx))
        compare_inputs, compare_outputs = [compare_text, compare_models], [compare_table, comparison, compare_code]
        compare_run.click(run_compare, compare_inputs, compare_outputs, api_name="compare_tokenizers")
        examples = gr.Examples(
            [[t, None] for t in COMPARE_EXAMPLES],
            inputs=compare_inputs,
            outputs=compare_outputs,
            fn=run_compare,
            run_on_click=True,
            cache_examples=False,
            visible_columns=[0],
            label=TEXTS.ui("examples"),
        )
        examples.dataset.headers = []

    with gr.Tab(TEXTS.ui("batch_tab")):
        with gr.Row():
            with gr.Column():
                batch_texts = gr.Textbox(label=TEXTS.ui("texts"), lines=4, value=BATCH_EXAMPLE)
                batch_model = tokenizer_picker(choices, default)
                with gr.Row():
                    padding = gr.Radio(
                        [(TEXTS.ui(f"padding_{name}"), name) for name in task.PADDING_CHOICES],
                        value="longest",
                        label=TEXTS.ui("padding"),
                    )
                    max_length = gr.Number(
                        value=0, precision=0, minimum=0, maximum=task.MAX_BATCH_LENGTH, label=TEXTS.ui("max_length")
                    )
                    truncation = gr.Checkbox(value=True, label=TEXTS.ui("truncation"))
                batch_run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                batch_note = gr.Markdown()
                ids_table = gr.Dataframe(label=TEXTS.ui("ids_table"), interactive=False)
                mask_table = gr.Dataframe(label=TEXTS.ui("mask_table"), interactive=False)
        batch_code = code_panel()
        run_batch = guarded(bind(tokenize_batch, ctx, model=default))
        batch_inputs = [batch_texts, batch_model, padding, max_length, truncation]
        batch_outputs = [ids_table, mask_table, batch_note, batch_code]
        batch_run.click(run_batch, batch_inputs, batch_outputs, api_name="tokenize_batch")
        examples = gr.Examples(
            [[BATCH_EXAMPLE, None, "longest", 0, True], [BATCH_EXAMPLE, None, "max_length", 8, True]],
            inputs=batch_inputs,
            outputs=batch_outputs,
            fn=run_batch,
            run_on_click=True,
            cache_examples=False,
            visible_columns=[0, 2, 3],
            label=TEXTS.ui("examples"),
        )
        examples.dataset.headers = []

    with gr.Tab(TEXTS.ui("chat_tab")):
        with gr.Row():
            with gr.Column():
                conversation = gr.Textbox(label=TEXTS.ui("conversation"), lines=5, value=CONVERSATION_EXAMPLE)
                chat_model = tokenizer_picker(choices, None, info=TEXTS.ui("chat_model_info"))
                generation_prompt = gr.Checkbox(value=True, label=TEXTS.ui("add_generation_prompt"))
                chat_run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                prompt = gr.Textbox(label=TEXTS.ui("prompt"), lines=8, interactive=False)
                chat_summary = gr.Markdown()
        chat_tokens = gr.HTML(label=TEXTS.ui("tokens"), show_label=True, container=True)
        chat_code = code_panel()
        run_chat = guarded(bind(chat_template, ctx))
        chat_inputs = [conversation, chat_model, generation_prompt]
        chat_outputs = [prompt, chat_tokens, chat_summary, chat_code]
        chat_run.click(run_chat, chat_inputs, chat_outputs, api_name="chat_template")
        examples = gr.Examples(
            [[CONVERSATION_EXAMPLE, None, True]],
            inputs=chat_inputs,
            outputs=chat_outputs,
            fn=run_chat,
            run_on_click=True,
            cache_examples=False,
            visible_columns=[0],
            label=TEXTS.ui("examples"),
        )
        examples.dataset.headers = []
    about_panel(TEXTS)
