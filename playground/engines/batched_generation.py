"""The batching scheduler: concurrent requests on one model share its forward passes.

One scheduler thread per loaded model runs a padded-batch decoding loop. A request that arrives while
others stream does not wait for the decoding step in flight: between two of that step's decoder
layers its prompt is prefilled (with the other newcomers that can join, left-padded), so its first
token comes after its own prefill alone; at the end of the step its key/value cache is left-padded
to the batch's length and stacked onto it, and from then on every step feeds all rows' last tokens
through the model at once. (On a CPU, forward passes cannot overlap, and one decoding step of a
batch takes about as long as a short prompt's prefill, so waiting for the step would nearly double
a newcomer's time to its first token.) A finished, stopped or aborted row leaves the batch at the end
of that step (its cache rows are dropped), so Stop frees the slot at once.

Each request keeps everything `generate()` would give it alone: its own logits processors, built by
transformers from the model's generation config plus the request's options (repetition penalty,
temperature, top-k, top-p, min_new_tokens, …), its own seeded random generator (so the same seed gives
the same text whatever else is in the batch), its own stop strings, end-of-text tokens and token
budget, and its teaching table (rows whose processors do the same thing run them in one call:
playground.engines.processor_groups). Greedy and sampled tokens equal those of `generate()` on the same
request alone (checked on the tiny test model and on the 0.5B benchmark model).

Requests beyond `max_batch_size`, or beyond what the KV-cache budget holds for the batch's longest
possible sequence, wait in line with their place shown; users take turns in the line as in the app's
queue (playground.core.turns), so one user's queued requests never join before another user's first.
A request that cannot share the batch (its sequence alone needs more KV memory than the budget, or its
model's generation config asks for a mode this loop does not run, such as beam search) runs alone
through `generate()` when the batch has drained, and its stats say so.

Why not transformers' ContinuousBatchingManager (`init_continuous_batching`), measured and read in
transformers 5.23 on this 2-core CPU: (1) it was slower here, 2.0× the serial rate at 8 requests and
3.3× at 16 against 3.5× and 6.3× for a padded batch (our bench's "many users" section measures
this loop); (2) `do_sample` is one flag for the whole manager (greedy and sampled
requests cannot share it) and its sampler draws from one process-wide RNG seeded once, so a request's
seed cannot reproduce its text; (3) RepetitionPenaltyLogitsProcessor is marked unsupported and dropped;
(4) it returns at most the chosen token's log-probability after warping, not the model's top
alternatives the teaching table shows.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts
from playground.core.turns import in_turn
from playground.engines.generation import (
    TEXTS,
    EngineActivity,
    EngineGone,
    GenerationDelta,
    GenerationEngine,
    GenerationRequest,
    GenerationStats,
    GenerationStream,
    Message,
)
from playground.engines.local_generation import (
    EncodedPrompt,
    RecordingProcessor,
    RequestProgress,
    describe_loaded,
    encode_prompt,
    generation_snippet,
    run_generate,
)
from playground.engines.processor_groups import group_key, process_group

# The most padded prompt tokens one prefill forward pass takes (newcomers beyond it wait a step):
# bounds the activation memory of a prefill.
MAX_PREFILL_TOKENS = 8192

BATCH_TEXTS = Texts.load("batched_generation", SHARED_LOCALES)


def kv_bytes_per_token(model: Any) -> int:
    """Bytes of key/value cache one token takes in every layer of `model`."""
    config = model.config.get_text_config()
    heads = getattr(config, "num_attention_heads", 1)
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    element = next(model.parameters()).element_size()
    return 2 * config.num_hidden_layers * kv_heads * head_dim * element


def can_batch(model: Any) -> bool:
    """Whether the model's cache is the plain growing kind this loop pads and stacks (not sliding
    window, linear attention or encoder-decoder)."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    if getattr(model.config, "is_encoder_decoder", False):
        return False
    try:
        cache = DynamicCache(config=model.config)
    except Exception:  # a config the dynamic cache does not know: let generate() handle it
        return False
    return bool(cache.layers) and all(type(layer) is DynamicLayer for layer in cache.layers)


def decoder_layers(model: Any) -> list[Any]:
    """The model's repeated blocks (transformers builds them on GradientCheckpointingLayer): where a
    decoding step can let a newcomer's prefill in. None found (remote code): newcomers join between steps."""
    from transformers.modeling_layers import GradientCheckpointingLayer

    return [module for module in model.modules() if isinstance(module, GradientCheckpointingLayer)]


def without_padding(mask: Any) -> Any:
    """The attention mask to pass: None when no row is padded, as generate() passes for one request;
    the masked attention path costs several times more per step on a CPU."""
    return None if bool(mask.all()) else mask


class _Job:
    """A request between `start` and its end: its prompt, generation config and processors."""

    def __init__(self, request: GenerationRequest, prompt: EncodedPrompt, stream: GenerationStream):
        self.request = request
        self.prompt = prompt
        self.stream = stream
        self.tokens_needed = int(prompt.ids.shape[1]) + request.max_new_tokens
        self.alone: Message | None = None  # why it cannot share the batch
        self.config: Any = None
        self.place: int | None = None


class _Row:
    """A request in the running batch."""

    def __init__(self, job: _Job, progress: RequestProgress, processors: Any, eos: set[int], budget: int):
        self.job = job
        self.progress = progress
        self.processors = processors
        self.eos = eos
        self.budget = budget  # new tokens it may still produce
        # Sampling: the request's own random generator, on the device its logits come out on
        # (the last layer's, with a device map), seeded as generate() seeds the global one.
        self.generator: Any = None
        self.ids = job.prompt.ids[0].tolist()
        self.done = False

    @property
    def request(self) -> GenerationRequest:
        return self.job.request


@dataclass
class _Batch:
    """The running batch's key/value cache and attention mask (rows in `rows` order)."""

    cache: Any = None
    mask: Any = None


class BatchedEngine(GenerationEngine):
    """Continuous batching over a padded batch; see the module docstring."""

    def __init__(self, loaded: Any, max_batch_size: int, kv_budget_bytes: int):
        self.loaded = loaded
        self.max_batch_size = max(1, max_batch_size)
        self.kv_budget_bytes = kv_budget_bytes
        self._cond = threading.Condition()
        self._waiting: deque[_Job] = deque()
        self._rows: list[_Row] = []
        self._alone: _Job | None = None
        self._closed: Message | None = None
        self._thread: threading.Thread | None = None
        self._batch = _Batch()
        # Newcomers prefilled during a decoding step: their caches (and masks), stacked after the step.
        self._unstacked: list[tuple[Any, Any]] = []
        self._arrived = threading.Event()  # a request arrived since the last try to admit one
        self._prefilling = False
        self._bytes_per_token = kv_bytes_per_token(loaded.model.model)
        self._decoder_layers = decoder_layers(loaded.model.model)
        # Decoding steps per batch size: how much sharing really happened (tests and the Models view).
        self.step_batch_sizes: dict[int, int] = {}

    # ---- GenerationEngine
    def start(self, request: GenerationRequest) -> GenerationStream:
        prompt = encode_prompt(self.loaded, request)
        stream = self.new_stream(prompt.text)
        job = _Job(request, prompt, stream)
        job.config = self._generation_config(job)
        mode = job.config.get_generation_mode()
        if str(getattr(mode, "value", mode)) not in ("greedy_search", "sample"):
            job.alone = BATCH_TEXTS.render("alone_mode", mode=getattr(mode, "value", mode))
        elif job.tokens_needed * self._bytes_per_token > self.kv_budget_bytes:
            job.alone = BATCH_TEXTS.render(
                "alone_memory",
                need_mb=job.tokens_needed * self._bytes_per_token / 2**20,
                budget_mb=self.kv_budget_bytes / 2**20,
            )
        with self._cond:
            if self._closed is not None:
                raise EngineGone(self._closed)
            self._waiting.append(job)
            self._arrived.set()
            self._ensure_thread()
            self._cond.notify_all()
        stream.on_abort(lambda: self._withdraw(job))
        return stream

    def describe(self) -> Message:
        return describe_loaded(self.loaded)

    def snippet(self, request: GenerationRequest) -> str:
        return generation_snippet(self.loaded, request)

    def activity(self) -> EngineActivity:
        with self._cond:
            running = len(self._rows) + (1 if self._alone is not None else 0)
            return EngineActivity(
                model=self.loaded.entry.label,
                engine=TEXTS.render("engine_batched", size=self.max_batch_size),
                running=running,
                waiting=len(self._waiting),
                peak_batch_size=max(self.step_batch_sizes, default=0),
            )

    def close(self, reason: Message | None = None) -> None:
        with self._cond:
            self._closed = reason or TEXTS.render("unloaded", model=self.loaded.entry.label)
            waiting, self._waiting = list(self._waiting), deque()
            self._cond.notify_all()
        for job in waiting:
            job.stream.fail(EngineGone(self._closed))
        # The scheduler thread fails the running rows at its next step and drops the cache.

    # ---- the line
    def _withdraw(self, job: _Job) -> None:
        """An aborted request that has not started leaves the line at once."""
        with self._cond:
            if job not in self._waiting:
                return
            self._waiting.remove(job)
        job.stream.finish(GenerationStats(tokens_in=int(job.prompt.ids.shape[1])))
        self._announce_places()

    def _announce_places(self) -> None:
        with self._cond:
            changed = []
            for place, job in enumerate(self._waiting, start=1):
                if job.place != place:
                    job.place = place
                    changed.append((place, job))
        for place, job in changed:
            job.stream.push(GenerationDelta(waiting=place))

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, daemon=True, name=f"batch:{self.loaded.entry.label}")
            self._thread.start()

    def _admit(self) -> tuple[list[_Job], _Job | None]:
        """Newcomers that join the batch at this step, or the request that now runs alone."""
        with self._cond:
            joining: list[_Job] = []
            if self._alone is not None:
                return joining, None
            if len(self._waiting) > 1:  # users take turns: nobody's queued requests before another's first
                owners = [job.request.user for job in self._waiting]
                running = Counter(row.request.user for row in self._rows)
                self._waiting = deque(self._waiting[index] for index in in_turn(owners, running))
            worst = max((row.job.tokens_needed for row in self._rows), default=0)
            prefill_longest = 0
            while self._waiting:
                job = self._waiting[0]
                if job.alone is not None:
                    if self._rows or joining:
                        break  # it waits for the batch to drain; nobody overtakes it
                    self._waiting.popleft()
                    self._alone = job
                    break
                count = len(self._rows) + len(joining) + 1
                longest = max(worst, job.tokens_needed)
                if count > self.max_batch_size or count * longest * self._bytes_per_token > self.kv_budget_bytes:
                    break
                prompt_longest = max(prefill_longest, int(job.prompt.ids.shape[1]))
                if joining and (len(joining) + 1) * prompt_longest > MAX_PREFILL_TOKENS:
                    break
                self._waiting.popleft()
                joining.append(job)
                worst, prefill_longest = longest, prompt_longest
            alone = self._alone
        self._announce_places()
        return joining, alone

    # ---- the scheduler thread
    def _serve(self) -> None:
        import torch

        with torch.inference_mode():
            while True:
                with self._cond:
                    while not self._rows and not self._waiting and self._closed is None:
                        self._cond.wait()
                    closed = self._closed
                if closed is not None:
                    self._fail_rows(EngineGone(closed))
                    return
                joining, alone = self._admit()
                if alone is not None:
                    self._run_alone(alone)
                    continue
                if joining:
                    self._prefill(joining)
                    self._stack_prefilled()
                    self._drop_finished()
                    # Prefill first (as vLLM's scheduler does): requests that arrived during this
                    # prefill join before the next decoding step, so a class arriving at once gets its
                    # first tokens from one or two prefills. A full batch admits no one, so decoding
                    # goes on.
                    continue
                if self._rows:
                    self._decode_step()
                    self._drop_finished()

    def _run_alone(self, job: _Job) -> None:
        try:
            job.stream.push(GenerationDelta(notes=(job.alone,)))
            run_generate(self.loaded.model, job.request, job.prompt, job.stream, closed=lambda: self._closed)
        except BaseException as exc:  # the caller re-raises it (OOM reaches playground.web.errors)
            job.stream.fail(exc)
        finally:
            with self._cond:
                self._alone = None

    def _generation_config(self, job: _Job) -> Any:
        """generate()'s own preparation of the config: the model's defaults, then the request's options."""
        model = self.loaded.model.model
        config, _ = model._prepare_generation_config(None, **job.prompt.settings.options)
        model._prepare_special_tokens(config, True, device=model.device, batch_size=1)
        return model._prepare_generated_length(
            generation_config=config,
            has_default_max_length=model.generation_config.max_length is None,
            has_default_min_length=model.generation_config.min_length is None,
            model_input_name="input_ids",
            input_ids_length=int(job.prompt.ids.shape[1]),
            inputs_tensor=job.prompt.ids,
        )

    def _new_row(self, job: _Job) -> _Row:
        from transformers import LogitsProcessorList

        model = self.loaded.model.model
        progress = RequestProgress(
            job.stream, self.loaded.model.tokenizer, job.request, int(job.prompt.ids.shape[1]), job.prompt.notes
        )
        custom = LogitsProcessorList([RecordingProcessor(progress.recorder)] if progress.recorder else [])
        ids = job.prompt.ids.to(model.device)
        processors = model._get_logits_processor(
            generation_config=job.config,
            input_ids_seq_length=ids.shape[1],
            encoder_input_ids=ids,
            logits_processor=custom,
            device=model.device,
        )
        eos = job.config._eos_token_tensor
        eos_ids = set(eos.reshape(-1).tolist()) if eos is not None else set()
        budget = job.config.max_length - int(ids.shape[1])
        return _Row(job, progress, processors, eos_ids, budget)

    def _prefill(self, jobs: list[_Job]) -> None:
        """Run the newcomers' prompts (left-padded to the longest), give them their first tokens and add
        them to the rows; their cache waits in `_unstacked` for `_stack_prefilled`."""
        import torch
        from transformers import DynamicCache

        model = self.loaded.model.model
        rows: list[_Row] = []
        try:
            rows = [self._new_row(job) for job in jobs]
            lengths = [len(row.ids) for row in rows]
            longest = max(lengths)
            pad = self.loaded.model.tokenizer.pad_token_id or 0
            input_ids = torch.full((len(rows), longest), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), longest), dtype=torch.long)
            for index, row in enumerate(rows):
                input_ids[index, longest - lengths[index] :] = torch.tensor(row.ids)
                mask[index, longest - lengths[index] :] = 1
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            cache = DynamicCache(config=model.config)
            output = model(
                input_ids=input_ids.to(model.device),
                attention_mask=without_padding(mask.to(model.device)),
                position_ids=positions.to(model.device),
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
            )
            logits = output.logits[:, -1, :].float()
            del output
        except BaseException as exc:  # e.g. out of memory: only these newcomers fail
            for job in jobs:
                job.stream.fail(exc)
            return
        # The newcomers' first tokens go out before their cache is stacked onto the batch's: the time to
        # the first token does not include the copy (nor, during a step, the rest of the step).
        self._choose(rows, logits)
        self._unstacked.append((cache, mask.to(model.device)))
        with self._cond:
            self._rows.extend(rows)

    def _stack_prefilled(self) -> None:
        """Stack the prefilled newcomers' caches onto the batch's, in the order their rows joined."""
        for cache, mask in self._unstacked:
            self._stack(cache, mask)
        self._unstacked.clear()

    @contextmanager
    def _newcomers_between_layers(self) -> Iterator[None]:
        """While the step in flight runs, admit and prefill a newly arrived request before its next
        decoder layer (a nested forward pass on the newcomers' own cache; the step's cache and
        inputs are untouched, so no row's tokens change)."""

        def let_newcomers_in(module: Any, args: Any) -> None:
            if self._prefilling or not self._arrived.is_set():
                return
            self._arrived.clear()
            joining, _ = self._admit()  # the batch has rows, so nobody is made to run alone here
            if joining:
                self._prefilling = True
                try:
                    self._prefill(joining)
                finally:
                    self._prefilling = False

        handles = [layer.register_forward_pre_hook(let_newcomers_in) for layer in self._decoder_layers]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _stack(self, cache: Any, mask: Any) -> None:
        """Left-pad the batch's cache or the newcomers' to a common length and stack them."""
        import torch
        import torch.nn.functional as functional

        batch = self._batch
        if batch.cache is None:
            batch.cache, batch.mask = cache, mask
            return
        old, new = batch.mask.shape[1], mask.shape[1]
        length = max(old, new)

        def padded(tensor: Any, size: int) -> Any:
            return functional.pad(tensor, (0, 0, length - size, 0)) if length > size else tensor

        for kept, added in zip(batch.cache.layers, cache.layers):
            kept.keys = torch.cat([padded(kept.keys, old), padded(added.keys.to(kept.keys.device), new)])
            kept.values = torch.cat([padded(kept.values, old), padded(added.values.to(kept.values.device), new)])
        batch.mask = torch.cat([functional.pad(batch.mask, (length - old, 0)), functional.pad(mask, (length - new, 0))])

    def _decode_step(self) -> None:
        """One forward pass for every row: each row's last token in, each row's next token out."""
        import torch

        model = self.loaded.model.model
        batch = self._batch
        rows = list(self._rows)
        size = len(rows)
        self.step_batch_sizes[size] = self.step_batch_sizes.get(size, 0) + 1
        for row in rows:
            row.progress.batch_size = max(row.progress.batch_size, size)
        try:
            last = torch.tensor([[row.ids[-1]] for row in rows], device=model.device)
            mask = torch.cat(
                [batch.mask, torch.ones((size, 1), dtype=batch.mask.dtype, device=batch.mask.device)], dim=1
            )
            positions = mask.sum(dim=1, keepdim=True) - 1
            with self._newcomers_between_layers():
                output = model(
                    input_ids=last,
                    attention_mask=without_padding(mask),
                    position_ids=positions,
                    past_key_values=batch.cache,
                    use_cache=True,
                )
            batch.mask = mask
            logits = output.logits[:, -1, :].float()
            del output
        except BaseException as exc:  # the shared pass failed: every row in it fails, the engine goes on
            self._fail_rows(exc)
            return
        self._choose(rows, logits)
        self._stack_prefilled()

    def _choose(self, rows: list[_Row], logits: Any) -> None:
        """Each row's next token from its logits (row i of `logits` belongs to rows[i]). Rows whose
        processors do the same thing are processed and chosen from together (processor_groups)."""
        import torch

        device = logits.device
        groups: dict[Any, list[int]] = {}
        for index, row in enumerate(rows):
            if not row.done:
                key = group_key(row.processors, len(row.ids), row.job.config.do_sample)
                groups.setdefault(index if key is None else key, []).append(index)
        for indices in groups.values():
            members = [rows[index] for index in indices]
            try:
                scores = process_group(
                    [row.processors for row in members],
                    [row.ids[-1] for row in members],
                    torch.tensor([members[0].ids], device=device),
                    logits[torch.tensor(indices, device=device)],
                )
                tokens = self._tokens(members, scores)
            except BaseException as exc:  # these requests' own failure (e.g. a processor): the others go on
                for row in members:
                    row.done = True
                    row.job.stream.fail(exc)
                continue
            for row, token in zip(members, tokens):
                self._take(row, token)

    @staticmethod
    def _tokens(rows: list[_Row], scores: Any) -> list[int]:
        """The rows' next tokens from their processed scores: greedy, or drawn with each request's own
        generator (seeded as generate() seeds the global one, on the device the scores are on)."""
        import torch

        if not rows[0].job.config.do_sample:
            return torch.argmax(scores, dim=-1).tolist()
        probs = torch.nn.functional.softmax(scores, dim=-1)
        tokens = []
        for index, row in enumerate(rows):
            if row.generator is None:
                row.generator = torch.Generator(device=scores.device).manual_seed(row.request.seed)
            tokens.append(
                int(torch.multinomial(probs[index : index + 1], num_samples=1, generator=row.generator)[0, 0])
            )
        return tokens

    def _take(self, row: _Row, token: int) -> None:
        """Append a row's chosen token, stream it, and end the row where it is done."""
        try:
            row.ids.append(token)
            row.budget -= 1
            row.progress.token(token)
            if (
                token in row.eos
                or row.budget <= 0
                or row.progress.stopped
                or self._completes_stop(row)
                or row.job.stream.aborted
            ):
                self._finish(row)
        except BaseException as exc:  # this request's own failure (e.g. its stream): the others go on
            row.done = True
            row.job.stream.fail(exc)

    def _completes_stop(self, row: _Row) -> bool:
        """Whether the last tokens complete a stop string (as generate()'s stop_strings check does;
        the text shown is cut by the stream's StopCut)."""
        if not row.request.stop:
            return False
        tokenizer = self.loaded.model.tokenizer
        generated = row.ids[int(row.job.prompt.ids.shape[1]) :]
        tail = tokenizer.decode(generated[-(max(len(s) for s in row.request.stop) + 2) :], skip_special_tokens=True)
        return any(stop in tail for stop in row.request.stop)

    def _finish(self, row: _Row) -> None:
        row.done = True
        if row.progress.recorder is not None:
            row.progress.recorder.resolve(row.ids[-1])
        row.progress.end()

    def _drop_finished(self) -> None:
        """Rows that finished, or whose caller aborted, leave the batch; their cache rows go with them."""
        for row in self._rows:
            if not row.done and row.job.stream.aborted:
                self._finish(row)
        keep = [index for index, row in enumerate(self._rows) if not row.done]
        if len(keep) == len(self._rows):
            return
        with self._cond:
            self._rows = [self._rows[index] for index in keep]
        batch = self._batch
        if not keep:
            self._batch = _Batch()
            return
        import torch

        index = torch.tensor(keep, device=batch.mask.device)
        batch.mask = batch.mask.index_select(0, index)
        # Columns that only the departed rows used (all padding now) are cut off the left.
        used = batch.mask.any(dim=0).nonzero()
        first = int(used[0]) if used.numel() else 0
        batch.mask = batch.mask[:, first:]
        for layer in batch.cache.layers:
            keys_index = index.to(layer.keys.device)
            layer.keys = layer.keys.index_select(0, keys_index)[:, :, first:]
            layer.values = layer.values.index_select(0, keys_index)[:, :, first:]

    def _fail_rows(self, error: BaseException) -> None:
        with self._cond:
            rows, self._rows = self._rows, []
        self._batch = _Batch()
        self._unstacked.clear()
        for row in rows:
            if not row.done:
                row.done = True
                row.job.stream.fail(error)
