"""The Attention tab through the running app: rows that sum to 1, a decoder's triangle, cross-attention
of an encoder-decoder model, the cut of a long text, the snippet's numbers, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import catalog_variant
from gradio_client.exceptions import AppError
from PIL import Image
from snippets import last_line, run_snippet

BERT = "BERT encoder (test)"
GPT2 = "GPT-2 (test)"
MARIAN = "Marian fr-en (test)"
SENTENCE = "The animal didn't cross the street because it was too tired."


def test_every_row_of_an_encoder_head_sums_to_one(client, test_models: Path) -> None:
    from transformers import AutoTokenizer

    picture, grid, details, note, code = client.predict(SENTENCE, BERT, 2, 2, "self", api_name="/attention")
    weights = np.array(details["weights"])
    tokens = AutoTokenizer.from_pretrained(test_models / "bert-emotions").tokenize(SENTENCE)
    assert details["row_tokens"] == details["column_tokens"] == ["[CLS]", *tokens, "[SEP]"]
    assert weights.shape == (len(tokens) + 2,) * 2
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-4) and (weights >= 0).all()
    assert (details["layer"], details["head"], details["num_layers"], details["num_heads"]) == (2, 2, 2, 2)
    assert note == "" and details["cut"] is False
    assert Image.open(picture).size[0] > 200 and Image.open(grid).size[0] > 200


def test_a_decoder_looks_only_back(client) -> None:
    picture, grid, details, note, code = client.predict(SENTENCE, GPT2, 1, 1, "self", api_name="/attention")
    weights = np.array(details["weights"])
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.triu(weights, k=1), 0.0)


def test_cross_attention_rows_are_the_written_tokens(client) -> None:
    text = "le chat est sur la table"
    picture, grid, details, note, code = client.predict(text, MARIAN, 1, 2, "cross", api_name="/attention")
    weights = np.array(details["weights"])
    assert weights.shape == (len(details["row_tokens"]), len(details["column_tokens"]))
    assert details["column_tokens"][-1] == "</s>" and details["row_tokens"] != details["column_tokens"]
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-4)
    assert "wrote its output" in note


def test_a_long_text_is_cut_and_the_note_says_so(client) -> None:
    text = " ".join([SENTENCE] * 6)
    picture, grid, details, note, code = client.predict(text, BERT, api_name="/attention")
    assert details["cut"] is True and len(details["weights"]) == 48
    assert "only the first 48 were read" in note


@pytest.mark.parametrize(("model", "kind", "layer", "head"), [(BERT, "self", 1, 2), (MARIAN, "cross", 1, 1)])
def test_the_snippet_prints_the_apps_weights(client, test_models: Path, model, kind, layer, head) -> None:
    picture, grid, details, note, code = client.predict(SENTENCE, model, layer, head, kind, api_name="/attention")
    printed = np.array(json.loads(last_line(run_snippet(code, cwd=test_models))))
    assert np.allclose(printed, np.array(details["weights"]), atol=1e-5)


def test_the_text_alone_answers(client) -> None:
    picture, grid, details, note, code = client.predict(SENTENCE, api_name="/attention")
    assert details["kind"] == "self" and details["layer"] == 1 and details["head"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", BERT), "Please enter a sentence"),
        (("x" * 2001, BERT), "2001 characters long; the limit is 2000"),
        ((SENTENCE, BERT, 1, 1, "cross"), "only in encoder-decoder models"),
        ((SENTENCE, BERT, 3, 1), "There is no layer 3: this model has 2 layers"),
        ((SENTENCE, BERT, 1, 5), "There is no head 5"),
        ((SENTENCE, "no-such/model"), "not in this app's catalog"),
    ],
)
def test_bad_inputs_get_a_clear_message(client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/attention")


def handler_context(catalog_path: Path, budget: float | None = None):  # noqa: ANN201
    from playground.config.catalog import load_catalog
    from playground.engines.generation_engines import Engines
    from playground.loading.model_manager import ModelManager
    from playground.web.ui import TabContext

    catalog = load_catalog(catalog_path)
    return TabContext(
        key="attention", catalog=catalog, manager=ModelManager(catalog), engines=Engines(budget), tasks=("attention",)
    )


def test_an_image_model_is_refused_with_a_message(test_models: Path, test_catalog: Path, tmp_path: Path) -> None:
    from tabs.attention.ui import attention

    vit = {"id": str(test_models / "vit"), "label": "ViT", "task": "attention", "default": True}
    ctx = handler_context(catalog_variant(test_catalog, tmp_path / "models.yaml", models={"attention": [vit]}))
    with pytest.raises(Exception, match=r"ViT is not a text model \(vit, no tokenizer\)"):
        attention(ctx, SENTENCE)


def test_a_model_over_the_budget_is_refused(test_models: Path, test_catalog: Path, tmp_path: Path) -> None:
    from tabs.attention.ui import attention

    bert = {"id": str(test_models / "bert-emotions"), "label": "BERT", "task": "attention", "default": True}
    ctx = handler_context(
        catalog_variant(test_catalog, tmp_path / "models.yaml", models={"attention": [bert]}, memory_budget_gb=0.00001),
        0.00001,
    )
    with pytest.raises(Exception, match="more than this app's memory budget"):
        attention(ctx, SENTENCE)
    assert ctx.manager.loaded() == []


def test_messages_follow_the_callers_language(app) -> None:  # noqa: ANN001
    from gradio_client import Client

    korean = Client(app.url, verbose=False, headers={"Accept-Language": "ko"})
    with pytest.raises(AppError, match="층 3은\\(는\\) 없습니다. 이 모델의 층은 2개입니다"):
        korean.predict(SENTENCE, BERT, 3, 1, api_name="/attention")
    with pytest.raises(AppError, match="AutoModelForMaskedLM에는 이 모델 구조\\(resnet\\)에 맞는 클래스가 없습니다"):
        korean.predict("ResNet (test)", "AutoModelForMaskedLM", api_name="/model_anatomy")
