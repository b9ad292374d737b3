"""Speech to text through the running app: formats, both test models, timestamps, subtitles, bad inputs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import handle_file
from gradio_client.exceptions import AppError

RATE = 16000
WHISPER = "Whisper (test)"
WAV2VEC2 = "Wav2Vec2 CTC (test)"


def tone(seconds: float, rate: int = RATE, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    return np.stack([wave] * channels, axis=1).astype(np.float32) if channels > 1 else wave.astype(np.float32)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    sf.write(folder / "tone.wav", tone(2.0), RATE)
    sf.write(folder / "stereo44k.flac", tone(2.0, 44100, channels=2), 44100)
    sf.write(folder / "tone.ogg", tone(2.0, 22050), 22050)
    sf.write(folder / "silence.wav", np.zeros(RATE, dtype=np.float32), RATE)
    for ext in ("mp3", "m4a"):
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(folder / "tone.wav"), str(folder / f"tone.{ext}")], check=True)
    video = ["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=2", "-i", str(folder / "tone.wav")]
    subprocess.run([*video, "-shortest", "-c:v", "libx264", "-c:a", "aac", str(folder / "video.mp4")], check=True)
    sf.write(folder / "long.wav", tone(150.0, 8000), 8000)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "text.wav").write_text("this is not audio at all\n" * 50)
    full = (folder / "tone.wav").read_bytes()
    (folder / "truncated.mp3").write_bytes((folder / "tone.mp3").read_bytes()[:40])
    (folder / "truncated.wav").write_bytes(full[:30])
    # 61 minutes at a low rate keeps the file small; the limit is checked from the header.
    sf.write(folder / "too_long.wav", np.zeros(61 * 60 * 1000, dtype=np.int16), 1000, subtype="PCM_16")
    return folder


def run(client, path: Path, model: str = WHISPER, **options):  # noqa: ANN001, ANN201
    return client.predict(handle_file(str(path)), model, api_name="/transcribe", **options)


def check_subtitles(rows: list[list], srt_path: str, vtt_path: str, width: int) -> None:
    srt = Path(srt_path).read_text(encoding="utf-8")
    vtt = Path(vtt_path).read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n\n")
    srt_times = re.findall(r"^(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})$", srt, re.M)
    vtt_times = re.findall(r"^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})$", vtt, re.M)
    assert len(srt_times) == len(vtt_times) == len(rows)
    for (start, end, _), (s, e) in zip(rows, vtt_times):
        assert start <= end
        secs = [int(x[:2]) * 3600 + int(x[3:5]) * 60 + float(x[6:]) for x in (s, e)]
        assert secs == pytest.approx([start, end], abs=0.002)
    for line in vtt.splitlines() + srt.splitlines():
        if "-->" not in line:
            assert len(line) <= width


def data(table) -> list[list]:  # noqa: ANN001
    return table["data"] if isinstance(table, dict) else table


@pytest.mark.parametrize("name", ["tone.wav", "stereo44k.flac", "tone.ogg", "tone.mp3", "tone.m4a", "video.mp4", "silence.wav"])
def test_formats(client, audio_dir: Path, name: str) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = run(client, audio_dir / name)
    assert isinstance(text, str)
    rows = data(table)
    assert rows and all(len(r) == 3 for r in rows)
    assert all(0 <= float(r[0]) <= float(r[1]) <= 2.1 for r in rows)
    assert "Real-time factor" in stats
    assert "automatic-speech-recognition" in code and "pipe(" in code


@pytest.mark.parametrize("model", [WHISPER, WAV2VEC2])
@pytest.mark.parametrize("timestamps", ["segment", "word"])
def test_timestamps_and_subtitles(client, audio_dir: Path, model: str, timestamps: str) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = run(client, audio_dir / "tone.wav", model, timestamps=timestamps, max_chars_per_line=20)
    rows = data(table)
    assert rows
    check_subtitles([[float(a), float(b), c] for a, b, c in rows], srt, vtt, 20)
    if model == WAV2VEC2 and timestamps == "segment":
        assert "CTC" in stats


def test_ctc_ignores_whisper_options(client, audio_dir: Path) -> None:  # noqa: ANN001
    *_, stats, code = run(client, audio_dir / "tone.wav", WAV2VEC2, task="translate", language="ko", timestamps="off")
    assert "CTC" in stats
    assert "generate_kwargs" not in code


def test_long_audio_is_chunked(client, audio_dir: Path) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = run(client, audio_dir / "long.wav", WAV2VEC2, timestamps="off")
    assert "chunk_length_s=30" in code
    assert "150.0 s" in stats


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.wav", "empty"),
        ("text.wav", "could not be read as audio"),
        ("truncated.wav", "could not be read as audio"),
        ("truncated.mp3", "could not be read as audio"),
        ("too_long.wav", "limit is 60 minutes"),
    ],
)
def test_bad_inputs(client, audio_dir: Path, name: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match=message):
        run(client, audio_dir / name)


def test_bad_options(client, audio_dir: Path) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match="not in the list of choices"):
        run(client, audio_dir / "tone.wav", timestamps="sentence")
