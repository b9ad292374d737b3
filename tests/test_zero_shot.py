"""The zero-shot tab through the running app: NLI and embedding text models, batch CSV, CLIP, bad input."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from snippets import last_line, run_snippet

NLI = "NLI classifier (test)"
MINILM = "MiniLM sentence embeddings"
CLIP = "CLIP (test)"


def _scores(label: dict) -> dict[str, float]:
    return {c["label"]: c["confidence"] for c in label["confidences"]}


@pytest.mark.parametrize("model", [NLI, MINILM])
@pytest.mark.parametrize("multi_label", [False, True])
def test_text_scores(client, model, multi_label) -> None:
    label, table, csv_file, code = client.predict(
        "The match ended in a draw.",
        model,
        "sport, politics\ncooking",
        "This text is about {}.",
        multi_label,
        False,
        api_name="/zero_shot_text",
    )
    scores = _scores(label)
    assert set(scores) == {"sport", "politics", "cooking"}
    values = list(scores.values())
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 for v in values)
    if not multi_label:
        assert sum(values) == pytest.approx(1.0, abs=1e-4)
    assert csv_file is None
    assert "This text is about {}." in code


def test_minilm_real_semantics(client) -> None:
    label, *_ = client.predict(
        "I loved this film",
        MINILM,
        "positive, negative",
        "This example is {}.",
        False,
        False,
        api_name="/zero_shot_text",
    )
    scores = _scores(label)
    assert scores["positive"] > scores["negative"]
    label, *_ = client.predict(
        "Manchester United won the football match 3-1 with a late goal",
        MINILM,
        "sport, politics, cooking",
        "This example is about {}.",
        False,
        False,
        api_name="/zero_shot_text",
    )
    assert label["label"] == "sport"


def test_batch_csv_matches_table(client) -> None:
    texts = ["The team won the cup.", "", "Parliament passed the budget.", "Stir the soup slowly."]
    label, table, csv_file, code = client.predict(
        "\n".join(texts),
        MINILM,
        "sport, politics, cooking",
        "This example is about {}.",
        False,
        True,
        api_name="/zero_shot_text",
    )
    assert table["headers"] == ["text", "top_label", "sport", "politics", "cooking"]
    rows = table["data"]
    assert [r[0] for r in rows] == [t for t in texts if t]
    with open(csv_file, newline="", encoding="utf-8") as handle:
        written = list(csv.reader(handle))
    assert written[0] == table["headers"]
    for csv_row, row in zip(written[1:], rows):
        assert csv_row[:2] == [str(row[0]), str(row[1])]
        assert [float(x) for x in csv_row[2:]] == pytest.approx([float(x) for x in row[2:]], abs=1e-6)
        assert row[1] == max(zip(row[2:], table["headers"][2:]))[1]


def test_image(client, tmp_path) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 50, 4), dtype=np.uint8), "RGBA").save(path)
    label, code = client.predict(
        handle_file(str(path)), CLIP, "cat, dog, car", "a photo of a {}.", api_name="/zero_shot_image"
    )
    scores = _scores(label)
    assert set(scores) == {"cat", "dog", "car"}
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert "zero-shot-image-classification" in code


@pytest.mark.parametrize(
    "text, labels, template, message",
    [
        ("   ", "a, b", "{}.", "enter some text"),
        ("hello", " , \n ", "{}.", "at least one label"),
        ("hello", "a, b, A", "{}.", "more than once"),
        ("hello", "a, b", "no placeholder", "must contain {}"),
        ("hello", ", ".join(f"l{i}" for i in range(101)), "{}.", "Too many labels"),
    ],
)
def test_bad_text_input(client, text, labels, template, message) -> None:
    with pytest.raises(AppError, match=message.replace("{}", r"\{\}")):
        client.predict(text, NLI, labels, template, False, False, api_name="/zero_shot_text")


def test_bad_image_input(client, tmp_path) -> None:
    with pytest.raises(AppError, match="provide an image"):
        client.predict(None, CLIP, "a, b", "a photo of a {}.", api_name="/zero_shot_image")
    junk = tmp_path / "junk.jpg"
    junk.write_text("not really a jpeg")
    with pytest.raises(AppError, match="not an image"):
        client.predict(handle_file(str(junk)), CLIP, "a, b", "a photo of a {}.", api_name="/zero_shot_image")
    good = tmp_path / "ok.png"
    Image.new("RGB", (20, 20)).save(good)
    with pytest.raises(AppError, match="more than once"):
        client.predict(handle_file(str(good)), CLIP, "a, a", "a photo of a {}.", api_name="/zero_shot_image")


@pytest.mark.parametrize("template", ["{} or {}", "about {topic}", "a { b {}"])
def test_template_needs_exactly_one_placeholder(client, template) -> None:
    with pytest.raises(AppError, match=r"must contain \{\} exactly once"):
        client.predict("hello", NLI, "a, b", template, False, False, api_name="/zero_shot_text")


def test_hundreds_of_labels_and_blank_entries(client, tmp_path) -> None:
    with pytest.raises(AppError, match="Too many labels: 300. The limit is 100"):
        client.predict(
            "hello", MINILM, ", ".join(f"l{i}" for i in range(300)), "{}.", False, False, api_name="/zero_shot_text"
        )
    path = tmp_path / "a.png"
    Image.new("RGB", (20, 20)).save(path)
    with pytest.raises(AppError, match="Too many labels"):
        client.predict(
            handle_file(str(path)),
            CLIP,
            "\n".join(f"l{i}" for i in range(300)),
            "a photo of a {}.",
            api_name="/zero_shot_image",
        )
    # Blank entries (a trailing comma, an empty line) are skipped, not labels.
    label, *_ = client.predict(
        "hello", MINILM, "sport,, politics,\n\n", "{}.", False, False, api_name="/zero_shot_text"
    )
    assert set(_scores(label)) == {"sport", "politics"}


@pytest.mark.parametrize("model", [NLI, MINILM])
@pytest.mark.parametrize("multi_label", [False, True])
def test_text_snippet_reproduces_the_app(client, test_models, model, multi_label) -> None:
    import ast

    label, _, _, code = client.predict(
        "The match ended in a draw.",
        model,
        "sport, politics, cooking",
        "This text is about {}.",
        multi_label,
        False,
        api_name="/zero_shot_text",
    )
    printed = ast.literal_eval(last_line(run_snippet(code, cwd=test_models)))
    if model == NLI:
        printed = dict(zip(printed["labels"], printed["scores"]))
    assert printed == pytest.approx(_scores(label), abs=1e-4)


def test_image_snippet_reproduces_the_app(client, test_models, tmp_path) -> None:
    import ast

    path = test_models / "your_image.jpg"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(path, quality=95)
    label, code = client.predict(
        handle_file(str(path)), CLIP, "cat, dog, car", "a photo of a {}.", api_name="/zero_shot_image"
    )
    printed = {r["label"]: r["score"] for r in ast.literal_eval(last_line(run_snippet(code, cwd=test_models)))}
    assert printed == pytest.approx(_scores(label), abs=1e-5)


def test_image_examples_are_clickable(app) -> None:
    import json
    import urllib.request

    from playground.media.images import EXAMPLES_DIR

    with urllib.request.urlopen(app.url + "config", timeout=10) as response:
        config = json.load(response)
    samples = json.dumps([c["props"]["samples"] for c in config["components"] if c.get("type") == "dataset"])
    assert "circle, triangle, house" in samples and "red_circle.png" in samples and EXAMPLES_DIR.is_dir()


def test_snippets_load_the_model_as_the_app_did(client, tmp_path) -> None:
    from snippet_calls import adapter_load, app_load_kwargs, from_pretrained_load, pipeline_loads

    *_, code = client.predict("hello", NLI, "a, b", "{}.", False, False, api_name="/zero_shot_text")
    assert pipeline_loads(code) == {"./nli": app_load_kwargs(client, NLI)}
    *_, code = client.predict("hello", MINILM, "a, b", "{}.", False, False, api_name="/zero_shot_text")
    assert from_pretrained_load(code) == adapter_load(app_load_kwargs(client, MINILM))
    path = tmp_path / "a.png"
    Image.new("RGB", (20, 20)).save(path)
    _, code = client.predict(handle_file(str(path)), CLIP, "a, b", "a photo of a {}.", api_name="/zero_shot_image")
    assert pipeline_loads(code) == {"./clip": app_load_kwargs(client, CLIP)}


# ---- over a dataset (/zero_shot_text_dataset) ------------------------------------------------------


@pytest.mark.parametrize("model", [NLI, MINILM])
@pytest.mark.parametrize("multi_label", [False, True])
def test_dataset_csv_rows_match_the_single_text_scores(client, tmp_path, model, multi_label) -> None:
    from course_helpers import read_csv, write_csv

    texts = [f"The match number {i} ended in a draw." for i in range(17)]  # more than one batch of 16
    path = write_csv(tmp_path / "news.csv", ["id", "headline"], [[i, t] for i, t in enumerate(texts)] + [[17, ""]])
    labels = "sport, politics\ncooking"
    summary, table, csv_file = client.predict(
        handle_file(str(path)),
        "headline",
        model,
        labels,
        "This text is about {}.",
        multi_label,
        api_name="/zero_shot_text_dataset",
    )
    assert table["headers"] == ["headline", "best_label", "score", "sport", "politics", "cooking"]
    assert "17 rows" in summary and "1 empty rows were skipped" in summary
    rows = table["data"]
    assert [row[0] for row in rows] == texts
    label, *_ = client.predict(
        texts[16], model, labels, "This text is about {}.", multi_label, False, api_name="/zero_shot_text"
    )
    single = _scores(label)
    assert rows[16][1] == next(iter(single)) and rows[16][2] == pytest.approx(single[rows[16][1]], abs=1e-4)
    assert rows[16][3:] == pytest.approx([single[name] for name in ("sport", "politics", "cooking")], abs=1e-4)
    for row in rows:
        assert row[1] == max(zip(row[3:], table["headers"][3:]))[1] and row[2] == max(row[3:])
        if not multi_label:
            assert sum(row[3:]) == pytest.approx(1, abs=1e-4)
    written = read_csv(csv_file)
    assert written[0] == table["headers"] and len(written) == 1 + len(rows)
    assert written[1][1] == rows[0][1] and float(written[1][2]) == pytest.approx(rows[0][2])


def test_dataset_jsonl_and_txt(client, tmp_path) -> None:
    from course_helpers import write_jsonl

    jsonl = write_jsonl(tmp_path / "d.jsonl", [{"text": "I loved it", "stars": 5}, {"stars": 1}])
    summary, table, _ = client.predict(
        handle_file(str(jsonl)), labels="positive, negative", api_name="/zero_shot_text_dataset"
    )
    assert table["headers"] == ["text", "best_label", "score", "positive", "negative"] and len(table["data"]) == 1
    assert "1 empty" in summary
    txt = tmp_path / "lines.txt"
    txt.write_text("first line\n\nsecond line\n", encoding="utf-8")
    _, table, _ = client.predict(handle_file(str(txt)), model=NLI, labels="a, b", api_name="/zero_shot_text_dataset")
    assert [row[0] for row in table["data"]] == ["first line", "second line"]


def test_dataset_progress_reaches_the_browser(app, tmp_path) -> None:
    from api_helpers import upload
    from course_helpers import queue_messages, write_csv

    path = write_csv(tmp_path / "many.csv", ["text"], [[f"text {i}"] for i in range(40)])
    messages = queue_messages(
        app.url,
        "/zero_shot_text_dataset",
        [upload(app.url, path), "", NLI, "a, b", "This example is {}.", False, "", ""],
    )
    descriptions = [unit["desc"] for m in messages if m.get("msg") == "progress" for unit in m["progress_data"] or []]
    rows = [int(d.split()[1].split("/")[0]) for d in descriptions if d.startswith("Rows ")]
    assert rows and rows == sorted(rows) and all(d.endswith("/40") for d in descriptions if d.startswith("Rows ")), (
        descriptions
    )
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"]


@pytest.mark.parametrize(
    "name, content, args, message",
    [
        ("data.pdf", b"%PDF-1.4", {"labels": "a, b"}, "not a CSV, JSONL or TXT file"),
        (
            "data.csv",
            b"a,b\n1,2\n",
            {"labels": "a, b", "column": "text"},
            "data.csv has no column 'text'. Its columns: a, b",
        ),
        ("data.csv", b"a,b\n1,2\n", {"labels": "a, b"}, "Pick the text column"),
        ("data.txt", b"hello\n", {"labels": " , "}, "Please enter at least one label"),
        ("data.txt", b"hello\n", {"labels": "a, b", "model": CLIP}, "cannot classify text"),
        ("data.txt", b"hello\n", {"labels": "a, b", "hypothesis_template": "no slot"}, "must contain {} exactly once"),
    ],
)
def test_dataset_bad_input(client, tmp_path, name, content, args, message) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AppError, match=message):
        client.predict(handle_file(str(path)), **args, api_name="/zero_shot_text_dataset")


def test_dataset_in_korean(app, tmp_path) -> None:
    from gradio_client import Client

    korean = Client(app.url, verbose=False, headers={"Accept-Language": "ko"})
    path = tmp_path / "rows.txt"
    path.write_text("좋아요\n싫어요\n", encoding="utf-8")
    summary, table, _ = korean.predict(
        handle_file(str(path)), model=NLI, labels="긍정, 부정", api_name="/zero_shot_text_dataset"
    )
    assert "2행" in summary and table["headers"][-2:] == ["긍정", "부정"]
    with pytest.raises(AppError, match="레이블을 하나 이상"):
        korean.predict(handle_file(str(path)), labels="", api_name="/zero_shot_text_dataset")
    with pytest.raises(AppError, match="오프라인"):
        korean.predict(None, labels="a, b", hub_dataset="org/tiny", api_name="/zero_shot_text_dataset")
