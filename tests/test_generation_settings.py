"""Every generating tab runs with the settings models ship: the model's own generation config, then
the catalog entry's, then the request's; the page and the notes show which were used.

The app here serves copies of the test models that carry real checkpoints' settings
(scripts/published_settings.py): a BART with BART-CNN's beams and lengths, a Llama that samples with
Qwen2.5-Instruct's top-p, top-k and repetition penalty, and the Donut stand-in with its 128 positions.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import RunningApp, catalog_variant, launch_app
from gradio_client import handle_file
from snippets import run_snippet
from test_browser import browser  # noqa: F401 - the shared chromium fixture

from playground.engines.generation_settings import effective_settings, model_defaults, read_shipped
from scripts.published_settings import apply_published

CNN = "BART with CNN settings"
SAMPLER = "Llama with Qwen settings"
GREEDY = "Llama greedy"
DONUT = "Donut"
PARAGRAPH = "This course is about the Transformers library. It is free. It runs on a laptop. " * 3


def published_copy(test_models: Path, name: str, hub_id: str, out: Path) -> Path:
    folder = out / name
    shutil.copytree(test_models / name, folder)
    assert apply_published(folder, hub_id)
    return folder


@pytest.fixture(scope="module")
def settings_app(
    test_models: Path, test_catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("generation-settings")
    models = {
        "summarization": [
            {
                "id": str(published_copy(test_models, "bart-cnn", "sshleifer/distilbart-cnn-12-6", root)),
                "label": CNN,
                "task": "summarization",
                "default": True,
            }
        ],
        "text_generation": [
            {
                "id": str(published_copy(test_models, "llama-chat", "Qwen/Qwen2.5-0.5B-Instruct", root)),
                "label": SAMPLER,
                "task": "text-generation",
                "default": True,
            },
            {"id": str(test_models / "llama-chat"), "label": GREEDY, "task": "text-generation"},
        ],
        "visual_qa": [
            {
                "id": str(published_copy(test_models, "donut", "naver-clova-ix/donut-base-finetuned-docvqa", root)),
                "label": DONUT,
                "task": "image-text-to-text",
                "document": True,
                "default": True,
            }
        ],
    }
    # A Whisper checkpoint that lists no alignment heads (word timestamps need them).
    whisper = root / "whisper-no-alignment"
    shutil.copytree(test_models / "whisper", whisper)
    generation = json.loads((whisper / "generation_config.json").read_text())
    del generation["alignment_heads"]
    (whisper / "generation_config.json").write_text(json.dumps(generation))
    models["speech_to_text"] = [
        {"id": str(whisper), "label": "Whisper", "task": "automatic-speech-recognition", "default": True}
    ]
    catalog = catalog_variant(test_catalog, root / "models.yaml", models=models)
    running = launch_app(catalog, root, "--tabs", "summarization,text_generation,visual_qa,speech_to_text")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def settings_client(settings_app: RunningApp) -> Any:
    return settings_app.client()


# ---- the layering, on the real model files ---------------------------------------------------------


def test_layers_model_then_catalog_then_request(test_models: Path, tmp_path: Path) -> None:
    shipped = read_shipped(str(published_copy(test_models, "llama-chat", "Qwen/Qwen2.5-0.5B-Instruct", tmp_path)))
    assert model_defaults(shipped) | {"do_sample": True, "top_p": 0.8, "top_k": 20} == model_defaults(shipped)
    settings = effective_settings(shipped, {"top_k": 5}, {"top_p": 0.5, "temperature": None, "max_new_tokens": 9})
    assert (settings.get("top_p"), settings.get("top_k"), settings.get("temperature")) == (0.5, 5, 0.7)
    assert settings.sources == {
        "do_sample": "model",
        "temperature": "model",
        "top_p": "request",
        "top_k": "catalog",
        "repetition_penalty": "model",
        "max_new_tokens": "request",
    }
    # generate() applies the model's own config itself: only the other layers are passed to it.
    assert settings.options == {"top_k": 5, "top_p": 0.5, "max_new_tokens": 9}
    assert "top_k=5 (the catalog's)" in settings.describe()["en"] and "카탈로그" in settings.describe()["ko"]


def test_task_specific_params_count_as_the_models(test_models: Path, tmp_path: Path) -> None:
    bart = read_shipped(str(published_copy(test_models, "bart-cnn", "facebook/bart-large-cnn", tmp_path)))
    settings = effective_settings(bart, {}, {"max_new_tokens": 40, "num_beams": None}, task="summarization")
    assert settings.beams == 4 and settings.get("min_length") == 56 and settings.sources["num_beams"] == "model"
    # The generation config has them too; a request's max_new_tokens supersedes the model's max_length.
    assert "max_length" not in settings.options and settings.options["max_new_tokens"] == 40


# ---- through the app -------------------------------------------------------------------------------


def test_page_starts_from_the_default_models_own_sampling(settings_app: RunningApp) -> None:
    config = httpx.get(settings_app.url + "config", timeout=30).json()
    # Labels travel as translation keys: '__i18n__{"__type__": ..., "key": "text_generation.top_p"}'.
    values = {str(c["props"].get("label")): c["props"].get("value") for c in config["components"] if "props" in c}
    shown = {
        key: next(v for label, v in values.items() if f'"text_generation.{key}"' in label)
        for key in ("temperature", "top_p", "top_k", "repetition_penalty", "do_sample")
    }
    assert shown == {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.1, "do_sample": True}


def test_generate_uses_the_models_sampling_unless_asked(settings_client: Any) -> None:
    text, stats, code, _ = settings_client.predict("In this course", SAMPLER, 16, api_name="/generate")
    for shown in (
        "do_sample=True (the model's)",
        "top_p=0.8 (the model's)",
        "top_k=20 (the model's)",
        "repetition_penalty=1.1 (the model's)",
    ):
        assert shown in stats, stats
    # The same settings spelled out give the same text; greedy (asked for) gives another.
    explicit = settings_client.predict("In this course", SAMPLER, 16, 0.7, 0.8, 20, 1.1, True, api_name="/generate")[0]
    greedy, greedy_stats, greedy_code, _ = settings_client.predict(
        "In this course", SAMPLER, 16, do_sample=False, api_name="/generate"
    )
    assert explicit == text and greedy != text
    assert "do_sample=False (yours)" in greedy_stats and "top_p" not in greedy_stats
    # The snippet leaves the model's own settings to the model and seeds only when it samples.
    assert "set_seed(0)" in code and "top_p" not in code and "set_seed" not in greedy_code


def test_a_greedy_model_stays_greedy(settings_client: Any) -> None:
    first = settings_client.predict("Hello", GREEDY, 8, seed=1, api_name="/generate")
    second = settings_client.predict("Hello", GREEDY, 8, seed=2, api_name="/generate")
    assert first[0] == second[0] and "do_sample=False (the model's)" in first[1]


def test_chat_uses_the_models_sampling(settings_client: Any) -> None:
    history, prompt, stats, code = settings_client.predict("Hi", [], SAMPLER, max_new_tokens=8, api_name="/chat")
    assert history[-1]["role"] == "assistant" and "top_k=20 (the model's)" in stats


def test_summary_keeps_the_models_beams_and_lengths(settings_client: Any, test_models: Path) -> None:
    summary, note, code = settings_client.predict(PARAGRAPH, CNN, 60, api_name="/summarize")
    assert summary.strip()
    for shown in (
        "num_beams=4 (the model's)",
        "length_penalty=2.0 (the model's)",
        "no_repeat_ngram_size=3",
        "min_length=56 (the model's)",
        "max_new_tokens=60 (yours)",
        "asks for 4 beams",
    ):
        assert shown in note, note
    assert run_snippet(code, cwd=test_models).rstrip("\n") == summary
    # One beam asked for: the model's other settings stay, the note no longer speaks of beams.
    _, one_beam_note, _ = settings_client.predict(PARAGRAPH, CNN, 60, 0, 1, api_name="/summarize")
    assert "num_beams=1 (yours)" in one_beam_note and "asks for" not in one_beam_note


def test_donut_answer_length_is_bounded_by_its_decoder(settings_client: Any, tmp_path: Path) -> None:
    from PIL import Image

    page = tmp_path / "page.png"
    Image.new("RGB", (96, 128), "white").save(page)
    answers, text, code, _, details = settings_client.predict(
        handle_file(str(page)), "What is the total?", DONUT, max_new_tokens=200, api_name="/answer_document_question"
    )
    lowered = re.search(r"lowered from 200 to (\d+)", text)
    assert lowered and int(lowered.group(1)) < 128, text
    assert f"max_new_tokens={lowered.group(1)}" in code.replace(" ", "")
    json.dumps(details)  # the answers are plain data


def test_word_timestamps_need_alignment_heads(settings_client: Any, tmp_path: Path) -> None:
    from gradio_client.exceptions import AppError

    from bench.inputs import write_tone

    tone = handle_file(str(write_tone(tmp_path / "tone.wav")))
    with pytest.raises(AppError, match="no alignment heads"):
        settings_client.predict(tone, timestamps="word", api_name="/transcribe")
    assert settings_client.predict(tone, timestamps="segment", api_name="/transcribe") is not None


def test_picking_a_model_shows_its_own_settings_in_the_page(settings_app: RunningApp, browser) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    from playground.web.ui import COMMON
    from tabs.text_generation.ui import TEXTS

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(settings_app.url, wait_until="networkidle")
    page.get_by_role("tab", name=TEXTS.get("title"), exact=True).first.click()
    sample = page.get_by_label(TEXTS.get("do_sample")).locator("visible=true").first
    top_k = page.get_by_label(TEXTS.get("top_k")).locator("visible=true").first
    expect(sample).to_be_checked()
    expect(top_k).to_have_value("20")
    picker = page.get_by_label(COMMON.get("model")).locator("visible=true").first
    picker.click()
    page.get_by_role("option", name=GREEDY).click()
    expect(sample).not_to_be_checked()
    expect(top_k).to_have_value("50")  # nothing shipped: transformers' default
    picker.click()
    page.get_by_role("option", name=SAMPLER).click()
    expect(sample).to_be_checked()
    expect(top_k).to_have_value("20")
    page.close()
