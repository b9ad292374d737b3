"""Text to speech through the real pipeline and the running app: the WAV's sampling rate and duration,
sentences and pauses, the seed, romanized Korean, music length, the show-code snippet (run as printed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet

from playground.core.texts import UserError
from tabs.text_to_speech import task

ENGLISH = "MMS-TTS English (test)"
KOREAN = "MMS-TTS Korean (test)"
MUSIC = "MusicGen (test)"
TEXT = "Welcome to the course. Every tab shows its code!\nThe end"
HAS_UROMAN = importlib.util.find_spec("uroman") is not None


@pytest.fixture(scope="module")
def voices(test_models: Path) -> dict[str, object]:
    from transformers import pipeline

    return {name: pipeline(task.TASK, model=str(test_models / name)) for name in ("vits-eng", "vits-kor")}


def wav(path: str) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(path, dtype="int16")
    return samples, rate


def test_sentences_split_at_their_ends_and_line_breaks() -> None:
    assert task.split_sentences(TEXT) == ["Welcome to the course.", "Every tab shows its code!", "The end"]
    assert task.split_sentences("안녕하세요. 반갑습니다?  네") == ["안녕하세요.", "반갑습니다?", "네"]
    assert task.split_sentences("3.14 is pi") == ["3.14 is pi"]


def test_each_sentence_is_read_and_joined_with_a_pause(voices: dict) -> None:
    pipe = voices["vits-eng"]
    speech = task.synthesize(pipe, TEXT, seed=3)
    assert speech.sampling_rate == 16000 and speech.pieces == task.split_sentences(TEXT)
    alone = []
    for index, piece in enumerate(speech.pieces):  # each piece again, the random state carried on as in one run
        if index == 0:
            import torch

            torch.manual_seed(3)
        alone.append(pipe(piece)["audio"].reshape(-1))
    pause = int(task.PAUSE_SECONDS * 16000)
    assert len(speech.audio) == sum(len(a) for a in alone) + pause * (len(alone) - 1)
    assert np.array_equal(speech.audio[: len(alone[0])], alone[0])
    assert not speech.audio[len(alone[0]) : len(alone[0]) + pause].any()


def test_the_same_seed_gives_the_same_audio(voices: dict) -> None:
    first = task.synthesize(voices["vits-eng"], "Hello there.", seed=7)
    assert np.array_equal(first.audio, task.synthesize(voices["vits-eng"], "Hello there.", seed=7).audio)
    assert not np.array_equal(first.audio, task.synthesize(voices["vits-eng"], "Hello there.", seed=8).audio)


def test_a_voice_that_reads_romanized_text(voices: dict) -> None:
    pipe = voices["vits-kor"]
    assert task.reads_romanized(pipe) and not task.reads_romanized(voices["vits-eng"])
    latin = task.synthesize(pipe, "annyeonghaseyo. bangapseumnida", seed=0)  # already romanized: read as it is
    assert not latin.romanized and latin.pieces == ["annyeonghaseyo.", "bangapseumnida"]
    if HAS_UROMAN:
        speech = task.synthesize(pipe, "안녕하세요. 반갑습니다", seed=0)
        assert speech.romanized and speech.pieces[0].startswith("annyeong") and speech.duration > 0
    else:
        with pytest.raises(UserError, match="pip install uroman"):
            task.synthesize(pipe, "안녕하세요. 반갑습니다", seed=0)


def test_sentences_the_voice_cannot_read_are_left_out(voices: dict) -> None:
    speech = task.synthesize(voices["vits-eng"], "Hello there. 안녕하세요. Goodbye", seed=0)
    assert speech.pieces == ["Hello there.", "Goodbye"] and speech.skipped == ["안녕하세요."]
    with pytest.raises(UserError, match="reads none of these characters"):
        task.synthesize(voices["vits-eng"], "안녕하세요. ???", seed=0)


def test_the_endpoint_answers_with_the_text_alone(client) -> None:  # noqa: ANN001
    audio, download, stats, code = client.predict(TEXT, api_name="/synthesize_speech")
    samples, rate = wav(audio)
    assert rate == 16000 and audio.endswith(".wav") and Path(download).read_bytes() == Path(audio).read_bytes()
    assert f"{len(samples) / rate:.2f} s" in stats and "16000 Hz" in stats and "**Pieces read:** 3" in stats
    assert "torch.manual_seed(0)" in code


def test_same_seed_same_audio_through_the_app(client) -> None:  # noqa: ANN001
    first, *_ = client.predict("Hello there.", ENGLISH, 11, api_name="/synthesize_speech")
    again, *_ = client.predict("Hello there.", ENGLISH, 11, api_name="/synthesize_speech")
    other, *_ = client.predict("Hello there.", ENGLISH, 12, api_name="/synthesize_speech")
    assert np.array_equal(wav(first)[0], wav(again)[0]) and not np.array_equal(wav(first)[0], wav(other)[0])


def test_music_length_follows_the_seconds_asked(client) -> None:  # noqa: ANN001
    audio, _download, stats, code = client.predict(
        "A calm beat. With piano.", MUSIC, 0, 1, api_name="/synthesize_speech"
    )
    samples, rate = wav(audio)
    # 50 codes a second; MusicGen's delay pattern over its 4 codebooks costs 3 frames of 640 samples.
    assert rate == 32000 and len(samples) == (50 - 3) * 640
    assert "max_new_tokens': 50" in code and "one prompt" in stats


def test_the_korean_voice_romanizes_or_says_what_is_missing(client) -> None:  # noqa: ANN001
    if HAS_UROMAN:
        audio, _download, stats, _code = client.predict("안녕하세요.", KOREAN, api_name="/synthesize_speech")
        assert "annyeong" in stats and wav(audio)[1] == 16000
    else:
        with pytest.raises(AppError, match="pip install uroman"):
            client.predict("안녕하세요.", KOREAN, api_name="/synthesize_speech")


@pytest.mark.parametrize("model", [ENGLISH, MUSIC])
def test_show_code_writes_the_same_audio(client, test_models: Path, tmp_path: Path, model: str) -> None:  # noqa: ANN001
    audio, _download, _stats, code = client.predict("Hello there. Goodbye.", model, 5, 1, api_name="/synthesize_speech")
    stdout = run_snippet(code, timeout=600, cwd=test_models)
    rate, length = map(int, last_line(stdout).split())
    samples, app_rate = wav(audio)
    assert (rate, length) == (app_rate, len(samples))
    written, _ = wav(str(test_models / "speech.wav"))
    (test_models / "speech.wav").unlink()
    assert np.abs(written.astype(int) - samples.astype(int)).max() <= 1  # the same seed: the same audio


def test_show_code_loads_the_model_as_the_app_did(client) -> None:  # noqa: ANN001
    from snippet_calls import assert_loads_as_the_app, call_arguments

    *_, code = client.predict("Hello.", ENGLISH, api_name="/synthesize_speech")
    loaded = next(m for m in client.predict(api_name="/loaded_models") if m["label"] == ENGLISH)
    args, kwargs = call_arguments(code, "pipeline")
    assert args == ["text-to-audio"] and kwargs.pop("model") == loaded["id"]
    assert_loads_as_the_app(kwargs, loaded["load_kwargs"])
