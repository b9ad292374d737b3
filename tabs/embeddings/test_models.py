"""The embeddings tab's random-weight test models: a DINOv2 image backbone; the text models are shared
(the real MiniLM weights, and the fill-mask tab's BERT).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

from scripts.make_test_models import Builder, CatalogEntry, Size, pick, save


def build_dinov2(out_dir: Path, size: Size) -> Path:
    image_size = pick(size, 32, 224)
    config = Dinov2Config(
        image_size=image_size,
        patch_size=pick(size, 8, 14),
        hidden_size=pick(size, 32, 384),
        num_hidden_layers=pick(size, 2, 12),
        num_attention_heads=pick(size, 2, 6),
    )
    processor = BitImageProcessor(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        do_center_crop=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    return save(out_dir / "dinov2", Dinov2Model(config), processor)


BUILDERS: dict[str, Builder] = {"dinov2": build_dinov2}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "minilm",
        "MiniLM sentence embeddings",
        "feature-extraction",
        "all-MiniLM-L6-v2 from PyPI (random stand-in if not installed).",
        default=True,
    ),
    CatalogEntry("bert-mlm", "BERT (test)", "feature-extraction", "Random-weight BERT (its base model)."),
    CatalogEntry("dinov2", "DINOv2 (test)", "image-feature-extraction", "Random-weight DINOv2 backbone.", default=True),
)
