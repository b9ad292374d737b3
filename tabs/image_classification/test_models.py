"""The image classification tab's random-weight test models: ViT, ConvNeXt, ResNet and MobileNet v2,
each with ten labels.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    ConvNextConfig,
    ConvNextForImageClassification,
    ConvNextImageProcessor,
    MobileNetV2Config,
    MobileNetV2ForImageClassification,
    MobileNetV2ImageProcessorPil,
    ResNetConfig,
    ResNetForImageClassification,
    ViTConfig,
    ViTForImageClassification,
    ViTImageProcessor,
)

from scripts.make_test_models import IMAGE_LABELS, Builder, CatalogEntry, Size, label_maps, pick, save


def build_vit(out_dir: Path, size: Size) -> Path:
    image_size = pick(size, 32, 224)
    config = ViTConfig(
        image_size=image_size,
        patch_size=pick(size, 8, 16),
        hidden_size=pick(size, 32, 768),
        num_hidden_layers=pick(size, 2, 12),
        num_attention_heads=pick(size, 2, 12),
        intermediate_size=pick(size, 64, 3072),
        **label_maps(IMAGE_LABELS),
    )
    processor = ViTImageProcessor(size={"height": image_size, "width": image_size})
    return save(out_dir / "vit", ViTForImageClassification(config), processor)


def build_convnext(out_dir: Path, size: Size) -> Path:
    config = ConvNextConfig(hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1], **label_maps(IMAGE_LABELS))
    # Below 384 px ConvNeXt resizes to shortest_edge / crop_pct, then centre-crops (ImageNet eval).
    processor = ConvNextImageProcessor(size={"shortest_edge": 32})
    return save(out_dir / "convnext", ConvNextForImageClassification(config), processor)


def build_resnet(out_dir: Path, size: Size) -> Path:
    config = ResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 16, 32, 64],
        depths=[1, 1, 1, 1],
        layer_type="basic",
        **label_maps(IMAGE_LABELS),
    )
    # microsoft/resnet-50 ships a ConvNeXt-style processor (resize by crop_pct, centre crop).
    processor = ConvNextImageProcessor(size={"shortest_edge": 32})
    return save(out_dir / "resnet", ResNetForImageClassification(config), processor)


def build_mobilenet_v2(out_dir: Path, size: Size) -> Path:
    config = MobileNetV2Config(image_size=32, depth_multiplier=0.25, min_depth=4, **label_maps(IMAGE_LABELS))
    model = MobileNetV2ForImageClassification(config)
    # The default small-std init makes activations vanish over MobileNet's depth (every class
    # would score exactly 1/10); He init keeps random outputs distinct.
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(module.weight)
    processor = MobileNetV2ImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return save(out_dir / "mobilenet-v2", model, processor)


BUILDERS: dict[str, Builder] = {
    "vit": build_vit,
    "convnext": build_convnext,
    "resnet": build_resnet,
    "mobilenet-v2": build_mobilenet_v2,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("vit", "ViT (test)", "image-classification", "Random-weight ViT with ten labels.", default=True),
    CatalogEntry("convnext", "ConvNeXt (test)", "image-classification", "Random-weight ConvNeXt with ten labels."),
    CatalogEntry("resnet", "ResNet (test)", "image-classification", "Random-weight ResNet with ten labels."),
    CatalogEntry(
        "mobilenet-v2", "MobileNet v2 (test)", "image-classification", "Random-weight MobileNet v2 with ten labels."
    ),
)
