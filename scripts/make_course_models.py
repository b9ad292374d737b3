"""The course tabs' random-weight test models (text classification, named entities, extractive QA,
summarization, translation), added to scripts/make_test_models.py's builders and catalog.

`register(host)` is called by make_test_models.py with itself as `host` (it runs both as a script
and as an imported module, so its helpers are reached through the module, not imported by name).
Tokenizers are built offline: WordPiece (BERT, DistilBERT), byte-level BPE (RoBERTa, BART), Unigram
(T5, XLM-R), Metaspace BPE (NLLB) and a trained SentencePiece model (Marian).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    BartTokenizer,
    BertForSequenceClassification,
    BertForTokenClassification,
    DistilBertConfig,
    DistilBertForQuestionAnswering,
    DistilBertForSequenceClassification,
    DistilBertForTokenClassification,
    GenerationConfig,
    M2M100Config,
    M2M100ForConditionalGeneration,
    MarianConfig,
    MarianMTModel,
    MarianTokenizer,
    NllbTokenizer,
    RobertaConfig,
    RobertaForQuestionAnswering,
    RobertaForSequenceClassification,
    RobertaTokenizer,
    T5Config,
    T5ForConditionalGeneration,
    T5Tokenizer,
    XLMRobertaConfig,
    XLMRobertaForSequenceClassification,
    XLMRobertaTokenizer,
)

SENTIMENT_LABELS = ("NEGATIVE", "POSITIVE")
EMOTION_LABELS = ("joy", "anger", "sadness", "surprise")  # a multi-label model: sigmoid scores
NER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
# Names from the course's examples, so they tokenize into whole words.
COURSE_WORDS = ("sylvain", "hugging", "face", "brooklyn", "name", "course", "cours", "est", "produit", "par",
                "waiting", "huggingface", "whole")
GENERATION_CAP = 20  # random weights rarely stop: a short default keeps tests quick

host: ModuleType  # scripts/make_test_models.py, set by register()


def words() -> list[str]:
    return list(dict.fromkeys([*host.WORDS, *COURSE_WORDS]))


def tiny(**extra: Any) -> dict[str, Any]:
    return {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, **extra}


def distilbert(vocab_size: int, **extra: Any) -> DistilBertConfig:
    return DistilBertConfig(vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                            max_position_embeddings=512, **extra)


def wordpiece() -> Any:
    vocab = host.wordpiece_vocab()
    for word in COURSE_WORDS:
        vocab.setdefault(word, len(vocab))
    return host.BertTokenizer(vocab=vocab, model_max_length=512)


def unigram_vocab(specials: list[str]) -> list[tuple[str, float]]:
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
    trainer = trainers.BpeTrainer(vocab_size=1_000_000, min_frequency=0, special_tokens=specials, show_progress=False,
                                  initial_alphabet=list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-"))
    texts = [*words(), *(w.capitalize() for w in words())]
    tokenizer.train_from_iterator(texts, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    return model["vocab"], [tuple(merge) for merge in model["merges"]]


# ---- text classification ------------------------------------------------------------------------


def build_sentiment(out_dir: Path, size: str) -> Path:
    tokenizer = wordpiece()
    model = DistilBertForSequenceClassification(distilbert(len(tokenizer), **host.label_maps(SENTIMENT_LABELS)))
    return host.save(out_dir / "distilbert-sentiment", model, tokenizer)


def build_emotions(out_dir: Path, size: str) -> Path:
    tokenizer = wordpiece()
    config = host.BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512, problem_type="multi_label_classification",
                             **tiny(), **host.label_maps(EMOTION_LABELS))
    return host.save(out_dir / "bert-emotions", BertForSequenceClassification(config), tokenizer)


def build_reranker(out_dir: Path, size: str) -> Path:
    """A bge-reranker-style pair scorer: XLM-R with one output (sigmoid of the pair's score)."""
    tokenizer = XLMRobertaTokenizer(vocab=unigram_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]), model_max_length=512)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=514, num_labels=1, **tiny(),
                              pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                              eos_token_id=tokenizer.eos_token_id, id2label={0: "LABEL_0"}, label2id={"LABEL_0": 0})
    return host.save(out_dir / "xlmr-reranker", XLMRobertaForSequenceClassification(config), tokenizer)


def build_bert_ner(out_dir: Path, size: str) -> Path:
    tokenizer = wordpiece()
    config = host.BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512, **tiny(), **host.label_maps(NER_LABELS))
    return host.save(out_dir / "bert-ner", BertForTokenClassification(config), tokenizer)


def build_electra_ner(out_dir: Path, size: str) -> Path:
    """An ELECTRA token classifier (the Korean NER entry's class)."""
    from transformers import ElectraConfig, ElectraForTokenClassification

    tokenizer = wordpiece()
    config = ElectraConfig(vocab_size=len(tokenizer), embedding_size=32, max_position_embeddings=512, **tiny(),
                           **host.label_maps(NER_LABELS))
    return host.save(out_dir / "electra-ner", ElectraForTokenClassification(config), tokenizer)


def build_distilbert_ner(out_dir: Path, size: str) -> Path:
    tokenizer = wordpiece()
    model = DistilBertForTokenClassification(distilbert(len(tokenizer), **host.label_maps(NER_LABELS)))
    return host.save(out_dir / "distilbert-ner", model, tokenizer)


# ---- extractive question answering --------------------------------------------------------------


def build_distilbert_qa(out_dir: Path, size: str) -> Path:
    tokenizer = wordpiece()
    return host.save(out_dir / "distilbert-qa", DistilBertForQuestionAnswering(distilbert(len(tokenizer))), tokenizer)


def byte_level_tokenizer(cls: type, max_length: int) -> Any:
    vocab, merges = host.gpt2_style_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return cls(vocab=vocab, merges=merges, model_max_length=max_length)


def build_roberta_qa(out_dir: Path, size: str) -> Path:
    """A SQuAD 2.0-style RoBERTa reader (byte-level BPE: offsets differ from WordPiece's)."""
    tokenizer = byte_level_tokenizer(RobertaTokenizer, 512)
    config = RobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=514, **tiny(), pad_token_id=tokenizer.pad_token_id,
                           bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    return host.save(out_dir / "roberta-qa", RobertaForQuestionAnswering(config), tokenizer)


def build_roberta_nli(out_dir: Path, size: str) -> Path:
    """A RoBERTa sequence classifier (roberta-large-mnli's and go_emotions' class) with NLI labels."""
    tokenizer = byte_level_tokenizer(RobertaTokenizer, 512)
    config = RobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=514, **tiny(), pad_token_id=tokenizer.pad_token_id,
                           bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                           **host.label_maps(["CONTRADICTION", "NEUTRAL", "ENTAILMENT"]))
    return host.save(out_dir / "roberta-nli", RobertaForSequenceClassification(config), tokenizer)


# ---- sequence to sequence -----------------------------------------------------------------------


def seq2seq_generation(tokenizer: Any, decoder_start: int, **extra: Any) -> GenerationConfig:
    return GenerationConfig(decoder_start_token_id=decoder_start, bos_token_id=tokenizer.bos_token_id,
                            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                            max_new_tokens=GENERATION_CAP, **extra)


def build_bart(out_dir: Path, size: str) -> Path:
    """BART-CNN's shape in miniature (its positions cap inputs at 128 tokens, to test cutting long texts)."""
    tokenizer = byte_level_tokenizer(BartTokenizer, 128)
    config = BartConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
                        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
                        forced_bos_token_id=tokenizer.bos_token_id)
    model = BartForConditionalGeneration(config)
    model.generation_config = seq2seq_generation(tokenizer, tokenizer.eos_token_id, forced_bos_token_id=tokenizer.bos_token_id)
    return host.save(out_dir / "bart-cnn", model, tokenizer)


def build_t5(out_dir: Path, size: str) -> Path:
    tokenizer = T5Tokenizer(vocab=unigram_vocab(["<pad>", "</s>", "<unk>"]), extra_ids=0, model_max_length=512)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=16, d_ff=64, num_layers=1, num_decoder_layers=1,
                      num_heads=2, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                      decoder_start_token_id=tokenizer.pad_token_id,
                      task_specific_params={"summarization": {"prefix": "summarize: "}})
    model = T5ForConditionalGeneration(config)
    model.generation_config = seq2seq_generation(tokenizer, tokenizer.pad_token_id)
    return host.save(out_dir / "t5", model, tokenizer)


def sentencepiece_model(path: Path) -> Path:
    import sentencepiece

    corpus = [" ".join(words()[i : i + 12]) for i in range(0, len(words()), 12)]
    corpus += [" ".join(w.capitalize() for w in words()[i : i + 12]) for i in range(0, len(words()), 12)]
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_prefix=str(path), vocab_size=len(words()) + 200, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, unk_id=1, bos_id=-1, eos_id=0, pad_id=-1, minloglevel=3,
        num_threads=1,
    )
    return path.with_suffix(".model")


def build_marian(out_dir: Path, size: str) -> Path:
    """A one-pair Marian model named like Helsinki-NLP/opus-mt-fr-en (the pair is read from the name)."""
    with tempfile.TemporaryDirectory() as scratch:
        spm = sentencepiece_model(Path(scratch) / "spm")
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor(model_file=str(spm))
        vocab = {processor.id_to_piece(i): i for i in range(processor.get_piece_size())}
        vocab["<pad>"] = len(vocab)
        vocab_file = Path(scratch) / "vocab.json"
        vocab_file.write_text(json.dumps(vocab))
        tokenizer = MarianTokenizer(source_spm=str(spm), target_spm=str(spm), vocab=str(vocab_file), model_max_length=512)
        pad = tokenizer.pad_token_id
        config = MarianConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                              encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                              max_position_embeddings=512, pad_token_id=pad, eos_token_id=tokenizer.eos_token_id,
                              decoder_start_token_id=pad, forced_eos_token_id=tokenizer.eos_token_id)
        model = MarianMTModel(config)
        model.generation_config = GenerationConfig(decoder_start_token_id=pad, eos_token_id=tokenizer.eos_token_id,
                                                   pad_token_id=pad, max_new_tokens=GENERATION_CAP, bad_words_ids=[[pad]])
        folder = host.save(out_dir / "opus-mt-fr-en", model, tokenizer)
    # Random weights, the real checkpoint's generation settings (4 beams: it cannot stream by default).
    host.apply_published(folder, "Helsinki-NLP/opus-mt-fr-en")
    return folder


def build_nllb(out_dir: Path, size: str) -> Path:
    """NLLB-200's layout: an M2M100 model and the NLLB tokenizer with its 202 language codes."""
    vocab, merges = metaspace_bpe(["<s>", "<pad>", "</s>", "<unk>"])
    tokenizer = NllbTokenizer(vocab=vocab, merges=merges, model_max_length=512)
    config = M2M100Config(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=512,
                          pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                          eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
                          tie_word_embeddings=False)
    model = M2M100ForConditionalGeneration(config)
    # Loud language-code input embeddings (untied from the output head): the forced target-language
    # token then changes what follows, so tests can tell that the target language reached generate().
    codes = tokenizer.convert_tokens_to_ids(list(tokenizer.extra_special_tokens))
    with torch.no_grad():
        model.get_input_embeddings().weight[codes] *= 40
    model.generation_config = seq2seq_generation(tokenizer, tokenizer.eos_token_id)
    return host.save(out_dir / "nllb", model, tokenizer)


BUILDERS = {
    "distilbert-sentiment": build_sentiment,
    "bert-emotions": build_emotions,
    "xlmr-reranker": build_reranker,
    "bert-ner": build_bert_ner,
    "distilbert-ner": build_distilbert_ner,
    "electra-ner": build_electra_ner,
    "distilbert-qa": build_distilbert_qa,
    "roberta-qa": build_roberta_qa,
    "roberta-nli": build_roberta_nli,
    "bart-cnn": build_bart,
    "t5": build_t5,
    "opus-mt-fr-en": build_marian,
    "nllb": build_nllb,
}


def catalog(entry: type) -> dict[str, tuple[Any, ...]]:
    """Catalog entries per tab (`entry` is make_test_models.CatalogEntry)."""
    return {
        "text_classification": (
            entry("distilbert-sentiment", "Sentiment DistilBERT (test)", "text-classification",
                  "Random-weight DistilBERT with NEGATIVE/POSITIVE labels (softmax).", default=True),
            entry("bert-emotions", "Emotions BERT multi-label (test)", "text-classification",
                  "Random-weight BERT, multi-label (sigmoid) with four emotions."),
            entry("xlmr-reranker", "Reranker XLM-R (test)", "text-classification",
                  "Random-weight XLM-R pair scorer with one output, like bge-reranker."),
        ),
        "named_entities": (
            entry("bert-ner", "NER BERT (test)", "token-classification",
                  "Random-weight BERT token classifier with CoNLL labels.", default=True),
            entry("distilbert-ner", "NER DistilBERT (test)", "token-classification",
                  "Random-weight DistilBERT token classifier with CoNLL labels."),
        ),
        "visual_qa": (
            entry("distilbert-qa", "QA DistilBERT (test)", "question-answering",
                  "Random-weight DistilBERT extractive QA.", default=True),
            entry("roberta-qa", "QA RoBERTa (test)", "question-answering",
                  "Random-weight RoBERTa extractive QA (byte-level BPE)."),
        ),
        "summarization": (
            entry("bart-cnn", "BART summarizer (test)", "summarization",
                  "Random-weight BART; reads at most 128 tokens.", default=True),
            entry("t5", "T5 summarizer (test)", "summarization",
                  "Random-weight T5 with the summarize: prefix."),
            entry("llama-chat", "Llama chat (test)", "text-generation",
                  "Random-weight Llama chat model given a fixed summarization prompt."),
        ),
        "translation": (
            entry("opus-mt-fr-en", "Marian fr-en (test)", "translation",
                  "Random-weight Marian model named like opus-mt-fr-en.", default=True),
            entry("nllb", "NLLB many-to-many (test)", "translation",
                  "Random-weight M2M100 model with the NLLB tokenizer and its language codes."),
            entry("llama-chat", "Llama chat (test)", "text-generation",
                  "Random-weight Llama chat model given a fixed translation prompt."),
        ),
    }


def register(module: ModuleType) -> None:
    """Add the course models to make_test_models' BUILDERS and CATALOG (visual_qa gets the QA models)."""
    global host
    host = module
    module.BUILDERS.update(BUILDERS)
    for tab, entries in catalog(module.CatalogEntry).items():
        module.CATALOG[tab] = (*module.CATALOG.get(tab, ()), *entries)
