"""The summarization tab's random-weight test models: BART (its positions cap inputs at 128 tokens) and T5
with the summarize: prefix; its chat model is the text-generation tab's.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    BartTokenizer,
    T5Config,
    T5ForConditionalGeneration,
    T5Tokenizer,
)

from scripts.make_test_models import (
    Builder,
    CatalogEntry,
    Size,
    byte_level_tokenizer,
    course_unigram_vocab,
    save,
    seq2seq_generation,
    tiny_encoder_decoder,
)


def build_bart(out_dir: Path, size: Size) -> Path:
    """BART-CNN's shape in miniature (its positions cap inputs at 128 tokens, to test cutting long texts)."""
    tokenizer = byte_level_tokenizer(BartTokenizer, 128)
    config = BartConfig(
        vocab_size=len(tokenizer),
        **tiny_encoder_decoder(128),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_bos_token_id=tokenizer.bos_token_id,
    )
    model = BartForConditionalGeneration(config)
    model.generation_config = seq2seq_generation(
        tokenizer, tokenizer.eos_token_id, forced_bos_token_id=tokenizer.bos_token_id
    )
    return save(out_dir / "bart-cnn", model, tokenizer)


def build_t5(out_dir: Path, size: Size) -> Path:
    tokenizer = T5Tokenizer(vocab=course_unigram_vocab(["<pad>", "</s>", "<unk>"]), extra_ids=0, model_max_length=512)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=16,
        d_ff=64,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        task_specific_params={"summarization": {"prefix": "summarize: "}},
    )
    model = T5ForConditionalGeneration(config)
    model.generation_config = seq2seq_generation(tokenizer, tokenizer.pad_token_id)
    return save(out_dir / "t5", model, tokenizer)


BUILDERS: dict[str, Builder] = {
    "bart-cnn": build_bart,
    "t5": build_t5,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "bart-cnn",
        "BART summarizer (test)",
        "summarization",
        "Random-weight BART; reads at most 128 tokens.",
        default=True,
    ),
    CatalogEntry("t5", "T5 summarizer (test)", "summarization", "Random-weight T5 with the summarize: prefix."),
    CatalogEntry(
        "llama-chat",
        "Llama chat (test)",
        "text-generation",
        "Random-weight Llama chat model given a fixed summarization prompt.",
    ),
)
