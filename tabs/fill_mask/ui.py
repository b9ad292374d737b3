"""The Fill-mask tab: complete a masked sentence, and probe how a model's completions differ between groups.

Endpoints:
- `/fill_mask(text, model, top_k=5, targets="")` -> completions, the sentence as the model saw it,
  a note, code.
- `/compare_bias(templates, groups, model, targets="", top_k=5, models=[])` -> top-k per group
  side by side, target probabilities per group, CSV, note, code, heatmap. `models` (several
  catalog models at once) overrides `model` when given.
- `/fill_mask_dataset(file, column, model, top_k=5, hub_dataset="", hub_split="")` -> summary, results
  table (the top_k tokens and scores of each row), CSV file.
- `/fill_mask_steps(text, model, top_k=5)` -> the pipeline's three steps for that sentence
  (playground.web.steps_view).

The task logic is `tabs.fill_mask.task`; this module holds the handlers (module-level functions of the
tab's context and their inputs) and the page.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, parse_yaml, request_language
from playground.media import datasets
from playground.tasks import pipeline_steps
from playground.web.errors import guarded
from playground.web.steps_view import StepsOutputs, steps_outputs, steps_panel
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, dataset_panel, model_picker
from tabs.fill_mask import task
from tabs.fill_mask.task import MAX_COMPARE_TOP_K, MAX_TOP_K, TASK

PRESETS_PATH = Path(__file__).with_name("bias_presets.yaml")
# The Hugging Face course's fill-mask bias lesson (chapter 1): the same sentence about a man and a woman.
COURSE_SENTENCES = ("This man works as a [MASK].", "This woman works as a [MASK].")

TEXTS = Texts.load("fill_mask", Path(__file__).with_name("locales"))


@functools.lru_cache(maxsize=1)
def load_presets() -> dict[str, dict[str, str]]:
    return parse_yaml(PRESETS_PATH.read_text(encoding="utf-8"))


def apply_preset(name: str) -> tuple[str, str, str]:
    """A preset's templates, groups and target words, for the comparison's inputs."""
    preset = load_presets()[name]
    return preset["templates"], preset["groups"], preset["targets"]


@functools.cache
def _config_is_masked_lm(source: str, revision: str | None) -> bool:
    # A config does not change while the app runs, and reading it costs every request time (and a Hub
    # round trip for a Hub id, bounded by playground.loading.hub). A failed read raises, and lru_cache keeps only answers.
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    from playground.loading.hub import HUB

    return HUB.read_config(source, revision).model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def is_masked_lm(source: str, entry: Any, progress: Any = None) -> bool | None:
    """Whether the model's config is a masked-LM architecture; None when the config cannot be read
    here (not downloaded yet, remote code, the Hub does not answer): loading then reports the real reason."""
    from playground.loading.hub import HUB

    if entry.trust_remote_code:
        return None
    try:
        HUB.ensure_config_readable(source, entry.revision, progress)  # says what it waits for
        return _config_is_masked_lm(source, entry.revision)
    except Exception:  # any reason: the model load that follows explains it
        return None


# ---- handlers: functions of the tab's context and the inputs (`bind` hands them to Gradio) ----------


def load_masked_lm(ctx: TabContext, model: str | None, progress: Any) -> Any:
    """The loaded pipeline; a catalog model of another kind gets a clear message, not a load error."""
    entry = ctx.entry(model, TASK)
    if is_masked_lm(ctx.catalog.resolve_path(entry), entry, ctx.progress_reporter(progress)) is False:
        raise task.TEXTS.error("not_mlm", label=entry.label)
    return ctx.load(model, TASK, progress)


def fill_mask(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    top_k: int = 5,
    targets: str = "",
    progress: Any = None,
    request: Any = None,
) -> tuple[dict[str, float], str, str, str]:
    """Fill the one blank of a sentence with the words a masked language model finds most likely.

    Args:
        text: A sentence with exactly one blank, written [MASK], <mask> or ___ (the model's own mask token goes there).
        model: A fill-mask model of the catalog, by id or label (default: the tab's default model).
        top_k: How many completions to return, 1 to 50 (with targets, every target is returned).
        targets: Words to score instead of the top k, comma-separated (empty: the top k); each gets its probability at the blank.

    Returns:
        The completions with their probabilities, the sentence as the model saw it, a note on targets the model splits into several tokens, and Python code that does the same.
    """
    lang = request_language(request)
    task.check_text(text)
    top_k = task.check_top_k(top_k, MAX_TOP_K)
    words = task.check_targets(targets)
    loaded = load_masked_lm(ctx, model, progress)
    result = task.complete(loaded.model, text, loaded.entry.label, top_k, words, lang)
    code = task.fill_snippet(loaded.entry.id, snippet_load_kwargs(loaded), result.sentence, top_k, result.targets)
    return result.scores, result.sentence, result.note, code


def fill_mask_steps(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    top_k: int = 5,
    progress: Any = None,
    request: Any = None,
) -> StepsOutputs:
    """Show what the fill-mask pipeline does, step by step: tokens and ids, the logits over the vocabulary at the blank, the most likely tokens.

    Args:
        text: A sentence with exactly one blank, written [MASK], <mask> or ___ (the model's own mask token goes there).
        model: A fill-mask model of the catalog, by id or label (default: the tab's default model).
        top_k: How many of the most likely tokens to show, 1 to 50.

    Returns:
        Notes on the preprocess step, the tokens table, no picture, notes on the forward and postprocess steps, the most likely tokens with logit and probability, every number as JSON, and the same steps as Python code with the Auto classes.
    """
    task.check_text(text)
    top_k = task.check_top_k(top_k, MAX_TOP_K)
    loaded = load_masked_lm(ctx, model, progress)
    sentence = task.prepare(loaded.model, text, loaded.entry.label)
    return steps_outputs(pipeline_steps.fill_mask_steps(loaded, sentence, top_k), request_language(request))


def compare_bias(
    ctx: TabContext,
    templates: str,
    groups: str,
    model: str | None = None,
    targets: str = "",
    top_k: int = 5,
    models: list[str] | None = None,
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, Any, str, str, str, Any]:
    """Compare a masked language model's completions when different groups fill the same template sentences.

    Args:
        templates: Template sentences, one per line, each with a {group} slot and one blank ([MASK], <mask> or ___).
        groups: At least 2 groups to put in the {group} slot, comma-separated or one per line (e.g. man, woman).
        model: A fill-mask model of the catalog, by id or label (default: the tab's default model); models overrides it.
        targets: Words whose probability is compared across the groups, comma-separated (empty: only the top completions).
        top_k: How many top completions to show per template and group, 1 to 20.
        models: Several fill-mask models of the catalog to compare at once, by id or label (empty: model alone).

    Returns:
        The top completions per group side by side, the target words' mean probability per group with log2 ratios, a CSV with every number, a note on what the numbers mean, Python code that does the same, and the heatmap data.
    """
    lang = request_language(request)
    comparison = task.new_comparison(templates, groups)
    words = task.check_targets(targets)
    top_k = task.check_top_k(top_k, MAX_COMPARE_TOP_K)
    refs = list(dict.fromkeys(m for m in (models or []) if m and str(m).strip())) or [model]
    entries = [ctx.entry(ref, TASK) for ref in refs]  # unknown models fail before anything loads
    notes, load_kwargs = [], {}
    for ref, entry in zip(refs, entries):
        loaded = load_masked_lm(ctx, ref, progress)
        resolved = task.compare_model(loaded.model, entry.label, comparison, words, top_k)
        notes.append(task.multi_token_note(resolved, entry.label, lang))
        load_kwargs[loaded.entry.id] = snippet_load_kwargs(loaded)
    result = task.report(comparison, [e.label for e in entries], notes, lang)
    code = task.compare_snippet(load_kwargs, comparison.templates, comparison.groups, words, top_k)
    return result.top, result.targets, result.csv_path, result.note, code, result.heatmap


def fill_mask_dataset(
    ctx: TabContext,
    file: str | None,
    column: str = "",
    model: str | None = None,
    top_k: int = 5,
    hub_dataset: str = "",
    hub_split: str = "",
    progress: Any = None,
    request: Any = None,
) -> tuple[str, Any, str]:
    """Fill the blank of every sentence of a CSV, JSONL or TXT file; returns a summary, the results and a CSV download.

    Args:
        file: The dataset: CSV with a header row, JSONL (one object a line) or TXT (one text a line); None with hub_dataset.
        column: The column holding the sentences; empty when the file has one column or a column named text.
        model: A fill-mask model of the catalog, by id or label (default: the tab's default model).
        top_k: How many completions to keep per row, 1 to 50 (a token and a score column for each).
        hub_dataset: Instead of a file, a Hugging Face Hub dataset: owner/name, or owner/name:config (empty: use the file).
        hub_split: The Hub dataset's split (empty: train).

    Returns:
        A summary, one row per sentence (the sentence as the model saw it, the top_k tokens and scores, a note on rows that could not be filled: no mask, several masks, too long) and the same table as CSV.
    """
    lang = request_language(request)
    top_k = task.check_top_k(top_k, MAX_TOP_K)
    table, name = datasets.open_dataset(file, column, ctx.limits, hub_dataset, hub_split, progress, lang)
    loaded = load_masked_lm(ctx, model, progress)

    def run_batch(texts: list[str]) -> list[list[Any]]:
        return task.fill_rows(loaded.model, texts, loaded.entry.label, top_k, lang, datasets.BATCH_SIZE)

    summary, frame, csv_path = datasets.run_dataset(
        table, name, run_batch, task.dataset_columns(top_k), progress, lang, "fill_mask_"
    )
    unfilled = int((frame["note"] != "").sum())
    if unfilled:
        summary += " " + task.TEXTS.get("unfilled", lang, count=unfilled)
    return summary, frame, csv_path


# ---- the page ---------------------------------------------------------------------------------


def build(ctx: TabContext) -> None:
    import gradio as gr

    defaults = {"model": ctx.default_model(TASK), "progress": gr.Progress()}
    # One handler object per endpoint: the Run button and the examples share its queue.
    run_fill_mask = guarded(bind(fill_mask, ctx, **defaults), gpu=True)
    run_compare_bias = guarded(bind(compare_bias, ctx, **defaults), gpu=True)
    presets = load_presets()

    model = model_picker(ctx, TASK)
    text = gr.Textbox(label=TEXTS.ui("text"), value="Paris is the [MASK] of France.")
    with gr.Row():
        top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
        targets = gr.Textbox(label=TEXTS.ui("targets"), value="")
    run = gr.Button(COMMON.ui("run"), variant="primary")
    completions = gr.Label(label=TEXTS.ui("completions"))
    seen = gr.Textbox(label=TEXTS.ui("seen"))
    note = gr.Markdown()
    code = code_panel()
    fill_inputs, fill_outputs = [text, model, top_k, targets], [completions, seen, note, code]
    run.click(run_fill_mask, fill_inputs, fill_outputs, api_name="fill_mask")
    steps_panel(guarded(bind(fill_mask_steps, ctx, **defaults), gpu=True), [text, model, top_k], "fill_mask_steps")
    # Examples fill the sentence only (the other columns stay as the user set them) and run at once.
    gr.Examples(
        [[sentence, None, None, None] for sentence in COURSE_SENTENCES],
        inputs=fill_inputs,
        outputs=fill_outputs,
        fn=run_fill_mask,
        run_on_click=True,
        cache_examples=False,
        label=TEXTS.ui("examples"),
    )
    panel = dataset_panel(ctx.limits)
    panel.run.click(
        guarded(bind(fill_mask_dataset, ctx, **defaults), gpu=True),
        panel.inputs(model, top_k),
        panel.outputs,
        api_name="fill_mask_dataset",
    )

    gr.Markdown(TEXTS.ui("compare_heading"))
    gr.Markdown(TEXTS.ui("compare_intro"))
    preset = gr.Dropdown([(TEXTS.ui(f"preset_{name}"), name) for name in presets], label=TEXTS.ui("preset"))
    first = presets[next(iter(presets))]
    templates = gr.Textbox(label=TEXTS.ui("templates"), lines=3, value=first["templates"])
    with gr.Row():
        groups = gr.Textbox(label=TEXTS.ui("groups"), value=first["groups"])
        b_targets = gr.Textbox(label=TEXTS.ui("targets"), value=first["targets"])
    with gr.Row():
        compare_models = gr.Dropdown(
            ctx.model_choices(TASK), value=[], multiselect=True, allow_custom_value=True, label=TEXTS.ui("models")
        )
        b_top_k = gr.Slider(1, MAX_COMPARE_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
    preset.change(apply_preset, [preset], [templates, groups, b_targets], api_visibility="private")
    compare = gr.Button(TEXTS.ui("compare"), variant="primary")
    # Hidden until the first comparison: an empty table shows Gradio's placeholder headers (1 2 3), and
    # the real ones (the groups, in the request's language) come with the result.
    top_view = gr.Dataframe(label=TEXTS.ui("top_table"), interactive=False, wrap=True, visible=False)
    heatmap_view = gr.Dataframe(label=TEXTS.ui("heatmap"), interactive=False, visible=False)
    target_view = gr.Dataframe(label=TEXTS.ui("target_table"), interactive=False, visible=False)
    for view in (top_view, heatmap_view, target_view):
        view.change(lambda: gr.update(visible=True), None, view, api_visibility="private", queue=False)
    b_note = gr.Markdown()
    csv_file = gr.File(label=TEXTS.ui("csv"))
    b_code = code_panel()
    compare_inputs = [templates, groups, model, b_targets, b_top_k, compare_models]
    compare_outputs = [top_view, target_view, csv_file, b_note, b_code, heatmap_view]
    compare.click(run_compare_bias, compare_inputs, compare_outputs, api_name="compare_bias")
    examples = gr.Examples(
        [[p["templates"], p["groups"], None, p["targets"], None, None] for p in presets.values()],
        inputs=compare_inputs,
        outputs=compare_outputs,
        fn=run_compare_bias,
        run_on_click=True,
        cache_examples=False,
        label=TEXTS.ui("examples"),
    )
    examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
    about_panel(TEXTS)
