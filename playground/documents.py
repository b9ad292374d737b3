"""Documents for question answering: images or PDFs -> page images, words and 0-1000 boxes.

PDFs with a text layer give their words directly (pypdfium2); everything else goes through
Tesseract OCR once, here, so the LayoutLM pipeline gets `word_boxes` instead of running OCR itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground.errors import UserError


@dataclass
class Page:
    image: Any
    words: list[str] = field(default_factory=list)
    boxes: list[list[int]] = field(default_factory=list)  # normalised 0-1000, as LayoutLM expects


def _err(en: str, ko: str) -> UserError:
    return UserError({"en": en, "ko": ko})


def render_pdf(path: str, max_pages: int) -> list[Page]:
    """Render each page at 2x and take its text layer words (empty when the PDF is image-only)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise _err("The PDF is encrypted; upload an unlocked copy.", "암호가 걸린 PDF입니다. 잠금을 푼 파일을 올리세요.")
        raise _err("The PDF could not be read (corrupt file?).", "PDF를 읽을 수 없습니다(손상된 파일?).")
    if len(pdf) == 0:
        raise _err("The PDF has no pages.", "PDF에 페이지가 없습니다.")
    if len(pdf) > max_pages:
        raise _err(f"The PDF has {len(pdf)} pages; the limit is {max_pages}.",
                   f"PDF가 {len(pdf)}쪽입니다. 최대 {max_pages}쪽까지 됩니다.")
    pages = []
    for page in pdf:
        width, height = page.get_size()
        page_obj = Page(page.render(scale=2).to_pil().convert("RGB"))
        text = page.get_textpage()
        for index in range(text.count_rects()):
            left, bottom, right, top = text.get_rect(index)
            for word in text.get_text_bounded(left, bottom, right, top).split():
                # PDF y grows upwards; LayoutLM boxes grow downwards from the top-left.
                page_obj.words.append(word)
                page_obj.boxes.append([int(1000 * left / width), int(1000 * (height - top) / height),
                                       int(1000 * right / width), int(1000 * (height - bottom) / height)])
        pages.append(page_obj)
    return pages


def ocr(image: Any, language: str = "eng") -> Page:
    """Tesseract words with normalised boxes; a clear message when Tesseract is not installed."""
    import pytesseract

    try:
        data = pytesseract.image_to_data(image, lang=language, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError:
        raise _err("Tesseract OCR is not installed: run `apt-get install tesseract-ocr`.",
                   "Tesseract OCR이 없습니다: `apt-get install tesseract-ocr`을 실행하세요.")
    width, height = image.size
    page = Page(image)
    for word, x, y, w, h in zip(data["text"], data["left"], data["top"], data["width"], data["height"]):
        if word.strip():
            page.words.append(word.strip())
            page.boxes.append([int(1000 * x / width), int(1000 * y / height),
                               int(1000 * (x + w) / width), int(1000 * (y + h) / height)])
    return page


def ocr_languages() -> list[str]:
    import pytesseract

    try:
        return sorted(pytesseract.get_languages())
    except Exception:  # Tesseract missing: the document endpoint explains on use
        return ["eng"]
