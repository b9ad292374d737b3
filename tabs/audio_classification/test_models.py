"""The audio classification tab's random-weight test models: an Audio Spectrogram Transformer with AudioSet
labels, a Wav2Vec2 keyword spotter and a CLAP model for zero-shot labels.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).

The settings that change what the pipelines do are the real checkpoints', read from their files:
- MIT/ast-finetuned-audioset-10-10-0.4593 (config.json, preprocessor_config.json): 16 kHz, 128 mel
  bins, max_length 1024 frames (10.24 s), the AudioSet mean -4.2677393 and std 4.5689974; ten of its
  527 labels, spelled as its id2label spells them.
- superb/wav2vec2-base-superb-ks (config.json): Wav2Vec2ForSequenceClassification over the weighted
  sum of its layers, the twelve Speech Commands labels of SUPERB's keyword-spotting task; 16 kHz.
- laion/clap-htsat-unfused (preprocessor_config.json): 48 kHz, 64 mel bins, 10 s windows
  (nb_max_samples 480000), "repeatpad" padding and "rand_trunc" truncation; a RoBERTa tokenizer.
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    ASTConfig,
    ASTFeatureExtractor,
    ASTForAudioClassification,
    ClapAudioConfig,
    ClapConfig,
    ClapFeatureExtractor,
    ClapModel,
    ClapProcessor,
    ClapTextConfig,
    RobertaTokenizer,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForSequenceClassification,
)

from scripts.make_test_models import Builder, CatalogEntry, Size, gpt2_style_bpe, label_maps, save, tiny_encoder

AUDIOSET_LABELS = (
    "Speech",
    "Music",
    "Silence",
    "Sine wave",
    "White noise",
    "Dog",
    "Bark",
    "Bird",
    "Car",
    "Applause",
)
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "_silence_", "_unknown_")


def build_ast(out_dir: Path, size: Size) -> Path:
    config = ASTConfig(
        **tiny_encoder(),
        max_length=1024,
        num_mel_bins=128,
        **label_maps(AUDIOSET_LABELS),
    )
    extractor = ASTFeatureExtractor(
        sampling_rate=16000, num_mel_bins=128, max_length=1024, mean=-4.2677393, std=4.5689974, do_normalize=True
    )
    return save(out_dir / "ast-audioset", ASTForAudioClassification(config), extractor)


def build_keyword_spotter(out_dir: Path, size: Size) -> Path:
    config = Wav2Vec2Config(
        **tiny_encoder(),
        conv_dim=(32,) * 7,  # the real kernels and strides (x320 downsampling), narrower
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        use_weighted_layer_sum=True,
        classifier_proj_size=16,
        **label_maps(KEYWORDS),
    )
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True)
    return save(out_dir / "wav2vec2-keywords", Wav2Vec2ForSequenceClassification(config), extractor)


def build_clap(out_dir: Path, size: Size) -> Path:
    vocab, merges = gpt2_style_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=512)
    text = ClapTextConfig(
        vocab_size=len(tokenizer),
        **tiny_encoder(),
        projection_hidden_size=32,
        max_position_embeddings=514,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    # HTSAT's real layout (a 256 x 256 spectrogram image of 64 mel bins, windows of 8 patches), thin.
    audio = ClapAudioConfig(
        num_mel_bins=64,
        spec_size=256,
        window_size=8,
        patch_size=4,
        patch_stride=[4, 4],
        patch_embeds_hidden_size=16,
        hidden_size=128,  # patch_embeds_hidden_size doubled at each of the 4 stages
        depths=[1, 1, 1, 1],
        num_attention_heads=[2, 2, 2, 2],
        projection_hidden_size=32,
        enable_fusion=False,
    )
    config = ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(), projection_dim=32)
    extractor = ClapFeatureExtractor(
        feature_size=64,
        sampling_rate=48000,
        hop_length=480,
        max_length_s=10,
        fft_window_size=1024,
        frequency_min=50,
        frequency_max=14000,
        padding="repeatpad",
        truncation="rand_trunc",
    )
    return save(out_dir / "clap", ClapModel(config), ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer))


BUILDERS: dict[str, Builder] = {
    "ast-audioset": build_ast,
    "wav2vec2-keywords": build_keyword_spotter,
    "clap": build_clap,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "ast-audioset",
        "AST AudioSet (test)",
        "audio-classification",
        "Random-weight Audio Spectrogram Transformer with ten AudioSet labels.",
        default=True,
    ),
    CatalogEntry(
        "wav2vec2-keywords",
        "Wav2Vec2 keywords (test)",
        "audio-classification",
        "Random-weight Wav2Vec2 keyword spotter with the twelve Speech Commands labels.",
    ),
    CatalogEntry(
        "clap",
        "CLAP (test)",
        "zero-shot-audio-classification",
        "Random-weight CLAP for labels you type.",
        default=True,
    ),
)
