"""The Model anatomy tab's logic: the config facts that matter, the module tree with parameters per
block (body and head marked), memory by dtype and device, the weights loading left newly initialised,
AutoBackbone feature maps as pictures, and the "show code" snippet. No Gradio.

The model is a `playground.loading.adapters.InspectedModel` (task `model-anatomy`): the checkpoint loaded as
the class its config names, or as another class (`MODEL_CLASSES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.snippets import format_call
from playground.core.texts import Texts

TEXTS = Texts.load("anatomy.task", Path(__file__).with_name("locales"))

# The classes a checkpoint may be loaded as besides its own ("" = the class its config names).
MODEL_CLASSES = (
    "",
    "AutoModel",
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForMaskedLM",
    "AutoModelForCausalLM",
    "AutoModelForImageClassification",
    "AutoBackbone",
)
MAX_DEPTH = 4
MAX_ROWS = 300
FEATURE_MAP_SIZE = 160

# config.json keys shown, in this order (transformers maps each architecture's own names onto these,
# e.g. GPT-2's n_layer is num_hidden_layers).
CONFIG_FACTS = (
    "model_type",
    "architectures",
    "num_hidden_layers",
    "num_attention_heads",
    "hidden_size",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "image_size",
    "num_channels",
    "hidden_sizes",
    "is_encoder_decoder",
    "id2label",
)


def check_model_class(name: str | None) -> str:
    """The class to load as ("" = the checkpoint's own); refuses a name outside MODEL_CLASSES."""
    name = (name or "").strip()
    if name not in MODEL_CLASSES:
        raise TEXTS.error("unknown_class", name=name, choices=", ".join(c for c in MODEL_CLASSES if c))
    return name


def class_fits(config: Any, name: str) -> bool:
    """Whether transformers' Auto class `name` has a class for this config's architecture."""
    import transformers

    return type(config) in getattr(transformers, name)._model_mapping


def config_facts(config: Any) -> dict[str, Any]:
    """The config.json facts that matter; id2label only when it names real labels."""
    facts: dict[str, Any] = {}
    for key in CONFIG_FACTS:
        value = getattr(config, key, None)
        if value is None or value == [] or (key == "is_encoder_decoder" and not value):
            continue
        if key == "id2label":
            labels = {int(k): v for k, v in value.items()}
            if all(v == f"LABEL_{k}" for k, v in labels.items()):
                continue  # transformers' placeholder labels: the checkpoint names none
            value = {str(k): v for k, v in sorted(labels.items())}
        facts[key] = value
    for part in ("text_config", "vision_config", "encoder", "decoder"):
        sub = getattr(config, part, None)
        if sub is not None and hasattr(sub, "model_type"):
            facts[part] = {k: v for k, v in config_facts(sub).items() if k != "id2label"}
    return facts


@dataclass(frozen=True)
class ModuleRow:
    name: str
    class_name: str
    depth: int
    parameters: int
    part: str  # "body", "head" or "" (inside a block, or a bare body)


def body_and_head(model: Any) -> tuple[str | None, bool]:
    """(the attribute holding the body, whether the model is a body with a head on it)."""
    prefix = getattr(model, "base_model_prefix", "")
    body = getattr(model, prefix, None) if prefix else None
    if body is not None and body is not model and hasattr(body, "parameters"):
        return prefix, True
    return None, False


def module_rows(model: Any, max_depth: int = 2) -> tuple[list[ModuleRow], bool]:
    """The module tree down to `max_depth`, each module with the parameters under it (a shared
    (tied) weight counted once, where `named_parameters` first meets it); the top-level rows add up
    to the model's num_parameters(). Returns (rows, whether rows were cut at MAX_ROWS)."""
    counts: dict[str, int] = {}
    for name, parameter in model.named_parameters():
        parts = name.split(".")
        for depth in range(len(parts)):  # the module paths above this parameter, "" is the root
            path = ".".join(parts[:depth])
            counts[path] = counts.get(path, 0) + parameter.numel()
    body, has_head = body_and_head(model)
    rows: list[ModuleRow] = []
    direct = sum(p.numel() for name, p in model.named_parameters() if "." not in name)
    if direct:
        rows.append(ModuleRow("(" + type(model).__name__ + ")", type(model).__name__, 1, direct, ""))
    for name, module in model.named_modules():
        depth = name.count(".") + 1 if name else 0
        if not name or depth > max_depth:
            continue
        if len(rows) >= MAX_ROWS:
            return rows, True
        part = ""
        if depth == 1:
            part = ("body" if name == body else "head") if has_head else "body"
        rows.append(ModuleRow(name, type(module).__name__, depth, counts.get(name, 0), part))
    return rows, False


def tied_weights(model: Any) -> dict[str, str]:
    """Weights stored once under two names (e.g. an LM head tied to the input embeddings): second name -> first."""
    first: dict[int, str] = {}
    tied = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        if id(parameter) in first:
            tied[name] = first[id(parameter)]
        else:
            first[id(parameter)] = name
    return tied


def memory_rows(model: Any) -> list[list[Any]]:
    """[device, dtype, tensors, values, MB] for the parameters and buffers, one row per (device, dtype)."""
    groups: dict[tuple[str, str], list[int]] = {}
    seen: set[int] = set()
    for tensor in (*model.parameters(), *model.buffers()):
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        # accelerate leaves offloaded weights on the meta device: they take no memory here.
        device = "meta (offloaded)" if tensor.device.type == "meta" else str(tensor.device)
        key = (device, str(tensor.dtype).removeprefix("torch."))
        group = groups.setdefault(key, [0, 0, 0])
        group[0] += 1
        group[1] += tensor.numel()
        group[2] += tensor.numel() * tensor.element_size()
    return [
        [device, dtype, n, values, round(size / 2**20, 3)]
        for (device, dtype), (n, values, size) in sorted(groups.items())
    ]


def summary_markdown(
    lang: str,
    total: int,
    class_name: str,
    has_head: bool,
    body: str | None,
    memory: list[list[Any]],
    device_map: dict[str, Any] | None,
    loading_info: dict[str, Any],
    tied: dict[str, str],
    cut: bool,
) -> str:
    """The totals, the memory table, the device map and the teaching notes, in `lang`."""
    lines = [TEXTS.get("total", lang, total=f"{total:,}", class_name=class_name)]
    lines.append(TEXTS.get("body_and_head", lang, body=body) if has_head else TEXTS.get("body_only", lang))
    lines += [
        "",
        TEXTS.get("memory_heading", lang),
        "",
        "| device | dtype | tensors | values | MB |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in memory]
    if device_map:
        places: dict[str, int] = {}
        for place in device_map.values():
            places[str(place)] = places.get(str(place), 0) + 1
        lines += ["", TEXTS.get("device_map", lang, places=", ".join(f"{p}: {n}" for p, n in sorted(places.items())))]
    missing = sorted(loading_info.get("missing_keys") or [])
    if missing:
        lines += [
            "",
            TEXTS.get(
                "newly_initialized",
                lang,
                class_name=class_name,
                count=len(missing),
                keys=", ".join(f"`{k}`" for k in missing[:20]),
            ),
        ]
    unused = sorted(loading_info.get("unexpected_keys") or [])
    if unused:
        lines += [
            "",
            TEXTS.get("unused_weights", lang, count=len(unused), keys=", ".join(f"`{k}`" for k in unused[:20])),
        ]
    if tied:
        lines += ["", TEXTS.get("tied", lang, pairs=", ".join(f"`{a}` = `{b}`" for a, b in tied.items()))]
    if cut:
        lines += ["", TEXTS.get("rows_cut", lang, limit=MAX_ROWS)]
    return "\n".join(lines)


# ---- AutoBackbone feature maps ------------------------------------------------------------------


def is_backbone_model(config: Any) -> bool:
    """Whether AutoBackbone has a class for this architecture (ResNet, Swin, ConvNeXt, ...)."""
    return class_fits(config, "AutoBackbone")


def stage_names(config: Any) -> list[str]:
    """Every stage a backbone can give a feature map for (the stem left out)."""
    return list(getattr(config, "stage_names", [])[1:])


def feature_maps(backbone: Any, image: Any) -> list[tuple[Any, str]]:
    """One picture per stage of an AutoBackbone model: the feature map's mean over its channels,
    scaled to 0-1 and coloured (viridis), with its caption (stage, channels, height x width)."""
    import numpy as np
    import torch
    from matplotlib import colormaps
    from PIL import Image

    inputs = backbone.preprocessor(images=image, return_tensors="pt").to(backbone.model.device)
    with torch.inference_mode():
        maps = backbone.model(**inputs).feature_maps
    pictures = []
    for stage, fmap in zip(backbone.model.out_features, maps):
        mean = fmap[0].float().mean(0).cpu().numpy()
        span = float(mean.max() - mean.min())
        scaled = (mean - mean.min()) / span if span > 0 else np.zeros_like(mean)
        rgb = (colormaps["viridis"](scaled)[..., :3] * 255).astype("uint8")
        picture = Image.fromarray(rgb).resize((FEATURE_MAP_SIZE, FEATURE_MAP_SIZE), Image.NEAREST)
        channels, height, width = fmap.shape[1:]
        pictures.append((picture, f"{stage}: {channels} × {height}×{width}"))
    return pictures


# ---- show code ----------------------------------------------------------------------------------


def snippet(
    model_id: str,
    class_name: str,
    from_pretrained: dict[str, Any],
    device: str | None,
    with_feature_maps: bool,
    out_features: list[str],
) -> str:
    """Code that loads the checkpoint as `class_name` (as the app did), prints the config facts, the
    parameters per top-level block, what loading left newly initialised, and the feature map shapes."""
    lines = ["import torch", f"from transformers import AutoConfig, {class_name}", ""]
    lines.append("config = " + format_call("AutoConfig.from_pretrained", [model_id]))
    lines.append("print(config.model_type, config.architectures)")
    load = format_call(f"{class_name}.from_pretrained", [model_id], {**from_pretrained, "output_loading_info": True})
    lines += [
        "",
        "# output_loading_info: which weights the checkpoint lacked (newly initialised) or did not use",
        "model, loading_info = " + load,
    ]
    if device:
        lines.append(f"model = model.to({device!r}).eval()")
    else:
        lines.append("model = model.eval()")
    lines += [
        'print("newly initialized:", sorted(loading_info["missing_keys"]))',
        "",
        "# Parameters per top-level block (a tied weight counted once); they add up to num_parameters().",
        "blocks = {}",
        "for name, parameter in model.named_parameters():",
        '    block = name.split(".")[0]',
        "    blocks[block] = blocks.get(block, 0) + parameter.numel()",
        "print(blocks)",
        'print("total", model.num_parameters())',
        'print("body:", model.base_model_prefix, type(model.base_model).__name__)',
    ]
    if with_feature_maps:
        lines += [
            "",
            "# AutoBackbone.from_pretrained asks the Hub first; its mapping gives the class that loads offline.",
            "from PIL import Image",
            "from transformers import AutoImageProcessor",
            "from transformers.models.auto.modeling_auto import MODEL_FOR_BACKBONE_MAPPING",
            "",
            "backbone_class = MODEL_FOR_BACKBONE_MAPPING[type(config)]",
            "backbone = "
            + format_call("backbone_class.from_pretrained", [model_id], {"out_features": out_features})
            + ".eval()",
            "processor = " + format_call("AutoImageProcessor.from_pretrained", [model_id]),
            'image = Image.open("your_image.png").convert("RGB")',
            "with torch.inference_mode():",
            '    maps = backbone(**processor(images=image, return_tensors="pt")).feature_maps',
            "for stage, fmap in zip(backbone.out_features, maps):",
            "    print(stage, tuple(fmap.shape))",
        ]
    return "\n".join(lines) + "\n"
