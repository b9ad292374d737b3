"""Streamed updates at a pace a browser can follow.

Gradio's browser does work for every streamed update in proportion to the page (it refreshes the
loading status of every component an event has touched), so a model writing 100 tokens a second,
one update a token, keeps a page busy long after the text is written. Streams therefore go out in
updates at most `UPDATE_INTERVAL_S` apart: the first at once (the time to the first token is
unchanged), later ones gathering what arrived meanwhile, the last one at once.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

# Ten updates a second reads as smooth text and leaves a 2-core machine's browser idle most of the time.
UPDATE_INTERVAL_S = 0.1


def gathered(
    source: queue.Queue[Any], is_last: Callable[[Any], bool], interval: float = UPDATE_INTERVAL_S
) -> Iterator[list[Any]]:
    """The items put on `source`, in lists: the first list as soon as an item arrives, each later one
    once `interval` seconds have passed since the one before (with everything that arrived by then),
    and the list holding the last item (`is_last`) without waiting."""
    sent_at: float | None = None
    while True:
        items = [source.get()]
        while not is_last(items[-1]):
            left = 0.0 if sent_at is None else sent_at + interval - time.monotonic()
            try:
                items.append(source.get(timeout=left) if left > 0 else source.get_nowait())
            except queue.Empty:
                break
        sent_at = time.monotonic()
        yield items
        if is_last(items[-1]):
            return
