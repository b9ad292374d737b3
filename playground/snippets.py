"""Runnable Python that reproduces what a tab just did ("show code" panels).

Snippets are built from the same values the app used (model id, options, inputs), so a learner can
paste them into a notebook and get the same result.
"""

from __future__ import annotations

import pprint
from typing import Any

_INDENT = "    "


def format_value(value: Any) -> str:
    """A Python literal for `value`, wrapped like black would for long lists and dicts."""
    text = repr(value)
    if len(text) <= 70:
        return text
    return pprint.pformat(value, width=88, sort_dicts=False)


def format_call(callee: str, args: list[Any] | tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> str:
    """`callee(arg, key=value, ...)`, one argument per line when it does not fit on one."""
    parts = [format_value(a) for a in args]
    parts += [f"{k}={format_value(v)}" for k, v in (kwargs or {}).items() if v is not None]
    one_line = f"{callee}({', '.join(parts)})"
    if len(one_line) <= 88 and "\n" not in one_line:
        return one_line
    inner = ",\n".join(_INDENT + p.replace("\n", "\n" + _INDENT) for p in parts)
    return f"{callee}(\n{inner},\n)"


def model_load_kwargs(entry: Any, dtype: str, device: str | None) -> dict[str, Any]:
    """The pipeline()/from_pretrained() options that matter for reproducing a catalog entry."""
    kwargs: dict[str, Any] = {}
    if entry.revision:
        kwargs["revision"] = entry.revision
    if entry.device_map:
        kwargs["device_map"] = entry.device_map
        model_kwargs: dict[str, Any] = {}
        if entry.max_memory:
            model_kwargs["max_memory"] = dict(entry.max_memory)
        if entry.offload_folder:
            model_kwargs["offload_folder"] = entry.offload_folder
        if model_kwargs:
            kwargs["model_kwargs"] = model_kwargs
    elif device and device != "cpu":
        kwargs["device"] = device
    if dtype != "float32":
        kwargs["dtype"] = dtype
    if entry.trust_remote_code:
        kwargs["trust_remote_code"] = True
    kwargs.update(entry.pipeline_kwargs)
    return kwargs


def pipeline_snippet(
    task: str,
    model_id: str,
    call_args: list[Any],
    call_kwargs: dict[str, Any] | None = None,
    load_kwargs: dict[str, Any] | None = None,
    setup: list[str] | None = None,
    imports: list[str] | None = None,
    show: str = "print(result)",
) -> str:
    """A complete script: imports, `pipeline(...)`, optional input set-up, the call, printing."""
    lines = [*(imports or []), "from transformers import pipeline", ""]
    lines.append("pipe = " + format_call("pipeline", [task], {"model": model_id, **(load_kwargs or {})}))
    if setup:
        lines += ["", *setup]
    lines += ["", "result = " + format_call("pipe", call_args, call_kwargs), show]
    return "\n".join(lines) + "\n"


class Raw:
    """An expression to print as-is in a snippet (e.g. a variable name, `Image.open(...)`)."""

    def __init__(self, expression: str):
        self.expression = expression

    def __repr__(self) -> str:
        return self.expression
