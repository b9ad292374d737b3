"""The text classification tab through the launched app: scores, pairs, score functions, the
snippet, dataset runs (CSV / JSONL / TXT, progress, CSV out) and every bad input."""

from __future__ import annotations

import ast

import pytest
from api_helpers import upload
from course_helpers import (
    call_kwargs,
    expected_pipeline_kwargs,
    loaded_kwargs,
    queue_messages,
    read_csv,
    write_csv,
    write_jsonl,
)
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet

SENTIMENT = "Sentiment DistilBERT (test)"
EMOTIONS = "Emotions BERT multi-label (test)"
RERANKER = "Reranker XLM-R (test)"
COURSE_SENTENCE = "I've been waiting for a HuggingFace course my whole life."


def scores(label: dict) -> dict[str, float]:
    return {c["label"]: c["confidence"] for c in label["confidences"]}


def test_text_alone_uses_the_defaults(course_client) -> None:
    label, note, code = course_client.predict(COURSE_SENTENCE, api_name="/classify_text")
    assert set(scores(label)) == {"NEGATIVE", "POSITIVE"}
    assert sum(scores(label).values()) == pytest.approx(1, abs=1e-5)
    assert "softmax" in note and "model's own" in note
    assert "'text-classification'" in code and "top_k=None" in code


def test_multi_label_model_gets_sigmoid(course_client) -> None:
    label, note, _ = course_client.predict("joy and anger", EMOTIONS, api_name="/classify_text")
    values = scores(label)
    assert set(values) == {"joy", "anger", "sadness", "surprise"}
    assert all(0 < v < 1 for v in values.values()) and sum(values.values()) > 1.5  # independent, not a softmax
    assert "sigmoid" in note


def test_pair_model_scores_the_pair(course_client) -> None:
    alone, _, _ = course_client.predict("what is a cat", RERANKER, api_name="/classify_text")
    pair, note, code = course_client.predict(
        "what is a cat", RERANKER, 0, "a cat is an animal", api_name="/classify_text"
    )
    assert list(scores(pair)) == ["LABEL_0"] and 0 < scores(pair)["LABEL_0"] < 1
    assert scores(pair) != scores(alone), "the second text changes the score"
    assert "sigmoid" in note and "text_pair" in note
    assert "'text_pair': 'a cat is an animal'" in code


@pytest.mark.parametrize("function", ["softmax", "sigmoid", "none"])
def test_function_to_apply(course_client, function) -> None:
    label, note, code = course_client.predict("joy", EMOTIONS, 0, "", function, api_name="/classify_text")
    values = list(scores(label).values())
    assert f"**{function}**" in note and "model's own" not in note
    assert f"function_to_apply={function!r}" in code
    if function == "softmax":
        assert sum(values) == pytest.approx(1, abs=1e-5)
    elif function == "sigmoid":
        assert all(0 < v < 1 for v in values)
    else:
        assert any(v < 0 or v > 1 for v in values) or sum(values) != pytest.approx(1, abs=1e-3)


def test_top_k(course_client) -> None:
    label, _, code = course_client.predict("joy", EMOTIONS, 2, api_name="/classify_text")
    assert len(scores(label)) == 2 and "top_k=2" in code


@pytest.mark.parametrize("model", [SENTIMENT, RERANKER])
def test_snippet_reproduces_the_app_and_loads_as_it_did(course_client, test_models, model) -> None:
    label, _, code = course_client.predict(
        "what is a cat", model, 0, "a cat is an animal", "auto", api_name="/classify_text"
    )
    printed = ast.literal_eval(last_line(run_snippet(code, cwd=test_models)))
    assert {r["label"]: r["score"] for r in printed} == pytest.approx(scores(label), abs=1e-5)
    assert call_kwargs(code, "pipeline") == {
        "model": call_kwargs(code, "pipeline")["model"],
        **expected_pipeline_kwargs(loaded_kwargs(course_client, model)),
    }


@pytest.mark.parametrize(
    "args, message",
    [
        (("   ",), "Type a text to classify"),
        (("x" * 10_001,), "too long"),
        (("hello", SENTIMENT, 0, "y" * 10_001), "second text is too long"),
        (("hello", SENTIMENT, 0, "", "relu"), "not one of"),
        (("hello", SENTIMENT, 101), "above the maximum"),
        (("hello", SENTIMENT, 2.5), "top_k must be a whole number"),
        (("hello", "no/such-model"), "not in this app's catalog"),
    ],
)
def test_bad_input(course_client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        course_client.predict(*args, api_name="/classify_text")


# ---- pipelines over a dataset ---------------------------------------------------------------------


def test_csv_dataset_run(course_client, tmp_path) -> None:
    rows = [[i, f"review number {i} was good", "x"] for i in range(40)] + [[40, "", "x"]]
    path = write_csv(tmp_path / "reviews.csv", ["id", "review", "other"], rows)
    summary, table, csv_file = course_client.predict(
        handle_file(str(path)), "review", EMOTIONS, api_name="/classify_dataset"
    )
    assert "40 rows" in summary and "1 empty rows were skipped" in summary
    assert table["headers"] == ["review", "label", "score", "joy", "anger", "sadness", "surprise"]
    assert [row[0] for row in table["data"]] == [r[1] for r in rows if r[1]]
    written = read_csv(csv_file)
    assert written[0] == table["headers"] and len(written) == 41
    for csv_row, row in zip(written[1:], table["data"]):
        assert csv_row[1] == row[1] and float(csv_row[2]) == pytest.approx(row[2])
        assert row[1] == max(zip(row[3:], table["headers"][3:]))[1]


def test_jsonl_and_txt_datasets_find_their_column(course_client, tmp_path) -> None:
    jsonl = write_jsonl(tmp_path / "d.jsonl", [{"text": "good", "n": 1}, {"text": "bad", "n": 2}, {"n": 3}])
    summary, table, _ = course_client.predict(handle_file(str(jsonl)), api_name="/classify_dataset")
    assert table["headers"][:3] == ["text", "label", "score"] and len(table["data"]) == 2 and "1 empty" in summary
    txt = tmp_path / "lines.txt"
    txt.write_text("first line\n\nsecond line\n", encoding="utf-8")
    _, table, _ = course_client.predict(handle_file(str(txt)), api_name="/classify_dataset")
    assert [row[0] for row in table["data"]] == ["first line", "second line"]


def test_dataset_progress_reaches_the_browser(course_app, tmp_path) -> None:
    path = write_csv(tmp_path / "many.csv", ["text"], [[f"text {i}"] for i in range(50)])
    messages = queue_messages(
        course_app.url, "/classify_dataset", [upload(course_app.url, path), "", SENTIMENT, "auto", "", ""]
    )
    descriptions = [unit["desc"] for m in messages if m.get("msg") == "progress" for unit in m["progress_data"] or []]
    rows = [int(d.split()[1].split("/")[0]) for d in descriptions if d.startswith("Rows ")]
    # Gradio samples the latest progress every 0.1 s (the first and last batches may fall between two
    # samples): the browser sees row counts of this file that only grow.
    assert rows and rows == sorted(rows) and all(0 <= row <= 50 for row in rows), descriptions
    assert all(d.endswith("/50") for d in descriptions if d.startswith("Rows ")), descriptions
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"]


@pytest.mark.parametrize(
    "name, content, column, message",
    [
        ("data.xlsx", b"PK\x03\x04", "", "not a CSV, JSONL or TXT file"),
        ("data.csv", b"\xff\xfe\x00b\x00a\x00d", "", "not UTF-8 text"),
        ("data.csv", b"a,b\n1,2\n", "text", "has no column 'text'. Its columns: a, b"),
        ("data.csv", b"a,b\n1,2\n", "", "Pick the text column"),
        ("data.jsonl", b'{"text": "ok"}\n[1, 2]\n', "", "line 2: not a JSON object"),
        ("data.jsonl", b'{"text": "ok"}\n{oops\n', "", "line 2: not a JSON object"),
        ("data.csv", b"text\n", "", "has no rows"),
        ("data.csv", b"text,n\n,1\n  ,2\n", "", "no text in any row"),
    ],
)
def test_bad_dataset(course_client, tmp_path, name, content, column, message) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AppError, match=message):
        course_client.predict(handle_file(str(path)), column, api_name="/classify_dataset")


def test_no_file(course_client) -> None:
    with pytest.raises(AppError, match="Upload a CSV, JSONL or TXT file first"):
        course_client.predict(None, api_name="/classify_dataset")


def test_dataset_limits_from_the_catalog(test_catalog, tmp_path) -> None:
    from conftest import catalog_variant, launch_app

    catalog = catalog_variant(test_catalog, tmp_path / "models.yaml", max_dataset_rows=5, max_dataset_mb=0.001)
    running = launch_app(catalog, tmp_path, "--tabs", "text_classification")
    try:
        client = running.client()
        rows = write_csv(tmp_path / "rows.csv", ["text"], [[f"t{i}"] for i in range(6)])
        with pytest.raises(AppError, match="has 6 rows; the limit is 5"):
            client.predict(handle_file(str(rows)), api_name="/classify_dataset")
        big = tmp_path / "big.txt"
        big.write_text("word " * 400)
        with pytest.raises(AppError, match=r"big.txt is 0.0 MB; the limit for a dataset is 0.001 MB"):
            client.predict(handle_file(str(big)), api_name="/classify_dataset")
    finally:
        running.stop()
