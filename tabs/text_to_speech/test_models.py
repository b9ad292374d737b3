"""The text-to-speech tab's random-weight test models: two MMS-TTS (VITS) voices, English and Korean, and
MusicGen for music.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).

The settings that change what the pipeline does are the real checkpoints', read from their files:
- facebook/mms-tts-eng and facebook/mms-tts-kor (tokenizer_config.json): VitsTokenizer with add_blank,
  normalize, no phonemizer, language "eng" / "kor", and is_uroman false / true: the Korean voice reads
  romanized text (its vocabulary is Latin letters), so Hangul must go through uroman first; config.json
  sampling_rate 16000.
- facebook/musicgen-small (config.json, generation_config.json): a T5 text encoder, EnCodec at 32 kHz
  with 4 codebooks of 2048 codes at 50 frames a second, 2048 as the start and padding code; sampling
  (do_sample) with classifier-free guidance_scale 3.0 and max_length 1500.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    EncodecConfig,
    EncodecFeatureExtractor,
    GenerationConfig,
    MusicgenConfig,
    MusicgenDecoderConfig,
    MusicgenForConditionalGeneration,
    MusicgenProcessor,
    T5Config,
    T5TokenizerFast,
    VitsConfig,
    VitsModel,
    VitsTokenizer,
)

from scripts.make_test_models import Builder, CatalogEntry, Size, course_unigram_vocab, save

# What the voices read: lower-case Latin letters (Korean as uroman writes it), apostrophe, hyphen, space.
VITS_CHARACTERS = "abcdefghijklmnopqrstuvwxyz'- "
MUSIC_CODES = 2048  # EnCodec's codebook size; the code after the last is MusicGen's start and padding code


def vits_voice(out_dir: Path, name: str, language: str, is_uroman: bool) -> Path:
    with tempfile.TemporaryDirectory() as scratch:  # VitsTokenizer only loads its vocabulary from a file
        vocab = Path(scratch) / "vocab.json"
        vocab.write_text(json.dumps({token: i for i, token in enumerate(["<pad>", *VITS_CHARACTERS, "<unk>"])}))
        tokenizer = VitsTokenizer(
            str(vocab),
            pad_token="<pad>",
            unk_token="<unk>",
            language=language,
            add_blank=True,
            normalize=True,
            phonemize=False,
            is_uroman=is_uroman,
        )
    config = VitsConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=32,
        flow_size=16,
        spectrogram_bins=33,
        upsample_initial_channel=16,
        upsample_rates=[8, 8, 2, 2],  # 256 samples a frame, as the real voices
        upsample_kernel_sizes=[16, 16, 4, 4],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3, 5]],
        prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1,
        duration_predictor_filter_channels=16,
        depth_separable_num_layers=1,
        sampling_rate=16000,
    )
    return save(out_dir / name, VitsModel(config), tokenizer)


def build_vits_english(out_dir: Path, size: Size) -> Path:
    return vits_voice(out_dir, "vits-eng", "eng", is_uroman=False)


def build_vits_korean(out_dir: Path, size: Size) -> Path:
    return vits_voice(out_dir, "vits-kor", "kor", is_uroman=True)


def build_musicgen(out_dir: Path, size: Size) -> Path:
    backend = Tokenizer(models.Unigram(course_unigram_vocab(["<pad>", "</s>", "<unk>"]), unk_id=2))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    tokenizer = T5TokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0
    )
    text_encoder = T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2)
    audio_encoder = EncodecConfig(
        sampling_rate=32000,
        audio_channels=1,
        num_filters=4,
        hidden_size=16,
        upsampling_ratios=[8, 5, 4, 4],  # 640 samples a frame: 50 frames a second at 32 kHz
        codebook_size=MUSIC_CODES,
        codebook_dim=16,
        num_lstm_layers=1,
        target_bandwidths=[2.2],  # 4 codebooks
        norm_type="weight_norm",
        use_causal_conv=False,
        normalize=False,
        pad_mode="reflect",
        chunk_length_s=None,
        overlap=None,
    )
    decoder = MusicgenDecoderConfig(
        vocab_size=MUSIC_CODES,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=32,
        num_codebooks=4,
        max_position_embeddings=2048,
        pad_token_id=MUSIC_CODES,
        bos_token_id=MUSIC_CODES,
        audio_channels=1,
    )
    config = MusicgenConfig(
        text_encoder=text_encoder.to_dict(), audio_encoder=audio_encoder.to_dict(), decoder=decoder.to_dict()
    )
    model = MusicgenForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=MUSIC_CODES,
        pad_token_id=MUSIC_CODES,
        bos_token_id=MUSIC_CODES,
        do_sample=True,
        guidance_scale=3.0,
        max_length=1500,
    )
    processor = MusicgenProcessor(EncodecFeatureExtractor(feature_size=1, sampling_rate=32000), tokenizer)
    return save(out_dir / "musicgen", model, processor)


BUILDERS: dict[str, Builder] = {
    "vits-eng": build_vits_english,
    "vits-kor": build_vits_korean,
    "musicgen": build_musicgen,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "vits-eng", "MMS-TTS English (test)", "text-to-audio", "Random-weight VITS voice for English.", default=True
    ),
    CatalogEntry(
        "vits-kor",
        "MMS-TTS Korean (test)",
        "text-to-audio",
        "Random-weight VITS voice that reads romanized Korean (is_uroman).",
    ),
    CatalogEntry("musicgen", "MusicGen (test)", "text-to-audio", "Random-weight MusicGen for music prompts."),
)
