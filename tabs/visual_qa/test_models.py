"""The visual QA tab's random-weight test models: a ViLT answer classifier, LLaVA, LayoutLM document QA,
Donut (OCR-free documents), SmolVLM's architecture (Idefics3, the shipped catalogs' model), and the
"Text" sub-tab's extractive QA models (DistilBERT, RoBERTa) and the "Table" sub-tab's TAPAS models
(WTQ with its aggregation head, SQA without one).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from transformers import (
    DistilBertForQuestionAnswering,
    DonutImageProcessor,
    DonutProcessor,
    DonutSwinConfig,
    GenerationConfig,
    Idefics3Config,
    Idefics3ForConditionalGeneration,
    Idefics3ImageProcessorPil,
    Idefics3Processor,
    Idefics3VisionConfig,
    LayoutLMConfig,
    LayoutLMForQuestionAnswering,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    MBartConfig,
    RobertaConfig,
    RobertaForQuestionAnswering,
    RobertaTokenizer,
    TapasConfig,
    TapasForQuestionAnswering,
    TapasTokenizer,
    ViltConfig,
    ViltForQuestionAnswering,
    ViltImageProcessor,
    ViltProcessor,
    VisionEncoderDecoderConfig,
    VisionEncoderDecoderModel,
)

from scripts.make_test_models import (
    CHAT_TEMPLATE,
    Builder,
    CatalogEntry,
    Size,
    bert_tokenizer,
    byte_level_tokenizer,
    chat_tokenizer,
    clip_image_processor,
    clip_vision_config,
    distilbert,
    generation_config,
    label_maps,
    llama_config,
    save,
    tiny_encoder,
    wordpiece,
    wordpiece_vocab,
)

VQA_ANSWERS = ("yes", "no", "0", "1", "2", "3", "red", "blue", "green", "cat")
IDEFICS3_IMAGE_TOKENS = (
    "<fake_token_around_image>",
    "<image>",
    "<end_of_utterance>",
    "<global-img>",
    *(f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)),
)
DONUT_TASK_TOKENS = ("<s_docvqa>", "<s_question>", "</s_question>", "<s_answer>", "</s_answer>")


def build_vilt(out_dir: Path, size: Size) -> Path:
    tokenizer = bert_tokenizer(max_length=40)
    config = ViltConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=40,
        image_size=64,
        patch_size=16,
        **label_maps(VQA_ANSWERS),
    )
    # ViLT interpolates patch position embeddings, so any image shape works; size caps cost.
    image_processor = ViltImageProcessor(size={"shortest_edge": 64}, size_divisor=16)
    processor = ViltProcessor(image_processor, tokenizer)
    return save(out_dir / "vilt", ViltForQuestionAnswering(config), processor)


def build_llava(out_dir: Path, size: Size) -> Path:
    tokenizer = chat_tokenizer(with_chat_template=True, max_length=256, extra_specials=["<image>"])
    vision = clip_vision_config(image_size=32)
    config = LlavaConfig(
        vision_config=vision.to_dict(),
        text_config=llama_config("tiny", tokenizer).to_dict(),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        image_seq_length=(vision.image_size // vision.patch_size) ** 2,
        vision_feature_select_strategy="default",  # drop CLS: one <image> token per patch
        vision_feature_layer=-1,
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config = generation_config(tokenizer)
    processor = LlavaProcessor(
        image_processor=clip_image_processor(vision.image_size),
        tokenizer=tokenizer,
        patch_size=vision.patch_size,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # CLIP's CLS token
        chat_template=CHAT_TEMPLATE,
    )
    return save(out_dir / "llava", model, processor)


def build_layoutlm(out_dir: Path, size: Size) -> Path:
    # The document-QA pipeline needs model_max_length <= max_position_embeddings.
    tokenizer = bert_tokenizer(max_length=512)
    config = LayoutLMConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    return save(out_dir / "layoutlm", LayoutLMForQuestionAnswering(config), tokenizer)


def build_donut(out_dir: Path, size: Size) -> Path:
    """OCR-free document QA in Donut's layout: a Donut-Swin encoder and an mBART decoder (a
    VisionEncoderDecoderModel), prompted with "<s_docvqa><s_question>...</s_question><s_answer>"."""
    tokenizer = chat_tokenizer(with_chat_template=False, max_length=128, extra_specials=list(DONUT_TASK_TOKENS))
    encoder = DonutSwinConfig(
        image_size=[64, 48], patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[1, 2], window_size=4
    )
    decoder = MBartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        is_decoder=True,
        add_cross_attention=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.bos_token_id,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.pad_token_id = tokenizer.pad_token_id
    config.decoder_start_token_id = tokenizer.bos_token_id
    config.eos_token_id = tokenizer.eos_token_id
    model = VisionEncoderDecoderModel(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=tokenizer.bos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        max_new_tokens=16,
    )
    processor = DonutProcessor(
        image_processor=DonutImageProcessor(size={"height": 64, "width": 48}), tokenizer=tokenizer
    )
    return save(out_dir / "donut", model, processor)


def build_idefics3(out_dir: Path, size: Size) -> Path:
    """SmolVLM's architecture (Idefics3: a SigLIP-style vision encoder, pixel shuffle, a Llama decoder);
    one 32 px image tile, no splitting, so an image costs four tokens."""
    tokenizer = chat_tokenizer(with_chat_template=True, max_length=512, extra_specials=list(IDEFICS3_IMAGE_TOKENS))
    vision = Idefics3VisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8
    )
    scale_factor = 2
    config = Idefics3Config(
        vision_config=vision.to_dict(),
        text_config=llama_config("tiny", tokenizer).to_dict(),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=scale_factor,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = Idefics3ForConditionalGeneration(config)
    model.generation_config = generation_config(tokenizer)
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": 32}, max_image_size={"longest_edge": 32}, do_image_splitting=False
    )
    image_seq_len = (vision.image_size // vision.patch_size) ** 2 // scale_factor**2
    processor = Idefics3Processor(
        image_processor=image_processor, tokenizer=tokenizer, image_seq_len=image_seq_len, chat_template=CHAT_TEMPLATE
    )
    return save(out_dir / "idefics3", model, processor)


def build_distilbert_qa(out_dir: Path, size: Size) -> Path:
    tokenizer = wordpiece()
    return save(out_dir / "distilbert-qa", DistilBertForQuestionAnswering(distilbert(len(tokenizer))), tokenizer)


def build_roberta_qa(out_dir: Path, size: Size) -> Path:
    """A SQuAD 2.0-style RoBERTa reader (byte-level BPE: offsets differ from WordPiece's)."""
    tokenizer = byte_level_tokenizer(RobertaTokenizer, 512)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=514,
        **tiny_encoder(),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return save(out_dir / "roberta-qa", RobertaForQuestionAnswering(config), tokenizer)


# google/tapas-base-finetuned-wtq's config.json: the WTQ aggregation head (NONE, SUM, AVERAGE, COUNT, with
# NONE at 0) and the temperature the cell logits are divided by; the column settings as published (they
# matter for the training loss, as do answer_loss_cutoff, huber_loss_delta, ..., left out here).
TAPAS_WTQ = {
    "num_aggregation_labels": 4,
    "aggregation_labels": {0: "NONE", 1: "SUM", 2: "AVERAGE", 3: "COUNT"},
    "no_aggregation_label_index": 0,
    "select_one_column": True,
    "allow_empty_column_selection": False,
    "temperature": 0.0352513,
}


def tapas_tokenizer() -> TapasTokenizer:
    """TAPAS's WordPiece tokenizer (a Python tokenizer that reads a vocab file) over the shared vocabulary."""
    with tempfile.TemporaryDirectory() as folder:
        vocab = Path(folder) / "vocab.txt"
        vocab.write_text("\n".join(wordpiece_vocab()) + "\n")
        return TapasTokenizer(str(vocab), model_max_length=512)


def build_tapas(out_dir: Path, name: str, **head: object) -> Path:
    tokenizer = tapas_tokenizer()
    config = TapasConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        **head,
    )
    return save(out_dir / name, TapasForQuestionAnswering(config), tokenizer)


def build_tapas_wtq(out_dir: Path, size: Size) -> Path:
    path = build_tapas(out_dir, "tapas-wtq", **TAPAS_WTQ)
    # At WTQ's temperature random weights keep every cell below 0.5 (no answer at all); a positive bias
    # on the cell logits makes the stand-in pick cells, so the highlighting and aggregation paths run.
    model = TapasForQuestionAnswering.from_pretrained(path)
    with torch.no_grad():
        model.output_bias.fill_(0.1)
    model.save_pretrained(path)
    return path


def build_tapas_sqa(out_dir: Path, size: Size) -> Path:
    """SQA checkpoints answer with cells only: no aggregation head (google/tapas-base-finetuned-sqa's config)."""
    return build_tapas(out_dir, "tapas-sqa")


BUILDERS: dict[str, Builder] = {
    "vilt": build_vilt,
    "llava": build_llava,
    "layoutlm": build_layoutlm,
    "donut": build_donut,
    "idefics3": build_idefics3,
    # Extractive QA: the "Text" sub-tab.
    "distilbert-qa": build_distilbert_qa,
    "roberta-qa": build_roberta_qa,
    # Table QA: the "Table" sub-tab.
    "tapas-wtq": build_tapas_wtq,
    "tapas-sqa": build_tapas_sqa,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("vilt", "ViLT VQA (test)", "vqa-classifier", "Random-weight ViLT answer classifier.", default=True),
    CatalogEntry("llava", "LLaVA (test)", "image-text-to-text", "Random-weight LLaVA chat model.", default=True),
    CatalogEntry(
        "idefics3",
        "SmolVLM captions (test)",
        "image-text-to-text",
        "Random-weight Idefics3 (SmolVLM's architecture) asked for a caption.",
        prompt="Describe this picture in one sentence.",
    ),
    CatalogEntry(
        "layoutlm",
        "LayoutLM document QA (test)",
        "document-question-answering",
        "Random-weight LayoutLM extractive document QA.",
        default=True,
    ),
    CatalogEntry(
        "donut",
        "Donut OCR-free document QA (test)",
        "image-text-to-text",
        "Random-weight Donut (Swin encoder + mBART decoder).",
        document=True,
    ),
    CatalogEntry(
        "distilbert-qa",
        "QA DistilBERT (test)",
        "question-answering",
        "Random-weight DistilBERT extractive QA.",
        default=True,
    ),
    CatalogEntry(
        "roberta-qa", "QA RoBERTa (test)", "question-answering", "Random-weight RoBERTa extractive QA (byte-level BPE)."
    ),
    CatalogEntry(
        "tapas-wtq",
        "TAPAS WTQ (test)",
        "table-question-answering",
        "Random-weight TAPAS with the WTQ aggregation head.",
        default=True,
    ),
    CatalogEntry("tapas-sqa", "TAPAS SQA (test)", "table-question-answering", "Random-weight TAPAS, cells only."),
)
