"""The in-process generation engine: each request runs `model.generate()` on the loaded pipeline's
model in a thread of its own, at most `concurrency` at once (the catalog entry's), first come first
served.

Also what any engine running a local model shares (the batching scheduler uses them too): the prompt
as the model reads it (chat template, truncation to the context), the token-by-token text stream
with stop strings, the teaching table of top alternatives, the description line and the snippet.
torch and transformers are imported when a request starts, not with this module.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from playground.core.snippets import Raw, format_value, pipeline_snippet, snippet_load_kwargs
from playground.engines.generation import (
    ALTERNATIVES,
    TEXTS,
    EngineActivity,
    EngineGone,
    GenerationDelta,
    GenerationEngine,
    GenerationRequest,
    GenerationStats,
    GenerationStream,
    Message,
    StopCut,
)
from playground.engines.generation_settings import SAMPLING_ONLY, EffectiveSettings, effective_settings

TASK = "text-generation"


# ---- the prompt as the model reads it -----------------------------------------------------------


def model_context(model: Any) -> int | None:
    """How many tokens (prompt and answer together) the model reads, if its config says."""
    return getattr(model.config, "max_position_embeddings", None)


def render_chat_prompt(tokenizer: Any, messages: Any, model_label: str) -> str:
    """The exact text the model sees: the model's own chat template applied to the conversation."""
    if not getattr(tokenizer, "chat_template", None):
        raise TEXTS.error("no_chat_template", model=model_label)
    return tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=False, add_generation_prompt=True)


class EncodedPrompt:
    """A request's prompt as token ids (`ids`: a 1 x n tensor), the text it came from, its notes (the
    settings used among them) and the effective generation settings."""

    def __init__(self, text: str, ids: Any, notes: tuple[Message, ...], settings: EffectiveSettings):
        self.text = text
        self.ids = ids
        self.notes = notes
        self.settings = settings


def request_settings(loaded: Any, request: GenerationRequest) -> EffectiveSettings:
    """The request's options over the catalog entry's over the model's own generation config; raises
    UserError for a combination generate() would refuse (sampling at temperature 0)."""
    settings = effective_settings(loaded.model.model, loaded.entry.generate_kwargs, request.asked())
    if settings.sampling and settings.get("temperature") == 0:
        raise TEXTS.error("zero_temperature")
    return settings


def encode_prompt(loaded: Any, request: GenerationRequest) -> EncodedPrompt:
    """Tokenize the request's prompt (a chat through the template); when prompt and new tokens do not
    fit the context, keep the prompt's end. Raises UserError when not even a one-token prompt fits."""
    settings = request_settings(loaded, request)
    pipe = loaded.model
    tokenizer, label = pipe.tokenizer, loaded.entry.label
    context = model_context(pipe.model)
    if context and request.max_new_tokens >= context:
        raise TEXTS.error("no_room", model=label, context=context)
    if request.is_chat:
        text = render_chat_prompt(tokenizer, request.messages, label)
        # The template already wrote the special tokens (BOS, turn markers).
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
    else:
        text = request.prompt or ""
        ids = tokenizer(text, return_tensors="pt").input_ids
    notes: tuple[Message, ...] = (settings.describe(),)
    if context and ids.shape[1] > context - request.max_new_tokens:
        kept = max(1, context - request.max_new_tokens)
        ids = ids[:, -kept:]
        notes += (TEXTS.render("truncated", kept=kept),)
    return EncodedPrompt(text, ids, notes, settings)


# ---- the teaching table -----------------------------------------------------------------------


class AlternativesRecorder:
    """Records, at each generated token, the model's top alternatives, as rows [step, chosen token, its
    probability, alternatives]. Probabilities are the model's own (after repetition penalty), before
    temperature/top-k/top-p reshape them for sampling."""

    def __init__(self, tokenizer: Any, k: int = ALTERNATIVES):
        self.tokenizer = tokenizer
        self.k = k
        self.rows: list[tuple[Any, ...]] = []
        self._pending: tuple[Any, Any] | None = None  # (probabilities, top-k) of the step not yet resolved

    def observe(self, scores: Any) -> None:
        """The scores (a 1 x vocabulary row) the next token is chosen from."""
        observe_rows([self], scores)

    def resolve(self, chosen_id: int) -> None:
        """The token that was chosen from the last observed scores."""
        if self._pending is None:
            return
        probs, top = self._pending
        self._pending = None
        values, indices = top
        shown = " · ".join(f"{self.tokenizer.decode([i])!r} {p:.3f}" for p, i in zip(values.tolist(), indices.tolist()))
        self.rows.append(
            (len(self.rows) + 1, repr(self.tokenizer.decode([chosen_id])), round(float(probs[chosen_id]), 4), shown)
        )


def observe_rows(recorders: list[AlternativesRecorder], scores: Any) -> None:
    """Show each recorder its row of `scores` (rows x vocabulary): one softmax and top-k for all."""
    probs = scores.float().softmax(-1)
    top = probs.topk(min(max(r.k for r in recorders), probs.shape[-1]))
    for index, recorder in enumerate(recorders):
        k = min(recorder.k, probs.shape[-1])
        recorder._pending = (probs[index], (top.values[index, :k], top.indices[index, :k]))


class RecordingProcessor:
    """A logits processor that shows its recorder each step's scores. In generate() custom processors
    run after the built-in ones (repetition penalty) and before the sampling warpers; the previous
    step's chosen token is the last of input_ids. (LogitsProcessorList only calls it, so it needs no
    transformers base class.)"""

    def __init__(self, recorder: AlternativesRecorder):
        self.recorder = recorder
        self.steps = 0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        self.next_step(int(input_ids[0, -1]))
        self.recorder.observe(scores)
        return scores

    def next_step(self, last_token: int) -> None:
        """A new step begins: the previous step's row gets the token chosen from it."""
        if self.steps:
            self.recorder.resolve(last_token)
        self.steps += 1


# ---- one request's text stream ------------------------------------------------------------------


class IncrementalText:
    """The text of a growing token sequence, released token by token as soon as it is final (TGI's and
    vLLM's method): decode a short window ending before the new token and the same window with it;
    the difference is new text unless it ends in an incomplete UTF-8 character. (A streamer that
    waits for a space, as transformers' TextStreamer does, holds a word's first tokens back: on a
    busy batch that is a second or more before the first text shows.) Every local engine's stream
    goes through it: the in-process, batched and sequence-to-sequence ones."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.prefix = 0  # the window starts here (a token or so before the unread ones, for context)
        self.read = 0  # tokens before this are shown

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def add(self, token_id: int) -> str:
        """Append a token; the text it completes (often "", e.g. half a multi-byte character)."""
        self.ids.append(token_id)
        return self._release(final=False)

    def flush(self) -> str:
        """What is still held back (an incomplete character at the very end)."""
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        before = self._decode(self.ids[self.prefix : self.read])
        now = self._decode(self.ids[self.prefix :])
        if len(now) <= len(before) or (now.endswith("\ufffd") and not final):
            return ""
        self.prefix, self.read = self.read, len(self.ids)
        return now[len(before) :]


class RequestProgress:
    """Turns one request's generated tokens into deltas on its stream: text decoded token by token
    (IncrementalText), cut at the first stop string, the teaching table's new rows, and
    running stats. Engines call `token(id)` per generated token and `end()` once."""

    def __init__(
        self,
        stream: GenerationStream,
        tokenizer: Any,
        request: GenerationRequest,
        tokens_in: int,
        notes: tuple[Message, ...] = (),
    ):
        self.stream = stream
        self.tokens_in = tokens_in
        self.tokens_out = 0
        self.first_token_at: float | None = None
        self.batch_size = 1
        self.cut = StopCut(request.stop)
        self.recorder = AlternativesRecorder(tokenizer) if request.record_alternatives else None
        self._rows_sent = 0
        self._notes = notes
        self.text = IncrementalText(tokenizer)

    @property
    def stopped(self) -> bool:
        """A stop string is complete: generation should end."""
        return self.cut.stopped

    def stats(self) -> GenerationStats:
        now = time.perf_counter()
        ttft = None if self.first_token_at is None else self.first_token_at - self.stream.started
        return GenerationStats(
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            ttft_s=ttft,
            elapsed_s=now - self.stream.started,
            batch_size=self.batch_size,
        )

    def token(self, token_id: int) -> None:
        self.tokens_out += 1
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self._show(self.cut.feed(self.text.add(token_id)))

    def end(self, notes: tuple[Message, ...] = ()) -> None:
        """All tokens are in: show the rest of the text and finish the stream."""
        self._show(self.cut.feed(self.text.flush()) + self.cut.flush(), force=True)
        self.stream.finish(self.stats(), notes)

    def _show(self, text: str, force: bool = False) -> None:
        rows = self._new_rows()
        if text or rows or force or self._notes:
            self.stream.push(GenerationDelta(text=text, alternatives=rows, notes=self._notes, stats=self.stats()))
            self._notes = ()

    def _new_rows(self) -> tuple[tuple[Any, ...], ...]:
        if self.recorder is None:
            return ()
        rows = tuple(self.recorder.rows[self._rows_sent :])
        self._rows_sent += len(rows)
        return rows


class GenerateStreamer:
    """generate()'s streamer interface (put/end) feeding a RequestProgress; skips the prompt."""

    def __init__(self, progress: RequestProgress):
        self.progress = progress
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        for token_id in value.reshape(-1).tolist():
            self.progress.token(int(token_id))

    def end(self) -> None:
        """generate() calls this when it returns; the engine ends the stream itself (after the last
        alternatives row is resolved)."""


# ---- what the user reads about the model ----------------------------------------------------------


def describe_loaded(loaded: Any) -> Message:
    """Which model answers, in which dtype, and where its layers live (the device map when split)."""
    if loaded.device_map:
        counts: dict[str, int] = {}
        for place in loaded.device_map.values():
            counts[str(place)] = counts.get(str(place), 0) + 1
        parts = ", ".join(f"{place} × {count}" for place, count in counts.items())
        placement = TEXTS.render("placement_map", parts=parts)
    else:
        placement = TEXTS.render(
            "placement_packed" if loaded.packed_linears else "placement_device", device=loaded.device
        )
    return {
        lang: TEXTS.get("model_line", lang, label=loaded.entry.label, dtype=loaded.dtype, placement=text)
        for lang, text in placement.items()
    }


def generation_snippet(loaded: Any, request: GenerationRequest) -> str:
    """`pipeline(...)` loaded as the app loaded the model, called with the options the app adds to the
    model's own generation config (the catalog's and the request's); sampling also seeds the RNG as
    the app does. The pipeline's text keeps the stop string the app cuts off."""
    settings = request_settings(loaded, request)
    call = dict(settings.options)
    if request.stop:
        call["stop_sequence"] = list(request.stop)
    seeding = [f"set_seed({request.seed})"] if settings.sampling else []
    imports = ["from transformers import set_seed"] if seeding else []
    load = snippet_load_kwargs(loaded)
    setup = [*packing_lines(loaded), *seeding]
    if loaded.packed_linears:
        imports.insert(0, "import torch")
    if request.is_chat:
        messages = [dict(m) for m in request.messages or ()]
        return pipeline_snippet(
            TASK,
            loaded.entry.id,
            [Raw("messages")],
            call,
            load_kwargs=load,
            setup=[*setup, "messages = " + format_value(messages)],
            imports=imports,
            show="print(result[0]['generated_text'][-1]['content'])",
        )
    return pipeline_snippet(
        TASK, loaded.entry.id, [request.prompt], call, load_kwargs=load, setup=setup, imports=imports
    )


def packing_lines(loaded: Any) -> list[str]:
    """The snippet lines that pack the pipeline's linear layers as the app did (none where it did not)."""
    if not loaded.packed_linears:
        return []
    from playground.loading.packed_linears import SNIPPET_CALL, SNIPPET_CODE, SNIPPET_COMMENT

    return [SNIPPET_COMMENT, *SNIPPET_CODE, "", "", SNIPPET_CALL]


# ---- the engine -------------------------------------------------------------------------------


class EngineJob:
    """One request in a ThreadedEngine: what was asked, its stream, and how many tokens it reads."""

    def __init__(self, request: Any, stream: GenerationStream, tokens_in: int, prompt: Any = None):
        self.request = request
        self.stream = stream
        self.tokens_in = tokens_in
        self.prompt = prompt  # what the engine prepared from the request (an EncodedPrompt, the encoded inputs)


class ThreadedEngine(GenerationEngine):
    """Runs each request in a thread of its own, `capacity` at a time, first come first served; the
    rest wait in line with their place shown. Subclasses say how to run one job (`run_job`, which
    feeds and ends the job's stream) and describe themselves; an abort leaves the line at once, or
    ends a running job at its next step (the job's stopping criterion checks `stream.aborted`)."""

    def __init__(self, loaded: Any, capacity: int | None = None):
        self.loaded = loaded
        self.capacity = max(1, capacity or loaded.entry.concurrency)
        self._lock = threading.Lock()
        self._running: list[EngineJob] = []
        self._waiting: deque[EngineJob] = deque()
        self._closed: Message | None = None

    def run_job(self, job: EngineJob) -> None:
        """Run one job in this thread, feeding its stream; end it with its stats."""
        raise NotImplementedError

    def closed(self) -> Message | None:
        """Why the engine closed (a message), or None while it serves."""
        return self._closed

    def enqueue(self, job: EngineJob) -> GenerationStream:
        with self._lock:
            if self._closed is not None:
                raise EngineGone(self._closed)
            self._waiting.append(job)
        job.stream.on_abort(lambda: self._withdraw(job))
        self._admit()
        return job.stream

    def describe(self) -> Message:
        return describe_loaded(self.loaded)

    def activity(self) -> EngineActivity:
        with self._lock:
            return EngineActivity(
                model=self.loaded.entry.label,
                engine=TEXTS.render("engine_local", capacity=self.capacity),
                running=len(self._running),
                waiting=len(self._waiting),
                peak_batch_size=1 if self._running else 0,
            )

    def close(self, reason: Message | None = None) -> None:
        reason = reason or TEXTS.render("unloaded", model=self.loaded.entry.label)
        with self._lock:
            self._closed = reason
            waiting, self._waiting = list(self._waiting), deque()
            running = list(self._running)
        for job in waiting:
            job.stream.fail(EngineGone(reason))
        for job in running:
            job.stream.abort()  # the worker sees the engine closed and fails its stream

    # ---- admission, first come first served
    def _withdraw(self, job: EngineJob) -> None:
        """An aborted request that has not started leaves the line at once."""
        with self._lock:
            if job not in self._waiting:
                return
            self._waiting.remove(job)
        job.stream.finish(GenerationStats(tokens_in=job.tokens_in))
        self._announce_places()

    def _admit(self) -> None:
        started = []
        with self._lock:
            while self._waiting and len(self._running) < self.capacity:
                job = self._waiting.popleft()
                self._running.append(job)
                started.append(job)
        for job in started:
            threading.Thread(target=self._run, args=(job,), daemon=True, name=type(self).__name__).start()
        self._announce_places()

    def _announce_places(self) -> None:
        with self._lock:
            places = list(enumerate(self._waiting, start=1))
        for place, job in places:
            job.stream.push(GenerationDelta(waiting=place))

    def _finished(self, job: EngineJob) -> None:
        with self._lock:
            if job in self._running:
                self._running.remove(job)
        self._admit()

    def _run(self, job: EngineJob) -> None:
        try:
            self.run_job(job)
        except BaseException as exc:  # the caller re-raises it, so OOM reaches playground.web.errors
            job.stream.fail(exc)
        finally:
            self._finished(job)


class LocalEngine(ThreadedEngine):
    """One `model.generate()` per request on a loaded text-generation pipeline. Stop ends a request
    within one token."""

    def start(self, request: GenerationRequest) -> GenerationStream:
        prompt = encode_prompt(self.loaded, request)
        return self.enqueue(EngineJob(request, self.new_stream(prompt.text), int(prompt.ids.shape[1]), prompt))

    def snippet(self, request: GenerationRequest) -> str:
        return generation_snippet(self.loaded, request)

    def run_job(self, job: EngineJob) -> None:
        run_generate(self.loaded.model, job.request, job.prompt, job.stream, closed=self.closed)


def halting_criteria(stream: GenerationStream, *more: Callable[[], bool], closed: Callable[[], Message | None]) -> Any:
    """generate()'s stopping criteria that end it within one step of an abort, of the engine closing,
    or of any of `more` turning true."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Halt(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            halt = stream.aborted or closed() is not None or any(check() for check in more)
            return torch.full((input_ids.shape[0],), halt, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([Halt()])


def seeded_sampler(settings: EffectiveSettings, seed: int, device: Any) -> Any:
    """A logits processor that draws the next token as generate()'s sampling does (temperature, then
    top-k, then top-p, then a multinomial draw) but from its own seeded generator, and leaves only
    that token for greedy decoding to pick."""
    import torch
    from transformers import LogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers = []
    temperature, top_k, top_p = settings.get("temperature"), settings.get("top_k"), settings.get("top_p")
    if temperature is not None and temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(temperature))
    if top_k:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p is not None and top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    generator = torch.Generator(device=device).manual_seed(seed)

    class SeededSampler(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            for warper in warpers:
                scores = warper(input_ids, scores)
            token = torch.multinomial(torch.nn.functional.softmax(scores, dim=-1), num_samples=1, generator=generator)
            chosen = torch.full_like(scores, float("-inf"))
            return chosen.scatter(-1, token, 0.0)

    return SeededSampler()


def run_generate(
    pipe: Any,
    request: GenerationRequest,
    prompt: EncodedPrompt,
    stream: GenerationStream,
    closed: Callable[[], Message | None] = lambda: None,
) -> None:
    """Run one request through `model.generate()` in this thread, feeding `stream`; ends it with its
    stats. Stops within one token of an abort or a completed stop string; raises EngineGone when
    `closed()` gives a reason (the engine closed while it ran)."""
    import torch
    from transformers import LogitsProcessorList

    model, tokenizer = pipe.model, pipe.tokenizer
    ids = prompt.ids
    progress = RequestProgress(stream, tokenizer, request, int(ids.shape[1]), prompt.notes)

    options = dict(prompt.settings.options)
    if request.stop:
        # generate() checks stop strings token by token (the text lags behind, held until a word
        # ends), so generation ends right where a stop string is completed.
        options.update(stop_strings=list(request.stop), tokenizer=tokenizer)
    processors = LogitsProcessorList([RecordingProcessor(progress.recorder)] if progress.recorder else [])
    settings = prompt.settings
    if settings.sampling and settings.beams == 1:
        # generate() samples from torch's global generator, which every thread shares: the request
        # samples with a generator of its own instead (drawn as generate() draws), so the same seed
        # gives the same text however many requests run at once.
        processors.append(seeded_sampler(settings, request.seed, model.device))
        options = {key: value for key, value in options.items() if key not in SAMPLING_ONLY}
        options["do_sample"] = False
    else:
        torch.manual_seed(request.seed)  # beam sampling: generate()'s own draws
    output = model.generate(
        input_ids=ids.to(model.device),
        attention_mask=torch.ones_like(ids).to(model.device),
        streamer=GenerateStreamer(progress),
        stopping_criteria=halting_criteria(stream, lambda: progress.stopped, closed=closed),
        logits_processor=processors,
        pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        **options,
    )
    reason = closed()
    if reason is not None:
        raise EngineGone(reason)
    if progress.recorder is not None and output.shape[1] > ids.shape[1]:
        progress.recorder.resolve(int(output[0, -1]))
    progress.end()
