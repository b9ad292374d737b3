"""Secure defaults, checked on the launched app: remote code and pickle weights only where the catalog
says so, custom models only as Hub ids, no server files in or out, and the Space settings."""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import hostile_models as hostile
import pytest
from api_helpers import FILEDATA_META, positional, raw_predict, upload
from conftest import catalog_variant, launch_app
from gradio_client.exceptions import AppError

from bench.inputs import write_tone

MASKED = "Paris is the [MASK] of France."
# Everything that decides how a model is loaded; the browser and the API must never be able to set it.
LOADING_OPTIONS = {
    "trust_remote_code",
    "allow_pickle_weights",
    "revision",
    "device_map",
    "max_memory",
    "offload_folder",
    "pipeline_kwargs",
    "model_kwargs",
    "use_safetensors",
    "dtype",
    "device",
}
FILE_ENDPOINTS = {  # endpoint -> its file parameter
    "/transcribe": "audio",
    "/classify_audio": "audio",
    "/classify_audio_zero_shot": "audio",
    "/classify_image": "image",
    "/zero_shot_image": "image",
    "/answer_image_question": "image",
    "/answer_document_question": "document",
    "/answer_table_question": "csv_file",
    "/classify_video": "video",
}


@pytest.fixture(scope="module")
def hostile_client(hostile_app):  # noqa: ANN001, ANN201
    return hostile_app.client()


def fill(client: Any, model: str) -> dict:
    return client.predict(MASKED, model=model, top_k=3, targets="", api_name="/fill_mask")[0]


def test_no_endpoint_takes_loading_options(hostile_client) -> None:  # noqa: ANN001
    api = hostile_client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for name, endpoint in api.items():
        params = {p["parameter_name"] for p in endpoint["parameters"]}
        assert not params & LOADING_OPTIONS, f"{name} lets callers choose {params & LOADING_OPTIONS}"


def test_remote_code_runs_only_when_the_catalog_entry_says_so(
    hostile_app, hostile_client, test_models, tmp_path
) -> None:  # noqa: ANN001
    with pytest.raises(
        AppError,
        match=r"Remote code ships its own Python code, which this app runs only when .*trust_remote_code: true",
    ):
        fill(hostile_client, "Remote code")
    assert not hostile_app.marker.exists(), "the repository's code must not have run"
    # The same kind of repository, listed with trust_remote_code: true, loads through its own code.
    from playground.config.catalog import parse_catalog
    from playground.loading.model_manager import ModelManager

    marker = tmp_path / "ran"
    folder = hostile.remote_code(test_models, tmp_path / "remote", marker)
    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu"},
            "tabs": {"fill_mask": {"models": [{"id": str(folder), "trust_remote_code": True}]}},
        }
    )
    loaded = ModelManager(catalog).get("fill_mask")
    assert marker.exists() and type(loaded.model.model).__name__ == "CustomBertForMaskedLM"


def test_pickle_weights_only_where_the_catalog_opts_in(hostile_client) -> None:  # noqa: ANN001
    with pytest.raises(
        AppError,
        match=r"Pickle weights has no safetensors weights, only pickle \(\.bin\) files.*allow_pickle_weights: true",
    ):
        fill(hostile_client, "Pickle weights")
    assert len(fill(hostile_client, "Pickle weights allowed")["confidences"]) == 3


@pytest.mark.parametrize(
    "model",
    [
        "/etc/passwd",
        "../../etc/passwd",
        "~/.cache/huggingface",
        "file:///etc/passwd",
        "owner/name/../../x",
        "https://example.com/model",
        "owner/name\x00",
        "MLM-FOLDER",
    ],
)
def test_custom_models_are_hub_ids_never_paths(hostile_client, test_models, model: str) -> None:  # noqa: ANN001
    """Custom models are allowed in this app, but only as Hub ids: a path is refused even when it is a
    real model folder on the server."""
    model = str(test_models / "roberta-mlm") if model == "MLM-FOLDER" else model  # a model, not listed here
    with pytest.raises(AppError, match=r"is not a Hugging Face Hub model id \(expected owner/name\)"):
        fill(hostile_client, model)


def test_models_outside_the_catalog_are_refused_by_default(client) -> None:  # noqa: ANN001
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    if "/fill_mask" not in api:
        pytest.skip("fill-mask tab not shown in this run")
    with pytest.raises(AppError, match=r"Model 'google-bert/bert-base-uncased' is not in this app's catalog"):
        fill(client, "google-bert/bert-base-uncased")


@pytest.mark.parametrize("with_meta", [False, True], ids=["bare-path", "path-with-file-metadata"])
def test_server_paths_are_refused_as_file_inputs(hostile_app, hostile_client, with_meta: bool) -> None:  # noqa: ANN001
    secret = str(Path(hostile_app.log_path))  # a file that exists on the server and holds the app's log
    for api, param in FILE_ENDPOINTS.items():
        value = {"path": secret, **({"meta": FILEDATA_META} if with_meta else {})}
        data = positional(hostile_client, api, (), {param: value, "question": "What is it?", "labels": "a, b"})
        with pytest.raises(AppError, match=r"was not uploaded to this app"):
            raw_predict(hostile_app.url, api, data)


@pytest.mark.parametrize("path", ["/etc/passwd", "app.py", "models.yaml", "LOG"])
def test_server_files_are_not_served(hostile_app, path: str) -> None:  # noqa: ANN001
    path = str(hostile_app.log_path) if path == "LOG" else path
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{hostile_app.url}gradio_api/file={path}", timeout=10)
    assert info.value.code in (403, 404)


def test_output_files_are_the_apps_own_temporary_files(hostile_app, hostile_client, tmp_path) -> None:  # noqa: ANN001
    cache = Path(tempfile.gettempdir()).resolve() / "gradio"  # Gradio's upload/cache folder (no GRADIO_TEMP_DIR set)
    tone = write_tone(tmp_path / "tone.wav", seconds=0.5)
    outputs = []
    audio = upload(hostile_app.url, tone)
    data = positional(hostile_client, "/transcribe", (audio,), {})
    outputs += raw_predict(hostile_app.url, "/transcribe", data)
    data = positional(hostile_client, "/compare_bias", ("The {group} is [MASK].", "he, she"), {"model": "BERT"})
    outputs += raw_predict(hostile_app.url, "/compare_bias", data)
    data = positional(
        hostile_client,
        "/zero_shot_text",
        ("one\ntwo",),
        {"model": "NLI classifier (test)", "labels": "a, b", "batch": True},
    )
    outputs += raw_predict(hostile_app.url, "/zero_shot_text", data)
    files = [o for o in outputs if isinstance(o, dict) and o.get("meta", {}).get("_type") == "gradio.FileData"]
    assert len(files) == 4, json.dumps(outputs)[:500]  # SRT, VTT, bias CSV, batch CSV
    for item in files:
        assert Path(item["path"]).resolve().is_relative_to(cache), item["path"]
        with urllib.request.urlopen(item["url"], timeout=10) as response:
            assert response.status == 200 and response.read()


def test_space_defaults_cap_the_catalog(test_catalog, tmp_path) -> None:  # noqa: ANN001
    from playground.config.catalog import load_catalog
    from playground.config.space import SPACE_LIMITS, apply_space_defaults

    permissive = catalog_variant(
        test_catalog,
        tmp_path / "models.yaml",
        allow_custom_models=True,
        max_upload_mb=500,
        max_audio_minutes=600,
        max_pdf_pages=1000,
        queue_size=10_000,
    )
    catalog = load_catalog(permissive)
    apply_space_defaults(catalog)
    assert catalog.defaults.allow_custom_models is False
    for name, limit in SPACE_LIMITS.items():
        assert getattr(catalog.defaults, name) == limit
    running = launch_app(permissive, tmp_path, "--tabs", "fill_mask", env={"SPACE_ID": "someone/pipeline-playground"})
    try:
        client = running.client()
        assert client.config["max_file_size"] == SPACE_LIMITS["max_upload_mb"] * 2**20
        with pytest.raises(AppError, match=r"is not in this app's catalog"):
            fill(client, "someone/any-model")
    finally:
        running.stop()
