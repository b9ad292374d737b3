"""Training a sequence classifier with transformers' `Trainer`, watched while it runs.

A `TrainingJob` runs one fine-tuning in a thread of its own. A `TrainerCallback` (`LiveCallback`)
copies the Trainer's steps, training losses and validation results into the job as they happen, so a
page can draw the curves and the time left while training goes on; a stop request ends training at
the next step, and the Trainer then loads the best checkpoint so far (lowest validation loss). The
app runs at most `max_jobs` trainings at once (`JobQueue`); the others wait in turn and see their place.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.config.catalog import FineTuneSettings
from playground.core.texts import Texts
from tabs.fine_tune.task import LabelledData, Scores, compute_metrics, scores, split
from tabs.fine_tune.token_task import TaggedData, TaggedScores

TEXTS = Texts.load("fine_tune.task", Path(__file__).with_name("locales"))

# Validation runs per training (and as many checkpoints): enough points for a curve, few enough
# that evaluating costs little next to training.
EVALUATIONS = 8
# Training-loss points per training.
LOSS_POINTS = 60
DATA_FILE = "data.jsonl"


@dataclass(frozen=True)
class TrainingOptions:
    epochs: int = 3
    learning_rate: float = 5e-5
    batch_size: int = 16
    max_length: int = 128
    # A share of the training steps (0.1: the first 10 %) during which the learning rate rises from 0.
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    validation_share: float = 0.2
    # LoRA (peft): train low-rank adapters of the attention weights and the new head, not the whole model.
    lora: bool = False
    lora_rank: int = 8


def check_options(
    limits: FineTuneSettings,
    epochs: Any = 3,
    learning_rate: Any = 5e-5,
    batch_size: Any = 16,
    max_length: Any = 128,
    warmup: Any = 0.1,
    weight_decay: Any = 0.01,
    seed: Any = 42,
    validation_share: Any = 0.2,
    lora: Any = False,
    lora_rank: Any = 8,
) -> TrainingOptions:
    """The training settings, each checked against its range (the catalog's limits where it has one)."""

    def number(value: Any, name: str, low: float, high: float, whole: bool) -> Any:
        try:
            parsed = float(value)
        except (TypeError, ValueError):
            parsed = math.nan
        if not (low <= parsed <= high) or (whole and not parsed.is_integer()):
            raise TEXTS.error("bad_option", name=name, low=low, high=high, value=value)
        return int(parsed) if whole else parsed

    return TrainingOptions(
        epochs=number(epochs, "epochs", 1, limits.max_epochs, True),
        learning_rate=number(learning_rate, "learning_rate", 1e-7, 1.0, False),
        batch_size=number(batch_size, "batch_size", 1, limits.max_batch_size, True),
        max_length=number(max_length, "max_length", 8, limits.max_length, True),
        warmup=number(warmup, "warmup", 0.0, 0.5, False),
        weight_decay=number(weight_decay, "weight_decay", 0.0, 1.0, False),
        seed=number(seed, "seed", 0, 2**32 - 1, True),
        validation_share=number(validation_share, "validation_share", 0.05, 0.5, False),
        lora=bool(lora),
        lora_rank=number(lora_rank, "lora_rank", 1, 256, True),
    )


def schedule(train_rows: int, options: TrainingOptions) -> dict[str, int]:
    """Steps of the run: total, and how often it logs the loss and evaluates (and saves a checkpoint)."""
    total = math.ceil(train_rows / options.batch_size) * options.epochs
    return {
        "total": total,
        "eval_steps": max(1, math.ceil(total / EVALUATIONS)),
        "logging_steps": max(1, math.ceil(total / LOSS_POINTS)),
    }


def training_arguments(options: TrainingOptions, steps: dict[str, int]) -> dict[str, Any]:
    """`TrainingArguments` of a run, as the app passes them and the "show code" script prints them."""
    return {
        "num_train_epochs": options.epochs,
        "learning_rate": options.learning_rate,
        "per_device_train_batch_size": options.batch_size,
        "per_device_eval_batch_size": options.batch_size,
        # A float below 1 is a share of the training steps.
        "warmup_steps": options.warmup,
        "weight_decay": options.weight_decay,
        "eval_strategy": "steps",
        "eval_steps": steps["eval_steps"],
        "save_strategy": "steps",
        "save_steps": steps["eval_steps"],
        "logging_steps": steps["logging_steps"],
        "load_best_model_at_end": True,
        "metric_for_best_model": "eval_loss",
        "save_total_limit": 1,
        "save_only_model": True,
        "seed": options.seed,
        "report_to": "none",
    }


def check_encoder(config: Any, label: str, tagger: bool = False) -> None:
    """Refuse a base model that is not a text encoder with a sequence-classification (or, for a tagger,
    token-classification) head in transformers (a decoder such as GPT-2, a sequence-to-sequence or a
    vision model)."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES,
        MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES,
    )

    kind = getattr(config, "model_type", "")
    heads = MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES if tagger else MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES
    encoder = (
        kind in heads
        and kind in MODEL_FOR_MASKED_LM_MAPPING_NAMES
        and not getattr(config, "is_encoder_decoder", False)
        and not getattr(config, "is_decoder", False)
    )
    if not encoder:
        raise TEXTS.error("not_an_encoder", name=label, kind=kind or "?")


# LoRA targets for encoders peft has no default for: their attention's query and value weights.
LORA_TARGETS = {"distilbert": ["q_lin", "v_lin"], "albert": ["query", "value"]}


def lora_settings(model_type: str, head: list[str], rank: int, tagger: bool = False) -> dict[str, Any]:
    """`LoraConfig`'s arguments for a sequence (or token) classifier: adapters on the attention weights peft knows
    for this model type (every linear layer where it knows none), the new head trained whole."""
    try:
        from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING
    except ImportError:
        raise TEXTS.error("lora_needs_peft") from None
    targets = LORA_TARGETS.get(model_type) or TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING.get(
        model_type, "all-linear"
    )
    return {
        "task_type": "TOKEN_CLS" if tagger else "SEQ_CLS",
        "r": rank,
        "lora_alpha": 2 * rank,
        "lora_dropout": 0.1,
        "target_modules": list(targets) if isinstance(targets, (list, tuple, set)) else targets,
        "modules_to_save": head,
    }


def head_modules(model: Any) -> list[str]:
    """The names of the classification head's layers (new, randomly initialised: trained whole under LoRA)."""
    return [name for name in ("pre_classifier", "classifier", "score") if hasattr(model, name)]


def with_lora(model: Any, settings: dict[str, Any]) -> Any:
    """The model wrapped for LoRA training (peft, imported on first use)."""
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(**settings))


# ---- one training ----


class BaseDidNotLoad(Exception):
    """The base model's weights did not load (the cause is what transformers raised): explained as the
    model manager explains a failed load, not as a failed training."""


@dataclass
class TrainingResult:
    folder: Path
    # The model's labels (a tagger's: its BIO tags).
    label_names: list[str]
    # Per label (a tagger's: per entity type, entity-level).
    scores: Scores
    # Validation rows: texts, true label numbers, predicted probabilities (a classifier's).
    texts: list[str]
    true: list[int]
    probabilities: Any
    stopped: bool
    kept_step: int | None
    best_loss: float | None
    steps_done: int
    # LoraConfig's arguments (None: every weight trained).
    lora: dict[str, Any] | None
    # Weights the optimizer updated, and all of them (fewer under LoRA).
    trained_parameters: int
    parameters: int
    # The whole run, and trainer.train() alone.
    seconds: float
    train_seconds: float
    train_rows: int
    validation_rows: int
    steps: dict[str, int]
    # A tagger's validation sentences (words) with their predicted and true tags, and its word-level scores.
    tokens: list[list[str]] = field(default_factory=list)
    predicted_tags: list[list[str]] = field(default_factory=list)
    true_tags: list[list[str]] = field(default_factory=list)
    tagged: TaggedScores | None = None
    entity_types: list[str] = field(default_factory=list)


@dataclass
class TrainingJob:
    """One fine-tuning of `base` (a local folder or Hub snapshot) on `data`, saved to `folder`."""

    base: str
    base_label: str
    data: LabelledData | TaggedData
    options: TrainingOptions
    folder: Path
    device: str
    # from_pretrained's options from the catalog entry (revision, use_safetensors).
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    # Filled while it runs (under `lock`): steps, then the curves as (step, value, curve name) points.
    lock: threading.Lock = field(default_factory=threading.Lock)
    step: int = 0
    max_steps: int = 0
    started: float | None = None
    losses: list[tuple[int, float, str]] = field(default_factory=list)
    validation: list[tuple[int, float, str]] = field(default_factory=list)
    phase: str = "preparing"
    result: TrainingResult | None = None
    error: BaseException | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, name="fine-tune", daemon=True).start()

    def stop(self) -> None:
        self.stop_requested.set()

    def seconds_left(self) -> float | None:
        with self.lock:
            if not self.started or not self.step or not self.max_steps:
                return None
            return (time.perf_counter() - self.started) / self.step * (self.max_steps - self.step)

    def _run(self) -> None:
        try:
            self.result = run_training(self)
        except BaseException as exc:  # handed to the page, which explains it
            self.error = exc
        finally:
            self.finished.set()


def _live_callback(job: TrainingJob) -> Any:
    from transformers import TrainerCallback

    class LiveCallback(TrainerCallback):
        """Copies the Trainer's progress into the job and stops it at the next step when asked."""

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            with job.lock:
                job.max_steps = state.max_steps
                job.started = time.perf_counter()
                job.phase = "training"

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            with job.lock:
                job.step = state.global_step
            if job.stop_requested.is_set():
                control.should_training_stop = True

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            logs = logs or {}
            with job.lock:
                if "loss" in logs:
                    job.losses.append((state.global_step, float(logs["loss"]), "train_loss"))
                if "eval_loss" in logs:
                    job.losses.append((state.global_step, float(logs["eval_loss"]), "validation_loss"))
                for name in ("accuracy", "f1_macro"):
                    if f"eval_{name}" in logs:
                        job.validation.append((state.global_step, float(logs[f"eval_{name}"]), name))

    return LiveCallback()


def write_data_file(data: LabelledData | TaggedData, folder: Path) -> Path:
    """The rows trained on as JSONL ({"text", "label"}, or a tagger's {"tokens", "tags"}), beside the
    model: the scripts read it."""
    path = folder / DATA_FILE
    if isinstance(data, TaggedData):
        rows = [{"tokens": tokens, "tags": tags} for tokens, tags in zip(data.tokens, data.tags)]
    else:
        rows = [{"text": text, "label": label} for text, label in zip(data.texts, data.labels)]
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def run_training(job: TrainingJob) -> TrainingResult:
    """Fine-tune, evaluate and save: the job's whole run (in its thread). A tagger (TaggedData) gets a
    token-classification head, labels aligned to sub-word tokens and entity-level scores."""
    import numpy as np
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from tabs.fine_tune import token_task

    started = time.perf_counter()
    tagger = isinstance(job.data, TaggedData)
    config = AutoConfig.from_pretrained(job.base, revision=job.load_kwargs.get("revision"))
    check_encoder(config, job.base_label, tagger)
    options = job.options
    tokenizer = AutoTokenizer.from_pretrained(job.base, revision=job.load_kwargs.get("revision"))
    if tagger:
        if not tokenizer.is_fast:  # word_ids(), which aligns the tags, needs a fast tokenizer
            raise TEXTS.error("tagger_needs_fast_tokenizer", name=job.base_label)
        splits = token_task.split_tagged(job.data, options.validation_share, options.seed)
        names = job.data.tag_names
        metrics = token_task.tagged_metrics(names)
        collator = DataCollatorForTokenClassification(tokenizer)
        model_class = AutoModelForTokenClassification
    else:
        splits = split(job.data, options.validation_share, options.seed)
        names = splits["train"].features["label"].names
        metrics = compute_metrics
        collator = DataCollatorWithPadding(tokenizer)
        model_class = AutoModelForSequenceClassification
    # The new head's (and LoRA's) initial weights come from the seed, so the shown script repeats the run.
    set_seed(options.seed)
    try:
        model = model_class.from_pretrained(
            job.base,
            **job.load_kwargs,
            num_labels=len(names),
            id2label=dict(enumerate(names)),
            label2id={name: index for index, name in enumerate(names)},
        )
    except Exception as exc:
        raise BaseDidNotLoad(f"{type(exc).__name__}: {exc}") from exc
    lora = lora_settings(config.model_type, head_modules(model), options.lora_rank, tagger) if options.lora else None
    if lora:
        model = with_lora(model, lora)
    trained_parameters = sum(weights.numel() for weights in model.parameters() if weights.requires_grad)
    parameters = sum(weights.numel() for weights in model.parameters())
    if tagger:
        encoded = splits.map(
            lambda batch: token_task.tokenize_tagged(tokenizer, batch, options.max_length),
            batched=True,
            remove_columns=["tokens", "tags"],
        )
    else:
        encoded = splits.map(
            lambda batch: tokenizer(batch["text"], truncation=True, max_length=options.max_length), batched=True
        )
    steps = schedule(len(splits["train"]), options)
    checkpoints = Path(tempfile.mkdtemp(prefix="fine-tune-checkpoints-"))
    try:
        arguments = TrainingArguments(
            output_dir=str(checkpoints),
            use_cpu=job.device == "cpu",
            disable_tqdm=True,
            dataloader_pin_memory=job.device == "cuda",
            **training_arguments(options, steps),
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=encoded["train"],
            eval_dataset=encoded["test"],
            processing_class=tokenizer,
            data_collator=collator,
            compute_metrics=metrics,
            callbacks=[_live_callback(job)],
        )
        trained = trainer.train()
        stopped = job.stop_requested.is_set() and trainer.state.global_step < trainer.state.max_steps
        with job.lock:
            job.phase = "evaluating"
        prediction = trainer.predict(encoded["test"])
        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        if tagger:
            predicted_tags, true_tags = token_task.word_tags(logits, prediction.label_ids, names)
            types = job.data.entity_types
            tagged = token_task.tagged_scores(predicted_tags, true_tags, types, names)
            tagger_fields: dict[str, Any] = {
                "tokens": list(splits["test"]["tokens"]),
                "predicted_tags": predicted_tags,
                "true_tags": true_tags,
                "tagged": tagged,
                "entity_types": types,
            }
            result, texts, true, probabilities = tagged.entity, [], [], None
        else:
            probabilities = torch.softmax(torch.from_numpy(np.asarray(logits, dtype=np.float32)), dim=-1).numpy()
            true = [int(label) for label in prediction.label_ids]
            result = scores(np.argmax(logits, axis=-1), true, len(names))
            texts, tagger_fields = list(splits["test"]["text"]), {}
        with job.lock:
            job.phase = "saving"
        job.folder.mkdir(parents=True, exist_ok=True)
        if lora:
            # The adapters merged into the weights: a plain model that every tab loads without peft.
            trainer.model.merge_and_unload().save_pretrained(str(job.folder))
            tokenizer.save_pretrained(str(job.folder))
        else:
            trainer.save_model(str(job.folder))
        # The Trainer's pickled arguments: no use to the model, and pickles are not shared from here.
        (job.folder / "training_args.bin").unlink(missing_ok=True)
        write_data_file(job.data, job.folder)
        best = trainer.state.best_model_checkpoint
        kept_step = int(best.rsplit("-", 1)[-1]) if best else None
        return TrainingResult(
            folder=job.folder,
            label_names=names,
            scores=result,
            texts=texts,
            true=true,
            probabilities=probabilities,
            stopped=stopped,
            kept_step=kept_step,
            best_loss=trainer.state.best_metric,
            steps_done=trainer.state.global_step,
            lora=lora,
            trained_parameters=trained_parameters,
            parameters=parameters,
            seconds=time.perf_counter() - started,
            train_seconds=trained.metrics["train_runtime"],
            train_rows=len(splits["train"]),
            validation_rows=len(splits["test"]),
            steps=steps,
            **tagger_fields,
        )
    finally:
        shutil.rmtree(checkpoints, ignore_errors=True)


# ---- one job at a time ----


class JobQueue:
    """Trainings that may run at once (`slots`); the rest wait in arrival order, at most `max_waiting`."""

    def __init__(self, slots: int, max_waiting: int):
        self.slots = slots
        self.max_waiting = max_waiting
        self._changed = threading.Condition()
        self._running = 0
        self._waiting: list[object] = []

    def join(self) -> object:
        """A ticket in the queue (refused when `max_waiting` are already waiting)."""
        with self._changed:
            if len(self._waiting) >= self.max_waiting and self._running >= self.slots:
                raise TEXTS.error("queue_full", waiting=len(self._waiting))
            ticket = object()
            self._waiting.append(ticket)
            return ticket

    def wait(self, ticket: object, seconds: float) -> int:
        """Wait up to `seconds` for a change; the ticket's place (0: it started and holds a slot)."""
        with self._changed:
            if self._may_start(ticket):
                return 0
            self._changed.wait(seconds)
            if self._may_start(ticket):
                return 0
            return self._running + self._waiting.index(ticket)

    def _may_start(self, ticket: object) -> bool:
        index = self._waiting.index(ticket)
        if index < self.slots - self._running:
            self._waiting.remove(ticket)
            self._running += 1
            return True
        return False

    def leave(self, ticket: object, started: bool) -> None:
        """The ticket's training ended (started) or its caller gave up waiting."""
        with self._changed:
            if started:
                self._running -= 1
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._changed.notify_all()
