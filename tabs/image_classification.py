"""Image classification tab: an image in, the model's top-k ImageNet-style labels with scores out.

Endpoints: `/classify_image(image, model, top_k=5)` -> label scores (gr.Label dict) and a code snippet;
`/classify_image_batch` (same parameters, label scores only) queues concurrent requests into batches
of up to MAX_BATCH images that share one forward pass, for throughput under many clients.
"""

from __future__ import annotations

from typing import Any

from playground.errors import guarded
from playground.images import EXAMPLES_DIR, image_input, open_image
from playground.snippets import Raw, pipeline_snippet
from playground.texts import Texts
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

TASK = "image-classification"
MAX_TOP_K = 20
MAX_BATCH = 16

STRINGS = {
    "en": {
        "title": "Image classification",
        "image": "Image",
        "top_k": "How many labels",
        "labels": "Predicted labels",
        "bad_top_k": "The number of labels must be between 1 and {limit}.",
        "about": (
            "The `image-classification` pipeline resizes the picture to the model's input size, "
            "runs it through the network and applies a softmax over all its classes. The numbers are "
            "the model's probabilities for the top labels; they sum to at most 1 over all classes."
        ),
    },
    "ko": {
        "title": "이미지 분류",
        "image": "이미지",
        "top_k": "보여 줄 레이블 수",
        "labels": "예측한 레이블",
        "bad_top_k": "레이블 수는 1에서 {limit} 사이여야 합니다.",
        "about": (
            "`image-classification` 파이프라인은 그림을 모델 입력 크기로 바꾸고 신경망에 넣은 뒤 "
            "모든 클래스에 softmax를 적용합니다. 숫자는 상위 레이블에 대한 모델의 확률이며, "
            "모든 클래스에 대해 더하면 1이 됩니다."
        ),
    },
}
TEXTS = Texts("image_classification", STRINGS)


def classify(pipe: Any, image: Any, top_k: int = 5) -> dict[str, float]:
    """Label -> score for the `top_k` best classes of an already-decoded PIL image."""
    top_k = int(top_k)
    if not 1 <= top_k <= MAX_TOP_K:
        raise TEXTS.error("bad_top_k", limit=MAX_TOP_K)
    results = pipe(image, top_k=top_k)
    return {str(r["label"]): float(r["score"]) for r in results}


def classify_many(pipe: Any, images: list[Any], top_k: int = 5) -> list[dict[str, float]]:
    """classify() for several decoded images in one batched forward pass."""
    top_k = int(top_k)
    if not 1 <= top_k <= MAX_TOP_K:
        raise TEXTS.error("bad_top_k", limit=MAX_TOP_K)
    results = pipe(images, top_k=top_k, batch_size=len(images))
    return [{str(r["label"]): float(r["score"]) for r in per_image} for per_image in results]


def snippet(model_id: str, top_k: int) -> str:
    return pipeline_snippet(
        TASK, model_id, [Raw("image")], {"top_k": top_k},
        imports=["from PIL import Image"], setup=['image = Image.open("your_image.jpg").convert("RGB")'],
    )


def build(ctx: TabContext) -> None:
    import gradio as gr

    def classify_image(image: str | None, model: str = ctx.default_model(TASK), top_k: int = 5,
                       progress: Any = gr.Progress()) -> tuple[dict[str, float], str]:
        picture = open_image(image)  # decode first: a bad file should not wait for a model download
        loaded = ctx.load(model, TASK, progress)
        return classify(loaded.model, picture, top_k), snippet(loaded.entry.id, int(top_k))

    def classify_image_batch(images: list[str | None], models: list[str], top_ks: list[int]) -> tuple[list[dict[str, float]]]:
        """Gradio hands over the queued requests together; one forward pass per (model, top_k) group.

        A bad image fails its whole batch (Gradio answers a batch as one), so /classify_image stays the
        endpoint for untrusted single uploads.
        """
        pictures = [open_image(image) for image in images]
        groups: dict[tuple[str, int], list[int]] = {}
        for index, (model, top_k) in enumerate(zip(models, top_ks)):
            groups.setdefault((model or ctx.default_model(TASK), int(top_k)), []).append(index)
        labels: list[dict[str, float]] = [{} for _ in images]
        for (model, top_k), indices in groups.items():
            scores = classify_many(ctx.load(model, TASK).model, [pictures[i] for i in indices], top_k)
            for index, result in zip(indices, scores):
                labels[index] = result
        return (labels,)

    with gr.Row():
        with gr.Column():
            image = image_input(TEXTS.ui("image"))
            model = model_picker(ctx, TASK)
            top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            labels = gr.Label(label=TEXTS.ui("labels"))
    code = code_panel()
    examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
    if examples:
        gr.Examples(examples=[[p] for p in examples], inputs=[image])
    about_panel(TEXTS)
    run.click(guarded(classify_image, gpu=True), [image, model, top_k], [labels, code], api_name="classify_image")
    # API-only: a hidden trigger, so the browser's Run button never fires it.
    gr.Button(visible=False).click(guarded(classify_image_batch, gpu=True), [image, model, top_k], [labels], batch=True,
                                   max_batch_size=MAX_BATCH, api_name="classify_image_batch")
