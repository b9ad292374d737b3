"""Safe audio decoding for every audio tab: any file -> mono float32 at the model's sampling rate.

soundfile (libsndfile) reads WAV, FLAC, OGG (Vorbis, Opus) and MP3 without external tools; everything
else ffmpeg decodes (M4A/AAC, WebM, the audio track of a video) goes through the ffmpeg binary. Decoded
samples are streamed to a temporary file, block by block, so an hour-long recording never sits in memory as one
array: callers read the windows they need. Duration is checked from the header before decoding,
and again while decoding (a header can lie), so an over-long upload is refused without filling memory
or disk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from types import TracebackType

import numpy as np

from playground.core.texts import SHARED_LOCALES, Texts, UserError

TEXTS = Texts.load("audio", SHARED_LOCALES)

SAMPLE_BYTES = 4  # float32
BLOCK_SECONDS = 10
# Shorter than a syllable: a cut-off upload (a truncated MP3 decodes to a few ms), not speech.
MIN_SECONDS = 0.1
# -60 dBFS: below the noise floor of any real microphone recording.
SILENCE_PEAK = 10 ** (-60 / 20)


class DecodedAudio:
    """Mono float32 samples at `rate`, kept in a temporary file; read windows with `read`.

    Use as a context manager (or call `close`) so the file is removed.
    """

    def __init__(self, path: str, rate: int, decoder: str):
        self.path = path
        self.rate = rate
        self.decoder = decoder  # "soundfile" or "ffmpeg": which tool read the original file
        self.frames = os.path.getsize(path) // SAMPLE_BYTES
        self.peak = self._peak()

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    @property
    def is_silent(self) -> bool:
        return self.peak < SILENCE_PEAK

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples [start, stop) (clamped to the audio)."""
        stop = self.frames if stop is None else min(stop, self.frames)
        start = max(0, min(start, stop))
        with open(self.path, "rb") as file:
            file.seek(start * SAMPLE_BYTES)
            return np.fromfile(file, dtype=np.float32, count=stop - start)

    def _peak(self) -> float:
        block = BLOCK_SECONDS * self.rate
        return max((float(np.abs(self.read(i, i + block)).max()) for i in range(0, self.frames, block)), default=0.0)

    def close(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self) -> DecodedAudio:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _check_duration(seconds: float, max_minutes: float) -> None:
    if seconds > max_minutes * 60:
        raise TEXTS.error("too_long", minutes=seconds / 60, limit=max_minutes)


def _decode_soundfile(path: str, out_path: str, rate: int, max_minutes: float) -> bool:
    """Decode with libsndfile into `out_path`; False when it does not know the format (then ffmpeg tries)."""
    import soundfile as sf
    import soxr

    try:
        source = sf.SoundFile(path)
    except Exception:
        return False
    with source, open(out_path, "wb") as out:
        if source.samplerate > 0 and source.frames > 0:
            _check_duration(source.frames / source.samplerate, max_minutes)
        resampler = (
            soxr.ResampleStream(source.samplerate, rate, 1, dtype="float32") if source.samplerate != rate else None
        )
        frames_read = 0
        try:
            for block in source.blocks(blocksize=BLOCK_SECONDS * source.samplerate, dtype="float32", always_2d=True):
                frames_read += len(block)
                _check_duration(frames_read / source.samplerate, max_minutes)
                mono = block.mean(axis=1)
                out.write((resampler.resample_chunk(mono) if resampler else mono).tobytes())
            if resampler:
                out.write(resampler.resample_chunk(np.zeros(0, np.float32), last=True).tobytes())
        except UserError:
            raise
        except Exception as exc:
            raise TEXTS.error("not_audio") from exc
    return True


def _decode_ffmpeg(path: str, out_path: str, rate: int, max_minutes: float) -> None:
    """Decode any ffmpeg-readable file into `out_path` as mono float32 at `rate`."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise TEXTS.error("no_ffmpeg")
    import ffmpeg

    try:
        probe = ffmpeg.probe(path)
    except ffmpeg.Error as exc:
        raise TEXTS.error("not_audio") from exc
    if not any(s.get("codec_type") == "audio" for s in probe.get("streams", [])):
        raise TEXTS.error("not_audio")
    _check_duration(float(probe.get("format", {}).get("duration") or 0), max_minutes)
    try:
        # `t` stops a file whose header understates its length one second past the limit.
        (
            ffmpeg.input(path)
            .output(out_path, format="f32le", acodec="pcm_f32le", ac=1, ar=rate, vn=None, t=max_minutes * 60 + 1)
            .overwrite_output()
            .run(capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as exc:
        raise TEXTS.error("not_audio") from exc


def open_audio(path: str | None, sampling_rate: int, max_minutes: float) -> DecodedAudio:
    """The file at `path` decoded to mono float32 at `sampling_rate` (on disk); clear UserErrors otherwise."""
    if not path:
        raise TEXTS.error("no_audio")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise TEXTS.error("empty")
    handle, out_path = tempfile.mkstemp(suffix=".f32", prefix="decoded-")
    os.close(handle)
    try:
        decoder = "soundfile"
        if not _decode_soundfile(path, out_path, sampling_rate, max_minutes):
            decoder = "ffmpeg"
            _decode_ffmpeg(path, out_path, sampling_rate, max_minutes)
        audio = DecodedAudio(out_path, sampling_rate, decoder)
        if audio.frames == 0:
            raise TEXTS.error("zero_length")
        if audio.duration < MIN_SECONDS:
            raise TEXTS.error("too_short", ms=audio.duration * 1000, min_ms=MIN_SECONDS * 1000)
        if not np.isfinite(audio.peak):  # NaN or infinite samples: a broken float WAV, not sound
            raise TEXTS.error("not_audio")
        _check_duration(audio.duration, max_minutes)
    except BaseException:
        os.unlink(out_path)
        raise
    return audio


def decoding_snippet(filename: str, decoder: str) -> tuple[list[str], list[str]]:
    """(imports, lines) that decode `filename` the way `open_audio` did, for the show-code panel."""
    if decoder == "soundfile":
        return ["import soundfile as sf", "import soxr"], [
            "# Decode to mono float32 at the model's sampling rate (as the app does).",
            "rate = pipe.feature_extractor.sampling_rate",
            f"samples, file_rate = sf.read({filename!r}, dtype='float32', always_2d=True)",
            "samples = samples.mean(axis=1)",
            "if file_rate != rate:",
            "    samples = soxr.resample(samples, file_rate, rate)",
        ]
    return ["import subprocess", "", "import numpy as np"], [
        "# Decode to mono float32 at the model's sampling rate with ffmpeg (as the app does).",
        "rate = pipe.feature_extractor.sampling_rate",
        f"command = ['ffmpeg', '-i', {filename!r}, '-vn', '-ac', '1', '-ar', str(rate), '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:']",
        "samples = np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, dtype=np.float32)",
    ]
