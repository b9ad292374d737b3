"""Where models run and in what precision, and giving memory back after a model is dropped.

torch is imported only when a question needs it, so importing this module costs nothing.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def available_device() -> str:
    """The best accelerator present: cuda, then mps, else cpu."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def gpu_expected(device_setting: str) -> bool:
    """Whether a catalog's `device` setting puts models on a CUDA GPU: `cuda`, or `auto` on a machine
    with an NVIDIA driver. Answered without importing torch when it is not imported yet, so building
    the page (which sizes the queue from it) stays quick."""
    if device_setting != "auto":
        return device_setting == "cuda"
    torch = sys.modules.get("torch")
    if torch is not None:
        return bool(torch.cuda.is_available())
    return Path("/proc/driver/nvidia/version").exists()


@dataclass(frozen=True)
class BatchDefaults:
    """Requests (or speech windows) per forward pass when a catalog entry sets no max_batch_size."""

    cpu: int
    gpu: int

    def for_device(self, gpu: bool) -> int:
        return self.gpu if gpu else self.cpu


# Text generation: a 2-core CPU still gains several times from a batch of 16 (bench "many users"); a
# GPU holds more. Speech has its own (playground.engines.speech_batching).
GENERATION_BATCH = BatchDefaults(cpu=16, gpu=32)


def concurrency_limit(entries: list[Any], device: str, defaults: BatchDefaults) -> int:
    """How many requests a tab lets run at once (Gradio's concurrency limit; the rest wait in Gradio's
    queue with their place shown): enough to fill the largest batch of its models on the device the
    catalog's `device` setting gives (`auto` on a GPU machine is the GPU). Each running request holds
    one of Gradio's worker threads while it runs."""
    default = defaults.for_device(gpu_expected(device))
    return max(max(entry.concurrency, entry.max_batch_size or default) for entry in entries)


def release_memory() -> None:
    """Return freed tensors to the OS: Python GC, the CUDA cache, and glibc's malloc arenas."""
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
