"""Audio classification through the real pipelines and the running app: the scores, the window timeline
over long audio, CLAP's labels, the show-code snippets (run as printed), and the example clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import handle_file
from snippets import last_line, run_snippet

from playground.media.audio import MIN_SECONDS, open_audio
from tabs.audio_classification import task
from tabs.audio_classification.ui import EXAMPLE_CLIPS

RATE = 16000
AST = "AST AudioSet (test)"
KEYWORDS = "Wav2Vec2 keywords (test)"
CLAP = "CLAP (test)"


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sounds")
    times = np.arange(int(25.5 * RATE)) / RATE
    sf.write(folder / "long.flac", (0.3 * np.sin(2 * np.pi * 440 * times)).astype(np.float32), RATE)
    sf.write(folder / "short.wav", np.random.default_rng(0).standard_normal(RATE * 2).astype(np.float32) * 0.1, RATE)
    return folder


@pytest.fixture(scope="module")
def pipes(test_models: Path) -> dict[str, object]:
    from transformers import pipeline

    return {
        "ast": pipeline(task.CLASSIFY_TASK, model=str(test_models / "ast-audioset")),
        "keywords": pipeline(task.CLASSIFY_TASK, model=str(test_models / "wav2vec2-keywords")),
        "clap": pipeline(task.ZERO_SHOT_TASK, model=str(test_models / "clap")),
    }


def check_timeline(timeline: list[list], duration: float, window: float) -> None:
    """Windows in order, back to back from 0 to the end of the audio, none longer than the window plus
    the short tail that joins the last one."""
    assert timeline[0][0] == 0.0 and timeline[-1][1] == pytest.approx(duration, abs=1e-3)
    for before, after in zip(timeline, timeline[1:]):
        assert before[1] == after[0]
    for start, end, label, score in timeline:
        assert 0 < end - start <= window + MIN_SECONDS + 1e-3 and isinstance(label, str) and 0 <= score <= 1


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        (1000, [(0, 300), (300, 600), (600, 900), (900, 1000)]),
        (609, [(0, 300), (300, 609)]),  # a 9-sample tail (under 0.1 s at 100 Hz) joins the window before
        (610, [(0, 300), (300, 600), (600, 610)]),
        (200, [(0, 200)]),
    ],
)
def test_window_spans_cover_the_audio(frames: int, expected: list) -> None:
    assert task.window_spans(frames, 100, 3.0) == expected


def test_scores_of_every_label_sum_to_one_and_top_k_keeps_the_best(pipes: dict, audio_dir: Path) -> None:
    every = task.classify(pipes["ast"], str(audio_dir / "long.flac"), 5, top_k=10)
    assert len(every.scores) == 10 and sum(every.scores.values()) == pytest.approx(1.0, abs=1e-5)
    best = task.classify(pipes["ast"], str(audio_dir / "long.flac"), 5, top_k=3)
    assert list(best.scores) == list(every.scores)[:3]
    assert list(best.scores.values()) == sorted(best.scores.values(), reverse=True)


def test_long_audio_gets_a_timeline_that_covers_it(pipes: dict, audio_dir: Path) -> None:
    result = task.classify(pipes["keywords"], str(audio_dir / "long.flac"), 5, top_k=3, window_seconds=4)
    assert result.windows == 7 and result.duration == pytest.approx(25.5)
    check_timeline(result.timeline, result.duration, 4)
    # The overall scores are the windows' scores averaged by length: the timeline's best labels are among them.
    assert {row[2] for row in result.timeline} <= set(
        task.classify(pipes["keywords"], str(audio_dir / "long.flac"), 5, 12, 4).scores
    )


def test_the_models_own_limit_shortens_the_window(pipes: dict, audio_dir: Path) -> None:
    assert task.model_window_seconds(pipes["ast"]) == pytest.approx(10.24)
    assert task.model_window_seconds(pipes["clap"]) == pytest.approx(10.0)
    assert task.model_window_seconds(pipes["keywords"]) is None
    result = task.classify(pipes["ast"], str(audio_dir / "long.flac"), 5, window_seconds=30)
    assert result.window_seconds == pytest.approx(10.24) and result.windows == 3


def test_zero_shot_scores_are_the_typed_labels_and_the_same_every_time(pipes: dict, audio_dir: Path) -> None:
    labels = ["a beep", "white noise", "speech"]
    first = task.classify_zero_shot(pipes["clap"], str(audio_dir / "long.flac"), labels, 5, window_seconds=30)
    assert set(first.scores) == set(labels) and sum(first.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert first.window_seconds == 10.0 and first.windows == 3  # CLAP's 10 s: no random crop of longer windows
    check_timeline(first.timeline, first.duration, 10)
    again = task.classify_zero_shot(pipes["clap"], str(audio_dir / "long.flac"), labels, 5, window_seconds=30)
    assert again.scores == first.scores and again.timeline == first.timeline


def test_the_endpoints_answer_with_the_audio_alone(client) -> None:  # noqa: ANN001
    clip = handle_file(str(EXAMPLE_CLIPS[1]))
    labels, timeline, stats, code = client.predict(clip, api_name="/classify_audio")
    assert len(labels["confidences"]) == 5 and "top_k=5" in code
    check_timeline(timeline["data"], 30.0, 10.24)
    assert len(timeline["data"]) == 3 and "30.0 s" in stats
    labels, timeline, stats, code = client.predict(clip, labels="a beep, silence", api_name="/classify_audio_zero_shot")
    scores = {c["label"]: c["confidence"] for c in labels["confidences"]}
    assert set(scores) == {"a beep", "silence"} and sum(scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert len(timeline["data"]) == 3


def test_options_are_applied(client, audio_dir: Path) -> None:  # noqa: ANN001
    labels, timeline, stats, code = client.predict(
        handle_file(str(audio_dir / "long.flac")), KEYWORDS, 12, 2, api_name="/classify_audio"
    )
    assert len(labels["confidences"]) == 12 and sum(c["confidence"] for c in labels["confidences"]) == pytest.approx(
        1.0, abs=1e-4
    )
    assert len(timeline["data"]) == 13  # 25.5 s in 2 s windows: 12 full and a 1.5 s tail
    check_timeline(timeline["data"], 25.5, 2)


@pytest.mark.parametrize(("model", "name"), [(AST, "short.wav"), (KEYWORDS, "long.flac"), (CLAP, "long.flac")])
def test_show_code_reproduces_the_app(client, audio_dir: Path, test_models: Path, model: str, name: str) -> None:  # noqa: ANN001
    if model == CLAP:
        labels, timeline, _stats, code = client.predict(
            handle_file(str(audio_dir / name)), model, "dog, a beep", api_name="/classify_audio_zero_shot"
        )
    else:
        labels, timeline, _stats, code = client.predict(
            handle_file(str(audio_dir / name)), model, 3, 4, api_name="/classify_audio"
        )
    stdout = run_snippet(code, {name: audio_dir / name}, timeout=600, cwd=test_models)
    printed = eval(last_line(stdout), {"__builtins__": {}})  # noqa: S307 - the snippet's own print
    # The same labels and windows; scores equal up to resampling in one piece instead of a stream.
    if len(timeline["data"]) == 1:
        assert [r["label"] for r in printed] == [c["label"] for c in labels["confidences"]]
        assert [r["score"] for r in printed] == pytest.approx(
            [c["confidence"] for c in labels["confidences"]], abs=1e-3
        )
    else:
        assert [[round(a, 3), round(b, 3), label] for a, b, label, _ in printed] == [
            row[:3] for row in timeline["data"]
        ]
        assert [row[3] for row in printed] == pytest.approx([row[3] for row in timeline["data"]], abs=1e-3)


@pytest.mark.parametrize(("model", "endpoint"), [(AST, "/classify_audio"), (CLAP, "/classify_audio_zero_shot")])
def test_show_code_loads_the_model_as_the_app_did(client, audio_dir: Path, model: str, endpoint: str) -> None:  # noqa: ANN001
    from snippet_calls import assert_loads_as_the_app, call_arguments

    options = {"labels": "dog, cat"} if endpoint.endswith("zero_shot") else {}
    *_, code = client.predict(handle_file(str(audio_dir / "short.wav")), model=model, api_name=endpoint, **options)
    loaded = next(m for m in client.predict(api_name="/loaded_models") if m["label"] == model)
    args, kwargs = call_arguments(code, "pipeline")
    assert args == [loaded["task"]] and kwargs.pop("model") == loaded["id"]
    assert_loads_as_the_app(kwargs, loaded["load_kwargs"])


def test_the_example_clips_ship_and_decode() -> None:
    for clip in EXAMPLE_CLIPS:
        with open_audio(str(clip), RATE, 1) as decoded:
            assert 1 < decoded.duration <= 30 and not decoded.is_silent
