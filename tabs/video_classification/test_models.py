"""The video classification tab's random-weight test models: VideoMAE and TimeSformer, each with ten
Kinetics-style action labels.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog).
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    TimesformerConfig,
    TimesformerForVideoClassification,
    VideoMAEConfig,
    VideoMAEForVideoClassification,
    VideoMAEImageProcessorPil,
)

from scripts.make_test_models import Builder, CatalogEntry, Size, label_maps, save, tiny_encoder

ACTIONS = (
    "juggling balls",
    "dribbling basketball",
    "playing guitar",
    "riding a bike",
    "swimming backstroke",
    "dancing ballet",
    "cooking egg",
    "reading book",
    "laughing",
    "walking the dog",
)
IMAGE_SIZE = 32


def frame_processor() -> VideoMAEImageProcessorPil:
    """Both real checkpoints ship VideoMAE's image processor (resize the short side, centre-crop);
    the PIL one, as torchvision is not installed."""
    return VideoMAEImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )


def build_videomae(out_dir: Path, size: Size) -> Path:
    # MCG-NJU/videomae-base-finetuned-kinetics's config.json: 16 frames in tubelets of 2, mean pooling.
    config = VideoMAEConfig(
        image_size=IMAGE_SIZE,
        patch_size=16,
        num_frames=16,
        tubelet_size=2,
        use_mean_pooling=True,
        **tiny_encoder(),
        **label_maps(ACTIONS),
    )
    return save(out_dir / "videomae", VideoMAEForVideoClassification(config), frame_processor())


def build_timesformer(out_dir: Path, size: Size) -> Path:
    # facebook/timesformer-base-finetuned-k400's config.json: 8 frames, divided space-time attention.
    config = TimesformerConfig(
        image_size=IMAGE_SIZE,
        patch_size=16,
        num_frames=8,
        attention_type="divided_space_time",
        **tiny_encoder(),
        **label_maps(ACTIONS),
    )
    return save(out_dir / "timesformer", TimesformerForVideoClassification(config), frame_processor())


BUILDERS: dict[str, Builder] = {"videomae": build_videomae, "timesformer": build_timesformer}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "videomae",
        "VideoMAE (test)",
        "video-classification",
        "Random-weight VideoMAE: 16 frames, ten actions.",
        default=True,
    ),
    CatalogEntry(
        "timesformer", "TimeSformer (test)", "video-classification", "Random-weight TimeSformer: 8 frames, ten actions."
    ),
)
