"""The detect-and-segment tab's random-weight test models: object detectors (DETR, YOLOS, RT-DETR),
open-vocabulary detectors (OWLv2, Grounding DINO), segmenters (SegFormer, Mask2Former), depth
estimators (Depth Anything, DPT), SAM and keypoint matchers (SuperGlue, LightGlue).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog).

Each stand-in keeps what changes the behaviour a user sees of the checkpoint it stands for: its label
map (the names on boxes and masks) and its image processor's kind of resizing (aspect kept or not,
multiples of the patch size, square padding). Resolutions are scaled down so tests stay quick; the
real sizes are noted where each processor is built.
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    BertConfig,
    BertTokenizer,
    CLIPTokenizer,
    DepthAnythingConfig,
    DepthAnythingForDepthEstimation,
    DetrConfig,
    DetrForObjectDetection,
    DetrImageProcessorPil,
    Dinov2Config,
    DPTConfig,
    DPTForDepthEstimation,
    DPTImageProcessorPil,
    GroundingDinoConfig,
    GroundingDinoForObjectDetection,
    GroundingDinoImageProcessorPil,
    GroundingDinoProcessor,
    LightGlueConfig,
    LightGlueForKeypointMatching,
    LightGlueImageProcessorPil,
    Mask2FormerConfig,
    Mask2FormerForUniversalSegmentation,
    Mask2FormerImageProcessorPil,
    Owlv2Config,
    Owlv2ForObjectDetection,
    Owlv2ImageProcessorPil,
    Owlv2Processor,
    ResNetConfig,
    RTDetrConfig,
    RTDetrForObjectDetection,
    RTDetrImageProcessorPil,
    RTDetrResNetConfig,
    SamConfig,
    SamImageProcessorPil,
    SamModel,
    SamProcessor,
    SegformerConfig,
    SegformerForSemanticSegmentation,
    SegformerImageProcessorPil,
    SuperGlueConfig,
    SuperGlueForKeypointMatching,
    SuperGlueImageProcessorPil,
    SuperPointConfig,
    SwinConfig,
    YolosConfig,
    YolosForObjectDetection,
    YolosImageProcessorPil,
)

from scripts.make_test_models import (
    WORDS,
    Builder,
    CatalogEntry,
    Size,
    label_maps,
    save,
    tiny_encoder,
    train_byte_level_bpe,
    with_end_of_word_suffix,
    wordpiece_vocab,
)

# COCO 2017's category ids as facebook/detr-resnet-50's and hustvl/yolos-tiny's config.json id2label
# name them: 91 ids, "N/A" for the ids COCO left unused.
COCO_91 = (
    "N/A",
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "N/A",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "N/A",
    "backpack",
    "umbrella",
    "N/A",
    "N/A",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "N/A",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "N/A",
    "dining table",
    "N/A",
    "N/A",
    "toilet",
    "N/A",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "N/A",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)
# PekingU/rtdetr_r50vd's config.json id2label: the 80 used categories, numbered 0-79 in the same order.
COCO_80 = tuple(name for name in COCO_91 if name != "N/A")
# The first ten of nvidia/segformer-b0-finetuned-ade-512-512's 150 ADE20K labels (config.json id2label).
ADE20K_FIRST = ("wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass")


def tiny_resnet(config_class: type, stages: list[str]) -> object:
    return config_class(
        embedding_size=8, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1], layer_type="basic", out_features=stages
    )


def tiny_swin(stages: list[str]) -> SwinConfig:
    return SwinConfig(
        embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=2, image_size=64, out_features=stages
    )


def transformer_sizes(**extra: object) -> dict[str, object]:
    """The encoder-decoder sizes the DETR family shares."""
    return {
        "d_model": 32,
        "encoder_layers": 1,
        "encoder_ffn_dim": 32,
        "encoder_attention_heads": 2,
        "decoder_ffn_dim": 32,
        "decoder_attention_heads": 2,
        "num_queries": 10,
        **extra,
    }


# ---- object detection ---------------------------------------------------------------------------


def build_detr(out_dir: Path, size: Size) -> Path:
    # facebook/detr-resnet-50's "no_timm" revision: the ResNet backbone of transformers itself (its main
    # revision needs the timm library). Its processor resizes to a shortest edge of 800 (longest 1333).
    config = DetrConfig(
        use_timm_backbone=False,
        backbone_config=tiny_resnet(ResNetConfig, ["stage4"]),
        decoder_layers=1,
        **transformer_sizes(),
        **label_maps(COCO_91),
    )
    processor = DetrImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 128})
    return save(out_dir / "detr", DetrForObjectDetection(config), processor)


def build_yolos(out_dir: Path, size: Size) -> Path:
    config = YolosConfig(
        **tiny_encoder(),
        image_size=[64, 64],
        patch_size=16,
        num_detection_tokens=10,
        **label_maps(COCO_91),
    )
    # hustvl/yolos-tiny resizes to a shortest edge of 512 (longest 1333), aspect kept.
    processor = YolosImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 128})
    return save(out_dir / "yolos", YolosForObjectDetection(config), processor)


def build_rt_detr(out_dir: Path, size: Size) -> Path:
    config = RTDetrConfig(
        backbone_config=tiny_resnet(RTDetrResNetConfig, ["stage2", "stage3", "stage4"]),
        encoder_in_channels=[16, 32, 64],
        encoder_hidden_dim=32,
        encoder_ffn_dim=64,
        decoder_in_channels=[32, 32, 32],
        decoder_layers=1,
        decoder_ffn_dim=64,
        d_model=32,
        num_queries=10,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        **label_maps(COCO_80),
    )
    # PekingU/rtdetr_r50vd squeezes every picture to 640×640 (aspect not kept) and rescales to [0, 1]
    # without normalising.
    processor = RTDetrImageProcessorPil(size={"height": 64, "width": 64}, do_normalize=False)
    return save(out_dir / "rt-detr", RTDetrForObjectDetection(config), processor)


# ---- zero-shot object detection ------------------------------------------------------------------


def build_owlv2(out_dir: Path, size: Size) -> Path:
    specials = ["<|startoftext|>", "<|endoftext|>"]
    vocab, merges = with_end_of_word_suffix(*train_byte_level_bpe(WORDS, specials), specials)
    # OWL models ignore a query whose first token id is 0 (their padding of unused queries): real CLIP
    # vocabularies start with "!", so the start token must not be id 0.
    vocab = {"!": 0, **{token: index + 1 for token, index in vocab.items() if token != "!"}}
    vocab = {token: index for index, token in enumerate(vocab)}
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=16)
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "max_position_embeddings": 16,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    vision = {
        "image_size": 64,
        "patch_size": 16,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
    }
    config = Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)
    # google/owlv2-base-patch16-ensemble pads the picture to a square, then resizes it to 960×960.
    processor = Owlv2Processor(
        image_processor=Owlv2ImageProcessorPil(size={"height": 64, "width": 64}), tokenizer=tokenizer
    )
    return save(out_dir / "owlv2", Owlv2ForObjectDetection(config), processor)


def build_grounding_dino(out_dir: Path, size: Size) -> Path:
    tokenizer = BertTokenizer(vocab=wordpiece_vocab(), model_max_length=256)
    text = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    config = GroundingDinoConfig(
        backbone_config=tiny_swin(["stage2", "stage3", "stage4"]),
        text_config=text,
        # Two decoder layers at least: the box heads of the later layers are tied to the first's.
        decoder_layers=2,
        num_feature_levels=3,  # four (the real one's) would need pictures of 128 px and more
        encoder_n_points=1,
        decoder_n_points=1,
        max_text_len=32,
        **transformer_sizes(),
    )
    # IDEA-Research/grounding-dino-tiny resizes to a shortest edge of 800 (longest 1333).
    image_processor = GroundingDinoImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 128})
    processor = GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return save(out_dir / "grounding-dino", GroundingDinoForObjectDetection(config), processor)


# ---- segmentation -------------------------------------------------------------------------------


def build_segformer(out_dir: Path, size: Size) -> Path:
    config = SegformerConfig(
        num_encoder_blocks=2,
        depths=[1, 1],
        sr_ratios=[2, 1],
        hidden_sizes=[8, 16],
        num_attention_heads=[1, 1],
        patch_sizes=[7, 3],
        strides=[4, 2],
        mlp_ratios=[2, 2],
        decoder_hidden_size=16,
        **label_maps(ADE20K_FIRST),
    )
    # nvidia/segformer-b0-finetuned-ade-512-512: 512×512, do_reduce_labels (ADE20K's "other" is 0).
    processor = SegformerImageProcessorPil(size={"height": 64, "width": 64}, do_reduce_labels=True)
    return save(out_dir / "segformer", SegformerForSemanticSegmentation(config), processor)


def build_mask2former(out_dir: Path, size: Size) -> Path:
    config = Mask2FormerConfig(
        backbone_config=tiny_swin(["stage1", "stage2", "stage3", "stage4"]),
        feature_size=32,  # its pixel decoder's group norms take 32 groups
        mask_feature_dim=32,
        hidden_dim=32,
        encoder_feedforward_dim=32,
        dim_feedforward=32,
        encoder_layers=1,
        decoder_layers=2,
        num_attention_heads=2,
        num_queries=10,
        # facebook/mask2former-swin-tiny-coco-panoptic's labels 0-79 (its 53 "stuff" labels follow).
        **label_maps(COCO_80),
    )
    # The checkpoint resizes to a shortest edge of 384 (longest 1333).
    processor = Mask2FormerImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 128})
    return save(out_dir / "mask2former", Mask2FormerForUniversalSegmentation(config), processor)


# ---- depth estimation ---------------------------------------------------------------------------


def build_depth_anything(out_dir: Path, size: Size) -> Path:
    backbone = Dinov2Config(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=56,
        patch_size=14,
        out_indices=[1, 2, 3, 4],
        reshape_hidden_states=False,
        apply_layernorm=True,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        head_hidden_size=8,
        reassemble_hidden_size=32,
        patch_size=14,
    )
    # depth-anything/Depth-Anything-V2-Small-hf (preprocessor_config.json): 518 px, aspect kept, sides
    # multiples of 14, bicubic, ImageNet's mean and std (DPT's own default is 0.5 for both).
    processor = DPTImageProcessorPil(
        size={"height": 56, "width": 56},
        keep_aspect_ratio=True,
        ensure_multiple_of=14,
        resample=3,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    return save(out_dir / "depth-anything", DepthAnythingForDepthEstimation(config), processor)


def build_dpt(out_dir: Path, size: Size) -> Path:
    config = DPTConfig(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=64,
        patch_size=16,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        backbone_out_indices=[0, 1, 2, 3],
    )
    # Intel/dpt-large: 384×384 (aspect not kept), normalised with mean and std 0.5.
    processor = DPTImageProcessorPil(size={"height": 64, "width": 64}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return save(out_dir / "dpt", DPTForDepthEstimation(config), processor)


# ---- mask generation ----------------------------------------------------------------------------


def build_sam(out_dir: Path, size: Size) -> Path:
    vision = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "mlp_dim": 64,
        "image_size": 64,
        "patch_size": 16,
        "output_channels": 16,
        "num_pos_feats": 8,  # half the prompt encoder's width
        "window_size": 2,
        "global_attn_indexes": [1],
        # SAM's own default (1e-10) leaves random weights all but zero: every mask would be the same.
        "initializer_range": 0.02,
    }
    prompt = {"hidden_size": 16, "image_size": 64, "patch_size": 16, "mask_input_channels": 4}
    decoder = {
        "hidden_size": 16,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "mlp_dim": 32,
        "iou_head_hidden_dim": 16,
    }
    config = SamConfig(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)
    # facebook/sam-vit-base: the longest side to 1024, padded to 1024×1024; masks at 256×256.
    image_processor = SamImageProcessorPil(
        size={"longest_edge": 64},
        pad_size={"height": 64, "width": 64},
        mask_size={"longest_edge": 16},
        mask_pad_size={"height": 16, "width": 16},
    )
    return save(out_dir / "sam", SamModel(config), SamProcessor(image_processor=image_processor))


# ---- keypoint matching --------------------------------------------------------------------------


def tiny_superpoint() -> SuperPointConfig:
    return SuperPointConfig(
        encoder_hidden_sizes=[8, 8, 16, 16],
        decoder_hidden_size=32,
        keypoint_decoder_dim=65,
        descriptor_decoder_dim=32,
        max_keypoints=50,
    )


def build_superglue(out_dir: Path, size: Size) -> Path:
    config = SuperGlueConfig(
        keypoint_detector_config=tiny_superpoint(),
        hidden_size=32,
        keypoint_encoder_sizes=[8, 16],
        gnn_layers_types=["self", "cross"],
        num_attention_heads=2,
        sinkhorn_iterations=10,
    )
    # magic-leap-community/superglue_outdoor: greyscale at 480×640.
    processor = SuperGlueImageProcessorPil(size={"height": 48, "width": 64})
    return save(out_dir / "superglue", SuperGlueForKeypointMatching(config), processor)


def build_lightglue(out_dir: Path, size: Size) -> Path:
    config = LightGlueConfig(
        keypoint_detector_config=tiny_superpoint(), descriptor_dim=32, num_hidden_layers=2, num_attention_heads=2
    )
    # ETH-CVG/lightglue_superpoint: greyscale at 480×640.
    processor = LightGlueImageProcessorPil(size={"height": 48, "width": 64})
    return save(out_dir / "lightglue", LightGlueForKeypointMatching(config), processor)


BUILDERS: dict[str, Builder] = {
    "detr": build_detr,
    "yolos": build_yolos,
    "rt-detr": build_rt_detr,
    "owlv2": build_owlv2,
    "grounding-dino": build_grounding_dino,
    "segformer": build_segformer,
    "mask2former": build_mask2former,
    "depth-anything": build_depth_anything,
    "dpt": build_dpt,
    "sam": build_sam,
    "superglue": build_superglue,
    "lightglue": build_lightglue,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("detr", "DETR (test)", "object-detection", "Random-weight DETR with COCO's labels.", default=True),
    CatalogEntry("yolos", "YOLOS (test)", "object-detection", "Random-weight YOLOS with COCO's labels."),
    CatalogEntry("rt-detr", "RT-DETR (test)", "object-detection", "Random-weight RT-DETR with COCO's 80 labels."),
    CatalogEntry("owlv2", "OWLv2 (test)", "zero-shot-object-detection", "Random-weight OWLv2.", default=True),
    CatalogEntry(
        "grounding-dino", "Grounding DINO (test)", "zero-shot-object-detection", "Random-weight Grounding DINO."
    ),
    CatalogEntry(
        "segformer",
        "SegFormer (test)",
        "image-segmentation",
        "Random-weight SegFormer, ten ADE20K labels.",
        default=True,
    ),
    CatalogEntry("mask2former", "Mask2Former (test)", "image-segmentation", "Random-weight Mask2Former, COCO labels."),
    CatalogEntry(
        "depth-anything", "Depth Anything (test)", "depth-estimation", "Random-weight Depth Anything.", default=True
    ),
    CatalogEntry("dpt", "DPT (test)", "depth-estimation", "Random-weight DPT."),
    CatalogEntry("sam", "SAM (test)", "mask-generation", "Random-weight SAM.", default=True),
    CatalogEntry("superglue", "SuperGlue (test)", "keypoint-matching", "Random-weight SuperGlue.", default=True),
    CatalogEntry("lightglue", "LightGlue (test)", "keypoint-matching", "Random-weight LightGlue."),
)
