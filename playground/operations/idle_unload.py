"""Idle unload: a model nobody used for `idle_unload_minutes` (the catalog's, or its entry's) is unloaded.

A background thread looks a few times per limit; a request that takes the model again before then
keeps it (the manager decides under its lock), and so does a model an engine is still generating or
transcribing with (a long stream took it before its limit ran out). The Models view shows when each
loaded model goes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from playground.config.catalog import Catalog, ModelEntry

log = logging.getLogger(__name__)
# The longest pause between two looks: a limit of minutes is kept to within a few seconds.
MAX_LOOK_INTERVAL_S = 15.0


def idle_limit_s(catalog: Catalog, entry: ModelEntry) -> float | None:
    """Seconds unused after which `entry` is unloaded; None: never."""
    minutes = entry.idle_unload_minutes if entry.idle_unload_minutes is not None else catalog.defaults.idle_unload_minutes
    return minutes * 60 if minutes else None


def unload_deadline(catalog: Catalog, loaded: Any) -> float | None:
    """The epoch time at which a LoadedModel goes unless used again; None: never."""
    limit = idle_limit_s(catalog, loaded.entry)
    return None if limit is None else loaded.last_used + limit


def unloads_at(catalog: Catalog, loaded: Any) -> str | None:
    """When a LoadedModel goes unless used again, as local time (YYYY-MM-DD HH:MM:SS); None: never."""
    deadline = unload_deadline(catalog, loaded)
    return None if deadline is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(deadline))


def look_interval_s(catalog: Catalog) -> float | None:
    """How often to look: a quarter of the shortest limit, at most MAX_LOOK_INTERVAL_S; None if no model has one."""
    limits = [idle_limit_s(catalog, entry) for tab in catalog.tabs.values() for entry in tab.models if not entry.is_remote]
    shortest = min((limit for limit in limits if limit), default=None)
    return None if shortest is None else min(MAX_LOOK_INTERVAL_S, max(0.5, shortest / 4))


def start_idle_unload(manager: Any) -> threading.Thread | None:
    """Start the daemon thread that unloads idle models of `manager` (a ModelManager); None when no
    catalog model has a limit."""
    interval = look_interval_s(manager.catalog)
    if interval is None:
        return None

    def run() -> None:
        from playground.engines.generation_engines import generation_activity

        while True:
            time.sleep(interval)
            try:
                # A model an engine still generates or transcribes with is in use, whatever its clock says.
                busy = {activity.model for activity in generation_activity() if activity.running or activity.waiting}
                now = time.time()

                def expired(loaded: Any) -> bool:
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
