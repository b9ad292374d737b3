"""The tabs, one folder each: `tabs/<key>/` holds the tab's page and handlers (`ui.py`), its task
logic (`task.py`, no Gradio), its strings (`locales/en.yaml`, `locales/ko.yaml`) and the recipe of its
test models (`test_models.py`). Their registry (order, keys, tasks) is `playground.registry`,
re-exported here.

Adding a tab = its folder + one TabSpec line in playground/registry.py + one block in models.yaml
(see the README, "Adding a tab").
"""

from __future__ import annotations

from playground.registry import TAB_SPECS, TAB_TASKS, TabSpec

__all__ = ["TAB_SPECS", "TAB_TASKS", "TabSpec"]
