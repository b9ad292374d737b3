"""Range checks shared by handlers, task logic and engines (no Gradio: the web layer's API checks
are in `playground.web.inputs`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def whole_number_in_range(value: Any, low: int, high: int, error: Callable[[], Exception]) -> int:
    """`value` as an int if it is a whole number in [low, high]; else raises `error()` (the tab's message)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise error() from None
    if not math.isfinite(number) or not number.is_integer() or not low <= number <= high:
        raise error()
    return int(number)
