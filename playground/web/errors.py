"""Turning every failure into a clear message for the UI and the API, never a stack trace.

`guarded(fn)` wraps an event handler (plain or generator). Expected problems (`UserError`, model
loading failures, out of memory) become `gr.Error` in the caller's language; anything unexpected is
logged with its traceback on the server and reported as one line, and the app keeps serving.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from playground.core.texts import LANGUAGES, SHARED_LOCALES, LocalizedError, Texts, UserError, request_language
from playground.loading.devices import release_memory
from playground.loading.gpu import on_gpu

__all__ = ["OUT_OF_MEMORY", "UNEXPECTED", "UserError", "guarded", "to_gradio_error"]

log = logging.getLogger(__name__)

TEXTS = Texts.load("errors", SHARED_LOCALES)
# Every language's message, for callers that pick one once they know the request's language.
OUT_OF_MEMORY = {lang: TEXTS.get("out_of_memory", lang) for lang in LANGUAGES}
UNEXPECTED = {lang: TEXTS.get("unexpected", lang) for lang in LANGUAGES}


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    text = str(exc).lower()
    # CUDA/MPS say "out of memory"; torch's CPU allocator says "can't allocate memory".
    return name == "OutOfMemoryError" or "out of memory" in text or "can't allocate memory" in text


def to_gradio_error(exc: BaseException, lang: str) -> Exception:
    """The gr.Error the user sees for `exc`."""
    import gradio as gr

    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, LocalizedError):  # bad input (UserError) or a model that did not load
        return gr.Error(exc.in_language(lang), print_exception=False)
    if _is_out_of_memory(exc):
        release_memory()
        return gr.Error(OUT_OF_MEMORY.get(lang, OUT_OF_MEMORY["en"]), print_exception=False)
    log.exception("unexpected error in an event handler")
    # The exception's own words (the class name and traceback are in the server log).
    detail = str(exc).strip()[:300] or type(exc).__name__
    detail = detail if detail.endswith((".", "!", "?")) else detail + "."
    return gr.Error(UNEXPECTED.get(lang, UNEXPECTED["en"]).format(detail=detail), print_exception=False)


def guarded(fn: Callable[..., Any] | None = None, *, gpu: bool = False) -> Any:
    """Wrap an event handler so failures reach the user as messages; keeps its API signature.

    The wrapper takes an extra `gr.Request` (injected by Gradio, invisible to API clients) to answer
    in the browser's language. A handler that runs a model declares `gpu=True`: on ZeroGPU Spaces it
    holds a GPU while it runs. Use as `guarded(fn, gpu=True)` or as a decorator `@guarded(gpu=True)`.
    """
    if fn is None:
        return functools.partial(guarded, gpu=gpu)
    import gradio as gr

    signature = inspect.signature(fn)
    # A handler that declares `request` gets the gr.Request too (e.g. to key state by session).
    wants_request = "request" in signature.parameters
    params = [p for p in signature.parameters.values() if p.name != "request"]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    rest = [p for p in params if p not in positional]
    request_param = inspect.Parameter(
        "gr_request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request
    )
    wrapper_signature = signature.replace(parameters=[*positional, request_param, *rest])
    run = on_gpu(fn) if gpu else fn

    def split(args: tuple, kwargs: dict) -> tuple[tuple, dict, Any]:
        request = kwargs.pop("gr_request", None)
        if request is None and len(args) > len(positional):
            request, args = args[len(positional)], args[: len(positional)] + args[len(positional) + 1 :]
        if wants_request:
            kwargs["request"] = request
        return args, kwargs, request

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            args, kwargs, request = split(args, kwargs)
            try:
                yield from run(*args, **kwargs)
            except Exception as exc:
                raise to_gradio_error(exc, request_language(request)) from None

    else:

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            args, kwargs, request = split(args, kwargs)
            try:
                return run(*args, **kwargs)
            except Exception as exc:
                raise to_gradio_error(exc, request_language(request)) from None

    wrapper.__signature__ = wrapper_signature  # type: ignore[attr-defined]
    # Only the injected parameter: Gradio reads annotations just to find special parameters.
    wrapper.__annotations__ = {"gr_request": gr.Request}
    del wrapper.__wrapped__  # Gradio must see the wrapper's signature, not the original's
    return wrapper
