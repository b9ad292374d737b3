"""Speech to text: the automatic-speech-recognition pipeline with segment/word timestamps, SRT and WebVTT.

Endpoint `/transcribe`. Audio is decoded by playground.audio (any format, mono, model's sampling
rate) and handed to the pipeline as a raw array; long audio is cut into 30 s chunks run in batches.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
import time
from typing import Any

from playground.audio import decode_audio
from playground.errors import guarded
from playground.snippets import Raw, model_load_kwargs, pipeline_snippet
from playground.texts import Texts
from playground.ui import TabContext, about_panel, code_panel, model_picker

TASK = "automatic-speech-recognition"

STRINGS = {
    "en": {
        "title": "Speech to text",
        "audio": "Audio (record or upload; any audio or video format)",
        "task": "Task (Whisper only)",
        "language": "Language (Whisper only; auto = detect)",
        "timestamps": "Timestamps",
        "max_chars": "Max characters per subtitle line",
        "transcribe": "Transcribe",
        "text": "Text",
        "segments": "Segments",
        "srt": "SRT subtitles",
        "vtt": "WebVTT subtitles",
        "stats": "Stats",
        "col_start": "start (s)",
        "col_end": "end (s)",
        "col_text": "text",
        "stats_md": "**Audio:** {duration:.1f} s · **Processing:** {elapsed:.2f} s · **Real-time factor:** {rtf:.2f} (below 1 = faster than real time)",
        "bad_language": "Unknown language {language!r}: use auto, a language code such as en or ko, or a name such as korean.",
        "ctc_note": "Note: this is a CTC model (not Whisper); task and language are ignored and timestamps are per word.",
        "about": (
            "The `automatic-speech-recognition` pipeline turns 16 kHz mono samples into text. Whisper is a "
            "sequence-to-sequence model that can also translate to English and emit segment or word "
            "timestamps; CTC models such as wav2vec2 predict one character per audio frame. Audio longer "
            "than 30 s is cut into overlapping 30 s chunks processed in batches. The real-time factor is "
            "processing time divided by audio duration."
        ),
    },
    "ko": {
        "title": "음성 인식",
        "audio": "오디오 (녹음 또는 업로드; 모든 오디오/비디오 형식)",
        "task": "작업 (Whisper 전용)",
        "language": "언어 (Whisper 전용; auto = 자동 감지)",
        "timestamps": "타임스탬프",
        "max_chars": "자막 한 줄 최대 글자 수",
        "transcribe": "받아쓰기",
        "text": "텍스트",
        "segments": "구간",
        "srt": "SRT 자막",
        "vtt": "WebVTT 자막",
        "stats": "통계",
        "col_start": "시작 (초)",
        "col_end": "끝 (초)",
        "col_text": "텍스트",
        "stats_md": "**오디오:** {duration:.1f}초 · **처리 시간:** {elapsed:.2f}초 · **실시간 배율:** {rtf:.2f} (1보다 작으면 실시간보다 빠름)",
        "bad_language": "알 수 없는 언어 {language!r}: auto, en·ko 같은 언어 코드, korean 같은 이름을 쓰세요.",
        "ctc_note": "참고: 이 모델은 Whisper가 아닌 CTC 모델이라 작업과 언어는 무시되고 타임스탬프는 단어 단위입니다.",
        "about": (
            "`automatic-speech-recognition` 파이프라인은 16 kHz 모노 샘플을 텍스트로 바꿉니다. Whisper는 "
            "영어로 번역하거나 구간/단어 타임스탬프도 낼 수 있는 시퀀스-투-시퀀스 모델이고, wav2vec2 같은 CTC "
            "모델은 오디오 프레임마다 글자를 예측합니다. 30초보다 긴 오디오는 겹치는 30초 조각으로 나눠 묶음 "
            "처리합니다. 실시간 배율은 처리 시간을 오디오 길이로 나눈 값입니다."
        ),
    },
}
TEXTS = Texts("speech_to_text", STRINGS)

LANGUAGES = ["auto", "en", "ko", "ja", "zh", "de", "fr", "es", "it", "pt", "ru"]


def is_whisper(pipe: Any) -> bool:
    return getattr(pipe.model.config, "model_type", "") == "whisper"


def check_language(language: str | None) -> str:
    """A language Whisper knows (code or English name), lower-cased; empty means auto."""
    from transformers.models.whisper.tokenization_whisper import LANGUAGES as CODES
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    value = (language or "").strip().lower() or "auto"
    if value != "auto" and value not in CODES and value not in TO_LANGUAGE_CODE:
        raise TEXTS.error("bad_language", language=language)
    return value


def call_kwargs(whisper: bool, task: str, language: str, timestamps: str, duration: float) -> dict[str, Any]:
    """Pipeline call options; Whisper-only ones are dropped for CTC models."""
    kwargs: dict[str, Any] = {}
    if duration > 30:
        kwargs.update(chunk_length_s=30, batch_size=4)
    if whisper:
        generate: dict[str, Any] = {}
        if task == "translate":
            generate["task"] = "translate"
        if language != "auto":
            generate["language"] = language
        if generate:
            kwargs["generate_kwargs"] = generate
        if timestamps != "off":
            kwargs["return_timestamps"] = "word" if timestamps == "word" else True
    elif timestamps != "off":
        kwargs["return_timestamps"] = "word"
    return kwargs


def segments_from(result: dict[str, Any], duration: float) -> list[list[Any]]:
    """[start, end, text] rows, clamped to the audio (random or hallucinating models overshoot or omit ends)."""
    rows: list[list[Any]] = []
    chunks = result.get("chunks") or []
    for index, chunk in enumerate(chunks):
        start, end = (chunk.get("timestamp") or (None, None))[:2]
        start = min(max(float(start or 0.0), 0.0), duration)
        if end is None:
            nxt = chunks[index + 1].get("timestamp", (None,))[0] if index + 1 < len(chunks) else None
            end = nxt if nxt is not None else duration
        end = min(max(float(end), start), duration)
        rows.append([round(start, 3), round(end, 3), str(chunk.get("text", "")).strip()])
    if not rows:
        rows.append([0.0, round(duration, 3), str(result.get("text", "")).strip()])
    return rows


def _clock(seconds: float, separator: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def _lines(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True)) or text


def to_srt(rows: list[list[Any]], width: int) -> str:
    cues = [f"{i}\n{_clock(s, ',')} --> {_clock(e, ',')}\n{_lines(t, width)}\n" for i, (s, e, t) in enumerate(rows, 1)]
    return "\n".join(cues)


def to_vtt(rows: list[list[Any]], width: int) -> str:
    cues = [f"{_clock(s, '.')} --> {_clock(e, '.')}\n{_lines(t, width)}\n" for s, e, t in rows]
    return "WEBVTT\n\n" + "\n".join(cues)


def transcribe_samples(pipe: Any, samples: Any, task: str, language: str, timestamps: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the pipeline; returns (result, the call kwargs used)."""
    rate = pipe.feature_extractor.sampling_rate
    kwargs = call_kwargs(is_whisper(pipe), task, language, timestamps, len(samples) / rate)
    # A fresh dict each call: the pipeline pops "raw" and "sampling_rate" from it.
    result = pipe({"raw": samples, "sampling_rate": rate}, **kwargs)
    return result, kwargs


def _write(text: str, suffix: str) -> str:
    handle, path = tempfile.mkstemp(suffix=suffix, prefix="transcript-")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def build(ctx: TabContext) -> None:
    import gradio as gr

    def transcribe(
        audio: str | None,
        model: str | None = None,
        task: str = "transcribe",
        language: str = "auto",
        timestamps: str = "segment",
        max_chars_per_line: int = 42,
        progress: Any = gr.Progress(),
    ) -> tuple[Any, ...]:
        # Gradio itself rejects task/timestamps outside the Radio choices and widths outside the slider.
        loaded = ctx.load(model, TASK, progress)
        pipe = loaded.model
        rate = pipe.feature_extractor.sampling_rate
        samples = decode_audio(audio, rate, ctx.limits.max_audio_minutes)
        if is_whisper(pipe):
            language = check_language(language)
        duration = len(samples) / rate
        began = time.perf_counter()
        result, kwargs = transcribe_samples(pipe, samples, task, language, timestamps)
        elapsed = time.perf_counter() - began
        rows = segments_from(result, duration)
        width = int(max_chars_per_line)
        stats = TEXTS.get("stats_md", duration=duration, elapsed=elapsed, rtf=elapsed / max(duration, 1e-9))
        if not is_whisper(pipe) and (task != "transcribe" or language != "auto" or timestamps == "segment"):
            stats += "\n\n" + TEXTS.get("ctc_note")
        snippet = pipeline_snippet(
            TASK,
            loaded.entry.id,
            [Raw("{'raw': samples, 'sampling_rate': rate}")],
            kwargs,
            model_load_kwargs(loaded.entry, loaded.dtype, loaded.device),
            setup=[
                "# Decode to mono float32 at the model's rate (ffmpeg handles any format).",
                "rate = pipe.feature_extractor.sampling_rate",
                "samples = ffmpeg_read(open('audio.wav', 'rb').read(), rate)",
            ],
            imports=["from transformers.pipelines.audio_utils import ffmpeg_read"],
        )
        return (
            str(result.get("text", "")).strip(),
            rows,
            _write(to_srt(rows, width), ".srt"),
            _write(to_vtt(rows, width), ".vtt"),
            stats,
            snippet,
        )

    with gr.Row():
        with gr.Column():
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label=TEXTS.ui("audio"))
            model = model_picker(ctx, TASK)
            task = gr.Radio(["transcribe", "translate"], value="transcribe", label=TEXTS.ui("task"))
            language = gr.Dropdown(LANGUAGES, value="auto", allow_custom_value=True, label=TEXTS.ui("language"))
            timestamps = gr.Radio(["off", "segment", "word"], value="segment", label=TEXTS.ui("timestamps"))
            max_chars = gr.Slider(10, 200, value=42, step=1, label=TEXTS.ui("max_chars"))
            button = gr.Button(TEXTS.ui("transcribe"), variant="primary")
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=6)
            table = gr.Dataframe(headers=["start", "end", "text"], label=TEXTS.ui("segments"))
            srt = gr.File(label=TEXTS.ui("srt"))
            vtt = gr.File(label=TEXTS.ui("vtt"))
            stats = gr.Markdown()
    code = code_panel()
    about_panel(TEXTS)
    button.click(
        guarded(transcribe),
        [audio, model, task, language, timestamps, max_chars],
        [text, table, srt, vtt, stats, code],
        api_name="transcribe",
    )
