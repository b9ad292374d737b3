"""Prometheus metrics at /metrics (`--metrics` or `metrics: true` in the catalog), with prometheus_client.

Requests by endpoint and outcome and their latency come from wrapping every named endpoint's
handler; tokens generated and batch sizes from every generation's final statistics; the rest (queue
length, each engine's running and waiting requests, loaded models and their bytes) is read when
scraped. Process memory and CPU come from prometheus_client's process collector. Nothing here
carries a secret: label values are endpoint names, catalog model ids or labels, and engine names.
"""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The app's registry and its request, generation and state metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter("playground_requests", "Requests answered, by endpoint and outcome (ok, error, cancelled)",
                                ["endpoint", "outcome"], registry=self.registry)
        self.latency = Histogram("playground_request_seconds", "Seconds from a request's start to its last output, by endpoint",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.tokens = Counter("playground_generated_tokens", "Tokens generated (text generation, summaries, translations)",
                              registry=self.registry)
        self.batch_size = Histogram("playground_generation_batch_size",
                                    "Requests that shared the forward passes of a finished generation",
                                    buckets=BATCH_BUCKETS, registry=self.registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # ---- requests
    def observe_endpoint(self, endpoint: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn` counted and timed as `endpoint` (same signature, generator-ness and attributes)."""
        requests, latency = self.requests, self.latency

        def record(started: float, outcome: str) -> None:
            requests.labels(endpoint, outcome).inc()
            latency.labels(endpoint).observe(time.perf_counter() - started)

        if inspect.isasyncgenfunction(fn):
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                started, outcome = time.perf_counter(), "error"
                try:
                    async for item in fn(*args, **kwargs):
                        yield item
                    outcome = "ok"
                except GeneratorExit:
                    outcome = "cancelled"
                    raise
                finally:
                    record(started, outcome)
        elif inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                started, outcome = time.perf_counter(), "error"
                try:
                    yield from fn(*args, **kwargs)
                    outcome = "ok"
                except GeneratorExit:
                    outcome = "cancelled"
                    raise
                finally:
                    record(started, outcome)
        elif inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                started, outcome = time.perf_counter(), "error"
                try:
                    result = await fn(*args, **kwargs)
                    outcome = "ok"
                    return result
                finally:
                    record(started, outcome)
        else:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                started, outcome = time.perf_counter(), "error"
                try:
                    result = fn(*args, **kwargs)
                    outcome = "ok"
                    return result
                finally:
                    record(started, outcome)
        return wrapper

    def observe_endpoints(self, demo: Any) -> None:
        """Count and time every named endpoint of a gr.Blocks (before it launches)."""
        for block_fn in demo.fns.values():
            if block_fn.fn is not None and block_fn.api_name and block_fn.api_visibility != "private":
                block_fn.fn = self.observe_endpoint("/" + str(block_fn.api_name), block_fn.fn)

    # ---- generation
    def observe_generations(self) -> None:
        """Count the tokens and batch size of every generation that finishes (all engines report through
        GenerationStream.finish)."""
        from playground.engines.generation import GenerationStream

        original = GenerationStream.finish
        if getattr(original, "_counted_by", None) is self:
            return
        tokens, batch_size = self.tokens, self.batch_size

        @functools.wraps(original)
        def finish(stream: Any, stats: Any, *args: Any, **kwargs: Any) -> Any:
            tokens.inc(max(0, int(getattr(stats, "tokens_out", 0) or 0)))
            batch_size.observe(max(1, int(getattr(stats, "batch_size", 1) or 1)))
            return original(stream, stats, *args, **kwargs)

        finish._counted_by = self  # type: ignore[attr-defined]
        GenerationStream.finish = finish  # type: ignore[method-assign]

    # ---- state, read when scraped
    def observe_state(self, queue_length: Callable[[], int], manager: Any) -> None:
        self.registry.register(_StateCollector(queue_length, manager))


class _StateCollector:
    def __init__(self, queue_length: Callable[[], int], manager: Any):
        self.queue_length = queue_length
        self.manager = manager

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from playground.engines.generation_engines import generation_activity

        yield GaugeMetricFamily("playground_queue_length", "Requests waiting in the app's queue", value=self.queue_length())
        running = GaugeMetricFamily("playground_engine_running_requests", "Requests an engine is running", labels=["model"])
        waiting = GaugeMetricFamily("playground_engine_waiting_requests", "Requests waiting for an engine", labels=["model"])
        for activity in generation_activity():
            running.add_metric([activity.model], activity.running)
            waiting.add_metric([activity.model], activity.waiting)
        yield running
        yield waiting
        loaded = self.manager.loaded_models()
        yield GaugeMetricFamily("playground_models_loaded", "Models in memory", value=len(loaded))
        sizes = GaugeMetricFamily("playground_model_bytes", "Bytes a loaded model's weights take on their device",
                                  labels=["tab", "model", "device"])
        for model in loaded:
            sizes.add_metric([model.tab, model.entry.label if model.entry.is_local else model.entry.id, model.device],
                             model.resident_bytes)
        yield sizes


def metrics_route(metrics: Metrics) -> Any:
    """The Starlette route serving `metrics` at /metrics (sign-in, when on, is checked before it)."""
    from starlette.responses import Response
    from starlette.routing import Route

    async def serve(request: Any) -> Response:  # noqa: ARG001 - Starlette's handler signature
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return Route("/metrics", serve, methods=["GET"])
