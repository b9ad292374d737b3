"""Speech to text: the automatic-speech-recognition pipeline with segment/word timestamps, SRT and WebVTT.

Endpoint `/transcribe`. Audio is decoded by playground.audio (any format, mono, model's sampling
rate) into a temporary file. Up to 30 s it goes to the pipeline as one array; longer audio is read
window by window and run through the pipeline's own chunk machinery in batches, so memory stays flat
however long the recording is and the progress bar advances per chunk.
"""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from playground.audio import DecodedAudio, open_audio
from playground.errors import guarded
from playground.model_manager import ModelLoadError
from playground.snippets import Raw, pipeline_snippet, snippet_load_kwargs
from playground.texts import Texts, request_language
from playground.ui import TabContext, about_panel, code_panel, model_picker

TASK = "automatic-speech-recognition"
CHUNK_SECONDS = 30
BATCH_SIZE = 4

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
        "text": "Text",
        "segments": "Segments",
        "srt": "SRT subtitles",
        "vtt": "WebVTT subtitles",
        "stats": "Stats",
        "stats_md": "**Audio:** {duration:.1f} s · **Processing:** {elapsed:.2f} s · **Real-time factor:** {rtf:.2f} (below 1 = faster than real time)",
        "chunk_progress": "Transcribing chunk {done} of {total}",
        "ctc_note": "Note: this is a CTC model (not Whisper); task and language are ignored and timestamps are per word.",
        "remote_no_timestamps": "The server sent the text without timestamps: it is shown as one segment over the whole recording.",
        "silent_note": "No speech detected: the audio is silent (its loudest sample is below -60 dBFS), so the model was not run.",
        "nothing_recognised_note": "No speech detected: the model recognised no words in this audio.",
        "unknown_language": "This model does not know the language {language!r}. Choose one from the list (a code such as 'ko' or a name such as 'korean'), or auto-detect.",
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
        "text": "텍스트",
        "segments": "구간",
        "srt": "SRT 자막",
        "vtt": "WebVTT 자막",
        "stats": "통계",
        "stats_md": "**오디오:** {duration:.1f}초 · **처리 시간:** {elapsed:.2f}초 · **실시간 배율:** {rtf:.2f} (1보다 작으면 실시간보다 빠름)",
        "chunk_progress": "조각 {done}/{total} 받아쓰는 중",
        "ctc_note": "참고: 이 모델은 Whisper가 아닌 CTC 모델이라 작업과 언어는 무시되고 타임스탬프는 단어 단위입니다.",
        "remote_no_timestamps": "서버가 타임스탬프 없이 텍스트만 보내, 녹음 전체를 한 구간으로 보여 줍니다.",
        "silent_note": "음성이 없습니다: 오디오가 무음이라(가장 큰 샘플이 -60 dBFS 미만) 모델을 실행하지 않았습니다.",
        "nothing_recognised_note": "음성이 없습니다: 모델이 이 오디오에서 아무 단어도 인식하지 못했습니다.",
        "unknown_language": "이 모델은 언어 {language!r}를 모릅니다. 목록에서 고르거나('ko' 같은 코드 또는 'korean' 같은 이름) 자동 감지를 쓰세요.",
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

ProgressFn = Callable[[int, int], None]


def whisper_languages() -> dict[str, str]:
    """Whisper's language table (code -> name) as transformers defines it.

    The page is built before any model is needed, and importing transformers costs a second of
    start-up, so the table is read from its source file; the import is the fallback.
    """
    import ast
    from importlib.util import find_spec

    spec = find_spec("transformers")
    source = Path(spec.origin).parent / "models" / "whisper" / "tokenization_whisper.py" if spec and spec.origin else None
    try:
        for node in ast.parse(source.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LANGUAGES" for t in node.targets):
                return ast.literal_eval(node.value)
    except (AttributeError, OSError, SyntaxError, ValueError):
        pass
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    return LANGUAGES


def language_choices() -> list[tuple[Any, str]]:
    """Auto-detect, then every language Whisper knows as ("Korean (ko)", "ko")."""
    return [(TEXTS.ui("auto_language"), "auto"), *((f"{name.title()} ({code})", code) for code, name in whisper_languages().items())]


def is_whisper(pipe: Any) -> bool:
    return getattr(pipe.model.config, "model_type", "") == "whisper"


def has_whisper_options(source: str, revision: str | None = None) -> bool:
    """Whether the model at `source` is a Whisper model, from its config.json alone: a local folder or
    the Hub cache, read without network or importing torch (this runs while the page is built).

    A model not downloaded yet is judged by its id; an unreadable config keeps the options shown
    (the endpoint ignores them for CTC models anyway).
    """
    config = Path(source) / "config.json"
    if not config.is_file():
        from huggingface_hub import try_to_load_from_cache

        try:
            cached = try_to_load_from_cache(source, "config.json", revision=revision)
        except ValueError:  # not a Hub id (e.g. a local folder that does not exist)
            cached = None
        if not isinstance(cached, str):
            return "whisper" in source.lower()
        config = Path(cached)
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("model_type") == "whisper"
    except (OSError, ValueError):
        return True


def whisper_language(pipe: Any, language: str) -> str | None:
    """The language code for Whisper's generate(), None for auto-detect; a clear error for unknown ones."""
    from transformers.models.whisper.tokenization_whisper import LANGUAGES, TO_LANGUAGE_CODE

    value = (language or "auto").strip().lower()
    if value == "auto":
        return None
    code = value if value in LANGUAGES else TO_LANGUAGE_CODE.get(value)
    config = pipe.model.generation_config
    if not getattr(config, "is_multilingual", True):
        # English-only checkpoints (*.en) take no language token: English is all they do.
        if code == "en":
            return None
        raise TEXTS.error("unknown_language", language=language)
    if code is None or f"<|{code}|>" not in (getattr(config, "lang_to_id", None) or {}):
        raise TEXTS.error("unknown_language", language=language)
    return code


def call_kwargs(whisper: bool, task: str, language: str | None, timestamps: str, duration: float) -> dict[str, Any]:
    """Pipeline call options (as a user would pass them); Whisper-only ones are dropped for CTC models."""
    kwargs: dict[str, Any] = {}
    if duration > CHUNK_SECONDS:
        kwargs.update(chunk_length_s=CHUNK_SECONDS, batch_size=BATCH_SIZE)
    if whisper:
        generate: dict[str, Any] = {}
        if task == "translate":
            generate["task"] = "translate"
        if language:
            generate["language"] = language
        if generate:
            kwargs["generate_kwargs"] = generate
        if timestamps != "off":
            kwargs["return_timestamps"] = "word" if timestamps == "word" else True
    elif timestamps != "off":
        kwargs["return_timestamps"] = "word"
    return kwargs


def chunk_spans(frames: int, rate: int, align_to: int, chunk_seconds: float) -> list[tuple[int, int, int, int]]:
    """(start, stop, stride_left, stride_right) sample windows, exactly as the pipeline's chunk_iter cuts them."""
    stride_seconds = chunk_seconds / 6  # the pipeline's default stride_length_s
    chunk_len = int(round(chunk_seconds * rate / align_to) * align_to)
    stride = int(round(stride_seconds * rate / align_to) * align_to)
    spans = []
    for start in range(0, frames, chunk_len - 2 * stride):
        stop = start + chunk_len
        is_last = stop >= frames
        left = 0 if start == 0 else stride
        if min(stop, frames) - start > left:
            spans.append((start, min(stop, frames), left, 0 if is_last else stride))
        if is_last:
            break
    return spans


def transcribe_chunked(pipe: Any, audio: DecodedAudio, options: dict[str, Any], batch_size: int,
                       report: ProgressFn | None = None) -> dict[str, Any]:
    """What `pipe(samples, chunk_length_s=30, batch_size=...)` returns, reading one window at a time.

    The pipeline's own chunking slices one in-memory array of the whole recording. Here each window
    is read from the decoded file and preprocessed with its stride (giving the same model inputs as the
    pipeline's chunk_iter), batched and run by the pipeline's own collate/pack machinery, and the
    per-chunk outputs (a few tokens each) are merged by the pipeline's postprocess.
    """
    import torch
    from torch.utils.data import DataLoader
    from transformers.pipelines.base import no_collate_fn, pad_collate_fn
    from transformers.pipelines.pt_utils import PipelinePackIterator

    preprocess_params, forward_params, postprocess_params = pipe._sanitize_parameters(**options)
    # `_align_to` is what the pipeline rounds chunk and stride lengths to (samples per output frame).
    spans = chunk_spans(audio.frames, audio.rate, pipe._align_to, CHUNK_SECONDS)

    class Windows(torch.utils.data.IterableDataset):
        def __iter__(self) -> Iterator[dict[str, Any]]:
            for index, (start, stop, left, right) in enumerate(spans):
                if report:
                    report(index, len(spans))
                window = {"raw": audio.read(start, stop), "sampling_rate": audio.rate, "stride": (left, right)}
                item = next(iter(pipe.preprocess(window, **preprocess_params)))
                yield {**item, "is_last": index == len(spans) - 1}

    collate = no_collate_fn if batch_size == 1 else pad_collate_fn(pipe.tokenizer, pipe.feature_extractor)
    loader = DataLoader(Windows(), batch_size=batch_size, collate_fn=collate)
    outputs = next(iter(PipelinePackIterator(loader, pipe.forward, forward_params, loader_batch_size=batch_size)))
    if report:
        report(len(spans), len(spans))
    return pipe.postprocess(outputs, **postprocess_params)


def transcribe_audio(pipe: Any, audio: DecodedAudio, task: str, language: str, timestamps: str,
                     report: ProgressFn | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the pipeline; returns (result, the call kwargs a user would pass to get the same result)."""
    whisper = is_whisper(pipe)
    kwargs = call_kwargs(whisper, task, whisper_language(pipe, language) if whisper else None, timestamps, audio.duration)
    options = {k: v for k, v in kwargs.items() if k not in ("chunk_length_s", "batch_size")}
    if "chunk_length_s" in kwargs:
        return transcribe_chunked(pipe, audio, options, kwargs["batch_size"], report), kwargs
    return pipe({"raw": audio.read(), "sampling_rate": audio.rate}, **options), kwargs


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
    text = str(result.get("text", "")).strip()
    if not rows and text:
        rows.append([0.0, round(duration, 3), text])
    return rows


def subtitle_cues(rows: list[list[Any]], max_words: int, group_words: bool) -> list[list[Any]]:
    """Subtitle cues [start, end, text] from segment rows, each at most `max_words` words (0: no limit).

    Word rows (`group_words`) are joined into cues of up to `max_words` words. A longer segment is
    split into cues of `max_words` words, its time shared out by character count, so every cue lies
    inside its segment and the cues' words are the segment's words. Rows without text make no cue.
    """
    cues: list[list[Any]] = []
    for start, end, text in rows:
        words = text.split()
        if not words:
            continue
        if group_words and max_words and cues and cues[-1][3] + len(words) <= max_words:
            cues[-1][1], cues[-1][2], cues[-1][3] = end, f"{cues[-1][2]} {text}", cues[-1][3] + len(words)
            continue
        if not max_words or len(words) <= max_words:
            cues.append([start, end, text, len(words)])
            continue
        pieces = [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]
        total = sum(len(p) for p in pieces)
        at, used = start, 0
        for piece in pieces:
            used += len(piece)
            stop = end if used == total else round(start + (end - start) * used / total, 3)
            cues.append([at, stop, piece, len(piece.split())])
            at = stop
    return [cue[:3] for cue in cues]


def _clock(seconds: float, separator: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def _lines(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True)) or text


def to_srt(cues: list[list[Any]], width: int) -> str:
    blocks = [f"{i}\n{_clock(s, ',')} --> {_clock(e, ',')}\n{_lines(t, width)}\n" for i, (s, e, t) in enumerate(cues, 1)]
    return "\n".join(blocks)


def to_vtt(cues: list[list[Any]], width: int) -> str:
    blocks = [f"{_clock(s, '.')} --> {_clock(e, '.')}\n{_lines(t, width)}\n" for s, e, t in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


def decoding_setup(filename: str, decoder: str) -> tuple[list[str], list[str]]:
    """(imports, lines) that decode `filename` the way playground.audio did, for the show-code panel."""
    if decoder == "soundfile":
        return ["import soundfile as sf", "import soxr"], [
            "# Decode to mono float32 at the model's sampling rate (as the app does).",
            "rate = pipe.feature_extractor.sampling_rate",
            f"samples, file_rate = sf.read({filename!r}, dtype='float32', always_2d=True)",
            "samples = samples.mean(axis=1)",
            "if file_rate != rate:",
            "    samples = soxr.resample(samples, file_rate, rate)",
        ]
    return ["import subprocess", "", "import numpy as np"], [
        "# Decode to mono float32 at the model's sampling rate with ffmpeg (as the app does).",
        "rate = pipe.feature_extractor.sampling_rate",
        f"command = ['ffmpeg', '-i', {filename!r}, '-vn', '-ac', '1', '-ar', str(rate), '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:']",
        "samples = np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, dtype=np.float32)",
    ]


def _write(text: str, suffix: str) -> str:
    handle, path = tempfile.mkstemp(suffix=suffix, prefix="transcript-")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def remote_transcript(entry: Any, audio: str | None, task: str, language: str, timestamps: str, width: int,
                      max_words: int, max_minutes: float, lang: str) -> tuple[Any, ...]:
    """The tab's outputs for a model served by an endpoint (playground.remote_engine.transcribe): the
    audio is checked and measured here, then sent as it is."""
    from playground.remote_engine import transcribe, transcription_snippet

    with open_audio(audio, 16000, max_minutes) as decoded:
        duration = decoded.duration
    value = (language or "auto").strip().lower()
    names = {name: code for code, name in whisper_languages().items()}
    code = None if value == "auto" else names.get(value, value)
    began = time.perf_counter()
    result = transcribe(entry, audio, task, code, timestamps)
    elapsed = time.perf_counter() - began
    rows = segments_from(result, duration) if timestamps != "off" else []
    cues = subtitle_cues(rows, max_words, group_words=timestamps == "word")
    notes = [TEXTS.get("stats_md", lang, duration=duration, elapsed=elapsed, rtf=elapsed / max(duration, 1e-9))]
    if timestamps != "off" and not result["timestamps_given"]:
        notes.append(TEXTS.get("remote_no_timestamps", lang))
    snippet = transcription_snippet(entry, os.path.basename(audio or "audio.wav"), task, code, timestamps)
    return (result["text"], rows, _write(to_srt(cues, width), ".srt"), _write(to_vtt(cues, width), ".vtt"),
            "\n\n".join(notes), snippet)


def build(ctx: TabContext) -> None:
    import gradio as gr

    def transcribe(
        audio: str | None,
        model: str | None = None,
        task: str = "transcribe",
        language: str = "auto",
        timestamps: str = "segment",
        max_chars_per_line: int = 42,
        max_words_per_cue: int = 0,
        progress: Any = gr.Progress(),
        request: Any = None,
    ) -> tuple[Any, ...]:
        # Gradio itself rejects task/timestamps outside the Radio choices and numbers outside the sliders.
        lang = request_language(request)
        entry = ctx.entry(model, TASK)
        if entry.is_remote:  # served by an engine's audio API (vLLM, transformers serve), not loaded here
            return remote_transcript(entry, audio, task, language, timestamps, int(max_chars_per_line),
                                     int(max_words_per_cue), ctx.limits.max_audio_minutes, lang)
        loaded = ctx.load(model, TASK, progress)
        pipe = loaded.model

        def report(done: int, total: int) -> None:
            progress((done, total), desc=TEXTS.get("chunk_progress", lang, done=min(done + 1, total), total=total), unit="chunks")

        with open_audio(audio, pipe.feature_extractor.sampling_rate, ctx.limits.max_audio_minutes) as decoded:
            began = time.perf_counter()
            if decoded.is_silent:
                # Whisper invents text for silence ("Thank you."); an empty transcript is the honest answer.
                kwargs = call_kwargs(is_whisper(pipe), task, None, timestamps, decoded.duration)
                result: dict[str, Any] = {"text": ""}
            else:
                result, kwargs = transcribe_audio(pipe, decoded, task, language, timestamps, report)
            elapsed = time.perf_counter() - began
            duration, decoder = decoded.duration, decoded.decoder
        rows = segments_from(result, duration)
        text = str(result.get("text", "")).strip()
        cues = subtitle_cues(rows, int(max_words_per_cue), group_words=kwargs.get("return_timestamps") == "word")
        width = int(max_chars_per_line)
        notes = [TEXTS.get("stats_md", lang, duration=duration, elapsed=elapsed, rtf=elapsed / max(duration, 1e-9))]
        if not is_whisper(pipe) and (task != "transcribe" or language != "auto" or timestamps == "segment"):
            notes.append(TEXTS.get("ctc_note", lang))
        if decoded.is_silent:
            notes.append(TEXTS.get("silent_note", lang))
        elif not text:
            notes.append(TEXTS.get("nothing_recognised_note", lang))
        imports, setup = decoding_setup(os.path.basename(audio or "audio.wav"), decoder)
        snippet = pipeline_snippet(
            TASK,
            loaded.entry.id,
            [Raw("{'raw': samples, 'sampling_rate': rate}")],
            kwargs,
            snippet_load_kwargs(loaded),
            setup=setup,
            imports=imports,
        )
        return (
            text,
            rows,
            _write(to_srt(cues, width), ".srt"),
            _write(to_vtt(cues, width), ".vtt"),
            "\n\n".join(notes),
            snippet,
        )

    def whisper_options_visible(model: str | None) -> bool:
        try:
            entry = ctx.entry(model, TASK)
        except ModelLoadError:  # an unknown id: the Transcribe button explains the refusal
            return True
        if entry.is_remote:  # the audio API takes a task and a language
            return True
        return has_whisper_options(ctx.catalog.resolve_path(entry), entry.revision)

    def show_whisper_options(model: str | None) -> tuple[Any, Any]:
        visible = whisper_options_visible(model)
        return gr.update(visible=visible), gr.update(visible=visible)

    with gr.Row():
        with gr.Column():
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label=TEXTS.ui("audio"))
            model = model_picker(ctx, TASK)
            default_is_whisper = whisper_options_visible(None)
            task = gr.Radio(["transcribe", "translate"], value="transcribe", label=TEXTS.ui("task"), visible=default_is_whisper)
            language = gr.Dropdown(language_choices(), value="auto", allow_custom_value=True, label=TEXTS.ui("language"),
                                   visible=default_is_whisper)
            timestamps = gr.Radio(["off", "segment", "word"], value="segment", label=TEXTS.ui("timestamps"))
            max_chars = gr.Slider(10, 200, value=42, step=1, label=TEXTS.ui("max_chars"))
            max_words = gr.Slider(0, 40, value=0, step=1, label=TEXTS.ui("max_words"))
            button = gr.Button(TEXTS.ui("transcribe"), variant="primary")
        with gr.Column():
            text = gr.Textbox(label=TEXTS.ui("text"), lines=6)
            table = gr.Dataframe(headers=["start", "end", "text"], label=TEXTS.ui("segments"))
            srt = gr.File(label=TEXTS.ui("srt"))
            vtt = gr.File(label=TEXTS.ui("vtt"))
            stats = gr.Markdown()
    code = code_panel()
    about_panel(TEXTS)
    model.change(show_whisper_options, model, [task, language], api_visibility="private", queue=False)
    button.click(
        guarded(transcribe, gpu=True),
        [audio, model, task, language, timestamps, max_chars, max_words],
        [text, table, srt, vtt, stats, code],
        api_name="transcribe",
    )
