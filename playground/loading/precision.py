"""The precision a model loads in on the device it lands on: its dtype, and its quantization.

A catalog entry's `dtype` is often written for a GPU (`float16` on Whisper, `bfloat16` on a large
Llama). A CPU without native kernels for that half precision multiplies large matrices in it at
about 1 % of its float32 rate, so what is compute-bound (batches, encoders, prefill) gets far slower,
while one decoding stream, which mostly reads weights, gets faster. `choose_dtype` decides per
device and says why; an entry's `cpu_dtype` overrides the choice on CPU.

`quantization` names a recipe of `QUANTIZATIONS`: torchao's int8 / int4 weight-only (CPU or GPU)
or bitsandbytes' 8-bit / NF4 (CUDA only). `quantization_plan` gives the config object to load with,
its Python expression and imports for "show code", or a `ModelLoadError` that says what to use
instead when this machine cannot do it.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playground.config.catalog import ModelEntry
from playground.loading.adapters import ADAPTERS
from playground.loading.load_errors import ModelLoadError

HALF_DTYPES = ("float16", "bfloat16")
# Tasks that decode one stream per request with no encoder in front: memory-bound on a CPU when
# not batched (every other task runs a whole input through the model at once: compute-bound).
SINGLE_STREAM_TASKS = ("text-generation",)
# int4 weights are quantized in groups of this many input features (a layer whose input size is not
# a multiple of it stays unquantized).
INT4_GROUP_SIZE = 128


@functools.cache
def cpu_native_half_dtypes() -> frozenset[str]:
    """The half-precision dtypes this CPU multiplies with native instructions (bfloat16: AVX-512
    BF16 or AMX; float16: AVX-512 FP16 or AMX-FP16), as torch's oneDNN build reports them."""
    import torch

    mkldnn = torch.ops.mkldnn
    native = set()
    if torch.backends.mkldnn.is_available() and mkldnn._is_mkldnn_bf16_supported():
        native.add("bfloat16")
    if torch.backends.mkldnn.is_available() and mkldnn._is_mkldnn_fp16_supported():
        native.add("float16")
    return frozenset(native)


@dataclass(frozen=True)
class DtypeChoice:
    """The dtype a model loads in here, and why: `reason` is a key of the `precision` strings
    (playground/locales), rendered with `requested` (the entry's dtype) and `dtype`."""

    dtype: str
    reason: str
    requested: str

    @property
    def noteworthy(self) -> bool:
        """Whether the choice is more than the usual default (worth a note in the views and snippets)."""
        return self.reason not in ("cpu_float32", "as_written", "auto_gpu")

    def explained(self, texts: Any, lang: str) -> str:
        return texts.get(self.reason, lang, dtype=self.dtype, requested=self.requested)


def _batches_on_cpu(entry: ModelEntry) -> bool:
    from playground.loading.devices import GENERATION_BATCH

    return (entry.max_batch_size or GENERATION_BATCH.cpu) > 1


def _memory_bound_on_cpu(entry: ModelEntry) -> bool:
    return entry.task in SINGLE_STREAM_TASKS and not _batches_on_cpu(entry) and entry.endpoint is None


def choose_dtype(entry: ModelEntry, device: str) -> DtypeChoice:
    """The dtype `entry` loads in on `device` ("cuda", "mps", "cpu"), with the reason."""
    requested = entry.dtype
    recipe = QUANTIZATIONS.get(entry.quantization or "")
    if device == "cpu" and entry.cpu_dtype is not None:
        return DtypeChoice(entry.cpu_dtype, "cpu_dtype_set", requested)
    if recipe is not None and recipe.dtype_on(device) is not None:
        return DtypeChoice(recipe.dtype_on(device), recipe.cpu_dtype_reason, requested)
    if device == "cuda":
        if requested != "auto":
            return DtypeChoice(requested, "as_written", requested)
        import torch

        return DtypeChoice("bfloat16" if torch.cuda.is_bf16_supported() else "float16", "auto_gpu", requested)
    if device == "mps":
        return DtypeChoice("float16" if requested == "auto" else requested, "auto_gpu", requested)
    if requested in ("auto", "float32"):
        return DtypeChoice("float32", "cpu_float32", requested)
    if requested in cpu_native_half_dtypes():
        return DtypeChoice(requested, "cpu_native", requested)
    if _memory_bound_on_cpu(entry):
        return DtypeChoice(requested, "cpu_single_stream", requested)
    return DtypeChoice("float32", "cpu_not_native", requested)


def packs_linears(entry: ModelEntry, device: str) -> bool:
    """Whether `entry`'s linear layers are packed for the CPU at load (playground.loading.packed_linears):
    a text-generation model loaded here on the CPU in float32, unquantized, without a device map,
    unless its catalog entry says `cpu_packed_linears: false`."""
    return (
        entry.cpu_packed_linears
        and entry.task in SINGLE_STREAM_TASKS
        and entry.endpoint is None
        and device == "cpu"
        and entry.quantization is None
        and not entry.device_map
        and choose_dtype(entry, device).dtype == "float32"
    )


# ---- quantization -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantization:
    """One `quantization:` value: the library, the config it builds per device, and its snippet text."""

    library: str  # the package that must be importable: "torchao" or "bitsandbytes"
    cuda_only: bool
    # device -> (the config's Python expression, the imports it needs); the expression is evaluated
    # to build the object, so the snippet shows exactly what loaded.
    expression: Callable[[str], tuple[str, tuple[str, ...]]]
    # The dtype the recipe runs in on CPU (its kernel's) and the reason's key; None: the usual choice.
    cpu_dtype: str | None = None
    cpu_dtype_reason: str = ""

    def dtype_on(self, device: str) -> str | None:
        return self.cpu_dtype if device == "cpu" else None


def _torchao_int8(device: str) -> tuple[str, tuple[str, ...]]:
    return "TorchAoConfig(Int8WeightOnlyConfig())", (
        "from torchao.quantization import Int8WeightOnlyConfig",
        "from transformers import TorchAoConfig",
    )


def _torchao_int4(device: str) -> tuple[str, tuple[str, ...]]:
    if device == "cpu":
        # torchao's int4 layout for CPUs (tinygemm's CPU kernel, _weight_int4pack_mm_for_cpu).
        return f"TorchAoConfig(PrototypeInt4WeightOnlyConfig(group_size={INT4_GROUP_SIZE}))", (
            "from torchao.prototype.quantization.int4 import PrototypeInt4WeightOnlyConfig",
            "from transformers import TorchAoConfig",
        )
    return (
        f"TorchAoConfig(Int4WeightOnlyConfig(group_size={INT4_GROUP_SIZE}, int4_packing_format='tile_packed_to_4d'))",
        (
            "from torchao.quantization import Int4WeightOnlyConfig",
            "from transformers import TorchAoConfig",
        ),
    )


def _bnb_int8(device: str) -> tuple[str, tuple[str, ...]]:
    return "BitsAndBytesConfig(load_in_8bit=True)", ("from transformers import BitsAndBytesConfig",)


def _bnb_nf4(device: str) -> tuple[str, tuple[str, ...]]:
    return (
        "BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4', bnb_4bit_compute_dtype=torch.bfloat16)",
        ("import torch", "from transformers import BitsAndBytesConfig"),
    )


QUANTIZATIONS: dict[str, Quantization] = {
    # int8 weight-only keeps float32 activations on CPU: torchao widens each weight to the
    # activation dtype per call, which is cheap in float32 and slow in half precision without
    # native kernels.
    "int8": Quantization("torchao", cuda_only=False, expression=_torchao_int8),
    # The CPU int4 kernel is vectorised for bfloat16 activations only (float32 ones run 20-40x slower).
    "int4": Quantization(
        "torchao", cuda_only=False, expression=_torchao_int4, cpu_dtype="bfloat16", cpu_dtype_reason="int4_cpu_kernel"
    ),
    "bnb-int8": Quantization("bitsandbytes", cuda_only=True, expression=_bnb_int8),
    "bnb-nf4": Quantization("bitsandbytes", cuda_only=True, expression=_bnb_nf4),
}


@dataclass(frozen=True)
class QuantizationPlan:
    """What loading with `quantization:` needs: the config's expression and imports (for snippets)."""

    name: str
    expression: str
    imports: tuple[str, ...]

    def build(self) -> Any:
        """The config object, made by running the snippet's own imports and expression."""
        namespace: dict[str, Any] = {}
        exec("\n".join(self.imports), namespace)  # fixed strings of QUANTIZATIONS, never user input
        return eval(self.expression, namespace)


def quantization_plan(entry: ModelEntry, device: str) -> QuantizationPlan | None:
    """The plan for `entry`'s quantization on `device` (None without one); a ModelLoadError saying
    what to use instead when this machine cannot do it."""
    if entry.quantization is None:
        return None
    recipe = QUANTIZATIONS[entry.quantization]
    name = entry.label or entry.id
    if entry.task in ADAPTERS:
        raise ModelLoadError("quantization_unavailable", "quantization_pipeline_only", name=name, task=entry.task)
    if recipe.cuda_only and device != "cuda":
        raise ModelLoadError(
            "quantization_unavailable", "quantization_needs_cuda", name=name, method=entry.quantization
        )
    if importlib.util.find_spec(recipe.library) is None:
        raise ModelLoadError(
            "quantization_unavailable",
            "quantization_not_installed",
            name=name,
            method=entry.quantization,
            package=recipe.library,
        )
    expression, imports = recipe.expression(device)
    return QuantizationPlan(entry.quantization, expression, imports)
