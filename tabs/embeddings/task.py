"""Embeddings task logic: vectors of texts and images from the feature-extraction pipelines, pooled,
compared by cosine similarity and projected to 2-D (PCA); the "show code" snippets. No Gradio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playground.core.snippets import Raw, pipeline_snippet
from playground.core.texts import Texts

TEXT_TASK = "feature-extraction"
IMAGE_TASK = "image-feature-extraction"
POOLINGS = ("mean", "cls")
MAX_TEXTS = 50
MAX_CHARACTERS = 20_000
MAX_IMAGES = 8
# How many leading numbers of each vector the table shows.
SHOWN_VALUES = 8

TEXTS = Texts.load("embeddings.task", Path(__file__).with_name("locales"))


# ---- checking inputs ---------------------------------------------------------------------------


def check_texts(texts: str | None) -> list[str]:
    """The sentences, one per line (blank lines dropped), at most MAX_TEXTS."""
    lines = [line.strip() for line in (texts or "").splitlines() if line.strip()]
    if not lines:
        raise TEXTS.error("empty_text")
    if len(lines) > MAX_TEXTS:
        raise TEXTS.error("too_many_texts", count=len(lines), limit=MAX_TEXTS)
    if sum(map(len, lines)) > MAX_CHARACTERS:
        raise TEXTS.error("text_too_long", count=sum(map(len, lines)), limit=MAX_CHARACTERS)
    return lines


def check_pooling(pooling: str | None) -> str:
    pooling = (pooling or "mean").strip().lower()
    if pooling not in POOLINGS:
        raise TEXTS.error("bad_pooling", pooling=pooling, choices=", ".join(POOLINGS))
    return pooling


def check_model_task(task: str, wanted: str, label: str) -> None:
    """Refuses a text model for images and an image model for texts."""
    if task != wanted:
        raise TEXTS.error("image_model" if wanted == TEXT_TASK else "text_model", label=label)


# ---- vectors -------------------------------------------------------------------------------------


def pool(hidden: Any, pooling: str) -> np.ndarray:
    """One vector from a [tokens, hidden] array: the first token's (CLS) or the mean of all tokens (for
    one unpadded text every token is real, so this is sentence-transformers' mean pooling)."""
    states = np.asarray(hidden, dtype=np.float32)
    if states.ndim == 3:  # a convolutional backbone's [channels, height, width] map: its positions are the tokens
        states = states.reshape(states.shape[0], -1).T
    return states[0] if pooling == "cls" else states.mean(axis=0)


@dataclass(frozen=True)
class Embeddings:
    vectors: np.ndarray  # [n, dimensions], pooled, not normalised
    tokens: list[int]  # tokens (or patches) per input
    truncated: list[bool]


def embed_texts(pipe: Any, texts: list[str], pooling: str) -> Embeddings:
    """The pooled vector of each text (one text a forward pass, so no padding enters the mean)."""
    limit = _model_limit(pipe)
    lengths = [len(ids) for ids in pipe.tokenizer(texts)["input_ids"]]
    outputs = pipe(texts, truncation=True, return_tensors=True)
    states = [output[0].float().numpy() for output in outputs]
    return Embeddings(
        np.stack([pool(s, pooling) for s in states]),
        [len(s) for s in states],
        [limit is not None and n > limit for n in lengths],
    )


def embed_images(pipe: Any, images: list[Any], pooling: str) -> Embeddings:
    """The pooled vector of each picture (patch tokens of a vision transformer)."""
    outputs = pipe(images, return_tensors=True)
    states = [output[0].float().numpy() for output in outputs]
    return Embeddings(np.stack([pool(s, pooling) for s in states]), [len(s) for s in states], [False] * len(states))


def _model_limit(pipe: Any) -> int | None:
    length = getattr(pipe.tokenizer, "model_max_length", None)
    positions = getattr(pipe.model.config, "max_position_embeddings", None)
    known = [int(n) for n in (length, positions) if isinstance(n, (int, float)) and 0 < n < 10**9]
    return min(known) if known else None


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return unit @ unit.T


def projection(vectors: np.ndarray) -> np.ndarray:
    """The vectors' first two principal components (PCA by SVD of the centred vectors); [n, 2]."""
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    if len(vectors) < 2:
        return np.zeros((len(vectors), 2), dtype=np.float32)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    points = centred @ components[:2].T
    return np.pad(points, ((0, 0), (0, 2 - points.shape[1])))


def names(items: list[str], width: int = 32) -> list[str]:
    """Short unique row names: the position and the item's start."""
    return [f"{i + 1}. {item if len(item) <= width else item[: width - 1] + '…'}" for i, item in enumerate(items)]


def vector_rows(labels: list[str], embeddings: Embeddings) -> tuple[list[str], list[list[Any]]]:
    """One row per input: its name, tokens, dimensions, norm and the vector's first numbers."""
    header = ["input", "tokens", "dimensions", "norm", *(f"v{i}" for i in range(SHOWN_VALUES))]
    rows = []
    for label, vector, count in zip(labels, embeddings.vectors, embeddings.tokens):
        rows.append(
            [
                label,
                count,
                len(vector),
                round(float(np.linalg.norm(vector)), 4),
                *(round(float(v), 4) for v in vector[:SHOWN_VALUES]),
            ]
        )
    return header, rows


def _similarity_colour(value: float) -> str:
    """White at 0 through deep green at 1 (blue below 0)."""
    x = max(-1.0, min(1.0, value))
    fade = int(255 * (1 - abs(x)))
    colour = f"#{fade:02x}ff{fade:02x}" if x >= 0 else f"#{fade:02x}{fade:02x}ff"
    return f"background-color: {colour}; color: black"


def heatmap(labels: list[str], matrix: np.ndarray) -> Any:
    """The cosine-similarity matrix as a coloured table (rows and columns: the inputs)."""
    import pandas as pd

    frame = pd.DataFrame(np.round(matrix, 4), columns=labels)
    frame.insert(0, "input", labels)
    return frame.style.map(lambda v: _similarity_colour(v) if isinstance(v, float) else "").format(
        "{:.3f}", subset=labels
    )


def projection_frame(labels: list[str], points: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame({"x": points[:, 0].round(4), "y": points[:, 1].round(4), "input": labels})


def closest_pair(labels: list[str], matrix: np.ndarray) -> tuple[str, str, float] | None:
    if len(labels) < 2:
        return None
    masked = matrix - np.eye(len(labels)) * 10
    i, j = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return labels[i], labels[j], float(matrix[i, j])


# ---- code snippets -----------------------------------------------------------------------------


_POOL_LINES = {
    "mean": "    vectors.append(hidden[0].mean(dim=0))  # mean pooling over the tokens",
    "cls": "    vectors.append(hidden[0][0])  # CLS pooling: the first token's vector",
}


def _similarity_lines(pooling: str) -> str:
    """What follows the pipeline call (`result`: a list of [1, tokens, hidden] tensors): pooling,
    normalising and comparing; the cosine matrix is printed last."""
    return "\n".join(
        [
            "vectors = []",
            "for hidden in result:",
            _POOL_LINES[pooling],
            "vectors = torch.nn.functional.normalize(torch.stack(vectors), dim=-1)",
            "similarity = vectors @ vectors.T  # cosine similarity of every pair",
            "print(similarity.numpy().round(4).tolist())",
        ]
    )


def text_snippet(model_id: str, load_kwargs: dict[str, Any], texts: list[str], pooling: str) -> str:
    """The pipeline loaded as the app loaded it (`load_kwargs`: snippet_load_kwargs), pooled the same way."""
    return pipeline_snippet(
        TEXT_TASK,
        model_id,
        [Raw("texts")],
        {"truncation": True, "return_tensors": True},
        load_kwargs,
        imports=["import torch"],
        setup=[f"texts = {texts!r}"],
        show=_similarity_lines(pooling),
    )


def image_snippet(model_id: str, load_kwargs: dict[str, Any], count: int, pooling: str) -> str:
    """The same for pictures saved as picture_1.png, picture_2.png, ..."""
    files = [f"picture_{i + 1}.png" for i in range(count)]
    return pipeline_snippet(
        IMAGE_TASK,
        model_id,
        [Raw("images")],
        {"return_tensors": True},
        load_kwargs,
        imports=["import torch", "from PIL import Image"],
        setup=[f"images = [Image.open(name).convert('RGB') for name in {files!r}]"],
        show=_similarity_lines(pooling),
    )
