"""Fine-tune tab: train a text classifier (or a named-entity tagger) on labelled data, watch it learn,
then use it in the Text classification (or Named entities) tab.

Endpoints:
- `/fine_tune(file, text_column, label_column, example, model, epochs, learning_rate, batch_size,
  max_length, warmup, weight_decay, seed, validation_share, lora, lora_rank, task, hub_dataset,
  hub_split)` streams: status, loss curves, validation curves, then the report, the confusion matrix,
  misclassified rows (a tagger's: sentences), the new model's id, a zip of the model, and the Trainer
  script and the plain PyTorch loop that reproduce the run.
- `/stop_fine_tune()` ends the caller's training at the next step (the best checkpoint so far is kept,
  evaluated and saved), or takes it out of the queue.

The fine-tuned model joins the text classification (a tagger: named entities) tab's models for as long
as the app runs (its id is the folder it was saved to), so `/classify_text` (`/extract_entities`)
answers with it and the Models view unloads it.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.config.catalog import FINE_TUNED_MODELS_TABS, ModelEntry
from playground.core.texts import LANGUAGES, LocalizedError, Texts, request_language, size_text
from playground.loading.hub import HUB, HubUnreachable, offline
from playground.loading.model_manager import MemoryHold, hub_down_error
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, model_picker
from tabs.fine_tune import task as task_logic
from tabs.fine_tune import token_task
from tabs.fine_tune.code_task import loop_script, trainer_script
from tabs.fine_tune.hub_task import CARD_FILE, RunFacts, check_repo_id, model_card, push
from tabs.fine_tune.memory_task import TrainingMemory, estimate_training_memory, over_budget_error
from tabs.fine_tune.training_task import (
    BaseDidNotLoad,
    JobQueue,
    TrainingJob,
    TrainingOptions,
    TrainingResult,
    check_encoder,
    check_options,
    schedule,
)

TEXTS = Texts.load("fine_tune", Path(__file__).with_name("locales"))

# How often a running training's page is refreshed.
POLL_SECONDS = 0.5
CURVE_COLUMNS = ["step", "value", "curve"]
TEXT_CLASSIFICATION_TASK = "text-classification"
TOKEN_CLASSIFICATION_TASK = "token-classification"
TASKS = (TEXT_CLASSIFICATION_TASK, TOKEN_CLASSIFICATION_TASK)


@dataclass
class FineTuneState:
    """The app's trainings: the queue, each session's job (so Stop ends only the caller's), and the
    models fine-tuned in this run, oldest first."""

    queue: JobQueue
    root: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[str, TrainingJob] = field(default_factory=dict)
    models: list[ModelEntry] = field(default_factory=list)
    # Folder of every model fine-tuned in this run (and still kept) -> what its model card says.
    facts: dict[str, RunFacts] = field(default_factory=dict)
    runs: int = 0


def state_of(ctx: TabContext) -> FineTuneState:
    with ctx.state.setdefault("lock", threading.Lock()):
        if "trainings" not in ctx.state:
            limits = ctx.catalog.fine_tune
            ctx.state["trainings"] = FineTuneState(JobQueue(limits.max_jobs, limits.max_waiting), output_root(ctx))
        return ctx.state["trainings"]


def session_of(request: Any) -> str:
    return getattr(request, "session_hash", None) or ""


def output_root(ctx: TabContext) -> Path:
    """Where fine-tuned models are saved: the catalog's `fine_tune.output_dir`, else a folder of this run,
    deleted when the app exits (the models are listed only while it runs; the zip keeps one)."""
    if ctx.catalog.fine_tune.output_dir:
        root = Path(ctx.catalog.resolve_folder(ctx.catalog.fine_tune.output_dir))
        root.mkdir(parents=True, exist_ok=True)
        return root
    root = Path(tempfile.mkdtemp(prefix="playground-fine-tuned-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40] or "model"


# ---- what the page shows ----


def curves_frame(points: list[tuple[int, float, str]], lang: str) -> Any:
    import pandas as pd

    return pd.DataFrame(
        [(step, value, TEXTS.get(f"curve_{name}", lang)) for step, value, name in points], columns=CURVE_COLUMNS
    )


def _duration(seconds: float, lang: str) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return TEXTS.get("seconds", lang, seconds=seconds)
    return TEXTS.get("minutes", lang, minutes=seconds // 60, seconds=seconds % 60)


def progress_line(job: TrainingJob, lang: str) -> str:
    """A text progress bar with the step, the epoch and the time left."""
    with job.lock:
        step, total, phase = job.step, job.max_steps, job.phase
    if phase != "training" or not total:
        return TEXTS.get(f"phase_{phase}", lang)
    filled = round(20 * step / total)
    left = job.seconds_left()
    epochs = job.options.epochs
    line = TEXTS.get(
        "progress",
        lang,
        bar="█" * filled + "░" * (20 - filled),
        percent=round(100 * step / total),
        step=step,
        total=total,
        epoch=min(epochs, epochs * step / total),
        epochs=epochs,
    )
    if left is not None:
        line += TEXTS.get("time_left", lang, left=_duration(left, lang))
    if job.stop_requested.is_set():
        line += "\n\n" + TEXTS.get("stopping", lang)
    return line


def summary_markdown(
    result: TrainingResult, options: TrainingOptions, entry: ModelEntry | None, task: str, lang: str
) -> str:
    key = "summary_stopped" if result.stopped else "summary_done"
    lines = [
        TEXTS.get(
            key,
            lang,
            steps=result.steps_done,
            total=result.steps["total"],
            time=_duration(result.seconds, lang),
            train=result.train_rows,
            validation=result.validation_rows,
        )
    ]
    if options.lora:
        lines.append(
            TEXTS.get(
                "lora_trained",
                lang,
                rank=options.lora_rank,
                trained=result.trained_parameters,
                parameters=result.parameters,
                share=100 * result.trained_parameters / max(result.parameters, 1),
            )
        )
    if result.kept_step is not None:
        lines.append(TEXTS.get("kept_best", lang, step=result.kept_step, loss=result.best_loss))
    else:
        lines.append(TEXTS.get("kept_last", lang))
    tab = TEXTS.get(f"tab_{FINE_TUNED_MODELS_TABS[task]}", lang)
    if entry is not None:
        lines.append(TEXTS.get("added", lang, tab=tab, label=entry.label, id=entry.id))
    else:
        lines.append(TEXTS.get("not_added", lang, tab=tab))
    return "\n\n".join(lines)


def zip_download(result: TrainingResult, trainer_code: str, loop_code: str) -> str:
    """The model folder, the rows it learnt from and both scripts as one zip; returns its path."""
    handle, path = tempfile.mkstemp(suffix=".zip", prefix=f"{result.folder.name}-")
    os.close(handle)
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(result.folder.rglob("*")):
            if file.is_file():
                # Weights hardly compress: stored as they are, the rest deflated.
                method = zipfile.ZIP_STORED if file.suffix == ".safetensors" else zipfile.ZIP_DEFLATED
                archive.write(file, file.relative_to(result.folder), compress_type=method)
        archive.writestr("train.py", trainer_code, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("train_loop.py", loop_code, compress_type=zipfile.ZIP_DEFLATED)
    return path


def add_to_catalog(
    ctx: TabContext, state: FineTuneState, result: TrainingResult, base: ModelEntry, task: str
) -> ModelEntry | None:
    """List the fine-tuned model in the text classification (a tagger: named entities) tab for this run
    (None where the app has no such tab); beyond `keep_models`, the oldest fine-tuned model is unloaded,
    unlisted and deleted."""
    tab = FINE_TUNED_MODELS_TABS[task]
    if tab not in ctx.catalog.tabs:
        return None
    names = result.entity_types or result.label_names
    labels = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
    with state.lock:
        state.runs += 1
        number = state.runs
    entry = ModelEntry(
        id=str(result.folder),
        label=TEXTS.get("new_label", base=base.label, number=number),
        task=task,
        description={
            lang: TEXTS.get("new_description", lang, base=base.label, labels=labels, accuracy=result.scores.accuracy)
            for lang in ("en", "ko")
        },
    )
    ctx.catalog.add_model(tab, entry)
    with state.lock:
        state.models.append(entry)
        dropped = state.models[: -ctx.catalog.fine_tune.keep_models]
        del state.models[: len(dropped)]
    for old in dropped:
        ctx.catalog.remove_model(FINE_TUNED_MODELS_TABS[old.task], old.id)
        ctx.manager.unload(old.id)
        state.facts.pop(old.id, None)
        shutil.rmtree(old.id, ignore_errors=True)  # the zip download keeps a copy
    return entry


def memory_markdown(memory: TrainingMemory, options: TrainingOptions, budget: tuple[int, int] | None, lang: str) -> str:
    """The memory a training needs, by what holds it, and how it compares with the app's budget."""
    line = TEXTS.get(
        "memory_estimate",
        lang,
        total=size_text(memory.total),
        weights=size_text(memory.weights),
        gradients=size_text(memory.gradients),
        optimizer=size_text(memory.optimizer),
        activations=size_text(memory.activations),
        batch=options.batch_size,
        length=options.max_length,
        dtype=memory.dtype,
    )
    if budget is None:
        return line + " " + TEXTS.get("memory_no_budget", lang)
    left, whole = budget
    key = "memory_fits" if memory.total <= left else "memory_too_big"
    return line + " " + TEXTS.get(key, lang, left=size_text(left), budget=size_text(whole))


def encoder_config(ctx: TabContext, base: ModelEntry, tagger: bool, progress: Any = None) -> Any:
    """The base model's config (its folder, the cache, or the Hub with a bound), a failure explained as a
    failed load; refused unless it is a text encoder with the task's head."""
    try:
        config = HUB.read_config(ctx.catalog.resolve_path(base), base.revision, ctx.progress_reporter(progress))
    except HubUnreachable as exc:
        raise hub_down_error(exc, base) from None
    except OSError as exc:
        raise explained(exc, base, ctx) from None
    check_encoder(config, base.label, tagger)
    return config


def training_memory(config: Any, data: Any, tagger: bool, options: TrainingOptions) -> TrainingMemory:
    """What training the base (its `config`) on `data` needs with these settings."""
    names = data.tag_names if tagger else data.label_names
    return estimate_training_memory(config, len(names), tagger, options)


def hold_training_memory(
    ctx: TabContext, memory: TrainingMemory, base: ModelEntry, options: TrainingOptions
) -> MemoryHold:
    """Hold the training's memory in the app's budget (idle models are unloaded to make room); refused,
    with what to change, where it does not fit."""
    label = {lang: TEXTS.get("memory_holder", lang, base=base.label) for lang in LANGUAGES}
    hold = ctx.manager.hold_memory(label, memory.total)
    if hold is None:
        left, budget = ctx.manager.budget_left() or (0, 0)
        raise over_budget_error(memory, options, left, budget)
    return hold


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def fine_tune(
    ctx: TabContext,
    file: str | None = None,
    text_column: str = "",
    label_column: str = "",
    example: str = task_logic.EXAMPLE_SETS[0],
    model: str | None = None,
    epochs: int = 3,
    learning_rate: float = 5e-5,
    batch_size: int = 16,
    max_length: int = 128,
    warmup: float = 0.1,
    weight_decay: float = 0.01,
    seed: int = 42,
    validation_share: float = 0.2,
    lora: bool = False,
    lora_rank: int = 8,
    task: str = TEXT_CLASSIFICATION_TASK,
    hub_dataset: str = "",
    hub_split: str = "",
    progress: Any = None,
    request: Any = None,
) -> Any:
    """Fine-tune a catalog encoder as a text classifier (or a named-entity tagger) on labelled data; streams
    progress, then the report.

    Args:
        file: A CSV (header row) or JSONL file with a text column and a label column; for a tagger a JSONL file
            ("tokens" and "tags" lists a line) or a CoNLL-style file (a word and its BIO tag a line); None to use
            the example set.
        text_column: The column holding the texts; empty for a column named text (or the only one). A tagger's
            Hub dataset: the column of word lists; empty for tokens or words.
        label_column: The column holding the labels (class names); empty for a column named label, category or class.
            A tagger's Hub dataset: the column of tag lists; empty for tags, ner_tags or labels.
        example: The shipped example set used when no file is given: topics_en or topics_ko (a tagger:
            entities_en or entities_ko); empty for the task's first.
        model: The base model, a catalog id or label of this tab; empty for the tab's default.
        epochs: Passes over the training rows.
        learning_rate: AdamW's peak learning rate.
        batch_size: Rows per training step.
        max_length: Tokens kept of each text (longer texts are cut).
        warmup: The share of steps (0 to 0.5) over which the learning rate rises from 0.
        weight_decay: AdamW's weight decay.
        seed: Seeds the split, the new head's initial weights and the order of the rows.
        validation_share: The share of rows held out (stratified by label) to evaluate on.
        lora: Train LoRA adapters (peft) of the attention weights and the new head instead of every weight;
            the adapters are merged into the saved model.
        lora_rank: The adapters' rank (LoRA's r; alpha is twice it).
        task: text-classification (a label per text) or token-classification (a BIO tag per word: named entities).
        hub_dataset: A Hub dataset to train on instead of a file: owner/name or owner/name:config (its first rows,
            streamed; the catalog's max_dataset_rows at most). Labels stored as class numbers are read as their names;
            a tagger reads a list of words and a list of BIO tags per row (CoNLL-2003's tokens and ner_tags).
        hub_split: The Hub dataset's split; empty for train.
    """
    lang = request_language(request)
    limits = ctx.catalog.fine_tune
    # Gradio refuses a task that is not one of the radio's choices.
    tagger = task == TOKEN_CLASSIFICATION_TASK
    if (hub_dataset or "").strip():
        data: Any = hub_labelled(ctx, file, text_column, label_column, hub_dataset, hub_split, tagger, progress, lang)
    elif tagger:
        data = token_task.read_tagged(file, limits) if file else token_task.read_tagged_example(example)
    else:
        data = (
            task_logic.read_labelled(file, text_column, label_column, limits)
            if file
            else task_logic.read_example(example)
        )
    options = check_options(
        limits,
        epochs,
        learning_rate,
        batch_size,
        max_length,
        warmup,
        weight_decay,
        seed,
        validation_share,
        lora,
        lora_rank,
    )
    if not tagger:
        task_logic.check_split(data, options.validation_share)
    base = ctx.entry(model, ctx.tasks[0])
    memory = training_memory(encoder_config(ctx, base, tagger, progress), data, tagger, options)
    budget = ctx.manager.budget_left()
    if budget and memory.total > budget[1]:  # more than the whole budget: refused before it waits its turn
        raise over_budget_error(memory, options, budget[1], budget[1])
    state = state_of(ctx)
    folder = Path(tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(base.label)}-", dir=state.root))
    job = TrainingJob(
        base=ctx.catalog.resolve_path(base),
        base_label=base.label,
        data=data,
        options=options,
        folder=folder,
        device=ctx.manager.device,
        load_kwargs={"revision": base.revision, "use_safetensors": not base.allow_pickle_weights},
    )
    session = session_of(request)
    ticket = state.queue.join()
    with state.lock:
        state.jobs[session] = job
    started = delivered = False
    hold: MemoryHold | None = None
    empty_curves = curves_frame([], lang)
    nothing = [None] * 7
    try:
        while True:
            place = state.queue.wait(ticket, POLL_SECONDS)
            if place == 0:
                started = True
                break
            if job.stop_requested.is_set():
                yield TEXTS.get("stopped_waiting", lang), empty_curves, empty_curves, *nothing
                return
            yield TEXTS.get("waiting", lang, ahead=place), empty_curves, empty_curves, *nothing
        try:
            # A Hub model: the Hub is asked with a bound (or its cached copy used) before training loads it.
            job.base = HUB.loadable_source(
                job.base, base.revision, base.allow_pickle_weights, base.label, ctx.progress_reporter(progress)
            )
        except HubUnreachable as exc:
            raise hub_down_error(exc, base) from None
        memory_note = memory_markdown(memory, options, ctx.manager.budget_left(), lang)
        hold = hold_training_memory(ctx, memory, base, options)
        job.start()
        while not job.finished.wait(POLL_SECONDS):
            with job.lock:
                losses, validation = list(job.losses), list(job.validation)
            status = progress_line(job, lang) + "\n\n" + memory_note
            yield status, curves_frame(losses, lang), curves_frame(validation, lang), *nothing
        if job.error is not None:
            raise explained(job.error, base, ctx)
        result = job.result
        facts = RunFacts(
            base_id=base.id if not base.is_local else base.label,
            base_is_hub_model=not base.is_local,
            data_name=data.name,
            label_names=result.entity_types or result.label_names,
            train_rows=result.train_rows,
            validation_rows=result.validation_rows,
            options=options,
            scores=result.scores,
            stopped=result.stopped,
            task=task,
        )
        (result.folder / CARD_FILE).write_text(model_card(facts, str(result.folder)), encoding="utf-8")
        with state.lock:
            state.facts[str(result.folder)] = facts
        entry = add_to_catalog(ctx, state, result, base, task)
        delivered = True
        steps = schedule(result.train_rows, options)
        code_kwargs = {"revision": base.revision} if base.revision else {}
        source = base.id if not base.is_local else job.base
        tag_names = result.label_names if tagger else None
        trainer_code = trainer_script(source, options, steps, code_kwargs, result.lora, tag_names)
        loop_code = loop_script(source, options, code_kwargs, result.lora, tag_names)
        names = result.label_names
        # A tagger's matrix counts words by tag; its report and mistakes are by entity.
        picture = task_logic.confusion_picture(
            result.tagged.words.confusion if result.tagged else result.scores.confusion,
            names,
            TEXTS.get("confusion_title_words" if tagger else "confusion_title", lang),
            (TEXTS.get("confusion_true", lang), TEXTS.get("confusion_predicted", lang)),
        )
        import pandas as pd

        if tagger:
            report = token_task.tagged_report_markdown(result.tagged, result.entity_types, lang)
            wrong = pd.DataFrame(
                token_task.wrong_sentences(result.tokens, result.predicted_tags, result.true_tags),
                columns=[
                    TEXTS.get(f"column_{name}", lang) for name in ("sentence", "entities", "predicted", "wrong_words")
                ],
            )
        else:
            report = task_logic.report_markdown(result.scores, names, lang)
            wrong = pd.DataFrame(
                task_logic.misclassified_rows(result.texts, result.true, result.probabilities, names),
                columns=[TEXTS.get(f"column_{name}", lang) for name in ("text", "label", "predicted", "score")],
            )
        yield (
            summary_markdown(result, options, entry, task, lang),
            curves_frame(job.losses, lang),
            curves_frame(job.validation, lang),
            report,
            picture,
            wrong,
            entry.id if entry else str(result.folder),
            zip_download(result, trainer_code, loop_code),
            trainer_code,
            loop_code,
        )
    finally:
        if hold is not None and not job.finished.is_set():  # the caller went away: end the training
            job.stop()
            job.finished.wait()
        if not delivered:  # refused, failed, stopped while waiting, or nobody left to take it: keep nothing
            shutil.rmtree(folder, ignore_errors=True)
        if hold is not None:
            ctx.manager.release_hold(hold)
        state.queue.leave(ticket, started)
        with state.lock:
            if state.jobs.get(session) is job:
                del state.jobs[session]


def hub_labelled(
    ctx: TabContext,
    file: str | None,
    text_column: str,
    label_column: str,
    hub_dataset: str,
    hub_split: str,
    tagger: bool,
    progress: Any,
    lang: str,
) -> task_logic.LabelledData | token_task.TaggedData:
    """The texts and labels (a tagger's: words and tags) of a Hub dataset's split: its first rows, streamed
    as the dataset runs read them, class numbers read as their names."""
    from playground.media import datasets

    dataset = datasets.parse_hub_dataset(hub_dataset, hub_split)
    if file:
        raise datasets.TEXTS.error("file_and_hub", name=dataset.name)
    report = (lambda message: progress(0.0, desc=message)) if progress is not None else None
    table = datasets.read_hub_table(dataset, ctx.catalog.defaults, report, lang)
    if tagger:
        return token_task.tagged_table(table, text_column, label_column, ctx.catalog.fine_tune)
    return task_logic.labelled_table(table, text_column, label_column, ctx.catalog.fine_tune)


def explained(error: BaseException, base: ModelEntry, ctx: TabContext) -> BaseException:
    """A training failure as the user should see it: bad input as it is, a base that does not load
    explained as the model manager explains it, anything else as it is."""
    if isinstance(error, LocalizedError):
        return error
    if isinstance(error, (OSError, BaseDidNotLoad)):
        from playground.loading.hub import cached_snapshot
        from playground.loading.load_errors import explain_load_error

        return explain_load_error(error, base, cached_snapshot(ctx.catalog.resolve_path(base), base.revision))
    return error


def memory_estimate(
    ctx: TabContext,
    model: str | None = None,
    task: str = TEXT_CLASSIFICATION_TASK,
    batch_size: int = 16,
    max_length: int = 128,
    lora: bool = False,
    lora_rank: int = 8,
    request: Any = None,
) -> str:
    """The memory a training with these settings would need and how it compares with the app's budget,
    shown before training (a two-label head: the data's labels change it by a few weights)."""
    lang = request_language(request)
    tagger = task == TOKEN_CLASSIFICATION_TASK
    try:
        options = check_options(
            ctx.catalog.fine_tune, batch_size=batch_size, max_length=max_length, lora=lora, lora_rank=lora_rank
        )
        base = ctx.entry(model, ctx.tasks[0])
        memory = estimate_training_memory(encoder_config(ctx, base, tagger), 2, tagger, options)
    except LocalizedError as exc:
        return TEXTS.get("memory_unknown", lang, reason=exc.in_language(lang))
    except ValueError as exc:  # a config transformers cannot read: training says why
        return TEXTS.get("memory_unknown", lang, reason=(str(exc).splitlines() or [""])[0][:200])
    return memory_markdown(memory, options, ctx.manager.budget_left(), lang)


def stop_fine_tune(ctx: TabContext, request: Any = None) -> str:
    """Stop the caller's training at the next step (the best checkpoint so far is kept, evaluated and saved)
    or take it out of the queue; others' trainings go on."""
    lang = request_language(request)
    state = state_of(ctx)
    with state.lock:
        job = state.jobs.get(session_of(request))
    if job is None:
        return TEXTS.get("nothing_to_stop", lang)
    job.stop()
    return TEXTS.get("stop_sent", lang)


def push_to_hub(
    ctx: TabContext, model_id: str, repo_id: str, token: str = "", private: bool = True, request: Any = None
) -> str:
    """Upload a model fine-tuned in this run to a Hub model repository, with a model card written from the run.

    Args:
        model_id: The fine-tuned model's id, as /fine_tune returned it.
        repo_id: The repository to create or update: owner/name.
        token: A Hugging Face token with write access (used for this upload only, never stored).
        private: Create the repository as private (an existing repository keeps its visibility).
    """
    lang = request_language(request)
    state = state_of(ctx)
    with state.lock:
        facts = state.facts.get((model_id or "").strip())
    if facts is None:
        raise task_logic.TEXTS.error("push_unknown_model", value=model_id)
    repo_id = check_repo_id(repo_id)
    folder = Path(model_id.strip())
    (folder / CARD_FILE).write_text(model_card(facts, repo_id), encoding="utf-8")
    url = push(folder, repo_id, token, bool(private))
    return TEXTS.get("pushed_private" if private else "pushed_public", lang, url=url, repo=repo_id)


def examples_of(task: str) -> Any:
    """The example sets of a task, its first chosen."""
    import gradio as gr

    names = token_task.TAGGED_EXAMPLE_SETS if task == TOKEN_CLASSIFICATION_TASK else task_logic.EXAMPLE_SETS
    return gr.update(choices=[(TEXTS.ui(f"example_{name}"), name) for name in names], value=names[0])


def column_pickers(columns: list[str], task: str = TEXT_CLASSIFICATION_TASK) -> tuple[Any, Any]:
    """The text and label column pickers for a table's columns, the usual names chosen (a tagger's: the
    words and the tags)."""
    import gradio as gr

    if task == TOKEN_CLASSIFICATION_TASK:
        texts, labels = token_task.TOKEN_KEYS, token_task.TAG_KEYS
    else:
        texts, labels = ("text", "sentence", "review", "document"), task_logic.LABEL_COLUMNS
    text = next((name for name in texts if name in columns), columns[0])
    label = next((name for name in labels if name in columns and name != text), "")
    return gr.update(choices=columns, value=text), gr.update(choices=columns, value=label)


def data_columns(ctx: TabContext, file: str | None, task: str = TEXT_CLASSIFICATION_TASK) -> tuple[Any, Any]:
    """The column pickers for an uploaded file (a tagger's file has no columns to pick)."""
    import gradio as gr

    if task == TOKEN_CLASSIFICATION_TASK:
        return gr.update(choices=[], value=""), gr.update(choices=[], value="")

    from playground.media.datasets import read_table

    limits = ctx.catalog.fine_tune
    return column_pickers(read_table(file, limits.max_rows, limits.max_mb).columns)


def hub_columns(ctx: TabContext, name: str, split: str, task: str = TEXT_CLASSIFICATION_TASK) -> tuple[Any, Any]:
    """The column pickers for a Hub dataset, from a few of its rows (training reads the split again)."""
    import gradio as gr

    from playground.media.datasets import parse_hub_dataset, read_hub_table

    if not (name or "").strip():
        return gr.update(), gr.update()
    few = ctx.catalog.defaults.model_copy(update={"max_dataset_rows": 5})
    return column_pickers(read_hub_table(parse_hub_dataset(name, split), few).columns, task)


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    limits = ctx.catalog.fine_tune
    default = ctx.default_model(ctx.tasks[0])
    with gr.Row():
        with gr.Column(scale=1):
            task = gr.Radio(
                [(TEXTS.ui(f"task_{name}"), name) for name in TASKS], value=TASKS[0], label=TEXTS.ui("task")
            )
            # Every set, so that the API takes each; the page lists the task's own (`examples_of`).
            example = gr.Dropdown(
                [
                    (TEXTS.ui(f"example_{name}"), name)
                    for name in (*task_logic.EXAMPLE_SETS, *token_task.TAGGED_EXAMPLE_SETS)
                ],
                value=task_logic.EXAMPLE_SETS[0],
                label=TEXTS.ui("example"),
                info=TEXTS.ui("example_info"),
            )
            file = gr.File(
                label=TEXTS.ui("file"), file_types=[".csv", ".jsonl", *token_task.CONLL_KINDS], type="filepath"
            )
            with gr.Row(visible=ctx.catalog.defaults.allow_hub_datasets and not offline()):
                hub_dataset = gr.Textbox(
                    value="", label=TEXTS.ui("hub_dataset"), info=TEXTS.ui("hub_dataset_info"), scale=3
                )
                hub_split = gr.Textbox(value="", label=TEXTS.ui("hub_split"), placeholder="train", scale=1)
            with gr.Row():
                text_column = gr.Dropdown(
                    [], value="", label=TEXTS.ui("text_column"), allow_custom_value=True, interactive=True
                )
                label_column = gr.Dropdown(
                    [], value="", label=TEXTS.ui("label_column"), allow_custom_value=True, interactive=True
                )
            model = model_picker(ctx, ctx.tasks[0], label=TEXTS.ui("base_model"))
            with gr.Accordion(TEXTS.ui("settings"), open=False):
                with gr.Row():
                    epochs = gr.Number(3, precision=0, minimum=1, maximum=limits.max_epochs, label=TEXTS.ui("epochs"))
                    learning_rate = gr.Number(5e-5, minimum=1e-7, maximum=1.0, label=TEXTS.ui("learning_rate"))
                with gr.Row():
                    batch_size = gr.Number(
                        16, precision=0, minimum=1, maximum=limits.max_batch_size, label=TEXTS.ui("batch_size")
                    )
                    max_length = gr.Number(
                        128, precision=0, minimum=8, maximum=limits.max_length, label=TEXTS.ui("max_length")
                    )
                with gr.Row():
                    warmup = gr.Slider(0.0, 0.5, value=0.1, step=0.01, label=TEXTS.ui("warmup"))
                    weight_decay = gr.Slider(0.0, 0.3, value=0.01, step=0.01, label=TEXTS.ui("weight_decay"))
                with gr.Row():
                    seed = gr.Number(42, precision=0, minimum=0, maximum=2**32 - 1, label=TEXTS.ui("seed"))
                    validation_share = gr.Slider(0.05, 0.5, value=0.2, step=0.05, label=TEXTS.ui("validation_share"))
                with gr.Row():
                    lora = gr.Checkbox(False, label=TEXTS.ui("lora"), info=TEXTS.ui("lora_info"))
                    lora_rank = gr.Number(8, precision=0, minimum=1, maximum=256, label=TEXTS.ui("lora_rank"))
            with gr.Row():
                train = gr.Button(TEXTS.ui("train"), variant="primary")
                stop = gr.Button(TEXTS.ui("stop"), variant="stop")
            stop_note = gr.Markdown()
            memory = gr.Markdown()
        with gr.Column(scale=2):
            status = gr.Markdown(TEXTS.ui("status_idle"))
            with gr.Row():
                loss_plot = gr.LinePlot(
                    x="step", y="value", color="curve", label=TEXTS.ui("loss_plot"), x_title="step", y_title="loss"
                )
                metric_plot = gr.LinePlot(
                    x="step", y="value", color="curve", label=TEXTS.ui("metric_plot"), x_title="step", y_title="score"
                )
            report = gr.Markdown()
            with gr.Row():
                confusion = gr.Image(label=TEXTS.ui("confusion"), type="pil", interactive=False)
                misclassified = gr.Dataframe(
                    label=TEXTS.ui("misclassified"), interactive=False, wrap=True, max_height=360
                )
            with gr.Row():
                model_id = gr.Textbox(label=TEXTS.ui("model_id"), info=TEXTS.ui("model_id_info"), interactive=False)
                download = gr.File(label=TEXTS.ui("download"), interactive=False)
    with gr.Accordion(TEXTS.ui("hub_heading"), open=False):
        gr.Markdown(TEXTS.ui("hub_help"))
        with gr.Row():
            repo_id = gr.Textbox(label=TEXTS.ui("repo_id"), placeholder=TEXTS.ui("repo_placeholder"))
            token = gr.Textbox(label=TEXTS.ui("token"), type="password", value="")
            private = gr.Checkbox(True, label=TEXTS.ui("private"))
        push_button = gr.Button(TEXTS.ui("push"))
        pushed = gr.Markdown()
    with gr.Accordion(COMMON.ui("show_code"), open=False):
        trainer_code = gr.Code(language="python", label=TEXTS.ui("trainer_code"), interactive=False)
        loop_code = gr.Code(language="python", label=TEXTS.ui("loop_code"), interactive=False)
    about_panel(TEXTS)

    file.upload(guarded(bind(data_columns, ctx)), [file, task], [text_column, label_column], api_visibility="private")
    task.change(examples_of, task, example, api_visibility="private", queue=False)
    # A Hub dataset's columns, picked for the task (a tagger's: the words and the tags).
    for trigger in (hub_dataset.submit, hub_split.submit, task.input):
        trigger(
            guarded(bind(hub_columns, ctx)),
            [hub_dataset, hub_split, task],
            [text_column, label_column],
            api_visibility="private",
        )
    # On page load and whenever a setting it depends on changes.
    gr.on(
        None,
        guarded(bind(memory_estimate, ctx)),
        [model, task, batch_size, max_length, lora, lora_rank],
        memory,
        api_visibility="private",
        show_progress="hidden",
    )
    handler = guarded(bind(fine_tune, ctx, model=default, progress=gr.Progress()), gpu=True)
    inputs = [
        file,
        text_column,
        label_column,
        example,
        model,
        epochs,
        learning_rate,
        batch_size,
        max_length,
        warmup,
        weight_decay,
        seed,
        validation_share,
        lora,
        lora_rank,
        task,
        hub_dataset,
        hub_split,
    ]
    outputs = [
        status,
        loss_plot,
        metric_plot,
        report,
        confusion,
        misclassified,
        model_id,
        download,
        trainer_code,
        loop_code,
    ]
    # Trainings wait in the tab's own queue (which shows each its place), not in Gradio's.
    train.click(
        handler,
        inputs,
        outputs,
        api_name="fine_tune",
        concurrency_limit=limits.max_jobs + limits.max_waiting,
        concurrency_id="fine_tune",
        show_progress="minimal",
    )
    stop.click(guarded(bind(stop_fine_tune, ctx)), None, stop_note, api_name="stop_fine_tune", queue=False)
    push_button.click(
        guarded(bind(push_to_hub, ctx)), [model_id, repo_id, token, private], pushed, api_name="push_to_hub"
    )
