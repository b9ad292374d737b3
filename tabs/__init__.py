"""The tab modules; their registry (order, keys, tasks) is `playground.config.registry`, re-exported here.

Adding a tab = one module in this package + one TabSpec in playground/config/registry.py + one block in
models.yaml (see the README, "Adding a tab").
"""

from __future__ import annotations

from playground.config.registry import TAB_SPECS, TAB_TASKS, TabSpec

__all__ = ["TAB_SPECS", "TAB_TASKS", "TabSpec"]
