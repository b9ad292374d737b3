"""ZeroGPU: on a Space with ZeroGPU hardware, model handlers hold a GPU only while they run.

Hugging Face sets `SPACES_ZERO_GPU` on ZeroGPU Spaces, whose runtime provides the `spaces` package.
There, `on_gpu(handler)` is `spaces.GPU(duration=...)(handler)` with the duration estimated from each
call's input (audio length, new tokens): a short estimate puts the visitor earlier in the GPU queue.
Anywhere else it returns the handler unchanged. `guarded` applies it to every handler that runs a
model (declared with `guarded(handler, gpu=True)`).
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

ZERO_GPU_ENV = "SPACES_ZERO_GPU"
# Moving a model to the GPU and a short inference; also the floor of every estimate.
BASE_SECONDS = 20
# Conservative speeds for the catalog's models on a ZeroGPU slice.
SECONDS_PER_NEW_TOKEN = 0.05
SECONDS_PER_AUDIO_SECOND = 0.1
# ZeroGPU refuses longer requests from visitors who are not logged in.
MAX_SECONDS = 120
# When the audio header cannot be read: bytes per second of 128 kbit/s compressed audio.
COMPRESSED_AUDIO_BYTES_PER_SECOND = 16_000


def zero_gpu_enabled() -> bool:
    return bool(os.environ.get(ZERO_GPU_ENV)) and importlib.util.find_spec("spaces") is not None


def audio_seconds(path: Any) -> float:
    """The length of an uploaded audio file, from its header or, failing that, its size."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        return 0.0
    import soundfile

    try:
        info = soundfile.info(path)
        return info.frames / info.samplerate
    except Exception:  # formats only ffmpeg reads (MP3, M4A, video): estimate from the size
        return os.path.getsize(path) / COMPRESSED_AUDIO_BYTES_PER_SECOND


def estimate_seconds(arguments: Mapping[str, Any]) -> int:
    """GPU seconds to request for a handler called with `arguments` (parameter name -> value)."""
    seconds = float(BASE_SECONDS)
    tokens = arguments.get("max_new_tokens")
    if isinstance(tokens, (int, float)) and tokens > 0:
        seconds += tokens * SECONDS_PER_NEW_TOKEN
    seconds += audio_seconds(arguments.get("audio")) * SECONDS_PER_AUDIO_SECOND
    return min(MAX_SECONDS, math.ceil(seconds))


def on_gpu(handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler` running on a ZeroGPU slice sized to its input; `handler` itself elsewhere."""
    if not zero_gpu_enabled():
        return handler
    import spaces

    signature = inspect.signature(handler)

    def duration(*args: Any, **kwargs: Any) -> int:
        bound = signature.bind_partial(*args, **kwargs)
        bound.apply_defaults()
        return estimate_seconds(bound.arguments)

    return spaces.GPU(duration=duration)(handler)
