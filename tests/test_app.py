"""The launched app: endpoints that gradio_client sees, the Models view, the page itself."""

from __future__ import annotations

import urllib.request

import pytest
from gradio_client.exceptions import AppError

from tabs import TAB_SPECS

# The endpoint names are part of the product (see README "API").
ENDPOINTS = {
    "speech_to_text": ["/transcribe", "/speech_to_text_steps"],
    "image_classification": ["/classify_image", "/image_classification_steps"],
    "fill_mask": ["/fill_mask", "/compare_bias", "/fill_mask_dataset", "/fill_mask_steps"],
    "zero_shot": ["/zero_shot_text", "/zero_shot_image", "/zero_shot_text_dataset", "/zero_shot_steps"],
    "audio_classification": ["/classify_audio", "/classify_audio_zero_shot"],
    "text_to_speech": ["/synthesize_speech"],
    "visual_qa": ["/answer_image_question", "/answer_document_question", "/answer_question", "/answer_table_question"],
    "text_generation": ["/generate"],
    "text_classification": ["/classify_text", "/classify_dataset", "/text_classification_steps"],
    "named_entities": ["/extract_entities", "/extract_entities_dataset", "/named_entities_steps"],
    "summarization": ["/summarize"],
    "translation": ["/translate"],
    "anatomy": ["/model_anatomy"],
    "attention": ["/attention"],
    # /compare_tokenizers takes several `models`.
    "tokenizer": ["/tokenize", "/tokenize_batch", "/decode_ids", "/chat_template"],
    "embeddings": ["/embed", "/embed_images"],
    "video_classification": ["/classify_video"],
    "detect_segment": [
        "/detect_objects",
        "/detect_objects_zero_shot",
        "/segment_image",
        "/estimate_depth",
        "/generate_mask",
        "/match_keypoints",
    ],
    "fine_tune": ["/fine_tune"],
}


def test_every_endpoint_is_named_and_takes_a_model(app, client, test_catalog) -> None:  # noqa: ANN001
    import os

    from playground.config.catalog import load_catalog

    catalog = load_catalog(test_catalog)
    shown = os.environ.get("PLAYGROUND_TEST_TABS")
    tabs = [s.key for s in TAB_SPECS if s.key in catalog.tabs and (not shown or s.key in shown.split(","))]
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/loaded_models", "/unload_model"} <= set(api)
    for tab in tabs:
        for name in ENDPOINTS[tab]:
            assert name in api, f"{name} missing from {sorted(api)}"
            params = api[name]["parameters"]
            names = [p["parameter_name"] for p in params]
            assert "model" in names, f"{name} has no model parameter: {names}"
            model = next(p for p in params if p["parameter_name"] == "model")
            assert model["parameter_has_default"], f"{name}: model must default to the tab's default"


def test_loaded_models_and_unload(client) -> None:  # noqa: ANN001
    client.predict(api_name="/unload_model")  # start from nothing (the default target is "all")
    assert client.predict(api_name="/loaded_models") == []
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    if "/fill_mask" in api:
        client.predict("Paris is the [MASK] of France.", targets="", api_name="/fill_mask")
    elif "/classify_text" in api:
        client.predict("A fine day.", api_name="/classify_text")
    elif "/classify_image" in api:
        pytest.skip("fill-mask tab not shown in this run")
    loaded = client.predict(api_name="/loaded_models")
    assert len(loaded) == 1
    item = loaded[0]
    assert {"id", "label", "device", "dtype", "parameters", "size_mb", "load_seconds"} <= set(item)
    assert item["device"] == "cpu" and item["parameters"] > 0
    message, remaining = client.predict(item["label"], api_name="/unload_model")
    assert item["label"] in message and remaining == []
    with pytest.raises(AppError, match="No loaded model matches"):
        client.predict("nothing-like-this", api_name="/unload_model")


def test_page_serves_in_both_languages(app) -> None:  # noqa: ANN001
    with urllib.request.urlopen(app.url, timeout=10) as response:
        page = response.read().decode()
    assert "Pipeline Playground" in page
    request = urllib.request.Request(app.url + "config", headers={"Accept-Language": "ko"})
    with urllib.request.urlopen(request, timeout=10) as response:
        config = response.read().decode()
    assert "파이프라인" in config, "Korean strings are shipped to the browser"


def test_upload_limit_from_catalog(test_catalog, tmp_path) -> None:  # noqa: ANN001
    from conftest import catalog_variant, launch_app
    from gradio_client import handle_file

    catalog = catalog_variant(test_catalog, tmp_path / "models.yaml", max_upload_mb=0.5)  # a float, as users write it
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + bytes(1024 * 1024))
    running = launch_app(catalog, tmp_path, "--tabs", "image_classification")
    try:
        with pytest.raises(Exception, match="(?i)file size|too large|exceeds"):
            running.client().predict(handle_file(str(big)), api_name="/classify_image")
    finally:
        running.stop()
