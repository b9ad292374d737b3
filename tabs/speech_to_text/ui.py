"""Speech to text tab: record or upload audio, get the text, timestamped segments and subtitles.

Endpoints `/transcribe` and `/speech_to_text_steps(audio, model)` (the pipeline's three steps for
the first 30 s, playground.web.steps_view). The task logic (decoding, chunking, timestamps, SRT/WebVTT) is in
tabs.speech_to_text.task; this module holds the handlers and the page (strings: `locales/`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.downloads import write_text_download
from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.engines.speech_batching import concurrent_transcriptions, speech_batch_size
from playground.loading.model_manager import ModelLoadError
from playground.media.audio import open_audio
from playground.media.images import EXAMPLES_DIR
from playground.tasks import pipeline_steps
from playground.web.errors import guarded
from playground.web.steps_view import StepsOutputs, steps_outputs, steps_panel
from playground.web.ui import TabContext, about_panel, bind, code_panel, model_picker
from tabs.speech_to_text import task as speech

# A short clip of espeak-ng speech (CC0, see assets/examples/LICENSE.md; scripts/make_examples.py).
EXAMPLE_CLIP = EXAMPLES_DIR / "speech" / "welcome.ogg"
MAX_CHARS = (10, 200, 42)  # low, high, default characters per subtitle line
MAX_WORDS = (0, 40, 0)  # low, high, default words per subtitle cue

TEXTS = Texts.load("speech_to_text", Path(__file__).with_name("locales"))


def language_choices() -> list[tuple[Any, str]]:
    """Auto-detect, then every language Whisper knows as ("Korean (ko)", "ko"), named in the page's language."""
    return [
        (TEXTS.ui("auto_language"), "auto"),
        *((TEXTS.ui(f"lang_{code}"), code) for code in speech.whisper_languages()),
    ]


def remote_language(language: str | None) -> str | None:
    """The language code the audio API takes (a code or a Whisper name), None for auto-detect."""
    value = (language or "auto").strip().lower()
    if value == "auto":
        return None
    names = {name: code for code, name in speech.whisper_languages().items()}
    return names.get(value, value)


# The tab's option behind each optional audio API field, for the notes on what a server refused.
REMOTE_FIELD_OPTIONS = {
    "timestamp_granularities": "timestamps",
    "response_format": "timestamps",
    "language": "language",
}


def remote_notes(answer: Any, timestamps: str, duration: float, lang: str) -> list[str]:
    """What happened to the tab's options on the endpoint (playground.engines.remote_engine.RemoteTranscript),
    one sentence each, for this request: those the audio API has no field for, the fields the server
    refused, and what its answer leaves out. Subtitle widths and cue sizes are applied here, as for
    local models, so they need no note."""
    sent = answer.request
    notes = []
    if "language" in sent.unmapped:
        notes.append(TEXTS.get("remote_translate_language", lang))
    if "word_timestamps" in sent.unmapped:
        notes.append(TEXTS.get("remote_translate_words", lang))
    for name in sent.refused:
        notes.append(
            TEXTS.get(
                "remote_refused", lang, option=TEXTS.get(f"option_{REMOTE_FIELD_OPTIONS[name]}", lang), field=name
            )
        )
    if timestamps != "off" and not answer.timestamps_given:
        notes.append(TEXTS.get("remote_no_timestamps", lang))
    if "language" in sent.arguments and answer.language is None:
        notes.append(TEXTS.get("remote_language_unconfirmed", lang, language=sent.arguments["language"]))
    if duration > speech.CHUNK_SECONDS:
        notes.append(
            TEXTS.get("remote_long_audio", lang, duration=duration, chunk=speech.CHUNK_SECONDS, batch=speech.BATCH_SIZE)
        )
    return notes


def remote_transcript(
    transcriber: Any,
    entry: Any,
    audio: str | None,
    task: str,
    language: str,
    timestamps: str,
    width: int,
    max_words: int,
    max_minutes: float,
    lang: str,
) -> tuple[Any, ...]:
    """The tab's outputs for a model served by an endpoint: the audio is checked and measured here,
    then sent as it is through the audio API (playground.engines.remote_engine.audio_request says how the
    options map onto it)."""
    from playground.engines.remote_engine import transcription_snippet
    from playground.media.audio import open_audio

    with open_audio(audio, 16000, max_minutes) as decoded:
        duration = decoded.duration
    began = time.perf_counter()
    answer = transcriber.transcribe(audio, transcriber.request(task, remote_language(language), timestamps))
    elapsed = time.perf_counter() - began
    rows = speech.segments_from(answer.result(), duration) if timestamps != "off" else []
    cues = speech.subtitle_cues(rows, max_words, group_words=answer.word_rows)
    notes = [
        TEXTS.get("stats_md", lang, duration=duration, elapsed=elapsed, rtf=elapsed / max(duration, 1e-9)),
        *remote_notes(answer, timestamps, duration, lang),
    ]
    snippet = transcription_snippet(entry, os.path.basename(audio or "audio.wav"), answer.request)
    headers = [TEXTS.get(f"col_{name}", lang) for name in ("start", "end", "text")]
    return (
        answer.text,
        {"headers": headers, "data": rows},
        write_text_download(speech.to_srt(cues, width), ".srt", "transcript-"),
        write_text_download(speech.to_vtt(cues, width), ".vtt", "transcript-"),
        "\n\n".join(notes),
        snippet,
    )


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def whole_number(value: Any, name: str, limits: tuple[int, int, int]) -> int:
    low, high, _ = limits
    return whole_number_in_range(
        value, low, high, lambda: TEXTS.error("out_of_range", name=name, low=low, high=high, value=value)
    )


def transcribe(
    ctx: TabContext,
    audio: str | None,
    model: str | None = None,
    task: str = "transcribe",
    language: str = "auto",
    timestamps: str = "segment",
    max_chars_per_line: int = MAX_CHARS[2],
    max_words_per_cue: int = MAX_WORDS[2],
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, ...]:
    """Transcribe (or translate to English) the speech in an audio or video file, with timestamps and subtitles.

    Args:
        audio: The recording: any audio or video file (WAV, FLAC, OGG, MP3, M4A, WebM, MP4...).
        model: The speech model, a catalog id or label (default: the tab's default model).
        task: "transcribe" keeps the spoken language, "translate" writes English (Whisper only).
        language: The spoken language as a code ("ko") or a name ("korean"), or "auto" to detect it (Whisper only).
        timestamps: "off", "segment" or "word" timestamps (CTC models give words).
        max_chars_per_line: Subtitle lines wrap at this many characters (10 to 200).
        max_words_per_cue: At most this many words per subtitle cue; 0 keeps one cue per segment (0 to 40).
    """
    lang = request_language(request)
    width = whole_number(max_chars_per_line, "max_chars_per_line", MAX_CHARS)
    max_words = whole_number(max_words_per_cue, "max_words_per_cue", MAX_WORDS)
    entry = ctx.entry(model, ctx.tasks[0])
    if entry.is_remote:  # served by an engine's audio API (vLLM, transformers serve), not loaded here
        return remote_transcript(
            ctx.engines.transcriber(entry),
            entry,
            audio,
            task,
            language,
            timestamps,
            width,
            max_words,
            ctx.limits.max_audio_minutes,
            lang,
        )
    loaded = ctx.load(model, ctx.tasks[0], progress)

    def report(done: int, total: int) -> None:
        progress(
            (done, total), desc=TEXTS.get("chunk_progress", lang, done=min(done + 1, total), total=total), unit="chunks"
        )

    if speech_batch_size(loaded) == 1:  # one request at a time (a CPU, ZeroGPU): nothing to share
        result = speech.transcribe(
            loaded.model, audio, ctx.limits.max_audio_minutes, task, language, timestamps, report
        )
    else:
        with ctx.engines.speech(loaded).session() as session:
            result = speech.transcribe(
                loaded.model,
                audio,
                ctx.limits.max_audio_minutes,
                task,
                language,
                timestamps,
                report,
                session.forward_windows,
            )
    cues = speech.subtitle_cues(result.rows, max_words, group_words=result.word_rows)
    notes = [TEXTS.get("stats_md", lang, duration=result.duration, elapsed=result.elapsed, rtf=result.real_time_factor)]
    if speech.ignores_whisper_options(result.whisper, task, language, timestamps):
        notes.append(TEXTS.get("ctc_note", lang))
    if result.silent:
        notes.append(TEXTS.get("silent_note", lang))
    elif not result.text:
        notes.append(TEXTS.get("nothing_recognised_note", lang))
    snippet = speech.transcription_snippet(
        loaded.entry.task, loaded.entry.id, snippet_load_kwargs(loaded), os.path.basename(audio or "audio.wav"), result
    )
    # Gradio does not translate a table's headers in the browser: they are written in the request's language.
    headers = [TEXTS.get(f"col_{name}", lang) for name in ("start", "end", "text")]
    return (
        result.text,
        {"headers": headers, "data": result.rows},
        write_text_download(speech.to_srt(cues, width), ".srt", "transcript-"),
        write_text_download(speech.to_vtt(cues, width), ".vtt", "transcript-"),
        "\n\n".join(notes),
        snippet,
    )


def speech_to_text_steps(
    ctx: TabContext, audio: str | None, model: str | None = None, progress: Any = None, request: Any = None
) -> StepsOutputs:
    """Show what the speech-recognition pipeline does with the first 30 s: the log-mel spectrogram or waveform, the model's output, the text.

    Args:
        audio: The recording: any audio or video file (WAV, FLAC, OGG, MP3, M4A, WebM, MP4...).
        model: The speech model, a catalog id or label (default: the tab's default model).

    Returns:
        Notes on the preprocess step, no tokens, the spectrogram or waveform as a picture, notes on the forward and postprocess steps, the generated tokens (Whisper) or each frame's best token (CTC), every number as JSON, and the same steps as Python code with the Auto classes.
    """
    entry = ctx.entry(model, ctx.tasks[0])
    if entry.is_remote:
        raise pipeline_steps.TEXTS.error("remote", label=entry.label)
    loaded = ctx.load(model, ctx.tasks[0], progress)
    rate = loaded.model.feature_extractor.sampling_rate
    with open_audio(audio, rate, ctx.limits.max_audio_minutes) as decoded:
        steps = pipeline_steps.speech_steps(loaded, decoded)
    return steps_outputs(steps, request_language(request))


def whisper_options_visible(ctx: TabContext, model: str | None) -> bool:
    try:
        entry = ctx.entry(model, ctx.tasks[0])
    except ModelLoadError:  # an unknown id: the Transcribe button explains the refusal
        return True
    if entry.is_remote:  # the audio API takes a task and a language
        return True
    return speech.has_whisper_options(ctx.catalog.resolve_path(entry), entry.revision)


def show_whisper_options(ctx: TabContext, model: str | None) -> tuple[Any, Any]:
    import gradio as gr

    visible = whisper_options_visible(ctx, model)
    return gr.update(visible=visible), gr.update(visible=visible)


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    (asr_task,) = ctx.tasks

    with gr.Row():
        with gr.Column():
            audio = gr.Audio(
                sources=["microphone", "upload"], type="filepath", label=TEXTS.ui("audio"), elem_id="speech-audio"
            )
            model = model_picker(ctx, asr_task)
            default_is_whisper = whisper_options_visible(ctx, None)
            task = gr.Radio(
                [(TEXTS.ui(f"task_{choice}"), choice) for choice in speech.TASK_CHOICES],
                value="transcribe",
                label=TEXTS.ui("task"),
                visible=default_is_whisper,
            )
            language = gr.Dropdown(
                language_choices(),
                value="auto",
                allow_custom_value=True,
                label=TEXTS.ui("language"),
                visible=default_is_whisper,
            )
            timestamps = gr.Radio(
                [(TEXTS.ui(f"timestamps_{choice}"), choice) for choice in speech.TIMESTAMP_CHOICES],
                value="segment",
                label=TEXTS.ui("timestamps"),
            )
            max_chars = gr.Slider(MAX_CHARS[0], MAX_CHARS[1], value=MAX_CHARS[2], step=1, label=TEXTS.ui("max_chars"))
            max_words = gr.Slider(MAX_WORDS[0], MAX_WORDS[1], value=MAX_WORDS[2], step=1, label=TEXTS.ui("max_words"))
            button = gr.Button(TEXTS.ui("transcribe"), variant="primary")
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=6)
            # Hidden until the first result, which brings its headers in the request's language.
            table = gr.Dataframe(label=TEXTS.ui("segments"), visible=False)
            srt = gr.File(label=TEXTS.ui("srt"))
            vtt = gr.File(label=TEXTS.ui("vtt"))
            stats = gr.Markdown()
    code = code_panel()
    inputs = [audio, model, task, language, timestamps, max_chars, max_words]
    outputs = [text, table, srt, vtt, stats, code]
    handler = guarded(bind(transcribe, ctx, progress=gr.Progress()), gpu=True)
    # Concurrent requests on one model share forward passes (playground.engines.speech_batching), so as many
    # may run as fill a batch; the rest wait in Gradio's queue.
    button.click(
        handler,
        inputs,
        outputs,
        api_name="transcribe",
        concurrency_limit=concurrent_transcriptions(ctx.models(asr_task), ctx.limits.device),
        concurrency_id="speech_to_text",
    )
    steps_panel(
        guarded(bind(speech_to_text_steps, ctx, progress=gr.Progress()), gpu=True),
        [audio, model],
        "speech_to_text_steps",
        picture=True,
        tokens=False,
    )
    if EXAMPLE_CLIP.is_file():
        # Only the clip is filled in: the run uses the model and options already chosen. (Created after
        # the click, so the endpoint keeps its name; the example's own event is undocumented.)
        gr.Examples(
            [[str(EXAMPLE_CLIP), *[None] * (len(inputs) - 1)]],
            inputs,
            outputs,
            fn=handler,
            run_on_click=True,
            cache_examples=False,
            label=TEXTS.ui("examples"),
            elem_id="speech-examples",
        )
    about_panel(TEXTS)
    model.change(bind(show_whisper_options, ctx), model, [task, language], api_visibility="private", queue=False)
    table.change(lambda: gr.update(visible=True), None, table, api_visibility="private", queue=False)
