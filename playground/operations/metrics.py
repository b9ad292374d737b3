"""Prometheus metrics at /metrics (`--metrics` or `metrics: true` in the catalog), with prometheus_client.

Requests by endpoint and outcome and their latency come from wrapping every named endpoint's
handler (`observe_endpoint`, through playground.web.gradio_patches.wrap_endpoints); tokens generated
and batch sizes from every generation's final statistics (the engines' registry tells its finish
listeners); the rest (queue length, each engine's running and waiting requests, loaded models and
their bytes) is read when scraped. Process memory and CPU come from prometheus_client's process collector. Nothing here
carries a secret: label values are endpoint names, catalog model ids or labels, and engine names.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily

if TYPE_CHECKING:
    from playground.engines.generation import GenerationStats
    from playground.engines.generation_engines import Engines

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The app's registry and its request, generation and state metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "playground_requests",
            "Requests answered, by endpoint and outcome (ok, error, cancelled)",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "playground_request_seconds",
            "Seconds from a request's start to its last output, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "playground_generated_tokens",
            "Tokens generated (text generation, summaries, translations)",
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "playground_generation_batch_size",
            "Requests that shared the forward passes of a finished generation",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )

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

    # ---- generation
    def observe_generations(self, engines: Engines) -> None:
        """Count the tokens and batch size of every generation that finishes on `engines` (an
        Engines registry)."""
        engines.on_finished(self.count_generation)

    def count_generation(self, stats: GenerationStats) -> None:
        """Count one finished generation's GenerationStats."""
        self.tokens.inc(max(0, int(stats.tokens_out or 0)))
        self.batch_size.observe(max(1, int(stats.batch_size or 1)))

    # ---- state, read when scraped
    def observe_state(self, queue_length: Callable[[], int | None], manager: Any, engines: Engines) -> None:
        """Gauges read when scraped: `queue_length()` (None: unknown, the gauge is left out), each engine
        of `engines` and the models `manager` holds."""
        self.registry.register(_StateCollector(queue_length, manager, engines))


class _StateCollector:
    def __init__(self, queue_length: Callable[[], int | None], manager: Any, engines: Engines):
        self.queue_length = queue_length
        self.manager = manager
        self.engines = engines

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting_in_queue = self.queue_length()
        if waiting_in_queue is not None:
            yield GaugeMetricFamily(
                "playground_queue_length", "Requests waiting in the app's queue", value=waiting_in_queue
            )
        running = GaugeMetricFamily(
            "playground_engine_running_requests", "Requests an engine is running", labels=["model"]
        )
        waiting = GaugeMetricFamily(
            "playground_engine_waiting_requests", "Requests waiting for an engine", labels=["model"]
        )
        for activity in self.engines.activity():
            running.add_metric([activity.model], activity.running)
            waiting.add_metric([activity.model], activity.waiting)
        yield running
        yield waiting
        loaded = self.manager.loaded_models()
        yield GaugeMetricFamily("playground_models_loaded", "Models in memory", value=len(loaded))
        sizes = GaugeMetricFamily(
            "playground_model_bytes",
            "Bytes a loaded model's weights take on their device",
            labels=["tab", "model", "device"],
        )
        for model in loaded:
            sizes.add_metric(
                [model.tab, model.entry.label if model.entry.is_local else model.entry.id, model.device],
                model.resident_bytes,
            )
        yield sizes


def metrics_route(metrics: Metrics) -> Any:
    """The Starlette route serving `metrics` at /metrics (sign-in, when on, is checked before it)."""
    from starlette.responses import Response
    from starlette.routing import Route

    async def serve(request: Any) -> Response:  # noqa: ARG001 - Starlette's handler signature
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return Route("/metrics", serve, methods=["GET"])
