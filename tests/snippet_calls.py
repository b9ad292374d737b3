"""Reading a "show code" snippet's load arguments with `ast`, to compare them with what the app's
manager used (`/loaded_models` -> `load_kwargs`)."""

from __future__ import annotations

import ast
from typing import Any

# Options a snippet may leave out because their value is transformers' own default.
TRANSFORMERS_DEFAULTS = {"revision": None, "trust_remote_code": False}


def call_arguments(code: str, callee: str) -> tuple[list[Any], dict[str, Any]]:
    """The literal positional and keyword arguments of the first call to `callee` in `code`
    (`callee` as written: "pipeline", "AutoModelForVisualQuestionAnswering.from_pretrained")."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == callee:
            return ([ast.literal_eval(arg) for arg in node.args],
                    {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords})
    raise AssertionError(f"no call to {callee} in the snippet:\n{code}")


def method_argument(code: str, method: str) -> Any:
    """The single literal argument of the first `.method(...)` call in `code`, or None if there is none."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method:
            return ast.literal_eval(node.args[0])
    return None


def assert_loads_as_the_app(snippet_kwargs: dict[str, Any], load_kwargs: dict[str, Any]) -> None:
    """The snippet passes every option the manager used, except those at transformers' defaults."""
    expected = {name: value for name, value in load_kwargs.items()
                if not (name in TRANSFORMERS_DEFAULTS and value == TRANSFORMERS_DEFAULTS[name])}
    assert snippet_kwargs == expected, (snippet_kwargs, load_kwargs)


def flattened(load_kwargs: dict[str, Any]) -> dict[str, Any]:
    """pipeline() arguments as one `from_pretrained` call takes them: `model_kwargs` merged in."""
    kwargs = {name: value for name, value in load_kwargs.items() if name != "model_kwargs"}
    return {**kwargs, **load_kwargs.get("model_kwargs", {})}
