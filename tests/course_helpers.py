"""What the course tabs' tests share: the load arguments a snippet calls with, progress messages
read from the app's queue stream as a browser reads them, and writing dataset files."""

from __future__ import annotations

import ast
import json
import uuid
from pathlib import Path
from typing import Any

import httpx


def call_kwargs(code: str, callee_suffix: str) -> dict[str, Any]:
    """The literal keyword arguments of the first call in `code` whose name ends in `callee_suffix`
    (`pipeline`, `AutoModelForQuestionAnswering.from_pretrained`), with `.to(device)` as "device"."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(callee_suffix):
            return {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "to"
            and isinstance(node.func.value, ast.Call)
            and ast.unparse(node.func.value.func).endswith(callee_suffix)
        ):
            inner = node.func.value
            kwargs = {k.arg: ast.literal_eval(k.value) for k in inner.keywords}
            return {**kwargs, "device": ast.literal_eval(node.args[0])}
    raise AssertionError(f"no call to {callee_suffix} in:\n{code}")


def expected_pipeline_kwargs(load_kwargs: dict[str, Any]) -> dict[str, Any]:
    """What pipeline() must be called with for the manager's load_kwargs (transformers' defaults left out)."""
    defaults = {"revision": None, "trust_remote_code": False}
    return {k: v for k, v in load_kwargs.items() if k not in defaults or v != defaults[k]}


def expected_from_pretrained_kwargs(load_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The same for AutoModel….from_pretrained(...).to(device): model_kwargs flattened in."""
    kwargs = expected_pipeline_kwargs(load_kwargs)
    return {**{k: v for k, v in kwargs.items() if k != "model_kwargs"}, **kwargs.get("model_kwargs", {})}


def loaded_kwargs(client: Any, label: str) -> dict[str, Any]:
    loaded = {item["label"]: item for item in client.predict(api_name="/loaded_models")}
    return loaded[label]["load_kwargs"]


def queue_messages(url: str, api_name: str, data: list[Any], timeout: float = 120) -> list[dict[str, Any]]:
    """Every message the app's queue sends for one call (progress, generating, completed), the way
    the browser receives them: join the queue, then read the server-sent events."""
    config = httpx.get(url + "config", timeout=10).json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name.lstrip("/"))
    session = uuid.uuid4().hex
    joined = httpx.post(
        f"{url}gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None},
        timeout=10,
    )
    joined.raise_for_status()
    messages = []
    with httpx.stream(
        "GET", f"{url}gradio_api/queue/data", params={"session_hash": session}, timeout=timeout
    ) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            messages.append(message)
            if message.get("msg") in ("process_completed", "close_stream"):
                break
    return messages


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def read_csv(path: str) -> list[list[str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))
