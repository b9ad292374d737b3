"""Checking what API clients send before Gradio's own preprocessing sees it.

The browser always sends well-formed values, but anyone can call the HTTP API with anything. Left
alone, Gradio answers a wrong type with a pydantic dump, silently turns a list into its `str()`,
lets NaN through a slider, and hands an image component a server path that was never uploaded
(`{"path": "/etc/..."}` without file metadata is opened as is). `check_api_inputs(demo)` refuses
all of these with one readable line per problem, naming the API parameter, in the caller's language.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts
from playground.web.gradio_patches import check_before_processing

TEXTS = Texts.load("inputs", SHARED_LOCALES)


def _kind(value: Any) -> str:
    return (
        f"{type(value).__name__} {str(value)[:40]!r}" if not isinstance(value, (dict, list)) else type(value).__name__
    )


def _file_problem(name: str, value: Any) -> tuple[str, dict[str, Any]] | None:
    from gradio.utils import get_upload_folder, is_in_or_equal
    from gradio_client.utils import is_http_url_like

    if not isinstance(value, dict):
        return "not_file", {"name": name, "kind": _kind(value)}
    path = value.get("path")
    if path is None:
        url = value.get("url")
        return (
            None if isinstance(url, str) and url.startswith("data:") else ("not_file", {"name": name, "kind": "dict"})
        )
    if not isinstance(path, str):
        return "not_file", {"name": name, "kind": _kind(path)}
    if is_http_url_like(path):
        return None  # Gradio downloads it into its own cache (with its SSRF guard)
    if not is_in_or_equal(str(Path(path).resolve()), get_upload_folder()):
        return "not_uploaded", {"name": name, "path": path}
    return None


def input_problem(component: Any, name: str, value: Any) -> tuple[str, dict[str, Any]] | None:
    """(string key, parameters) describing why `value` cannot go to `component`, or None if it can."""
    import gradio as gr

    if value is None:
        return None  # "nothing given": each handler explains what it needs
    if isinstance(component, (gr.Textbox, gr.Radio)) or (
        isinstance(component, gr.Dropdown) and not component.multiselect
    ):
        if not isinstance(value, str):
            return "not_text", {"name": name, "kind": _kind(value)}
        choices = [
            choice[1] if isinstance(choice, (tuple, list)) else choice
            for choice in getattr(component, "choices", None) or []
        ]
        if choices and not getattr(component, "allow_custom_value", False) and value not in choices:
            return "not_a_choice", {"name": name, "value": value, "choices": ", ".join(map(str, choices))}
        return None
    if isinstance(component, (gr.Number, gr.Slider)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "not_number", {"name": name, "kind": _kind(value)}
        if not math.isfinite(value):
            return "not_finite", {"name": name, "value": value}
        if component.minimum is not None and value < component.minimum:
            return "below", {"name": name, "value": value, "limit": component.minimum}
        if component.maximum is not None and value > component.maximum:
            return "above", {"name": name, "value": value, "limit": component.maximum}
        return None
    if isinstance(component, gr.Checkbox):
        return None if isinstance(value, bool) else ("not_bool", {"name": name, "kind": _kind(value)})
    if isinstance(component, gr.File) and component.file_count != "single" and isinstance(value, list):
        # Several files: each must be an upload like a single one.
        return next((problem for problem in (_file_problem(name, item) for item in value) if problem), None)
    if isinstance(component, (gr.File, gr.Image, gr.Audio, gr.Video)):
        return _file_problem(name, value)
    return None


def _parameter_names(fn: Any, count: int) -> list[str]:
    """The API parameter names of an event handler, in input order (injected parameters skipped)."""
    import gradio as gr

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        params = []
    names = [
        p.name
        for p in params
        if p.name not in ("gr_request", "request")
        and not isinstance(p.default, gr.Progress)
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return (names + [f"input {i + 1}" for i in range(len(names), count)])[:count]


def check_api_inputs(demo: Any) -> None:
    """Make `demo` refuse malformed API inputs with a clear message before its handlers run."""
    check_before_processing(demo, _refuse_problems, _unreadable)


def _refuse_problems(block_fn: Any, inputs: list[Any], lang: str) -> None:
    import gradio as gr

    names = _parameter_names(block_fn.fn, len(block_fn.inputs))
    for component, name, value in zip(block_fn.inputs, names, inputs):
        problem = input_problem(component, name, value)
        if problem is not None:
            key, params = problem
            raise gr.Error(TEXTS.get(key, lang, **params), print_exception=False)


def _unreadable(detail: str, lang: str) -> Exception:
    import gradio as gr

    return gr.Error(TEXTS.get("unreadable", lang, detail=detail), print_exception=False)
