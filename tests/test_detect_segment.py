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
from tabs.detect_segment.test_models import ADE20K_FIRST, COCO_91

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


# ---- segmentation ---------------------------------------------------------------------------------


def check_masks(annotated: dict[str, Any], source: Path) -> list[str]:
    """The AnnotatedImage value: the picture and one mask layer per segment, each the picture's size."""
    size = Image.open(source).size
    assert Image.open(annotated["image"]).size == size  # gradio_client hands files over as local paths
    for layer in annotated["annotations"]:
        assert Image.open(layer["image"]).size == size, layer["label"]
    return [layer["label"] for layer in annotated["annotations"]]


@pytest.mark.parametrize(
    "model, subtask",
    [("SegFormer (test)", "auto"), ("Mask2Former (test)", "semantic"), ("Mask2Former (test)", "instance")],
)
def test_segments_are_masks_the_pictures_size(client, picture: Path, model: str, subtask: str) -> None:
    annotated, table, code = client.predict(handle_file(str(picture)), model, subtask, 0.0, api_name="/segment_image")
    labels = check_masks(annotated, picture)
    rows = rows_of(table)
    assert labels and sorted(labels) == sorted(row["label"] for row in rows)
    assert table["headers"] == ["label", "score", "pixels", "area %"]
    width, height = Image.open(picture).size
    for row in rows:
        assert 0 < row["pixels"] <= width * height and row["area %"] == pytest.approx(
            100 * row["pixels"] / (width * height), abs=0.01
        )
    if subtask != "instance":  # one mask per class: they share the picture out, with no score
        assert sum(row["pixels"] for row in rows) == width * height and {row["score"] for row in rows} == {None}
        assert len(labels) == len(set(labels))
    else:
        assert all(0 <= row["score"] <= 1 for row in rows)
    assert "'image-segmentation'" in code and (f"subtask={subtask!r}" in code) == (subtask != "auto")


def test_segmentation_with_its_input_alone_and_its_snippet(client, picture: Path, test_models: Path) -> None:
    from snippet_calls import app_load_kwargs, pipeline_loads

    annotated, table, code = client.predict(handle_file(str(picture)), api_name="/segment_image")
    check_masks(annotated, picture)
    assert {row["label"] for row in rows_of(table)} <= set(ADE20K_FIRST)
    printed = run_snippet(code, {"your_image.jpg": picture}, cwd=test_models).splitlines()
    assert sorted(line.split(" None ")[0] for line in printed) == sorted(row["label"] for row in rows_of(table))
    assert all(line.endswith(" (64, 48)") for line in printed), printed
    assert pipeline_loads(code) == {"./segformer": app_load_kwargs(client, "SegFormer (test)")}


# ---- depth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["Depth Anything (test)", "DPT (test)"])
def test_depth_map_is_the_pictures_size_with_a_scale(client, picture: Path, model: str) -> None:
    coloured, grey, numbers, code = client.predict(handle_file(str(picture)), model, api_name="/estimate_depth")
    width, height = Image.open(picture).size
    assert Image.open(grey).size == (width, height)
    shown = Image.open(coloured)
    assert shown.height == height and shown.width > width, "the colour scale sits on the right"
    assert numbers["width"] == width and numbers["height"] == height and numbers["min"] <= numbers["max"]
    assert "larger is nearer" in numbers["kind"]
    assert "'depth-estimation'" in code


def test_depth_with_its_input_alone_and_its_snippet(client, picture: Path, test_models: Path) -> None:
    from snippet_calls import app_load_kwargs, pipeline_loads

    _, _, numbers, code = client.predict(handle_file(str(picture)), api_name="/estimate_depth")
    printed = last_line(run_snippet(code, {"your_image.jpg": picture}, cwd=test_models))
    shape, values = printed.split(") ", 1)
    assert shape == "torch.Size([48, 64]"
    assert [float(v) for v in values.split()] == pytest.approx([numbers["min"], numbers["max"]], rel=1e-4)
    assert pipeline_loads(code) == {"./depth-anything": app_load_kwargs(client, "Depth Anything (test)")}


# ---- mask from a point ----------------------------------------------------------------------------


def test_mask_at_a_point_is_the_pictures_size(client, picture: Path, test_models: Path) -> None:
    from snippet_calls import app_load_kwargs, from_pretrained_load

    annotated, score, code = client.predict(handle_file(str(picture)), 10, 20, api_name="/generate_mask")
    assert check_masks(annotated, picture) == ["(10, 20)"]
    mask = np.asarray(Image.open(annotated["annotations"][0]["image"]))
    assert -1 <= score <= 1.5, "a predicted IoU (random weights may stray a little outside 0-1)"
    printed = last_line(run_snippet(code, {"your_image.jpg": picture}, cwd=test_models))
    assert printed.startswith("torch.Size([48, 64])") and float(printed.split()[2]) == pytest.approx(score, abs=1e-5)
    assert int(printed.split()[3]) == int((mask[..., -1] if mask.ndim == 3 else mask).astype(bool).sum())
    kwargs, device = from_pretrained_load(code, "SamModel")
    loaded = app_load_kwargs(client, "SAM (test)")
    assert device == loaded["device"] and kwargs == {
        "revision": None,
        "trust_remote_code": False,
        "dtype": loaded["dtype"],
        **loaded["model_kwargs"],
    }


def test_mask_with_its_input_alone_prompts_the_centre(client, picture: Path) -> None:
    annotated, _, code = client.predict(handle_file(str(picture)), api_name="/generate_mask")
    assert check_masks(annotated, picture) == ["(32, 24)"] and "input_points=[[[32, 24]]]" in code


# ---- keypoint matching ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["SuperGlue (test)", "LightGlue (test)"])
def test_matches_join_points_inside_both_pictures(client, model: str) -> None:
    second = EXAMPLES_DIR / "pairs" / "house_turned.png"
    drawn, table, code = client.predict(
        handle_file(str(HOUSE)), handle_file(str(second)), model, 0.0, api_name="/match_keypoints"
    )
    (w0, h0), (w1, h1) = Image.open(HOUSE).size, Image.open(second).size
    assert Image.open(drawn).size == (w0 + w1, max(h0, h1))
    assert table["headers"] == ["x0", "y0", "x1", "y1", "score"]
    for row in rows_of(table):
        assert 0 <= row["x0"] < w0 and 0 <= row["y0"] < h0 and 0 <= row["x1"] < w1 and 0 <= row["y1"] < h1, row
        assert 0 <= row["score"] <= 1
    if model == "SuperGlue (test)":
        assert rows_of(table), "random SuperGlue still pairs some points (random LightGlue may pair none)"
    assert "'keypoint-matching'" in code and "pipe([first, second], threshold=0.0)" in code


def test_matching_with_its_inputs_alone_and_its_snippet(client, picture: Path, test_models: Path) -> None:
    from snippet_calls import app_load_kwargs, pipeline_loads

    _, table, code = client.predict(handle_file(str(HOUSE)), handle_file(str(picture)), api_name="/match_keypoints")
    printed = ast.literal_eval(
        last_line(run_snippet(code, {"first.jpg": HOUSE, "second.jpg": picture}, cwd=test_models))
    )
    assert len(printed) == len(rows_of(table))
    assert pipeline_loads(code) == {"./superglue": app_load_kwargs(client, "SuperGlue (test)")}


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


def test_the_other_handlers_run_by_name(detect_ctx) -> None:  # noqa: ANN001
    from playground.core.texts import UserError
    from tabs.detect_segment.ui import estimate_depth, generate_mask, match_keypoints, segment_image

    size = Image.open(HOUSE).size
    (picture, layers), table, _ = segment_image(detect_ctx, str(HOUSE))
    assert picture.size == size and layers and all(mask.shape == size[::-1] for mask, _ in layers)
    assert sorted(label for _, label in layers) == sorted(table["label"])
    coloured, grey, numbers, _ = estimate_depth(detect_ctx, str(HOUSE))
    assert grey.size == size and coloured.height == size[1] and numbers["kind"].startswith("relative")
    (picture, [(mask, label)]), score, _ = generate_mask(detect_ctx, str(HOUSE), 10, 20)
    assert label == "(10, 20)" and mask.shape == size[::-1] and isinstance(score, float)
    drawn, table, _ = match_keypoints(detect_ctx, str(HOUSE), str(EXAMPLES_DIR / "pairs" / "house_turned.png"))
    assert drawn.size == (2 * size[0], size[1]) and list(table.columns) == ["x0", "y0", "x1", "y1", "score"]
    with pytest.raises(UserError, match="cannot do panoptic segmentation"):
        segment_image(detect_ctx, str(HOUSE), subtask="panoptic")
    with pytest.raises(UserError, match="point must lie in the picture"):
        generate_mask(detect_ctx, str(HOUSE), size[0], 0)
    with pytest.raises(UserError, match="Upload the first picture"):
        match_keypoints(detect_ctx, None, str(HOUSE))


@pytest.mark.parametrize("metric", [False, True])
def test_the_depth_picture_shows_near_bright_as_the_top_of_its_scale(metric: bool) -> None:
    from tabs.detect_segment.depth_task import depth_picture

    depth = np.tile(np.linspace(0, 10, 40, dtype=np.float32), (30, 1))  # 0 on the left, 10 on the right
    shown = np.asarray(depth_picture(depth, metric))
    near_column = 0 if metric else 39  # metres: small is near; relative (inverse) depth: large is near
    far_column = 39 - near_column
    scale_top, scale_bottom = shown[0, 40 + 4 + 2], shown[29, 40 + 4 + 2]
    assert (shown[0, near_column] == scale_top).all() and (shown[0, far_column] == scale_bottom).all()
    assert shown[0, near_column].sum() > shown[0, far_column].sum(), "near is the brighter end"


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
