"""Calling the launched app through Gradio's plain HTTP API, for what gradio_client cannot send
(NaN, values that are not files where files go, server paths) and to see the raw server answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from gradio_client.exceptions import AppError

FILEDATA_META = {"_type": "gradio.FileData"}


def upload(url: str, path: Path) -> dict[str, Any]:
    """Upload through the HTTP API, as any client does; returns the FileData value, or raises."""
    with path.open("rb") as handle:
        response = httpx.post(f"{url}gradio_api/upload", files=[("files", (path.name, handle))], timeout=60)
    if response.status_code != 200:
        raise AppError(response.text)
    return {"path": response.json()[0], "orig_name": path.name, "meta": FILEDATA_META}


def raw_predict(url: str, api: str, data: list[Any]) -> Any:
    """Call an endpoint through Gradio's plain HTTP API; raises AppError with the server's message."""
    body = json.dumps({"data": data})  # allow_nan: NaN and Infinity go out as JSON's common extension
    response = httpx.post(
        f"{url}gradio_api/call{api}", content=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    response.raise_for_status()
    event_id = response.json()["event_id"]
    event, payload = None, None
    with httpx.stream("GET", f"{url}gradio_api/call{api}/{event_id}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                payload = line[len("data: ") :]
    if event == "error":
        message = json.loads(payload).get("error") if payload and payload != "null" else None
        raise AppError(message or "")
    return json.loads(payload)


def positional(client: Any, api: str, args: tuple, kwargs: dict[str, Any]) -> list[Any]:
    """All of an endpoint's parameters in order: given ones, then the API's defaults (for raw calls)."""
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api]["parameters"]
    values = list(args)
    for param in params[len(args) :]:
        name = param["parameter_name"]
        values.append(kwargs[name] if name in kwargs else param["parameter_default"])
    return values[: max(len(params), len(args))]
