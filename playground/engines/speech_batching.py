"""Cross-request batching for speech: concurrent transcriptions on one model share forward passes.

When it pays, measured (bench "speech_users", Whisper-base size, 30 s clips, the bench's random
weights decoding 64 tokens, a 2-core CPU shared with other work): on the machine at load ~1.5-2 the
bare pipeline ran 7.6-7.8 s per clip one after another, and a batch was slower per clip: 0.77× at 4
and 0.94× at 8 in one run, 0.87× at 4 and 0.93× at 16 in another (torch already keeps both cores
busy with one clip, and each decoding step of a batch reads every clip's cross-attention keys); the
app with 4 or 16 concurrent clients batching up to 8 windows gave 0.85-0.92× one client after another. With the machine busier (load 3.5-4, interleaved
runs) a batch of 4 was 1.3-2.4× faster per clip than single clips, which suffer more from the other
processes. So a CPU shares no batches by default (SPEECH_BATCH.cpu = 1: one request at a time, as
before, and no worker thread); a GPU, where a batch costs little more than one clip, does (16), and a
catalog entry's `max_batch_size` turns it on anywhere.

How: every speech request on a loaded model opens a session with that model's batcher (one worker
thread per loaded model). The request preprocesses its windows itself (a window is one model input
of the pipeline: a clip up to 30 s, or one 30 s chunk of a longer recording, with its stride) and
hands them to the batcher, at most `PER_REQUEST_WINDOWS` at a time so memory stays bounded for long
recordings. The worker takes the oldest waiting window and every other waiting window that can share
its forward pass (same decoding options: task, language, timestamps; same keys and tensor shapes, so
nothing is padded: Whisper pads every window to 30 s itself, and a CTC model never sees padding it
would not see alone), up to `max_batch_size`, collates them with the pipeline's own collate function,
runs one `pipe.forward` and gives each request its own output (the pipeline's own unbatching), so the
text equals the request alone. While a session is still decoding its audio or preprocessing a window
it will send, the worker waits for it (at most `GATHER_S`), so requests that arrive together share the
first batch and a long recording alone still fills its batches.

A batch that fails is retried window by window: a failing window fails only its own request. A model
unloaded mid-request fails the request's waiting windows with a message (and any it sends later).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts
from playground.engines.generation import EngineActivity, EngineGone, Message, unloaded_message
from playground.loading.devices import BatchDefaults, concurrency_limit

# A request's windows in the batcher at once: what one request alone ran per batch before batching
# across requests (memory for a long recording stays that of 4 windows).
PER_REQUEST_WINDOWS = 4
# Windows per forward pass when the catalog entry does not set max_batch_size (see the module
# docstring: on a 2-core CPU a batch did not beat one clip after another on a quiet machine).
SPEECH_BATCH = BatchDefaults(cpu=1, gpu=16)
# How long the worker waits for sessions still decoding or preparing a window before it runs a batch.
GATHER_S = 0.5
RECENT_BATCHES = 64  # batch sizes kept for the activity view

TEXTS = Texts.load("speech_batching", SHARED_LOCALES)

ReportFn = Callable[[int], None]  # windows done so far


def speech_batch_size(loaded: Any) -> int:
    """Windows per forward pass for a loaded speech model: its catalog entry's max_batch_size, else
    the device's default; 1 on ZeroGPU (a request's GPU slice lasts only for its own call)."""
    from playground.loading.gpu import zero_gpu_enabled

    if zero_gpu_enabled():
        return 1
    gpu = "cuda" in str(loaded.device)
    return loaded.entry.max_batch_size or SPEECH_BATCH.for_device(gpu)


def concurrent_transcriptions(entries: list[Any], device: str) -> int:
    """How many /transcribe requests the speech tab lets run at once (the rest wait in Gradio's queue
    with their place shown): enough to fill the largest batch of its models (1 without batching)."""
    return concurrency_limit(entries, device, SPEECH_BATCH)


def batch_key(item: dict[str, Any], options: str) -> tuple[Any, ...]:
    """Windows with equal keys can share a forward pass without padding: same decoding options and
    the same keys and tensor shapes."""
    import torch

    shapes = tuple(
        sorted(
            (name, tuple(value.shape), str(value.dtype)) if isinstance(value, torch.Tensor) else (name,)
            for name, value in item.items()
        )
    )
    return options, shapes


@dataclass
class _Window:
    item: dict[str, Any]
    forward_params: dict[str, Any]
    key: tuple[Any, ...]
    session: Session
    done: threading.Event = field(default_factory=threading.Event)
    output: Any = None
    error: BaseException | None = None

    def finish(self, output: Any = None, error: BaseException | None = None) -> None:
        self.output, self.error = output, error
        self.done.set()

    def result(self) -> Any:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.output


class Session:
    """One request's use of a batcher, from before its audio is decoded until its result is built
    (`with batcher.session() as session:`), so the worker knows a window is on its way."""

    def __init__(self, batcher: SpeechBatcher):
        self.batcher = batcher
        # Decoding its audio or preprocessing its next window: the worker may wait for it (GATHER_S).
        self.preparing = True
        self.failed = False

    def __enter__(self) -> Session:
        self.batcher._open(self)
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        self.batcher._close_session(self, succeeded=exc_type is None and not self.failed)

    def forward_windows(
        self, items: Iterable[dict[str, Any]], forward_params: dict[str, Any], report: ReportFn | None = None
    ) -> list[Any]:
        """`pipe.forward(item, **forward_params)` for every item, in order, run in shared batches.

        `items` is consumed lazily in this thread (preprocessing stays with the request), at most
        PER_REQUEST_WINDOWS ahead of the outputs received; `report(done)` follows each output.
        """
        options = json.dumps(forward_params, sort_keys=True, default=repr)
        outputs: list[Any] = []
        sent: deque[_Window] = deque()
        pending: Iterator[dict[str, Any]] | None = iter(items)
        try:
            while True:
                self.preparing = pending is not None
                while pending is not None and len(sent) < min(PER_REQUEST_WINDOWS, self.batcher.max_batch_size):
                    item = next(pending, None)
                    if item is None:
                        pending = None
                        break
                    sent.append(self.batcher._send(_Window(item, forward_params, batch_key(item, options), self)))
                self.batcher._ready(self)
                if not sent:
                    return outputs
                outputs.append(sent.popleft().result())
                if report:
                    report(len(outputs))
        except BaseException:
            self.failed = True
            self.batcher._withdraw(self)
            raise


class SpeechBatcher:
    """One loaded ASR pipeline's shared batches (see the module docstring)."""

    def __init__(self, loaded: Any, max_batch_size: int, gather_s: float = GATHER_S):
        self.loaded = loaded
        self.pipe = loaded.model
        self.max_batch_size = max_batch_size
        self.gather_s = gather_s
        self.batch_sizes: deque[int] = deque(maxlen=RECENT_BATCHES)
        self.peak_batch_size = 0
        self.served = 0
        self._cond = threading.Condition()
        self._waiting: deque[_Window] = deque()
        self._running: list[_Window] = []
        self._sessions: list[Session] = []
        self._closed: Message | None = None
        self._thread = threading.Thread(target=self._work, name=f"speech-batcher-{loaded.entry.id}", daemon=True)
        self._thread.start()

    # ---- requests ----------------------------------------------------------------------------

    def session(self) -> Session:
        """A request's session (a context manager): enter it before decoding the audio."""
        return Session(self)

    def _open(self, session: Session) -> None:
        with self._cond:
            self._raise_if_closed()
            self._sessions.append(session)
            self._cond.notify_all()

    def _withdraw(self, session: Session) -> None:
        """Drop a failed session's windows that have not run yet."""
        with self._cond:
            self._waiting = deque(w for w in self._waiting if w.session is not session)
            self._cond.notify_all()

    def _close_session(self, session: Session, succeeded: bool) -> None:
        with self._cond:
            if session in self._sessions:
                self._sessions.remove(session)
            self.served += succeeded
            self._waiting = deque(w for w in self._waiting if w.session is not session)
            self._cond.notify_all()

    def _ready(self, session: Session) -> None:
        """`session` has sent what it can for now: the worker need not wait for it."""
        with self._cond:
            session.preparing = False
            self._cond.notify_all()

    def _send(self, window: _Window) -> _Window:
        with self._cond:
            self._raise_if_closed()
            self._waiting.append(window)
            self._cond.notify_all()
        return window

    def _raise_if_closed(self) -> None:
        if self._closed is not None:
            raise EngineGone(self._closed)

    # ---- the worker ------------------------------------------------------------------------------

    def _preparing(self) -> bool:
        """Some session is decoding its audio or preprocessing a window it will send."""
        return any(session.preparing for session in self._sessions)

    def _take_batch(self) -> list[_Window] | None:
        with self._cond:
            while not self._waiting and self._closed is None:
                self._cond.wait()
            if self._closed is not None:
                return None
            deadline = time.monotonic() + self.gather_s
            while (
                self._closed is None
                and self._preparing()
                and deadline > time.monotonic()
                and sum(w.key == self._waiting[0].key for w in self._waiting) < self.max_batch_size
            ):
                self._cond.wait(deadline - time.monotonic())
            if self._closed is not None or not self._waiting:
                return None if self._closed is not None else []
            key = self._waiting[0].key
            batch = [w for w in self._waiting if w.key == key][: self.max_batch_size]
            for window in batch:
                self._waiting.remove(window)
            self._running = batch
            return batch

    def _work(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            if not batch:
                continue
            try:
                outputs = self._forward(batch)
            except Exception:
                # Which window failed is unknown: each runs alone, so only the failing ones fail.
                outputs = None
            if outputs is not None:
                for window, output in zip(batch, outputs):
                    window.finish(output)
            else:
                for window in batch:
                    try:
                        window.finish(self._forward([window])[0])
                    except Exception as exc:
                        window.finish(error=exc)
            with self._cond:
                self._running = []
                self._cond.notify_all()

    def _forward(self, batch: list[_Window]) -> list[Any]:
        """The pipeline's batched forward on `batch`, unbatched by the pipeline's own iterator."""
        from transformers.pipelines.base import no_collate_fn, pad_collate_fn
        from transformers.pipelines.pt_utils import PipelineIterator

        items = [window.item for window in batch]
        with self._cond:
            self.batch_sizes.append(len(items))
            self.peak_batch_size = max(self.peak_batch_size, len(items))
        collate = no_collate_fn if len(items) == 1 else pad_collate_fn(self.pipe.tokenizer, self.pipe.feature_extractor)
        return list(
            PipelineIterator([collate(items)], self.pipe.forward, batch[0].forward_params, loader_batch_size=len(items))
        )

    # ---- activity and closing --------------------------------------------------------------------

    def activity(self) -> EngineActivity:
        with self._cond:
            running = {id(w.session) for w in self._running}
            waiting = [s for s in self._sessions if id(s) not in running]
            return EngineActivity(
                model=self.loaded.entry.label,
                engine=TEXTS.render("engine_speech", size=self.max_batch_size),
                running=len(running),
                waiting=len(waiting),
                peak_batch_size=self.peak_batch_size,
                served=self.served,
            )

    def close(self, reason: Message | None = None) -> None:
        """Stop the worker: waiting windows (and any sent later) fail with `reason`; the running batch
        finishes and its requests get their outputs."""
        with self._cond:
            self._closed = reason or unloaded_message(self.loaded.entry.label)
            waiting, self._waiting = list(self._waiting), deque()
            self._cond.notify_all()
        for window in waiting:
            window.finish(error=EngineGone(self._closed))
