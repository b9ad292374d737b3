"""Fine-tuning a token classifier (named entities): tagged sentences and their checks, the labels of
sub-word tokens, entity-level scores and the report. Pure functions of data; the training is in
`training_task.py`.

Data is a JSONL file, one sentence a line as {"tokens": [...], "tags": [...]} (or "ner_tags"), a
CoNLL-style file (`.conll`, `.txt`, `.tsv`): a token and its tag on each line (the first and the last
column), a blank line between sentences, or a Hub dataset with a list of words and a list of tags per row
(CoNLL-2003's `tokens` and `ner_tags`, the tags stored as class numbers with names). Tags are BIO names
(`O`, `B-PER`, `I-PER`...).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playground.config.catalog import FineTuneSettings
from playground.media.datasets import Table
from tabs.fine_tune.task import EXAMPLE_DIR, SHOWN_ROWS, TEXTS, Scores, _rows_named, scores

# The shipped tagged example sets: EXAMPLE_DIR/<name>.jsonl (CC0; people, places and organisations).
TAGGED_EXAMPLE_SETS = ("entities_en", "entities_ko")
CONLL_KINDS = (".conll", ".txt", ".tsv")
TAG_KEYS = ("tags", "ner_tags", "labels")
# Column names taken as a table's words when none is named.
TOKEN_KEYS = ("tokens", "words")
# CoNLL's document separator, kept as a one-word sentence by datasets converted from CoNLL files.
DOCSTART = "-DOCSTART-"
OUTSIDE = "O"
# Label of the sub-word tokens that do not start a word, and of special tokens: the loss skips them.
IGNORED = -100


@dataclass(frozen=True)
class TaggedData:
    """Sentences as words, each word with its BIO tag."""

    name: str
    tokens: list[list[str]]
    tags: list[list[str]]

    @property
    def tag_names(self) -> list[str]:
        """The distinct tags, O first, then by entity type with B before I: tag i of the model is tag_names[i]."""
        found = {tag for sentence in self.tags for tag in sentence}
        return [OUTSIDE, *sorted(found - {OUTSIDE}, key=lambda tag: (tag[2:], tag[0]))]

    @property
    def entity_types(self) -> list[str]:
        return sorted({tag[2:] for tag in self.tag_names if tag != OUTSIDE})


def _decoded(path: Path, limits: FineTuneSettings) -> str:
    size = path.stat().st_size
    if size > limits.max_mb * 2**20:
        raise TEXTS.error("tagged_too_big", name=path.name, size=size / 2**20, limit=limits.max_mb)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TEXTS.error("tagged_not_utf8", name=path.name) from None
    if "\x00" in text:
        raise TEXTS.error("tagged_not_utf8", name=path.name)
    return text


def _jsonl_sentences(name: str, text: str) -> tuple[list[list[str]], list[list[str]]]:
    tokens, tags = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise TEXTS.error("tagged_bad_json", name=name, line=number) from None
        key = next((key for key in TAG_KEYS if isinstance(row, dict) and key in row), None)
        if key is None or not isinstance(row.get("tokens"), list) or not isinstance(row[key], list):
            raise TEXTS.error("tagged_bad_row", name=name, line=number)
        tokens.append([str(token) for token in row["tokens"]])
        tags.append([str(tag) for tag in row[key]])
    return tokens, tags


def _conll_sentences(text: str) -> tuple[list[list[str]], list[list[str]]]:
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    labels: list[str] = []
    for line in [*text.splitlines(), ""]:
        columns = line.split()
        if columns and columns[0] == "-DOCSTART-":
            continue
        if not columns:
            if words:
                tokens.append(words)
                tags.append(labels)
                words, labels = [], []
            continue
        words.append(columns[0])
        labels.append(columns[-1] if len(columns) > 1 else "")
    return tokens, tags


def read_tagged(path: str | Path | None, limits: FineTuneSettings) -> TaggedData:
    """The tagged sentences of a JSONL or CoNLL-style file; refuses a file that cannot train a tagger."""
    if not path:
        raise TEXTS.error("tagged_no_file")
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".jsonl", *CONLL_KINDS):
        raise TEXTS.error("tagged_wrong_kind", name=path.name)
    text = _decoded(path, limits)
    tokens, tags = _jsonl_sentences(path.name, text) if kind == ".jsonl" else _conll_sentences(text)
    data = TaggedData(path.name, tokens, tags)
    check_tagged(data, limits)
    return data


def tagged_table(
    table: Table, tokens_column: str | None, tags_column: str | None, limits: FineTuneSettings
) -> TaggedData:
    """The tagged sentences of a table whose rows hold a list of words and a list of tags (a Hub dataset's,
    the tags as names); refuses one that cannot train a tagger. CoNLL's document separators are skipped."""

    def column(named: str | None, usual: tuple[str, ...], key: str) -> str:
        columns = ", ".join(table.columns)
        name = (named or "").strip()
        if name and name not in table.columns:
            raise TEXTS.error("no_label_column", column=name, columns=columns)
        name = name or next((name for name in usual if name in table.columns), "")
        if not name:
            raise TEXTS.error(key, columns=columns)
        return name

    words_column = column(tokens_column, TOKEN_KEYS, "tagged_no_tokens_column")
    tag_column = column(tags_column, TAG_KEYS, "tagged_no_tags_column")
    tokens, tags = [], []
    for number, row in enumerate(table.rows, 1):
        words, labels = _list_cell(row.get(words_column, "")), _list_cell(row.get(tag_column, ""))
        if words is None or labels is None:
            raise TEXTS.error("tagged_not_lists", name=table.name, row=number, tokens=words_column, tags=tag_column)
        if words == [DOCSTART]:
            continue
        tokens.append(["" if word is None else str(word) for word in words])
        tags.append(["" if tag is None else str(tag) for tag in labels])
    data = TaggedData(table.name, tokens, tags)
    check_tagged(data, limits)
    return data


def _list_cell(cell: str) -> list[Any] | None:
    """A table cell holding a JSON list (how a Table keeps a list value); None for anything else."""
    try:
        value = json.loads(cell)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def read_tagged_example(name: str | None) -> TaggedData:
    """One of the shipped tagged example sets."""
    name = (name or TAGGED_EXAMPLE_SETS[0]).strip()
    if name not in TAGGED_EXAMPLE_SETS:
        raise TEXTS.error("unknown_example", name=name, choices=", ".join(TAGGED_EXAMPLE_SETS))
    return read_tagged(EXAMPLE_DIR / f"{name}.jsonl", FineTuneSettings())


def check_tagged(data: TaggedData, limits: FineTuneSettings) -> None:
    """Refuse sentences a tagger cannot learn from: too few or too many, tags that do not match their
    tokens or are not BIO names, no entity at all, or too many entity types."""
    if len(data.tokens) > limits.max_rows:
        raise TEXTS.error("tagged_too_many", count=len(data.tokens), limit=limits.max_rows)
    if len(data.tokens) < 4:
        raise TEXTS.error("tagged_too_few", count=len(data.tokens))
    uneven = [
        n for n, (words, tags) in enumerate(zip(data.tokens, data.tags), 1) if len(words) != len(tags) or not words
    ]
    if uneven:
        raise TEXTS.error("tagged_uneven", count=len(uneven), rows=_rows_named(uneven))
    missing = [n for n, tags in enumerate(data.tags, 1) if any(not tag for tag in tags)]
    if missing:
        raise TEXTS.error("tagged_missing", count=len(missing), rows=_rows_named(missing))
    counts = Counter(tag for tags in data.tags for tag in tags)
    bad = sorted(tag for tag in counts if tag != OUTSIDE and not (tag[:2] in ("B-", "I-") and len(tag) > 2))
    if bad:
        raise TEXTS.error("tagged_not_bio", tags=", ".join(repr(tag) for tag in bad[:SHOWN_ROWS]))
    if not data.entity_types:
        raise TEXTS.error("tagged_no_entities")
    if len(data.tag_names) > limits.max_labels:
        raise TEXTS.error("tagged_too_many_tags", count=len(data.tag_names), limit=limits.max_labels)


def split_tagged(data: TaggedData, validation_share: float, seed: int) -> Any:
    """The seeded train / validation split of the sentences (a `datasets.DatasetDict`, "train" and "test"),
    tags as numbers (`tag_names` order)."""
    from datasets import Dataset

    names = data.tag_names
    index = {name: number for number, name in enumerate(names)}
    dataset = Dataset.from_dict({"tokens": data.tokens, "tags": [[index[tag] for tag in tags] for tags in data.tags]})
    return dataset.train_test_split(test_size=validation_share, seed=seed)


def aligned_labels(word_ids: list[int | None], tags: list[int]) -> list[int]:
    """Each sub-word token's label: the tag of the word it starts; IGNORED for the rest of a word's
    pieces and for special tokens, so the loss and the scores count each word once."""
    labels, previous = [], None
    for word in word_ids:
        labels.append(IGNORED if word is None or word == previous else tags[word])
        previous = word
    return labels


def tokenize_tagged(tokenizer: Any, batch: dict[str, Any], max_length: int) -> Any:
    """A batch of tagged sentences as the model's inputs with aligned labels (`datasets.map`)."""
    encoded = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_length)
    encoded["labels"] = [aligned_labels(encoded.word_ids(number), tags) for number, tags in enumerate(batch["tags"])]
    return encoded


# ---- entity scores ----


def entity_spans(tags: list[str]) -> set[tuple[str, int, int]]:
    """The entities of a tag sequence as (type, first word, last word): a B- starts one, an I- of the
    same type continues it, an I- after anything else starts one (as conlleval reads it)."""
    spans = set()
    kind, start = None, 0
    for position, tag in enumerate([*tags, OUTSIDE]):
        continues = tag.startswith("I-") and tag[2:] == kind
        if kind is not None and not continues:
            spans.add((kind, start, position - 1))
            kind = None
        if tag != OUTSIDE and not continues:
            kind, start = tag[2:], position
    return spans


@dataclass(frozen=True)
class TaggedScores:
    """A tagger's results: entity-level precision, recall and F1 per type, and the word-level tag scores
    (accuracy and the tag confusion matrix)."""

    entity: Scores
    words: Scores


def tagged_scores(
    predicted: list[list[str]], true: list[list[str]], types: list[str], tag_names: list[str]
) -> TaggedScores:
    """Entity-level scores per type (an entity counts when its type and both ends match) and word-level ones."""
    found = {kind: 0 for kind in types}
    expected = {kind: 0 for kind in types}
    hits = {kind: 0 for kind in types}
    for sentence_predicted, sentence_true in zip(predicted, true):
        guessed, real = entity_spans(sentence_predicted), entity_spans(sentence_true)
        for kind, *_ in guessed:
            found[kind] = found.get(kind, 0) + 1  # a type only predicted still counts against precision
        for kind, *_ in real:
            expected[kind] += 1
        for kind, *_ in guessed & real:
            hits[kind] += 1
    precision = [hits[kind] / found[kind] if found.get(kind) else 0.0 for kind in types]
    recall = [hits[kind] / expected[kind] if expected[kind] else 0.0 for kind in types]
    f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall)]
    index = {name: number for number, name in enumerate(tag_names)}
    flat_true = [index[tag] for sentence in true for tag in sentence]
    flat_predicted = [index[tag] for sentence in predicted for tag in sentence]
    words = scores(flat_predicted, flat_true, len(tag_names))
    entity = Scores(
        accuracy=words.accuracy,
        f1_macro=float(np.mean(f1)) if f1 else 0.0,
        precision=precision,
        recall=recall,
        f1=f1,
        support=[expected[kind] for kind in types],
        confusion=words.confusion,
    )
    return TaggedScores(entity=entity, words=words)


def word_tags(logits: Any, labels: Any, tag_names: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """Predicted and true tags of each sentence's words (the sub-word tokens that start a word)."""
    predicted_ids = np.argmax(logits, axis=-1)
    predicted, true = [], []
    for sentence_predicted, sentence_labels in zip(predicted_ids, labels):
        keep = sentence_labels != IGNORED
        predicted.append([tag_names[i] for i in sentence_predicted[keep]])
        true.append([tag_names[i] for i in sentence_labels[keep]])
    return predicted, true


def tagged_metrics(tag_names: list[str]) -> Any:
    """The Trainer's `compute_metrics` for a tagger: word accuracy and macro F1 of the entity types."""
    types = sorted({tag[2:] for tag in tag_names if tag != OUTSIDE})

    def compute_metrics(eval_prediction: Any) -> dict[str, float]:
        logits = eval_prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        predicted, true = word_tags(logits, eval_prediction.label_ids, tag_names)
        result = tagged_scores(predicted, true, types, tag_names).entity
        return {"accuracy": result.accuracy, "f1_macro": result.f1_macro}

    return compute_metrics


def wrong_sentences(
    tokens: list[list[str]], predicted: list[list[str]], true: list[list[str]], limit: int = 20
) -> list[list[Any]]:
    """Validation sentences with a wrong tag: the sentence, its true entities, the predicted ones, and how
    many words were tagged wrong (most first)."""

    def shown(words: list[str], tags: list[str]) -> str:
        spans = sorted(entity_spans(tags), key=lambda span: span[1])
        return "; ".join(f"{' '.join(words[start : end + 1])} ({kind})" for kind, start, end in spans) or "–"

    rows = []
    # Truncated sentences have fewer predicted tags than words: only the tagged words are compared.
    for words, guessed, real in zip(tokens, predicted, true):
        errors = sum(a != b for a, b in zip(guessed, real))
        if errors:
            rows.append([" ".join(words), shown(words, real), shown(words, guessed), errors])
    rows.sort(key=lambda row: -row[3])
    return rows[:limit]


def tagged_report_markdown(result: TaggedScores, types: list[str], lang: str) -> str:
    """Word accuracy, entity macro F1 and a table of each entity type's precision, recall, F1 and entities."""
    entity = result.entity
    lines = [
        TEXTS.get("tagged_report_heading", lang, accuracy=entity.accuracy, f1=entity.f1_macro),
        "",
        TEXTS.get("tagged_report_table_header", lang),
        "|---|---:|---:|---:|---:|",
    ]
    for index, kind in enumerate(types):
        lines.append(
            f"| {kind.replace('|', '/')} | {entity.precision[index]:.3f} | {entity.recall[index]:.3f} | "
            f"{entity.f1[index]:.3f} | {entity.support[index]} |"
        )
    return "\n".join(lines)
