"""Sign-in (`--auth-file`): every route that runs a model refuses a caller without credentials (the
page, queue join, the REST API, uploads, gradio_client, MCP) and serves one with them; /metrics sits
behind it, /healthz and /readyz answer balancers without it. One app serves the whole file, started
with known secrets (a password, an HF token, an engine key) that must appear in none of its answers
or its log."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, RunningApp, catalog_variant, launch_app
from gradio_client import Client
from gradio_client.exceptions import AppError

NAME, PASSWORD = "teacher", "correct horse battery staple"
SECRETS = {"HF_TOKEN": "hf_KnownSecretTokenForTheSignInTest", "ENGINE_API_KEY": "sk-known-engine-key-for-the-test"}
TABS = "fill_mask,text_generation"
MASKED = "Paris is the [MASK] of France."
FILL_MASK_DATA = [MASKED, "BERT MLM (test)", 5, ""]  # text, model, top_k, targets


def basic(name: str = NAME, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def hash_with_cli(password: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "hash-password"],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.txt"
    path.write_text(
        f"# the class's accounts\n{NAME}:{hash_with_cli(PASSWORD)}\nstudent:{hash_with_cli('another one')}\n"
    )
    return path


@pytest.fixture(scope="module")
def signed_app(
    test_models: Path, test_catalog: Path, users_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("signed")
    # An engine that is not there, reached with a key from the environment: its failure must not show the key.
    remote = {
        "id": "served-model",
        "label": "Remote",
        "task": "text-generation",
        "endpoint": {"url": "http://127.0.0.1:9/v1", "api_key_env": "ENGINE_API_KEY", "timeout": 2, "max_retries": 0},
    }
    local = {"id": str(test_models / "llama-chat"), "label": "Llama", "default": True}
    catalog = catalog_variant(test_catalog, root / "models.yaml", models={"text_generation": [local, remote]})
    env = {"PLAYGROUND_AUTH_FILE": str(users_file), **SECRETS}
    running = launch_app(catalog, root, "--tabs", TABS, "--mcp", "--metrics", env=env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def signed_client(signed_app: RunningApp) -> Client:
    return Client(signed_app.url, auth=(NAME, PASSWORD), verbose=False)


# ---- the users file and the hash-password command ---------------------------------------------
def test_hash_password_makes_a_salted_scrypt_hash_that_checks_the_password() -> None:
    from playground.operations.auth import Users

    first, second = hash_with_cli("s3cret"), hash_with_cli("s3cret")
    assert first.startswith("scrypt$") and first != second, "each hash has its own salt"
    users = Users.from_lines([f"ann:{first}"])
    assert users.check("ann", "s3cret")
    assert not users.check("ann", "s3cret ") and not users.check("bob", "s3cret")


def test_a_plain_password_in_the_users_file_stops_the_app_without_echoing_it(
    test_catalog: Path, tmp_path: Path
) -> None:
    users = tmp_path / "users.txt"
    users.write_text("ann:hunter2-plain\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--catalog", str(test_catalog), "--auth-file", str(users)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert "line 1 (ann): not a scrypt hash" in result.stderr and "hash-password" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


# ---- every route, without and with credentials ---------------------------------------------------
def test_the_page_asks_to_sign_in_and_serves_the_app_after(signed_app: RunningApp) -> None:
    assert httpx.get(f"{signed_app.url}config", timeout=30).status_code == 401
    with httpx.Client(base_url=signed_app.url, timeout=30) as browser:
        assert browser.post("login", data={"username": NAME, "password": "wrong"}).status_code == 400
        assert browser.post("login", data={"username": NAME, "password": PASSWORD}).status_code == 200
        config = browser.get("config")
        assert config.status_code == 200 and config.json()["username"] == NAME


def join_body(session: str) -> dict[str, Any]:
    return {
        "data": FILL_MASK_DATA,
        "fn_index": None,
        "api_name": "/fill_mask",
        "session_hash": session,
        "trigger_id": None,
    }


def test_queue_join_refuses_a_caller_without_credentials(signed_app: RunningApp, signed_client: Client) -> None:
    api = signed_client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert "/fill_mask" in api
    fn_index = next(
        index for index, dep in enumerate(signed_client.config["dependencies"]) if dep.get("api_name") == "fill_mask"
    )
    body = {**join_body("anonymous-session"), "fn_index": fn_index}
    assert httpx.post(f"{signed_app.url}gradio_api/queue/join", json=body, timeout=30).status_code == 401
    joined = httpx.post(
        f"{signed_app.url}gradio_api/queue/join",
        json={**body, "session_hash": "signed-session"},
        headers=basic(),
        timeout=30,
    )
    assert joined.status_code == 200 and joined.json()["event_id"]


def call_rest(url: str, headers: dict[str, str]) -> httpx.Response | Any:
    started = httpx.post(f"{url}gradio_api/call/fill_mask", json={"data": FILL_MASK_DATA}, headers=headers, timeout=30)
    if started.status_code != 200:
        return started
    with httpx.stream(
        "GET", f"{url}gradio_api/call/fill_mask/{started.json()['event_id']}", headers=headers, timeout=120
    ) as stream:
        return [line for line in stream.iter_lines() if line.startswith(("event:", "data:"))]


def test_the_rest_api_and_uploads_need_credentials(signed_app: RunningApp, tmp_path: Path) -> None:
    assert call_rest(signed_app.url, {}).status_code == 401
    assert call_rest(signed_app.url, basic(password="wrong")).status_code == 401
    lines = call_rest(signed_app.url, basic())
    assert "event: complete" in lines, lines
    picture = tmp_path / "note.txt"
    picture.write_text("hello")
    for headers, expected in (({}, 401), (basic(), 200)):
        with picture.open("rb") as handle:
            response = httpx.post(
                f"{signed_app.url}gradio_api/upload",
                files=[("files", ("note.txt", handle))],
                headers=headers,
                timeout=30,
            )
        assert response.status_code == expected


def test_gradio_client_needs_the_password(signed_app: RunningApp, signed_client: Client) -> None:
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError):
        Client(signed_app.url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(signed_app.url, auth=(NAME, "wrong"), verbose=False)
    label, *_ = signed_client.predict(MASKED, api_name="/fill_mask")
    assert len(label["confidences"]) == 5


async def mcp_call(url: str, headers: dict[str, str]) -> tuple[list[str], Any]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        names = [tool.name for tool in (await session.list_tools()).tools]
        # A queued tool: Gradio's MCP server calls the app's own queue for it.
        result = await session.call_tool("fill_mask", {"text": MASKED, "top_k": 2, "targets": ""})
    return names, result


def test_mcp_needs_credentials_in_a_header(signed_app: RunningApp) -> None:
    url = f"{signed_app.url}gradio_api/mcp/"
    for path in ("gradio_api/mcp/", "gradio_api/mcp/schema"):
        refused = httpx.get(signed_app.url + path, headers={"Accept": "text/event-stream"}, timeout=30)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert (
        httpx.get(f"{signed_app.url}gradio_api/mcp/schema", headers=basic(password="wrong"), timeout=30).status_code
        == 401
    )
    assert httpx.get(f"{signed_app.url}gradio_api/mcp/schema", headers=basic(), timeout=30).status_code == 200
    names, result = asyncio.run(mcp_call(url, basic()))
    assert "fill_mask" in names
    text = " ".join(part.text for part in result.content if getattr(part, "type", "") == "text")
    assert not result.isError, text
    assert "confidences" in text


def test_metrics_sit_behind_sign_in_and_health_routes_do_not(signed_app: RunningApp) -> None:
    assert httpx.get(f"{signed_app.url}metrics", timeout=30).status_code == 401
    assert httpx.get(f"{signed_app.url}metrics", headers=basic(), timeout=30).status_code == 200
    assert httpx.get(f"{signed_app.url}healthz", timeout=30).json() == {"status": "ok"}
    anonymous = httpx.get(f"{signed_app.url}readyz", timeout=30)
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ready"}, "no model names without sign-in"
    detailed = httpx.get(f"{signed_app.url}readyz", headers=basic(), timeout=30).json()
    assert {model["tab"] for model in detailed["models"]} == {"fill_mask", "text_generation"}


def scraped(url: str) -> dict[str, float]:
    """The /metrics samples as {'name{labels}': value}."""
    text = httpx.get(f"{url}metrics", headers=basic(), timeout=30).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def test_metrics_count_requests_tokens_and_models(signed_app: RunningApp, signed_client: Client) -> None:
    before = scraped(signed_app.url)
    for _ in range(2):
        signed_client.predict(MASKED, api_name="/fill_mask")
    signed_client.predict("Once upon a time", max_new_tokens=6, api_name="/generate")
    after = scraped(signed_app.url)
    ok = 'playground_requests_total{endpoint="/fill_mask",outcome="ok"}'
    assert after[ok] - before.get(ok, 0) == 2
    generated = 'playground_requests_total{endpoint="/generate",outcome="ok"}'
    assert after[generated] - before.get(generated, 0) == 1
    assert after["playground_generated_tokens_total"] - before["playground_generated_tokens_total"] >= 1
    assert after['playground_request_seconds_count{endpoint="/fill_mask"}'] >= 2
    assert after["playground_generation_batch_size_count"] >= 1
    assert after["playground_models_loaded"] >= 2
    assert any(key.startswith("playground_model_bytes{") and value > 0 for key, value in after.items())
    assert after["process_resident_memory_bytes"] > 0 and "playground_queue_length" in after
    # Every series the shipped Grafana dashboard charts exists.
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    charted = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(?:playground|process)_[a-z_]+", target["expr"])
    }
    assert charted and all(any(key.split("{")[0] == name for key in after) for name in charted), charted
    with pytest.raises(AppError):
        signed_client.predict(MASKED, model="no such model", api_name="/fill_mask")
    failed = 'playground_requests_total{endpoint="/fill_mask",outcome="error"}'
    assert scraped(signed_app.url)[failed] - before.get(failed, 0) == 1


# ---- no secret in any answer or the log ----------------------------------------------------------
def test_no_secret_appears_in_pages_errors_metrics_or_the_log(
    signed_app: RunningApp, signed_client: Client, users_file: Path
) -> None:
    with httpx.Client(base_url=signed_app.url, headers=basic(), timeout=30) as http:
        answers = [
            http.get(path).text
            for path in ("", "config", "gradio_api/info", "metrics", "readyz", "gradio_api/mcp/schema")
        ]
    answers.append(httpx.get(signed_app.url, timeout=30).text)  # the sign-in page
    answers.append(str(signed_client.predict(api_name="/loaded_models")))
    with pytest.raises(Exception) as failed:
        signed_client.predict(MASKED, model="no such model", api_name="/fill_mask")
    answers.append(str(failed.value))
    with pytest.raises(Exception) as failed:
        signed_client.predict("Hello", model="Remote", max_new_tokens=2, api_name="/generate")
    answers.append(str(failed.value))
    answers.append(str(signed_client.predict(api_name="/remote_models")))
    hashes = [
        line.split(":", 1)[1] for line in users_file.read_text().splitlines() if line and not line.startswith("#")
    ]
    secrets = [*SECRETS.values(), PASSWORD, *hashes, *(h.split("$")[-1] for h in hashes)]
    for text in [*answers, signed_app.log()]:
        for secret in secrets:
            assert secret not in text


def test_on_an_unchecked_gradio_header_sign_in_and_mcp_refuse_rather_than_open(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    """With the Gradio patches off, sign-in fails closed: header credentials and MCP answer 503, the
    page still asks to sign in, and nothing runs unauthenticated."""
    import gradio as gr
    from starlette.middleware import Middleware

    from playground.operations.auth import CredentialsGate, SignIn, Users, hash_password
    from playground.operations.serving import Operations
    from playground.web import gradio_patches

    monkeypatch.setattr(gradio_patches, "gradio_version", lambda: "99.0.0")
    monkeypatch.setattr(gradio_patches, "_warned", [])
    sign_in = SignIn(Users.from_lines([f"{NAME}:{hash_password(PASSWORD)}"]))

    def shout(text: str) -> str:
        """Repeat a text in capitals.

        Args:
            text: What to repeat.
        """
        return text.upper()

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(shout, box, out, api_name="shout")
    demo.launch(
        server_name="127.0.0.1",
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        mcp_server=True,
        auth=sign_in.check,
        app_kwargs={"middleware": [Middleware(CredentialsGate, sign_in=sign_in)]},
    )
    try:
        Operations(sign_in).after_launch(demo)
        assert not sign_in.mcp_ready
        for path in ("gradio_api/mcp/", "gradio_api/mcp/schema"):
            refused = httpx.get(demo.local_url + path, headers=basic(), timeout=30)
            assert refused.status_code == 503 and "MCP is not available here" in refused.json()["detail"]
        refused = httpx.get(f"{demo.local_url}config", headers=basic(), timeout=30)
        assert refused.status_code == 503 and "Authorization header is not available" in refused.json()["detail"]
        korean = httpx.get(
            f"{demo.local_url}gradio_api/mcp/schema", headers={**basic(), "Accept-Language": "ko"}, timeout=30
        )
        assert "MCP를 쓸 수 없습니다" in korean.json()["detail"]
        assert httpx.get(f"{demo.local_url}config", timeout=30).status_code == 401
        with pytest.raises(Exception):  # noqa: B017 - refused, whatever gradio_client calls it
            Client(demo.local_url, verbose=False, headers=basic()).predict("hi", api_name="/shout")
        assert Client(demo.local_url, auth=(NAME, PASSWORD), verbose=False).predict("hi", api_name="/shout") == "HI"
    finally:
        demo.close()
