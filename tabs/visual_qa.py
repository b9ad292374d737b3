"""The visual question answering tab: questions about photos and about documents (images or PDFs).

Endpoints: `/answer_image_question(image, question, model, top_k, max_new_tokens)` and
`/answer_document_question(document, question, model, ocr_language)`.
"""

from __future__ import annotations

from typing import Any

from playground.documents import ocr, ocr_languages, render_pdf
from playground.errors import guarded
from playground.images import open_image
from playground.snippets import Raw, pipeline_snippet
from playground.texts import Texts
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

MAX_QUESTION = 500
STRINGS = {
    "en": {
        "title": "Visual QA", "image": "Image", "document": "Document (image or PDF)", "question": "Question",
        "answers": "Answers", "text": "Recognised text", "ocr_language": "OCR language",
        "no_file": "Upload an image or a document first.", "no_question": "Type a question.",
        "long_question": "The question is too long (over {limit} characters).",
        "no_text": "No text was found in the document.",
        "about": ("Image questions use a ViLT classifier (scores are per-answer probabilities) or a "
                  "vision-language model through the `image-text-to-text` pipeline (free text). Document "
                  "questions run OCR (or read the PDF text layer) and the `document-question-answering` "
                  "pipeline's LayoutLM picks the answer span among the words; its scores are span probabilities."),
    },
    "ko": {
        "title": "시각 질의응답", "image": "이미지", "document": "문서 (이미지 또는 PDF)", "question": "질문",
        "answers": "답", "text": "인식된 글자", "ocr_language": "OCR 언어",
        "no_file": "이미지나 문서를 먼저 올리세요.", "no_question": "질문을 입력하세요.",
        "long_question": "질문이 너무 깁니다({limit}자 초과).",
        "no_text": "문서에서 글자를 찾지 못했습니다.",
        "about": ("이미지 질문은 ViLT 분류기(답별 확률) 또는 `image-text-to-text` 파이프라인의 시각-언어 모델(자유 "
                  "문장)이 답합니다. 문서 질문은 OCR(또는 PDF 글자 층)을 거쳐 `document-question-answering` "
                  "파이프라인의 LayoutLM이 단어 중에서 답 구간을 고르며, 점수는 구간 확률입니다."),
    },
}
TEXTS = Texts("visual_qa", STRINGS)
IMAGE_TASKS = ("vqa-classifier", "image-text-to-text")
DOC_TASK = "document-question-answering"


def check_question(question: str | None) -> str:
    question = (question or "").strip()
    if not question:
        raise TEXTS.error("no_question")
    if len(question) > MAX_QUESTION:
        raise TEXTS.error("long_question", limit=MAX_QUESTION)
    return question


def answer_image(loaded: Any, image: Any, question: str, top_k: int, max_new_tokens: int) -> Any:
    if loaded.entry.task == "vqa-classifier":
        return {r["answer"]: r["score"] for r in loaded.model(image, question, top_k=int(top_k))}
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": question}]}]
    out = loaded.model(text=messages, max_new_tokens=int(max_new_tokens), return_full_text=False)
    # A JSON object either way, so the output component and API clients get one shape per kind.
    return {"answer": out[0]["generated_text"]}


def load_pages(path: str, max_pages: int, language: str) -> list[Any]:
    """PDF pages keep their text layer; image pages and image-only PDF pages go through OCR once."""
    if str(path).lower().endswith(".pdf"):
        return [page if page.words else ocr(page.image, language) for page in render_pdf(path, max_pages)]
    return [ocr(open_image(path), language)]


def answer_document(pipe: Any, pages: list[Any], question: str, top_k: int = 3) -> tuple[dict[str, float], str]:
    scores: dict[str, float] = {}
    for index, page in enumerate(pages):
        if not page.words:
            continue
        for r in pipe(page.image, question, word_boxes=list(zip(page.words, page.boxes)), top_k=top_k):
            scores[f"{r['answer']} (page {index + 1})"] = float(r["score"])
    if not scores:
        raise TEXTS.error("no_text")
    text = "\n\n".join(" ".join(p.words) for p in pages)
    return dict(sorted(scores.items(), key=lambda kv: -kv[1])[:top_k]), text


def build(ctx: TabContext) -> None:
    import gradio as gr

    def answer_image_question(image: str | None, question: str, model: str = ctx.default_model("vqa-classifier"),
                              top_k: int = 5, max_new_tokens: int = 32, progress: Any = gr.Progress()) -> tuple[Any, str]:
        if not image:
            raise TEXTS.error("no_file")
        picture = open_image(image)
        question = check_question(question)
        loaded = ctx.load(model, None, progress)
        result = answer_image(loaded, picture, question, top_k, max_new_tokens)
        code = pipeline_snippet(loaded.entry.task, loaded.entry.id, [Raw("image"), question],
                                imports=["from PIL import Image"], setup=['image = Image.open("photo.jpg")'])
        return result, code

    def answer_document_question(document: str | None, question: str, model: str = ctx.default_model(DOC_TASK),
                                 ocr_language: str = "eng", progress: Any = gr.Progress()) -> tuple[Any, str, str]:
        if not document:
            raise TEXTS.error("no_file")
        question = check_question(question)
        pages = load_pages(document, ctx.limits.max_pdf_pages, ocr_language)
        loaded = ctx.load(model, DOC_TASK, progress)
        answers, text = answer_document(loaded.model, pages, question)
        code = pipeline_snippet(DOC_TASK, loaded.entry.id, [Raw("image"), question],
                                imports=["from PIL import Image"], setup=['image = Image.open("page.png")'])
        return answers, text, code

    with gr.Tab(TEXTS.ui("image")):
        image = gr.File(label=TEXTS.ui("image"), type="filepath")
        question = gr.Textbox(label=TEXTS.ui("question"))
        model = model_picker(ctx, None)
        top_k = gr.Slider(1, 20, value=5, step=1, label="top_k")
        tokens = gr.Slider(1, 256, value=32, step=1, label="max_new_tokens")
        run = gr.Button(COMMON.ui("run"), variant="primary")
        answers = gr.JSON(label=TEXTS.ui("answers"))
        code = code_panel()
        run.click(guarded(answer_image_question), [image, question, model, top_k, tokens], [answers, code],
                  api_name="answer_image_question")
    with gr.Tab(TEXTS.ui("document")):
        document = gr.File(label=TEXTS.ui("document"), type="filepath")
        dquestion = gr.Textbox(label=TEXTS.ui("question"))
        dmodel = model_picker(ctx, DOC_TASK)
        language = gr.Dropdown(ocr_languages(), value="eng", label=TEXTS.ui("ocr_language"))
        drun = gr.Button(COMMON.ui("run"), variant="primary")
        danswers = gr.Label(label=TEXTS.ui("answers"))
        text = gr.Textbox(label=TEXTS.ui("text"), lines=6)
        dcode = code_panel()
        drun.click(guarded(answer_document_question), [document, dquestion, dmodel, language], [danswers, text, dcode],
                   api_name="answer_document_question")
    about_panel(TEXTS)
