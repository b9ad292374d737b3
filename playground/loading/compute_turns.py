"""Model forward passes on the CPU take turns.

torch already spreads one forward pass over every core. Two at once only fight for the cores (each
thread pool spins while the other's threads run), so concurrent requests got fewer results a second
than the same requests one after another (0.8x for speech on two cores). On the CPU the model manager
makes each pipeline's forward pass wait its turn, first come, first served: decoding uploads,
resizing, feature extraction and postprocessing still overlap with another request's forward pass,
and a long request (speech in 30-second windows) lets others in between its windows. Accelerators
batch concurrent requests instead (playground.engines.speech_batching), so they take no turns.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The last forward passes' (start, end) in time.monotonic seconds: what the tests check.
_KEPT_SPANS = 256


class ComputeTurns:
    """A first-come, first-served turn for forward passes (one at a time)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._line: deque[object] = deque()
        self.spans: deque[tuple[float, float]] = deque(maxlen=_KEPT_SPANS)

    @contextmanager
    def turn(self) -> Iterator[None]:
        ticket = object()
        with self._cond:
            self._line.append(ticket)
            while self._line[0] is not ticket:
                self._cond.wait()
        started = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self.spans.append((started, time.monotonic()))
                self._line.popleft()
                self._cond.notify_all()


def take_turns_on_cpu(obj: Any, device: str, turns: ComputeTurns) -> None:
    """Make a pipeline loaded on the CPU run its forward passes in turns. A pipeline's `__call__` and
    its chunk iterator both call `self.forward` (its documented per-batch step), so an attribute on the
    instance covers every path; adapters and the generation engines call their models themselves. The
    wrapper holds the pipeline weakly, so an evicted model is freed as soon as its last user lets go."""
    from transformers import Pipeline

    if device != "cpu" or not isinstance(obj, Pipeline):
        return
    pipeline = weakref.ref(obj)
    forward = type(obj).forward

    def forward_in_turn(*args: Any, **kwargs: Any) -> Any:
        with turns.turn():
            return forward(pipeline(), *args, **kwargs)

    obj.forward = forward_in_turn
