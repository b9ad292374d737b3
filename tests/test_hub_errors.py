"""What the Hub answers reaches the user as a remedy: a gated model without a token, a model that
does not exist; and Hub datasets for the dataset runs. A small local server speaks the Hub's protocol
(tests/fake_hub.py: repo info, file trees and downloads for a tiny dataset repo; `X-Error-Code`
headers, which huggingface_hub turns into GatedRepoError / RepositoryNotFoundError); the app reaches
it through HF_ENDPOINT, with the real loading path (`datasets.load_dataset(..., streaming=True)` for
datasets) and no token. The same app has a small `max_dataset_rows`, so an uploaded file over the limit
is refused here too (no other app needs launching for it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import catalog_variant, launch_app
from fake_hub import FakeHub
from gradio_client.exceptions import AppError

GATED = "gated-org/Big-Instruct"
MISSING = "nobody/no-such-model"
DATASET = "teacher/reviews"
GATED_DATASET = "gated-org/private-reviews"
# Eight rows: more than the app's max_dataset_rows (5), so only the first five are read.
TRAIN_CSV = "text,stars\n" + "".join(f"review {i} is [MASK] .,{i % 5 + 1}\n" for i in range(8))
TEST_CSV = "text,stars\nthe test review is [MASK] .,3\nanother [MASK] one,4\n"
MAX_ROWS = 5


@pytest.fixture(scope="module")
def hub_app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    hub = FakeHub(
        {
            DATASET: {
                "README.md": b"# Reviews\n",
                "data/train.csv": TRAIN_CSV.encode(),
                "data/test.csv": TEST_CSV.encode(),
            }
        },
        gated=(GATED, GATED_DATASET),
    )
    root = tmp_path_factory.mktemp("hub")
    models = {
        "text_generation": [
            {"id": str(test_catalog.parent / "llama-chat"), "label": "Llama", "default": True},
            {"id": GATED, "label": "Big gated", "gated": True},
            {"id": MISSING, "label": "Missing"},
        ]
    }
    catalog = catalog_variant(test_catalog, root / "models.yaml", models=models, max_dataset_rows=MAX_ROWS)
    env = {
        "HF_ENDPOINT": hub.url,
        "HF_HUB_OFFLINE": "0",
        "TRANSFORMERS_OFFLINE": "0",
        "HF_HOME": str(root / "hf-home"),
        "HF_TOKEN": "",
        "HF_HUB_ETAG_TIMEOUT": "5",
        "HF_HUB_DOWNLOAD_TIMEOUT": "5",
    }
    running = launch_app(catalog, root, "--tabs", "text_generation,fill_mask,zero_shot,text_classification", env=env)
    yield running.client()
    running.stop()
    hub.close()


OPTIONS = dict(
    max_new_tokens=2, temperature=0.7, top_p=0.95, top_k=50, repetition_penalty=1.0, do_sample=False, seed=0, stop=""
)


def test_gated_model_without_a_token_says_how_to_provide_one(hub_app) -> None:  # noqa: ANN001
    with pytest.raises(
        AppError,
        match=rf"Big gated is a gated model: accept its licence on https://huggingface.co/{GATED} "
        r"and provide a token \(set HF_TOKEN, run `hf auth login`",
    ):
        hub_app.predict("Hello", model="Big gated", **OPTIONS, api_name="/generate")


def test_model_missing_from_the_hub_is_named(hub_app) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match=rf"Missing: no such model or revision on the Hugging Face Hub \({MISSING}\)"):
        hub_app.predict("Hello", model="Missing", **OPTIONS, api_name="/generate")
    text, *_ = hub_app.predict("Hello", model="Llama", **OPTIONS, api_name="/generate")
    assert isinstance(text, str), "other models keep working"


# ---- Hub datasets --------------------------------------------------------------------------------


def test_hub_dataset_run_reads_the_first_rows_of_the_split(hub_app) -> None:  # noqa: ANN001
    summary, table, csv_file = hub_app.predict(
        None, model="BERT MLM (test)", top_k=2, hub_dataset=DATASET, api_name="/fill_mask_dataset"
    )
    assert [row[0] for row in table["data"]] == [f"review {i} is [MASK] ." for i in range(MAX_ROWS)]
    assert all(row[2] and row[-1] == "" for row in table["data"])
    assert f"{MAX_ROWS} rows" in summary and f"Only the first {MAX_ROWS} rows of {DATASET} (train) were read" in summary
    assert Path(csv_file).read_text(encoding="utf-8").count("\n") == MAX_ROWS + 1


def test_hub_dataset_split_and_column_on_every_dataset_endpoint(hub_app) -> None:  # noqa: ANN001
    summary, table, _ = hub_app.predict(
        None, "text", labels="good, bad", hub_dataset=DATASET, hub_split="test", api_name="/zero_shot_text_dataset"
    )
    assert [row[0] for row in table["data"]] == ["the test review is [MASK] .", "another [MASK] one"]
    assert "Only the first" not in summary
    _, table, _ = hub_app.predict(None, "stars", hub_dataset=DATASET, hub_split="test", api_name="/classify_dataset")
    assert [row[0] for row in table["data"]] == ["3", "4"]


@pytest.mark.parametrize(
    "hub_dataset, split, column, message",
    [
        (
            "nobody/no-such-dataset",
            "",
            "",
            r"nobody/no-such-dataset \(train\): no such dataset on the Hugging Face Hub",
        ),
        (
            GATED_DATASET,
            "",
            "",
            rf"{GATED_DATASET} \(train\) is a gated dataset: accept its conditions on "
            rf"https://huggingface.co/datasets/{GATED_DATASET} and provide a token",
        ),
        (DATASET, "validation", "", r"the dataset has no split 'validation'. Its splits: train, test"),
        (DATASET + ":other", "", "", r"the dataset has no configuration 'other'. Its configurations: default"),
        (DATASET, "", "review", rf"{DATASET} \(train\) has no column 'review'. Its columns: text, stars"),
        (DATASET, "../train", "", r"'../train' is not a split name"),
        ("./teacher/reviews", "", "", "is not a Hub dataset id"),
    ],
)
def test_hub_dataset_errors(hub_app, hub_dataset, split, column, message) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match=message):
        hub_app.predict(None, column, hub_dataset=hub_dataset, hub_split=split, api_name="/fill_mask_dataset")


@pytest.mark.parametrize(
    "api_name, options", [("/fill_mask_dataset", {}), ("/zero_shot_text_dataset", {"labels": "a, b"})]
)
def test_file_with_too_many_rows(hub_app, tmp_path, api_name, options) -> None:  # noqa: ANN001
    from gradio_client import handle_file

    path = tmp_path / "rows.txt"
    path.write_text("".join(f"row {i} is [MASK] .\n" for i in range(MAX_ROWS + 1)), encoding="utf-8")
    with pytest.raises(AppError, match=rf"rows.txt has {MAX_ROWS + 1} rows; the limit is {MAX_ROWS}"):
        hub_app.predict(handle_file(str(path)), **options, api_name=api_name)
