"""Where models run and in what precision, and giving memory back after a model is dropped.

torch is imported only when a question needs it, so importing this module costs nothing.
"""

from __future__ import annotations

import ctypes
import gc


def available_device() -> str:
    """The best accelerator present: cuda, then mps, else cpu."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(requested: str, device: str) -> str:
    """`auto` means half precision on accelerators (bf16 where CUDA supports it), float32 on CPU."""
    if requested != "auto":
        return requested
    if device == "cuda":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    return "float32"


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
