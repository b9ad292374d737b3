"""Idle unload: a model nobody used for `idle_unload_minutes` (the catalog's, or its entry's) is unloaded.

A background thread looks a few times per limit (playground.loading.idle_limits); a request that
takes the model again before then keeps it (the manager decides under its lock), and so does a model
an engine is still generating or transcribing with (a long stream took it before its limit ran out).
The Models view shows when each loaded model goes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from playground.engines.generation_engines import Engines
from playground.loading.idle_limits import look_interval_s, unload_deadline

log = logging.getLogger(__name__)


def start_idle_unload(manager: Any, engines: Engines) -> threading.Thread | None:
    """Start the daemon thread that unloads idle models of `manager` (a ModelManager) that none of
    `engines` is using; None when no catalog model has a limit."""
    interval = look_interval_s(manager.catalog)
    if interval is None:
        return None

    def run() -> None:
        while True:
            time.sleep(interval)
            try:
                # A model an engine still generates or transcribes with is in use, whatever its clock says.
                busy = {activity.model for activity in engines.activity() if activity.running or activity.waiting}
                now = time.time()

                def expired(loaded: Any, now: float = now, busy: set[str] = busy) -> bool:
                    deadline = unload_deadline(manager.catalog, loaded)
                    return deadline is not None and now >= deadline and loaded.entry.label not in busy

                labels = manager.unload_where(expired)
            except Exception:  # the next look tries again; a failure must not end the thread
                log.exception("idle unload failed")
                continue
            if labels:
                log.info("unloaded after being idle: %s", ", ".join(labels))

    thread = threading.Thread(target=run, name="idle-unload", daemon=True)
    thread.start()
    return thread
