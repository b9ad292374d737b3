"""Running for many users, without sign-in: /healthz and /readyz (and HAProxy taking a replica whose
models cannot load out of rotation), idle unload with a short interval, the per-user limit and users
served in turn, and /metrics off unless asked for. One app serves most of the file."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import hostile_models as hostile
import httpx
import pytest
from conftest import RunningApp, catalog_variant, launch_app
from engines import haproxy_available
from gradio_client import Client

MASKED = "Paris is the [MASK] of France."
IDLE_MINUTES = 0.05  # 3 s
PER_USER = 2


@pytest.fixture(scope="module")
def ops_app(test_models: Path, test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("ops")
    bert = str(test_models / "bert-mlm")
    fill_mask = [
        {"id": bert, "label": "BERT", "default": True},
        {
            "id": str(hostile.copy_model(test_models, "bert-mlm", root / "kept")),
            "label": "Kept",
            "idle_unload_minutes": 0,
        },
    ]
    # Weights cut short: on disk, so ready until a load fails.
    image_classification = [
        {
            "id": str(hostile.corrupt_weights(test_models, root / "corrupt")),
            "label": "Corrupt",
            "task": "image-classification",
            "default": True,
        }
    ]
    catalog = catalog_variant(
        test_catalog,
        root / "models.yaml",
        models={"fill_mask": fill_mask, "image_classification": image_classification},
        idle_unload_minutes=IDLE_MINUTES,
        max_requests_per_user=PER_USER,
    )
    running = launch_app(catalog, root, "--tabs", "fill_mask,image_classification,text_generation")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ops_client(ops_app: RunningApp) -> Client:
    return ops_app.client()


def readiness(app: RunningApp) -> tuple[int, dict]:
    response = httpx.get(f"{app.url}readyz", timeout=30)
    return response.status_code, response.json()


# Before the readiness test below makes the shared app not ready.
@pytest.mark.skipif(not haproxy_available(), reason="haproxy is not installed (scripts/setup.sh installs it when root)")
def test_haproxy_takes_a_replica_whose_models_cannot_load_out_of_rotation(
    ops_app: RunningApp, test_models: Path, test_catalog: Path, tmp_path: Path
) -> None:
    from bench.common import free_port
    from scripts.replicas import COOKIE, haproxy_config

    broken = [
        {"id": str(hostile.missing_weights(test_models, tmp_path / "missing")), "label": "No weights", "default": True}
    ]
    catalog = catalog_variant(test_catalog, tmp_path / "models.yaml", models={"fill_mask": broken})
    bad = launch_app(catalog, tmp_path, "--tabs", "fill_mask")
    try:
        assert readiness(bad)[0] == 503
        assert readiness(ops_app)[0] == 200
        port = free_port()
        config = tmp_path / "haproxy.cfg"
        config.write_text(haproxy_config("127.0.0.1", port, [bad.port, ops_app.port]))
        with open(tmp_path / "haproxy.log", "wb") as log:
            balancer = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(3)  # two failed checks, 1 s apart
            served = Counter()
            for _ in range(8):
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
                served[response.cookies.get(COOKIE)] += 1
            assert served == Counter({"replica2": 8}), served
        finally:
            balancer.terminate()
            balancer.wait(timeout=10)
    finally:
        bad.stop()


def test_health_and_readiness_until_a_default_model_fails_to_load(ops_app: RunningApp, ops_client: Client) -> None:
    assert httpx.get(f"{ops_app.url}healthz", timeout=30).json() == {"status": "ok"}
    code, body = readiness(ops_app)
    assert code == 200 and body["status"] == "ready", body
    states = {model["tab"]: model["state"] for model in body["models"]}
    assert states["fill_mask"] == "on disk" and states["image_classification"] == "on disk"
    assert not any(model["model"].startswith("/") for model in body["models"]), (
        "local folders: their label, not their path"
    )
    from gradio_client import handle_file
    from PIL import Image

    picture = Path(ops_app.log_path).parent / "picture.png"
    Image.new("RGB", (32, 32), (10, 200, 30)).save(picture)
    with pytest.raises(Exception, match="(?i)weights|load"):
        ops_client.predict(handle_file(str(picture)), api_name="/classify_image")
    code, body = readiness(ops_app)
    assert code == 503 and body["status"] == "not ready"
    assert {model["tab"]: model["state"] for model in body["models"]}["image_classification"].startswith("failed")


def test_metrics_are_off_unless_asked_for(ops_app: RunningApp) -> None:
    assert httpx.get(f"{ops_app.url}metrics", timeout=30).status_code == 404


def loaded(client: Client) -> dict[str, dict]:
    return {model["label"]: model for model in client.predict(api_name="/loaded_models")}


def test_an_idle_model_is_unloaded_and_the_models_view_says_when(ops_client: Client) -> None:
    ops_client.predict(MASKED, model="BERT", api_name="/fill_mask")
    ops_client.predict(MASKED, model="Kept", api_name="/fill_mask")
    models = loaded(ops_client)
    assert models["BERT"]["unloads_at"] is not None and models["Kept"]["unloads_at"] is None
    deadline = time.monotonic() + 20
    while "BERT" in loaded(ops_client) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "BERT" not in loaded(ops_client), "unused for longer than idle_unload_minutes"
    assert "Kept" in loaded(ops_client), "idle_unload_minutes: 0 on the entry keeps it"
    ops_client.predict(MASKED, model="BERT", api_name="/fill_mask")  # loads again on the next use
    assert "BERT" in loaded(ops_client)


def test_one_user_gets_at_most_the_limit_and_another_user_still_gets_in(ops_app: RunningApp) -> None:
    from gradio_client.exceptions import ValidationError
    from gradio_client.utils import Status

    greedy, other = ops_app.client(), ops_app.client()
    long_answer = dict(max_new_tokens=2000, api_name="/generate")
    jobs = [greedy.submit("Once upon a time", **long_answer) for _ in range(PER_USER)]
    deadline = time.monotonic() + 60
    while not all(
        job.status().code in (Status.IN_QUEUE, Status.PROCESSING, Status.ITERATING, Status.PROGRESS) for job in jobs
    ):
        assert time.monotonic() < deadline, [job.status() for job in jobs]
        time.sleep(0.05)
    with pytest.raises(
        ValidationError,
        match=rf"already have {PER_USER} requests running or waiting; this app allows {PER_USER} per user",
    ):
        greedy.predict("One more", **long_answer)
    text, *_ = other.predict("Hello", max_new_tokens=4, api_name="/generate")
    assert isinstance(text, str), "another session is another user"
    for job in jobs:
        job.cancel()
    greedy.predict("Now there is room", max_new_tokens=2, api_name="/generate")


def test_waiting_requests_are_served_in_turn() -> None:
    from playground.core.turns import in_turn

    flood = [("session:a", f"a{i}") for i in range(4)]
    latecomer, signed = ("session:b", "b0"), ("user:carol", "c0")

    def order(waiting: list[tuple[str, str]], running: Counter) -> list[str]:
        return [waiting[index][1] for index in in_turn([who for who, _ in waiting], running)]

    assert order([*flood, latecomer, signed], Counter()) == ["a0", "b0", "c0", "a1", "a2", "a3"]
    # A user with requests already running waits behind those who have none.
    assert order([*flood[:2], latecomer], Counter({"session:a": 1})) == ["b0", "a0", "a1"]
