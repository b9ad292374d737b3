"""The detect-and-segment tab through the running app and its handlers, on random-weight models.

Random weights give random boxes, masks and depths: the tests check the structure of every answer
(boxes inside the picture, scores above the threshold, masks and depth maps the picture's size) and
that the "show code" snippet gives what the app gave.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from snippets import last_line, run_snippet

from playground.media.images import EXAMPLES_DIR
from tabs.detect_segment.test_models import COCO_91

HOUSE = EXAMPLES_DIR / "house.png"


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64×48 noise picture: not square, so width and height cannot be swapped unnoticed."""
    path = tmp_path_factory.mktemp("detect") / "your_image.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(path, quality=100)
    return path


def rows_of(table: dict[str, Any]) -> list[dict[str, Any]]:
    """A gr.Dataframe value as gradio_client returns it, as one dict per row."""
    return [dict(zip(table["headers"], row)) for row in table["data"]]


def check_boxes(picture: str, table: dict[str, Any], source: Path, threshold: float) -> list[dict[str, Any]]:
    """The drawn picture is the input's size and every box lies inside it and scores at least `threshold`."""
    width, height = Image.open(source).size
    assert Image.open(picture).size == (width, height)
    assert table["headers"] == ["label", "score", "xmin", "ymin", "xmax", "ymax"]
    rows = rows_of(table)
    for row in rows:
        assert 0 <= row["xmin"] <= row["xmax"] < width and 0 <= row["ymin"] <= row["ymax"] < height, row
        assert threshold <= row["score"] <= 1, row
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    return rows


# ---- object detection -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["DETR (test)", "YOLOS (test)", "RT-DETR (test)"])
def test_every_detector_draws_boxes_inside_the_picture(client, picture: Path, model: str) -> None:
    drawn, table, code = client.predict(handle_file(str(picture)), model, 0.0, api_name="/detect_objects")
    rows = check_boxes(drawn, table, picture, 0.0)
    assert rows, "at threshold 0 every proposal is kept"
    assert "pipeline(" in code and "'object-detection'" in code and "threshold=0.0" in code


def test_the_threshold_keeps_only_higher_scores(client, picture: Path) -> None:
    _, every, _ = client.predict(handle_file(str(picture)), "RT-DETR (test)", 0.0, api_name="/detect_objects")
    scores = sorted({row["score"] for row in rows_of(every)})
    middle = scores[len(scores) // 2]
    drawn, some, _ = client.predict(handle_file(str(picture)), "RT-DETR (test)", middle, api_name="/detect_objects")
    kept = check_boxes(drawn, some, picture, middle)
    assert 0 < len(kept) < len(rows_of(every))
    # The labels are the checkpoint's own (COCO's names, as its config.json has them).
    assert {row["label"] for row in rows_of(every)} <= set(COCO_91)


def test_detection_with_its_input_alone_uses_the_default_model(client) -> None:
    drawn, table, code = client.predict(handle_file(str(HOUSE)), api_name="/detect_objects")
    check_boxes(drawn, table, HOUSE, 0.5)
    assert "'./detr'" in code and "threshold=0.5" in code


def test_detection_snippet_reproduces_the_app(client, picture: Path, test_models: Path) -> None:
    from snippet_calls import app_load_kwargs, pipeline_loads

    _, table, code = client.predict(handle_file(str(picture)), "YOLOS (test)", 0.0, api_name="/detect_objects")
    printed = ast.literal_eval(last_line(run_snippet(code, {"your_image.jpg": picture}, cwd=test_models)))
    assert [(r["label"], r["box"]["xmin"], r["box"]["ymax"]) for r in printed] == [
        (row["label"], row["xmin"], row["ymax"]) for row in rows_of(table)
    ]
    assert [r["score"] for r in printed] == pytest.approx([row["score"] for row in rows_of(table)], abs=1e-6)
    assert pipeline_loads(code) == {"./yolos": app_load_kwargs(client, "YOLOS (test)")}


# ---- zero-shot object detection -------------------------------------------------------------------


@pytest.mark.parametrize("model", ["OWLv2 (test)", "Grounding DINO (test)"])
def test_zero_shot_boxes_carry_the_labels_typed(client, picture: Path, model: str) -> None:
    drawn, table, code = client.predict(
        handle_file(str(picture)), "cat, remote control\ncat", model, 0.0, api_name="/detect_objects_zero_shot"
    )
    rows = check_boxes(drawn, table, picture, 0.0)
    assert rows and {row["label"] for row in rows} <= {"cat", "remote control"}
    assert "candidate_labels=['cat', 'remote control']" in code, "blanks and repeats dropped"


def test_zero_shot_with_its_inputs_alone(client) -> None:
    drawn, table, code = client.predict(handle_file(str(HOUSE)), "house, door", api_name="/detect_objects_zero_shot")
    check_boxes(drawn, table, HOUSE, 0.1)
    assert "'./owlv2'" in code and "threshold=0.1" in code


def test_zero_shot_snippet_reproduces_the_app(client, picture: Path, test_models: Path) -> None:
    from snippet_calls import app_load_kwargs, pipeline_loads

    _, table, code = client.predict(
        handle_file(str(picture)), "cat, dog", "Grounding DINO (test)", 0.0, api_name="/detect_objects_zero_shot"
    )
    printed = ast.literal_eval(last_line(run_snippet(code, {"your_image.jpg": picture}, cwd=test_models)))
    assert [(r["label"], r["box"]["xmin"]) for r in printed] == [(row["label"], row["xmin"]) for row in rows_of(table)]
    assert pipeline_loads(code) == {"./grounding-dino": app_load_kwargs(client, "Grounding DINO (test)")}


# ---- bad input ------------------------------------------------------------------------------------


def _truncated(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), "red").save(buffer, format="PNG")
    path = tmp_path / "truncated.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def test_detection_bad_input_gets_a_clear_message(client, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("hello, not an image")
    huge = tmp_path / "huge.png"
    Image.new("1", (8000, 8000)).save(huge)
    for api, extra in (("/detect_objects", []), ("/detect_objects_zero_shot", ["cat"])):
        with pytest.raises(AppError, match="provide an image"):
            client.predict(None, *extra, api_name=api)
        with pytest.raises(AppError, match="not an image"):
            client.predict(handle_file(str(text)), *extra, api_name=api)
        with pytest.raises(AppError, match="damaged or truncated"):
            client.predict(handle_file(str(_truncated(tmp_path))), *extra, api_name=api)
        with pytest.raises(AppError, match="too large"):
            client.predict(handle_file(str(huge)), *extra, api_name=api)
    with pytest.raises(AppError, match="threshold: 1.5 is above the maximum of 1"):  # the API's own check
        client.predict(handle_file(str(HOUSE)), threshold=1.5, api_name="/detect_objects")
    for labels in ("", " , \n"):
        with pytest.raises(AppError, match="Type at least one object"):
            client.predict(handle_file(str(HOUSE)), labels, api_name="/detect_objects_zero_shot")
    with pytest.raises(AppError, match="21 labels: at most 20"):
        many = ", ".join(f"thing {n}" for n in range(21))
        client.predict(handle_file(str(HOUSE)), many, api_name="/detect_objects_zero_shot")


def test_the_handlers_run_by_name(detect_ctx) -> None:  # noqa: ANN001
    from playground.core.texts import UserError
    from tabs.detect_segment.ui import detect_objects, detect_objects_zero_shot

    drawn, table, code = detect_objects(detect_ctx, str(HOUSE), threshold=0.0)
    assert drawn.size == Image.open(HOUSE).size and list(table.columns)[:2] == ["label", "score"]
    drawn, table, code = detect_objects_zero_shot(detect_ctx, str(HOUSE), "roof", threshold=0.0)
    assert set(table["label"]) <= {"roof"}
    with pytest.raises(UserError, match="Type at least one object"):
        detect_objects_zero_shot(detect_ctx, str(HOUSE), "")
    with pytest.raises(UserError, match="score threshold must be a number from 0 to 1"):
        detect_objects(detect_ctx, str(HOUSE), threshold=float("nan"))


@pytest.fixture(scope="module")
def detect_ctx(test_catalog: Path):  # noqa: ANN201
    from playground.config.catalog import load_catalog
    from playground.config.registry import TAB_SPECS
    from playground.engines.generation_engines import Engines
    from playground.loading.model_manager import ModelManager
    from playground.web.ui import TabContext

    catalog = load_catalog(test_catalog)
    spec = next(spec for spec in TAB_SPECS if spec.key == "detect_segment")
    return TabContext(
        key=spec.key, catalog=catalog, manager=ModelManager(catalog), engines=Engines(None), tasks=spec.tasks
    )
