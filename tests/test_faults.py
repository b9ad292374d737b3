"""Faults: broken models, a model that fails at inference, out of memory, missing tools, no Hub.

All against the launched `hostile_app` (see conftest.py and hostile_models.py). For each fault: a clear
message through the API; the cache is not poisoned (the same request fails the same clear way again,
and a good model right after works); the other tabs keep answering.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from bench.inputs import write_tone

MASKED = "Paris is the [MASK] of France."


def fill(client: Any, model: str) -> dict:
    return client.predict(MASKED, model=model, top_k=3, targets="", api_name="/fill_mask")[0]


def fails_the_same_clear_way_twice(call: Any, expected: str) -> str:
    messages = []
    for _ in range(2):
        with pytest.raises(AppError) as info:
            call()
        messages.append(str(info.value))
    assert messages[0] == messages[1], "a second try must fail the same way (nothing half-loaded is cached)"
    assert expected in messages[0], messages[0]
    assert "Traceback" not in messages[0]
    return messages[0]


@pytest.fixture(scope="module")
def client(hostile_app):  # noqa: ANN001, ANN201
    return hostile_app.client()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    folder = tmp_path_factory.mktemp("fault-inputs")
    Image.new("RGB", (64, 48), (200, 30, 30)).save(folder / "red.png")
    write_tone(folder / "tone.wav")
    return folder


def other_tabs_answer(client: Any, files: Path) -> None:
    labels, _code = client.predict(
        handle_file(str(files / "red.png")), model="ViT", top_k=2, api_name="/classify_image"
    )
    assert len(labels["confidences"]) == 2
    text, *_rest = client.predict(
        "Hello",
        model="Llama",
        max_new_tokens=3,
        temperature=0.7,
        top_p=0.9,
        top_k=5,
        repetition_penalty=1.0,
        do_sample=False,
        seed=0,
        stop="",
        api_name="/generate",
    )
    assert isinstance(text, str)


@pytest.mark.parametrize(
    "label,expected",
    [
        ("Corrupt weights", "the weight files are corrupt or truncated"),
        ("Missing weights", "Missing weights: the model folder has no weight files (model.safetensors)"),
    ],
)
def test_broken_weights_are_explained_and_not_cached(client, files, label: str, expected: str) -> None:  # noqa: ANN001
    fails_the_same_clear_way_twice(lambda: fill(client, label), expected)
    assert len(fill(client, "BERT")["confidences"]) == 3
    assert label not in [m["label"] for m in client.predict(api_name="/loaded_models")]
    other_tabs_answer(client, files)


def test_model_that_fails_at_inference(client, files) -> None:  # noqa: ANN001
    def classify() -> Any:
        return client.predict(
            handle_file(str(files / "red.png")), model="Mismatched ViT", top_k=2, api_name="/classify_image"
        )

    message = fails_the_same_clear_way_twice(
        classify, "The model failed on this input: Input image size (64*64) doesn't match model (32*32)."
    )
    assert "The app is still running" in message
    labels, _code = client.predict(
        handle_file(str(files / "red.png")), model="ViT", top_k=2, api_name="/classify_image"
    )
    assert len(labels["confidences"]) == 2
    other_tabs_answer(client, files)


def test_out_of_memory_while_loading(client, files) -> None:  # noqa: ANN001
    def over_budget() -> Any:  # MiniLM (90 MB) against a 0.05 GB budget
        return client.predict(
            "I loved it.",
            model="MiniLM sentence embeddings",
            labels="good, bad",
            hypothesis_template="This is {}.",
            multi_label=False,
            batch=False,
            api_name="/zero_shot_text",
        )

    message = fails_the_same_clear_way_twice(over_budget, "more than this app's memory budget (0.05 GB)")
    assert "memory_budget_gb" in message

    def no_room_for_any_layer() -> Any:
        return client.predict(
            "Hello",
            model="Llama tiny max_memory",
            max_new_tokens=3,
            temperature=0.7,
            top_p=0.9,
            top_k=5,
            repetition_penalty=1.0,
            do_sample=False,
            seed=0,
            stop="",
            api_name="/generate",
        )

    message = fails_the_same_clear_way_twice(no_room_for_any_layer, "max_memory is too small for any layer")
    labels = [m["label"] for m in client.predict(api_name="/loaded_models")]
    assert "MiniLM sentence embeddings" not in labels and "Llama tiny max_memory" not in labels
    scores = client.predict(
        "I loved it.",
        model="NLI classifier (test)",
        labels="good, bad",
        hypothesis_template="This is {}.",
        multi_label=False,
        batch=False,
        api_name="/zero_shot_text",
    )[0]
    assert {c["label"] for c in scores["confidences"]} == {"good", "bad"}
    other_tabs_answer(client, files)


def test_hub_unreachable_with_an_empty_cache(client, files) -> None:  # noqa: ANN001
    for model in ("Hub BERT", "someone/not-downloaded"):  # a catalog Hub id, and a custom one (allowed here)
        message = fails_the_same_clear_way_twice(
            lambda model=model: fill(client, model), "HF_HUB_OFFLINE=1 is set and the model is not in the local cache"
        )
        assert "prefetch" in message
    assert len(fill(client, "BERT")["confidences"]) == 3
    other_tabs_answer(client, files)


def test_ffmpeg_missing_from_path(client, files, tmp_path: Path) -> None:  # noqa: ANN001
    """Formats only ffmpeg decodes are refused with the reason; WAV still works through libsndfile."""
    # AAC in MP4 (libsndfile reads WAV, FLAC, OGG and even MP3 itself, but not this).
    m4a = tmp_path / "tone.m4a"
    if shutil.which("ffmpeg"):  # a real file when this machine can make one; MP4-looking bytes otherwise
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-i", str(files / "tone.wav"), "-c:a", "aac", str(m4a)], check=True
        )
    else:
        m4a.write_bytes(bytes(4) + b"ftypM4A " + bytes(2000))
    asr = dict(model="", task="transcribe", language="auto", timestamps="off", max_chars_per_line=42)
    fails_the_same_clear_way_twice(
        lambda: client.predict(handle_file(str(m4a)), **asr, api_name="/transcribe"),
        "This format needs ffmpeg, which is not installed",
    )
    text, *_rest = client.predict(handle_file(str(files / "tone.wav")), **asr, api_name="/transcribe")
    assert isinstance(text, str)
    other_tabs_answer(client, files)


def test_tesseract_missing_from_path(client, files) -> None:  # noqa: ANN001
    def ask() -> Any:
        return client.predict(
            handle_file(str(files / "red.png")),
            question="What is the total?",
            model="",
            ocr_language="eng",
            api_name="/answer_document_question",
        )

    fails_the_same_clear_way_twice(ask, "Tesseract OCR is not installed")
    answers, _code = client.predict(
        handle_file(str(files / "red.png")),
        question="What colour?",
        model="",
        top_k=2,
        max_new_tokens=4,
        api_name="/answer_image_question",
    )
    assert len(answers) == 2
    other_tabs_answer(client, files)


def test_different_models_loading_at_the_same_time_all_work(test_models: Path) -> None:
    """Loads overlapping in threads (several tabs' first requests at once) must each give a working
    model: transformers patches process-wide state while it builds one, so the manager serialises them."""
    import threading

    from PIL import Image

    from playground.config.catalog import parse_catalog
    from playground.loading.model_manager import ModelManager

    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu", "max_loaded_models": 10},
            "tabs": {
                "fill_mask": {
                    "models": [
                        {"id": str(test_models / "bert-mlm"), "label": "BERT"},
                        {"id": str(test_models / "roberta-mlm"), "label": "RoBERTa"},
                    ]
                },
                "image_classification": {
                    "models": [
                        {"id": str(test_models / "vit"), "label": "ViT"},
                        {"id": str(test_models / "convnext"), "label": "ConvNeXt"},
                    ]
                },
                "text_generation": {
                    "models": [
                        {"id": str(test_models / "llama-chat"), "label": "Llama"},
                        {"id": str(test_models / "llama-base"), "label": "Base"},
                    ]
                },
            },
        }
    )
    requests = [
        ("fill_mask", "BERT"),
        ("fill_mask", "RoBERTa"),
        ("image_classification", "ViT"),
        ("image_classification", "ConvNeXt"),
        ("text_generation", "Llama"),
        ("text_generation", "Base"),
    ]
    for _ in range(2):  # the overlap is a race: two rounds make a regression show
        manager = ModelManager(catalog)
        barrier = threading.Barrier(len(requests))
        loaded: dict[str, Any] = {}

        def first_request(tab: str, label: str, barrier=barrier, loaded=loaded, manager=manager) -> None:  # noqa: ANN001
            barrier.wait()
            loaded[label] = manager.get(tab, label)

        threads = [threading.Thread(target=first_request, args=request) for request in requests]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for label in ("BERT", "RoBERTa"):
            pipe = loaded[label].model
            assert len(pipe(f"Paris is the {pipe.tokenizer.mask_token} of France.", top_k=2)) == 2
        for label in ("ViT", "ConvNeXt"):
            assert len(loaded[label].model(Image.new("RGB", (40, 40)), top_k=2)) == 2
        for label in ("Llama", "Base"):
            assert isinstance(loaded[label].model("hello", max_new_tokens=2)[0]["generated_text"], str)
