"""Safe audio decoding for every audio tab: any file -> mono float32 at the model's sampling rate.

soundfile (libsndfile) reads WAV/FLAC/OGG without external tools; everything else ffmpeg decodes
(MP3, M4A, the audio track of a video) goes through the ffmpeg binary. Duration is checked from the
header before decoding so an over-long upload is refused without filling memory.
"""

from __future__ import annotations

import os
import shutil

import numpy as np

from playground.texts import Texts

STRINGS = {
    "en": {
        "no_audio": "Please record or upload an audio file first.",
        "empty": "The audio file is empty (0 bytes).",
        "zero_length": "The audio contains no samples (zero length).",
        "not_audio": "This file could not be read as audio; it may be corrupt, truncated, or not an audio/video file.",
        "too_long": "The audio is {minutes:.1f} minutes long; the limit is {limit:g} minutes. Please trim it.",
        "no_ffmpeg": "This format needs ffmpeg, which is not installed. Use WAV, FLAC or OGG, or install ffmpeg.",
    },
    "ko": {
        "no_audio": "먼저 오디오를 녹음하거나 파일을 올려 주세요.",
        "empty": "오디오 파일이 비어 있습니다 (0바이트).",
        "zero_length": "오디오에 샘플이 없습니다 (길이 0).",
        "not_audio": "이 파일을 오디오로 읽을 수 없습니다. 손상되었거나 잘렸거나 오디오/비디오 파일이 아닐 수 있습니다.",
        "too_long": "오디오 길이가 {minutes:.1f}분입니다. 제한은 {limit:g}분입니다. 잘라서 올려 주세요.",
        "no_ffmpeg": "이 형식은 ffmpeg가 필요한데 설치되어 있지 않습니다. WAV, FLAC, OGG를 쓰거나 ffmpeg를 설치하세요.",
    },
}
TEXTS = Texts("audio", STRINGS)


def _check_duration(seconds: float, max_minutes: float) -> None:
    if seconds > max_minutes * 60:
        raise TEXTS.error("too_long", minutes=seconds / 60, limit=max_minutes)


def _read_soundfile(path: str, max_minutes: float) -> tuple[np.ndarray, int] | None:
    """Decode with libsndfile; None when it does not know the format (then ffmpeg tries)."""
    import soundfile as sf

    try:
        info = sf.info(path)
    except Exception:
        return None
    if info.samplerate > 0 and info.frames > 0:
        _check_duration(info.frames / info.samplerate, max_minutes)
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:
        raise TEXTS.error("not_audio") from exc
    return data.mean(axis=1), rate


def _read_ffmpeg(path: str, max_minutes: float, rate: int) -> np.ndarray:
    """Decode any ffmpeg-readable file straight to mono float32 at `rate`."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise TEXTS.error("no_ffmpeg")
    import ffmpeg

    try:
        probe = ffmpeg.probe(path)
    except ffmpeg.Error as exc:
        raise TEXTS.error("not_audio") from exc
    if not any(s.get("codec_type") == "audio" for s in probe.get("streams", [])):
        raise TEXTS.error("not_audio")
    duration = float(probe.get("format", {}).get("duration") or 0)
    _check_duration(duration, max_minutes)
    try:
        out, _ = (
            ffmpeg.input(path)
            .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=rate, vn=None)
            .run(capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as exc:
        raise TEXTS.error("not_audio") from exc
    return np.frombuffer(out, dtype=np.float32).copy()


def decode_audio(path: str | None, sampling_rate: int, max_minutes: float) -> np.ndarray:
    """The file at `path` as mono float32 samples at `sampling_rate`; clear UserErrors otherwise."""
    if not path:
        raise TEXTS.error("no_audio")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise TEXTS.error("empty")
    decoded = _read_soundfile(path, max_minutes)
    if decoded is None:
        samples = _read_ffmpeg(path, max_minutes, sampling_rate)
    else:
        samples, rate = decoded
        _check_duration(len(samples) / rate, max_minutes)
        if len(samples) and rate != sampling_rate:
            import soxr

            samples = soxr.resample(samples, rate, sampling_rate).astype(np.float32)
    if samples.size == 0:
        raise TEXTS.error("zero_length")
    if not np.isfinite(samples).all():  # NaN/inf samples (a broken float WAV) would give silent garbage
        raise TEXTS.error("not_audio")
    return np.ascontiguousarray(samples, dtype=np.float32)
