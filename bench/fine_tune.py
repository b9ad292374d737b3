"""Training speed of the fine-tune tab against a bare `Trainer` on the same data, model and settings.

    python -m bench.run --only fine_tune          # a section of the benchmark (DistilBERT base size)
    .venv/bin/python bench/fine_tune.py [--size tiny|real] [--rounds 3] [--epochs 3] [--example topics_en]

Writes a random-weight DistilBERT (tiny: the test model's shape; real: DistilBERT base's shape, 66M
parameters, with the test tokenizer), then in alternating rounds trains it on a shipped example set
with the tab's `TrainingJob` (its own thread, the live callback, evaluations and checkpoints as the
tab makes them, then the evaluation, the report's predictions and saving) and with a bare `Trainer`
given the same `TrainingArguments` and no callback, each first in every other round. It reports the training steps per second of each
(the time of `trainer.train()` only), their ratio round by round (target: the tab at least 0.95 of
bare), and the tab's wall time for the whole run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.95


def write_model(folder: Path, size: str) -> Path:
    from transformers import DistilBertConfig, DistilBertForMaskedLM

    from scripts.make_test_models import distilbert, save, wordpiece

    tokenizer = wordpiece()
    config = distilbert(len(tokenizer)) if size == "tiny" else DistilBertConfig(vocab_size=len(tokenizer))
    return save(folder / f"distilbert-{size}", DistilBertForMaskedLM(config), tokenizer)


def bare_trainer_steps_per_second(base: Path, data: Any, options: Any, device: str) -> float:
    """The same training as the tab's, with Trainer alone, in a thread of its own as the tab's job runs (on
    this machine torch computes 2-3x faster in a started thread than in the main one, so the main thread
    would measure that, not the tab): steps per second of `train()`."""
    rates: list[float] = []
    worker = threading.Thread(target=lambda: rates.append(_bare_trainer_run(base, data, options, device)))
    worker.start()
    worker.join()
    if not rates:
        raise RuntimeError("the bare Trainer run failed (its traceback is above)")
    return rates[0]


def _bare_trainer_run(base: Path, data: Any, options: Any, device: str) -> float:
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from tabs.fine_tune.task import compute_metrics, split
    from tabs.fine_tune.training_task import schedule, training_arguments

    splits = split(data, options.validation_share, options.seed)
    names = splits["train"].features["label"].names
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(names), id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)}
    )
    encoded = splits.map(lambda b: tokenizer(b["text"], truncation=True, max_length=options.max_length), batched=True)
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as checkpoints:
        arguments = TrainingArguments(
            output_dir=checkpoints,
            use_cpu=device == "cpu",
            disable_tqdm=True,
            dataloader_pin_memory=device == "cuda",
            **training_arguments(options, schedule(len(splits["train"]), options)),
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=encoded["train"],
            eval_dataset=encoded["test"],
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=compute_metrics,
        )
        output = trainer.train()
    return output.global_step / output.metrics["train_runtime"]


def tab_run(base: Path, data: Any, options: Any, device: str) -> tuple[float, float, float]:
    """The tab's job: (training steps per second, wall seconds of the whole run, validation accuracy)."""
    from tabs.fine_tune.training_task import TrainingJob

    with tempfile.TemporaryDirectory(prefix="bench-tab-") as folder:
        job = TrainingJob(
            base=str(base), base_label="bench", data=data, options=options, folder=Path(folder) / "model", device=device
        )
        started = time.perf_counter()
        job.start()
        job.finished.wait()
        wall = time.perf_counter() - started
    if job.error is not None:
        raise job.error
    result = job.result
    return result.steps_done / result.train_seconds, wall, result.scores.accuracy


def measure(size: str, rounds: int, epochs: int, example: str = "topics_en") -> dict[str, Any]:
    """Tab and bare Trainer in alternating rounds on one model: steps per second, their ratios and wall times."""
    from transformers.utils import logging as transformers_logging

    from bench.common import paired_ratio, say
    from tabs.fine_tune.task import read_example
    from tabs.fine_tune.training_task import TrainingOptions

    transformers_logging.set_verbosity_error()
    data = read_example(example)
    options = TrainingOptions(epochs=epochs)
    tab: list[float] = []
    bare: list[float] = []
    walls: list[float] = []
    accuracies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-fine-tune-") as folder:
        base = write_model(Path(folder), size)
        for number in range(1, rounds + 1):
            # Each goes first every other round, so a machine getting busier or quieter favours neither.
            if number % 2:
                tab_rate, wall, accuracy = tab_run(base, data, options, "cpu")
                bare_rate = bare_trainer_steps_per_second(base, data, options, "cpu")
            else:
                bare_rate = bare_trainer_steps_per_second(base, data, options, "cpu")
                tab_rate, wall, accuracy = tab_run(base, data, options, "cpu")
            tab.append(tab_rate)
            bare.append(bare_rate)
            walls.append(wall)
            accuracies.append(accuracy)
            say(
                f"fine-tune round {number}: tab {tab_rate:.2f} steps/s, bare Trainer {bare_rate:.2f} steps/s, "
                f"ratio {tab_rate / bare_rate:.3f}; tab run {wall:.1f} s in all (validation accuracy {accuracy:.2f})"
            )
    ratio = paired_ratio(tab, bare)
    return {
        "model": f"distilbert-{size}",
        "example": example,
        "rows": len(data.texts),
        "epochs": epochs,
        "rounds": rounds,
        "tab_steps_per_s": tab,
        "bare_steps_per_s": bare,
        "tab_wall_s": walls,
        "validation_accuracy": accuracies,
        "ratio_steps_per_s": ratio,
        "tab_wall_median_s": statistics.median(walls),
        "target_ratio": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("tiny", "real"), default="tiny")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--example", default="topics_en")
    args = parser.parse_args(argv)
    result = measure(args.size, args.rounds, args.epochs, args.example)
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
