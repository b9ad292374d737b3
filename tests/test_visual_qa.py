"""The visual QA tab through the running app: both picture-model kinds, document QA on generated pages
and PDFs (OCR, text layer, answer boxes on the right page), OCR-free Donut, every bad input, the
"show code" snippets, and an app without Tesseract."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import launch_app
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageDraw, ImageFont
from snippets import last_line, run_snippet

VILT, LLAVA, LAYOUTLM, DONUT = (
    "ViLT VQA (test)",
    "LLaVA (test)",
    "LayoutLM document QA (test)",
    "Donut OCR-free document QA (test)",
)
CAPTIONS = "SmolVLM captions (test)"
CAPTION_PROMPT = "Describe this picture in one sentence."
ANSWER_RED = (220, 20, 60)
WORD_BLUE = (30, 110, 255)
# (word, x, y) on an 900x500 white page, in a 48 px font: well apart so OCR reads each word alone.
PAGE_WORDS = [("INVOICE", 40, 60), ("TOTAL", 40, 180), ("42", 330, 180), ("EUR", 450, 180), ("PAID", 40, 320)]
# (word, x, baseline y) in PDF points on page 2 of the generated A4 PDF, Helvetica 24 pt.
PDF_WORDS = [("INVOICE", 72, 700), ("TOTAL", 72, 600), ("42", 190, 600), ("EUR", 260, 600), ("FRIDAY", 72, 500)]
PDF_FONT_SIZE = 24
A4_HEIGHT_PT = 841.8897637795277


def drawn_page() -> tuple[Image.Image, dict[str, tuple[int, int, int, int]]]:
    """A Pillow-drawn page and where each word's ink is (left, top, right, bottom pixels)."""
    image = Image.new("RGB", (900, 500), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    boxes = {}
    for word, x, y in PAGE_WORDS:
        draw.text((x, y), word, fill="black", font=font)
        boxes[word] = draw.textbbox((x, y), word, font=font)
    return image, boxes


def text_layer_pdf(path: Path, pages: int = 3, text_page: int = 2) -> Path:
    """An A4 PDF (reportlab: a real text layer) whose only text is on `text_page`."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number in range(1, pages + 1):
        if number == text_page:
            pdf.setFont("Helvetica", PDF_FONT_SIZE)
            for word, x, y in PDF_WORDS:
                pdf.drawString(x, y, word)
        pdf.showPage()
    pdf.save()
    return path


def pdf_word_box(word: str) -> tuple[float, float, float, float]:
    """Where reportlab put a word, in pixels of the page rendered at 2x (cap height 0.72 em)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    x, baseline = next((x, y) for w, x, y in PDF_WORDS if w == word)
    width = stringWidth(word, "Helvetica", PDF_FONT_SIZE)
    top = baseline + 0.72 * PDF_FONT_SIZE
    return 2 * x, 2 * (A4_HEIGHT_PT - top), 2 * (x + width), 2 * (A4_HEIGHT_PT - baseline)


def union(boxes: list[tuple[float, ...]]) -> list[float]:
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def ask_document(client, path, question="What is the total?", model=LAYOUTLM, **options):  # noqa: ANN001, ANN201
    document = handle_file(str(path)) if path is not None else None
    return client.predict(
        document=document, question=question, model=model, api_name="/answer_document_question", **options
    )


def ask_image(client, path, question="What is in the picture?", model=VILT, **options):  # noqa: ANN001, ANN201
    image = handle_file(str(path)) if path is not None else None
    return client.predict(image=image, question=question, model=model, api_name="/answer_image_question", **options)


def pixels(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def colour_mask(array: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.all(array == np.array(colour, dtype=np.uint8), axis=-1)


@pytest.fixture(scope="module")
def page_png(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    image, boxes = drawn_page()
    path = tmp_path_factory.mktemp("pages") / "invoice.png"
    image.save(path)
    return path, boxes


@pytest.fixture(scope="module")
def page_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return text_layer_pdf(tmp_path_factory.mktemp("pdfs") / "statement.pdf")


@pytest.fixture(scope="module")
def scanned_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Pillow-saved PDF (pages are pictures, no text layer): a blank page, then the drawn page."""
    image, _ = drawn_page()
    path = tmp_path_factory.mktemp("scans") / "scanned.pdf"
    Image.new("RGB", image.size, "white").save(path, save_all=True, append_images=[image])
    return path


# ---- pictures -----------------------------------------------------------------------------------


def test_classifier_answers_with_scores(client, page_png, test_models) -> None:
    answers, code = ask_image(client, page_png[0], top_k=4)
    labels = set(json.loads((test_models / "vilt" / "config.json").read_text())["id2label"].values())
    assert len(answers) == 4 and set(answers) <= labels
    scores = list(answers.values())
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert "AutoModelForVisualQuestionAnswering" in code and "topk(4)" in code


def test_vision_language_model_answers_within_max_new_tokens(client, page_png, test_models) -> None:
    from transformers import AutoTokenizer

    short, code = ask_image(client, page_png[0], model=LLAVA, max_new_tokens=2)
    longer, _ = ask_image(client, page_png[0], model=LLAVA, max_new_tokens=8)
    tokenizer = AutoTokenizer.from_pretrained(test_models / "llava")
    assert 0 < len(tokenizer(short["answer"], add_special_tokens=False).input_ids) <= 2
    assert longer["answer"].startswith(short["answer"]) and len(longer["answer"]) > len(short["answer"])
    assert "image-text-to-text" in code and "max_new_tokens=2" in code


def test_pickers_offer_only_their_kind(app, client, page_png, page_pdf) -> None:
    import urllib.request

    with urllib.request.urlopen(app.url + "config") as response:
        config = json.load(response)
    pickers = [c["props"]["choices"] for c in config["components"] if c.get("type") == "dropdown"]
    labels = [{choice[0] for choice in choices} for choices in pickers]
    assert {VILT, LLAVA, CAPTIONS} in labels and {LAYOUTLM, DONUT} in labels
    with pytest.raises(AppError, match="documents: use the document tab"):
        ask_image(client, page_png[0], model=LAYOUTLM)
    with pytest.raises(AppError, match="documents: use the document tab"):
        ask_image(client, page_png[0], model=DONUT)
    with pytest.raises(AppError, match="pictures: use the image tab"):
        ask_document(client, page_pdf, model=LLAVA)


# ---- documents ----------------------------------------------------------------------------------


def test_ocr_reads_the_page_and_the_box_lands_on_the_answer_words(client, page_png) -> None:
    path, drawn = page_png
    labels, text, code, image, details = ask_document(client, path, top_k=3)
    assert [w for w in text.split() if w in drawn] == [w for w, _, _ in PAGE_WORDS]  # every word, in reading order
    assert 1 <= len(details) <= 3 and len(labels["confidences"]) == len(details)
    scores = [a["score"] for a in details]
    assert scores == sorted(scores, reverse=True)
    best = details[0]
    assert best["page"] == 1
    words = best["answer"].split()
    assert words and all(w in drawn for w in words)
    expected = union([drawn[w] for w in words])
    assert np.allclose(best["box"], expected, atol=8), (best, expected)
    # The picture is the page with the answer's frame drawn around that box, and nothing else.
    array = pixels(image)
    assert array.shape[:2] == (500, 900)
    red = np.argwhere(colour_mask(array, ANSWER_RED))
    assert red.size and np.allclose(
        [red[:, 1].min(), red[:, 0].min(), red[:, 1].max(), red[:, 0].max()],
        [best["box"][0] - 4, best["box"][1] - 4, best["box"][2] + 4, best["box"][3] + 4],
        atol=1,
    )
    assert not colour_mask(array, WORD_BLUE).any()


def test_show_words_overlays_every_recognised_word(client, page_png) -> None:
    path, drawn = page_png
    _, _, _, image, _ = ask_document(client, path, show_words=True)
    blue = colour_mask(pixels(image), WORD_BLUE)
    for word, (left, top, right, bottom) in drawn.items():
        around = blue[max(0, top - 12) : bottom + 12, max(0, left - 12) : right + 12]
        assert around.any(), f"no word box drawn around {word}"


def test_pdf_text_layer_answers_from_page_two(client, page_pdf) -> None:
    labels, text, code, image, details = ask_document(client, page_pdf, top_k=5)
    assert all(a["page"] == 2 for a in details)
    assert all(entry["label"].endswith("(page 2)") for entry in labels["confidences"])
    heading, words = text.split("\n", 1)  # only page 2 has words
    assert heading == "--- page 2 ---" and words.split() == [w for w, _, _ in PDF_WORDS]
    assert pixels(image).shape[:2] == (1684, 1191)  # A4 rendered at 2x
    best = details[0]
    expected = union([pdf_word_box(w) for w in best["answer"].split()])
    assert np.allclose(best["box"], expected, atol=6), (best, expected)
    assert "pdf[1]" in code and "word_boxes=word_boxes" in code


def test_image_only_pdf_pages_go_through_ocr(client, scanned_pdf) -> None:
    _, text, code, _, details = ask_document(client, scanned_pdf)
    assert details[0]["page"] == 2 and "TOTAL" in text and "42" in text
    assert "pdf[1]" in code and "lang='eng'" in code


def test_page_limit(client, page_pdf) -> None:
    _, _, _, _, details = ask_document(client, page_pdf, max_pages=3)
    assert details
    with pytest.raises(AppError, match="3 pages; the limit is 2"):
        ask_document(client, page_pdf, max_pages=2)
    with pytest.raises(AppError, match="max_pages: 21 is above the maximum of 20"):  # the catalog's max_pdf_pages
        ask_document(client, page_pdf, max_pages=21)


def test_ocr_free_model_answers_without_boxes(client, page_png, page_pdf) -> None:
    label, text, code, image, details = ask_document(client, page_png[0], model=DONUT, max_new_tokens=4)
    assert len(details) == 1 and details[0]["page"] == 1 and details[0]["score"] is None and details[0]["box"] is None
    assert details[0]["answer"] and label["label"].endswith("(page 1)")
    assert "no OCR" in text and pixels(image).shape[:2] == (500, 900)
    assert "<s_docvqa><s_question>What is the total?</s_question><s_answer>" in code
    _, text, _, _, details = ask_document(client, page_pdf, model=DONUT, max_new_tokens=2)
    assert [a["page"] for a in details] == [1, 2, 3]
    assert "TOTAL" in text  # the text layer is still shown


# ---- bad input ----------------------------------------------------------------------------------


def _encrypted_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), encrypt="secret")
    pdf.drawString(72, 700, "TOTAL 42")
    pdf.showPage()
    pdf.save()
    return path


def _pageless_pdf(path: Path) -> Path:
    import pypdfium2 as pdfium

    pdfium.PdfDocument.new().save(str(path))
    return path


def test_bad_documents(client, tmp_path) -> None:
    (tmp_path / "notes.png").write_text("hello, not an image")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (tmp_path / "empty.pdf").write_bytes(b"")
    Image.new("RGB", (400, 300), "white").save(tmp_path / "blank.png")
    cases = [
        (None, "Upload an image or a document"),
        (tmp_path / "notes.png", "not an image"),
        (tmp_path / "broken.pdf", "could not be read"),
        (_encrypted_pdf(tmp_path / "locked.pdf"), "encrypted"),
        (tmp_path / "empty.pdf", "file is empty"),
        (_pageless_pdf(tmp_path / "pageless.pdf"), "no pages"),
        (text_layer_pdf(tmp_path / "long.pdf", pages=21, text_page=1), "21 pages; the limit is 20"),
        (tmp_path / "blank.png", "No text was found"),
    ]
    for path, message in cases:
        with pytest.raises(AppError, match=message):
            ask_document(client, path)
    client.predict(api_name="/loaded_models")  # still serving


@pytest.mark.parametrize(
    "question, message",
    [
        ("", "Type a question"),
        ("   ", "Type a question"),
        ("why? " * 100 + "why?", "too long \\(504 characters\\); the limit is 500"),
    ],
)
def test_bad_questions(client, page_png, question, message) -> None:
    with pytest.raises(AppError, match=message):
        ask_document(client, page_png[0], question=question)
    with pytest.raises(AppError, match=message):
        ask_image(client, page_png[0], question=question, model=LLAVA)


def test_bad_image_and_options(client, page_png, tmp_path) -> None:
    with pytest.raises(AppError, match="Upload an image"):
        ask_image(client, None)
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(AppError, match="not an image"):
        ask_image(client, tmp_path / "notes.jpg")
    with pytest.raises(AppError, match="max_new_tokens: 10000 is above the maximum of 512"):
        ask_image(client, page_png[0], model=LLAVA, max_new_tokens=10_000)
    with pytest.raises(AppError, match="top_k: 0 is below the minimum of 1"):
        ask_document(client, page_png[0], top_k=0)
    with pytest.raises(AppError, match="top_k must be a whole number from 1 to 20"):
        ask_document(client, page_png[0], top_k=2.5)


# ---- "show code" snippets -----------------------------------------------------------------------


def test_snippets_reproduce_the_picture_answers(client, page_png) -> None:
    answers, code = ask_image(client, page_png[0], question="What color is it?", top_k=3)
    printed = ast.literal_eval(last_line(run_snippet(code, {page_png[0].name: page_png[0]})))
    assert [r["answer"] for r in printed] == list(answers)
    assert np.allclose([r["score"] for r in printed], list(answers.values()), atol=1e-5)
    answer, code = ask_image(client, page_png[0], model=LLAVA, max_new_tokens=6)
    assert run_snippet(code, {page_png[0].name: page_png[0]}) == answer["answer"] + "\n"  # printed as is


@pytest.mark.parametrize("which", ["png", "pdf", "scanned"])
def test_snippets_reproduce_the_layoutlm_answer(client, page_png, page_pdf, scanned_pdf, which) -> None:
    path = {"png": page_png[0], "pdf": page_pdf, "scanned": scanned_pdf}[which]
    _, _, code, _, details = ask_document(client, path, top_k=2)
    assert repr(path.name) in code
    printed = ast.literal_eval(last_line(run_snippet(code, {path.name: path})))
    assert printed[0]["answer"] == details[0]["answer"]
    assert abs(printed[0]["score"] - details[0]["score"]) < 1e-4


def test_snippet_reproduces_the_ocr_free_answer(client, page_pdf) -> None:
    _, _, code, _, details = ask_document(client, page_pdf, model=DONUT, max_new_tokens=5)
    assert f"pdf[{details[0]['page'] - 1}]" in code
    assert last_line(run_snippet(code, {page_pdf.name: page_pdf})) == details[0]["answer"]


# ---- without Tesseract --------------------------------------------------------------------------


def test_without_tesseract_documents_say_what_to_install(test_catalog, page_png, page_pdf, tmp_path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    app = launch_app(test_catalog, tmp_path, "--tabs", "visual_qa", env={"PATH": str(empty_bin)})
    try:
        client = app.client()
        with pytest.raises(AppError, match="Tesseract OCR is not installed.*apt-get install tesseract-ocr"):
            ask_document(client, page_png[0])
        answers, _ = ask_image(client, page_png[0], top_k=2)  # visual QA still works
        assert len(answers) == 2
        _, text, _, _, details = ask_document(client, page_pdf)  # a text layer needs no OCR
        assert details[0]["page"] == 2 and "TOTAL" in text
        assert "Page(s) 1, 3 have no text layer and were not read" in text
        _, _, _, _, details = ask_document(client, page_png[0], model=DONUT, max_new_tokens=2)  # nor does Donut
        assert details[0]["answer"]
    finally:
        app.stop()


# ---- the API with defaults, the shipped examples, show code, catalogs with some of the tasks -----

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"
INVOICE_PNG, INVOICE_PDF = EXAMPLES / "documents" / "invoice.png", EXAMPLES / "documents" / "invoice.pdf"


def test_only_the_file_and_the_question_are_required(client, test_catalog) -> None:
    import yaml

    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    entries = yaml.safe_load(test_catalog.read_text())["tabs"]["visual_qa"]["models"]
    default = {
        task: next(e["id"] for e in entries if e["task"] == task and e.get("default"))
        for task in ("vqa-classifier", "document-question-answering")
    }
    # The same defaults as the page: the sub-tab's default model and the widgets' starting values.
    expected = {
        "/answer_image_question": (  # no question: a captioner asks its own prompt
            ["image"],
            {"question": None, "model": default["vqa-classifier"], "top_k": 5, "max_new_tokens": 32},
        ),
        "/answer_document_question": (
            ["document", "question"],
            {
                "model": default["document-question-answering"],
                "ocr_language": "eng",
                "top_k": 3,
                "max_pages": 20,
                "show_words": False,
                "max_new_tokens": 32,
            },
        ),
    }
    for api, (required, defaults) in expected.items():
        params = endpoints[api]["parameters"]
        assert [p["parameter_name"] for p in params if not p["parameter_has_default"]] == required, api
        assert {
            p["parameter_name"]: p["parameter_default"] for p in params if p["parameter_has_default"]
        } == defaults, api


def test_the_picture_and_the_question_alone_are_enough(client) -> None:
    answers, code = client.predict(
        handle_file(str(EXAMPLES / "house.png")), "What is in the picture?", api_name="/answer_image_question"
    )
    assert len(answers) == 5 and all(0 <= s <= 1 for s in answers.values())  # the ViLT default, top 5
    assert "'house.png'" in code


def test_a_captioner_describes_the_picture_alone(client, page_png) -> None:
    answer, code = client.predict(handle_file(str(page_png[0])), model=CAPTIONS, api_name="/answer_image_question")
    assert set(answer) == {"answer"} and repr(CAPTION_PROMPT) in code
    assert run_snippet(code, {page_png[0].name: page_png[0]}) == answer["answer"] + "\n"
    # A typed question is asked instead of the prompt.
    _, code = ask_image(client, page_png[0], question="What colour is it?", model=CAPTIONS)
    assert "'What colour is it?'" in code and CAPTION_PROMPT not in code
    # A model without a prompt of its own still needs a question.
    for model in (VILT, LLAVA):
        with pytest.raises(AppError, match="Type a question"):
            client.predict(handle_file(str(page_png[0])), model=model, api_name="/answer_image_question")


def test_the_document_and_the_question_alone_are_enough(client) -> None:
    labels, text, code, image, details = client.predict(
        handle_file(str(INVOICE_PNG)), "What is the total?", api_name="/answer_document_question"
    )
    assert {"INVOICE", "Total:", "128.00"} <= set(text.split())  # OCR read the shipped page
    assert 1 <= len(details) <= 3 and all(a["page"] == 1 for a in details)
    assert pixels(image).shape[:2] == Image.open(INVOICE_PNG).size[::-1]
    labels, text, code, image, details = client.predict(
        handle_file(str(INVOICE_PDF)), "When is the payment due?", api_name="/answer_document_question"
    )
    assert "--- page 1 ---" in text and "--- page 2 ---" in text and "April" in text  # both pages' text layers
    assert {a["page"] for a in details} <= {1, 2}


def test_the_shipped_documents_are_an_invoice_page_and_a_two_page_pdf() -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(INVOICE_PDF))
    try:
        assert len(pdf) == 2
        assert all(pdf[i].get_textpage().count_chars() > 50 for i in range(2))  # a real text layer on both
    finally:
        pdf.close()
    assert INVOICE_PNG.stat().st_size <= 100_000 and INVOICE_PDF.stat().st_size <= 100_000


@pytest.mark.parametrize("model", [VILT, LLAVA, LAYOUTLM, DONUT])
def test_show_code_loads_the_model_as_the_app_did(client, page_png, model) -> None:
    from snippet_calls import assert_loads_as_the_app, call_arguments, flattened, method_argument

    if model in (VILT, LLAVA):
        _, code = ask_image(client, page_png[0], model=model, max_new_tokens=2)
    else:
        *_, code, _, _ = ask_document(client, page_png[0], model=model, max_new_tokens=2)
    loaded = next(m for m in client.predict(api_name="/loaded_models") if m["label"] == model)
    if model == VILT:  # an adapter: the model class's from_pretrained, then .to(device)
        args, kwargs = call_arguments(code, "AutoModelForVisualQuestionAnswering.from_pretrained")
        device = method_argument(code, "to")
        assert_loads_as_the_app({**kwargs, **({"device": device} if device else {})}, flattened(loaded["load_kwargs"]))
    else:
        args, kwargs = call_arguments(code, "pipeline")
        assert args == [loaded["task"]]
        args = [kwargs.pop("model")]
        assert_loads_as_the_app(kwargs, loaded["load_kwargs"])
    assert Path(args[0]).name == Path(loaded["id"]).name  # the model the app loaded (its resolved path)


def _subsets() -> list[tuple[str, ...]]:
    from itertools import combinations

    tasks = ("vqa-classifier", "image-text-to-text", "document-question-answering")
    by_task = [
        tuple(label for label, task in ENTRY_TASKS.items() if task in subset)
        for size in (1, 2, 3)
        for subset in combinations(tasks, size)
    ]
    return [*by_task, (LLAVA,), (DONUT,)]  # image-text-to-text for pictures only, and for documents only


ENTRY_TASKS = {
    VILT: "vqa-classifier",
    LLAVA: "image-text-to-text",
    LAYOUTLM: "document-question-answering",
    DONUT: "image-text-to-text",
}


@pytest.mark.parametrize("labels", _subsets(), ids=lambda labels: "+".join(label.split()[0] for label in labels))
def test_a_catalog_with_some_of_the_tasks_starts_with_the_sub_tabs_it_has(test_catalog, tmp_path, labels) -> None:
    import gradio as gr
    import yaml
    from conftest import catalog_variant

    from app import build_app, tab_modules
    from playground.config.catalog import load_catalog
    from playground.loading.model_manager import ModelManager

    entries = [
        e for e in yaml.safe_load(test_catalog.read_text())["tabs"]["visual_qa"]["models"] if e["label"] in labels
    ]
    for entry in entries:
        entry["id"] = str(test_catalog.parent / entry["id"])
    catalog = load_catalog(catalog_variant(test_catalog, tmp_path / "models.yaml", models={"visual_qa": entries}))
    demo, _ = build_app(catalog, ModelManager(catalog), tab_modules(["visual_qa"]))
    sub_tabs = {block.id for block in demo.blocks.values() if isinstance(block, gr.Tab)} - {"visual_qa", "models"}
    pictures, documents = bool({VILT, LLAVA} & set(labels)), bool({LAYOUTLM, DONUT} & set(labels))
    assert sub_tabs == {name for name, shown in (("image", pictures), ("document", documents)) if shown}
    endpoints = set(demo.get_api_info()["named_endpoints"])
    assert ("/answer_image_question" in endpoints) is pictures
    assert ("/answer_document_question" in endpoints) is documents


def test_every_example_fills_the_inputs_and_answers_in_the_browser(app) -> None:
    from page_helpers import open_tab
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (as root, `make test` installs it: apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    from tabs.visual_qa.ui import CAPTION_EXAMPLE, DOCUMENT_EXAMPLES, PICTURE_EXAMPLES

    pictures = [*PICTURE_EXAMPLES, (CAPTION_EXAMPLE, CAPTION_PROMPT)]  # the test catalog has a captioner
    sub_tabs = [("Image", "picture", pictures), ("Document (image or PDF)", "document", DOCUMENT_EXAMPLES)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(app.url, wait_until="networkidle")
            open_tab(page, "visual_qa")
            for sub_tab, kind, examples in sub_tabs:
                page.get_by_role("tab", name=sub_tab, exact=True).click()
                rows = page.locator(f"#{kind}-examples tr.tr-body")
                expect(rows).to_have_count(len(examples), timeout=30_000)
                page.get_by_text("Show code: do the same in Python").locator("visible=true").first.click()
                for index, (name, question) in enumerate(examples):
                    rows.nth(index).click()
                    expect(page.get_by_label("Question").locator("visible=true").first).to_have_value(question)
                    expect(page.locator(f"#{kind}-file")).to_contain_text(Path(name).stem)
                    # The code panel shows this run's file: the answer in the output is this example's.
                    code = page.locator(".cm-content").locator("visible=true").first
                    expect(code).to_contain_text(repr(Path(name).name), timeout=120_000)
                    if kind == "picture" and question == CAPTION_PROMPT:  # the captioner writes its answer
                        expect(page.get_by_test_id("json").locator("visible=true").first).to_contain_text("answer")
                        expect(code).to_contain_text(repr(CAPTION_PROMPT))
                    elif kind == "picture":
                        expect(page.get_by_test_id("json").locator("visible=true").first).to_contain_text(
                            re.compile(r"\d\.\d{3}")
                        )
                    else:
                        expect(
                            page.get_by_text(re.compile(r"\(page \d\)")).locator("visible=true").first
                        ).to_be_visible()
                    toasts = page.locator(".toast-body.error").locator("visible=true")
                    assert not toasts.count(), toasts.all_inner_texts()
            assert not errors, errors
        finally:
            browser.close()


def test_the_task_logic_imports_no_gradio_and_no_page() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tabs.visual_qa.task, tabs.visual_qa.document_task; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gradio', 'tabs')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    assert loaded.strip() == "['tabs', 'tabs.visual_qa', 'tabs.visual_qa.document_task', 'tabs.visual_qa.task']"
