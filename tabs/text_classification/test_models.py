"""The text classification tab's random-weight test models: a sentiment DistilBERT (softmax), a multi-label
emotions BERT (sigmoid), an XLM-R pair scorer like bge-reranker, and a RoBERTa NLI classifier (the
shipped catalogs' roberta-large-mnli and go_emotions class).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DistilBertForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
    RobertaTokenizer,
    XLMRobertaConfig,
    XLMRobertaForSequenceClassification,
    XLMRobertaTokenizer,
)

from scripts.make_test_models import (
    Builder,
    CatalogEntry,
    Size,
    byte_level_tokenizer,
    course_unigram_vocab,
    distilbert,
    label_maps,
    save,
    tiny_encoder,
    wordpiece,
)

SENTIMENT_LABELS = ("NEGATIVE", "POSITIVE")
EMOTION_LABELS = ("joy", "anger", "sadness", "surprise")  # a multi-label model: sigmoid scores


def build_sentiment(out_dir: Path, size: Size) -> Path:
    tokenizer = wordpiece()
    model = DistilBertForSequenceClassification(distilbert(len(tokenizer), **label_maps(SENTIMENT_LABELS)))
    return save(out_dir / "distilbert-sentiment", model, tokenizer)


def build_emotions(out_dir: Path, size: Size) -> Path:
    tokenizer = wordpiece()
    config = BertConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=512,
        problem_type="multi_label_classification",
        **tiny_encoder(),
        **label_maps(EMOTION_LABELS),
    )
    return save(out_dir / "bert-emotions", BertForSequenceClassification(config), tokenizer)


def build_reranker(out_dir: Path, size: Size) -> Path:
    """A bge-reranker-style pair scorer: XLM-R with one output (sigmoid of the pair's score)."""
    tokenizer = XLMRobertaTokenizer(
        vocab=course_unigram_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]), model_max_length=512
    )
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=514,
        num_labels=1,
        **tiny_encoder(),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        id2label={0: "LABEL_0"},
        label2id={"LABEL_0": 0},
    )
    return save(out_dir / "xlmr-reranker", XLMRobertaForSequenceClassification(config), tokenizer)


def build_roberta_nli(out_dir: Path, size: Size) -> Path:
    """A RoBERTa sequence classifier (roberta-large-mnli's and go_emotions' class) with NLI labels."""
    tokenizer = byte_level_tokenizer(RobertaTokenizer, 512)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=514,
        **tiny_encoder(),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **label_maps(["CONTRADICTION", "NEUTRAL", "ENTAILMENT"]),
    )
    return save(out_dir / "roberta-nli", RobertaForSequenceClassification(config), tokenizer)


BUILDERS: dict[str, Builder] = {
    "distilbert-sentiment": build_sentiment,
    "bert-emotions": build_emotions,
    "xlmr-reranker": build_reranker,
    "roberta-nli": build_roberta_nli,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "distilbert-sentiment",
        "Sentiment DistilBERT (test)",
        "text-classification",
        "Random-weight DistilBERT with NEGATIVE/POSITIVE labels (softmax).",
        default=True,
    ),
    CatalogEntry(
        "bert-emotions",
        "Emotions BERT multi-label (test)",
        "text-classification",
        "Random-weight BERT, multi-label (sigmoid) with four emotions.",
    ),
    CatalogEntry(
        "xlmr-reranker",
        "Reranker XLM-R (test)",
        "text-classification",
        "Random-weight XLM-R pair scorer with one output, like bge-reranker.",
    ),
)
