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
(`image-text-to-text` entries marked `document: true` in the catalog).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from playground.catalog import ModelEntry
from playground.documents import (
    PDF_SCALE,
    OcrUnavailable,
    Page,
    is_pdf,
    load_document,
    ocr,
    ocr_languages,
    tesseract_available,
)
from playground.errors import guarded
from playground.images import open_image
from playground.snippets import Raw, format_call, pipeline_snippet, snippet_load_kwargs
from playground.texts import Texts, request_language
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker
from tabs import text_qa  # the "Text" sub-tab: extractive QA (issue 19)

MAX_QUESTION = 500
MAX_TOP_K = 20
MAX_NEW_TOKENS = 512
CLASSIFIER_TASK = "vqa-classifier"
CHAT_TASK = "image-text-to-text"
DOC_TASK = "document-question-answering"
# Donut's DocVQA prompt (the same one the document-question-answering pipeline builds for Donut).
DONUT_PROMPT = "<s_docvqa><s_question>{question}</s_question><s_answer>"
DONUT_ANSWER_END = "</s_answer>"
ANSWER_COLOUR = (220, 20, 60)
WORD_COLOUR = (30, 110, 255)

STRINGS = {
    "en": {
        "title": "Visual QA", "image": "Image", "document": "Document (image or PDF)", "question": "Question",
        "answers": "Answers", "text": "Recognised text", "ocr_language": "OCR language",
        "top_k": "Number of answers", "max_new_tokens": "Max new tokens (vision-language models)",
        "max_pages": "Page limit", "show_words": "Show all recognised words on the page",
        "page_image": "The answer's page", "details": "Answer details (page, box in page pixels)",
        "no_file": "Upload an image or a document first.", "no_question": "Type a question.",
        "long_question": "The question is too long ({length} characters); the limit is {limit}.",
        "out_of_range": "{name} must be a whole number from {low} to {high} (got {value}).",
        "no_text": "No text was found in the document (no text layer, and OCR found no words). Is it a blank page or a photo?",
        "document_model": "{label} answers questions about documents: use the document tab (/answer_document_question).",
        "picture_model": "{label} answers questions about pictures: use the image tab (/answer_image_question).",
        "page_heading": "--- page {page} ---",
        "on_page": "{answer} (page {page})",
        "no_answer": "(no answer)",
        "ocr_free_text": "(This model reads the page image itself: no OCR was run.)",
        "unread_pages": "(Page(s) {pages} have no text layer and were not read: Tesseract OCR is not installed.)",
        "tesseract_missing": (
            "⚠️ Tesseract OCR is not installed: images and scanned pages cannot be read here (PDFs with a "
            "text layer and OCR-free models still work). Install it with "
            "`apt-get install tesseract-ocr tesseract-ocr-eng`."
        ),
        "about": (
            "**Pictures:** a ViLT classifier picks from a fixed list of answers and scores each one "
            "(independent probabilities: they need not add up to 1); a vision-language model (the `image-text-to-text` "
            "pipeline) writes a free answer, up to *max new tokens*.\n\n"
            "**Documents:** PDF pages are rendered with pypdfium2 and keep their text layer; images and "
            "scanned pages go through Tesseract OCR. LayoutLM (the `document-question-answering` pipeline) then picks the answer span among the words "
            "(the scores are per page), and the app draws its box on the page it came from. OCR-free "
            "models (Donut-style) read the page image directly and write the answer, so there is no box."
        ),
    },
    "ko": {
        "title": "시각 질의응답", "image": "이미지", "document": "문서 (이미지 또는 PDF)", "question": "질문",
        "answers": "답", "text": "인식된 글자", "ocr_language": "OCR 언어",
        "top_k": "답 개수", "max_new_tokens": "최대 생성 토큰 수 (시각-언어 모델)",
        "max_pages": "쪽수 한도", "show_words": "인식된 모든 단어를 페이지에 표시",
        "page_image": "답이 있는 페이지", "details": "답 자세히 (쪽, 페이지 픽셀 좌표의 상자)",
        "no_file": "이미지나 문서를 먼저 올리세요.", "no_question": "질문을 입력하세요.",
        "long_question": "질문이 너무 깁니다({length}자). 최대 {limit}자입니다.",
        "out_of_range": "{name} 값은 {low}에서 {high} 사이의 정수여야 합니다(받은 값: {value}).",
        "no_text": "문서에서 글자를 찾지 못했습니다(글자 층이 없고 OCR도 단어를 찾지 못함). 빈 페이지나 사진인가요?",
        "document_model": "{label}은(는) 문서 질문용 모델입니다. 문서 탭(/answer_document_question)을 쓰세요.",
        "picture_model": "{label}은(는) 그림 질문용 모델입니다. 이미지 탭(/answer_image_question)을 쓰세요.",
        "page_heading": "--- {page}쪽 ---",
        "on_page": "{answer} ({page}쪽)",
        "no_answer": "(답 없음)",
        "ocr_free_text": "(이 모델은 페이지 이미지를 직접 읽습니다. OCR을 하지 않았습니다.)",
        "unread_pages": "({pages}쪽은 글자 층이 없는데 Tesseract OCR이 설치되어 있지 않아 읽지 못했습니다.)",
        "tesseract_missing": (
            "⚠️ Tesseract OCR이 설치되어 있지 않습니다. 이미지와 스캔한 페이지는 읽을 수 없습니다(글자 층이 있는 "
            "PDF와 OCR이 필요 없는 모델은 됩니다). `apt-get install tesseract-ocr tesseract-ocr-eng`로 설치하세요."
        ),
        "about": (
            "**그림:** ViLT 분류기는 정해진 답 목록에서 고르고 답마다 점수를 매깁니다(서로 독립인 확률이라 "
            "합이 1이 아닐 수 있습니다). 시각-언어 모델(`image-text-to-text` 파이프라인)은 *최대 생성 토큰 수*까지 자유롭게 답을 씁니다.\n\n"
            "**문서:** PDF 페이지는 pypdfium2로 그리고 글자 층을 그대로 씁니다. 이미지와 스캔한 페이지는 "
            "Tesseract OCR을 거칩니다. 그다음 LayoutLM(`document-question-answering` 파이프라인)이 단어 중에서 답 구간을 고르고(점수는 페이지별), 앱이 "
            "그 페이지에 답의 상자를 그립니다. OCR이 필요 없는 모델(Donut 계열)은 페이지 이미지를 직접 읽고 "
            "답을 쓰므로 상자가 없습니다."
        ),
    },
}
TEXTS = Texts("visual_qa", STRINGS)


@dataclass
class DocumentAnswer:
    answer: str
    page: int  # 1-based
    score: float | None = None  # None for generated (OCR-free) answers
    box: list[int] | None = None  # left, top, right, bottom in the page image's pixels


# ---- which models go where ----------------------------------------------------------------------


def is_document_model(entry: ModelEntry) -> bool:
    return entry.task == DOC_TASK or (entry.task == CHAT_TASK and entry.document)


def picture_models(entries: list[ModelEntry]) -> list[ModelEntry]:
    return [m for m in entries if m.task in (CLASSIFIER_TASK, CHAT_TASK) and not m.document]


def document_models(entries: list[ModelEntry]) -> list[ModelEntry]:
    return [m for m in entries if is_document_model(m)]


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
        return ctx.entry(ref, DOC_TASK if documents else CHAT_TASK)
    if entry not in choices:
        raise TEXTS.error("document_model" if is_document_model(entry) else "picture_model", label=entry.label)
    return entry


# ---- input checks -------------------------------------------------------------------------------


def check_question(question: str | None) -> str:
    question = " ".join((question or "").split())
    if not question:
        raise TEXTS.error("no_question")
    if len(question) > MAX_QUESTION:
        raise TEXTS.error("long_question", length=len(question), limit=MAX_QUESTION)
    return question


def check_range(value: Any, low: int, high: int, name: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer() or not low <= number <= high:
        raise TEXTS.error("out_of_range", name=name, low=low, high=high, value=value)
    return int(number)


# ---- pictures -----------------------------------------------------------------------------------


def is_donut(pipe: Any) -> bool:
    """Donut-style encoder-decoder readers take a task prompt, not chat messages."""
    return pipe.model.config.model_type == "vision-encoder-decoder"


def ask_vision_language_model(pipe: Any, image: Any, question: str, generate_kwargs: dict[str, Any]) -> str:
    if is_donut(pipe):
        out = pipe(image, text=DONUT_PROMPT.format(question=question), return_full_text=False, **generate_kwargs)
        return out[0]["generated_text"].split(DONUT_ANSWER_END)[0].strip()
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": question}]}]
    out = pipe(text=messages, return_full_text=False, **generate_kwargs)
    return out[0]["generated_text"]


def answer_image(pipe: Any, entry: ModelEntry, image: Any, question: str, top_k: int, max_new_tokens: int) -> dict[str, Any]:
    if entry.task == CLASSIFIER_TASK:
        return {r["answer"]: r["score"] for r in pipe(image, question, top_k=top_k)}
    # A JSON object either way, so the output component and API clients get one shape per kind.
    return {"answer": ask_vision_language_model(pipe, image, question, generation_options(entry, max_new_tokens))}


def generation_options(entry: ModelEntry, max_new_tokens: int) -> dict[str, Any]:
    return {**entry.generate_kwargs, "max_new_tokens": max_new_tokens}


# ---- documents ----------------------------------------------------------------------------------


def read_words(pages: list[Page], language: str) -> list[int]:
    """OCR the pages that have no text-layer words (images, scanned PDF pages), in place.

    Without Tesseract, a PDF whose other pages have a text layer is still answered: the numbers of the
    pages left unread are returned. A document with nothing readable says what to install.
    """
    unread = []
    for number, page in enumerate(pages, 1):
        if page.words:
            continue
        try:
            ocr(page, language)
        except OcrUnavailable:
            if not any(p.from_text_layer for p in pages):
                raise
            unread.append(number)
    return unread


def union_box(boxes: list[list[float]]) -> list[int]:
    return [round(min(b[0] for b in boxes)), round(min(b[1] for b in boxes)),
            round(max(b[2] for b in boxes)), round(max(b[3] for b in boxes))]


def extract_answers(pipe: Any, pages: list[Page], question: str, top_k: int) -> list[DocumentAnswer]:
    """LayoutLM answers over every page, best first; each with the box of its words on its page."""
    answers: dict[tuple[int, int, int], DocumentAnswer] = {}
    read_any = False
    for number, page in enumerate(pages, 1):
        if not page.words:
            continue
        read_any = True
        for result in pipe(page.image, question, word_boxes=page.word_boxes(), top_k=top_k):
            # Token spans that cover the same words are one answer: keep its best score.
            key = (number, result["start"], result["end"])
            if key not in answers or answers[key].score < result["score"]:
                box = union_box(page.boxes[result["start"] : result["end"] + 1])
                answers[key] = DocumentAnswer(result["answer"], number, float(result["score"]), box)
    if not read_any:
        raise TEXTS.error("no_text")
    return sorted(answers.values(), key=lambda a: -a.score)[:top_k]


def generate_answers(pipe: Any, pages: list[Page], question: str, generate_kwargs: dict[str, Any]) -> list[DocumentAnswer]:
    """One generated answer per page from an OCR-free model; pages with an answer first."""
    answers = [DocumentAnswer(ask_vision_language_model(pipe, page.image, question, generate_kwargs), number)
               for number, page in enumerate(pages, 1)]
    return sorted(answers, key=lambda a: not a.answer.strip())


def annotate_page(page: Page, box: list[int] | None, show_words: bool) -> Any:
    """The page with the answer's box drawn on it (and, when asked, every recognised word's box)."""
    from PIL import ImageDraw

    image = page.image.copy()
    draw = ImageDraw.Draw(image)
    if show_words:
        for word_box in page.boxes:
            draw.rectangle(word_box, outline=WORD_COLOUR, width=1)
    if box:
        left, top, right, bottom = box
        draw.rectangle([left - 3, top - 3, right + 3, bottom + 3], outline=ANSWER_COLOUR, width=3)
    return image


def recognised_text(pages: list[Page], lang: str, ocr_free: bool, unread: list[int]) -> str:
    parts = [f"{TEXTS.get('page_heading', lang, page=n)}\n{' '.join(p.words)}" for n, p in enumerate(pages, 1) if p.words]
    if ocr_free:
        parts.append(TEXTS.get("ocr_free_text", lang))
    if unread:
        parts.append(TEXTS.get("unread_pages", lang, pages=", ".join(map(str, unread))))
    return "\n\n".join(parts)


def answer_labels(answers: list[DocumentAnswer], lang: str) -> dict[str, float] | str:
    """gr.Label's value: answers with scores, or the best generated answer as a plain label."""
    def name(a: DocumentAnswer) -> str:
        return TEXTS.get("on_page", lang, answer=a.answer.strip() or TEXTS.get("no_answer", lang), page=a.page)

    if answers[0].score is None:
        return name(answers[0])
    labels: dict[str, float] = {}
    for answer in answers:
        labels.setdefault(name(answer), answer.score)
    return labels


# ---- "show code" snippets -----------------------------------------------------------------------


def classifier_snippet(model_id: str, image_name: str, question: str, top_k: int) -> str:
    return "\n".join([
        "import torch",
        "from PIL import Image",
        "from transformers import AutoModelForVisualQuestionAnswering, AutoProcessor",
        "",
        f"processor = AutoProcessor.from_pretrained({model_id!r})",
        f"model = AutoModelForVisualQuestionAnswering.from_pretrained({model_id!r})",
        "",
        f"image = Image.open({image_name!r}).convert(\"RGB\")",
        f"inputs = processor(images=image, text={question!r}, return_tensors=\"pt\", truncation=True)",
        "with torch.inference_mode():",
        "    # One independent probability per answer (VQA classifiers are trained with a sigmoid loss).",
        "    probs = model(**inputs).logits[0].sigmoid()",
        f"scores, ids = probs.topk({top_k})",
        "result = [{\"answer\": model.config.id2label[i], \"score\": s} for s, i in zip(scores.tolist(), ids.tolist())]",
        "print(result)",
    ]) + "\n"


def page_setup(document_name: str, page: int, pdf: bool) -> tuple[list[str], list[str]]:
    """(imports, set-up lines) that put the page the app answered from into `image`."""
    if not pdf:
        return ["from PIL import Image"], [f"image = Image.open({document_name!r}).convert(\"RGB\")"]
    return ["import pypdfium2 as pdfium"], [
        f"pdf = pdfium.PdfDocument({document_name!r})",
        f"page = pdf[{page - 1}]  # page {page}",
        f"image = page.render(scale={PDF_SCALE}).to_pil().convert(\"RGB\")",
    ]


# Reads the words of a PDF page's text layer exactly as playground/documents.py does.
TEXT_LAYER_SETUP = f"""
# The words of the page's text layer with boxes on LayoutLM's 0-1000 grid (no OCR needed).
width, height = image.size
page_height = page.get_size()[1]
text = page.get_textpage()
word_boxes, word, box = [], "", None
for i in range(text.count_chars() + 1):
    char = chr(pdfium_c.FPDFText_GetUnicode(text.raw, i)) if i < text.count_chars() else " "
    if char.isspace() or not char.isprintable():
        if word:
            grid = [min(1000, max(0, int(1000 * v / s))) for v, s in zip(box, (width, height, width, height))]
            word_boxes.append((word, grid))
        word, box = "", None
        continue
    left, bottom, right, top = text.get_charbox(i)
    char_box = [v * {PDF_SCALE} for v in (left, page_height - top, right, page_height - bottom)]
    box = char_box if box is None else [min(box[0], char_box[0]), min(box[1], char_box[1]),
                                        max(box[2], char_box[2]), max(box[3], char_box[3])]
    word += char
""".strip("\n").splitlines()


def vision_language_snippet(model_id: str, load_kwargs: dict[str, Any], imports: list[str], setup: list[str],
                            question: str, generate_kwargs: dict[str, Any], donut: bool) -> str:
    options = {**generate_kwargs, "return_full_text": False}
    if donut:
        call = format_call("pipe", [Raw("image")], {"text": DONUT_PROMPT.format(question=question), **options})
        show = f"print(result[0][\"generated_text\"].split({DONUT_ANSWER_END!r})[0].strip())"
    else:
        setup = [*setup, "messages = [{\"role\": \"user\", \"content\": [{\"type\": \"image\", \"image\": image}, "
                         f"{{\"type\": \"text\", \"text\": {question!r}}}]}}]"]
        call = format_call("pipe", [], {"text": Raw("messages"), **options})
        show = "print(result[0][\"generated_text\"])"
    lines = [*imports, "from transformers import pipeline", "",
             "pipe = " + format_call("pipeline", [CHAT_TASK], {"model": model_id, **load_kwargs}), "",
             *setup, "", "result = " + call, show]
    return "\n".join(lines) + "\n"


def extractive_snippet(model_id: str, load_kwargs: dict[str, Any], imports: list[str], setup: list[str],
                       question: str, top_k: int, page: Page, language: str) -> str:
    if page.from_text_layer:
        imports = [*imports, "import pypdfium2.raw as pdfium_c"]
        setup = [*setup, "", *TEXT_LAYER_SETUP]
        call_kwargs: dict[str, Any] = {"word_boxes": Raw("word_boxes"), "top_k": top_k}
    else:  # the pipeline runs the same Tesseract OCR as the app
        call_kwargs = {"top_k": top_k, "lang": language}
    return pipeline_snippet(DOC_TASK, model_id, [Raw("image"), question], call_kwargs, load_kwargs, setup, imports)


# ---- the UI -------------------------------------------------------------------------------------


def build(ctx: TabContext) -> None:
    import gradio as gr

    pictures, documents = picture_models(ctx.models()), document_models(ctx.models())
    max_pages_limit = ctx.limits.max_pdf_pages

    def answer_image_question(image: str | None, question: str, model: str = default_entry(pictures).id if pictures else "",
                              top_k: int = 5, max_new_tokens: int = 32, progress: Any = gr.Progress()) -> tuple[Any, str]:
        if not image:
            raise TEXTS.error("no_file")
        picture = open_image(image)
        question = check_question(question)
        top_k = check_range(top_k, 1, MAX_TOP_K, "top_k")
        max_new_tokens = check_range(max_new_tokens, 1, MAX_NEW_TOKENS, "max_new_tokens")
        entry = resolve_entry(ctx, model, documents=False)
        loaded = ctx.load(entry.id, entry.task, progress)
        result = answer_image(loaded.model, loaded.entry, picture, question, top_k, max_new_tokens)
        name = Path(image).name
        if loaded.entry.task == CLASSIFIER_TASK:
            code = classifier_snippet(loaded.source, name, question, top_k)
        else:
            imports, setup = page_setup(name, 1, pdf=False)
            code = vision_language_snippet(loaded.source, snippet_load_kwargs(loaded),
                                           imports, setup, question, generation_options(loaded.entry, max_new_tokens),
                                           donut=is_donut(loaded.model))
        return result, code

    def answer_document_question(document: str | None, question: str, model: str = default_entry(documents).id if documents else "",
                                 ocr_language: str = "eng", top_k: int = 3, max_pages: int = max_pages_limit,
                                 show_words: bool = False, max_new_tokens: int = 32, progress: Any = gr.Progress(),
                                 request: Any = None) -> tuple[Any, str, str, Any, list[dict[str, Any]]]:
        lang = request_language(request)
        if not document:
            raise TEXTS.error("no_file")
        question = check_question(question)
        top_k = check_range(top_k, 1, MAX_TOP_K, "top_k")
        max_pages = check_range(max_pages, 1, max_pages_limit, "max_pages")
        max_new_tokens = check_range(max_new_tokens, 1, MAX_NEW_TOKENS, "max_new_tokens")
        entry = resolve_entry(ctx, model, documents=True)
        ocr_free = entry.task != DOC_TASK
        pages = load_document(document, max_pages)  # a bad file is reported before any model loads
        unread = [] if ocr_free else read_words(pages, ocr_language)
        loaded = ctx.load(entry.id, entry.task, progress)
        load_kwargs = snippet_load_kwargs(loaded)
        if ocr_free:
            options = generation_options(loaded.entry, max_new_tokens)
            answers = generate_answers(loaded.model, pages, question, options)
        else:
            answers = extract_answers(loaded.model, pages, question, top_k)
        best = answers[0]
        page = pages[best.page - 1]
        imports, setup = page_setup(Path(document).name, best.page, pdf=is_pdf(document))
        if ocr_free:
            code = vision_language_snippet(loaded.source, load_kwargs, imports, setup, question, options, is_donut(loaded.model))
        else:
            code = extractive_snippet(loaded.source, load_kwargs, imports, setup, question, top_k, page, ocr_language)
        return (answer_labels(answers, lang), recognised_text(pages, lang, ocr_free, unread), code,
                annotate_page(page, best.box, bool(show_words)), [asdict(a) for a in answers])

    if pictures:
        with gr.Tab(TEXTS.ui("image")):
            with gr.Row():
                with gr.Column():
                    image = gr.File(label=TEXTS.ui("image"), type="filepath")
                    question = gr.Textbox(label=TEXTS.ui("question"))
                    model = model_picker(ctx, entries=pictures)
                    top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
                    tokens = gr.Slider(1, MAX_NEW_TOKENS, value=32, step=1, label=TEXTS.ui("max_new_tokens"))
                    run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    answers = gr.JSON(label=TEXTS.ui("answers"))
            code = code_panel()
            run.click(guarded(answer_image_question, gpu=True), [image, question, model, top_k, tokens], [answers, code],
                      api_name="answer_image_question")
    if documents:
        with gr.Tab(TEXTS.ui("document")):
            if not tesseract_available():
                gr.Markdown(TEXTS.ui("tesseract_missing"))
            languages = ocr_languages() or ["eng"]
            with gr.Row():
                with gr.Column():
                    document = gr.File(label=TEXTS.ui("document"), type="filepath")
                    dquestion = gr.Textbox(label=TEXTS.ui("question"))
                    dmodel = model_picker(ctx, entries=documents)
                    language = gr.Dropdown(languages, value="eng" if "eng" in languages else languages[0],
                                           label=TEXTS.ui("ocr_language"))
                    dtop_k = gr.Slider(1, MAX_TOP_K, value=3, step=1, label=TEXTS.ui("top_k"))
                    max_pages = gr.Slider(1, max_pages_limit, value=max_pages_limit, step=1, label=TEXTS.ui("max_pages"))
                    show_words = gr.Checkbox(label=TEXTS.ui("show_words"))
                    dtokens = gr.Slider(1, MAX_NEW_TOKENS, value=32, step=1, label=TEXTS.ui("max_new_tokens"))
                    drun = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    danswers = gr.Label(label=TEXTS.ui("answers"))
                    page_image = gr.Image(label=TEXTS.ui("page_image"), type="pil", format="png", interactive=False)
            with gr.Accordion(TEXTS.ui("text"), open=False):
                text = gr.Textbox(label=TEXTS.ui("text"), lines=8, buttons=["copy"])
            with gr.Accordion(TEXTS.ui("details"), open=False):
                details = gr.JSON(label=TEXTS.ui("details"))
            dcode = code_panel()
            drun.click(guarded(answer_document_question, gpu=True),
                       [document, dquestion, dmodel, language, dtop_k, max_pages, show_words, dtokens],
                       [danswers, text, dcode, page_image, details], api_name="answer_document_question")
    text_qa.build_text_qa(ctx)  # questions about a text (issue 19)
    about_panel(TEXTS)
