"""Questions about documents (images or PDFs): LayoutLM-style extractive answers with their boxes, or
OCR-free (Donut-style) generated answers, over every page.

Pages and their words come from playground.media.documents (a PDF's text layer, else Tesseract OCR). An
extractive model (`document-question-answering`) picks answer spans among a page's words; the span's
word boxes give the answer's box on its page. An OCR-free model reads each page image and writes
an answer (`task.ask_vision_language_model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playground.core.snippets import Raw, pipeline_snippet
from playground.core.texts import Texts
from playground.media.documents import PDF_SCALE, OcrUnavailable, Page, ocr
from tabs.visual_qa.task import CHAT_TASK, ask_vision_language_model, image_setup

if TYPE_CHECKING:  # annotations only: task logic needs neither the catalog nor, through it, the tab registry
    from playground.config.catalog import ModelEntry

DOC_TASK = "document-question-answering"
ANSWER_COLOUR = (220, 20, 60)
WORD_COLOUR = (30, 110, 255)

TEXTS = Texts.load("visual_qa.document", Path(__file__).with_name("locales"))


@dataclass
class DocumentAnswer:
    answer: str
    page: int  # 1-based
    score: float | None = None  # None for generated (OCR-free) answers
    box: list[int] | None = None  # left, top, right, bottom in the page image's pixels


def is_document_model(entry: ModelEntry) -> bool:
    """Extractive document models, and image-text-to-text models the catalog marks `document: true`."""
    return entry.task == DOC_TASK or (entry.task == CHAT_TASK and entry.document)


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
    return [
        round(min(b[0] for b in boxes)),
        round(min(b[1] for b in boxes)),
        round(max(b[2] for b in boxes)),
        round(max(b[3] for b in boxes)),
    ]


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


def generate_answers(
    pipe: Any, pages: list[Page], question: str, generate_kwargs: dict[str, Any]
) -> list[DocumentAnswer]:
    """One generated answer per page from an OCR-free model; pages with an answer first."""
    answers = [
        DocumentAnswer(ask_vision_language_model(pipe, page.image, question, generate_kwargs), number)
        for number, page in enumerate(pages, 1)
    ]
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
    """Every page's words under a page heading, with notes on OCR-free reading and unread pages."""
    parts = [
        f"{TEXTS.get('page_heading', lang, page=n)}\n{' '.join(p.words)}" for n, p in enumerate(pages, 1) if p.words
    ]
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


# ---- "show code" ----------------------------------------------------------------------------------


def page_setup(document_name: str, page: int, pdf: bool) -> tuple[list[str], list[str]]:
    """(imports, set-up lines) that put the page the app answered from into `image`."""
    if not pdf:
        return image_setup(document_name)
    return ["import pypdfium2 as pdfium"], [
        f"pdf = pdfium.PdfDocument({document_name!r})",
        f"page = pdf[{page - 1}]  # page {page}",
        f'image = page.render(scale={PDF_SCALE}).to_pil().convert("RGB")',
    ]


# Reads the words of a PDF page's text layer exactly as playground/media/documents.py does.
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


def extractive_snippet(
    model_id: str,
    load_kwargs: dict[str, Any],
    imports: list[str],
    setup: list[str],
    question: str,
    top_k: int,
    page: Page,
    language: str,
) -> str:
    """A script that asks the document-question-answering pipeline about the answer's page as the app did."""
    if page.from_text_layer:
        imports = [*imports, "import pypdfium2.raw as pdfium_c"]
        setup = [*setup, "", *TEXT_LAYER_SETUP]
        call_kwargs: dict[str, Any] = {"word_boxes": Raw("word_boxes"), "top_k": top_k}
    else:  # the pipeline runs the same Tesseract OCR as the app
        call_kwargs = {"top_k": top_k, "lang": language}
    return pipeline_snippet(DOC_TASK, model_id, [Raw("image"), question], call_kwargs, load_kwargs, setup, imports)
