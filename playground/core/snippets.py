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


# Load options whose value here is transformers' own default: left out of snippets to keep them short.
_DEFAULT_LOAD_OPTIONS = {"revision": None, "trust_remote_code": False}


class LoadKwargs(dict):
    """pipeline() keyword arguments with what a snippet prints beside them: the imports their values
    need (a quantization config) and comments (why this dtype)."""

    def __init__(self, values: dict[str, Any], imports: tuple[str, ...] = (), comments: tuple[str, ...] = ()):
        super().__init__(values)
        self.imports = imports
        self.comments = comments


def snippet_load_kwargs(loaded: Any) -> LoadKwargs:
    """The pipeline() keyword arguments the manager loaded `loaded` (a LoadedModel) with, as a
    snippet writes them: every option that ran, minus those at transformers' defaults; with the
    imports a quantization config needs and, as a comment, why the model runs in its dtype."""
    values = {
        name: value
        for name, value in loaded.load_kwargs.items()
        if name not in _DEFAULT_LOAD_OPTIONS or value != _DEFAULT_LOAD_OPTIONS[name]
    }
    quantization = loaded.quantization
    noteworthy = loaded.dtype_choice is not None and loaded.dtype_choice.noteworthy
    return LoadKwargs(
        values,
        imports=quantization.imports if quantization else (),
        comments=(f"dtype {loaded.dtype_reason()}",) if noteworthy else (),
    )


def from_pretrained_kwargs(loaded: Any) -> tuple[dict[str, Any], str | None]:
    """For snippets that call `AutoModel….from_pretrained` (adapters): its keyword arguments (the
    pipeline's `model_kwargs` flattened in) and the device to move the model to (None with a device map)."""
    kwargs = dict(snippet_load_kwargs(loaded))
    device = kwargs.pop("device", None)
    kwargs.update(kwargs.pop("model_kwargs", {}))
    return kwargs, device


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
    extra_imports = getattr(load_kwargs, "imports", ())
    lines = [
        *(imports or []),
        *(i for i in extra_imports if i not in (imports or [])),
        "from transformers import pipeline",
        "",
    ]
    lines += [f"# {comment}" for comment in getattr(load_kwargs, "comments", ())]
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
