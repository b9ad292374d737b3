"""The Model anatomy tab's test catalog: models of other tabs' recipes, one of each kind the tab explains
(a body-only checkpoint, a classifier, a decoder with tied weights, vision backbones, a ViT), and a
Swin image classifier of its own (a hierarchical backbone, as in the course's AutoBackbone lesson).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from transformers import SwinConfig, SwinForImageClassification, ViTImageProcessor

from scripts.make_test_models import IMAGE_LABELS, Builder, CatalogEntry, Size, label_maps, save


def build_swin(out_dir: Path, size: Size) -> Path:
    config = SwinConfig(
        image_size=32,
        patch_size=4,
        embed_dim=8,
        depths=[1, 1],
        num_heads=[1, 2],
        window_size=4,
        **label_maps(IMAGE_LABELS),
    )
    processor = ViTImageProcessor(size={"height": 32, "width": 32})
    return save(out_dir / "swin", SwinForImageClassification(config), processor)


BUILDERS: dict[str, Builder] = {"swin": build_swin}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "minilm",
        "MiniLM body (test)",
        "model-anatomy",
        "all-MiniLM-L6-v2 from PyPI (a BertModel with no head).",
        default=True,
    ),
    CatalogEntry(
        "bert-emotions", "BERT classifier (test)", "model-anatomy", "Random-weight BERT with a classification head."
    ),
    CatalogEntry(
        "gpt2", "GPT-2 (test)", "model-anatomy", "Random-weight GPT-2 (its LM head is tied to the embeddings)."
    ),
    CatalogEntry("resnet", "ResNet (test)", "model-anatomy", "Random-weight ResNet image classifier (a backbone)."),
    CatalogEntry(
        "swin", "Swin (test)", "model-anatomy", "Random-weight Swin image classifier (a backbone of two stages)."
    ),
    CatalogEntry("vit", "ViT (test)", "model-anatomy", "Random-weight ViT image classifier."),
)
