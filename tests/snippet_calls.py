"""Reading a "show code" snippet's load arguments with `ast`, to compare them with what the app's
manager used (`/loaded_models` -> `load_kwargs`).

    assert pipeline_loads(code) == {model_id: app_load_kwargs(client, label)}
    assert from_pretrained_load(code) == adapter_load(app_load_kwargs(client, label))
    assert_loads_as_the_app(call_arguments(code, "pipeline")[1], load_kwargs)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

# What pipeline() and from_pretrained() use for an option a snippet may leave out.
TRANSFORMERS_DEFAULTS = {"revision": None, "trust_remote_code": False}


def _calls(tree: ast.AST, name: str) -> Iterator[ast.Call]:
    """Calls of `name(...)` or `something.name(...)`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) == name:
                yield node


def _kwargs(call: ast.Call) -> dict[str, Any]:
    return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}


def call_arguments(code: str, callee: str) -> tuple[list[Any], dict[str, Any]]:
    """The literal positional and keyword arguments of the first call to `callee` in `code`
    (`callee` as written: "pipeline", "AutoModelForVisualQuestionAnswering.from_pretrained")."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == callee:
            return [ast.literal_eval(arg) for arg in node.args], _kwargs(node)
    raise AssertionError(f"no call to {callee} in the snippet:\n{code}")


def method_argument(code: str, method: str) -> Any:
    """The single literal argument of the first `.method(...)` call in `code`, or None if there is none."""
    for call in _calls(ast.parse(code), method):
        if isinstance(call.func, ast.Attribute):
            return ast.literal_eval(call.args[0])
    return None


def pipeline_loads(code: str) -> dict[str, dict[str, Any]]:
    """Model id -> the keyword arguments of its `pipeline(task, model=..., ...)` call, without `model`,
    with pipeline()'s defaults for what the snippet leaves out."""
    loads = {}
    for call in _calls(ast.parse(code), "pipeline"):
        kwargs = _kwargs(call)
        model = kwargs.pop("model")
        loads[model] = {**TRANSFORMERS_DEFAULTS, **kwargs}
    return loads


def from_pretrained_load(code: str, callee: str = "AutoModel") -> tuple[dict[str, Any], Any]:
    """The keyword arguments of `<callee>.from_pretrained(...)` (defaults filled in) and the device of
    the `.to(device)` applied to it (None without one)."""
    tree = ast.parse(code)
    (call,) = [
        c
        for c in _calls(tree, "from_pretrained")
        if isinstance(c.func, ast.Attribute) and getattr(c.func.value, "id", None) == callee
    ]
    moves = [c for c in _calls(tree, "to") if c.func.value is call]  # type: ignore[attr-defined]
    device = ast.literal_eval(moves[0].args[0]) if moves else None
    return {**TRANSFORMERS_DEFAULTS, **_kwargs(call)}, device


def app_load_kwargs(client: Any, label: str) -> dict[str, Any]:
    """`/loaded_models`' load_kwargs for the loaded model labelled `label`."""
    loaded = client.predict(api_name="/loaded_models")
    matches = [item for item in loaded if item["label"] == label]
    assert matches, f"{label} is not loaded: {[item['label'] for item in loaded]}"
    return matches[0]["load_kwargs"]


def assert_loads_as_the_app(snippet_kwargs: dict[str, Any], load_kwargs: dict[str, Any]) -> None:
    """The snippet passes every option the manager used, except those at transformers' defaults."""
    expected = {
        name: value
        for name, value in load_kwargs.items()
        if not (name in TRANSFORMERS_DEFAULTS and value == TRANSFORMERS_DEFAULTS[name])
    }
    assert snippet_kwargs == expected, (snippet_kwargs, load_kwargs)


def flattened(load_kwargs: dict[str, Any]) -> dict[str, Any]:
    """pipeline() arguments as one `from_pretrained` call takes them: `model_kwargs` merged in."""
    kwargs = {name: value for name, value in load_kwargs.items() if name != "model_kwargs"}
    return {**kwargs, **load_kwargs.get("model_kwargs", {})}


def adapter_load(load_kwargs: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The from_pretrained() keyword arguments and the device that pipeline() `load_kwargs` amount to."""
    kwargs = flattened(load_kwargs)
    return kwargs, kwargs.pop("device", None)
