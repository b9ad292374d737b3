"""The inputs every variant gets: the same files and texts, written once per run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLING_RATE = 16000
SENTENCE = "Paris is the [MASK] of France."
ZERO_SHOT_TEXT = "I loved this film, the acting was wonderful."
ZERO_SHOT_LABELS = ("positive", "negative", "neutral")
PROMPT = "Write a short story about a cat who learns to play the piano."


@dataclass(frozen=True)
class Inputs:
    audio_30s: str  # 30 s mono WAV at 16 kHz
    audio_1s: str
    image: str  # a 640x480 JPEG, a typical camera-sized upload


def write_tone(path: Path, seconds: float = 1.0) -> Path:
    """A 16-bit mono WAV tone at 16 kHz: the smallest audio every endpoint accepts."""
    import soundfile as sf

    samples = np.sin(np.arange(int(seconds * SAMPLING_RATE)) / 4) * 0.25
    sf.write(path, samples.astype(np.float32), SAMPLING_RATE, subtype="PCM_16")
    return path


def write_inputs(directory: Path) -> Inputs:
    import soundfile as sf
    from PIL import Image

    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = {}
    for name, seconds in (("audio_30s", 30), ("audio_1s", 1)):
        t = np.arange(seconds * SAMPLING_RATE) / SAMPLING_RATE
        wave = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)
        paths[name] = directory / f"{name}.wav"
        sf.write(paths[name], wave.astype(np.float32), SAMPLING_RATE)
    # A smooth gradient plus noise compresses like a photo, unlike pure noise.
    y, x = np.mgrid[0:480, 0:640]
    pixels = np.stack([x * 255 / 640, y * 255 / 480, (x + y) * 255 / 1120], axis=-1)
    pixels = np.clip(pixels + rng.normal(0, 12, pixels.shape), 0, 255).astype(np.uint8)
    paths["image"] = directory / "image.jpg"
    Image.fromarray(pixels).save(paths["image"], quality=90)
    return Inputs(**{name: str(path) for name, path in paths.items()})
