"""The speech batcher in-process on the real tiny test Whisper: outputs equal each request alone, a
window that fails fails only its own request, and unloading fails what still waits with a message.
(Through the launched app: tests/test_speech_to_text.py, test_concurrent_transcriptions_…)"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playground.engines.generation import EngineGone, unloaded_message
from playground.engines.speech_batching import SpeechBatcher

RATE = 16000


@dataclass
class Entry:
    id: str = "whisper"
    label: str = "Whisper (test)"
    max_batch_size: int | None = None


@dataclass
class Loaded:
    """What the batcher reads of a manager's LoadedModel."""

    model: Any
    entry: Entry
    device: str = "cpu"


@pytest.fixture(scope="module")
def pipe(test_models: Path):  # noqa: ANN201
    from transformers import pipeline

    return pipeline("automatic-speech-recognition", model=str(test_models / "whisper"), device="cpu")


def clip(seconds: float, pitch: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (
        0.3 * np.sin(2 * np.pi * pitch * t) + 0.05 * np.random.default_rng(int(pitch)).standard_normal(t.size)
    ).astype(np.float32)


def windows(pipe, samples: np.ndarray) -> list[dict[str, Any]]:  # noqa: ANN001
    return list(pipe.preprocess({"raw": samples, "sampling_rate": RATE}))


def text(pipe, output: Any) -> str:  # noqa: ANN001
    return pipe.postprocess([output])["text"]


def concurrently(batcher: SpeechBatcher, requests: list[list[dict[str, Any]]]) -> list[Any]:
    """Each request's windows through its own session, all at once; an exception is its request's result."""
    results: list[Any] = [None] * len(requests)
    sessions = [batcher.session().__enter__() for _ in requests]  # all open before any window is sent

    def one(index: int) -> None:
        try:
            results[index] = sessions[index].forward_windows(requests[index], {})
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[index] = exc
        finally:
            sessions[index].__exit__(None, None, None)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_shared_batches_equal_alone(pipe) -> None:  # noqa: ANN001
    batcher = SpeechBatcher(Loaded(pipe, Entry()), max_batch_size=8)
    requests = [windows(pipe, clip(seconds, pitch)) for seconds, pitch in ((1, 220), (2, 330), (3, 440), (2, 550))]
    alone = [text(pipe, pipe.forward(request[0])) for request in windows_again(pipe, requests)]
    shared = concurrently(batcher, requests)
    assert [text(pipe, outputs[0]) for outputs in shared] == alone
    assert max(batcher.batch_sizes) == 4  # one forward pass for all four
    activity = batcher.activity()
    assert (activity.peak_batch_size, activity.served, activity.running, activity.waiting) == (4, 4, 0, 0)
    batcher.close()


def test_a_long_recording_alone_fills_its_batches(pipe, tmp_path: Path) -> None:  # noqa: ANN001
    """Its 30 s windows (with strides) go through forward passes of PER_REQUEST_WINDOWS, as before batching."""
    import soundfile as sf

    from playground.media.audio import open_audio
    from tabs.speech_to_text import task as speech

    sf.write(tmp_path / "long.wav", clip(100, 220), RATE)
    batcher = SpeechBatcher(Loaded(pipe, Entry()), max_batch_size=8)
    with open_audio(str(tmp_path / "long.wav"), RATE, 60) as audio:
        items, total, forward_params, _ = speech.model_windows(pipe, audio, {}, chunked=True)
        with batcher.session() as session:
            outputs = session.forward_windows(items, forward_params)
    assert total == len(outputs) == 5 and list(batcher.batch_sizes) == [4, 1]
    batcher.close()


def windows_again(pipe, requests: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:  # noqa: ANN001
    """Fresh copies of the requests' inputs (the pipeline's forward pops keys from what it is given)."""
    return [
        [{key: value.clone() if hasattr(value, "clone") else value for key, value in item.items()} for item in request]
        for request in requests
    ]


def test_a_failing_window_fails_only_its_request(pipe, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """A batch that fails is retried window by window: the others get their own outputs."""
    batcher = SpeechBatcher(Loaded(pipe, Entry()), max_batch_size=8)
    good = [windows(pipe, clip(2, pitch)) for pitch in (220, 330, 440)]
    bad = windows(pipe, np.zeros(2 * RATE, dtype=np.float32))
    alone = [text(pipe, pipe.forward(request[0])) for request in windows_again(pipe, good)]
    real_forward = pipe.forward

    def forward(model_inputs: dict[str, Any], **params: Any) -> Any:
        # A window the model cannot run (here: all-silent features, made to fail) breaks any batch it is in.
        features = model_inputs["input_features"]
        if any(float(row.max() - row.min()) == 0.0 for row in features):
            raise RuntimeError("this window cannot be run")
        return real_forward(model_inputs, **params)

    monkeypatch.setattr(pipe, "forward", forward)
    results = concurrently(batcher, [good[0], bad, good[1], good[2]])
    assert isinstance(results[1], RuntimeError)
    assert [text(pipe, results[i][0]) for i in (0, 2, 3)] == alone
    assert 4 in batcher.batch_sizes  # they were batched, then retried alone
    batcher.close()


def test_unloading_fails_waiting_windows_with_a_message(pipe, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    batcher = SpeechBatcher(Loaded(pipe, Entry()), max_batch_size=1)
    running, release = threading.Event(), threading.Event()
    real_forward = pipe.forward

    def forward(model_inputs: dict[str, Any], **params: Any) -> Any:
        running.set()
        release.wait(30)
        return real_forward(model_inputs, **params)

    monkeypatch.setattr(pipe, "forward", forward)
    results: dict[str, Any] = {}

    def request(name: str, pitch: float) -> None:
        with batcher.session() as session:
            try:
                results[name] = session.forward_windows(windows(pipe, clip(1, pitch)), {})
            except EngineGone as exc:
                results[name] = exc

    first = threading.Thread(target=request, args=("first", 220))
    first.start()
    assert running.wait(30)
    second = threading.Thread(target=request, args=("second", 330))
    second.start()
    while batcher.activity().waiting < 1:  # the second request waits behind the running one
        threading.Event().wait(0.01)
    batcher.close(unloaded_message("Whisper (test)"))
    release.set()
    first.join(60)
    second.join(60)
    assert isinstance(results["first"], list)  # the running batch finishes
    assert isinstance(results["second"], EngineGone) and "was unloaded" in str(results["second"])
    with pytest.raises(EngineGone):
        batcher.session().__enter__()
