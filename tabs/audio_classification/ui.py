"""Audio classification tab: what a recording sounds like, from the model's labels or from yours.

Endpoints: `/classify_audio(audio, model, top_k=5, window_seconds=10)` (`audio-classification`: AST on
AudioSet, keyword spotters) and `/classify_audio_zero_shot(audio, model, labels, hypothesis_template,
window_seconds=10)` (`zero-shot-audio-classification`: CLAP). Each returns the scores (gr.Label), a
timeline of the best label per window, stats and the code. The task logic is
tabs.audio_classification.task; this module holds the handlers and the page (strings: `locales/`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playground.core.labels import parse_labels
from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media.images import EXAMPLES_DIR
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker
from tabs.audio_classification import task
from tabs.audio_classification.task import CLASSIFY_TASK, MAX_TOP_K, TEMPLATE, WINDOW_SECONDS, ZERO_SHOT_TASK

# Short clips that ship with the app (CC0, see assets/examples/LICENSE.md; scripts/make_examples.py).
EXAMPLE_CLIPS = (EXAMPLES_DIR / "speech" / "welcome.ogg", EXAMPLES_DIR / "audio" / "beep_silence_noise.ogg")
EXAMPLE_LABELS = "speech, music, a beep, white noise, silence"

TEXTS = Texts.load("audio_classification", Path(__file__).with_name("locales"))


def outputs_of(result: task.Classification, code: str, lang: str) -> tuple[Any, ...]:
    """The page's outputs: scores, the timeline table (headers in the request's language), stats, code."""
    headers = [TEXTS.get(f"col_{name}", lang) for name in ("start", "end", "label", "score")]
    stats = TEXTS.get(
        "stats_md",
        lang,
        duration=result.duration,
        windows=result.windows,
        window=result.window_seconds,
        elapsed=result.elapsed,
    )
    return result.scores, {"headers": headers, "data": result.timeline}, stats, code


def progress_report(progress: Any, lang: str) -> task.WindowsDone | None:
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        progress((done, total), desc=TEXTS.get("window_progress", lang, done=min(done + 1, total), total=total))

    return report


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def classify_audio(
    ctx: TabContext,
    audio: str | None,
    model: str | None = None,
    top_k: int = 5,
    window_seconds: int = WINDOW_SECONDS[2],
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, ...]:
    """Name the sounds in a recording: the audio classification model's top labels, and the best label of each window.

    Args:
        audio: The recording: any audio or video file (WAV, FLAC, OGG, MP3, M4A, WebM, MP4...).
        model: An audio classification model of the catalog, by id or label (default: the tab's default).
        top_k: How many labels to return, 1 to 20.
        window_seconds: Seconds classified at once, 1 to 30; longer audio gets a timeline of windows (the model's own limit may shorten it).

    Returns:
        The top labels with their scores (averaged over the windows), the timeline, stats and Python code that does the same.
    """
    lang = request_language(request)
    top_k = task.check_top_k(top_k)
    window = task.check_window(window_seconds)
    loaded = ctx.load(model, CLASSIFY_TASK, progress)
    result = task.classify(
        loaded.model, audio, ctx.limits.max_audio_minutes, top_k, window, progress_report(progress, lang)
    )
    code = task.snippet(
        CLASSIFY_TASK,
        loaded.entry.id,
        snippet_load_kwargs(loaded),
        os.path.basename(audio or "audio.wav"),
        result,
        {"top_k": top_k},
    )
    return outputs_of(result, code, lang)


def classify_audio_zero_shot(
    ctx: TabContext,
    audio: str | None,
    model: str | None = None,
    labels: str = "",
    hypothesis_template: str = TEMPLATE,
    window_seconds: int = WINDOW_SECONDS[2],
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, ...]:
    """Score a recording against labels you choose, with no training, using a CLAP model.

    Args:
        audio: The recording: any audio or video file (WAV, FLAC, OGG, MP3, M4A, WebM, MP4...).
        model: A CLAP model of the catalog, by id or label (default: the tab's default).
        labels: The candidate labels, comma-separated or one per line (at most 100).
        hypothesis_template: The caption each label is put into, with {} where the label goes (blank: "This is a sound of {}.").
        window_seconds: Seconds scored at once, 1 to 30 (CLAP reads at most 10); longer audio gets a timeline of windows.

    Returns:
        The label scores (they sum to 1), the timeline, stats and Python code that does the same.
    """
    lang = request_language(request)
    label_list = parse_labels(labels)
    template = task.check_template(hypothesis_template)
    window = task.check_window(window_seconds)
    loaded = ctx.load(model, ZERO_SHOT_TASK, progress)
    result = task.classify_zero_shot(
        loaded.model, audio, label_list, ctx.limits.max_audio_minutes, template, window, progress_report(progress, lang)
    )
    code = task.snippet(
        ZERO_SHOT_TASK,
        loaded.entry.id,
        snippet_load_kwargs(loaded),
        os.path.basename(audio or "audio.wav"),
        result,
        {"candidate_labels": label_list, "hypothesis_template": template},
    )
    return outputs_of(result, code, lang)


# ---- the page ----


def result_widgets() -> list[Any]:
    """Scores, the timeline (shown once a result brings its headers in the request's language), stats."""
    import gradio as gr

    scores = gr.Label(label=TEXTS.ui("scores"))
    timeline = gr.Dataframe(label=TEXTS.ui("timeline"), interactive=False, visible=False)
    stats = gr.Markdown()
    timeline.change(lambda: gr.update(visible=True), None, timeline, api_visibility="private", queue=False)
    return [scores, timeline, stats]


def build(ctx: TabContext) -> None:
    import gradio as gr

    progress = gr.Progress()
    clips = [str(clip) for clip in EXAMPLE_CLIPS if clip.is_file()]
    # Either task alone is a valid catalog: each sub-tab is built only for its models.
    if ctx.models(CLASSIFY_TASK):
        with gr.Tab(TEXTS.ui("classify_tab")):
            with gr.Row():
                with gr.Column():
                    audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label=TEXTS.ui("audio"))
                    model = model_picker(ctx, CLASSIFY_TASK)
                    top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
                    window = gr.Slider(*WINDOW_SECONDS[:2], value=WINDOW_SECONDS[2], step=1, label=TEXTS.ui("window"))
                    run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    outputs = result_widgets()
            code = code_panel()
            handler = guarded(
                bind(classify_audio, ctx, model=ctx.default_model(CLASSIFY_TASK), progress=progress), gpu=True
            )
            inputs = [audio, model, top_k, window]
            run.click(handler, inputs, [*outputs, code], api_name="classify_audio")
            if clips:
                # Only the clip is filled in: the run uses the model and options already chosen.
                gr.Examples(
                    [[clip, None, None, None] for clip in clips],
                    inputs,
                    [*outputs, code],
                    fn=handler,
                    run_on_click=True,
                    cache_examples=False,
                    label=TEXTS.ui("examples"),
                )
    if ctx.models(ZERO_SHOT_TASK):
        with gr.Tab(TEXTS.ui("zero_shot_tab")):
            with gr.Row():
                with gr.Column():
                    audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label=TEXTS.ui("audio"))
                    model = model_picker(ctx, ZERO_SHOT_TASK)
                    labels = gr.Textbox(label=TEXTS.ui("labels"), value=EXAMPLE_LABELS)
                    template = gr.Textbox(label=TEXTS.ui("template"), value=TEMPLATE)
                    window = gr.Slider(*WINDOW_SECONDS[:2], value=WINDOW_SECONDS[2], step=1, label=TEXTS.ui("window"))
                    run = gr.Button(COMMON.ui("run"), variant="primary")
                with gr.Column():
                    outputs = result_widgets()
            code = code_panel()
            handler = guarded(
                bind(classify_audio_zero_shot, ctx, model=ctx.default_model(ZERO_SHOT_TASK), progress=progress),
                gpu=True,
            )
            inputs = [audio, model, labels, template, window]
            run.click(handler, inputs, [*outputs, code], api_name="classify_audio_zero_shot")
            if clips:
                examples = gr.Examples(
                    [[clip, None, EXAMPLE_LABELS, TEMPLATE, None] for clip in clips],
                    inputs,
                    [*outputs, code],
                    fn=handler,
                    run_on_click=True,
                    cache_examples=False,
                    visible_columns=[0, 2],
                    label=TEXTS.ui("examples"),
                )
                examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
    about_panel(TEXTS)
