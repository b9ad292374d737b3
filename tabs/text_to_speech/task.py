"""Text to speech task logic: the `text-to-audio` pipeline reads a text sentence by sentence (MMS-TTS VITS
voices) or turns a prompt into music (MusicGen); the pieces are joined with short pauses into one
WAV file.

VITS and MusicGen both sample (VITS draws the noise its flow and durations start from), so one seed
is set before the first piece: the same text, model and seed give the same audio. MMS-TTS voices for
languages not written in Latin letters (Korean among them) were trained on romanized text: their
tokenizer says so with `is_uroman`, and the text is romanized with the `uroman` package first, or
the request is refused with a message saying how to get it. Pure functions over a loaded pipeline,
plus the "show code" snippet; no Gradio.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playground.core.checks import whole_number_in_range
from playground.core.snippets import Raw, format_call, format_value
from playground.core.texts import Texts

TASK = "text-to-audio"
MAX_CHARACTERS = 1000
PAUSE_SECONDS = 0.25  # between sentences
MUSIC_SECONDS = (1, 30, 5)  # low, high, default seconds of music
MAX_SEED = 2**32 - 1
# A sentence ends at . ! ? (and their full-width forms) followed by a space, or at a line break.
SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")

TEXTS = Texts.load("text_to_speech.task", Path(__file__).with_name("locales"))

# report(done, total): how many sentences are read, after each one.
PiecesDone = Callable[[int, int], None]


def check_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise TEXTS.error("empty_text")
    if len(text) > MAX_CHARACTERS:
        raise TEXTS.error("too_long", count=len(text), limit=MAX_CHARACTERS)
    return text


def check_seed(seed: Any) -> int:
    return whole_number_in_range(seed, 0, MAX_SEED, lambda: TEXTS.error("bad_seed", limit=MAX_SEED, value=seed))


def check_music_seconds(seconds: Any) -> int:
    low, high, _ = MUSIC_SECONDS
    return whole_number_in_range(
        seconds, low, high, lambda: TEXTS.error("bad_music_seconds", low=low, high=high, value=seconds)
    )


def split_sentences(text: str) -> list[str]:
    return [piece.strip() for piece in SENTENCE_END.split(text) if piece.strip()]


def is_music_model(pipe: Any) -> bool:
    """MusicGen turns a prompt into music: the prompt is one piece and its length is set in seconds."""
    return getattr(pipe.model.config, "model_type", "") in ("musicgen", "musicgen_melody")


def reads_romanized(pipe: Any) -> bool:
    """An MMS-TTS voice trained on uroman's romanization (its tokenizer's `is_uroman`)."""
    return bool(getattr(pipe.tokenizer, "is_uroman", False))


@functools.cache
def _romanizer() -> Any:
    import uroman

    return uroman.Uroman()  # reads its tables once (seconds)


def romanize(text: str) -> str:
    """`text` in Latin letters as uroman writes it; a clear error when uroman is not installed."""
    from transformers.models.vits.tokenization_vits import has_non_roman_characters

    if not has_non_roman_characters(text):
        return text
    try:
        return _romanizer().romanize_string(text)
    except ImportError:
        raise TEXTS.error("needs_uroman") from None


def music_tokens(pipe: Any, seconds: int) -> int:
    """Codes to generate for `seconds` of music: EnCodec makes `frame_rate` of them a second."""
    return int(seconds * pipe.model.config.audio_encoder.frame_rate)


@dataclass
class Speech:
    """What one synthesis produced, and how it ran."""

    audio: np.ndarray  # mono float32
    sampling_rate: int
    pieces: list[str]  # what the model read, in order (sentences, romanized where the voice needs it)
    call_kwargs: dict[str, Any]  # the pipeline call options a user would pass for the same audio
    seed: int
    elapsed: float
    romanized: bool = False
    skipped: list[str] = field(default_factory=list)  # sentences with nothing the voice can read

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sampling_rate


def readable(pipe: Any, piece: str) -> bool:
    """Whether the tokenizer keeps anything of `piece` (a VITS voice drops characters it does not know,
    and its model fails on an empty input)."""
    return bool(pipe.tokenizer(piece)["input_ids"])


def synthesize(
    pipe: Any, text: str | None, seed: int = 0, music_seconds: int = MUSIC_SECONDS[2], report: PiecesDone | None = None
) -> Speech:
    """Read `text` with the `text-to-audio` pipeline `pipe`: sentence by sentence for a voice, as one
    prompt for a music model; one seed before the first piece."""
    import torch

    text = check_text(text)
    seed = check_seed(seed)
    kwargs: dict[str, Any] = {}
    if is_music_model(pipe):
        pieces = [text]
        kwargs["generate_kwargs"] = {"max_new_tokens": music_tokens(pipe, check_music_seconds(music_seconds))}
    else:
        pieces = split_sentences(text)
    romanized = reads_romanized(pipe) and any(romanize(piece) != piece for piece in pieces)
    if romanized:
        pieces = [romanize(piece) for piece in pieces]
    skipped = [piece for piece in pieces if not readable(pipe, piece)]
    pieces = [piece for piece in pieces if piece not in skipped]
    if not pieces:
        raise TEXTS.error("nothing_to_read")
    rate = int(pipe.sampling_rate)
    pause = np.zeros(int(PAUSE_SECONDS * rate), dtype=np.float32)
    began = time.perf_counter()
    torch.manual_seed(seed)
    parts: list[np.ndarray] = []
    for index, piece in enumerate(pieces):
        if report:
            report(index, len(pieces))
        parts += [np.asarray(pipe(piece, **kwargs)["audio"], dtype=np.float32).reshape(-1), pause]
    if report:
        report(len(pieces), len(pieces))
    audio = np.concatenate(parts[:-1])
    return Speech(audio, rate, pieces, kwargs, seed, time.perf_counter() - began, romanized, skipped)


def write_wav(speech: Speech) -> str:
    """The audio as a new 16-bit WAV file (what the player plays and the download gives); its path."""
    import soundfile as sf

    handle, path = tempfile.mkstemp(suffix=".wav", prefix="speech-")
    os.close(handle)
    sf.write(path, np.clip(speech.audio, -1.0, 1.0), speech.sampling_rate, subtype="PCM_16")
    return path


# ---- "show code" ----------------------------------------------------------------------------------


def snippet(model_id: str, load_kwargs: dict[str, Any], speech: Speech) -> str:
    """A script that reads the same pieces with the same seed and writes the same WAV file."""
    lines = [
        "import numpy as np",
        "import soundfile as sf",
        "import torch",
        "from transformers import pipeline",
        "",
        "pipe = " + format_call("pipeline", [TASK], {"model": model_id, **load_kwargs}),
        "",
    ]
    if speech.romanized:
        lines.append(
            "# This voice reads romanized text: romanized by uroman (uroman.Uroman().romanize_string), as in the app."
        )
    lines += [
        "pieces = " + format_value(speech.pieces),
        f"torch.manual_seed({speech.seed})  # the model samples: the same seed gives the same audio",
        f"pause = np.zeros(int({PAUSE_SECONDS!r} * pipe.sampling_rate), dtype=np.float32)",
        "parts = []",
        "for piece in pieces:",
        "    result = " + format_call("pipe", [Raw("piece")], speech.call_kwargs),
        "    parts += [result['audio'].reshape(-1), pause]",
        "audio = np.concatenate(parts[:-1])",
        "sf.write('speech.wav', np.clip(audio, -1.0, 1.0), pipe.sampling_rate, subtype='PCM_16')",
        "print(pipe.sampling_rate, len(audio))",
    ]
    return "\n".join(lines) + "\n"
