"""The speech-to-text tab's random-weight test models: Whisper (its tokenizer with the language, task and
timestamp tokens) and a Wav2Vec2 CTC model with a character vocabulary.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from transformers import (
    GenerationConfig,
    Wav2Vec2Config,
    Wav2Vec2CTCTokenizer,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForCTC,
    Wav2Vec2Processor,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizer,
)
from transformers.models.whisper.tokenization_whisper import LANGUAGES

from scripts.make_test_models import (
    Builder,
    CatalogEntry,
    Size,
    gpt2_style_bpe,
    pad_vocab,
    pick,
    real_only,
    save,
)

WHISPER_TASK_TOKENS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>")
WHISPER_TIMESTAMPS = tuple(f"<|{i * 0.02:.2f}|>" for i in range(1501))  # 0.00 .. 30.00


def build_whisper(out_dir: Path, size: Size) -> Path:
    tokenizer = whisper_tokenizer(target_size=real_only(size, 51865))
    ids = tokenizer.convert_tokens_to_ids
    d_model, layers = pick(size, 64, 512), pick(size, 2, 6)
    # Whisper never starts a transcript with a bare space or <|endoftext|>. The config default
    # ([220, 50256]) holds GPT-2 ids, which are out of range for the tiny vocab.
    begin_suppress_tokens = [ids("Ġ"), ids("<|endoftext|>")]
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=pick(size, 2, 8),
        decoder_attention_heads=pick(size, 2, 8),
        encoder_ffn_dim=4 * d_model,
        decoder_ffn_dim=4 * d_model,
        max_source_positions=1500,  # 30 s of audio = 3000 mel frames, halved by the conv stem
        max_target_positions=448,
        bos_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|endoftext|>"),
        pad_token_id=ids("<|endoftext|>"),
        decoder_start_token_id=ids("<|startoftranscript|>"),
        begin_suppress_tokens=begin_suppress_tokens,
    )
    model = WhisperForConditionalGeneration(config)
    # WhisperForConditionalGeneration.generate reads all of these from the generation config:
    # language/task prompts, timestamp decoding and (alignment_heads) word-level timestamps.
    model.generation_config = GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        # Random weights rarely emit <|endoftext|>: a short cap keeps tiny-model tests fast.
        max_length=pick(size, 24, 448),
        is_multilingual=True,
        lang_to_id={f"<|{code}|>": ids(f"<|{code}|>") for code in LANGUAGES},
        task_to_id={"translate": ids("<|translate|>"), "transcribe": ids("<|transcribe|>")},
        no_timestamps_token_id=ids("<|notimestamps|>"),
        prev_sot_token_id=ids("<|startofprev|>"),
        alignment_heads=[[layers - 1, 0], [layers - 1, 1]],
        forced_decoder_ids=None,
        begin_suppress_tokens=begin_suppress_tokens,
    )
    processor = WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer)
    return save(out_dir / "whisper", model, processor)


def build_wav2vec2(out_dir: Path, size: Size) -> Path:
    with tempfile.TemporaryDirectory() as scratch:  # Wav2Vec2CTCTokenizer only loads from a file
        tokenizer = Wav2Vec2CTCTokenizer(str(write_ctc_vocab(Path(scratch) / "vocab.json")))
    feature_extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=False
    )
    config = Wav2Vec2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        # Real conv strides (x320 downsampling) so chunked-ASR stride maths matches the real model.
        conv_dim=(32,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    return save(out_dir / "wav2vec2", Wav2Vec2ForCTC(config), Wav2Vec2Processor(feature_extractor, tokenizer))


def whisper_tokenizer(target_size: int | None) -> WhisperTokenizer:
    """Whisper layout: BPE vocab, <|endoftext|>, <|startoftranscript|>, languages in LANGUAGES
    order (ids are computed as sot + 1 + index), task tokens, <|notimestamps|> as the *last*
    special token, then the 1501 timestamp tokens (timestamp_begin = last special id + 1)."""
    specials = [
        "<|startoftranscript|>",
        *(f"<|{code}|>" for code in LANGUAGES),
        *WHISPER_TASK_TOKENS,
        "<|notimestamps|>",
    ]
    vocab, merges = gpt2_style_bpe()
    if target_size:
        extra = 1 + len(specials) + len(WHISPER_TIMESTAMPS)  # +1: <|endoftext|>
        vocab = pad_vocab(vocab, target_size - extra, "<filler{}>")
    # A pad token is required for batched (chunk_length_s + batch_size) transcription.
    tokenizer = WhisperTokenizer(vocab=vocab, merges=merges, pad_token="<|endoftext|>", model_max_length=448)
    tokenizer.add_special_tokens({"extra_special_tokens": specials})
    tokenizer.add_tokens(list(WHISPER_TIMESTAMPS))
    return tokenizer


def write_ctc_vocab(path: Path) -> Path:
    """Character vocab in the layout of facebook/wav2vec2-base-960h ("|" is the word delimiter)."""
    tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]
    path.write_text(json.dumps({token: i for i, token in enumerate(tokens)}))
    return path


BUILDERS: dict[str, Builder] = {
    "whisper": build_whisper,
    "wav2vec2": build_wav2vec2,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "whisper", "Whisper (test)", "automatic-speech-recognition", "Random-weight Whisper for tests.", default=True
    ),
    CatalogEntry(
        "wav2vec2",
        "Wav2Vec2 CTC (test)",
        "automatic-speech-recognition",
        "Random-weight Wav2Vec2 CTC model with a character vocabulary.",
    ),
)
