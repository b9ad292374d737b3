"""The translation tab's random-weight test models: a one-pair Marian model named like opus-mt-fr-en (with a
trained SentencePiece model) and NLLB's layout; its chat model is the text-generation tab's.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from transformers import (
    GenerationConfig,
    M2M100Config,
    M2M100ForConditionalGeneration,
    MarianConfig,
    MarianMTModel,
    MarianTokenizer,
    NllbTokenizer,
)

from scripts.make_test_models import (
    GENERATION_CAP,
    Builder,
    CatalogEntry,
    Size,
    apply_published,
    metaspace_bpe,
    save,
    seq2seq_generation,
    tiny_encoder_decoder,
    words,
)


def build_marian(out_dir: Path, size: Size) -> Path:
    """A one-pair Marian model named like Helsinki-NLP/opus-mt-fr-en (the pair is read from the name)."""
    with tempfile.TemporaryDirectory() as scratch:
        spm = sentencepiece_model(Path(scratch) / "spm")
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor(model_file=str(spm))
        vocab = {processor.id_to_piece(i): i for i in range(processor.get_piece_size())}
        vocab["<pad>"] = len(vocab)
        vocab_file = Path(scratch) / "vocab.json"
        vocab_file.write_text(json.dumps(vocab))
        tokenizer = MarianTokenizer(
            source_spm=str(spm), target_spm=str(spm), vocab=str(vocab_file), model_max_length=512
        )
        pad = tokenizer.pad_token_id
        config = MarianConfig(
            vocab_size=len(tokenizer),
            **tiny_encoder_decoder(512),
            pad_token_id=pad,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=pad,
            forced_eos_token_id=tokenizer.eos_token_id,
        )
        model = MarianMTModel(config)
        model.generation_config = GenerationConfig(
            decoder_start_token_id=pad,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=pad,
            max_new_tokens=GENERATION_CAP,
            bad_words_ids=[[pad]],
        )
        folder = save(out_dir / "opus-mt-fr-en", model, tokenizer)
    # Random weights, the real checkpoint's generation settings (4 beams: it cannot stream by default).
    apply_published(folder, "Helsinki-NLP/opus-mt-fr-en")
    return folder


def build_nllb(out_dir: Path, size: Size) -> Path:
    """NLLB-200's layout: an M2M100 model and the NLLB tokenizer with its 202 language codes."""
    vocab, merges = metaspace_bpe(["<s>", "<pad>", "</s>", "<unk>"])
    tokenizer = NllbTokenizer(vocab=vocab, merges=merges, model_max_length=512)
    config = M2M100Config(
        vocab_size=len(tokenizer),
        **tiny_encoder_decoder(512),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    model = M2M100ForConditionalGeneration(config)
    # Loud language-code input embeddings (untied from the output head): the forced target-language
    # token then changes what follows, so tests can tell that the target language reached generate().
    codes = tokenizer.convert_tokens_to_ids(list(tokenizer.extra_special_tokens))
    with torch.no_grad():
        model.get_input_embeddings().weight[codes] *= 40
    model.generation_config = seq2seq_generation(tokenizer, tokenizer.eos_token_id)
    return save(out_dir / "nllb", model, tokenizer)


def sentencepiece_model(path: Path) -> Path:
    import sentencepiece

    corpus = [" ".join(words()[i : i + 12]) for i in range(0, len(words()), 12)]
    corpus += [" ".join(w.capitalize() for w in words()[i : i + 12]) for i in range(0, len(words()), 12)]
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus),
        model_prefix=str(path),
        vocab_size=len(words()) + 200,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        unk_id=1,
        bos_id=-1,
        eos_id=0,
        pad_id=-1,
        minloglevel=3,
        num_threads=1,
    )
    return path.with_suffix(".model")


BUILDERS: dict[str, Builder] = {
    "opus-mt-fr-en": build_marian,
    "nllb": build_nllb,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "opus-mt-fr-en",
        "Marian fr-en (test)",
        "translation",
        "Random-weight Marian model named like opus-mt-fr-en.",
        default=True,
    ),
    CatalogEntry(
        "nllb",
        "NLLB many-to-many (test)",
        "translation",
        "Random-weight M2M100 model with the NLLB tokenizer and its language codes.",
    ),
    CatalogEntry(
        "llama-chat",
        "Llama chat (test)",
        "text-generation",
        "Random-weight Llama chat model given a fixed translation prompt.",
    ),
)
