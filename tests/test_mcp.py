"""The app as a Model Context Protocol server: `python app.py --mcp` or Gradio's GRADIO_MCP_SERVER=True
turn it on; every endpoint is a tool whose description and parameter docs come from the handler's
docstring (through `guarded`); an MCP client calls tools over streamable HTTP, file inputs as URLs."""

from __future__ import annotations

import ast
import asyncio
import io
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import RunningApp, launch_app
from PIL import Image

TABS = "fill_mask,image_classification,visual_qa,video_classification"
# A new URL each run: Gradio keeps downloaded files in its temporary folder by URL.
PICTURE_URL = f"http://huggingface.co/datasets/playground/pictures/resolve/main/{uuid.uuid4().hex}/cat.png"
CLIP_URL = f"http://huggingface.co/datasets/playground/clips/resolve/main/{uuid.uuid4().hex}/ball.mp4"
CLIP = Path(__file__).resolve().parents[1] / "assets" / "examples" / "video" / "bouncing_ball.mp4"


def picture_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


class WebProxy(BaseHTTPRequestHandler):
    """Stands in for the internet as an HTTP proxy: every .mp4 URL answers with the example clip, every
    other URL with one PNG. (Gradio
    downloads file URLs only from public addresses, or from huggingface.co, which it trusts as is:
    a proxy for that host is how a test without internet hands it a URL.)"""

    body = picture_bytes()
    requested: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.requested.append(self.path)
        clip = self.path.endswith(".mp4")
        body = CLIP.read_bytes() if clip else self.body
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4" if clip else "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def web_proxy() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def mcp_app(
    test_catalog: Path, web_proxy: ThreadingHTTPServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    proxy = f"http://127.0.0.1:{web_proxy.server_port}"
    env = {
        "HTTP_PROXY": proxy,
        "http_proxy": proxy,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    running = launch_app(test_catalog, tmp_path_factory.mktemp("mcp"), "--mcp", "--tabs", TABS, env=env)
    yield running
    running.stop()


def schema(app: RunningApp) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{app.url}gradio_api/mcp/schema", timeout=30)
    response.raise_for_status()
    return {tool["name"]: tool for tool in response.json()}


def test_schema_lists_every_endpoint_as_a_typed_tool(mcp_app: RunningApp) -> None:
    tools = schema(mcp_app)
    api = mcp_app.client().view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {tool["meta"]["endpoint_name"] for tool in tools.values()} == {name.lstrip("/") for name in api}
    assert {"fill_mask", "classify_image", "loaded_models", "unload_model"} <= set(tools)
    assert {"fill_mask_steps", "image_classification_steps"} <= set(tools), "the steps views are tools too"
    properties = tools["fill_mask"]["inputSchema"]["properties"]
    assert properties["text"]["type"] == "string" and properties["top_k"]["type"] == "number"
    assert "http" in properties_of(tools["classify_image"])["image"]["format"], "file inputs are URLs"


def properties_of(tool: dict[str, Any]) -> dict[str, Any]:
    return tool["inputSchema"]["properties"]


def test_tools_have_a_one_line_description_and_documented_parameters(mcp_app: RunningApp) -> None:
    for name, tool in schema(mcp_app).items():
        # Gradio appends a sentence about uploading to tools that take files.
        own = tool["description"].split(" If a user passes a file as an input")[0].strip()
        assert own and "\n" not in own, (name, tool["description"])
        for parameter, spec in properties_of(tool).items():
            assert spec.get("description"), f"{name}: parameter {parameter} has no description (Args: in the docstring)"


def test_guarded_handlers_keep_their_docstrings_for_mcp(tmp_path: Path) -> None:
    """The mechanism the tabs rely on: guarded(fn, gpu=True) keeps the docstring Gradio reads."""
    import gradio as gr

    from playground.web.errors import guarded

    def shout(text: str, times: int = 2, request: Any = None) -> str:
        """Repeat a text in capitals.

        Args:
            text: What to repeat.
            times: How many times.
        """
        return " ".join([text.upper()] * int(times))

    with gr.Blocks() as demo:
        text, times, out = gr.Textbox(), gr.Number(value=2), gr.Textbox()
        gr.Button().click(guarded(shout, gpu=True), [text, times], out, api_name="shout")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, mcp_server=True, quiet=True)
    try:
        tools = httpx.get(f"http://127.0.0.1:{port}/gradio_api/mcp/schema", timeout=30).json()
    finally:
        demo.close()
    (tool,) = tools
    assert tool["name"] == "shout" and tool["description"] == "Repeat a text in capitals."
    assert properties_of(tool)["text"]["description"] == "What to repeat."
    assert properties_of(tool)["times"]["description"] == "How many times."
    assert "request" not in properties_of(tool) and "gr_request" not in properties_of(tool)


async def call_tools(url: str, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[Any]]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        names = [tool.name for tool in (await session.list_tools()).tools]
        results = [await session.call_tool(name, arguments) for name, arguments in calls]
    return names, results


def text_of(result: Any) -> str:
    return " ".join(part.text for part in result.content if getattr(part, "type", "") == "text")


def test_an_mcp_client_calls_tools_over_streamable_http(mcp_app: RunningApp, web_proxy: ThreadingHTTPServer) -> None:
    # The tool schema lists the catalog's model ids (the dropdown's values): MCP clients send one of them.
    names, (filled, classified, loaded) = asyncio.run(
        call_tools(
            f"{mcp_app.url}gradio_api/mcp/",
            [
                (
                    "fill_mask",
                    {"text": "This man works as a [MASK].", "model": "./bert-mlm", "top_k": 3, "targets": ""},
                ),
                ("classify_image", {"image": PICTURE_URL, "model": "./vit", "top_k": 2}),
                ("loaded_models", {}),
            ],
        )
    )
    assert {"fill_mask", "classify_image", "loaded_models"} <= set(names)
    assert not filled.isError, text_of(filled)
    label, seen, *_ = ast.literal_eval(text_of(filled))  # the endpoint's outputs, as Python literals
    assert seen == "This man works as a [MASK]." and len(label["confidences"]) == 3
    assert not classified.isError, text_of(classified)
    assert any(PICTURE_URL in path for path in WebProxy.requested), "the app fetched the picture from its URL"
    label, code = ast.literal_eval(text_of(classified))
    assert len(label["confidences"]) == 2 and "image-classification" in code
    assert not loaded.isError, text_of(loaded)
    assert {"./bert-mlm", "./vit"} <= {model["id"] for model in ast.literal_eval(text_of(loaded))}


def test_table_and_video_tools_with_their_inputs_alone(mcp_app: RunningApp, web_proxy: ThreadingHTTPServer) -> None:
    table = {"headers": ["Repository", "Stars"], "data": [["Transformers", "36542"], ["Datasets", "4512"]]}
    _, (answered, classified) = asyncio.run(
        call_tools(
            f"{mcp_app.url}gradio_api/mcp/",
            [
                ("answer_table_question", {"question": "How many stars?", "table": table}),
                ("classify_video", {"video": CLIP_URL}),
            ],
        )
    )
    assert not answered.isError, text_of(answered)
    text, shown, details, code = ast.literal_eval(text_of(answered))
    assert shown["headers"] == ["Repository", "Stars"] and "rows_read" in details
    assert not classified.isError, text_of(classified)
    assert any(CLIP_URL.split("/")[-2] in path for path in WebProxy.requested), "the app fetched the clip"
    label, frames, note, code = ast.literal_eval(text_of(classified))
    assert len(label["confidences"]) == 5 and "video-classification" in code


def test_gradio_mcp_server_variable_turns_it_on(test_catalog: Path, tmp_path: Path) -> None:
    running = launch_app(test_catalog, tmp_path, "--tabs", "fill_mask", env={"GRADIO_MCP_SERVER": "True"})
    try:
        assert "loaded_models" in schema(running)
    finally:
        running.stop()
    running = launch_app(test_catalog, tmp_path, "--tabs", "fill_mask", env={"GRADIO_MCP_SERVER": ""})
    try:
        assert httpx.get(f"{running.url}gradio_api/mcp/schema", timeout=30).status_code == 404, "off by default"
    finally:
        running.stop()
