"""Remote catalog entries through the launched app: the text-generation and speech tabs pick the
endpoint's engine for entries with `endpoint:`, failures reach API clients as clear messages while
the app keeps serving, the Models view lists health, and no key ever reaches a page or an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from gradio_client import handle_file

from bench.common import free_port
from conftest import RunningApp, catalog_variant, launch_app
from engines import KEY, KEY_ENV, Engine

LOCAL_LLAMA = "Llama chat (test)"
REMOTE_LLAMA = "Llama (remote)"
DOWN = "Nobody home (remote)"
REMOTE_WHISPER = "Whisper (remote)"


@pytest.fixture(scope="module")
def remote_app(test_catalog: Path, test_models: Path, engine: Engine, whisper_engine: Engine,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("remote-app")
    key = {"api_key_env": KEY_ENV} if engine.api_key else {}
    catalog = catalog_variant(test_catalog, root / "models.yaml", models={
        "text_generation": [
            {"id": str(test_models / "llama-chat"), "label": LOCAL_LLAMA, "default": True},
            {"id": engine.model, "label": REMOTE_LLAMA, "concurrency": 4, "endpoint": {"url": engine.url, **key}},
            {"id": "nobody-home", "label": DOWN,
             "endpoint": {"url": f"http://127.0.0.1:{free_port()}/v1", "max_retries": 0, "api_key_env": KEY_ENV}},
        ],
        "speech_to_text": [
            {"id": whisper_engine.model, "label": REMOTE_WHISPER, "default": True, "endpoint": {"url": whisper_engine.url}},
        ],
    })
    running = launch_app(catalog, root, "--tabs", "text_generation,speech_to_text", env={KEY_ENV: KEY})
    yield running
    running.stop()


def test_generate_streams_from_the_endpoint(remote_app: RunningApp, engine: Engine) -> None:
    job = remote_app.client().submit("hello world", model=REMOTE_LLAMA, max_new_tokens=12, do_sample=False,
                                     api_name="/generate")
    text, stats, code, table = job.result(timeout=120)
    assert text and len(job.outputs()) >= 2, "the answer streams"
    assert engine.url in stats and engine.model in stats
    assert "client.completions.create" in code and "base_url=" in code
    assert KEY not in stats + code
    if engine.gives_logprobs:
        assert table["data"][0][0] == 1
    else:
        assert "no per-token probabilities" in stats


def test_chat_through_the_endpoint(remote_app: RunningApp, engine: Engine) -> None:
    history, sent, stats, code = remote_app.client().predict(
        "hello", [], model=REMOTE_LLAMA, system_prompt="Be brief.", max_new_tokens=8, do_sample=False, api_name="/chat")
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert '"Be brief."' in sent, "the preview shows the messages sent (the server applies the template)"
    assert "client.chat.completions.create" in code and engine.url in stats


def test_an_endpoint_that_is_down_is_explained_and_the_app_keeps_serving(remote_app: RunningApp) -> None:
    client = remote_app.client()
    with pytest.raises(Exception) as caught:
        client.predict("hello", model=DOWN, max_new_tokens=4, api_name="/generate")
    assert "cannot be reached" in str(caught.value) and KEY not in str(caught.value)
    text, *_ = client.predict("hello", model=LOCAL_LLAMA, max_new_tokens=4, do_sample=False, api_name="/generate")
    assert isinstance(text, str)


def test_transcription_through_the_audio_api(remote_app: RunningApp, tmp_path: Path) -> None:
    from bench.inputs import write_tone

    audio = write_tone(tmp_path / "tone.wav")
    text, segments, srt, vtt, stats, code = remote_app.client().predict(
        handle_file(str(audio)), REMOTE_WHISPER, "transcribe", "auto", "segment", 42, 0, api_name="/transcribe")
    assert isinstance(text, str)
    assert "Real-time factor" in stats
    assert "without timestamps" in stats  # transformers serve answers with text only
    assert "client.audio.transcriptions.create" in code and Path(srt).exists() and Path(vtt).exists()


def test_models_view_lists_remote_health_without_keys(remote_app: RunningApp, engine: Engine) -> None:
    listed: list[dict[str, Any]] = remote_app.client().predict(api_name="/remote_models")
    health = {item["label"]: item for item in listed}
    assert health[REMOTE_LLAMA]["healthy"] and health[REMOTE_LLAMA]["url"] == engine.url
    assert health[REMOTE_WHISPER]["healthy"]
    assert not health[DOWN]["healthy"] and health[DOWN]["status"].startswith("unreachable")
    assert KEY not in str(listed)


def test_no_key_in_the_page_or_its_config(remote_app: RunningApp) -> None:
    for path in ("", "config", "gradio_api/info"):
        body = httpx.get(remote_app.url + path, timeout=30).text
        assert KEY not in body
    assert KEY not in remote_app.log()
