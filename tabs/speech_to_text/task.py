"""Speech to text: the automatic-speech-recognition pipeline, long audio in chunks, timestamps, SRT/WebVTT.

Audio is decoded by playground.media.audio (any format, mono, the model's sampling rate) into a temporary
file. Up to 30 s it goes to the pipeline as one array; longer audio is read window by window and run
through the pipeline's own chunk machinery in batches, so memory stays flat however long the
recording is and progress can be reported per chunk.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.snippets import Raw, pipeline_snippet
from playground.core.texts import Texts
from playground.media.audio import DecodedAudio, decoding_snippet, open_audio

CHUNK_SECONDS = 30
BATCH_SIZE = 4
TASK_CHOICES = ("transcribe", "translate")
TIMESTAMP_CHOICES = ("off", "segment", "word")

TEXTS = Texts.load("speech_to_text.task", Path(__file__).with_name("locales"))

# report(done, total): how many chunks of the recording are transcribed, after each one.
WindowsDone = Callable[[int, int], None]


def whisper_languages() -> dict[str, str]:
    """Whisper's language table (code -> name) as transformers defines it.

    The page is built before any model is needed, and importing transformers costs a second of
    start-up, so the table is read from its source file; the import is the fallback.
    """
    import ast
    from importlib.util import find_spec

    spec = find_spec("transformers")
    source = (
        Path(spec.origin).parent / "models" / "whisper" / "tokenization_whisper.py" if spec and spec.origin else None
    )
    try:
        for node in ast.parse(source.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LANGUAGES" for t in node.targets):
                return ast.literal_eval(node.value)
    except (AttributeError, OSError, SyntaxError, ValueError):
        pass
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    return LANGUAGES


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


def transcribe_chunked(
    pipe: Any, audio: DecodedAudio, options: dict[str, Any], batch_size: int, report: WindowsDone | None = None
) -> dict[str, Any]:
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


WindowForward = Callable[[Iterable[dict[str, Any]], dict[str, Any], Callable[[int], None] | None], list[Any]]


def model_windows(
    pipe: Any, audio: DecodedAudio, options: dict[str, Any], chunked: bool
) -> tuple[Iterator[dict[str, Any]], int, dict[str, Any], dict[str, Any]]:
    """(the model inputs, how many, forward params, postprocess params) the pipeline would make for
    `pipe(audio, **options)`: one input for a clip, one per 30 s window (with its stride) when `chunked`.
    The inputs are made lazily, a window read from the decoded file at a time."""
    preprocess_params, forward_params, postprocess_params = pipe._sanitize_parameters(**options)
    preprocess_params = {**pipe._preprocess_params, **preprocess_params}
    forward_params = {**pipe._forward_params, **forward_params}
    postprocess_params = {**pipe._postprocess_params, **postprocess_params}
    if not chunked:
        whole = pipe.preprocess({"raw": audio.read(), "sampling_rate": audio.rate}, **preprocess_params)
        return iter(whole), 1, forward_params, postprocess_params
    spans = chunk_spans(audio.frames, audio.rate, pipe._align_to, CHUNK_SECONDS)

    def windows() -> Iterator[dict[str, Any]]:
        for index, (start, stop, left, right) in enumerate(spans):
            window = {"raw": audio.read(start, stop), "sampling_rate": audio.rate, "stride": (left, right)}
            item = next(iter(pipe.preprocess(window, **preprocess_params)))
            yield {**item, "is_last": index == len(spans) - 1}

    return windows(), len(spans), forward_params, postprocess_params


def transcribe_shared(
    pipe: Any,
    audio: DecodedAudio,
    options: dict[str, Any],
    chunked: bool,
    forward: WindowForward,
    report: WindowsDone | None = None,
) -> dict[str, Any]:
    """What `pipe(audio, **options)` (with chunking when `chunked`) returns, its model inputs run by
    `forward` (e.g. playground.engines.speech_batching's Session.forward_windows, batched with other requests')."""
    items, total, forward_params, postprocess_params = model_windows(pipe, audio, options, chunked)
    if report:
        report(0, total)
    outputs = forward(items, forward_params, (lambda done: report(done, total)) if report else None)
    return pipe.postprocess(outputs, **postprocess_params)


def transcribe_audio(
    pipe: Any,
    audio: DecodedAudio,
    task: str,
    language: str,
    timestamps: str,
    report: WindowsDone | None = None,
    forward: WindowForward | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the pipeline; returns (result, the call kwargs a user would pass to get the same result).
    With `forward`, the model inputs are run by it (shared batches) instead of by the pipeline here."""
    whisper = is_whisper(pipe)
    # Whisper aligns words with the cross-attention heads its checkpoint lists; without them
    # generate() fails deep inside.
    if whisper and timestamps == "word" and not getattr(pipe.model.generation_config, "alignment_heads", None):
        raise TEXTS.error("no_word_timestamps")
    kwargs = call_kwargs(
        whisper, task, whisper_language(pipe, language) if whisper else None, timestamps, audio.duration
    )
    options = {k: v for k, v in kwargs.items() if k not in ("chunk_length_s", "batch_size")}
    chunked = "chunk_length_s" in kwargs
    if forward is not None:
        return transcribe_shared(pipe, audio, options, chunked, forward, report), kwargs
    if chunked:
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


@dataclass
class Transcription:
    """What one transcription produced, and how it ran."""

    text: str
    rows: list[list[Any]]  # [start, end, text] segments (words for word timestamps)
    call_kwargs: dict[str, Any]  # the pipeline call options a user would pass for the same result
    duration: float  # seconds of audio
    elapsed: float  # seconds of processing
    decoder: str  # "soundfile" or "ffmpeg": which tool read the file
    silent: bool  # the model was not run: the audio is silent
    whisper: bool

    @property
    def real_time_factor(self) -> float:
        return self.elapsed / max(self.duration, 1e-9)

    @property
    def word_rows(self) -> bool:
        """Rows are single words (word timestamps), which subtitles group into cues."""
        return self.call_kwargs.get("return_timestamps") == "word"


def transcribe(
    pipe: Any,
    path: str | None,
    max_minutes: float,
    task: str = "transcribe",
    language: str = "auto",
    timestamps: str = "segment",
    report: WindowsDone | None = None,
    forward: WindowForward | None = None,
) -> Transcription:
    """Decode the file at `path` and transcribe it with the ASR pipeline `pipe` (its model inputs run
    by `forward` when given, see transcribe_audio)."""
    whisper = is_whisper(pipe)
    with open_audio(path, pipe.feature_extractor.sampling_rate, max_minutes) as decoded:
        began = time.perf_counter()
        if decoded.is_silent:
            # Whisper invents text for silence ("Thank you."); an empty transcript is the honest answer.
            kwargs = call_kwargs(whisper, task, None, timestamps, decoded.duration)
            result: dict[str, Any] = {"text": ""}
        else:
            result, kwargs = transcribe_audio(pipe, decoded, task, language, timestamps, report, forward)
        elapsed = time.perf_counter() - began
        duration, decoder, silent = decoded.duration, decoded.decoder, decoded.is_silent
    return Transcription(
        str(result.get("text", "")).strip(),
        segments_from(result, duration),
        kwargs,
        duration,
        elapsed,
        decoder,
        silent,
        whisper,
    )


def ignores_whisper_options(whisper: bool, task: str, language: str, timestamps: str) -> bool:
    """A CTC model was asked for something only Whisper does (translation, a language, segment timestamps)."""
    return not whisper and (task != "transcribe" or language != "auto" or timestamps == "segment")


# ---- subtitles ----------------------------------------------------------------------------------


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
    blocks = [
        f"{i}\n{_clock(s, ',')} --> {_clock(e, ',')}\n{_lines(t, width)}\n" for i, (s, e, t) in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: list[list[Any]], width: int) -> str:
    blocks = [f"{_clock(s, '.')} --> {_clock(e, '.')}\n{_lines(t, width)}\n" for s, e, t in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


# ---- "show code" ----------------------------------------------------------------------------------


def transcription_snippet(
    task: str, model_id: str, load_kwargs: dict[str, Any], filename: str, transcription: Transcription
) -> str:
    """A script that decodes `filename` and transcribes it as the app did (`load_kwargs`: what the model loaded with)."""
    imports, setup = decoding_snippet(filename, transcription.decoder)
    return pipeline_snippet(
        task,
        model_id,
        [Raw("{'raw': samples, 'sampling_rate': rate}")],
        transcription.call_kwargs,
        load_kwargs,
        setup=setup,
        imports=imports,
    )
