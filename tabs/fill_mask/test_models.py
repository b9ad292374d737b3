"""The fill-mask tab's random-weight test models: masked LMs with each mask spelling ([MASK], <mask>),
and the other architectures the shipped catalogs list (DistilBERT, ALBERT, XLM-R).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import AddedToken
from transformers import (
    AlbertConfig,
    AlbertForMaskedLM,
    AlbertTokenizer,
    BertForMaskedLM,
    DistilBertConfig,
    DistilBertForMaskedLM,
    DistilBertTokenizer,
    RobertaConfig,
    RobertaForMaskedLM,
    RobertaTokenizer,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaTokenizer,
)

from scripts.make_test_models import (
    Builder,
    CatalogEntry,
    Size,
    bert_config,
    bert_size_tokenizer,
    gpt2_style_bpe,
    save,
    tiny_encoder,
    unigram_vocab,
    wordpiece_vocab,
)


def build_bert_mlm(out_dir: Path, size: Size) -> Path:
    tokenizer = bert_size_tokenizer(size)
    model = BertForMaskedLM(bert_config(size, len(tokenizer)))
    return save(out_dir / "bert-mlm", model, tokenizer)


def build_roberta_mlm(out_dir: Path, size: Size) -> Path:
    vocab, merges = gpt2_style_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    # lstrip: "a <mask>." must not leave a stray "Ġ" token before the mask (as in roberta-base).
    mask = AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges, mask_token=mask, model_max_length=512)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,  # RoBERTa positions start at pad_token_id + 1
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return save(out_dir / "roberta-mlm", RobertaForMaskedLM(config), tokenizer)


def build_distilbert_mlm(out_dir: Path, size: Size) -> Path:
    tokenizer = DistilBertTokenizer(vocab=wordpiece_vocab(), model_max_length=512)
    config = DistilBertConfig(vocab_size=len(tokenizer), dim=32, n_layers=2, n_heads=2, hidden_dim=64)
    return save(out_dir / "distilbert-mlm", DistilBertForMaskedLM(config), tokenizer)


def build_albert_mlm(out_dir: Path, size: Size) -> Path:
    tokenizer = AlbertTokenizer(
        vocab=unigram_vocab(["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]), model_max_length=512
    )
    config = AlbertConfig(
        vocab_size=len(tokenizer),
        embedding_size=16,
        **tiny_encoder(),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    return save(out_dir / "albert-mlm", AlbertForMaskedLM(config), tokenizer)


def build_xlm_roberta_mlm(out_dir: Path, size: Size) -> Path:
    tokenizer = XLMRobertaTokenizer(
        vocab=unigram_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]), model_max_length=512
    )
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        **tiny_encoder(),
        max_position_embeddings=514,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return save(out_dir / "xlm-roberta-mlm", XLMRobertaForMaskedLM(config), tokenizer)


BUILDERS: dict[str, Builder] = {
    "bert-mlm": build_bert_mlm,
    "roberta-mlm": build_roberta_mlm,
    # Architectures only the shipped catalogs use (tests/test_shipped_catalogs.py loads each entry).
    "distilbert-mlm": build_distilbert_mlm,
    "albert-mlm": build_albert_mlm,
    "xlm-roberta-mlm": build_xlm_roberta_mlm,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("bert-mlm", "BERT MLM (test)", "fill-mask", "Random-weight BERT masked LM ([MASK]).", default=True),
    CatalogEntry("roberta-mlm", "RoBERTa MLM (test)", "fill-mask", "Random-weight RoBERTa masked LM (<mask>)."),
    CatalogEntry(
        "llama-base",
        "Not a masked LM (test)",
        "fill-mask",
        "A causal LM listed under fill-mask, to exercise the error path.",
    ),
)
