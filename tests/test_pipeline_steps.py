"""The "Behind the pipeline" view through the running app: each tab's steps endpoint answers with its
input alone, its numbers are the pipeline's (the shown logits softmaxed give the tab's own scores,
the ids are AutoTokenizer's), its Auto-class code prints the same numbers, bad input gets a message."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from snippets import last_line, run_snippet
from transformers import AutoTokenizer

from playground.media.images import EXAMPLES_DIR

REVIEW = "I've been waiting for a HuggingFace course my whole life."
NER_TEXT = "My name is Sylvain and I work at Hugging Face in Brooklyn."
CLIP = EXAMPLES_DIR / "speech" / "welcome.ogg"
HOUSE = EXAMPLES_DIR / "house.png"


def steps(client: Client, *args: object, api_name: str, **kwargs: object) -> dict[str, object]:
    """The steps endpoint's outputs by name."""
    names = ("preprocess", "tokens", "picture", "forward", "postprocess", "scores", "details", "code")
    return dict(zip(names, client.predict(*args, api_name=api_name, **kwargs)))


def softmax(values: list[float]) -> np.ndarray:
    exps = np.exp(np.array(values) - max(values))
    return exps / exps.sum()


def printed(code: str, test_models: Path, files: dict[str, Path] | None = None) -> object:
    """What the code printed last, as a Python value."""
    return ast.literal_eval(last_line(run_snippet(code, files, cwd=test_models)))


def test_text_classification_steps_are_the_pipelines(client, test_models) -> None:
    shown = steps(client, REVIEW, api_name="/text_classification_steps")  # the input alone
    details = shown["details"]
    tokenizer = AutoTokenizer.from_pretrained(test_models / "distilbert-sentiment")
    assert details["preprocess"]["input_ids"] == tokenizer(REVIEW)["input_ids"]
    assert details["preprocess"]["tokens"] == tokenizer.convert_ids_to_tokens(tokenizer(REVIEW)["input_ids"])
    assert [row[2] for row in shown["tokens"]["data"]] == details["preprocess"]["input_ids"]
    assert details["forward"]["output"] == "logits" and details["forward"]["shape"] == [1, 2]
    assert details["forward"]["hidden_size"] == 32 and details["forward"]["layers"] == 2
    rows = details["postprocess"]["scores"]
    assert details["postprocess"]["function"] == "softmax"
    # Softmax of the shown logits is what the tab's own endpoint answers.
    expected = dict(zip([r["label"] for r in rows], softmax([r["logit"] for r in rows])))
    label, note, code = client.predict(REVIEW, api_name="/classify_text")
    assert {c["label"]: c["confidence"] for c in label["confidences"]} == pytest.approx(expected, abs=1e-6)
    assert {r["label"]: r["score"] for r in rows} == pytest.approx(expected, abs=1e-6)
    assert "`logits` [1, 2]" in shown["forward"] and "Softmax" in shown["postprocess"]
    # The Auto-class code prints the same scores.
    assert "AutoModelForSequenceClassification" in shown["code"] and "pipeline(" not in shown["code"]
    assert printed(shown["code"], test_models) == pytest.approx(expected, abs=1e-5)


def test_a_pair_for_a_single_score_reranker_gets_sigmoid(client, test_models) -> None:
    query, passage = "What is a panda?", "The giant panda is a bear species endemic to China."
    shown = steps(client, query, "Reranker XLM-R (test)", passage, api_name="/text_classification_steps")
    details = shown["details"]
    tokenizer = AutoTokenizer.from_pretrained(test_models / "xlmr-reranker")
    assert details["preprocess"]["input_ids"] == tokenizer(query, passage)["input_ids"]
    rows = details["postprocess"]["scores"]
    assert details["postprocess"]["function"] == "sigmoid" and len(rows) == 1
    assert [r["score"] for r in rows] == pytest.approx([1 / (1 + np.exp(-r["logit"])) for r in rows], abs=1e-6)
    label, *_ = client.predict(query, "Reranker XLM-R (test)", 0, passage, api_name="/classify_text")
    assert {c["label"]: c["confidence"] for c in label["confidences"]} == pytest.approx(
        {r["label"]: r["score"] for r in rows}, abs=1e-6
    )
    assert printed(shown["code"], test_models) == pytest.approx({r["label"]: r["score"] for r in rows}, abs=1e-5)


def test_named_entities_steps_match_the_pipelines_tokens(client, test_models) -> None:
    shown = steps(client, NER_TEXT, api_name="/named_entities_steps")
    details = shown["details"]
    tokenizer = AutoTokenizer.from_pretrained(test_models / "bert-ner")
    assert details["preprocess"]["input_ids"] == tokenizer(NER_TEXT)["input_ids"]
    tokens = details["postprocess"]["tokens"]
    assert details["forward"]["shape"] == [1, len(tokens), 9]
    # aggregation "none": one entity per token that is not "O" nor special, with the same label and score.
    highlighted, table, code = client.predict(NER_TEXT, aggregation="none", api_name="/extract_entities")
    named = [row for row in tokens if not row["special"] and row["label"] != "O"]
    assert [[row[1], row[2]] for row in table["data"]] == [
        [row["label"], pytest.approx(row["score"], abs=1e-4)] for row in named
    ]
    assert [[t, label, pytest.approx(score, abs=1e-5)] for t, label, score in printed(shown["code"], test_models)] == [
        [row["token"], row["label"], row["score"]] for row in tokens
    ]


def test_fill_mask_steps_give_the_tabs_completions(client, test_models) -> None:
    shown = steps(client, "Paris is the ___ of France.", top_k=5, api_name="/fill_mask_steps")
    details = shown["details"]
    sentence = "Paris is the [MASK] of France."
    tokenizer = AutoTokenizer.from_pretrained(test_models / "bert-mlm")
    ids = tokenizer(sentence)["input_ids"]
    assert details["preprocess"]["input_ids"] == ids
    assert ids[details["preprocess"]["mask_position"]] == tokenizer.mask_token_id
    assert details["forward"]["shape"] == [1, len(ids), len(tokenizer)]
    top = details["postprocess"]["top"]
    label, seen, note, code = client.predict(sentence, top_k=5, api_name="/fill_mask")
    assert [(c["label"], c["confidence"]) for c in label["confidences"]] == [
        (row["token"], pytest.approx(row["score"], abs=1e-6)) for row in top
    ]
    assert printed(shown["code"], test_models) == [[row["token"], pytest.approx(row["score"], abs=1e-5)] for row in top]


@pytest.mark.parametrize("model", ["NLI classifier (test)", "MiniLM sentence embeddings"])
@pytest.mark.parametrize("multi_label", [False, True])
def test_zero_shot_steps_give_the_tabs_scores(client, test_models, model, multi_label) -> None:
    text, labels = "This is a course about the Transformers library", "education, politics, business"
    shown = steps(client, text, model, labels, "This example is {}.", multi_label, api_name="/zero_shot_steps")
    rows = {row["label"]: row["score"] for row in shown["details"]["postprocess"]["scores"]}
    label, *_ = client.predict(text, model, labels, "This example is {}.", multi_label, api_name="/zero_shot_text")
    assert {c["label"]: c["confidence"] for c in label["confidences"]} == pytest.approx(rows, abs=1e-5)
    assert printed(shown["code"], test_models) == pytest.approx(rows, abs=1e-5)
    if model.startswith("NLI"):
        pairs = shown["details"]["preprocess"]["pairs"]
        tokenizer = AutoTokenizer.from_pretrained(test_models / "nli")
        assert [p["input_ids"] for p in pairs] == [tokenizer(text, p["hypothesis"])["input_ids"] for p in pairs]
        assert shown["details"]["forward"]["shape"] == [3, 3]
        if not multi_label:  # the entailment logits softmaxed over the labels
            entail = {r["label"]: r["entailment_logit"] for r in shown["details"]["postprocess"]["scores"]}
            assert dict(zip(entail, softmax(list(entail.values())))) == pytest.approx(rows, abs=1e-6)


def test_zero_shot_steps_with_the_input_alone(client) -> None:
    shown = steps(client, "A fine film.", labels="positive, negative", api_name="/zero_shot_steps")
    assert {row["label"] for row in shown["details"]["postprocess"]["scores"]} == {"positive", "negative"}


def test_image_classification_steps_show_the_pixels(client, test_models) -> None:
    shown = steps(client, handle_file(str(HOUSE)), api_name="/image_classification_steps")
    details = shown["details"]
    assert details["preprocess"]["tensors"]["pixel_values"] == [1, 3, 32, 32]
    assert details["preprocess"]["image_mean"] == [0.5, 0.5, 0.5] and "Normalised" in shown["preprocess"]
    with Image.open(shown["picture"]) as picture:
        assert picture.size == (32, 32)
    top = details["postprocess"]["top"]
    labels, code = client.predict(handle_file(str(HOUSE)), api_name="/classify_image")
    assert [(c["label"], c["confidence"]) for c in labels["confidences"]] == [
        (row["label"], pytest.approx(row["score"], abs=1e-6)) for row in top
    ]
    assert details["forward"]["shape"] == [1, 10] and details["postprocess"]["function"] == "softmax"
    assert printed(shown["code"], test_models, {"your_image.jpg": HOUSE}) == pytest.approx(
        {row["label"]: row["score"] for row in top}, abs=1e-5
    )


@pytest.mark.parametrize("model", ["Whisper (test)", "Wav2Vec2 CTC (test)"])
def test_speech_steps_decode_what_the_pipeline_writes(client, test_models, model) -> None:
    import soundfile as sf
    import soxr
    from transformers import pipeline

    shown = steps(client, handle_file(str(CLIP)), model, api_name="/speech_to_text_steps")
    details = shown["details"]
    folder = "whisper" if model.startswith("Whisper") else "wav2vec2"
    with Image.open(shown["picture"]) as picture:
        width, height = picture.size
    if folder == "whisper":
        assert details["preprocess"]["tensors"]["input_features"] == [1, 80, 3000]
        assert (width, height) == (details["preprocess"]["audio_frames"], 80)
        ids = details["forward"]["generated_ids"]
    else:
        assert details["preprocess"]["tensors"]["input_values"][1] == details["preprocess"]["samples"]
        ids = details["postprocess"]["frame_ids"]
        assert details["forward"]["shape"][:2] == [1, len(ids)]
    # The pipeline on the same samples writes the same text.
    samples, rate = sf.read(CLIP, dtype="float32", always_2d=True)
    samples = soxr.resample(samples.mean(axis=1), rate, 16000)
    asr = pipeline("automatic-speech-recognition", model=str(test_models / folder))
    assert asr({"raw": samples, "sampling_rate": 16000})["text"].strip() == details["postprocess"]["text"].strip()
    lines = run_snippet(shown["code"], {"your_recording.wav": CLIP}, cwd=test_models).strip().splitlines()
    assert ast.literal_eval(lines[-2]) == ids and lines[-1].strip() == details["postprocess"]["text"].strip()


def test_a_text_past_the_models_limit_gets_a_message(client) -> None:
    with pytest.raises(AppError, match=r"The text is \d+ tokens long; Sentiment DistilBERT \(test\) reads at most"):
        client.predict("word " * 1500, api_name="/text_classification_steps")


def test_a_model_without_a_tokenizer_gets_a_message(test_catalog: Path) -> None:
    from playground.config.catalog import load_catalog
    from playground.core.texts import UserError
    from playground.loading.model_manager import ModelManager
    from playground.tasks import pipeline_steps

    manager = ModelManager(load_catalog(test_catalog))
    image_model = manager.get("image_classification", None, "image-classification")
    with pytest.raises(UserError, match=r"ViT \(test\) has no tokenizer"):
        pipeline_steps.text_classification_steps(image_model, "A text.")


@pytest.mark.parametrize(
    ("api_name", "args", "message"),
    [
        ("/text_classification_steps", ("  ",), "Type a text to classify"),
        ("/named_entities_steps", ("",), "Type a text to find entities in"),
        ("/fill_mask_steps", ("No blank here.",), "Write a mask in the sentence"),
        ("/zero_shot_steps", ("A text.", None, " , "), "Please enter at least one label"),
        ("/image_classification_steps", (None,), "Please provide an image"),
        ("/speech_to_text_steps", (None,), "Please record or upload an audio file first"),
    ],
)
def test_bad_input_gets_a_clear_message(client, api_name, args, message) -> None:
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=api_name)


def test_the_steps_speak_korean(app) -> None:
    korean = Client(app.url, verbose=False, headers={"Accept-Language": "ko"})
    preprocess, tokens, *_, details, code = korean.predict(REVIEW, api_name="/text_classification_steps")
    assert "토크나이저" in preprocess and tokens["headers"][:2] == ["위치", "토큰"]
    assert json.dumps(details)  # the numbers are the same JSON in every language
