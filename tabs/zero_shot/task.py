"""Zero-shot task logic: score text or an image against labels the user types, with no training.

Three kinds of model: NLI classifiers (the `zero-shot-classification` pipeline), sentence-embedding
models (the `sentence-similarity` adapter: cosine similarity of the text and each label's
hypothesis) and CLIP (the `zero-shot-image-classification` pipeline). Pure functions over a loaded
model, plus the batch table and CSV and the "show code" snippets; no Gradio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.downloads import write_csv_download
from playground.core.snippets import Raw, format_call, from_pretrained_kwargs, pipeline_snippet, snippet_load_kwargs
from playground.core.texts import Texts

NLI_TASK = "zero-shot-classification"
EMBEDDING_TASK = "sentence-similarity"
IMAGE_TASK = "zero-shot-image-classification"
TEXT_TASKS = (NLI_TASK, EMBEDDING_TASK)
MAX_BATCH = 200
# Cosines of sentence embeddings sit in a narrow band; scaling them (like CLIP's logit scale) before
# the softmax turns small differences into readable probabilities.
SIMILARITY_SCALE = 20.0
TEXT_TEMPLATE = "This example is {}."
IMAGE_TEMPLATE = "a photo of a {}."

# Messages raised by the task logic (the page's strings are the same files' `zero_shot` section).
TEXTS = Texts.load("zero_shot.task", Path(__file__).with_name("locales"))


# ---- checking inputs ---------------------------------------------------------------------------


def check_template(template: str | None, default: str) -> str:
    """The hypothesis template (`default` when blank): `{}` exactly once and no other braces."""
    template = (template or "").strip() or default
    try:  # other braces ({0}, {name}, a lone "{") would break str.format inside the pipeline
        template.format("label")
    except (IndexError, KeyError, ValueError):
        raise TEXTS.error("bad_template", placeholder="{}") from None
    if template.count("{}") != 1:
        raise TEXTS.error("bad_template", placeholder="{}")
    return template


def text_lines(text: str | None, batch: bool) -> list[str]:
    """The texts to classify: every non-blank line in batch mode (when there are several), else the whole text."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise TEXTS.error("empty_text")
    return lines if batch and len(lines) > 1 else [(text or "").strip()]


def check_batch(texts: list[str]) -> list[str]:
    """Refuses a batch over MAX_BATCH lines."""
    if len(texts) > MAX_BATCH:
        raise TEXTS.error("too_many_lines", count=len(texts), limit=MAX_BATCH)
    return texts


def check_text_model(task: str, label: str) -> None:
    """Refuses a model that cannot classify text (e.g. CLIP named on the text endpoint)."""
    if task not in TEXT_TASKS:
        raise TEXTS.error("wrong_model", label=label)


# ---- scoring -----------------------------------------------------------------------------------


def _sorted(scores: dict[str, float]) -> dict[str, float]:
    return dict(sorted(scores.items(), key=lambda item: item[1], reverse=True))


def embedding_scores(
    embedder: Any, texts: list[str], labels: list[str], template: str, multi_label: bool
) -> list[dict[str, float]]:
    """Label scores per text from cosine similarity of the text and each label's hypothesis."""
    import torch

    cosine = embedder.similarity(texts, [template.format(label) for label in labels])
    # Single-label: a scaled softmax (sums to 1). Multi-label: cosine mapped from [-1, 1] to [0, 1].
    scores = torch.softmax(cosine * SIMILARITY_SCALE, dim=-1) if not multi_label else ((cosine + 1) / 2).clamp(0, 1)
    return [_sorted(dict(zip(labels, row.tolist()))) for row in scores]


def nli_scores(
    pipe: Any, texts: list[str], labels: list[str], template: str, multi_label: bool, batch_size: int | None = None
) -> list[dict[str, float]]:
    """Label scores per text from an NLI model: how strongly each text entails each label's hypothesis
    (`batch_size`: text-hypothesis pairs per forward pass, the pipeline's own batching)."""
    options = {"batch_size": batch_size} if batch_size else {}
    results = pipe(texts, candidate_labels=labels, hypothesis_template=template, multi_label=multi_label, **options)
    results = results if isinstance(results, list) else [results]
    return [_sorted(dict(zip(r["labels"], map(float, r["scores"])))) for r in results]


def text_scores(
    task: str,
    model: Any,
    texts: list[str],
    labels: list[str],
    template: str,
    multi_label: bool,
    batch_size: int | None = None,
) -> list[dict[str, float]]:
    """Label scores (best first) for each text, with the scoring of the model's task (an embedding
    model embeds all `texts` in one batch; an NLI pipeline batches `batch_size` pairs at a time)."""
    if task == NLI_TASK:
        return nli_scores(model, texts, labels, template, multi_label, batch_size)
    return embedding_scores(model, texts, labels, template, multi_label)


def dataset_columns(labels: list[str]) -> list[str]:
    """The result columns of a dataset run: the best label, its score, one score column per label."""
    return ["best_label", "score", *labels]


def dataset_rows(results: list[dict[str, float]], labels: list[str]) -> list[list[Any]]:
    """One row per text (see dataset_columns) from text_scores' results."""
    rows = []
    for scores in results:
        best = next(iter(scores))
        rows.append([best, round(scores[best], 6), *(round(scores[label], 6) for label in labels)])
    return rows


def image_scores(pipe: Any, image: Any, labels: list[str], template: str) -> dict[str, float]:
    """Label scores (best first, a softmax over the labels) for a decoded image from a CLIP pipeline."""
    results = pipe(image, candidate_labels=labels, hypothesis_template=template)
    return _sorted({r["label"]: float(r["score"]) for r in results})


@dataclass(frozen=True)
class BatchTable:
    """The batch results: a header (text, top label, one column per label), rows, and the same as a CSV file."""

    header: list[str]
    rows: list[list[Any]]
    csv_path: str


def batch_outputs(texts: list[str], results: list[dict[str, float]], labels: list[str]) -> BatchTable:
    """The batch table (text, top label, one score column per label) and the same rows as a CSV file."""
    header = ["text", "top_label", *labels]
    rows = [
        [text, next(iter(scores)), *(round(scores[label], 6) for label in labels)]
        for text, scores in zip(texts, results)
    ]
    return BatchTable(header, rows, write_csv_download(header, rows, prefix="zero_shot_"))


# ---- code snippets -----------------------------------------------------------------------------


def nli_snippet(
    model_id: str, load_kwargs: dict[str, Any], text: str, labels: list[str], template: str, multi_label: bool
) -> str:
    """The NLI pipeline loaded as the app loaded it (`load_kwargs`: snippet_load_kwargs), called the same way."""
    call = {"candidate_labels": labels, "hypothesis_template": template, "multi_label": multi_label}
    return pipeline_snippet(NLI_TASK, model_id, [text], call, load_kwargs)


def embedding_snippet(
    model_id: str,
    from_pretrained: dict[str, Any],
    device: str | None,
    text: str,
    labels: list[str],
    template: str,
    multi_label: bool,
) -> str:
    """What the sentence-similarity adapter does, in plain transformers: mean-pooled, normalised embeddings.

    `from_pretrained`, `device`: playground.core.snippets.from_pretrained_kwargs of the loaded model.
    """
    tokenizer_kwargs = {k: from_pretrained[k] for k in ("revision", "trust_remote_code") if k in from_pretrained}
    model = format_call("AutoModel.from_pretrained", [model_id], from_pretrained)
    scoring = "scores = (cosine + 1) / 2" if multi_label else f"scores = (cosine * {SIMILARITY_SCALE}).softmax(dim=-1)"
    return (
        "\n".join(
            [
                "import torch",
                "from transformers import AutoModel, AutoTokenizer",
                "",
                "model = " + model + (f".to({device!r})" if device else "") + ".eval()",
                "tokenizer = " + format_call("AutoTokenizer.from_pretrained", [model_id], tokenizer_kwargs),
                "",
                "",
                "def embed(texts):",
                '    batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(model.device)',
                "    with torch.inference_mode():",
                "        hidden = model(**batch).last_hidden_state",
                "    # Mean pooling over the real tokens, then unit length (as sentence-transformers does).",
                '    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)',
                "    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)",
                "    return torch.nn.functional.normalize(pooled.float(), dim=-1)",
                "",
                "",
                "labels = " + repr(labels),
                "template = " + repr(template),
                "cosine = "
                + format_call("embed", [[text]])
                + " @ embed([template.format(label) for label in labels]).T",
                scoring,
                "print(dict(zip(labels, scores[0].tolist())))",
            ]
        )
        + "\n"
    )


def text_snippet(loaded: Any, text: str, labels: list[str], template: str, multi_label: bool) -> str:
    """Code that loads the text model exactly as the app did (`loaded`: its LoadedModel) and scores the same way."""
    if loaded.entry.task == NLI_TASK:
        return nli_snippet(loaded.entry.id, snippet_load_kwargs(loaded), text, labels, template, multi_label)
    kwargs, device = from_pretrained_kwargs(loaded)
    return embedding_snippet(loaded.entry.id, kwargs, device, text, labels, template, multi_label)


def image_snippet(loaded: Any, labels: list[str], template: str) -> str:
    """The CLIP pipeline loaded as the app loaded it (`loaded`: its LoadedModel), on a picture file."""
    return pipeline_snippet(
        IMAGE_TASK,
        loaded.entry.id,
        [Raw("image")],
        {"candidate_labels": labels, "hypothesis_template": template},
        snippet_load_kwargs(loaded),
        imports=["from PIL import Image"],
        setup=['image = Image.open("your_image.jpg").convert("RGB")'],
    )
