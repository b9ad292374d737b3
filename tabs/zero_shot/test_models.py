"""The zero-shot tab's random-weight test models: an NLI classifier, CLIP, and the other architectures the
shipped catalogs list (DistilBERT and BART NLI); the sentence-similarity model is shared (minilm).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    BartConfig,
    BartForSequenceClassification,
    BartTokenizer,
    BertForSequenceClassification,
    CLIPConfig,
    CLIPModel,
    CLIPProcessor,
    CLIPTokenizer,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    DistilBertTokenizer,
)

from scripts.make_test_models import (
    NLI_LABELS,
    WORDS,
    Builder,
    CatalogEntry,
    Size,
    bert_config,
    bert_size_tokenizer,
    clip_image_processor,
    clip_vision_config,
    gpt2_style_bpe,
    label_maps,
    save,
    train_byte_level_bpe,
    with_end_of_word_suffix,
    wordpiece_vocab,
)


def build_nli(out_dir: Path, size: Size) -> Path:
    tokenizer = bert_size_tokenizer(size)
    model = BertForSequenceClassification(bert_config(size, len(tokenizer), **label_maps(NLI_LABELS)))
    return save(out_dir / "nli", model, tokenizer)


def build_clip(out_dir: Path, size: Size) -> Path:
    specials = ["<|startoftext|>", "<|endoftext|>"]
    vocab, merges = with_end_of_word_suffix(*train_byte_level_bpe(WORDS, specials), specials)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "max_position_embeddings": 77,
        "projection_dim": 32,
        # Text pooling takes the hidden state at the first eos_token_id.
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    vision = clip_vision_config(image_size=32)
    config = CLIPConfig(text_config=text_config, vision_config=vision.to_dict(), projection_dim=32)
    processor = CLIPProcessor(clip_image_processor(vision.image_size), tokenizer)
    return save(out_dir / "clip", CLIPModel(config), processor)


def build_distilbert_nli(out_dir: Path, size: Size) -> Path:
    tokenizer = DistilBertTokenizer(vocab=wordpiece_vocab(), model_max_length=512)
    config = DistilBertConfig(
        vocab_size=len(tokenizer), dim=32, n_layers=2, n_heads=2, hidden_dim=64, **label_maps(NLI_LABELS)
    )
    return save(out_dir / "distilbert-nli", DistilBertForSequenceClassification(config), tokenizer)


def build_bart_mnli(out_dir: Path, size: Size) -> Path:
    vocab, merges = gpt2_style_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tokenizer = BartTokenizer(vocab=vocab, merges=merges, model_max_length=1024)
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        **label_maps(NLI_LABELS),
    )
    return save(out_dir / "bart-mnli", BartForSequenceClassification(config), tokenizer)


BUILDERS: dict[str, Builder] = {
    "nli": build_nli,
    "clip": build_clip,
    "distilbert-nli": build_distilbert_nli,
    "bart-mnli": build_bart_mnli,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "nli", "NLI classifier (test)", "zero-shot-classification", "Random-weight BERT NLI classifier.", default=True
    ),
    CatalogEntry(
        "minilm",
        "MiniLM sentence embeddings",
        "sentence-similarity",
        "all-MiniLM-L6-v2 from PyPI (random stand-in if not installed).",
        default=True,
    ),
    CatalogEntry("clip", "CLIP (test)", "zero-shot-image-classification", "Random-weight CLIP.", default=True),
)
