"""Every valid catalog starts: each tab builds with any non-empty subset of the tasks it serves, showing
the sub-tabs (and endpoints) it has models for, and nothing loads while the app is built."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from conftest import catalog_variant, launch_app

from tabs import TAB_SPECS

SUBSETS = [
    (spec.key, subset)
    for spec in TAB_SPECS
    for size in range(1, len(spec.tasks) + 1)
    for subset in itertools.combinations(spec.tasks, size)
]
# The zero-shot tab's endpoints, by the tasks that make them appear.
ZERO_SHOT_ENDPOINTS = {
    "/zero_shot_text": {"zero-shot-classification", "sentence-similarity"},
    "/zero_shot_text_dataset": {"zero-shot-classification", "sentence-similarity"},
    "/zero_shot_image": {"zero-shot-image-classification"},
    "/zero_shot_steps": {"zero-shot-classification", "sentence-similarity"},
}


def subset_catalog(test_catalog: Path, out: Path, tab: str, tasks: tuple[str, ...]) -> Path:
    """The test catalog with `tab` keeping only its models of `tasks` (absolute paths, like catalog_variant's)."""
    models = yaml.safe_load(test_catalog.read_text())["tabs"][tab]["models"]
    kept = [dict(m) for m in models if m["task"] in tasks]
    assert {m["task"] for m in kept} == set(tasks), f"the test catalog has no {tab} model for some of {tasks}"
    for entry in kept:
        if entry["id"].startswith("./"):
            entry["id"] = str(test_catalog.parent / entry["id"][2:])
    return catalog_variant(test_catalog, out, models={tab: kept})


@pytest.mark.parametrize("tab,tasks", SUBSETS, ids=[f"{tab}:{'+'.join(tasks)}" for tab, tasks in SUBSETS])
def test_every_subset_of_a_tabs_tasks_builds(
    test_catalog: Path, tmp_path: Path, tab: str, tasks: tuple[str, ...]
) -> None:
    import app
    from playground.config.catalog import load_catalog
    from playground.loading.model_manager import ModelManager

    catalog = load_catalog(subset_catalog(test_catalog, tmp_path / "models.yaml", tab, tasks))
    manager = ModelManager(catalog)
    demo, _ = app.build_app(catalog, manager, app.tab_modules([tab]))
    endpoints = set(demo.get_api_info()["named_endpoints"]) - {"/loaded_models", "/unload_model"}
    assert endpoints, f"{tab} with only {tasks} offers no endpoint"
    assert manager.loaded() == [], "building the app loads no model"
    if tab == "zero_shot":
        expected = {name for name, needs in ZERO_SHOT_ENDPOINTS.items() if needs & set(tasks)}
        assert endpoints == expected


def test_a_clip_only_zero_shot_catalog_starts_and_answers(test_catalog: Path, tmp_path: Path) -> None:
    from gradio_client import handle_file

    from playground.media.images import EXAMPLES_DIR

    catalog = subset_catalog(test_catalog, tmp_path / "models.yaml", "zero_shot", ("zero-shot-image-classification",))
    running = launch_app(catalog, tmp_path, "--tabs", "zero_shot")
    try:
        client = running.client()
        api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
        assert "/zero_shot_image" in api and "/zero_shot_text" not in api
        label, code = client.predict(
            handle_file(str(EXAMPLES_DIR / "house.png")), labels="house, circle", api_name="/zero_shot_image"
        )
        assert {c["label"] for c in label["confidences"]} == {"house", "circle"}
        assert "zero-shot-image-classification" in code
        assert running.process.poll() is None
    finally:
        running.stop()
