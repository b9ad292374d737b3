"""Zero-shot tab: classify text or images into labels the user types, with no training.

Endpoints:
- `/zero_shot_text(text, model, labels, hypothesis_template, multi_label, batch)` -> label scores,
  batch table, CSV file (or None), code. NLI models use the `zero-shot-classification` pipeline;
  sentence-similarity models compare the text's embedding with each label's hypothesis.
- `/zero_shot_image(image, model, labels, hypothesis_template)` -> label scores and code (CLIP).
"""

from __future__ import annotations

import csv
import re
import tempfile
from typing import Any

from playground.errors import guarded
from playground.images import EXAMPLES_DIR, image_input, open_image
from playground.snippets import Raw, format_call, pipeline_snippet
from playground.texts import Texts
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

NLI_TASK = "zero-shot-classification"
EMBEDDING_TASK = "sentence-similarity"
IMAGE_TASK = "zero-shot-image-classification"
TEXT_TASKS = (NLI_TASK, EMBEDDING_TASK)
MAX_LABELS = 100
MAX_BATCH = 200
# Cosines of sentence embeddings sit in a narrow band; scaling them (like CLIP's logit scale) before
# the softmax turns small differences into readable probabilities.
SIMILARITY_SCALE = 20.0
TEXT_TEMPLATE = "This example is {}."
IMAGE_TEMPLATE = "a photo of a {}."

STRINGS = {
    "en": {
        "title": "Zero-shot",
        "text_tab": "Text",
        "image_tab": "Image",
        "text": "Text (one per line for batch mode)",
        "image": "Image",
        "labels": "Labels (comma-separated or one per line)",
        "template": "Hypothesis template ({} is replaced by each label)",
        "multi_label": "Several labels can be true (independent scores)",
        "batch": "Batch mode: classify every line",
        "scores": "Scores",
        "table": "Batch results",
        "csv": "Batch results (CSV)",
        "empty_text": "Please enter some text to classify.",
        "no_labels": "Please enter at least one label.",
        "duplicate_labels": "These labels appear more than once: {labels}.",
        "bad_template": "The hypothesis template must contain {placeholder} exactly once, where the label goes, and no other braces.",
        "too_many_labels": "Too many labels: {count}. The limit is {limit}.",
        "too_many_lines": "Too many lines in batch mode: {count}. The limit is {limit}.",
        "wrong_model": "{label} cannot classify text; choose an NLI or sentence-similarity model.",
        "about": (
            "**NLI models** (`zero-shot-classification` pipeline) read the text as a premise and each "
            "label as a hypothesis (the template with the label filled in) and score how strongly the "
            "text entails it. **Sentence-similarity models** embed the text and each hypothesis and "
            "compare them by cosine similarity. With one label allowed the scores are a softmax and "
            "sum to 1; with several labels each score is independent, between 0 and 1. **CLIP** "
            "(`zero-shot-image-classification`) compares an image with each captioned label the same way."
        ),
    },
    "ko": {
        "title": "제로샷",
        "text_tab": "텍스트",
        "image_tab": "이미지",
        "text": "텍스트 (배치 모드에서는 한 줄에 하나)",
        "image": "이미지",
        "labels": "레이블 (쉼표로 구분하거나 한 줄에 하나)",
        "template": "가설 템플릿 ({}는 각 레이블로 바뀝니다)",
        "multi_label": "여러 레이블이 동시에 맞을 수 있음 (독립 점수)",
        "batch": "배치 모드: 줄마다 분류",
        "scores": "점수",
        "table": "배치 결과",
        "csv": "배치 결과 (CSV)",
        "empty_text": "분류할 텍스트를 입력해 주세요.",
        "no_labels": "레이블을 하나 이상 입력해 주세요.",
        "duplicate_labels": "두 번 이상 나온 레이블: {labels}.",
        "bad_template": "가설 템플릿에는 레이블이 들어갈 {placeholder}가 정확히 한 번 있어야 하고, 다른 중괄호는 없어야 합니다.",
        "too_many_labels": "레이블이 너무 많습니다: {count}개. 한도는 {limit}개입니다.",
        "too_many_lines": "배치 모드의 줄이 너무 많습니다: {count}줄. 한도는 {limit}줄입니다.",
        "wrong_model": "{label}은(는) 텍스트를 분류할 수 없습니다. NLI 또는 문장 유사도 모델을 고르세요.",
        "about": (
            "**NLI 모델**(`zero-shot-classification` 파이프라인)은 텍스트를 전제로, 각 레이블을 가설"
            "(템플릿에 레이블을 넣은 문장)로 읽고 텍스트가 가설을 얼마나 함의하는지 점수를 매깁니다. "
            "**문장 유사도 모델**은 텍스트와 각 가설을 임베딩해 코사인 유사도로 비교합니다. 레이블을 "
            "하나만 고르면 점수는 softmax라 합이 1이고, 여러 개를 허용하면 각 점수는 0과 1 사이에서 "
            "독립적입니다. **CLIP**(`zero-shot-image-classification`)은 이미지와 각 레이블 설명을 같은 방식으로 비교합니다."
        ),
    },
}
TEXTS = Texts("zero_shot", STRINGS)


def parse_labels(labels: str | list[str] | None) -> list[str]:
    """Labels from a comma/newline separated string; blanks dropped, duplicates refused."""
    parts = labels if isinstance(labels, list) else re.split(r"[,\n]", labels or "")
    cleaned = [p.strip() for p in parts if p and p.strip()]
    if not cleaned:
        raise TEXTS.error("no_labels")
    seen: set[str] = set()
    duplicates = [x for x in cleaned if x.casefold() in seen or seen.add(x.casefold())]
    if duplicates:
        raise TEXTS.error("duplicate_labels", labels=", ".join(dict.fromkeys(duplicates)))
    if len(cleaned) > MAX_LABELS:
        raise TEXTS.error("too_many_labels", count=len(cleaned), limit=MAX_LABELS)
    return cleaned


def check_template(template: str | None, default: str) -> str:
    template = (template or "").strip() or default
    try:
        template.format("label")
    except (IndexError, KeyError, ValueError):  # "{0} {1}", "{name}", a lone brace
        raise TEXTS.error("bad_template", placeholder="{}") from None
    if template.count("{}") != 1:
        raise TEXTS.error("bad_template", placeholder="{}")
    try:  # other braces ({0}, {name}, a lone "{") would break str.format inside the pipeline
        template.format("label")
    except (ValueError, KeyError, IndexError):
        raise TEXTS.error("bad_template", placeholder="{}") from None
    return template


def embedding_scores(embedder: Any, texts: list[str], labels: list[str], template: str, multi_label: bool) -> list[dict[str, float]]:
    """Label scores per text from cosine similarity of the text and each label's hypothesis."""
    import torch

    cosine = embedder.similarity(texts, [template.format(label) for label in labels])
    # Single-label: a scaled softmax (sums to 1). Multi-label: cosine mapped from [-1, 1] to [0, 1].
    scores = torch.softmax(cosine * SIMILARITY_SCALE, dim=-1) if not multi_label else ((cosine + 1) / 2).clamp(0, 1)
    return [_sorted(dict(zip(labels, row.tolist()))) for row in scores]


def nli_scores(pipe: Any, texts: list[str], labels: list[str], template: str, multi_label: bool) -> list[dict[str, float]]:
    results = pipe(texts, candidate_labels=labels, hypothesis_template=template, multi_label=multi_label)
    results = results if isinstance(results, list) else [results]
    return [_sorted(dict(zip(r["labels"], map(float, r["scores"])))) for r in results]


def _sorted(scores: dict[str, float]) -> dict[str, float]:
    return dict(sorted(scores.items(), key=lambda item: item[1], reverse=True))


def batch_outputs(texts: list[str], results: list[dict[str, float]], labels: list[str]) -> tuple[list[list[Any]], str]:
    """The batch table (text, top label, one score column per label) and the same rows as a CSV file."""
    header = ["text", "top_label", *labels]
    rows = [[text, next(iter(scores)), *(round(scores[label], 6) for label in labels)] for text, scores in zip(texts, results)]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="zero_shot_", delete=False, newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return [header, *rows], handle.name


def text_snippet(task: str, model_id: str, text: str, labels: list[str], template: str, multi_label: bool) -> str:
    if task == NLI_TASK:
        return pipeline_snippet(NLI_TASK, model_id, [text], {"candidate_labels": labels, "hypothesis_template": template, "multi_label": multi_label})
    scoring = "scores = (cosine + 1) / 2" if multi_label else f"scores = (cosine * {SIMILARITY_SCALE}).softmax(dim=-1)"
    return "\n".join([
        "from sentence_transformers import SentenceTransformer", "",
        "model = " + format_call("SentenceTransformer", [model_id]),
        "labels = " + repr(labels),
        "template = " + repr(template),
        "hypotheses = [template.format(label) for label in labels]",
        "text_embedding = " + format_call("model.encode", [[text]], {"convert_to_tensor": True, "normalize_embeddings": True}),
        "label_embeddings = " + format_call("model.encode", [Raw("hypotheses")], {"convert_to_tensor": True, "normalize_embeddings": True}),
        "cosine = text_embedding @ label_embeddings.T",
        scoring,
        "print(dict(zip(labels, scores[0].tolist())))",
    ]) + "\n"


def build(ctx: TabContext) -> None:
    import gradio as gr

    text_entries = [m for task in TEXT_TASKS for m in ctx.models(task)]
    text_default = ctx.default_model(EMBEDDING_TASK) if ctx.models(EMBEDDING_TASK) else ctx.default_model(NLI_TASK)
    # A catalog may list text models only; the image endpoint is then not built at all.
    image_default = ctx.default_model(IMAGE_TASK) if ctx.models(IMAGE_TASK) else ""

    def zero_shot_text(text: str, model: str = text_default, labels: str = "", hypothesis_template: str = TEXT_TEMPLATE,
                       multi_label: bool = False, batch: bool = False, progress: Any = gr.Progress()) -> tuple[Any, Any, Any, str]:
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if not lines:
            raise TEXTS.error("empty_text")
        label_list = parse_labels(labels)
        template = check_template(hypothesis_template, TEXT_TEMPLATE)
        texts = lines if batch and len(lines) > 1 else [text.strip()]
        if len(texts) > MAX_BATCH:
            raise TEXTS.error("too_many_lines", count=len(texts), limit=MAX_BATCH)
        entry = ctx.entry(model or text_default)
        if entry.task not in TEXT_TASKS:
            raise TEXTS.error("wrong_model", label=entry.label)
        loaded = ctx.load(model, entry.task, progress)
        score = nli_scores if entry.task == NLI_TASK else embedding_scores
        results = score(loaded.model, texts, label_list, template, bool(multi_label))
        code = text_snippet(entry.task, loaded.entry.id, texts[0], label_list, template, bool(multi_label))
        if len(texts) == 1:
            return results[0], None, None, code
        table, csv_path = batch_outputs(texts, results, label_list)
        import pandas as pd

        return results[0], pd.DataFrame(table[1:], columns=table[0]), csv_path, code

    def zero_shot_image(image: str | None, model: str = image_default, labels: str = "",
                        hypothesis_template: str = IMAGE_TEMPLATE, progress: Any = gr.Progress()) -> tuple[dict[str, float], str]:
        picture = open_image(image)
        label_list = parse_labels(labels)
        template = check_template(hypothesis_template, IMAGE_TEMPLATE)
        loaded = ctx.load(model, IMAGE_TASK, progress)
        results = loaded.model(picture, candidate_labels=label_list, hypothesis_template=template)
        code = pipeline_snippet(IMAGE_TASK, loaded.entry.id, [Raw("image")], {"candidate_labels": label_list, "hypothesis_template": template},
                                imports=["from PIL import Image"], setup=['image = Image.open("your_image.jpg").convert("RGB")'])
        return _sorted({r["label"]: float(r["score"]) for r in results}), code

    with gr.Tab(TEXTS.ui("text_tab")):
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(label=TEXTS.ui("text"), lines=4, value="I loved this film, the acting was wonderful.")
                text_model = gr.Dropdown(choices=[(m.label, m.id) for m in text_entries], value=text_default,
                                         label=COMMON.ui("model"), allow_custom_value=True, interactive=True)
                text_labels = gr.Textbox(label=TEXTS.ui("labels"), value="positive, negative, neutral")
                text_template = gr.Textbox(label=TEXTS.ui("template"), value=TEXT_TEMPLATE)
                with gr.Row():
                    multi_label = gr.Checkbox(label=TEXTS.ui("multi_label"), value=False)
                    batch = gr.Checkbox(label=TEXTS.ui("batch"), value=False)
                text_run = gr.Button(COMMON.ui("run"), variant="primary")
            with gr.Column():
                text_scores = gr.Label(label=TEXTS.ui("scores"))
                table = gr.Dataframe(label=TEXTS.ui("table"), interactive=False, wrap=True)
                csv_file = gr.File(label=TEXTS.ui("csv"))
        text_code = code_panel()
    if ctx.models(IMAGE_TASK):
        with gr.Tab(TEXTS.ui("image_tab")):
            with gr.Row():
                with gr.Column():
                    image = image_input(TEXTS.ui("image"))
                    image_model = model_picker(ctx, IMAGE_TASK)
                    image_labels = gr.Textbox(label=TEXTS.ui("labels"), value="circle, triangle, house")
                    image_template = gr.Textbox(label=TEXTS.ui("template"), value=IMAGE_TEMPLATE)
                    image_run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    image_scores = gr.Label(label=TEXTS.ui("scores"))
            image_code = code_panel()
            examples = sorted(EXAMPLES_DIR.glob("*.png"))
            if examples:
                gr.Examples([[str(p), image_labels.value] for p in examples], inputs=[image, image_labels])
            image_run.click(guarded(zero_shot_image, gpu=True), [image, image_model, image_labels, image_template],
                            [image_scores, image_code], api_name="zero_shot_image")
    about_panel(TEXTS)
    text_run.click(guarded(zero_shot_text, gpu=True), [text, text_model, text_labels, text_template, multi_label, batch],
                   [text_scores, table, csv_file, text_code], api_name="zero_shot_text")
