"""The generation interface: one request in, a stream of deltas out, and abort.

Every generation engine implements `GenerationEngine` (the in-process engine in
`playground.engines.local_generation`, the batching scheduler in `playground.engines.batched_generation`, remote
OpenAI-compatible servers, and the sequence-to-sequence engine of summaries and translations), so
the tabs talk to all of them the same way:

    engine = ctx.generation_engine(model, task)      # the app's registry: playground.engines.generation_engines
    stream = engine.start(checked_request(...))      # raises UserError for bad input, before any work
    for delta in stream:                             # GenerationDelta: text, alternatives, stats, notes
        ...
    stream.abort()                                   # from any thread: ends this request only

This module also holds what every engine shares: the request checks and their messages, the chat
history checks, and the stop-string cut. It imports neither gradio nor torch.
"""

from __future__ import annotations

import functools
import math
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.texts import SHARED_LOCALES, Texts, UserError
from playground.engines.pacing import gathered

MAX_NEW_TOKENS = 4096
MAX_TOP_K = 100_000
MAX_SEED = 2**32 - 1
# The top alternatives the teaching table lists at each generated token.
ALTERNATIVES = 5
# What a request that leaves them out gets (the page shows the same); the sampling options' default
# is the model's own (None).
DEFAULT_MAX_NEW_TOKENS, DEFAULT_SEED = 64, 0

# A message in every UI language ({"en": ..., "ko": ...}, from Texts.render): engines say things
# (notes, descriptions) without knowing the caller's language; the tab picks one per request.
Message = Mapping[str, str]

TEXTS = Texts.load("generation", SHARED_LOCALES)


# ---- the request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate and how. Exactly one of `prompt` (plain completion) and `messages` (a chat:
    [{"role": "system"|"user"|"assistant", "content": str}], rendered by the engine's chat template)."""

    prompt: str | None = None
    messages: tuple[Mapping[str, str], ...] | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    # None: the model's own setting (its generation config), else the catalog entry's.
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    do_sample: bool | None = None
    seed: int = DEFAULT_SEED
    stop: tuple[str, ...] = ()
    # Collect the teaching table: at each generated token the model's top alternatives.
    record_alternatives: bool = False
    # Who asked (playground.operations.fair_share's user: the signed-in name, else the browser session):
    # the batching scheduler's line lets users take turns. None: one anonymous user.
    user: str | None = None

    @property
    def is_chat(self) -> bool:
        return self.messages is not None

    def asked(self) -> dict[str, Any]:
        """The options this request sets, as `generate()` takes them; None stands for "the model's own"
        (see playground.engines.generation_settings, which layers them over the model's and the catalog's)."""
        return {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "repetition_penalty": self.repetition_penalty,
        }


def parse_stop_strings(stop: str | None) -> tuple[str, ...]:
    """One stop string per line; a literal \\n stands for a line break."""
    return tuple(line.replace("\\n", "\n") for line in (stop or "").splitlines() if line)


def _number(value: Any, key: str, **params: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TEXTS.error(key, **params) from None
    if math.isnan(number) or math.isinf(number):
        raise TEXTS.error(key, **params)
    return number


def checked_request(
    prompt: str | None = None,
    messages: list[Mapping[str, str]] | None = None,
    *,
    max_new_tokens: Any = DEFAULT_MAX_NEW_TOKENS,
    temperature: Any = None,
    top_p: Any = None,
    top_k: Any = None,
    repetition_penalty: Any = None,
    do_sample: Any = None,
    seed: Any = DEFAULT_SEED,
    stop: str | None = "",
    record_alternatives: bool = False,
) -> GenerationRequest:
    """A GenerationRequest from what a user or API client sent; raises UserError (in every language)
    for input generate() would reject with an obscure message or silently misuse. A sampling option
    left out (None) is the model's own."""
    if messages is None and not (prompt or "").strip():
        raise TEXTS.error("empty_prompt")
    tokens = whole_number_in_range(
        max_new_tokens, 1, MAX_NEW_TOKENS, lambda: TEXTS.error("bad_max_new_tokens", limit=MAX_NEW_TOKENS)
    )
    if temperature is not None:
        temperature = _number(temperature, "bad_temperature")
        if temperature < 0:
            raise TEXTS.error("bad_temperature")
        if do_sample and temperature == 0:
            raise TEXTS.error("zero_temperature")
    if do_sample is not None and not isinstance(do_sample, bool):
        raise TEXTS.error("bad_do_sample")
    if top_p is not None:
        top_p = _number(top_p, "bad_top_p")
        if not 0 <= top_p <= 1:
            raise TEXTS.error("bad_top_p")
    if top_k is not None:
        top_k = whole_number_in_range(top_k, 0, MAX_TOP_K, lambda: TEXTS.error("bad_top_k", limit=MAX_TOP_K))
    penalty = repetition_penalty
    if penalty is not None:
        penalty = _number(penalty, "bad_repetition_penalty")
        if penalty <= 0:
            raise TEXTS.error("bad_repetition_penalty")
    seed = whole_number_in_range(seed, 0, MAX_SEED, lambda: TEXTS.error("bad_seed", limit=MAX_SEED))
    return GenerationRequest(
        prompt=None if messages is not None else prompt,
        messages=tuple(dict(m) for m in messages) if messages is not None else None,
        max_new_tokens=tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        repetition_penalty=penalty,
        do_sample=do_sample,
        seed=seed,
        stop=parse_stop_strings(stop),
        record_alternatives=record_alternatives,
    )


# ---- chat history -----------------------------------------------------------------------------


def message_text(content: Any) -> str:
    """A chat message's text: a plain string, or Gradio's list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    if isinstance(content, list):
        return "".join(message_text(part) for part in content)
    raise TEXTS.error("bad_history", detail=f"unsupported content {type(content).__name__}")


def normalize_history(history: Any) -> list[dict[str, str]]:
    """Validate a chat history from the browser or the API into [{role, content}] with str content."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise TEXTS.error("bad_history", detail=f"expected a list, got {type(history).__name__}")
    messages = []
    for index, item in enumerate(history):
        if not isinstance(item, dict) or "role" not in item or "content" not in item:
            raise TEXTS.error("bad_history", detail=f"item {index} is not a {{role, content}} message")
        if item["role"] not in ("user", "assistant"):
            raise TEXTS.error("bad_history", detail=f"item {index} has role {item['role']!r}")
        messages.append({"role": item["role"], "content": message_text(item["content"])})
    return messages


def chat_messages(system_prompt: str | None, history: list[dict[str, str]], message: str) -> list[dict[str, str]]:
    """The conversation handed to the chat template: system prompt, earlier turns, the new message."""
    if not (message or "").strip():
        raise TEXTS.error("empty_message")
    system = [{"role": "system", "content": system_prompt.strip()}] if (system_prompt or "").strip() else []
    return [*system, *history, {"role": "user", "content": message}]


# ---- stop strings -----------------------------------------------------------------------------


class StopCut:
    """Streams text up to the first stop string, never showing text that a stop string may still
    claim: the end of the text that could begin a stop string is held back until it cannot.

    `feed(piece)` returns the text that is safe to show now; `stopped` turns true once a stop string
    is complete (the text shown ends right before it); `flush()` returns what was held back at the end.
    """

    def __init__(self, stops: tuple[str, ...] | list[str]):
        self.stops = tuple(s for s in stops if s)
        self.text = ""  # everything fed so far
        self.shown = 0  # characters of self.text already returned
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped or not piece:
            return ""
        self.text += piece
        found = [self.text.find(stop) for stop in self.stops]
        found = [index for index in found if index >= 0]
        if found:
            self.stopped = True
            return self._show_until(min(found))
        return self._show_until(len(self.text) - self._held_back())

    def flush(self) -> str:
        return "" if self.stopped else self._show_until(len(self.text))

    def _held_back(self) -> int:
        """The length of the longest end of the text that is the start of a stop string."""
        longest = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(self.text)), longest, -1):
                if self.text.endswith(stop[:size]):
                    longest = size
                    break
        return longest

    def _show_until(self, end: int) -> str:
        end = max(end, self.shown)
        piece, self.shown = self.text[self.shown : end], end
        return piece


# ---- the stream of deltas -----------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationStats:
    """Counts and timings of one request so far (the final delta carries the final ones)."""

    tokens_in: int = 0
    tokens_out: int = 0
    # Seconds from the request's start to its first generated token (None before it).
    ttft_s: float | None = None
    elapsed_s: float = 0.0
    # How many requests shared the forward passes (1 = alone); engines that do not batch leave it 1.
    batch_size: int = 1

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_out / max(self.elapsed_s, 1e-6)


@dataclass(frozen=True)
class GenerationDelta:
    """What changed since the previous delta of the same request."""

    text: str = ""
    # New rows of the teaching table: [step, repr(chosen token), its probability, "'tok' 0.123 · …"].
    alternatives: tuple[tuple[Any, ...], ...] = ()
    # New notes for the stats (e.g. "the prompt was truncated", "ran alone"), in every language.
    notes: tuple[Message, ...] = ()
    # While the request waits for the model: its place in line (1 = next); None once it runs.
    waiting: int | None = None
    stats: GenerationStats | None = None
    done: bool = False

    def merged(self, later: GenerationDelta) -> GenerationDelta:
        """This delta followed by `later`, as one."""
        return GenerationDelta(
            text=self.text + later.text,
            alternatives=self.alternatives + later.alternatives,
            notes=self.notes + later.notes,
            waiting=later.waiting,
            stats=later.stats or self.stats,
            done=self.done or later.done,
        )


_FAILED = object()


# Told the statistics of a generation that finished (in the engine's thread), e.g. for metrics.
FinishListener = Callable[["GenerationStats"], None]


class GenerationStream:
    """One request's deltas, produced by an engine (any thread) and consumed by one caller.

    Engines call `push`, then `finish` (which also tells the `on_finish` listeners) or `fail`; they
    check `aborted` between steps. The caller
    iterates (deltas that piled up while it was busy, or within `playground.engines.pacing`'s interval,
    arrive merged into one, so a slow consumer never makes generation wait) and may call `abort()`
    from any thread.
    """

    def __init__(self, prompt: str | None = None, on_finish: Sequence[FinishListener] = ()):
        self._on_finish = on_finish
        # The exact text the model reads (after the chat template), when the engine knows it.
        self.prompt = prompt
        # The whole output decoded at once, when the engine has it (beam search writes no stream):
        # set before the stream finishes.
        self.result: str | None = None
        self.started = time.perf_counter()
        self._events: queue.Queue[Any] = queue.Queue()
        self._aborted = threading.Event()
        self._abort_callbacks: list[Callable[[], None]] = []

    # ---- engine side
    @property
    def aborted(self) -> bool:
        return self._aborted.is_set()

    def push(self, delta: GenerationDelta) -> None:
        self._events.put(delta)

    def finish(self, stats: GenerationStats, notes: tuple[Message, ...] = ()) -> None:
        self._events.put(GenerationDelta(stats=stats, notes=notes, done=True))
        for listener in self._on_finish:
            listener(stats)

    def fail(self, error: BaseException) -> None:
        self._events.put((_FAILED, error))

    # ---- caller side
    def on_abort(self, callback: Callable[[], None]) -> None:
        """Have `callback` run (in the aborting thread) when the caller aborts, e.g. to leave a queue."""
        self._abort_callbacks.append(callback)

    def abort(self) -> None:
        """End this request at the engine's next step (its slot is freed); the stream then finishes."""
        if self._aborted.is_set():
            return
        self._aborted.set()
        for callback in self._abort_callbacks:
            callback()

    def __iter__(self) -> Iterator[GenerationDelta]:
        try:
            for events in gathered(self._events, _ends_stream):
                failure = next((event[1] for event in events if _is_failure(event)), None)
                deltas = [event for event in events if not _is_failure(event)]
                if deltas:  # what arrived before a failure is shown before its message
                    yield functools.reduce(GenerationDelta.merged, deltas)
                if failure is not None:
                    raise failure
        finally:
            # A caller that stops listening (closed page, cancelled event) frees the engine's slot.
            self.abort()


def _is_failure(event: Any) -> bool:
    return isinstance(event, tuple) and bool(event) and event[0] is _FAILED


def _ends_stream(event: Any) -> bool:
    return _is_failure(event) or event.done


# ---- engines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineActivity:
    """What an engine is doing now, for the Models view."""

    model: str
    engine: Message  # how it runs, e.g. "batched, up to 16 requests per forward pass" (every language)
    running: int
    waiting: int
    # The largest number of requests that shared one forward pass so far (None: the app cannot see
    # it, as for a remote engine, which batches on its own server).
    peak_batch_size: int | None = 0
    # Requests answered so far and the last failure (remote engines, where they say how the endpoint
    # is doing; None where an engine does not count them).
    served: int | None = None
    last_error: Message | None = None


class GenerationEngine(ABC):
    """A text-generation back end. `start` must validate synchronously (raise UserError before any
    work), then return at once; generation runs elsewhere and feeds the returned stream."""

    # Told every finished generation's statistics: the registry that makes the engine sets it
    # (playground.engines.generation_engines.Engines.on_finished).
    on_finish: Sequence[FinishListener] = ()

    def new_stream(self, prompt: str | None) -> GenerationStream:
        """The stream of one request, whose end the engine's `on_finish` listeners are told."""
        return GenerationStream(prompt, self.on_finish)

    @abstractmethod
    def start(self, request: GenerationRequest) -> GenerationStream:
        """Begin generating `request`; its deltas arrive on the returned stream."""

    @abstractmethod
    def describe(self) -> Message:
        """One line naming the model and where it runs, in every language."""

    @abstractmethod
    def snippet(self, request: GenerationRequest) -> str:
        """Python that does the same generation outside the app ("show code")."""

    @abstractmethod
    def activity(self) -> EngineActivity:
        """Requests running and waiting now."""

    @abstractmethod
    def close(self, reason: Message | None = None) -> None:
        """Stop serving: fail running and waiting requests with `reason` (a message) and free resources."""


class EngineGone(UserError):
    """A request ended because its engine closed (e.g. its model was unloaded); carries the message."""


def unloaded_message(model_label: str) -> Message:
    return TEXTS.render("unloaded", model=model_label)


def pick(message: Message, lang: str) -> str:
    """`message` in `lang` (English when it has no such translation)."""
    return message.get(lang) or message.get("en") or next(iter(message.values()), "")
