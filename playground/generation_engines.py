"""Which generation engine serves a loaded model, one engine per loaded model, and what they all do.

`engine_for(loaded)` gives the engine for a LoadedModel from the manager (created on first use, closed
when the manager unloads the model, which fails its running and waiting requests with a message).
`generation_activity()` lists every engine's running and waiting requests for the Models view.
"""

from __future__ import annotations

import threading
from typing import Any

from playground.generation import EngineActivity, GenerationEngine, unloaded_message

_lock = threading.Lock()
# LoadedModel cache key -> (the LoadedModel it serves, its engine).
_engines: dict[str, tuple[Any, GenerationEngine]] = {}


def _new_engine(loaded: Any) -> GenerationEngine:
    from playground.local_generation import LocalEngine

    return LocalEngine(loaded)


def engine_for(loaded: Any) -> GenerationEngine:
    """The engine serving `loaded` (a LoadedModel of a text-generation entry)."""
    with _lock:
        current = _engines.get(loaded.key)
        if current is not None and current[0] is loaded:
            return current[1]
        engine = _new_engine(loaded)
        _engines[loaded.key] = (loaded, engine)

    def close() -> None:
        with _lock:
            if _engines.get(loaded.key, (None,))[0] is loaded:
                del _engines[loaded.key]
        engine.close(unloaded_message(loaded.entry.label))

    loaded.on_unload.append(close)
    return engine


def generation_activity() -> list[EngineActivity]:
    """What each loaded generation model is doing: requests running and waiting."""
    with _lock:
        engines = [engine for _, engine in _engines.values()]
    return [engine.activity() for engine in engines]
