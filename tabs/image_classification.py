"""Image classification tab: an image in, the model's top-k ImageNet-style labels with scores out.

Endpoints: `/classify_image(image, model, top_k=5)` -> label scores (gr.Label dict) and a code snippet;
`/classify_image_batch` (same parameters, label scores only) queues concurrent requests into batches
of up to MAX_BATCH images that share one forward pass, for throughput under many clients.

The task logic is playground.tasks.image_classification; this module holds the tab's labels and its UI.
"""

from __future__ import annotations

from typing import Any

from playground.web.errors import guarded
from playground.media.images import EXAMPLES_DIR, open_image
from playground.web.ui import image_input
from playground.core.snippets import snippet_load_kwargs
from playground.tasks import image_classification as task
from playground.tasks.image_classification import MAX_TOP_K, TASK
from playground.core.texts import Texts
from playground.web.ui import COMMON, TabContext, about_panel, code_panel, model_picker

MAX_BATCH = 16

STRINGS = {
    "en": {
        "title": "Image classification",
        "image": "Image",
        "top_k": "How many labels",
        "labels": "Predicted labels",
        "examples": "Example pictures (click one to run it)",
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
        "examples": "예제 그림 (누르면 바로 실행됩니다)",
        "about": (
            "`image-classification` 파이프라인은 그림을 모델 입력 크기로 바꾸고 신경망에 넣은 뒤 "
            "모든 클래스에 softmax를 적용합니다. 숫자는 상위 레이블에 대한 모델의 확률이며, "
            "모든 클래스에 대해 더하면 1이 됩니다."
        ),
    },
}
TEXTS = Texts("image_classification", STRINGS)


def build(ctx: TabContext) -> None:
    import gradio as gr

    default_model = ctx.default_model(TASK)

    def classify_image(image: str | None, model: str = default_model, top_k: int = 5,
                       progress: Any = gr.Progress()) -> tuple[dict[str, float], str]:
        """Name what a picture shows: the image classification model's top labels with their probabilities.

        Args:
            image: The picture to classify (PNG, JPEG, WebP, GIF, TIFF or BMP).
            model: An image classification model of the catalog, by id or label (default: the tab's default).
            top_k: How many labels to return, 1 to 20.

        Returns:
            The top labels with their probabilities, and Python code that does the same.
        """
        picture = open_image(image)  # decode first: a bad file should not wait for a model download
        loaded = ctx.load(model, TASK, progress)
        scores = task.classify(loaded.model, picture, top_k)
        return scores, task.snippet(loaded.entry.id, snippet_load_kwargs(loaded), task.check_top_k(top_k))

    def classify_image_batch(images: list[str | None], models: list[str], top_ks: list[int]) -> tuple[list[dict[str, float]]]:
        """Name what a picture shows, batched with concurrent requests into one forward pass (for throughput).

        Args:
            images: The picture to classify (PNG, JPEG, WebP, GIF, TIFF or BMP).
            models: An image classification model of the catalog, by id or label (default: the tab's default).
            top_ks: How many labels to return, 1 to 20.

        Returns:
            The top labels with their probabilities.
        """
        # Gradio hands over the queued requests together; one forward pass per (model, top_k) group. A bad
        # image fails its whole batch (Gradio answers a batch as one): /classify_image is for untrusted uploads.
        pictures = [open_image(image) for image in images]
        groups: dict[tuple[str, int], list[int]] = {}
        for index, (model, top_k) in enumerate(zip(models, top_ks)):
            groups.setdefault((model or default_model, task.check_top_k(top_k)), []).append(index)
        labels: list[dict[str, float]] = [{} for _ in images]
        for (model, top_k), indices in groups.items():
            scores = task.classify_many(ctx.load(model, TASK).model, [pictures[i] for i in indices], top_k)
            for index, result in zip(indices, scores):
                labels[index] = result
        return (labels,)

    run_classify = guarded(classify_image, gpu=True)  # one handler: Run and the examples share its queue
    with gr.Row():
        with gr.Column():
            image = image_input(TEXTS.ui("image"))
            model = model_picker(ctx, TASK)
            top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            labels = gr.Label(label=TEXTS.ui("labels"))
    code = code_panel()
    inputs, outputs = [image, model, top_k], [labels, code]
    # Before the examples: the first event of a handler takes its name (the examples' run would get "classify_image").
    run.click(run_classify, inputs, outputs, api_name="classify_image")
    examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
    if examples:
        # The picture only: the model and top_k stay as the user set them.
        gr.Examples([[p, None, None] for p in examples], inputs=inputs, outputs=outputs, fn=run_classify,
                    run_on_click=True, cache_examples=False, label=TEXTS.ui("examples"))
    about_panel(TEXTS)
    # API-only: a hidden trigger, so the browser's Run button never fires it. Not gr.api, which skips
    # the image component's preprocessing and its checks of what an upload is.
    gr.Button(visible=False).click(guarded(classify_image_batch, gpu=True), inputs, [labels], batch=True,
                                   max_batch_size=MAX_BATCH, api_name="classify_image_batch")
