"""Documents for question answering: images or PDFs -> page images with their words and word boxes.

PDFs with a text layer give their words directly (pypdfium2, no Poppler); everything else goes
through Tesseract OCR once, here, so the LayoutLM pipeline gets `word_boxes` instead of running OCR
itself, and the app can show the words and draw the answer's box on the right page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts, UserError
from playground.media.images import open_image

# PDF pages are rendered at 2x (144 dpi): sharp enough for OCR and for reading the page on screen.
PDF_SCALE = 2

TEXTS = Texts.load("documents", SHARED_LOCALES)


class OcrUnavailable(UserError):
    """Tesseract is not installed."""


@dataclass
class Page:
    """One page: its picture, and its words with pixel boxes (left, top, right, bottom)."""

    image: Any
    words: list[str] = field(default_factory=list)
    boxes: list[list[float]] = field(default_factory=list)
    from_text_layer: bool = False

    def normalised_boxes(self) -> list[list[int]]:
        """Boxes on LayoutLM's 0-1000 grid, rounded exactly as the pipeline's own OCR does."""
        width, height = self.image.size
        return [
            [min(1000, max(0, int(1000 * v / size))) for v, size in zip(box, (width, height, width, height))]
            for box in self.boxes
        ]

    def word_boxes(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.words, self.normalised_boxes()))


def is_pdf(path: str | Path) -> bool:
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        return True
    with open(path, "rb") as handle:
        return handle.read(5) == b"%PDF-"


def load_document(path: str | Path, max_pages: int) -> list[Page]:
    """The pages of an image or PDF file (PDF pages keep their text layer; nothing is OCR'd yet)."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise TEXTS.error("empty_file", name=path.name)
    if is_pdf(path):
        return render_pdf(path, max_pages)
    return [Page(open_image(path))]


def render_pdf(path: str | Path, max_pages: int) -> list[Page]:
    """Render each page and take its text layer's words (none when the PDF is image-only)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    # PDFium refuses a page-less PDF without setting its last-error code, which then still holds an
    # older failure's code: set it to "file not found" first, so an unchanged code means "no pages".
    pdfium_c.FPDF_LoadDocument(b"/nonexistent/reset-error.pdf", None)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise TEXTS.error("encrypted") from None
        if exc.err_code == pdfium_c.FPDF_ERR_FILE:
            raise TEXTS.error("no_pages") from None
        raise TEXTS.error("corrupt_pdf", name=Path(path).name) from None
    try:
        if len(pdf) == 0:
            raise TEXTS.error("no_pages")
        if len(pdf) > max_pages:
            raise TEXTS.error("too_many_pages", pages=len(pdf), limit=max_pages)
        return [_render_page(page) for page in pdf]
    finally:
        pdf.close()


def _render_page(page: Any) -> Page:
    import pypdfium2.raw as pdfium_c

    _, height = page.get_size()
    result = Page(page.render(scale=PDF_SCALE).to_pil().convert("RGB"))
    text = page.get_textpage()
    word, box = "", None
    # Words are runs of non-space characters; a word's box is the union of its characters' boxes.
    for index in range(text.count_chars() + 1):
        char = chr(pdfium_c.FPDFText_GetUnicode(text.raw, index)) if index < text.count_chars() else " "
        if char.isspace() or not char.isprintable():
            if word:
                result.words.append(word)
                result.boxes.append(box)
            word, box = "", None
            continue
        left, bottom, right, top = text.get_charbox(index)
        # PDF y grows upwards from the bottom; image y grows downwards from the top.
        char_box = [left * PDF_SCALE, (height - top) * PDF_SCALE, right * PDF_SCALE, (height - bottom) * PDF_SCALE]
        box = (
            char_box
            if box is None
            else [
                min(box[0], char_box[0]),
                min(box[1], char_box[1]),
                max(box[2], char_box[2]),
                max(box[3], char_box[3]),
            ]
        )
        word += char
    result.from_text_layer = bool(result.words)
    return result


def tesseract_available() -> bool:
    import pytesseract

    try:
        pytesseract.get_tesseract_version()
    except (pytesseract.TesseractNotFoundError, OSError):
        return False
    return True


def ocr_languages() -> list[str]:
    """Installed Tesseract languages ("osd" is orientation detection, not a language)."""
    import pytesseract

    try:
        return sorted(lang for lang in pytesseract.get_languages() if lang != "osd")
    except (pytesseract.TesseractNotFoundError, OSError):
        return []


def ocr(page: Page, language: str = "eng") -> Page:
    """Fill an image page's words and pixel boxes with Tesseract; clear messages when it cannot."""
    import pytesseract

    try:
        data = pytesseract.image_to_data(page.image, lang=language, output_type=pytesseract.Output.DICT)
    except (pytesseract.TesseractNotFoundError, FileNotFoundError):
        raise OcrUnavailable(TEXTS.render("no_tesseract")) from None
    except pytesseract.TesseractError:
        installed = ocr_languages()
        if language not in installed:
            raise TEXTS.error("no_language", language=language, installed=", ".join(installed) or "-") from None
        raise
    for word, x, y, w, h in zip(data["text"], data["left"], data["top"], data["width"], data["height"]):
        if word.strip():
            page.words.append(word.strip())
            page.boxes.append([x, y, x + w, y + h])
    return page
