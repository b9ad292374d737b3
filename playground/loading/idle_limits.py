"""How long a loaded model may sit unused: its entry's `idle_unload_minutes`, else the catalog's.

The manager shows when each loaded model goes (the Models view); the idle-unload thread
(playground.operations.idle_unload) unloads it then.
"""

from __future__ import annotations

import time
from typing import Any

from playground.config.catalog import Catalog, ModelEntry

# The longest pause between two looks: a limit of minutes is kept to within a few seconds.
MAX_LOOK_INTERVAL_S = 15.0


def idle_limit_s(catalog: Catalog, entry: ModelEntry) -> float | None:
    """Seconds unused after which `entry` is unloaded; None: never."""
    minutes = entry.idle_unload_minutes
    if minutes is None:
        minutes = catalog.defaults.idle_unload_minutes
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
    """How often to look: a quarter of the shortest limit, at most MAX_LOOK_INTERVAL_S; None if no
    model has one."""
    local = (entry for tab in catalog.tabs.values() for entry in tab.models if not entry.is_remote)
    limits = [idle_limit_s(catalog, entry) for entry in local]
    shortest = min((limit for limit in limits if limit), default=None)
    return None if shortest is None else min(MAX_LOOK_INTERVAL_S, max(0.5, shortest / 4))
