"""ZeroGPU: with SPACES_ZERO_GPU set and `spaces` importable, model handlers are wrapped with
`spaces.GPU(duration=...)` sized to each call's input; without it, nothing is wrapped.

ZeroGPU hardware cannot exist here, so `spaces` is a stand-in on PYTHONPATH that records what the
app asks of it and runs the handler as the real one does on a GPU slice (in the same process).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import launch_app
from gradio_client import handle_file

from playground.loading.gpu import BASE_SECONDS, MAX_SECONDS, estimate_seconds

FAKE_SPACES = """
import functools, inspect, json, os

def _record(**event):
    with open(os.environ["FAKE_SPACES_LOG"], "a") as log:
        log.write(json.dumps(event) + "\\n")

def GPU(fn=None, duration=60):
    def decorate(func):
        _record(event="decorated", name=func.__name__)
        def seconds(args, kwargs):
            return duration(*args, **kwargs) if callable(duration) else duration
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                _record(event="call", name=func.__name__, duration=seconds(args, kwargs))
                yield from func(*args, **kwargs)
        else:
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                _record(event="call", name=func.__name__, duration=seconds(args, kwargs))
                return func(*args, **kwargs)
        return wrapper
    return decorate(fn) if fn is not None else decorate
"""


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture()
def fake_spaces(tmp_path: Path) -> tuple[Path, Path]:
    package = tmp_path / "fake" / "spaces"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_SPACES)
    return package.parent, tmp_path / "spaces-log.jsonl"


@pytest.fixture()
def tone(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    seconds = np.arange(0, 40.0, 1 / 16000)
    soundfile.write(path, (0.2 * np.sin(2 * np.pi * 440 * seconds)).astype("float32"), 16000)
    return path


def test_duration_estimate_grows_with_the_input(tone: Path) -> None:
    assert estimate_seconds({}) == BASE_SECONDS
    assert estimate_seconds({"max_new_tokens": 400}) > estimate_seconds({"max_new_tokens": 8}) > BASE_SECONDS
    assert estimate_seconds({"audio": str(tone)}) == BASE_SECONDS + 4  # 40 s of audio at 0.1 s per second
    assert estimate_seconds({"max_new_tokens": 10**6}) == MAX_SECONDS


def test_model_handlers_run_on_zero_gpu_sized_to_their_input(test_catalog, tmp_path, fake_spaces, tone) -> None:  # noqa: ANN001
    path, log = fake_spaces
    env = {"PYTHONPATH": str(path), "SPACES_ZERO_GPU": "true", "FAKE_SPACES_LOG": str(log)}
    running = launch_app(test_catalog, tmp_path, "--tabs", "speech_to_text,text_generation", env=env)
    try:
        client = running.client()
        short = client.predict("Once upon a time", max_new_tokens=4, do_sample=False, stop="", api_name="/generate")
        long = client.predict("Once upon a time", max_new_tokens=60, do_sample=False, stop="", api_name="/generate")
        transcript = client.predict(handle_file(str(tone)), api_name="/transcribe")
    finally:
        running.stop()
    assert short[0] and long[0].startswith(short[0]), "greedy text, wrapped or not: the longer run extends the shorter"
    assert isinstance(transcript[0], str)
    decorated = {e["name"] for e in events(log) if e["event"] == "decorated"}
    assert {"generate", "transcribe"} <= decorated
    assert not decorated & {"loaded_models", "unload", "stop_generation", "system_and_catalog"}, (
        "only handlers that run a model"
    )
    calls = [(e["name"], e["duration"]) for e in events(log) if e["event"] == "call"]
    assert calls == [
        ("generate", estimate_seconds({"max_new_tokens": 4})),
        ("generate", estimate_seconds({"max_new_tokens": 60})),
        ("transcribe", estimate_seconds({"audio": str(tone)})),
    ]


def test_nothing_is_wrapped_off_zero_gpu(test_catalog, tmp_path, fake_spaces) -> None:  # noqa: ANN001
    path, log = fake_spaces
    env = {"PYTHONPATH": str(path), "FAKE_SPACES_LOG": str(log)}
    running = launch_app(test_catalog, tmp_path, "--tabs", "text_generation", env=env)
    try:
        text = running.client().predict(
            "Once upon a time", max_new_tokens=4, do_sample=False, stop="", api_name="/generate"
        )
    finally:
        running.stop()
    assert isinstance(text[0], str)
    assert events(log) == []
