"""The visual QA tab through the running app: image VQA (both kinds), document QA with OCR, bad input."""

from __future__ import annotations

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageDraw, ImageFont


def _page() -> Image.Image:
    image = Image.new("RGB", (800, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 120), "INVOICE TOTAL 42", fill="black", font=ImageFont.load_default(size=60))
    return image


def test_image_vqa_both_kinds(client, tmp_path) -> None:
    path = tmp_path / "a.png"
    _page().save(path)
    labels, code = client.predict(handle_file(str(path)), "What?", "ViLT VQA (test)", 3, 8,
                                  api_name="/answer_image_question")
    assert len(labels) == 3 and "pipeline(" in code
    text, _ = client.predict(handle_file(str(path)), "What?", "LLaVA (test)", 3, 4, api_name="/answer_image_question")
    assert isinstance(text["answer"], str)


def test_document_ocr_and_pdf(client, tmp_path) -> None:
    png = tmp_path / "page.png"
    _page().save(png)
    answers, text, code = client.predict(handle_file(str(png)), "What is the total?", "LayoutLM document QA (test)",
                                         "eng", api_name="/answer_document_question")
    assert "INVOICE" in text and answers["confidences"]
    pdf = tmp_path / "doc.pdf"
    _page().save(pdf, save_all=True, append_images=[_page()])
    answers, text, _ = client.predict(handle_file(str(pdf)), "Total?", "LayoutLM document QA (test)", "eng",
                                      api_name="/answer_document_question")
    assert "page" in answers["label"] and text.count("INVOICE") == 2


@pytest.mark.parametrize("question, message", [("", "question"), ("x" * 501, "too long")])
def test_bad_questions(client, tmp_path, question, message) -> None:
    png = tmp_path / "page.png"
    _page().save(png)
    with pytest.raises(AppError, match=message):
        client.predict(handle_file(str(png)), question, "LayoutLM document QA (test)", "eng",
                       api_name="/answer_document_question")


def test_bad_documents(client, tmp_path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(AppError, match="could not be read"):
        client.predict(handle_file(str(bad)), "Q?", "LayoutLM document QA (test)", "eng",
                       api_name="/answer_document_question")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    with pytest.raises(AppError, match="No text"):
        client.predict(handle_file(str(blank)), "Q?", "LayoutLM document QA (test)", "eng",
                       api_name="/answer_document_question")
