"""What a fine-tuning needs in memory, estimated before it starts from the base model's config and the
training settings: the weights, their gradients, AdamW's state and the activations a training step
keeps for the backward pass. Pure functions of a config; the check against the app's memory budget is
in the tab (`ui.py`) and the budget's accounting in the model manager.

Weights, gradients and optimizer state are counted exactly: the model is built on PyTorch's meta
device (shapes without memory) and its parameters counted; under LoRA only the adapters and the new
head are trainable. The activations follow the usual count for a transformer layer (Korthikanti et al.,
"Reducing Activation Recomputation in Large Transformer Models", 2022), for every padded token of a
batch of `batch_size` texts of `max_length` tokens, attention probabilities included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.texts import Texts, UserError, size_text
from tabs.fine_tune.training_task import TrainingOptions, head_modules, lora_settings

TEXTS = Texts.load("fine_tune.task", Path(__file__).with_name("locales"))

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
# AdamW keeps two moments (the mean and the mean square of the gradients) per trainable weight.
ADAM_MOMENTS = 2


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes a training needs, by what holds them."""

    dtype: str
    parameters: int
    trainable: int
    weights: int
    gradients: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations

    @property
    def parameter_bytes(self) -> int:
        """Weights, gradients and optimizer state: what stays allocated for the whole run."""
        return self.weights + self.gradients + self.optimizer


def _dtype_name(config: Any) -> str:
    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or "float32"
    name = str(dtype).removeprefix("torch.")
    return name if name in DTYPE_BYTES else "float32"


def _model_on_meta(config: Any, label_count: int, tagger: bool) -> Any:
    """The model the training builds (the base with a new head), with shapes and no memory."""
    import copy

    import torch
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    config = copy.deepcopy(config)
    config.num_labels = label_count
    model_class = AutoModelForTokenClassification if tagger else AutoModelForSequenceClassification
    with torch.device("meta"):
        return model_class.from_config(config)


def lora_parameters(model: Any, targets: list[str] | str, head: list[str], rank: int) -> tuple[int, int]:
    """(adapter weights, head weights) LoRA trains: `rank` x (inputs + outputs) per adapted linear layer,
    and the head whole (peft trains a copy of it beside the frozen original)."""
    import torch

    adapters = 0
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear) or any(name == h or name.startswith(h + ".") for h in head):
            continue
        last = name.rsplit(".", 1)[-1]
        if targets == "all-linear" or last in targets:
            adapters += rank * (module.in_features + module.out_features)
    head_weights = sum(weights.numel() for name, weights in model.named_parameters() if name.split(".", 1)[0] in head)
    return adapters, head_weights


def activation_bytes(config: Any, batch_size: int, max_length: int, element: int) -> int:
    """Bytes a training step keeps for the backward pass: per layer, the inputs of its matrix products,
    layer norms and activation function, the attention probabilities (one score per pair of tokens and
    head) and the dropout masks (a byte per element), plus the embeddings' output."""
    hidden = int(config.hidden_size)
    heads = int(config.num_attention_heads)
    layers = int(config.num_hidden_layers)
    inner = int(getattr(config, "intermediate_size", 0) or getattr(config, "hidden_dim", 0) or 4 * hidden)
    # Texts are cut at max_length, and never longer than the model's positions.
    sequence = min(max_length, int(getattr(config, "max_position_embeddings", None) or max_length))
    tokens = batch_size * sequence
    per_layer = (
        element * tokens * (8 * hidden + 2 * inner)  # the inputs of Q, K, V, the output projection, the MLP, norms
        + 2 * tokens * hidden  # two dropout masks
        + (2 * element + 1) * heads * sequence * tokens  # softmax output, its dropout and mask
    )
    embeddings = (3 * element + 1) * tokens * hidden
    return layers * per_layer + embeddings


def estimate_training_memory(config: Any, label_count: int, tagger: bool, options: TrainingOptions) -> TrainingMemory:
    """What a training of a model with this `config` needs with these settings (batch size, max length,
    LoRA and its rank), for a head of `label_count` labels (a tagger's: tags)."""
    dtype = _dtype_name(config)
    element = DTYPE_BYTES[dtype]
    model = _model_on_meta(config, label_count, tagger)
    parameters = sum(weights.numel() for weights in model.parameters())
    lora = lora_settings(config.model_type, head_modules(model), options.lora_rank, tagger) if options.lora else None
    if lora:
        adapters, head = lora_parameters(model, lora["target_modules"], lora["modules_to_save"], lora["r"])
        trainable = adapters + head
        parameters += trainable  # the adapters and the head's trained copy sit beside the frozen weights
    else:
        trainable = parameters
    return TrainingMemory(
        dtype=dtype,
        parameters=parameters,
        trainable=trainable,
        weights=parameters * element,
        gradients=trainable * element,
        # torch's AdamW keeps its moments in the weights' dtype.
        optimizer=ADAM_MOMENTS * trainable * element,
        activations=activation_bytes(config, options.batch_size, options.max_length, element),
    )


def over_budget_error(memory: TrainingMemory, options: TrainingOptions, left: int, budget: int) -> UserError:
    """The refusal of a training that does not fit the memory budget: the estimate, the budget, what to change."""
    return TEXTS.error(
        "over_budget_lora" if options.lora else "over_budget",
        total=size_text(memory.total),
        weights=size_text(memory.parameter_bytes),
        activations=size_text(memory.activations),
        batch=options.batch_size,
        length=options.max_length,
        left=size_text(left),
        budget=size_text(budget),
    )
