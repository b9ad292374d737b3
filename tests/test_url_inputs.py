"""File inputs given as URLs (MCP tools, the HTTP API): fetched from public addresses only, also after a
redirect and when a name resolves to 127.0.0.1, and never larger than `max_upload_mb`; uploads are held
to the same limit and checked for their type on the server."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from api_helpers import FILEDATA_META, raw_predict, upload
from conftest import RunningApp, catalog_variant, launch_app
from gradio_client.exceptions import AppError
from PIL import Image

LIMIT_MB = 1


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


class Internal(BaseHTTPRequestHandler):
    """A service on the app's own machine that no URL input may reach."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        body = png()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Web(BaseHTTPRequestHandler):
    """Stands in for the internet as the app's HTTP proxy (Gradio trusts huggingface.co's name as is, so
    a proxy for it is how a test without internet hands the app a public URL): /redirect/ sends the app
    to the internal service, /big/ answers a PNG over the limit without saying its length, anything
    else a small PNG."""

    internal_port = 0

    def do_GET(self) -> None:  # noqa: N802
        if "/redirect/" in self.path:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.internal_port}/via-redirect.png")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if "/big/" in self.path:
            self.end_headers()  # no Content-Length: the app must count what it reads
            self.wfile.write(png() + b"\0" * (LIMIT_MB * 2**20 + 4096))
            return
        body = png()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ThreadingHTTPServer, ThreadingHTTPServer]]:
    internal = serve(Internal)
    Web.internal_port = internal.server_port
    web = serve(Web)
    yield internal, web
    internal.shutdown()
    web.shutdown()


@pytest.fixture(scope="module")
def url_app(
    servers: tuple[ThreadingHTTPServer, ThreadingHTTPServer],
    test_catalog: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningApp]:
    proxy = f"http://127.0.0.1:{servers[1].server_port}"
    env = {
        "HTTP_PROXY": proxy,
        "http_proxy": proxy,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    root = tmp_path_factory.mktemp("url-inputs")
    catalog = catalog_variant(test_catalog, root / "models.yaml", max_upload_mb=LIMIT_MB)
    running = launch_app(catalog, root, "--tabs", "image_classification", env=env)
    yield running
    running.stop()


def classify(app: RunningApp, picture: dict) -> list:
    return raw_predict(app.url, "/classify_image", [picture, "ViT (test)", 2])


def web_url(kind: str) -> str:
    # A new URL each time: Gradio keeps downloaded files in its cache by URL.
    return f"http://huggingface.co/{kind}/{uuid.uuid4().hex}/picture.png"


def test_a_public_url_is_fetched(url_app: RunningApp) -> None:
    label, *_ = classify(url_app, {"path": web_url("ok"), "meta": FILEDATA_META})
    assert len(label["confidences"]) == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"])
def test_urls_to_this_machine_are_refused_also_by_name(url_app: RunningApp, servers, host: str) -> None:  # noqa: ANN001
    Internal.hits.clear()
    url = f"http://{host}:{servers[0].server_port}/{uuid.uuid4().hex}.png"
    with pytest.raises(AppError, match=r"does not lead to a public address .*public addresses only"):
        classify(url_app, {"path": url, "meta": FILEDATA_META})
    assert not Internal.hits, "the internal service was reached"


def test_a_redirect_to_this_machine_is_refused(url_app: RunningApp) -> None:
    Internal.hits.clear()
    with pytest.raises(AppError, match=r"does not lead to a public address \(127\.0\.0\.1\)"):
        classify(url_app, {"path": web_url("redirect"), "meta": FILEDATA_META})
    assert not Internal.hits


def test_a_url_larger_than_the_upload_limit_is_refused_and_not_kept(url_app: RunningApp) -> None:
    import tempfile

    url = web_url("big")
    with pytest.raises(AppError, match=rf"larger than this app's limit of {LIMIT_MB} MB"):
        classify(url_app, {"path": url, "meta": FILEDATA_META})
    cache = Path(tempfile.gettempdir()) / "gradio"
    assert not [path for path in cache.rglob("picture.png*") if path.stat().st_size > LIMIT_MB * 2**20]


def test_uploads_are_held_to_the_limit_and_their_type_checked_on_the_server(
    url_app: RunningApp, tmp_path: Path
) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(png() + b"\0" * (LIMIT_MB * 2**20 + 4096))
    with big.open("rb") as handle:
        refused = httpx.post(f"{url_app.url}gradio_api/upload", files=[("files", ("big.png", handle))], timeout=60)
    assert refused.status_code == 413
    text = tmp_path / "notes.png"
    text.write_text("not a picture at all")
    with pytest.raises(AppError, match=r"not an image Pillow can open"):
        classify(url_app, upload(url_app.url, text))
