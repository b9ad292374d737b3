"""`/healthz` (the process answers) and `/readyz` (the default models can be served), for HAProxy
(`make replicas`) and Kubernetes probes.

Ready means: for every shown tab's default model served here, it is loaded, or its weights are on
disk (a complete snapshot) and its last load did not fail. A default whose weights are missing or whose
load failed makes the replica not ready (503), so a balancer takes it out of rotation. Models served by
an endpoint are the engine's business and not checked. Without sign-in the answer lists each model;
with sign-in on, only signed-in callers see the list (it names models).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from playground.config.catalog import Catalog


def default_model_states(catalog: Catalog, manager: Any, tab_keys: Sequence[str]) -> list[dict[str, Any]]:
    """One record per default model served here: tab, model id, state (loaded / on disk / failed: why /
    not on disk) and whether it counts as servable."""
    from playground.loading.hub import complete_snapshot

    loaded = {model.key for model in manager.loaded_models()}
    states = []
    for key in (key for key in tab_keys if key in catalog.tabs):
        for task in dict.fromkeys(entry.task for entry in catalog.tabs[key].models):
            entry = catalog.default_model(key, task)
            if entry.is_remote:
                continue
            cache_key = manager.cache_key(entry)
            failure = manager.load_failures.get(cache_key)
            if cache_key in loaded:
                state, ok = "loaded", True
            elif failure is not None:
                state, ok = f"failed: {failure}", False
            elif complete_snapshot(catalog.resolve_path(entry), entry.revision, entry.allow_pickle_weights) is not None:
                state, ok = "on disk", True
            else:
                state, ok = "not on disk", False
            # A local folder's path says nothing to a balancer and describes the server: its label.
            states.append({"tab": key, "model": entry.label if entry.is_local else entry.id, "state": state, "ok": ok})
    return states


def health_routes(
    catalog: Catalog, manager: Any, tab_keys: Sequence[str], may_see_details: Callable[[Any], bool]
) -> list[Any]:
    """Starlette routes for /healthz and /readyz; `may_see_details(request)` says whether a caller may
    see which models are not ready."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def healthz(request: Any) -> JSONResponse:  # noqa: ARG001 - Starlette's handler signature
        return JSONResponse({"status": "ok"})

    async def readyz(request: Any) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        # Reading the disk and the Hub cache: off the event loop.
        states = await run_in_threadpool(default_model_states, catalog, manager, tab_keys)
        ready = all(state["ok"] for state in states)
        body: dict[str, Any] = {"status": "ready" if ready else "not ready"}
        if may_see_details(request):
            body["models"] = states
        return JSONResponse(body, status_code=200 if ready else 503)

    return [Route("/healthz", healthz, methods=["GET", "HEAD"]), Route("/readyz", readyz, methods=["GET", "HEAD"])]
