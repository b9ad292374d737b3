"""Translation tab: a text in one language in, the same text in another out, written as it goes.

Endpoint:
- `/translate(text, model, source_language, target_language, max_new_tokens, num_beams)` -> translation
  (streamed), note, code.

One-pair Marian models (`Helsinki-NLP/opus-mt-fr-en`, the course's) translate the pair in their name;
many-to-many models (NLLB-200) take the languages as codes (`fra_Latn`), which the language pickers
map from names and ISO codes. Both run through `AutoModelForSeq2SeqLM.generate`
(`playground.engines.seq2seq`): the `translation` pipeline no longer exists in transformers 5. A text
longer than the model reads is translated in pieces of whole sentences.
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

EXAMPLES = (
    ("Ce cours est produit par Hugging Face.", "fr", "en"),
    ("Hugging Face est une entreprise basée à New York et à Paris.", "fr", "en"),
)
# What an empty language means for a many-to-many model: the course's example, French -> English.
DEFAULT_PAIR = ("fr", "en")
KOREAN_NAMES = {
    "en": "영어",
    "fr": "프랑스어",
    "ko": "한국어",
    "de": "독일어",
    "es": "스페인어",
    "it": "이탈리아어",
    "pt": "포르투갈어",
    "nl": "네덜란드어",
    "sv": "스웨덴어",
    "fi": "핀란드어",
    "pl": "폴란드어",
    "cs": "체코어",
    "el": "그리스어",
    "ru": "러시아어",
    "uk": "우크라이나어",
    "tr": "튀르키예어",
    "ar": "아랍어",
    "he": "히브리어",
    "hi": "힌디어",
    "bn": "벵골어",
    "zh": "중국어",
    "ja": "일본어",
    "vi": "베트남어",
    "th": "태국어",
    "id": "인도네시아어",
}

TEXTS = Texts.load("translation", Path(__file__).with_name("locales"))


def iso_code(value: str) -> str:
    """The ISO 639-1 code of a language given by code or English name (refused if unknown)."""
    text = value.strip().lower()
    if text in seq2seq.BY_ISO:
        return text
    language = next((lang for lang in seq2seq.LANGUAGES if text in (lang.name.lower(), lang.nllb.lower())), None)
    if language is None:
        raise seq2seq.TEXTS.error("unknown_language", value=value, examples="fr (French), en (English), ko (Korean)")
    return language.iso


def languages_for(
    generator: Any, model_id: str, label: str, source_language: str, target_language: str
) -> tuple[str, str, str | None, str | None]:
    """(source ISO or code, target ISO or code, source code, target code) for the model; codes are
    None for one-pair models, which are only checked against their pair."""
    codes = generator.language_codes()
    if codes:
        source = seq2seq.resolve_language(source_language or DEFAULT_PAIR[0], codes)
        target = seq2seq.resolve_language(target_language or DEFAULT_PAIR[1], codes)
        if source == target:
            raise seq2seq.TEXTS.error("same_language", language=seq2seq.language_name(source))
        return source, target, source, target
    pair = seq2seq.marian_pair(model_id) or ("", "")
    wanted = (
        iso_code(source_language) if source_language else pair[0],
        iso_code(target_language) if target_language else pair[1],
    )
    if pair[0] and wanted != pair:
        raise seq2seq.TEXTS.error(
            "pair_only", label=label, source=seq2seq.language_name(pair[0]), target=seq2seq.language_name(pair[1])
        )
    return pair[0], pair[1], None, None


def translate(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    source_language: str = "",
    target_language: str = "",
    max_new_tokens: int = 256,
    num_beams: int = 0,
    progress: Any = None,
    request: Any = None,
) -> Iterator[tuple[str, Any, Any]]:
    """Translate a text (Marian one-pair models, NLLB many-to-many models, or a chat model); the translation streams as it is written.

    Args:
        text: The text to translate; a long text is translated in pieces of whole sentences.
        model: A catalog model id or label (a translation model, or a chat model given a fixed prompt); empty for the tab's default.
        source_language: The text's language: an ISO 639-1 code (fr), an English name (French) or the model's code (fra_Latn); empty for the model's own pair.
        target_language: The language to translate into, given the same way; empty for the model's own pair.
        max_new_tokens: The most tokens written for each piece of the text.
        num_beams: Beam search width; 0 for the model's own (Marian models: 4, shown at the end); 1 streams the translation.
    """
    lang = request_language(request)
    text = seq2seq.check_text(text)
    most = whole_number_in_range(
        max_new_tokens,
        1,
        seq2seq.MAX_NEW_TOKENS,
        lambda: seq2seq.TEXTS.error(
            "range", name="max_new_tokens", low=1, high=seq2seq.MAX_NEW_TOKENS, value=max_new_tokens
        ),
    )
    beams = whole_number_in_range(
        num_beams,
        0,
        seq2seq.MAX_BEAMS,
        lambda: seq2seq.TEXTS.error("range", name="num_beams", low=0, high=seq2seq.MAX_BEAMS, value=num_beams),
    )
    entry = ctx.entry(model or tab_default_model(ctx))
    if entry.task == chat_task(ctx):
        yield from translate_with_chat(
            ctx, entry.id, text, (source_language or "").strip(), (target_language or "").strip(), most, progress, lang
        )
        return
    loaded = ctx.load(entry.id, ctx.tasks[0], progress)
    generator = loaded.model
    source, target, source_code, target_code = languages_for(
        generator, loaded.entry.id, loaded.entry.label, (source_language or "").strip(), (target_language or "").strip()
    )
    names = {"source": seq2seq.language_name(source) or "?", "target": seq2seq.language_name(target) or "?"}
    notes = [
        TEXTS.get("codes", lang, **names, source_code=source_code, target_code=target_code)
        if source_code
        else TEXTS.get("languages", lang, **names)
    ]
    lines = generator.pieces(text)
    if any(len(pieces) > 1 for pieces in lines):
        notes.append(seq2seq.TEXTS.get("pieces", lang, limit=generator.input_limit, count=sum(map(len, lines))))
    # T5 keeps its settings per language pair ("translation_en_to_de"); other models in their generation config.
    settings, used = generator.settings(
        f"translation_{source}_to_{target}",
        loaded.entry.generate_kwargs,
        {"max_new_tokens": most, "num_beams": beams or None},
        loaded.entry.label,
        lang,
    )
    notes += used
    kwargs, device = from_pretrained_kwargs(loaded)
    code = seq2seq.seq2seq_snippet(
        loaded.source, kwargs, device, lines, settings.options, generator.input_limit, source_code, target_code
    )
    note = "\n\n".join(notes)
    # The note and the code go out with every update unchanged: Gradio streams only what changed, and an
    # unchanged value costs less per update than gr.skip() (which rebuilds the component's config).
    translation = ""
    for translation in seq2seq.stream_lines(ctx.engines.seq2seq(loaded), lines, settings, source_code, target_code):
        yield translation, note, code
    yield translation, note, code


def translate_with_chat(
    ctx: TabContext,
    model: str,
    text: str,
    source_language: str,
    target_language: str,
    most: int,
    progress: Any,
    lang: str,
) -> Iterator[tuple[str, Any, Any]]:
    source = iso_code(source_language or DEFAULT_PAIR[0])
    target = iso_code(target_language or DEFAULT_PAIR[1])
    if source == target:
        raise seq2seq.TEXTS.error("same_language", language=seq2seq.language_name(source))
    loaded = ctx.load(model, chat_task(ctx), progress)
    prompt = seq2seq.CHAT_PROMPTS[ctx.tasks[0]].format(
        source=seq2seq.language_name(source), target=seq2seq.language_name(target), text=text
    )
    note = TEXTS.get("chat_prompt", lang, label=loaded.entry.label) + "\n\n```text\n" + prompt + "\n```"
    # The same engine as the text-generation tab's (batched with its requests, under the same budget).
    code, translations = seq2seq.ask_chat_model(ctx.engines.local(loaded), prompt, most)
    for translation in translations:
        yield translation, note, code


def build(ctx: TabContext) -> None:
    import gradio as gr

    entries, default = tab_models(ctx), tab_default_model(ctx)

    choices = [(TEXTS.ui("model_pair"), ""), *((TEXTS.ui(f"lang_{lang.iso}"), lang.iso) for lang in seq2seq.LANGUAGES)]
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=6)
            model = model_picker(ctx, entries=entries)
            with gr.Row():
                # Typed values are allowed: the model's own codes (fra_Latn) work too.
                source = gr.Dropdown(choices, value="", label=TEXTS.ui("source_language"), allow_custom_value=True)
                target = gr.Dropdown(choices, value="", label=TEXTS.ui("target_language"), allow_custom_value=True)
            most = gr.Slider(1, seq2seq.MAX_NEW_TOKENS, value=256, step=1, label=TEXTS.ui("max_new_tokens"))
            beams = gr.Slider(0, seq2seq.MAX_BEAMS, value=0, step=1, label=TEXTS.ui("num_beams"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            translation = gr.Textbox(label=TEXTS.ui("translation"), lines=6, buttons=["copy"])
            note = gr.Markdown(label=TEXTS.ui("note"))
    code = code_panel()
    handler = guarded(bind(translate, ctx, model=default, progress=gr.Progress()), gpu=True)
    inputs, outputs = [text, model, source, target, most, beams], [translation, note, code]
    run.click(handler, inputs, outputs, api_name="translate")  # first: it owns the endpoint name
    gr.Examples(
        [[sample, default, source_iso, target_iso, 256, 0] for sample, source_iso, target_iso in EXAMPLES],
        inputs=inputs,
        outputs=outputs,
        fn=handler,
        run_on_click=True,
        cache_examples=False,
        label=COMMON.ui("examples"),
        example_labels=[f"{sample} ({source_iso} → {target_iso})" for sample, source_iso, target_iso in EXAMPLES],
    )
    about_panel(TEXTS)
