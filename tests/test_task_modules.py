"""The tabs' task logic (`tabs/<key>/task.py`, `*_task.py`) stands on its own: no Gradio, no page of its
tab or another, and it runs on a real pipeline in-process."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

from playground.core.texts import UserError

ROOT = Path(__file__).resolve().parents[1]
# Every tab's task logic: the modules of a tab folder named task.py or *_task.py.
TASK_MODULES = sorted(f"tabs.{path.parent.name}.{path.stem}" for path in (ROOT / "tabs").glob("*/*task.py"))


def test_task_modules_import_neither_gradio_nor_a_page() -> None:
    assert "tabs.fill_mask.task" in TASK_MODULES, "the glob finds the task modules"
    for name in TASK_MODULES:
        own_folder = name.rsplit(".", 1)[0]
        code = (
            f"import sys, {name}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'gradio' or m.startswith('tabs.')))\n"
        )
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
        loaded = eval(result.stdout)  # noqa: S307 - a list of module names printed just above
        bad = [m for m in loaded if not m.startswith(own_folder) or m.endswith("ui")]
        assert not bad, f"{name} imports {bad}"


@pytest.fixture(scope="module")
def bert(test_models: Path):  # noqa: ANN201
    from transformers import pipeline

    return pipeline("fill-mask", model=str(test_models / "bert-mlm"), device="cpu")


def test_fill_mask_completion_and_targets(bert) -> None:  # noqa: ANN001
    from tabs.fill_mask import task as fill_mask

    top = fill_mask.complete(bert, "the cat is ___ .", "BERT", 4, [], "en")
    assert top.sentence == "the cat is [MASK] ." and len(top.scores) == 4 and top.note == ""
    scored = fill_mask.complete(bert, "the cat is ___ .", "BERT", 4, ["dog", "zebra"], "ko")
    assert set(scored.scores) == {"dog", "zebra"} and "zebra" in scored.note and "dog" not in scored.note
    with pytest.raises(UserError, match="Top k must be between 1 and 50"):
        fill_mask.check_top_k(2.5, 50)
    with pytest.raises(UserError, match="found 2"):
        fill_mask.complete(bert, "[MASK] and [MASK]", "BERT", 4, [], "en")


def test_bias_comparison_report(bert) -> None:  # noqa: ANN001
    from tabs.fill_mask import task as fill_mask

    comparison = fill_mask.new_comparison("the {group} is a [MASK] .\n{group} was ___ .", "he, she")
    fill_mask.compare_model(bert, "BERT", comparison, ["dog", "cat"], 3)
    report = fill_mask.report(comparison, ["BERT"], [], "en")
    assert [row[:2] for row in report.top["data"]] == [["BERT", t] for t in comparison.templates]
    for row in report.targets["data"]:
        assert row[-1] == pytest.approx(abs(math.log2(row[2] / row[4])), abs=1e-9)  # two groups: |log2 ratio|
    with open(report.csv_path, encoding="utf-8", newline="") as handle:
        kinds = {row["kind"] for row in csv.DictReader(handle)}
    assert kinds == {"top_k", "target", "target_mean", "log2_ratio", "skew_log2_max_min"}
    assert "averaged over 2 template(s)" in report.note


def test_zero_shot_checks_and_batch_csv() -> None:
    from playground.core.labels import parse_labels
    from tabs.zero_shot import task as zero_shot

    assert parse_labels("a,, b\n c") == ["a", "b", "c"]
    assert zero_shot.check_template("  ", zero_shot.TEXT_TEMPLATE) == zero_shot.TEXT_TEMPLATE
    with pytest.raises(UserError, match="exactly once"):
        zero_shot.check_template("{} and {}", zero_shot.TEXT_TEMPLATE)
    assert zero_shot.text_lines("one\n\ntwo", batch=True) == ["one", "two"]
    assert zero_shot.text_lines("one\ntwo", batch=False) == ["one\ntwo"]
    table = zero_shot.batch_outputs(["x", "y"], [{"a": 0.7, "b": 0.3}, {"b": 0.6, "a": 0.4}], ["a", "b"])
    with open(table.csv_path, encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [table.header, ["x", "a", "0.7", "0.3"], ["y", "b", "0.4", "0.6"]]


def test_image_classification_top_k(test_models: Path) -> None:
    from PIL import Image
    from transformers import pipeline

    from tabs.image_classification import task as image_classification

    pipe = pipeline("image-classification", model=str(test_models / "vit"), device="cpu")
    picture = Image.new("RGB", (40, 40), "red")
    assert len(image_classification.classify(pipe, picture, 3)) == 3
    assert [len(s) for s in image_classification.classify_many(pipe, [picture, picture], 2)] == [2, 2]
    with pytest.raises(UserError, match="between 1 and 20"):
        image_classification.classify(pipe, picture, 21)
