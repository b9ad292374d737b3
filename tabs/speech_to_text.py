"""Speech to text tab: record or upload audio, get the text, timestamped segments and subtitles.

Endpoint `/transcribe`. The task logic (decoding, chunking, timestamps, SRT/WebVTT) is in
playground.tasks.speech_to_text; this module holds the tab's strings and its UI.
"""

from __future__ import annotations

import os
import time
from typing import Any

from playground.core.downloads import write_text_download
from playground.web.errors import guarded
from playground.media.images import EXAMPLES_DIR
from playground.core.checks import whole_number_in_range
from playground.loading.model_manager import ModelLoadError
from playground.core.snippets import snippet_load_kwargs
from playground.engines.speech_batching import concurrent_transcriptions, speech_batch_size
from playground.tasks import speech_to_text as speech
from playground.core.texts import Texts, request_language
from playground.web.ui import TabContext, about_panel, code_panel, model_picker

# A short clip of espeak-ng speech (CC0, see assets/examples/LICENSE.md; scripts/make_examples.py).
EXAMPLE_CLIP = EXAMPLES_DIR / "speech" / "welcome.ogg"
MAX_CHARS = (10, 200, 42)  # low, high, default characters per subtitle line
MAX_WORDS = (0, 40, 0)  # low, high, default words per subtitle cue

STRINGS = {
    "en": {
        "title": "Speech to text",
        "audio": "Audio (record or upload; any audio or video format)",
        "task": "Task (Whisper only)",
        "language": "Language (Whisper only)",
        "auto_language": "Auto-detect",
        "timestamps": "Timestamps",
        "max_chars": "Max characters per subtitle line",
        "max_words": "Max words per subtitle cue (0 = one cue per segment)",
        "transcribe": "Transcribe",
        "task_transcribe": "Transcribe",
        "task_translate": "Translate to English",
        "timestamps_off": "Off",
        "timestamps_segment": "Segments",
        "timestamps_word": "Words",
        "col_start": "start",
        "col_end": "end",
        "col_text": "text",
        "examples": "Examples (click one to transcribe it)",
        "out_of_range": "{name} must be a whole number from {low} to {high} (got {value}).",
        "text": "Text",
        "segments": "Segments",
        "srt": "SRT subtitles",
        "vtt": "WebVTT subtitles",
        "stats": "Stats",
        "stats_md": "**Audio:** {duration:.1f} s · **Processing:** {elapsed:.2f} s · **Real-time factor:** {rtf:.2f} (below 1 = faster than real time)",
        "chunk_progress": "Transcribing chunk {done} of {total}",
        "ctc_note": "Note: this is a CTC model (not Whisper); task and language are ignored and timestamps are per word.",
        "remote_no_timestamps": "The server sent the text without timestamps: it is shown as one segment over the whole recording.",
        "option_timestamps": "Timestamps",
        "option_language": "Language",
        "remote_refused": "{option}: the server refused the audio API field {field}, so the request was sent without it.",
        "remote_translate_language": (
            "Language: the audio API's translation route has no language field, so the chosen language was not "
            "sent; the server detects the spoken language itself."
        ),
        "remote_translate_words": (
            "Timestamps: the audio API's translation route gives segment timestamps only, so segments were asked "
            "for instead of words."
        ),
        "remote_language_unconfirmed": (
            "Language: {language} was sent, but the server's answer does not say which language it heard, so this "
            "server may have ignored it."
        ),
        "remote_long_audio": (
            "Long audio: the audio API has no chunking or batch size option, so the {duration:.0f} s recording was "
            "sent whole and the server decides how to read it (local models get {chunk} s chunks, {batch} at a "
            "time; some servers read only the first {chunk} s)."
        ),
        "silent_note": "No speech detected: the audio is silent (its loudest sample is below -60 dBFS), so the model was not run.",
        "nothing_recognised_note": "No speech detected: the model recognised no words in this audio.",
        "about": (
            "The `automatic-speech-recognition` pipeline turns 16 kHz mono samples into text. Whisper is a "
            "sequence-to-sequence model that can also translate to English and emit segment or word "
            "timestamps; CTC models such as wav2vec2 predict one character per audio frame. Audio longer "
            "than 30 s is cut into overlapping 30 s chunks (5 s of context on each side) processed in "
            "batches of 4. Subtitles wrap lines at the chosen width and split segments into cues of at most "
            "the chosen number of words (word timestamps are grouped). The real-time factor is processing "
            "time divided by audio duration."
        ),
    },
    "ko": {
        "title": "음성 인식",
        "audio": "오디오 (녹음 또는 업로드; 모든 오디오/비디오 형식)",
        "task": "작업 (Whisper 전용)",
        "language": "언어 (Whisper 전용)",
        "auto_language": "자동 감지",
        "timestamps": "타임스탬프",
        "max_chars": "자막 한 줄 최대 글자 수",
        "max_words": "자막 한 장면 최대 단어 수 (0 = 구간마다 한 장면)",
        "transcribe": "받아쓰기",
        "task_transcribe": "받아쓰기",
        "task_translate": "영어로 번역",
        "timestamps_off": "끄기",
        "timestamps_segment": "구간",
        "timestamps_word": "단어",
        "col_start": "시작",
        "col_end": "끝",
        "col_text": "텍스트",
        "examples": "예시 (누르면 받아쓰기합니다)",
        "out_of_range": "{name} 값은 {low}에서 {high} 사이의 정수여야 합니다(받은 값: {value}).",
        "text": "텍스트",
        "segments": "구간",
        "srt": "SRT 자막",
        "vtt": "WebVTT 자막",
        "stats": "통계",
        "stats_md": "**오디오:** {duration:.1f}초 · **처리 시간:** {elapsed:.2f}초 · **실시간 배율:** {rtf:.2f} (1보다 작으면 실시간보다 빠름)",
        "chunk_progress": "조각 {done}/{total} 받아쓰는 중",
        "ctc_note": "참고: 이 모델은 Whisper가 아닌 CTC 모델이라 작업과 언어는 무시되고 타임스탬프는 단어 단위입니다.",
        "remote_no_timestamps": "서버가 타임스탬프 없이 텍스트만 보내, 녹음 전체를 한 구간으로 보여 줍니다.",
        "option_timestamps": "타임스탬프",
        "option_language": "언어",
        "remote_refused": "{option}: 서버가 오디오 API 필드 {field}을(를) 거부해, 그 필드 없이 요청했습니다.",
        "remote_translate_language": (
            "언어: 오디오 API의 번역 경로에는 언어 필드가 없어 고른 언어를 보내지 않았습니다. 서버가 말한 언어를 "
            "스스로 감지합니다."
        ),
        "remote_translate_words": (
            "타임스탬프: 오디오 API의 번역 경로는 구간 타임스탬프만 주므로, 단어 대신 구간을 요청했습니다."
        ),
        "remote_language_unconfirmed": (
            "언어: {language}을(를) 보냈지만 서버 응답에 어떤 언어로 들었는지가 없어, 이 서버는 언어를 무시했을 수 "
            "있습니다."
        ),
        "remote_long_audio": (
            "긴 오디오: 오디오 API에는 조각 나누기나 배치 크기 옵션이 없어 {duration:.0f}초 녹음을 통째로 보냈고, "
            "읽는 방법은 서버가 정합니다(로컬 모델은 {chunk}초 조각을 {batch}개씩 처리합니다. 처음 {chunk}초만 "
            "읽는 서버도 있습니다)."
        ),
        "silent_note": "음성이 없습니다: 오디오가 무음이라(가장 큰 샘플이 -60 dBFS 미만) 모델을 실행하지 않았습니다.",
        "nothing_recognised_note": "음성이 없습니다: 모델이 이 오디오에서 아무 단어도 인식하지 못했습니다.",
        "about": (
            "`automatic-speech-recognition` 파이프라인은 16 kHz 모노 샘플을 텍스트로 바꿉니다. Whisper는 "
            "영어로 번역하거나 구간/단어 타임스탬프도 낼 수 있는 시퀀스-투-시퀀스 모델이고, wav2vec2 같은 CTC "
            "모델은 오디오 프레임마다 글자를 예측합니다. 30초보다 긴 오디오는 양쪽에 5초씩 겹치는 30초 조각으로 "
            "나눠 4개씩 묶어 처리합니다. 자막은 정한 글자 수에서 줄을 바꾸고, 구간을 정한 단어 수 이하의 장면으로 "
            "나눕니다(단어 타임스탬프는 묶습니다). 실시간 배율은 처리 시간을 오디오 길이로 나눈 값입니다."
        ),
    },
}
TEXTS = Texts("speech_to_text", STRINGS)


def language_choices() -> list[tuple[Any, str]]:
    """Auto-detect, then every language Whisper knows as ("Korean (ko)", "ko")."""
    return [(TEXTS.ui("auto_language"), "auto"),
            *((f"{name.title()} ({code})", code) for code, name in speech.whisper_languages().items())]


def remote_language(language: str | None) -> str | None:
    """The language code the audio API takes (a code or a Whisper name), None for auto-detect."""
    value = (language or "auto").strip().lower()
    if value == "auto":
        return None
    names = {name: code for code, name in speech.whisper_languages().items()}
    return names.get(value, value)


# The tab's option behind each optional audio API field, for the notes on what a server refused.
REMOTE_FIELD_OPTIONS = {"timestamp_granularities": "timestamps", "response_format": "timestamps", "language": "language"}


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
        notes.append(TEXTS.get("remote_refused", lang, option=TEXTS.get(f"option_{REMOTE_FIELD_OPTIONS[name]}", lang), field=name))
    if timestamps != "off" and not answer.timestamps_given:
        notes.append(TEXTS.get("remote_no_timestamps", lang))
    if "language" in sent.arguments and answer.language is None:
        notes.append(TEXTS.get("remote_language_unconfirmed", lang, language=sent.arguments["language"]))
    if duration > speech.CHUNK_SECONDS:
        notes.append(TEXTS.get("remote_long_audio", lang, duration=duration, chunk=speech.CHUNK_SECONDS, batch=speech.BATCH_SIZE))
    return notes


def remote_transcript(transcriber: Any, entry: Any, audio: str | None, task: str, language: str, timestamps: str, width: int,
                      max_words: int, max_minutes: float, lang: str) -> tuple[Any, ...]:
    """The tab's outputs for a model served by an endpoint: the audio is checked and measured here,
    then sent as it is through the audio API (playground.engines.remote_engine.audio_request says how the
    options map onto it)."""
    from playground.media.audio import open_audio
    from playground.engines.remote_engine import transcription_snippet

    with open_audio(audio, 16000, max_minutes) as decoded:
        duration = decoded.duration
    began = time.perf_counter()
    answer = transcriber.transcribe(audio, transcriber.request(task, remote_language(language), timestamps))
    elapsed = time.perf_counter() - began
    rows = speech.segments_from(answer.result(), duration) if timestamps != "off" else []
    cues = speech.subtitle_cues(rows, max_words, group_words=answer.word_rows)
    notes = [TEXTS.get("stats_md", lang, duration=duration, elapsed=elapsed, rtf=elapsed / max(duration, 1e-9)),
             *remote_notes(answer, timestamps, duration, lang)]
    snippet = transcription_snippet(entry, os.path.basename(audio or "audio.wav"), answer.request)
    headers = [TEXTS.get(f"col_{name}", lang) for name in ("start", "end", "text")]
    return (answer.text, {"headers": headers, "data": rows},
            write_text_download(speech.to_srt(cues, width), ".srt", "transcript-"),
            write_text_download(speech.to_vtt(cues, width), ".vtt", "transcript-"), "\n\n".join(notes), snippet)


def build(ctx: TabContext) -> None:
    import gradio as gr

    (asr_task,) = ctx.tasks

    def whole_number(value: Any, name: str, limits: tuple[int, int, int]) -> int:
        low, high, _ = limits
        return whole_number_in_range(value, low, high, lambda: TEXTS.error("out_of_range", name=name, low=low, high=high, value=value))

    def transcribe(
        audio: str | None,
        model: str | None = None,
        task: str = "transcribe",
        language: str = "auto",
        timestamps: str = "segment",
        max_chars_per_line: int = MAX_CHARS[2],
        max_words_per_cue: int = MAX_WORDS[2],
        progress: Any = gr.Progress(),
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
        entry = ctx.entry(model, asr_task)
        if entry.is_remote:  # served by an engine's audio API (vLLM, transformers serve), not loaded here
            return remote_transcript(ctx.engines.transcriber(entry), entry, audio, task, language, timestamps, width, max_words,
                                     ctx.limits.max_audio_minutes, lang)
        loaded = ctx.load(model, asr_task, progress)

        def report(done: int, total: int) -> None:
            progress((done, total), desc=TEXTS.get("chunk_progress", lang, done=min(done + 1, total), total=total), unit="chunks")

        if speech_batch_size(loaded) == 1:  # one request at a time (a CPU, ZeroGPU): nothing to share
            result = speech.transcribe(loaded.model, audio, ctx.limits.max_audio_minutes, task, language, timestamps, report)
        else:
            with ctx.engines.speech(loaded).session() as session:
                result = speech.transcribe(loaded.model, audio, ctx.limits.max_audio_minutes, task, language, timestamps,
                                           report, session.forward_windows)
        cues = speech.subtitle_cues(result.rows, max_words, group_words=result.word_rows)
        notes = [TEXTS.get("stats_md", lang, duration=result.duration, elapsed=result.elapsed, rtf=result.real_time_factor)]
        if speech.ignores_whisper_options(result.whisper, task, language, timestamps):
            notes.append(TEXTS.get("ctc_note", lang))
        if result.silent:
            notes.append(TEXTS.get("silent_note", lang))
        elif not result.text:
            notes.append(TEXTS.get("nothing_recognised_note", lang))
        snippet = speech.transcription_snippet(loaded.entry.task, loaded.entry.id, snippet_load_kwargs(loaded),
                                               os.path.basename(audio or "audio.wav"), result)
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

    def whisper_options_visible(model: str | None) -> bool:
        try:
            entry = ctx.entry(model, asr_task)
        except ModelLoadError:  # an unknown id: the Transcribe button explains the refusal
            return True
        if entry.is_remote:  # the audio API takes a task and a language
            return True
        return speech.has_whisper_options(ctx.catalog.resolve_path(entry), entry.revision)

    def show_whisper_options(model: str | None) -> tuple[Any, Any]:
        visible = whisper_options_visible(model)
        return gr.update(visible=visible), gr.update(visible=visible)

    with gr.Row():
        with gr.Column():
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label=TEXTS.ui("audio"), elem_id="speech-audio")
            model = model_picker(ctx, asr_task)
            default_is_whisper = whisper_options_visible(None)
            task = gr.Radio([(TEXTS.ui(f"task_{choice}"), choice) for choice in speech.TASK_CHOICES], value="transcribe",
                            label=TEXTS.ui("task"), visible=default_is_whisper)
            language = gr.Dropdown(language_choices(), value="auto", allow_custom_value=True, label=TEXTS.ui("language"),
                                   visible=default_is_whisper)
            timestamps = gr.Radio([(TEXTS.ui(f"timestamps_{choice}"), choice) for choice in speech.TIMESTAMP_CHOICES],
                                  value="segment", label=TEXTS.ui("timestamps"))
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
    handler = guarded(transcribe, gpu=True)
    # Concurrent requests on one model share forward passes (playground.engines.speech_batching), so as many
    # may run as fill a batch; the rest wait in Gradio's queue.
    button.click(handler, inputs, outputs, api_name="transcribe",
                 concurrency_limit=concurrent_transcriptions(ctx.models(asr_task), ctx.limits.device),
                 concurrency_id="speech_to_text")
    if EXAMPLE_CLIP.is_file():
        # Only the clip is filled in: the run uses the model and options already chosen. (Created after
        # the click, so the endpoint keeps its name; the example's own event is undocumented.)
        gr.Examples([[str(EXAMPLE_CLIP), *[None] * (len(inputs) - 1)]], inputs, outputs, fn=handler, run_on_click=True,
                    cache_examples=False, label=TEXTS.ui("examples"), elem_id="speech-examples")
    about_panel(TEXTS)
    model.change(show_whisper_options, model, [task, language], api_visibility="private", queue=False)
    table.change(lambda: gr.update(visible=True), None, table, api_visibility="private", queue=False)
