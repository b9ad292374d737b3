"""Which engine serves a model, one engine per model, and what they all do: one registry.

`engine_for(loaded)` gives the engine for a LoadedModel from the manager (created on first use, closed
when the manager unloads the model, which fails its running and waiting requests with a message):
the batching scheduler (playground.batched_generation) when the entry's `max_batch_size` allows more
than one request per forward pass, else the in-process engine running one `generate()` per request
(playground.local_generation). `remote_engine_for(entry)` and `remote_transcriber_for(entry)` give the
engines for a catalog entry served by an endpoint (playground.remote_engine), kept per endpoint and
model. `speech_batcher_for(loaded)` gives a loaded speech model's shared batches
(playground.speech_batching). `generation_activity()` lists what every one of them is doing, for the
Models view.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from playground.engines.generation import TEXTS, EngineActivity, GenerationEngine, pick, unloaded_message

# Defaults for catalog entries that do not say (max_batch_size, kv_cache_mb): a 2-core CPU still
# gains several times from a batch of 16 (bench "many users"); a GPU holds more.
CPU_MAX_BATCH_SIZE, GPU_MAX_BATCH_SIZE = 16, 32
CPU_KV_CACHE_MB, GPU_KV_CACHE_MB = 1024, 4096
# The least KV memory a batch gets when memory_budget_gb is nearly used up by weights.
MIN_KV_CACHE_MB = 64

_lock = threading.Lock()
# Every engine in use: ("local", LoadedModel cache key), ("speech", LoadedModel cache key),
# ("remote", url, model id) or ("transcription", url, model id) -> (what it serves: the LoadedModel or the catalog entry, the engine).
_engines: dict[tuple[str, ...], tuple[Any, Any]] = {}


def batching_limits(loaded: Any, memory_budget_gb: float | None = None) -> tuple[int, int]:
    """(max_batch_size, KV-cache bytes) for a loaded model: its catalog entry's, else the device's
    defaults; on ZeroGPU always 1 (each request holds its own GPU slice for the duration of its call)."""
    from playground.loading.gpu import zero_gpu_enabled

    entry = loaded.entry
    gpu = "cuda" in str(loaded.device)
    size = entry.max_batch_size or (GPU_MAX_BATCH_SIZE if gpu else CPU_MAX_BATCH_SIZE)
    if zero_gpu_enabled():
        size = 1
    megabytes = entry.kv_cache_mb or (GPU_KV_CACHE_MB if gpu else CPU_KV_CACHE_MB)
    if memory_budget_gb:
        left = memory_budget_gb * 1024 - loaded.resident_bytes / 2**20
        megabytes = min(megabytes, max(left, MIN_KV_CACHE_MB))
    return size, int(megabytes * 2**20)


def concurrent_requests(entries: list[Any], device: str) -> int:
    """How many generation requests a tab lets run at once (Gradio's concurrency limit; the rest wait
    in Gradio's queue with their place shown): enough to fill the largest batch. Each running request
    holds one of Gradio's worker threads while it streams, so the CPU default applies unless the
    catalog's device is `cuda` or the entry sets max_batch_size."""
    default = GPU_MAX_BATCH_SIZE if device == "cuda" else CPU_MAX_BATCH_SIZE
    return max(max(entry.concurrency, entry.max_batch_size or default) for entry in entries)


def _new_engine(loaded: Any, memory_budget_gb: float | None) -> GenerationEngine:
    from playground.engines.local_generation import LocalEngine

    size, kv_bytes = batching_limits(loaded, memory_budget_gb)
    if size > 1:
        from playground.engines.batched_generation import BatchedEngine, can_batch

        if can_batch(loaded.model.model):
            return BatchedEngine(loaded, size, kv_bytes)
    return LocalEngine(loaded)


def engine_for(loaded: Any, memory_budget_gb: float | None) -> GenerationEngine:
    """The engine serving `loaded` (a LoadedModel of a text-generation entry); `memory_budget_gb` is
    the catalog's, which also bounds a batch's KV cache."""
    return _kept_for_loaded("local", loaded, lambda: _new_engine(loaded, memory_budget_gb))


def speech_batcher_for(loaded: Any) -> Any:
    """The SpeechBatcher of a loaded speech-recognition model (its windows per forward pass from
    playground.speech_batching.speech_batch_size)."""
    from playground.engines.speech_batching import SpeechBatcher, speech_batch_size

    return _kept_for_loaded("speech", loaded, lambda: SpeechBatcher(loaded, speech_batch_size(loaded)))


def _kept_for_loaded(kind: str, loaded: Any, make: Callable[[], Any]) -> Any:
    """The registry's engine of `kind` for a LoadedModel, made on first use and closed (failing what
    it still runs with a message) when the manager unloads the model."""
    key = (kind, loaded.key)
    with _lock:
        current = _engines.get(key)
        if current is not None and current[0] is loaded:
            return current[1]
        engine = make()
        _engines[key] = (loaded, engine)

    def close() -> None:
        with _lock:
            if _engines.get(key, (None,))[0] is loaded:
                del _engines[key]
        engine.close(unloaded_message(loaded.entry.label))

    loaded.on_unload.append(close)
    return engine


def _kept_for_entry(kind: str, entry: Any, make: Callable[[Any], Any]) -> Any:
    """The registry's engine of `kind` for a catalog entry with an endpoint; a new one when the entry
    changed (the old one finishes what it runs)."""
    key = (kind, entry.endpoint.url, entry.id)
    with _lock:
        current = _engines.get(key)
        if current is None or current[0] != entry:
            current = _engines[key] = (entry, make(entry))
        return current[1]


def remote_engine_for(entry: Any) -> GenerationEngine:
    """The generation engine for a catalog entry served by an endpoint (one per endpoint and model)."""
    from playground.engines.remote_engine import RemoteEngine

    return _kept_for_entry("remote", entry, RemoteEngine)


def remote_transcriber_for(entry: Any) -> Any:
    """The RemoteTranscriber for a speech entry served by an endpoint (one per endpoint and model)."""
    from playground.engines.remote_engine import RemoteTranscriber

    return _kept_for_entry("transcription", entry, RemoteTranscriber)


def generation_activity() -> list[EngineActivity]:
    """What every engine in use is doing: local, batched and remote generation, remote transcription."""
    with _lock:
        engines = [engine for _, engine in _engines.values()]
    return [engine.activity() for engine in engines]


ACTIVITY_COLUMNS = ("activity_model", "activity_engine", "activity_running", "activity_waiting", "activity_peak",
                    "activity_served", "activity_last_error")


def generation_activity_table(lang: str) -> dict[str, Any]:
    """generation_activity() as a table (headers and engine descriptions in `lang`), for the Models view;
    a blank cell is a figure the engine does not have (a remote server's batches)."""
    rows = [[a.model, pick(a.engine, lang), a.running, a.waiting, a.peak_batch_size, a.served,
             pick(a.last_error, lang) if a.last_error else None] for a in generation_activity()]
    return {"headers": [TEXTS.get(key, lang) for key in ACTIVITY_COLUMNS], "data": rows}
