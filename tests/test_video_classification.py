"""The video classification tab through the running app: the example clip, containers and codecs,
the frames the model read, the sampling rate lowered for short clips, the snippet, and bad input."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from course_helpers import call_kwargs, expected_pipeline_kwargs, loaded_kwargs
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet

from playground.media.images import EXAMPLES_DIR

CLIP = EXAMPLES_DIR / "video" / "bouncing_ball.mp4"
VIDEOMAE = "VideoMAE (test)"
TIMESFORMER = "TimeSformer (test)"

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the test clips")


def make_clip(path: Path, seconds: float = 2, rate: int = 25, *codec: str) -> Path:
    """A test pattern clip written by ffmpeg (codec options such as "-c:v", "libvpx")."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=96x64:rate={rate}:duration={seconds}"]
        + list(codec or ("-c:v", "libx264", "-pix_fmt", "yuv420p"))
        + [str(path)],
        check=True,
    )
    return path


def check_labels(labels: dict, top_k: int) -> None:
    confidences = [c["confidence"] for c in labels["confidences"]]
    assert len(confidences) == top_k and confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 1 for c in confidences)


def test_the_example_clip_alone(client) -> None:
    labels, frames, note, code = client.predict(handle_file(str(CLIP)), api_name="/classify_video")
    check_labels(labels, 5)
    # VideoMAE reads 16 frames, one every 4, evenly over the first 64 (the pipeline's linspace).
    assert [f["caption"] for f in frames][:3] == ["#0 · 0.00 s", "#4 · 0.16 s", "#8 · 0.32 s"]
    assert len(frames) == 16 and frames[-1]["caption"] == "#63 · 2.52 s"
    assert "75 frames at 25 fps (3.0 s), 224×224" in note and "one every 4, from frame 0 to frame 63" in note
    assert "frame_sampling_rate=4" in code and "num_frames=16" in code


def test_a_short_clip_is_read_at_the_rate_it_allows(client, tmp_path) -> None:
    clip = make_clip(tmp_path / "short.mp4", 1.2, 25)  # 30 frames: 8 frames one every 3 at most
    labels, frames, note, code = client.predict(handle_file(str(clip)), TIMESFORMER, 3, 32, api_name="/classify_video")
    check_labels(labels, 3)
    assert len(frames) == 8 and "one every 3" in note
    assert "too short to read one frame every 32; it was read one frame every 3" in note
    assert "frame_sampling_rate=3" in code


@pytest.mark.parametrize(
    "name, codec",
    [
        ("clip.webm", ("-c:v", "libvpx", "-b:v", "200k")),  # WebM keeps no frame count: packets are counted
        ("clip.mkv", ("-c:v", "mpeg4")),
        ("clip.avi", ("-c:v", "mjpeg")),
        ("clip.mov", ("-c:v", "libx264", "-pix_fmt", "yuv420p")),
    ],
)
def test_containers_and_codecs(client, tmp_path, name, codec) -> None:
    clip = make_clip(tmp_path / name, 2, 10, *codec)
    labels, frames, note, _ = client.predict(handle_file(str(clip)), VIDEOMAE, 2, 1, api_name="/classify_video")
    check_labels(labels, 2)
    assert len(frames) == 16 and "20 frames at 10 fps" in note


@pytest.mark.parametrize("model", [VIDEOMAE, TIMESFORMER])
def test_snippet_reproduces_the_app_and_loads_as_it_did(client, test_models, model) -> None:
    labels, _, _, code = client.predict(handle_file(str(CLIP)), model, 3, 4, api_name="/classify_video")
    printed = ast.literal_eval(last_line(run_snippet(code, files={CLIP.name: CLIP}, cwd=test_models)))
    assert {p["label"]: p["score"] for p in printed} == pytest.approx(
        {c["label"]: c["confidence"] for c in labels["confidences"]}, abs=1e-5
    )
    kwargs = call_kwargs(code, "pipeline")
    assert kwargs.pop("model").endswith("videomae" if model == VIDEOMAE else "timesformer")
    assert kwargs == expected_pipeline_kwargs(loaded_kwargs(client, model))


@pytest.fixture(scope="module")
def bad_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad-clips")
    whole = CLIP.read_bytes()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "text.mp4").write_text("hello, I am not a video\n")
    (folder / "truncated.mp4").write_bytes(whole[: len(whole) // 2])
    (folder / "scrambled.mp4").write_bytes(whole[:2000] + bytes(range(256)) * 10 + whole[4560:])
    make_clip(folder / "ten_frames.mp4", 1, 10)
    shutil.copy(EXAMPLES_DIR / "house.png", folder / "house.png")
    shutil.copy(EXAMPLES_DIR / "speech" / "welcome.ogg", folder / "welcome.ogg")
    return folder


@pytest.mark.parametrize(
    "name, args, message",
    [
        (None, (), "Upload a video clip first"),
        ("empty.mp4", (), "empty.mp4 is empty"),
        ("text.mp4", (), "text.mp4 could not be read as a video"),
        ("truncated.mp4", (), "truncated.mp4 is damaged"),
        ("scrambled.mp4", (), "scrambled.mp4 is damaged"),
        ("ten_frames.mp4", (), "ten_frames.mp4 has 10 frames; this model reads 16"),
        ("house.png", (), "house.png is a still picture"),
        ("welcome.ogg", (), "welcome.ogg has no video track"),
        ("ten_frames.mp4", (VIDEOMAE, 0), "top_k: 0 is below the minimum of 1"),
        ("ten_frames.mp4", (VIDEOMAE, 5, 99), "frame_sampling_rate: 99 is above the maximum of 32"),
        ("ten_frames.mp4", ("ViT (test)",), "not in this app's catalog"),
    ],
)
def test_bad_input(client, bad_clips, name, args, message) -> None:
    video = handle_file(str(bad_clips / name)) if name else None
    with pytest.raises(AppError, match=message):
        client.predict(video, *args, api_name="/classify_video")
