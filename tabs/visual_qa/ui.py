"""The visual question answering tab: questions about pictures and about documents (images or PDFs).

Endpoints:
- `/answer_image_question(image, question, model, top_k, max_new_tokens)` -> answers (JSON: answer ->
  score for classifiers, {"answer": text} for vision-language models), code.
- `/answer_document_question(document, question, model, ocr_language, top_k, max_pages, show_words,
  max_new_tokens)` -> answers (label), recognised text, code, the answer's page with its box drawn,
  answer details (JSON list: answer, score, page, box in page pixels).

Picture models are ViLT-style classifiers (`vqa-classifier`) or vision-language chat models
(`image-text-to-text`). Document models are LayoutLM-style extractive models
(`document-question-answering`, fed OCR or PDF text-layer words) or OCR-free models such as Donut
(`image-text-to-text` entries marked `document: true` in the catalog). The task logic is in `task`
(pictures) and `document_task` (documents); questions about a text are the `text_ui` sub-tab, about a
table the `table_ui` sub-tab. This module holds the handlers and the page, one sub-tab per kind of input.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from playground.config.catalog import ModelEntry
from playground.core.checks import whole_number_in_range
from playground.core.snippets import from_pretrained_kwargs, snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media.documents import is_pdf, load_document, ocr_languages, tesseract_available
from playground.media.images import EXAMPLES_DIR, open_image
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker
from tabs.visual_qa import document_task as docs
from tabs.visual_qa import table_ui, text_ui  # the "Table" (TAPAS) and "Text" (extractive QA) sub-tabs
from tabs.visual_qa import task as vqa

PICTURE_TOP_K = 5
DOCUMENT_TOP_K = 3
NEW_TOKENS = 32
# Pictures with a question, and an invoice (a page picture and a two-page PDF) with one: CC0, see
# assets/examples/LICENSE.md (the documents are written by scripts/make_examples.py).
PICTURE_EXAMPLES = [
    ("house.png", "What is in the picture?"),
    ("red_circle.png", "What colour is the circle?"),
    ("yellow_triangle.png", "What shape is it?"),
]
# The picture a captioning model (a catalog entry with a prompt of its own) describes.
CAPTION_EXAMPLE = "house.png"
DOCUMENT_EXAMPLES = [
    ("documents/invoice.png", "What is the total?"),
    ("documents/invoice.pdf", "When is the payment due?"),
]

TEXTS = Texts.load("visual_qa", Path(__file__).with_name("locales"))


# ---- which models go where ----------------------------------------------------------------------


def picture_models(entries: list[ModelEntry]) -> list[ModelEntry]:
    return [m for m in entries if m.task in (vqa.CLASSIFIER_TASK, vqa.CHAT_TASK) and not m.document]


def document_models(entries: list[ModelEntry]) -> list[ModelEntry]:
    return [m for m in entries if docs.is_document_model(m)]


def default_entry(entries: list[ModelEntry]) -> ModelEntry:
    return next((m for m in entries if m.default), entries[0])


def resolve_entry(ctx: TabContext, model: str | None, documents: bool) -> ModelEntry:
    """The catalog entry for `model` if it is of the endpoint's kind (pictures or documents)."""
    choices = document_models(ctx.models()) if documents else picture_models(ctx.models())
    ref = str(model or "").strip()
    if not ref:
        return default_entry(choices)
    entry = ctx.catalog.find(ctx.key, ref)
    if entry is None:  # not in the catalog: the manager refuses it, or loads it as this endpoint's kind
        return ctx.entry(ref, docs.DOC_TASK if documents else vqa.CHAT_TASK)
    if entry not in choices:
        raise TEXTS.error("document_model" if docs.is_document_model(entry) else "picture_model", label=entry.label)
    return entry


def whole_number(value: Any, low: int, high: int, name: str) -> int:
    return whole_number_in_range(
        value, low, high, lambda: TEXTS.error("out_of_range", name=name, low=low, high=high, value=value)
    )


def examples(rows: list[tuple[str, ...]], inputs: list[Any], outputs: list[Any], handler: Any, elem_id: str) -> None:
    """Clickable examples that fill the file, the question and, where a row names one, the model, then run
    `handler` with the other inputs as they are."""
    import gradio as gr

    found = [
        [str(EXAMPLES_DIR / name), *given, *[None] * (len(inputs) - 1 - len(given))]
        for name, *given in rows
        if (EXAMPLES_DIR / name).is_file()
    ]
    if found:
        shown = gr.Examples(
            found,
            inputs,
            outputs,
            fn=handler,
            run_on_click=True,
            cache_examples=False,
            label=TEXTS.ui("examples"),
            elem_id=elem_id,
        )
        # The table's column headers would be the inputs' labels, which Gradio does not translate there.
        shown.dataset.headers = []


# ---- the UI -------------------------------------------------------------------------------------


def answer_image_question(
    ctx: TabContext,
    image: str | None,
    question: str | None = None,
    model: str | None = None,
    top_k: int = PICTURE_TOP_K,
    max_new_tokens: int = NEW_TOKENS,
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, str]:
    """Answer a question about a picture, with a VQA classifier (scored answers) or a vision-language model (free text).

    Args:
        image: The picture (PNG, JPEG, WebP, ...).
        question: The question about the picture, in words (at most 500 characters); may be empty for a
            model with a prompt of its own (a captioner), which is then asked.
        model: The picture model, a catalog id or label (default: the sub-tab's default model).
        top_k: How many scored answers a classifier returns (1 to 20).
        max_new_tokens: The longest answer a vision-language model may write, in tokens (1 to 512).
    """
    if not image:
        raise TEXTS.error("no_file")
    picture = open_image(image)
    entry = resolve_entry(ctx, model, documents=False)
    question = vqa.check_question(question if (question or "").strip() else entry.prompt)
    top_k = whole_number(top_k, 1, vqa.MAX_TOP_K, "top_k")
    max_new_tokens = whole_number(max_new_tokens, 1, vqa.MAX_NEW_TOKENS, "max_new_tokens")
    loaded = ctx.load(entry.id, entry.task, progress)
    result = vqa.answer_image(
        loaded.model, loaded.entry, picture, question, top_k, max_new_tokens, request_language(request)
    )
    name = Path(image).name
    if loaded.entry.task == vqa.CLASSIFIER_TASK:
        code = vqa.classifier_snippet(loaded.source, *from_pretrained_kwargs(loaded), name, question, top_k)
    else:
        imports, setup = vqa.image_setup(name)
        code = vqa.vision_language_snippet(
            loaded.source,
            snippet_load_kwargs(loaded),
            imports,
            setup,
            question,
            vqa.generation_options(loaded.model, loaded.entry, question, max_new_tokens)[0],
            vqa.is_donut(loaded.model),
        )
    return result, code


def picture_tab(ctx: TabContext, pictures: list[ModelEntry]) -> None:
    """The sub-tab for questions about a picture (/answer_image_question)."""
    import gradio as gr

    with gr.Tab(TEXTS.ui("image"), id="image"):
        with gr.Row():
            with gr.Column():
                image = gr.File(label=TEXTS.ui("image"), type="filepath", elem_id="picture-file")
                question = gr.Textbox(label=TEXTS.ui("question"), info=TEXTS.ui("question_info"))
                model = model_picker(ctx, entries=pictures)
                top_k = gr.Slider(1, vqa.MAX_TOP_K, value=PICTURE_TOP_K, step=1, label=TEXTS.ui("top_k"))
                tokens = gr.Slider(1, vqa.MAX_NEW_TOKENS, value=NEW_TOKENS, step=1, label=TEXTS.ui("max_new_tokens"))
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                answers = gr.JSON(label=TEXTS.ui("answers"))
        code = code_panel()
        inputs, outputs = [image, question, model, top_k, tokens], [answers, code]
        handler = guarded(
            bind(answer_image_question, ctx, model=default_entry(pictures).id, progress=gr.Progress()), gpu=True
        )
        run.click(handler, inputs, outputs, api_name="answer_image_question")
        # A captioner's example asks its own prompt: "describe this picture" in one click.
        captioner = next((m for m in pictures if m.prompt), None)
        captions = [(CAPTION_EXAMPLE, captioner.prompt, captioner.id)] if captioner else []
        # After the click: the endpoint keeps its name.
        examples([*PICTURE_EXAMPLES, *captions], inputs, outputs, handler, "picture-examples")


def answer_document_question(
    ctx: TabContext,
    document: str | None,
    question: str,
    model: str | None = None,
    ocr_language: str = "eng",
    top_k: int = DOCUMENT_TOP_K,
    max_pages: int | None = None,
    show_words: bool = False,
    max_new_tokens: int = NEW_TOKENS,
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, str, str, Any, list[dict[str, Any]]]:
    """Answer a question about a document (a page image or a PDF), showing the answer's box on its page.

    Args:
        document: The document: a page image (PNG, JPEG, ...) or a PDF.
        question: The question about the document, in words (at most 500 characters).
        model: The document model, a catalog id or label (default: the sub-tab's default model).
        ocr_language: The Tesseract language for pages without a text layer (e.g. "eng", "kor").
        top_k: How many answers an extractive model returns (1 to 20).
        max_pages: Read at most this many PDF pages; a longer PDF is refused (1 to the catalog's max_pdf_pages).
        show_words: Also draw the box of every recognised word on the page.
        max_new_tokens: The longest answer an OCR-free model may write, in tokens (1 to 512).
    """
    lang = request_language(request)
    if not document:
        raise TEXTS.error("no_file")
    question = vqa.check_question(question)
    top_k = whole_number(top_k, 1, vqa.MAX_TOP_K, "top_k")
    max_pages_limit = ctx.limits.max_pdf_pages
    max_pages = whole_number(max_pages_limit if max_pages is None else max_pages, 1, max_pages_limit, "max_pages")
    max_new_tokens = whole_number(max_new_tokens, 1, vqa.MAX_NEW_TOKENS, "max_new_tokens")
    entry = resolve_entry(ctx, model, documents=True)
    ocr_free = entry.task != docs.DOC_TASK
    pages = load_document(document, max_pages)  # a bad file is reported before any model loads
    unread = [] if ocr_free else docs.read_words(pages, ocr_language)
    loaded = ctx.load(entry.id, entry.task, progress)
    load_kwargs = snippet_load_kwargs(loaded)
    if ocr_free:
        options, lowered = vqa.generation_options(loaded.model, loaded.entry, question, max_new_tokens)
        answers = docs.generate_answers(loaded.model, pages, question, options)
    else:
        answers = docs.extract_answers(loaded.model, pages, question, top_k)
    best = answers[0]
    page = pages[best.page - 1]
    imports, setup = docs.page_setup(Path(document).name, best.page, pdf=is_pdf(document))
    if ocr_free:
        code = vqa.vision_language_snippet(
            loaded.source, load_kwargs, imports, setup, question, options, vqa.is_donut(loaded.model)
        )
    else:
        code = docs.extractive_snippet(loaded.source, load_kwargs, imports, setup, question, top_k, page, ocr_language)
    text = docs.recognised_text(pages, lang, ocr_free, unread)
    if ocr_free and lowered:
        text += "\n\n" + lowered[lang]
    return (
        docs.answer_labels(answers, lang),
        text,
        code,
        docs.annotate_page(page, best.box, bool(show_words)),
        [asdict(a) for a in answers],
    )


def document_tab(ctx: TabContext, documents: list[ModelEntry]) -> None:
    """The sub-tab for questions about a document page or a PDF (/answer_document_question)."""
    import gradio as gr

    max_pages_limit = ctx.limits.max_pdf_pages

    with gr.Tab(TEXTS.ui("document"), id="document"):
        if not tesseract_available():
            gr.Markdown(TEXTS.ui("tesseract_missing"))
        languages = ocr_languages() or ["eng"]
        with gr.Row():
            with gr.Column():
                document = gr.File(label=TEXTS.ui("document"), type="filepath", elem_id="document-file")
                question = gr.Textbox(label=TEXTS.ui("question"))
                model = model_picker(ctx, entries=documents)
                language = gr.Dropdown(
                    languages, value="eng" if "eng" in languages else languages[0], label=TEXTS.ui("ocr_language")
                )
                top_k = gr.Slider(1, vqa.MAX_TOP_K, value=DOCUMENT_TOP_K, step=1, label=TEXTS.ui("top_k"))
                max_pages = gr.Slider(1, max_pages_limit, value=max_pages_limit, step=1, label=TEXTS.ui("max_pages"))
                show_words = gr.Checkbox(value=False, label=TEXTS.ui("show_words"))
                tokens = gr.Slider(1, vqa.MAX_NEW_TOKENS, value=NEW_TOKENS, step=1, label=TEXTS.ui("max_new_tokens"))
                run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                answers = gr.Label(label=TEXTS.ui("answers"))
                page_image = gr.Image(label=TEXTS.ui("page_image"), type="pil", format="png", interactive=False)
        with gr.Accordion(TEXTS.ui("text"), open=False):
            text = gr.Textbox(label=TEXTS.ui("text"), lines=8, buttons=["copy"])
        with gr.Accordion(TEXTS.ui("details"), open=False):
            details = gr.JSON(label=TEXTS.ui("details"))
        code = code_panel()
        inputs = [document, question, model, language, top_k, max_pages, show_words, tokens]
        outputs = [answers, text, code, page_image, details]
        handler = guarded(
            bind(
                answer_document_question,
                ctx,
                model=default_entry(documents).id,
                max_pages=max_pages_limit,
                progress=gr.Progress(),
            ),
            gpu=True,
        )
        run.click(handler, inputs, outputs, api_name="answer_document_question")
        examples(
            DOCUMENT_EXAMPLES, inputs, outputs, handler, "document-examples"
        )  # after the click: the endpoint keeps its name


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    pictures, documents = picture_models(ctx.models()), document_models(ctx.models())
    # One sub-tab per kind of input the catalog has models for.
    with gr.Tabs():
        if pictures:
            picture_tab(ctx, pictures)
        if documents:
            document_tab(ctx, documents)
        text_ui.build_text_qa(ctx)  # questions about a text: shown when the catalog has an extractive QA model
        table_ui.build_table_qa(ctx)  # questions about a table: shown when the catalog has a table QA model
    about_panel(TEXTS)
