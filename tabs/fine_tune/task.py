"""Fine-tuning a text classifier: the labelled data and its checks, the stratified split, the metrics
and the evaluation report. Pure functions of data; the training itself is in `training_task.py`.

Data comes from an uploaded CSV / JSONL file (a text column and a label column) or from an example set
the project ships (`example_data/*.jsonl`, CC0). Labels are names taken from the data, sorted; every
check that would otherwise surface deep inside `datasets` or the Trainer (one class, a class with one
example, numbers mixed with names...) is made here first, with a message that says what to fix.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playground.config.catalog import FineTuneSettings
from playground.core.texts import Texts
from playground.media.datasets import Table, pick_column, read_table

TEXTS = Texts.load("fine_tune.task", Path(__file__).with_name("locales"))

EXAMPLE_DIR = Path(__file__).with_name("example_data")
# The shipped example sets: EXAMPLE_DIR/<name>.jsonl, one {"text", "label"} object a line.
EXAMPLE_SETS = ("topics_en", "topics_ko")
# Column names taken as the label column when none is named.
LABEL_COLUMNS = ("label", "labels", "category", "class", "target", "sentiment")
# Rows named in a message: enough to find the problem, short enough to read.
SHOWN_ROWS = 5
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class LabelledData:
    """Texts and their labels (names, as strings), in the file's order."""

    name: str
    texts: list[str]
    labels: list[str]
    text_column: str = "text"
    label_column: str = "label"

    @property
    def label_names(self) -> list[str]:
        """The distinct labels, sorted: label i of the model is label_names[i] (as `datasets` encodes them)."""
        return sorted(set(self.labels))


def read_example(name: str | None) -> LabelledData:
    """One of the shipped example sets."""
    name = (name or EXAMPLE_SETS[0]).strip()
    if name not in EXAMPLE_SETS:
        raise TEXTS.error("unknown_example", name=name, choices=", ".join(EXAMPLE_SETS))
    return read_labelled(EXAMPLE_DIR / f"{name}.jsonl", "text", "label", FineTuneSettings())


def _rows_named(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:SHOWN_ROWS])
    return shown + (", …" if len(numbers) > SHOWN_ROWS else "")


def read_labelled(
    path: str | Path | None, text_column: str | None, label_column: str | None, limits: FineTuneSettings
) -> LabelledData:
    """The texts and labels of a CSV or JSONL file; refuses a file that cannot train a classifier."""
    if path and Path(path).suffix.lower() == ".txt":
        raise TEXTS.error("txt_has_no_labels")
    return labelled_table(read_table(path, limits.max_rows, limits.max_mb), text_column, label_column, limits)


def labelled_table(
    table: Table, text_column: str | None, label_column: str | None, limits: FineTuneSettings
) -> LabelledData:
    """The texts and labels of a table (a file's or a Hub dataset's); refuses one that cannot train a classifier."""
    text = pick_column(table, text_column)
    label = (label_column or "").strip()
    if not label:
        label = next((name for name in LABEL_COLUMNS if name in table.columns and name != text), "")
        if not label:
            raise TEXTS.error("pick_label_column", columns=", ".join(table.columns))
    elif label not in table.columns:
        raise TEXTS.error("no_label_column", column=label, columns=", ".join(table.columns))
    if label == text:
        raise TEXTS.error("same_columns", column=label)
    texts = [row.get(text, "").strip() for row in table.rows]
    labels = [row.get(label, "").strip() for row in table.rows]
    empty_texts = [number for number, value in enumerate(texts, 1) if not value]
    if empty_texts:
        raise TEXTS.error("empty_texts", count=len(empty_texts), column=text, rows=_rows_named(empty_texts))
    missing = [number for number, value in enumerate(labels, 1) if not value]
    if missing:
        raise TEXTS.error("missing_labels", count=len(missing), column=label, rows=_rows_named(missing))
    data = LabelledData(table.name, texts, labels, text, label)
    check_labels(data, limits)
    return data


def check_labels(data: LabelledData, limits: FineTuneSettings) -> None:
    """Refuse labels a classifier cannot learn from: too few rows, too many or too few classes, scores
    instead of classes, numbers mixed with names, or a class too small to be split."""
    counts = Counter(data.labels)
    if len(data.labels) < 4:
        raise TEXTS.error("too_few_rows", count=len(data.labels))
    if len(counts) > limits.max_labels:
        examples = ", ".join(repr(label[:30]) for label, _ in counts.most_common(3))
        raise TEXTS.error(
            "too_many_labels", count=len(counts), limit=limits.max_labels, column=data.label_column, examples=examples
        )
    if len(counts) == 1:
        raise TEXTS.error("one_class", label=data.labels[0], column=data.label_column)
    numbers = [label for label in counts if _NUMBER.fullmatch(label)]
    names = [label for label in counts if not _NUMBER.fullmatch(label)]
    if numbers and names:
        raise TEXTS.error(
            "mixed_labels", numbers=", ".join(sorted(numbers)[:SHOWN_ROWS]), names=", ".join(sorted(names)[:SHOWN_ROWS])
        )
    if numbers and not all(_INTEGER.fullmatch(label) for label in numbers):
        scores = ", ".join(label for label in numbers if not _INTEGER.fullmatch(label))
        raise TEXTS.error("scores_not_classes", examples=scores[:80])
    rare = sorted(label for label, count in counts.items() if count < 2)
    if rare:
        raise TEXTS.error("rare_labels", labels=", ".join(repr(label) for label in rare[:SHOWN_ROWS]), count=len(rare))


def split_sizes(rows: int, validation_share: float) -> tuple[int, int]:
    """(train rows, validation rows) as `datasets`' train_test_split makes them (validation rounded up)."""
    validation = math.ceil(validation_share * rows)
    return rows - validation, validation


def check_split(data: LabelledData, validation_share: float) -> None:
    """A stratified split puts every label on both sides: each side needs at least one row per label."""
    train, validation = split_sizes(len(data.labels), validation_share)
    classes = len(data.label_names)
    if validation < classes or train < classes:
        raise TEXTS.error(
            "split_too_small",
            rows=len(data.labels),
            classes=classes,
            validation=validation,
            train=train,
            share=round(validation_share * 100),
        )


def split(data: LabelledData, validation_share: float, seed: int) -> Any:
    """The seeded, stratified train / validation split (a `datasets.DatasetDict`, "train" and "test"),
    the label encoded as a ClassLabel: what the "show code" scripts do to the same rows."""
    from datasets import Dataset

    check_split(data, validation_share)
    dataset = Dataset.from_dict({"text": data.texts, "label": data.labels}).class_encode_column("label")
    return dataset.train_test_split(test_size=validation_share, stratify_by_column="label", seed=seed)


# ---- metrics ----


@dataclass(frozen=True)
class Scores:
    """A classifier's results on labelled rows."""

    accuracy: float
    f1_macro: float
    # Per label, in label order.
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]
    # confusion[true][predicted]: rows counted.
    confusion: list[list[int]]


def scores(predictions: Any, references: Any, label_count: int) -> Scores:
    """Accuracy, macro F1 and per-label precision, recall and F1 (0 where undefined, as scikit-learn)."""
    predicted = np.asarray(predictions, dtype=int)
    true = np.asarray(references, dtype=int)
    confusion = np.zeros((label_count, label_count), dtype=int)
    np.add.at(confusion, (true, predicted), 1)
    hits = np.diag(confusion).astype(float)
    predicted_counts = confusion.sum(axis=0)
    true_counts = confusion.sum(axis=1)
    precision = np.divide(hits, predicted_counts, out=np.zeros(label_count), where=predicted_counts > 0)
    recall = np.divide(hits, true_counts, out=np.zeros(label_count), where=true_counts > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(label_count), where=both > 0)
    return Scores(
        accuracy=float(hits.sum() / max(len(true), 1)),
        f1_macro=float(f1.mean()),
        precision=precision.tolist(),
        recall=recall.tolist(),
        f1=f1.tolist(),
        support=true_counts.tolist(),
        confusion=confusion.tolist(),
    )


def compute_metrics(eval_prediction: Any) -> dict[str, float]:
    """The Trainer's `compute_metrics`: accuracy and macro F1 of the validation rows."""
    logits = eval_prediction.predictions
    logits = logits[0] if isinstance(logits, tuple) else logits
    result = scores(np.argmax(logits, axis=-1), eval_prediction.label_ids, logits.shape[-1])
    return {"accuracy": result.accuracy, "f1_macro": result.f1_macro}


# ---- the report ----


def report_markdown(result: Scores, label_names: list[str], lang: str) -> str:
    """Accuracy, macro F1 and a table of each label's precision, recall, F1 and rows."""
    lines = [
        TEXTS.get("report_heading", lang, accuracy=result.accuracy, f1=result.f1_macro),
        "",
        TEXTS.get("report_table_header", lang),
        "|---|---:|---:|---:|---:|",
    ]
    for index, name in enumerate(label_names):
        cell = name.replace("|", "\\|")
        lines.append(
            f"| {cell} | {result.precision[index]:.3f} | {result.recall[index]:.3f} | "
            f"{result.f1[index]:.3f} | {result.support[index]} |"
        )
    return "\n".join(lines)


def misclassified_rows(
    texts: list[str], true: list[int], probabilities: Any, label_names: list[str], limit: int = 20
) -> list[list[Any]]:
    """Validation rows the model got wrong, most confident mistakes first: text, label, prediction, its score."""
    rows = []
    for text, label, scores_row in zip(texts, true, np.asarray(probabilities)):
        predicted = int(np.argmax(scores_row))
        if predicted != label:
            rows.append([text, label_names[label], label_names[predicted], round(float(scores_row[predicted]), 4)])
    rows.sort(key=lambda row: -row[3])
    return rows[:limit]


def confusion_picture(
    confusion: list[list[int]], label_names: list[str], title: str, axes_names: tuple[str, str]
) -> Any:
    """The confusion matrix as a picture (PIL): true labels down, predictions across, counts written in."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from PIL import Image

    matrix = np.asarray(confusion)
    size = min(12.0, max(3.5, 0.6 * len(label_names) + 2))
    installed = {font.name for font in font_manager.fontManager.ttflist}
    # Korean labels need a Hangul font where one is installed (matplotlib falls back glyph by glyph).
    families = ["DejaVu Sans", *(name for name in ("NanumGothic", "Noto Sans CJK KR", "UnDotum") if name in installed)]
    with plt.rc_context({"font.family": families}):
        figure, axes = plt.subplots(figsize=(size, size), dpi=90)
        axes.imshow(matrix, cmap="Blues")
        ticks = range(len(label_names))
        shown = [name if len(name) <= 16 else name[:15] + "…" for name in label_names]
        axes.set_xticks(ticks, shown, rotation=45, ha="right", fontsize=8)
        axes.set_yticks(ticks, shown, fontsize=8)
        axes.set_ylabel(axes_names[0])
        axes.set_xlabel(axes_names[1])
        axes.set_title(title, fontsize=10)
        if len(label_names) <= 20:
            high = matrix.max() or 1
            for row in ticks:
                for column in ticks:
                    colour = "white" if matrix[row, column] > high / 2 else "black"
                    axes.text(column, row, str(matrix[row, column]), ha="center", va="center", color=colour, fontsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
