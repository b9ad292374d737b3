"""Shared fixtures: the random-weight test models, and the real app launched on 127.0.0.1.

The app runs as a subprocess (`python app.py --catalog ...`) exactly as a user starts it, and tests
talk to it through `gradio_client`, the way API users do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import OFFLINE_ENV, Server, app_command  # noqa: E402 - needs ROOT on sys.path

os.environ.update(OFFLINE_ENV)


class RunningApp(Server):
    """A launched `app.py` process (`.process`, `.url`, `.log_path`, `.client()`, `.stop()`)."""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failing test reports every app this worker launched: alive or how it ended, and its log's end
    (an app that died mid-test otherwise shows only as a client error)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and Server.launched:
        report.sections.append(("launched apps", "\n\n".join(server.state() for server in Server.launched)))


def launch_app(
    catalog: Path, log_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> RunningApp:
    """Start `python app.py --catalog CATALOG` on a free port and wait until the page answers."""
    return RunningApp(app_command(catalog, *args), log_dir, "app", timeout=timeout, env=env)


@pytest.fixture(scope="session")
def test_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random-weight test models and their catalog (OUT_DIR/models.yaml)."""
    out = tmp_path_factory.mktemp("test-models")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_test_models.py"), str(out)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def test_catalog(test_models: Path) -> Path:
    return test_models / "models.yaml"


@pytest.fixture(scope="session")
def app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app on the test catalog, shared by the whole session."""
    # PLAYGROUND_TEST_TABS=key1,key2 narrows the app to some tabs (quicker runs while developing one).
    tabs = os.environ.get("PLAYGROUND_TEST_TABS")
    running = launch_app(test_catalog, tmp_path_factory.mktemp("app-logs"), *(["--tabs", tabs] if tabs else []))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(app: RunningApp):  # noqa: ANN201
    return app.client()


def catalog_variant(
    test_catalog: Path, out: Path, models: dict[str, list[dict]] | None = None, **defaults: object
) -> Path:
    """A copy of the test catalog at `out` with absolute model paths, some `defaults` changed and
    optionally some tabs' model lists replaced (`models={tab: [entry, ...]}`)."""
    import yaml

    data = yaml.safe_load(test_catalog.read_text())
    data["defaults"].update(defaults)
    for tab in data["tabs"].values():
        for model in tab["models"]:
            if model["id"].startswith("./"):
                model["id"] = str(test_catalog.parent / model["id"][2:])
    for tab, entries in (models or {}).items():
        data["tabs"][tab] = {"models": entries}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True))
    return out


@pytest.fixture(scope="session")
def hostile_app(
    test_models: Path, test_catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    """The app with broken and untrusted models next to good ones, no ffmpeg or tesseract on PATH, an
    empty offline Hugging Face cache, a tiny memory budget and custom Hub ids allowed (see
    tests/hostile_models.py); `hostile_app.marker` is the file the custom code writes if it ever runs."""
    import hostile_models as hostile

    root = tmp_path_factory.mktemp("hostile")
    marker = root / "custom-code-ran"
    bert = str(test_models / "bert-mlm")
    fill_mask = [
        {"id": bert, "label": "BERT", "default": True},
        {"id": str(hostile.corrupt_weights(test_models, root / "corrupt")), "label": "Corrupt weights"},
        {"id": str(hostile.missing_weights(test_models, root / "missing")), "label": "Missing weights"},
        {"id": str(hostile.pickle_only_weights(test_models, root / "pickle")), "label": "Pickle weights"},
        {
            "id": str(hostile.pickle_only_weights(test_models, root / "pickle-ok")),
            "label": "Pickle weights allowed",
            "allow_pickle_weights": True,
        },
        {"id": str(hostile.remote_code(test_models, root / "remote", marker)), "label": "Remote code"},
        {"id": "google-bert/bert-base-uncased", "label": "Hub BERT"},
    ]
    image_classification = [
        {"id": str(test_models / "vit"), "label": "ViT", "default": True},
        {"id": str(hostile.mismatched_processor(test_models, root / "vit-mismatch")), "label": "Mismatched ViT"},
    ]
    text_generation = [
        {"id": str(test_models / "llama-chat"), "label": "Llama", "default": True},
        {
            "id": str(test_models / "llama-base"),
            "label": "Llama tiny max_memory",
            "device_map": "auto",
            "max_memory": {"cpu": "1KB"},
            "offload_folder": str(root / "offload"),
        },
    ]
    catalog = catalog_variant(
        test_catalog,
        root / "models.yaml",
        models={
            "fill_mask": fill_mask,
            "image_classification": image_classification,
            "text_generation": text_generation,
        },
        allow_custom_models=True,
        memory_budget_gb=0.05,
    )
    (root / "bin").mkdir()
    (root / "hf-home").mkdir()
    env = {"PATH": str(root / "bin"), "HF_HOME": str(root / "hf-home")}
    running = launch_app(catalog, root, env=env)
    running.marker = marker  # type: ignore[attr-defined]
    yield running
    running.stop()


# ---- The course tabs: one app with only their tabs, shared by their test modules ------
COURSE_TABS = "text_classification,named_entities,summarization,translation,visual_qa"


@pytest.fixture(scope="session")
def course_app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = launch_app(test_catalog, tmp_path_factory.mktemp("course-app-logs"), "--tabs", COURSE_TABS)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def course_client(course_app: RunningApp):  # noqa: ANN201
    return course_app.client()


# ---- OpenAI-compatible engines, started once per session -------------------------------
@pytest.fixture(scope="session")
def engine(test_models: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """An OpenAI-compatible engine serving the llama-hd64 test model (tests/engines.py: transformers
    serve, or vLLM with PLAYGROUND_TEST_ENGINE=vllm), shared by the session."""
    from engines import KEY, start_engine

    running = start_engine(test_models / "llama-hd64", tmp_path_factory.mktemp("engine"), KEY)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def whisper_engine(test_models: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """`transformers serve` on the test Whisper (the audio API; vLLM's CPU build runs text only here)."""
    from engines import start_transformers_serve

    running = start_transformers_serve(
        test_models / "whisper", tmp_path_factory.mktemp("whisper-engine"), "whisper-serve"
    )
    yield running
    running.stop()
