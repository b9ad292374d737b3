"""The named-entities tab's random-weight test models: BERT, DistilBERT and ELECTRA token classifiers with
CoNLL labels.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from transformers import BertConfig, BertForTokenClassification, DistilBertForTokenClassification

from scripts.make_test_models import (
    Builder,
    CatalogEntry,
    Size,
    distilbert,
    label_maps,
    save,
    tiny_encoder,
    wordpiece,
)

NER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


def build_bert_ner(out_dir: Path, size: Size) -> Path:
    tokenizer = wordpiece()
    config = BertConfig(
        vocab_size=len(tokenizer), max_position_embeddings=512, **tiny_encoder(), **label_maps(NER_LABELS)
    )
    return save(out_dir / "bert-ner", BertForTokenClassification(config), tokenizer)


def build_distilbert_ner(out_dir: Path, size: Size) -> Path:
    tokenizer = wordpiece()
    model = DistilBertForTokenClassification(distilbert(len(tokenizer), **label_maps(NER_LABELS)))
    return save(out_dir / "distilbert-ner", model, tokenizer)


def build_electra_ner(out_dir: Path, size: Size) -> Path:
    """An ELECTRA token classifier (the Korean NER entry's class)."""
    from transformers import ElectraConfig, ElectraForTokenClassification

    tokenizer = wordpiece()
    config = ElectraConfig(
        vocab_size=len(tokenizer),
        embedding_size=32,
        max_position_embeddings=512,
        **tiny_encoder(),
        **label_maps(NER_LABELS),
    )
    return save(out_dir / "electra-ner", ElectraForTokenClassification(config), tokenizer)


BUILDERS: dict[str, Builder] = {
    "bert-ner": build_bert_ner,
    "distilbert-ner": build_distilbert_ner,
    "electra-ner": build_electra_ner,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "bert-ner",
        "NER BERT (test)",
        "token-classification",
        "Random-weight BERT token classifier with CoNLL labels.",
        default=True,
    ),
    CatalogEntry(
        "distilbert-ner",
        "NER DistilBERT (test)",
        "token-classification",
        "Random-weight DistilBERT token classifier with CoNLL labels.",
    ),
)
