"""What the Hub answers reaches the user as a remedy: a gated model without a token, a model that
does not exist. A small local server speaks the Hub's error protocol (`X-Error-Code` headers, which
huggingface_hub turns into GatedRepoError / RepositoryNotFoundError); the app reaches it through
HF_ENDPOINT, with the real loading path and no token."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from gradio_client.exceptions import AppError

from conftest import catalog_variant, launch_app

GATED = "gated-org/Big-Instruct"
MISSING = "nobody/no-such-model"


class FakeHub(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        if GATED in self.path:
            status, code = 401, "GatedRepo"
            message = f"Access to model {GATED} is restricted. You must have access to it and be authenticated to access it."
        else:
            status, code, message = 404, "RepoNotFound", "Repository not found"
        body = message.encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hub_app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = tmp_path_factory.mktemp("hub")
    models = {"text_generation": [
        {"id": str(test_catalog.parent / "llama-chat"), "label": "Llama", "default": True},
        {"id": GATED, "label": "Big gated", "gated": True},
        {"id": MISSING, "label": "Missing"},
    ]}
    catalog = catalog_variant(test_catalog, root / "models.yaml", models=models)
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}", "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
           "HF_HOME": str(root / "hf-home"), "HF_TOKEN": "", "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
    running = launch_app(catalog, root, "--tabs", "text_generation", env=env)
    yield running.client()
    running.stop()
    server.shutdown()


OPTIONS = dict(max_new_tokens=2, temperature=0.7, top_p=0.95, top_k=50, repetition_penalty=1.0, do_sample=False, seed=0, stop="")


def test_gated_model_without_a_token_says_how_to_provide_one(hub_app) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match=rf"Big gated is a gated model: accept its licence on https://huggingface.co/{GATED} "
                                       r"and provide a token \(set HF_TOKEN, run `hf auth login`"):
        hub_app.predict("Hello", model="Big gated", **OPTIONS, api_name="/generate")


def test_model_missing_from_the_hub_is_named(hub_app) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match=rf"Missing: no such model or revision on the Hugging Face Hub \({MISSING}\)"):
        hub_app.predict("Hello", model="Missing", **OPTIONS, api_name="/generate")
    text, *_ = hub_app.predict("Hello", model="Llama", **OPTIONS, api_name="/generate")
    assert isinstance(text, str), "other models keep working"
