"""Video classification task logic: a clip in, the model's top labels out (the `video-classification` pipeline).

The pipeline decodes the clip with PyAV and reads `num_frames` frames (the model's config: 16 for
VideoMAE) from the start, one every `frame_sampling_rate` frames. This module checks the clip first
(a video track, enough frames, a sane size) so a bad upload is explained before any model loads,
picks the sampling rate the clip allows, shows which frames were read, and writes the snippet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.snippets import pipeline_snippet
from playground.core.texts import Texts

TASK = "video-classification"
MAX_TOP_K = 20
# VideoMAE's Kinetics-400 fine-tuning and evaluation read 16 frames, one every 4 (its scripts'
# --num_frames 16 --sampling_rate 4): about 2.5 s of a 25 fps clip.
SAMPLING_RATE = 4
MAX_SAMPLING_RATE = 32
# A frame larger than 4K UHD is refused: the pipeline holds every frame it reads in memory at full size.
MAX_FRAME_PIXELS = 3840 * 2160
# The frames shown to the user are scaled down to this height.
THUMBNAIL_HEIGHT = 160

TEXTS = Texts.load("video_classification.task", Path(__file__).with_name("locales"))


@dataclass(frozen=True)
class Clip:
    """What the clip's container says about its (first) video track."""

    name: str
    frames: int
    fps: float
    width: int
    height: int

    @property
    def seconds(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


@dataclass(frozen=True)
class Sampling:
    """Which frames the pipeline reads: `num_frames` of them from the start, one every `rate`."""

    num_frames: int
    rate: int
    asked_rate: int

    @property
    def indices(self) -> list[int]:
        """The frame numbers the pipeline reads (its own formula: evenly over the first num_frames × rate)."""
        import numpy as np

        return np.linspace(0, self.num_frames * self.rate - 1, num=self.num_frames, dtype=np.int64).tolist()


def check_top_k(top_k: Any) -> int:
    return whole_number_in_range(top_k, 1, MAX_TOP_K, lambda: TEXTS.error("bad_top_k", limit=MAX_TOP_K))


def check_sampling_rate(rate: Any) -> int:
    return whole_number_in_range(
        rate, 1, MAX_SAMPLING_RATE, lambda: TEXTS.error("bad_sampling_rate", limit=MAX_SAMPLING_RATE)
    )


def _count_frames(container: Any, stream: Any) -> int:
    """The track's frame count: the container's own, else its packets counted (no decoding)."""
    if stream.frames:
        return int(stream.frames)
    return sum(1 for packet in container.demux(stream) if packet.size)


def probe_clip(path: str | None) -> Clip:
    """The clip's video track, or a clear error: no file, not a video, a damaged file, a still picture."""
    import av

    if not path:
        raise TEXTS.error("no_video")
    name = Path(path).name
    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        raise TEXTS.error("empty", name=name)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise TEXTS.error("no_video_track", name=name)
            stream = container.streams.video[0]
            frames = _count_frames(container, stream)
            rate = stream.average_rate or stream.guessed_rate
            clip = Clip(name, frames, float(rate) if rate else 0.0, stream.width, stream.height)
    except av.error.FFmpegError:
        raise TEXTS.error("not_a_video", name=name) from None
    if clip.width * clip.height > MAX_FRAME_PIXELS:
        raise TEXTS.error("too_large", name=name, width=clip.width, height=clip.height)
    if clip.frames <= 1:
        raise TEXTS.error("still_picture", name=name)
    return clip


def sampling(clip: Clip, num_frames: int, rate: int) -> Sampling:
    """The frames to read: `rate` as asked when the clip is long enough, else the largest rate it allows."""
    if clip.frames < num_frames:
        raise TEXTS.error("too_short", name=clip.name, frames=clip.frames, needed=num_frames)
    return Sampling(num_frames, min(rate, clip.frames // num_frames), rate)


def classify(pipe: Any, path: str, top_k: int, plan: Sampling) -> dict[str, float]:
    """Label -> score for the `top_k` best classes of the clip, read as `plan` says."""
    import av

    try:
        results = pipe(str(path), top_k=top_k, num_frames=plan.num_frames, frame_sampling_rate=plan.rate)
    except av.error.FFmpegError:
        raise TEXTS.error("damaged", name=Path(path).name) from None
    return {str(r["label"]): float(r["score"]) for r in results}


def frames_read(path: str, plan: Sampling, fps: float) -> list[tuple[Any, str]]:
    """The frames the pipeline reads, scaled down, each with its number and time (for a gallery); a
    clear error when they cannot all be decoded (run before the pipeline, which would fail on them)."""
    import av
    from PIL import Image
    from transformers.pipelines.video_classification import read_video_pyav

    name = Path(path).name
    try:
        with av.open(str(path)) as container:
            frames = read_video_pyav(container, plan.indices)  # the pipeline's own reader
    except (av.error.FFmpegError, ValueError):  # ValueError: numpy cannot stack zero frames
        raise TEXTS.error("damaged", name=name) from None
    if len(frames) < plan.num_frames:
        raise TEXTS.error("damaged", name=name)
    shown = []
    for index, frame in zip(plan.indices, frames):
        picture = Image.fromarray(frame)
        picture.thumbnail((THUMBNAIL_HEIGHT * 4, THUMBNAIL_HEIGHT))
        shown.append((picture, f"#{index}" + (f" · {index / fps:.2f} s" if fps else "")))
    return shown


def snippet(model_id: str, load_kwargs: dict[str, Any], file_name: str, top_k: int, plan: Sampling) -> str:
    """The pipeline loaded as the app loaded it, on the clip file (`pip install av`: the pipeline decodes with PyAV)."""
    return pipeline_snippet(
        TASK,
        model_id,
        [file_name],
        {"top_k": top_k, "num_frames": plan.num_frames, "frame_sampling_rate": plan.rate},
        load_kwargs,
        imports=["# The pipeline decodes the clip with PyAV: pip install av"],
    )
