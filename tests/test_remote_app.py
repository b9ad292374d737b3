"""Remote catalog entries through the launched app: the text-generation and speech tabs pick the
endpoint's engine for entries with `endpoint:`, failures reach API clients as clear messages while
the app keeps serving, the Models view lists health, and no key ever reaches a page or an answer."""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import RunningApp, catalog_variant, launch_app
from engines import KEY, KEY_ENV, Engine
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from bench.common import free_port

LOCAL_LLAMA = "Llama chat (test)"
REMOTE_LLAMA = "Llama (remote)"
DOWN = "Nobody home (remote)"
REMOTE_WHISPER = "Whisper (remote)"


@pytest.fixture(scope="module")
def remote_app(
    test_catalog: Path,
    test_models: Path,
    engine: Engine,
    whisper_engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("remote-app")
    key = {"api_key_env": KEY_ENV} if engine.api_key else {}
    catalog = catalog_variant(
        test_catalog,
        root / "models.yaml",
        models={
            "text_generation": [
                {"id": str(test_models / "llama-chat"), "label": LOCAL_LLAMA, "default": True},
                {"id": engine.model, "label": REMOTE_LLAMA, "concurrency": 4, "endpoint": {"url": engine.url, **key}},
                {
                    "id": "nobody-home",
                    "label": DOWN,
                    "endpoint": {"url": f"http://127.0.0.1:{free_port()}/v1", "max_retries": 0, "api_key_env": KEY_ENV},
                },
            ],
            "speech_to_text": [
                {
                    "id": whisper_engine.model,
                    "label": REMOTE_WHISPER,
                    "default": True,
                    "endpoint": {"url": whisper_engine.url},
                },
            ],
        },
    )
    running = launch_app(catalog, root, "--tabs", "text_generation,speech_to_text", env={KEY_ENV: KEY})
    yield running
    running.stop()


def test_generate_streams_from_the_endpoint(remote_app: RunningApp, engine: Engine) -> None:
    # Long enough to outlast the pacing's tenth of a second (the tiny model writes a dozen tokens in a burst).
    job = remote_app.client().submit(
        "hello world", model=REMOTE_LLAMA, max_new_tokens=256, do_sample=False, api_name="/generate"
    )
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
        "hello", [], model=REMOTE_LLAMA, system_prompt="Be brief.", max_new_tokens=8, do_sample=False, api_name="/chat"
    )
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
        handle_file(str(audio)), REMOTE_WHISPER, "transcribe", "auto", "segment", 42, 0, api_name="/transcribe"
    )
    assert isinstance(text, str)
    assert "Real-time factor" in stats
    assert "without timestamps" in stats  # transformers serve answers with text only
    assert "client.audio.transcriptions.create" in code and Path(srt).exists() and Path(vtt).exists()


def sent_call(code: str) -> dict[str, Any]:
    """The keyword arguments of the snippet's audio API call (the file as source text)."""
    call = next(
        node
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "client.audio.transcriptions.create"
    )
    return {kw.arg: ast.unparse(kw.value) if kw.arg == "file" else ast.literal_eval(kw.value) for kw in call.keywords}


def test_speech_options_the_server_does_not_take_are_named_per_request(
    remote_app: RunningApp, whisper_engine: Engine, tmp_path: Path
) -> None:
    """Against transformers serve, which refuses timestamp_granularities and answers with text only."""
    from bench.inputs import write_tone

    audio = write_tone(tmp_path / "long.wav", seconds=31)
    client = remote_app.client()
    for _ in range(2):  # the second request goes without the refused field at once, and says so again
        text, segments, srt, vtt, stats, code = client.predict(
            handle_file(str(audio)), REMOTE_WHISPER, "transcribe", "korean", "word", 42, 5, api_name="/transcribe"
        )
        assert "the server refused the audio API field timestamp_granularities" in stats
        assert "without timestamps" in stats
        assert segments["data"] == ([[0.0, 31.0, text]] if text else []), "one segment over the whole recording"
        assert "Language: ko was sent, but the server's answer does not say which language it heard" in stats
        assert "no chunking or batch size option, so the 31 s recording was sent whole" in stats
        assert sent_call(code) == {
            "model": whisper_engine.model,
            "file": "open('long.wav', 'rb')",
            "response_format": "verbose_json",
            "language": "ko",
        }
    # A short recording, timestamps off: nothing to say about chunks, timestamps or refusals.
    _, _, _, _, stats, code = client.predict(
        handle_file(str(write_tone(tmp_path / "short.wav"))),
        REMOTE_WHISPER,
        "transcribe",
        "auto",
        "off",
        42,
        0,
        api_name="/transcribe",
    )
    assert "refused" not in stats and "chunking" not in stats and "timestamps" not in stats and "Language:" not in stats
    assert sent_call(code) == {
        "model": whisper_engine.model,
        "file": "open('short.wav', 'rb')",
        "response_format": "verbose_json",
    }


def test_the_speech_notes_are_in_the_request_language(remote_app: RunningApp, tmp_path: Path) -> None:
    from bench.inputs import write_tone

    audio = write_tone(tmp_path / "tone.wav")
    client = Client(remote_app.url, verbose=False, headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    *_, stats, _ = client.predict(
        handle_file(str(audio)), REMOTE_WHISPER, "transcribe", "ko", "word", 42, 0, api_name="/transcribe"
    )
    assert "timestamp_granularities을(를) 거부해" in stats and "ko을(를) 보냈지만" in stats


def activity_rows(client: Any) -> dict[str, dict[str, Any]]:
    table = client.predict(api_name="/generation_activity")
    assert table["headers"][:2] == ["model", "engine"] and table["headers"][-2:] == ["answered", "last error"]
    names = ("model", "engine", "running", "waiting", "peak", "served", "last_error")
    return {row[0]: dict(zip(names, row)) for row in table["data"]}


def test_generation_activity_lists_every_engine_in_use(
    remote_app: RunningApp, engine: Engine, whisper_engine: Engine, tmp_path: Path
) -> None:
    from engines import CONTEXT_TOKENS

    from bench.inputs import write_tone

    client, watcher = remote_app.client(), remote_app.client()
    client.predict("hello", model=LOCAL_LLAMA, max_new_tokens=2, do_sample=False, api_name="/generate")
    with pytest.raises(AppError):
        client.predict("hello", model=DOWN, max_new_tokens=4, api_name="/generate")
    client.predict(
        handle_file(str(write_tone(tmp_path / "tone.wav"))),
        REMOTE_WHISPER,
        "transcribe",
        "auto",
        "off",
        42,
        0,
        api_name="/transcribe",
    )
    job = client.submit(
        "hello world", model=REMOTE_LLAMA, max_new_tokens=CONTEXT_TOKENS - 64, do_sample=False, api_name="/generate"
    )
    deadline = time.monotonic() + 60
    while len(job.outputs()) < 2:  # streaming from the engine
        assert time.monotonic() < deadline, "no text streamed"
        time.sleep(0.05)
    during = activity_rows(watcher)
    client.predict(api_name="/stop_generation")
    job.result(timeout=60)
    after = activity_rows(watcher)

    remote = during[REMOTE_LLAMA]
    assert remote["running"] == 1 and remote["waiting"] == 0 and engine.url in remote["engine"]
    assert after[REMOTE_LLAMA]["running"] == 0 and after[REMOTE_LLAMA]["served"] == remote["served"] + 1
    assert after[REMOTE_LLAMA]["peak"] is None, "the server's batches are not the app's to see"
    down = after[DOWN]
    assert down["running"] == 0 and down["served"] == 0 and "cannot be reached" in down["last_error"]
    speech = after[REMOTE_WHISPER]
    assert speech["running"] == 0 and speech["served"] >= 1 and whisper_engine.url in speech["engine"]
    local = after[LOCAL_LLAMA]  # the same table: local engines beside the remote ones
    assert local["running"] == 0 and ("in-process" in local["engine"] or "batched" in local["engine"])
    assert local["served"] is None and isinstance(local["peak"], int)
    assert KEY not in str(during) + str(after)
    korean = Client(remote_app.url, verbose=False, headers={"Accept-Language": "ko"}).predict(
        api_name="/generation_activity"
    )
    assert korean["headers"][-2:] == ["응답한 요청", "마지막 오류"]
    assert any(row[0] == DOWN and "연결할 수 없습니다" in row[6] for row in korean["data"]), (
        "the last error in the caller's language"
    )


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
