"""Linear layers packed for the CPU: each weight reordered once, at load, into oneDNN's blocked layout.

`nn.Linear` on a CPU hands its weight to the matrix multiply as stored (row-major), and the kernel
re-blocks it on every call; a text-generation step is almost nothing but such calls. Packing the
weight once makes a decoding step about twice as fast on an AVX2 CPU (README, "Linear layers packed
for the CPU").
Only float32 models on the CPU are packed (`playground.loading.precision.packs_linears` decides), and
only modules of exact type `nn.Linear`: quantized or otherwise specialised layers keep their own kernels.

The packed weight is a buffer in oneDNN's own layout: counted in the model's memory, not as a
parameter. An output layer tied to the input embeddings gets a packed copy of its own (the embedding
lookup still reads the dense matrix). `PackedLinear` and `pack_linears` are also the text the "show
code" snippets print (`SNIPPET_CODE`), so a learner runs exactly what the app runs.
"""

from __future__ import annotations

import functools
import inspect

import torch


class PackedLinear(torch.nn.Module):
    """nn.Linear with its weight reordered once into oneDNN's blocked layout (float32 on a CPU)."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("packed_weight", torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach()))
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Any leading dimensions (batch, sequence), as nn.Linear takes them.
        return torch.ops.mkldnn._linear_pointwise(x, self.packed_weight, self.bias, "none", [], "")


def pack_linears(model: torch.nn.Module) -> int:
    """Replace every nn.Linear of `model` by a PackedLinear; returns how many were packed."""
    packed = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) is torch.nn.Linear:
                setattr(module, name, PackedLinear(child))
                packed += 1
    return packed


# What a snippet defines and calls to pack a pipeline's model as the app does.
SNIPPET_CODE = tuple(
    line for source in (PackedLinear, pack_linears) for line in (*inspect.getsource(source).splitlines(), "", "")
)[:-2]
SNIPPET_CALL = "pack_linears(pipe.model)"
SNIPPET_COMMENT = "# The app packs the linear layers for this CPU (catalog: cpu_packed_linears), and so does this:"


@functools.cache
def packing_works() -> bool:
    """Whether this torch build packs linear layers correctly on this CPU (oneDNN present and a
    small packed layer computing what nn.Linear does)."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        with torch.no_grad():
            linear = torch.nn.Linear(8, 4)
            inputs = torch.linspace(-1, 1, 16).reshape(2, 8)
            return torch.allclose(PackedLinear(linear)(inputs), linear(inputs), atol=1e-5)
    except RuntimeError:
        return False
