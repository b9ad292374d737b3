"""Text to speech tab: type a text, hear it read (MMS-TTS voices) or a prompt turned into music (MusicGen).

Endpoint `/synthesize_speech(text, model, seed=0, music_seconds=5)` -> the audio (WAV), the same file
as a download, stats (sampling rate, duration, what was read) and the code. The task logic is
tabs.text_to_speech.task; this module holds the handler and the page (strings: `locales/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.web.errors import guarded
from playground.web.ui import TabContext, about_panel, bind, code_panel, model_picker
from tabs.text_to_speech import task
from tabs.text_to_speech.task import MAX_SEED, MUSIC_SECONDS, TASK

EXAMPLES = (
    "Welcome to the Hugging Face course. Every tab shows the code it runs.",
    "안녕하세요. 허깅페이스 강좌에 오신 것을 환영합니다.",
    "A calm lo-fi beat with soft piano and rain.",
)

TEXTS = Texts.load("text_to_speech", Path(__file__).with_name("locales"))


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----


def synthesize_speech(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    seed: int = 0,
    music_seconds: int = MUSIC_SECONDS[2],
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, ...]:
    """Read a text aloud (a text-to-speech voice) or turn a prompt into music (MusicGen).

    Args:
        text: The text to read, up to 1000 characters (a voice reads it sentence by sentence), or a music prompt.
        model: A text-to-audio model of the catalog, by id or label (default: the tab's default).
        seed: The random seed (0 to 4294967295): the models sample, and the same seed gives the same audio.
        music_seconds: Seconds of music to generate, 1 to 30 (music models only).

    Returns:
        The audio (WAV), the same file to download, stats (sampling rate, duration, what was read) and Python code that does the same.
    """
    lang = request_language(request)
    task.check_text(text)  # before a model loads: empty or too long text is refused at once
    seed = task.check_seed(seed)
    music_seconds = task.check_music_seconds(music_seconds)
    loaded = ctx.load(model, TASK, progress)

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress((done, total), desc=TEXTS.get("piece_progress", lang, done=min(done + 1, total), total=total))

    speech = task.synthesize(loaded.model, text, seed, music_seconds, report)
    path = task.write_wav(speech)
    notes = [
        TEXTS.get(
            "stats_md",
            lang,
            rate=speech.sampling_rate,
            duration=speech.duration,
            pieces=len(speech.pieces),
            seed=speech.seed,
            elapsed=speech.elapsed,
        )
    ]
    if speech.romanized:
        notes.append(TEXTS.get("romanized_note", lang, text=" ".join(speech.pieces)))
    if speech.skipped:
        notes.append(TEXTS.get("skipped_note", lang, pieces=" · ".join(speech.skipped)))
    if task.is_music_model(loaded.model) and len(task.split_sentences(text)) > 1:
        notes.append(TEXTS.get("music_note", lang))
    code = task.snippet(loaded.entry.id, snippet_load_kwargs(loaded), speech)
    return path, path, "\n\n".join(notes), code


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    (tts_task,) = ctx.tasks
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=5, value=EXAMPLES[0])
            model = model_picker(ctx, tts_task)
            with gr.Row():
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label=TEXTS.ui("seed"))
                music_seconds = gr.Slider(
                    *MUSIC_SECONDS[:2], value=MUSIC_SECONDS[2], step=1, label=TEXTS.ui("music_seconds")
                )
            button = gr.Button(TEXTS.ui("synthesize"), variant="primary")
        with gr.Column():
            audio = gr.Audio(type="filepath", label=TEXTS.ui("audio"), interactive=False)
            download = gr.File(label=TEXTS.ui("download"), interactive=False)
            stats = gr.Markdown()
    code = code_panel()
    inputs = [text, model, seed, music_seconds]
    outputs = [audio, download, stats, code]
    handler = guarded(bind(synthesize_speech, ctx, model=ctx.default_model(tts_task), progress=gr.Progress()), gpu=True)
    button.click(handler, inputs, outputs, api_name="synthesize_speech")
    # Only the text is filled in: the run uses the model, seed and length already chosen.
    examples = gr.Examples(
        [[example, None, None, None] for example in EXAMPLES],
        inputs,
        outputs,
        fn=handler,
        run_on_click=True,
        cache_examples=False,
        visible_columns=[0],
        label=TEXTS.ui("examples"),
    )
    examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
    about_panel(TEXTS)
