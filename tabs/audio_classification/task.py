"""Audio classification task logic: what a sound is, from the model's own labels (`audio-classification`)
or from labels the user types (`zero-shot-audio-classification`, CLAP).

Audio is decoded by playground.media.audio (any format, mono, the model's sampling rate) into a temporary
file and classified in windows read one at a time, so a long recording gives a timeline of labels
and memory stays flat. The overall scores are the windows' scores averaged, each window weighted by
its length. Pure functions over a loaded pipeline, plus the "show code" snippets; no Gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.snippets import Raw, format_call
from playground.core.texts import Texts
from playground.media.audio import MIN_SECONDS, DecodedAudio, decoding_snippet, open_audio

CLASSIFY_TASK = "audio-classification"
ZERO_SHOT_TASK = "zero-shot-audio-classification"
MAX_TOP_K = 20
WINDOW_SECONDS = (1, 30, 10)  # low, high, default seconds of audio classified at once
TEMPLATE = "This is a sound of {}."  # the zero-shot pipeline's own default

TEXTS = Texts.load("audio_classification.task", Path(__file__).with_name("locales"))

# report(done, total): how many windows are classified, after each one.
WindowsDone = Callable[[int, int], None]


def check_top_k(top_k: Any) -> int:
    return whole_number_in_range(top_k, 1, MAX_TOP_K, lambda: TEXTS.error("bad_top_k", limit=MAX_TOP_K, value=top_k))


def check_window(window_seconds: Any) -> int:
    low, high, _ = WINDOW_SECONDS
    return whole_number_in_range(
        window_seconds, low, high, lambda: TEXTS.error("bad_window", low=low, high=high, value=window_seconds)
    )


def check_template(template: str | None) -> str:
    """The caption each label is put into (the pipeline's default when blank): `{}` exactly once."""
    template = (template or "").strip() or TEMPLATE
    try:
        template.format("label")
    except (IndexError, KeyError, ValueError):
        raise TEXTS.error("bad_template", placeholder="{}") from None
    if template.count("{}") != 1:
        raise TEXTS.error("bad_template", placeholder="{}")
    return template


def model_window_seconds(pipe: Any) -> float | None:
    """The most audio the model reads at once, where its feature extractor fixes it (None: no limit).

    CLAP cuts longer audio to a random `nb_max_samples` stretch (its "rand_trunc"), so windows must fit
    for a result that is the same every time; AST reads `max_length` frames of 10 ms and drops the rest.
    """
    extractor = pipe.feature_extractor
    samples = getattr(extractor, "nb_max_samples", None)
    if samples:
        return samples / extractor.sampling_rate
    if type(extractor).__name__ == "ASTFeatureExtractor":
        return extractor.max_length / 100
    return None


def window_spans(frames: int, rate: int, window_seconds: float) -> list[tuple[int, int]]:
    """[start, stop) sample windows of `window_seconds` covering the audio; a last piece shorter than
    MIN_SECONDS joins the window before it (too short for a model to read on its own)."""
    size = max(1, int(round(window_seconds * rate)))
    spans = [(start, min(start + size, frames)) for start in range(0, frames, size)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < MIN_SECONDS * rate:
        spans[-2:] = [(spans[-2][0], frames)]
    return spans


@dataclass
class Classification:
    """What one classification produced, and how it ran."""

    scores: dict[str, float]  # label -> score averaged over the windows, best first (top_k of them)
    timeline: list[list[Any]]  # [start s, end s, best label, its score] per window
    duration: float  # seconds of audio
    window_seconds: float  # the window used (the model's limit may shorten the one asked for)
    elapsed: float  # seconds of processing
    decoder: str  # "soundfile" or "ffmpeg": which tool read the file

    @property
    def windows(self) -> int:
        return len(self.timeline)


def classify_windows(
    audio: DecodedAudio,
    window_seconds: float,
    run: Callable[[Any], list[dict[str, Any]]],
    top_k: int | None,
    report: WindowsDone | None = None,
) -> Classification:
    """Run `run(samples)` (a pipeline call answering every label with its score) on each window of
    `audio`; the timeline and the length-weighted mean scores, best first."""
    began = time.perf_counter()
    spans = window_spans(audio.frames, audio.rate, window_seconds)
    totals: dict[str, float] = {}
    timeline: list[list[Any]] = []
    for index, (start, stop) in enumerate(spans):
        if report:
            report(index, len(spans))
        results = run(audio.read(start, stop))
        weight = (stop - start) / audio.frames
        for result in results:
            totals[str(result["label"])] = totals.get(str(result["label"]), 0.0) + weight * float(result["score"])
        best = max(results, key=lambda result: result["score"])
        timeline.append(
            [
                round(start / audio.rate, 3),
                round(stop / audio.rate, 3),
                str(best["label"]),
                round(float(best["score"]), 4),
            ]
        )
    if report:
        report(len(spans), len(spans))
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return Classification(
        dict(ranked[:top_k] if top_k else ranked),
        timeline,
        audio.duration,
        window_seconds,
        time.perf_counter() - began,
        audio.decoder,
    )


def effective_window(pipe: Any, window_seconds: int) -> float:
    """The window asked for, shortened to what the model reads at once."""
    limit = model_window_seconds(pipe)
    return min(float(window_seconds), limit) if limit else float(window_seconds)


def classify(
    pipe: Any,
    path: str | None,
    max_minutes: float,
    top_k: int = 5,
    window_seconds: int = WINDOW_SECONDS[2],
    report: WindowsDone | None = None,
) -> Classification:
    """Decode the file at `path` and classify it with the `audio-classification` pipeline `pipe`."""
    top_k = check_top_k(top_k)
    window = effective_window(pipe, check_window(window_seconds))
    with open_audio(path, pipe.feature_extractor.sampling_rate, max_minutes) as decoded:
        # top_k=None: every label, so the windows' scores can be averaged before the best are kept.
        return classify_windows(
            decoded,
            window,
            lambda samples: pipe({"raw": samples, "sampling_rate": decoded.rate}, top_k=None),
            top_k,
            report,
        )


def classify_zero_shot(
    pipe: Any,
    path: str | None,
    labels: list[str],
    max_minutes: float,
    template: str = TEMPLATE,
    window_seconds: int = WINDOW_SECONDS[2],
    report: WindowsDone | None = None,
) -> Classification:
    """Decode the file at `path` and score it against `labels` with the zero-shot (CLAP) pipeline `pipe`."""
    template = check_template(template)
    window = effective_window(pipe, check_window(window_seconds))
    with open_audio(path, pipe.feature_extractor.sampling_rate, max_minutes) as decoded:
        return classify_windows(
            decoded,
            window,
            lambda samples: pipe(samples, candidate_labels=labels, hypothesis_template=template),
            None,
            report,
        )


# ---- "show code" ----------------------------------------------------------------------------------


def snippet(
    task: str,
    model_id: str,
    load_kwargs: dict[str, Any],
    filename: str,
    result: Classification,
    options: dict[str, Any],
) -> str:
    """A script that decodes `filename` and classifies it as the app did: the whole clip in one call, or
    window by window (printing the timeline) when the app cut it into windows."""
    imports, setup = decoding_snippet(filename, result.decoder, "pipe.feature_extractor.sampling_rate")
    lines = [*imports, "from transformers import pipeline", ""]
    lines.append("pipe = " + format_call("pipeline", [task], {"model": model_id, **load_kwargs}))
    lines += ["", *setup, ""]
    zero_shot = task == ZERO_SHOT_TASK

    def call(samples: str) -> str:
        argument = samples if zero_shot else f"{{'raw': {samples}, 'sampling_rate': rate}}"
        return format_call("pipe", [Raw(argument)], options)

    if result.windows == 1:
        lines += ["result = " + call("samples"), "print(result)"]
        return "\n".join(lines) + "\n"
    lines += [
        f"# Windows of {result.window_seconds:g} s; a last piece under {MIN_SECONDS:g} s joins the one before.",
        f"size = int(round({result.window_seconds!r} * rate))",
        "spans = [(start, min(start + size, len(samples))) for start in range(0, len(samples), size)]",
        f"if len(spans) > 1 and spans[-1][1] - spans[-1][0] < {MIN_SECONDS!r} * rate:",
        "    spans[-2:] = [(spans[-2][0], len(samples))]",
        "timeline = []",
        "for start, stop in spans:",
        "    scores = " + call("samples[start:stop]").replace("\n", "\n    "),
        "    best = max(scores, key=lambda s: s['score'])",
        "    timeline.append((start / rate, stop / rate, best['label'], best['score']))",
        "print(timeline)",
    ]
    return "\n".join(lines) + "\n"
