"""Which engine serves a model, one engine per model, and what they all do: one registry.

`Engines` lives on the app (each tab reaches it as `ctx.engines`) and makes every choice of engine in
one place: `engines.generation(entry, load)` gives a text-generation entry's engine, the remote one
(playground.engines.remote_engine, kept per endpoint and model) for an entry with an `endpoint:`, else the
batching scheduler (playground.engines.batched_generation) when the entry's `max_batch_size` allows more than
one request per forward pass, else the in-process engine (playground.engines.local_generation); local engines
are made on first use and closed when the manager unloads their model, which fails their running and
waiting requests with a message. `engines.seq2seq(loaded)` runs summarization and translation models,
`engines.speech(loaded)` a loaded speech model's shared batches (playground.engines.speech_batching) and
`engines.transcriber(entry)` a remote speech entry. `engines.activity()` lists what every one of
them is doing, for the Models view; `engines.on_finished(listener)` has every generation engine tell
`listener` the statistics of each generation it finishes (the metrics count tokens and batch sizes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from playground.engines.generation import (
    TEXTS,
    EngineActivity,
    FinishListener,
    GenerationEngine,
    pick,
    unloaded_message,
)
from playground.loading.devices import GENERATION_BATCH, concurrency_limit

CPU_KV_CACHE_MB, GPU_KV_CACHE_MB = 1024, 4096
# The least KV memory a batch gets when memory_budget_gb is nearly used up by weights.
MIN_KV_CACHE_MB = 64
ACTIVITY_COLUMNS = (
    "activity_model",
    "activity_engine",
    "activity_running",
    "activity_waiting",
    "activity_peak",
    "activity_served",
    "activity_last_error",
)


def batching_limits(loaded: Any, memory_budget_gb: float | None = None) -> tuple[int, int]:
    """(max_batch_size, KV-cache bytes) for a loaded model: its catalog entry's, else the device's
    defaults; on ZeroGPU always 1 (each request holds its own GPU slice for the duration of its call)."""
    from playground.loading.gpu import zero_gpu_enabled

    entry = loaded.entry
    gpu = "cuda" in str(loaded.device)
    size = entry.max_batch_size or GENERATION_BATCH.for_device(gpu)
    if zero_gpu_enabled():
        size = 1
    megabytes = entry.kv_cache_mb or (GPU_KV_CACHE_MB if gpu else CPU_KV_CACHE_MB)
    if memory_budget_gb:
        left = memory_budget_gb * 1024 - loaded.resident_bytes / 2**20
        megabytes = min(megabytes, max(left, MIN_KV_CACHE_MB))
    return size, int(megabytes * 2**20)


def concurrent_requests(entries: list[Any], device: str) -> int:
    """How many generation requests a tab lets run at once (see playground.loading.devices.concurrency_limit)."""
    return concurrency_limit(entries, device, GENERATION_BATCH)


class Engines:
    """Every engine in use: ("local", LoadedModel cache key), ("seq2seq", key), ("speech", key),
    ("remote", url, model id) or ("transcription", url, model id) -> (what it serves: the LoadedModel
    or the catalog entry, the engine). `memory_budget_gb` is the catalog's, which also bounds a
    batch's KV cache."""

    def __init__(self, memory_budget_gb: float | None = None):
        self.memory_budget_gb = memory_budget_gb
        self._lock = threading.Lock()
        self._engines: dict[tuple[str, ...], tuple[Any, Any]] = {}
        self._finish_listeners: list[FinishListener] = []

    def on_finished(self, listener: FinishListener) -> None:
        """Have `listener(stats)` called, in the engine's thread, with the GenerationStats of every
        generation that finishes on any generation engine of this registry, made before or after."""
        self._finish_listeners.append(listener)

    def generation(self, entry: Any, load: Callable[[], Any]) -> GenerationEngine:
        """The engine for a text-generation catalog entry: its endpoint's, else the local one for the
        model `load()` returns (loading it if needed)."""
        if entry.is_remote:
            from playground.engines.remote_engine import RemoteEngine

            return self._kept_for_entry("remote", entry, RemoteEngine)
        return self.local(load())

    def local(self, loaded: Any) -> GenerationEngine:
        """The engine serving a loaded text-generation model."""
        return self._kept_for_loaded("local", loaded, lambda: self._new_local(loaded))

    def seq2seq(self, loaded: Any) -> Any:
        """The Seq2SeqEngine of a loaded summarization or translation model."""
        from playground.engines.seq2seq import Seq2SeqEngine

        return self._kept_for_loaded("seq2seq", loaded, lambda: Seq2SeqEngine(loaded))

    def speech(self, loaded: Any) -> Any:
        """The SpeechBatcher of a loaded speech-recognition model (its windows per forward pass from
        playground.engines.speech_batching.speech_batch_size)."""
        from playground.engines.speech_batching import SpeechBatcher, speech_batch_size

        return self._kept_for_loaded("speech", loaded, lambda: SpeechBatcher(loaded, speech_batch_size(loaded)))

    def transcriber(self, entry: Any) -> Any:
        """The RemoteTranscriber for a speech entry served by an endpoint (one per endpoint and model)."""
        from playground.engines.remote_engine import RemoteTranscriber

        return self._kept_for_entry("transcription", entry, RemoteTranscriber)

    def activity(self) -> list[EngineActivity]:
        """What every engine in use is doing: local, batched, seq2seq and remote generation, speech."""
        with self._lock:
            engines = [engine for _, engine in self._engines.values()]
        return [engine.activity() for engine in engines]

    def activity_table(self, lang: str) -> dict[str, Any]:
        """activity() as a table (headers and engine descriptions in `lang`), for the Models view; a
        blank cell is a figure the engine does not have (a remote server's batches)."""
        rows = [
            [
                a.model,
                pick(a.engine, lang),
                a.running,
                a.waiting,
                a.peak_batch_size,
                a.served,
                pick(a.last_error, lang) if a.last_error else None,
            ]
            for a in self.activity()
        ]
        return {"headers": [TEXTS.get(key, lang) for key in ACTIVITY_COLUMNS], "data": rows}

    def _new_local(self, loaded: Any) -> GenerationEngine:
        from playground.engines.local_generation import LocalEngine

        size, kv_bytes = batching_limits(loaded, self.memory_budget_gb)
        if size > 1:
            from playground.engines.batched_generation import BatchedEngine, can_batch

            if can_batch(loaded.model.model):
                return BatchedEngine(loaded, size, kv_bytes)
        return LocalEngine(loaded)

    def _kept_for_loaded(self, kind: str, loaded: Any, make: Callable[[], Any]) -> Any:
        """The engine of `kind` for a LoadedModel, made on first use and closed (failing what it still
        runs with a message) when the manager unloads the model."""
        key = (kind, loaded.key)
        with self._lock:
            current = self._engines.get(key)
            if current is not None and current[0] is loaded:
                return current[1]
            engine = self._listened_to(make())
            self._engines[key] = (loaded, engine)

        def close() -> None:
            with self._lock:
                if self._engines.get(key, (None,))[0] is loaded:
                    del self._engines[key]
            engine.close(unloaded_message(loaded.entry.label))

        loaded.on_unload.append(close)
        return engine

    def _kept_for_entry(self, kind: str, entry: Any, make: Callable[[Any], Any]) -> Any:
        """The engine of `kind` for a catalog entry with an endpoint; a new one when the entry changed
        (the old one finishes what it runs)."""
        key = (kind, entry.endpoint.url, entry.id)
        with self._lock:
            current = self._engines.get(key)
            if current is None or current[0] != entry:
                current = self._engines[key] = (entry, self._listened_to(make(entry)))
            return current[1]

    def _listened_to(self, engine: Any) -> Any:
        """`engine`, telling this registry's finish listeners (the list itself: later ones count too)."""
        if isinstance(engine, GenerationEngine):
            engine.on_finish = self._finish_listeners
        return engine
