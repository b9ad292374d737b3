"""A Hub that never answers: a server that accepts connections and stays silent (a captive portal, a
stuck proxy), or a host name that does not resolve, as HF_ENDPOINT. The first request on a model that
is not cached answers within 20 s with what to do; later ones within 2 s; a model in the local cache
still loads; the progress bar says what the app waits for."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RunningApp, catalog_variant, launch_app
from gradio_client.exceptions import AppError

from playground.loading import hub

HUB_MODEL = "google-bert/bert-base-uncased"
CACHED_MODEL = "cached-org/bert-mlm"
MESSAGE = r"Hub BERT: the Hugging Face Hub \(.+\) (did not answer within 5 s|could not be reached).*prefetch"


class SilentServer:
    """Accepts every connection on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)  # held open, never answered

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture(scope="module")
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def hub_cache_with(model_dir: Path, hf_home: Path, repo_id: str) -> None:
    """Put a model into a Hugging Face cache the way a download leaves it (refs/main -> snapshot)."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    shutil.copytree(model_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def online_env(endpoint: str, hf_home: Path) -> dict[str, str]:
    return {
        "HF_ENDPOINT": endpoint,
        "HF_HUB_OFFLINE": "0",
        "TRANSFORMERS_OFFLINE": "0",
        "HF_HOME": str(hf_home),
        "HF_TOKEN": "",
    }


def launch_with_hub(test_models: Path, test_catalog: Path, root: Path, endpoint: str) -> RunningApp:
    fill_mask = [
        {"id": str(test_models / "bert-mlm"), "label": "BERT", "default": True},
        {"id": HUB_MODEL, "label": "Hub BERT"},
        {"id": CACHED_MODEL, "label": "Cached BERT"},
    ]
    catalog = catalog_variant(test_catalog, root / "models.yaml", models={"fill_mask": fill_mask})
    hub_cache_with(test_models / "bert-mlm", root / "hf-home", CACHED_MODEL)
    return launch_app(catalog, root, "--tabs", "fill_mask", env=online_env(endpoint, root / "hf-home"))


@pytest.fixture(scope="module")
def silent_hub_app(
    test_models: Path, test_catalog: Path, silent_server: SilentServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    running = launch_with_hub(test_models, test_catalog, tmp_path_factory.mktemp("silent-hub"), silent_server.url)
    yield running
    running.stop()


def timed_failure(client, model: str) -> tuple[float, str]:  # noqa: ANN001
    started = time.perf_counter()
    with pytest.raises(AppError) as info:
        client.predict("the cat is [MASK] .", model, 3, "", api_name="/fill_mask")
    return time.perf_counter() - started, str(info.value)


def test_silent_hub_first_request_within_20_s_then_within_2_s(silent_hub_app: RunningApp) -> None:
    client = silent_hub_app.client()
    job = client.submit("the cat is [MASK] .", "Hub BERT", 3, "", api_name="/fill_mask")
    started, waiting_for = time.perf_counter(), set()
    while not job.done() and time.perf_counter() - started < 30:
        waiting_for |= {unit.desc for unit in job.status().progress_data or [] if unit.desc}
        time.sleep(0.1)
    with pytest.raises(AppError, match=MESSAGE) as info:
        job.result()
    assert time.perf_counter() - started < 20
    assert "HF_HUB_OFFLINE=1" in str(info.value) and "asks the Hub again in" in str(info.value)
    assert any("Checking that the Hugging Face Hub" in desc for desc in waiting_for), waiting_for
    seconds, message = timed_failure(client, "Hub BERT")
    assert seconds < 2, f"the failure is remembered, yet the second request took {seconds:.1f} s"
    assert "did not answer within 5 s" in message
    label, *_ = client.predict("the cat is [MASK] .", "BERT", 3, "", api_name="/fill_mask")
    assert len(label["confidences"]) == 3, "local models keep working"


def test_silent_hub_serves_a_cached_model_from_the_cache(silent_hub_app: RunningApp) -> None:
    client = silent_hub_app.client()
    started = time.perf_counter()
    label, seen, *_ = client.predict("the cat is [MASK] .", "Cached BERT", 3, "", api_name="/fill_mask")
    assert time.perf_counter() - started < 20
    assert seen == "the cat is [MASK] ." and len(label["confidences"]) == 3


def test_silent_hub_dataset_run_says_what_to_do(silent_hub_app: RunningApp) -> None:
    """A Hub dataset on a silent Hub: the probe (or the failure it remembers) answers, never a hang."""
    started = time.perf_counter()
    with pytest.raises(
        AppError,
        match=r"teacher/reviews \(train\): the Hugging Face Hub \(.+\) did not answer within 5 s\. "
        r"Upload the rows as a file instead",
    ):
        silent_hub_app.client().predict(None, hub_dataset="teacher/reviews", api_name="/fill_mask_dataset")
    assert time.perf_counter() - started < 20


def test_unresolvable_hub_host(test_models: Path, test_catalog: Path, tmp_path: Path) -> None:
    running = launch_with_hub(test_models, test_catalog, tmp_path, "http://hub.invalid")
    try:
        client = running.client()
        seconds, message = timed_failure(client, "Hub BERT")
        assert seconds < 20 and "could not be reached" in message and "prefetch" in message, (seconds, message)
        seconds, _ = timed_failure(client, "Hub BERT")
        assert seconds < 2
    finally:
        running.stop()


def test_failure_is_remembered_then_the_hub_is_asked_again(silent_server: SilentServer) -> None:
    access = hub.HubAccess(silent_server.url, probe_seconds=1, retry_seconds=2)
    started = time.perf_counter()
    with pytest.raises(hub.HubUnreachable, match="did not answer within 1 s"):
        access.check("a/b")
    assert 0.9 < time.perf_counter() - started < 3
    started = time.perf_counter()
    with pytest.raises(hub.HubUnreachable) as info:
        access.check("a/b")
    assert time.perf_counter() - started < 0.2 and 0 < info.value.retry_in <= 2
    time.sleep(2.1)
    started = time.perf_counter()
    with pytest.raises(hub.HubUnreachable):
        access.check("a/b")
    assert time.perf_counter() - started > 0.9, "after the retry window the Hub is probed again"


def test_every_huggingface_hub_request_is_bounded(silent_server: SilentServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """HfApi.model_info (what transformers' resolve_revision calls) has no read timeout of its own."""
    from huggingface_hub import HfApi

    monkeypatch.setattr(hub, "REQUEST_SECONDS", 1.0)
    hub.bound_hub_requests()
    started = time.perf_counter()
    with pytest.raises(Exception) as info:
        HfApi(endpoint=silent_server.url).model_info("a/b")
    assert time.perf_counter() - started < 5
    assert hub.network_failure(info.value), repr(info.value)
