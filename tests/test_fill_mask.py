"""Fill-mask tab through the launched app on the random-weight test models."""

from __future__ import annotations

import ast
import csv
import math
from collections import defaultdict

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from snippets import run_snippet

BERT, ROBERTA, NOT_MLM = "BERT MLM (test)", "RoBERTa MLM (test)", "Not a masked LM (test)"


def _scores(label: dict) -> dict[str, float]:
    return {c["label"]: c["confidence"] for c in label["confidences"]}


@pytest.mark.parametrize(
    "model,text",
    [
        (BERT, "the cat is [MASK] ."),
        (BERT, "the cat is <mask> ."),
        (ROBERTA, "the cat is [MASK] ."),
        (ROBERTA, "the cat is ___ ."),
        (BERT, "the cat is ___ ."),
        (ROBERTA, "the cat is <mask> ."),
    ],
)
def test_mask_substitution_and_top_k(client, model, text):
    label, seen, note, code = client.predict(text, model, 3, "", api_name="/fill_mask")
    mask = "<mask>" if model == ROBERTA else "[MASK]"
    assert seen == "the cat is " + mask + " ."
    values = list(_scores(label).values())
    assert len(values) == 3 and values == sorted(values, reverse=True) and all(0 <= v <= 1 for v in values)
    assert note == "" and "fill-mask" in code and "top_k=3" in code


@pytest.mark.parametrize("model", [BERT, ROBERTA])
def test_targets_respected_and_outside_the_top_k(client, model):
    label, _, note, _ = client.predict("the cat is [MASK] .", model, 50, "", api_name="/fill_mask")
    full = _scores(label)
    rare = list(full)[-1]  # 50th: far from a top-3 list, still scored when named as a target
    label, _, note, code = client.predict("the cat is [MASK] .", model, 3, f"dog, {rare}", api_name="/fill_mask")
    scores = _scores(label)
    assert set(scores) == {"dog", rare}
    if model == BERT:  # BPE lists "her" and "Ġher" alike once decoded; WordPiece has one token per word
        assert scores[rare] == pytest.approx(full[rare], rel=1e-4)
    assert note == ""
    assert "targets=[' dog'" in code


def test_multi_token_target_is_explained(client):
    label, _, note, _ = client.predict("the cat is [MASK] .", BERT, 5, "dog, zebra", api_name="/fill_mask")
    assert set(_scores(label)) == {"dog", "zebra"}
    assert "zebra" in note and "first piece" in note and "'z'" in note and "dog" not in note


@pytest.mark.parametrize(
    "text,msg",
    [
        ("   ", "Write a sentence first"),
        ("no mask here", r"Write a mask in the sentence.*\[MASK\]"),
        ("[MASK] and [MASK]", "Exactly one mask per sentence is supported; found 2"),
        ("[MASK] and ___", "found 2"),
        ("[MASK] " + "a " * 3000, "characters; the limit is 5000"),
        ("[MASK]" + " ." * 600, "this model reads at most 512"),
    ],
)
def test_bad_sentences(client, text, msg):
    with pytest.raises(AppError, match=msg):
        client.predict(text, BERT, 5, "", api_name="/fill_mask")


def test_not_masked_lm(client):
    with pytest.raises(AppError, match=r"Not a masked LM \(test\) is not a masked language model"):
        client.predict("the [MASK] .", NOT_MLM, 5, "", api_name="/fill_mask")
    with pytest.raises(AppError, match="is not a masked language model"):
        client.predict("the {group} is [MASK] .", "he, she", BERT, "", 3, [BERT, NOT_MLM], api_name="/compare_bias")
    assert client.predict("the [MASK] .", BERT, 2, "", api_name="/fill_mask")[1] == "the [MASK] ."  # still serving


TEMPLATES = "the {group} is a [MASK] .\na {group} was <mask> .\n{group} worked as a ___ ."
GROUPS = "he, she, they"


@pytest.fixture(scope="module")
def comparison(client):
    return client.predict(TEMPLATES, GROUPS, BERT, "dog, cat, zebra", 3, [BERT, ROBERTA], api_name="/compare_bias")


def test_compare_side_by_side_per_model(comparison):
    top, table, csv_path, note, code, heatmap = comparison
    assert top["headers"] == ["model", "template", "he", "she", "they"]
    assert [(row[0], row[1]) for row in top["data"]] == [
        (m, t) for m in (BERT, ROBERTA) for t in TEMPLATES.splitlines()
    ]
    for row in top["data"]:
        for cell in row[2:]:
            assert len(cell.split("), ")) == 3  # top_k=3 words per group
    assert {row[0] for row in table["data"]} == {BERT, ROBERTA}
    assert {row[1] for row in table["data"]} == {"dog", "cat", "zebra"}
    assert "not a measure of harm" in note and "averaged over 3 template(s)" in note
    assert "zebra" in note  # several pieces in both test vocabularies: explained


def test_compare_numbers_agree(comparison):
    top, table, csv_path, note, code, heatmap = comparison
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    per_template = defaultdict(list)
    for row in rows:
        if row["kind"] == "target":
            per_template[(row["model"], row["word"], row["group"])].append(float(row["value"]))
    means = {
        (r["model"], r["word"], r["group"]): (float(r["value"]), float(r["spread"]))
        for r in rows
        if r["kind"] == "target_mean"
    }
    groups = GROUPS.split(", ")
    headers = table["headers"]
    assert headers[2:] == [
        "he mean",
        "he spread",
        "she mean",
        "she spread",
        "they mean",
        "they spread",
        "log2 p(he)/p(she)",
        "log2 p(he)/p(they)",
        "skew log2 max/min",
    ]
    assert len(table["data"]) == 6 and len(heatmap["data"]) == 6
    for row, hot in zip(table["data"], heatmap["data"]):
        model, target = row[0], row[1]
        assert hot[:2] == [model, target]  # same rows, same most-skewed-first order
        for i, group in enumerate(groups):
            values = per_template[(model, target, group)]
            assert len(values) == 3
            mean, spread = row[2 + 2 * i], row[3 + 2 * i]
            assert mean == pytest.approx(sum(values) / 3, rel=1e-9)
            assert (mean, spread) == pytest.approx(means[(model, target, group)], rel=1e-9)
            assert hot[2 + i] == pytest.approx(mean, rel=1e-9)
        for j, _other in enumerate(groups[1:]):
            expected = math.log2(row[2] / row[4 + 2 * j])
            assert row[8 + j] == pytest.approx(expected, abs=1e-9) and hot[5 + j] == pytest.approx(expected, abs=1e-9)
        assert row[-1] == pytest.approx(math.log2(max(row[2:8:2]) / min(row[2:8:2])), abs=1e-9)
    skews = [row[-1] for row in table["data"]]
    assert skews == sorted(skews, reverse=True)
    # The heatmap is coloured and shows readable numbers.
    assert all(style.startswith("background-color") for style in heatmap["metadata"]["styling"][0][2:])
    assert len(heatmap["metadata"]["display_value"]) == 6
    top_rows = [r for r in rows if r["kind"] == "top_k"]
    assert len(top_rows) == 2 * 3 * 3 * 3  # models x templates x groups x top_k
    first = top["data"][0]
    shown = first[2].split("), ")[0]
    csv_first = next(
        r
        for r in top_rows
        if r["model"] == first[0] and r["template"] == first[1] and r["group"] == "he" and r["rank"] == "1"
    )
    assert shown == f"{csv_first['word']} ({float(csv_first['value']):.3f}"


def test_compare_targets_match_fill_mask(client, comparison):
    """A target's per-template number is what /fill_mask gives for that sentence and word."""
    _, _, csv_path, _, _, _ = comparison
    with open(csv_path, encoding="utf-8", newline="") as handle:
        row = next(
            r for r in csv.DictReader(handle) if r["kind"] == "target" and r["model"] == ROBERTA and r["word"] == "cat"
        )
    sentence = row["template"].replace("{group}", row["group"])
    label, *_ = client.predict(sentence, ROBERTA, 5, "dog, cat", api_name="/fill_mask")
    assert _scores(label)["cat"] == pytest.approx(float(row["value"]), rel=1e-5)


def test_old_single_model_call_still_works(client):
    top, table, csv_path, note, code, heatmap = client.predict(
        "the {group} is a [MASK] .", "man, woman", BERT, "", 2, api_name="/compare_bias"
    )
    assert [row[0] for row in top["data"]] == [BERT]
    assert (
        table["data"] == [[""] * len(table["headers"])] and heatmap["data"] in ([], [[]]) or not heatmap["data"][0][0]
    )
    assert "log2 p(man)/p(woman)" in table["headers"]


@pytest.mark.parametrize(
    "templates,groups,msg",
    [
        ("the man is [MASK] .", "he, she", r"has no \{group\} slot"),
        ("the {group} is [MASK] .", "", "at least 2 groups"),
        ("the {group} is [MASK] .", " , ", "at least 2 groups"),
        ("the {group} is [MASK] .", "he", "at least 2 groups"),
        ("the {group} is [MASK] .", "he, she, He", "more than once: He"),
        ("", "he, she", "at least one template"),
        ("the {group} is good .", "he, she", "Write a mask"),
        ("the {group} is [MASK] and [MASK] .", "he, she", "found 2"),
        ("the {group} is [MASK]" + " ." * 600, "he, she", "at most 512"),
    ],
)
def test_compare_bias_errors(client, templates, groups, msg):
    with pytest.raises(AppError, match=msg):
        client.predict(templates, groups, BERT, "", 3, api_name="/compare_bias")


@pytest.mark.parametrize("model,targets", [(BERT, ""), (ROBERTA, "dog, cat")])
def test_fill_mask_snippet_reproduces_the_app(client, test_models, model, targets):
    label, _, _, code = client.predict("the cat is ___ .", model, 4, targets, api_name="/fill_mask")
    printed = ast.literal_eval(run_snippet(code, cwd=test_models).strip().splitlines()[-1])
    scores = _scores(label)
    assert sorted(r["score"] for r in printed) == pytest.approx(sorted(scores.values()), rel=1e-5)
    if not targets:
        assert [r["token_str"].strip() for r in printed] == list(scores)


def test_compare_snippet_reproduces_the_app(comparison, test_models):
    top, table, csv_path, note, code, heatmap = comparison
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    app_targets = {
        (r["model"], r["template"], r["group"], r["word"]): float(r["value"]) for r in rows if r["kind"] == "target"
    }
    app_top = {
        (r["model"], r["template"], r["group"], int(r["rank"])): float(r["value"]) for r in rows if r["kind"] == "top_k"
    }
    labels = {"./bert-mlm": BERT, "./roberta-mlm": ROBERTA}
    printed_targets, printed_top = {}, defaultdict(list)
    for line in run_snippet(code, cwd=test_models).splitlines():
        model, sentence, kind, rest = [part.strip() for part in line.split("|")]
        word, score = rest.rsplit(" ", 1)
        if kind == "target":
            printed_targets[(labels[model], sentence, word)] = float(score)
        else:
            printed_top[(labels[model], sentence)].append(float(score))
    mask = {BERT: "[MASK]", ROBERTA: "<mask>"}
    assert len(printed_targets) == len(app_targets) == 2 * 3 * 3 * 3
    import re

    for (model, template, group, word), value in app_targets.items():
        sentence = re.sub(r"\[MASK\]|<mask>|_{3,}", mask[model], template.replace("{group}", group))
        assert printed_targets[(model, sentence, word)] == pytest.approx(value, rel=1e-5)
    for (model, template, group, rank), value in app_top.items():
        sentence = re.sub(r"\[MASK\]|<mask>|_{3,}", mask[model], template.replace("{group}", group))
        assert printed_top[(model, sentence)][rank - 1] == pytest.approx(value, rel=1e-5)


def test_snippets_load_the_model_as_the_app_did(client, comparison):
    from snippet_calls import app_load_kwargs, pipeline_loads

    *_, code = client.predict("the cat is [MASK] .", BERT, 3, "", api_name="/fill_mask")
    assert pipeline_loads(code) == {"./bert-mlm": app_load_kwargs(client, BERT)}
    *_, code = client.predict("the cat is [MASK] .", ROBERTA, 3, "dog", api_name="/fill_mask")
    assert pipeline_loads(code) == {"./roberta-mlm": app_load_kwargs(client, ROBERTA)}
    code = comparison[4]  # both models, each loaded as the app loaded it
    assert pipeline_loads(code) == {
        "./bert-mlm": app_load_kwargs(client, BERT),
        "./roberta-mlm": app_load_kwargs(client, ROBERTA),
    }


# ---- over a dataset (/fill_mask_dataset) ---------------------------------------------------------


def test_dataset_csv_rows_match_fill_mask_and_bad_rows_get_a_note(client, tmp_path):
    from course_helpers import read_csv, write_csv

    sentences = [f"the cat number {i} is [MASK] ." for i in range(18)]  # more than one batch of 16
    rows = [[i, s] for i, s in enumerate(sentences)] + [[18, "no blank here"], [19, "[MASK] and ___"], [20, ""]]
    path = write_csv(tmp_path / "sentences.csv", ["id", "sentence"], rows)
    summary, table, csv_file = client.predict(
        handle_file(str(path)), "sentence", BERT, 3, api_name="/fill_mask_dataset"
    )
    assert table["headers"] == [
        "sentence",
        "sentence",
        "token_1",
        "score_1",
        "token_2",
        "score_2",
        "token_3",
        "score_3",
        "note",
    ]
    assert "20 rows" in summary and "1 empty rows were skipped" in summary and "2 rows were not filled" in summary
    data = table["data"]
    assert [row[0] for row in data] == sentences + ["no blank here", "[MASK] and ___"]
    label, *_ = client.predict(sentences[17], BERT, 3, "", api_name="/fill_mask")
    single = _scores(label)
    assert data[17][2::2][:3] == list(single) and data[17][3::2][:3] == pytest.approx(list(single.values()), abs=1e-5)
    assert all(row[-1] == "" and row[1] == row[0] for row in data[:18])
    assert "Write a mask in the sentence" in data[18][-1] and "found 2" in data[19][-1]
    assert data[18][1] in (None, "") and all(cell in (None, "") for cell in data[18][2:-1])
    written = read_csv(csv_file)
    assert written[0] == table["headers"] and len(written) == 1 + len(data)
    assert written[1][2] == data[0][2] and float(written[1][3]) == pytest.approx(data[0][3])


def test_dataset_jsonl_roberta_gets_its_own_mask(client, tmp_path):
    from course_helpers import write_jsonl

    path = write_jsonl(
        tmp_path / "d.jsonl", [{"text": "the cat is [MASK] .", "n": 1}, {"text": "the dog is ___ .", "n": 2}]
    )
    summary, table, _ = client.predict(handle_file(str(path)), model=ROBERTA, api_name="/fill_mask_dataset")
    assert table["headers"][:3] == ["text", "sentence", "token_1"] and len(table["headers"]) == 2 + 2 * 5 + 1
    assert [row[1] for row in table["data"]] == ["the cat is <mask> .", "the dog is <mask> ."]
    assert "2 rows" in summary and "not filled" not in summary


def test_dataset_progress_reaches_the_browser(app, tmp_path):
    from api_helpers import upload
    from course_helpers import queue_messages, write_csv

    path = write_csv(tmp_path / "many.csv", ["text"], [[f"row {i} is [MASK] ."] for i in range(40)])
    messages = queue_messages(app.url, "/fill_mask_dataset", [upload(app.url, path), "", BERT, 2, "", ""])
    descriptions = [unit["desc"] for m in messages if m.get("msg") == "progress" for unit in m["progress_data"] or []]
    rows = [int(d.split()[1].split("/")[0]) for d in descriptions if d.startswith("Rows ")]
    assert rows and rows == sorted(rows) and all(d.endswith("/40") for d in descriptions if d.startswith("Rows ")), (
        descriptions
    )
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"]


@pytest.mark.parametrize(
    "name, content, args, message",
    [
        ("data.xlsx", b"PK\x03\x04", {}, "not a CSV, JSONL or TXT file"),
        ("data.csv", b"a,b\n1,2\n", {"column": "text"}, "data.csv has no column 'text'. Its columns: a, b"),
        ("data.txt", b"the cat is [MASK] .\n", {"top_k": 0}, "top_k: 0 is below the minimum of 1"),
        ("data.txt", b"the cat is [MASK] .\n", {"model": NOT_MLM}, "is not a masked language model"),
        ("data.txt", b"the cat is [MASK] .\n", {"hub_dataset": "org/tiny"}, "Give either a file or a Hub dataset"),
    ],
)
def test_dataset_bad_input(client, tmp_path, name, content, args, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AppError, match=message):
        client.predict(handle_file(str(path)), **args, api_name="/fill_mask_dataset")


def test_dataset_messages_in_korean(app, tmp_path):
    from gradio_client import Client

    korean = Client(app.url, verbose=False, headers={"Accept-Language": "ko"})
    path = tmp_path / "rows.txt"
    path.write_text("the cat is [MASK] .\nno blank\n", encoding="utf-8")
    summary, table, _ = korean.predict(handle_file(str(path)), model=BERT, top_k=1, api_name="/fill_mask_dataset")
    assert "2행" in summary and "1개 행은 채우지 못했습니다" in summary
    assert "문장에 마스크를 쓰세요" in table["data"][1][-1]
    with pytest.raises(AppError, match="열이 없습니다"):
        korean.predict(handle_file(str(path)), "sentence", api_name="/fill_mask_dataset")


@pytest.mark.parametrize(
    "hub_dataset, message",
    [
        ("org/tiny", r"The app is offline \(HF_HUB_OFFLINE=1\), so it cannot read org/tiny \(train\)"),
        ("/etc/passwd", "is not a Hub dataset id"),
        ("https://huggingface.co/datasets/org/tiny", "Paths and URLs are not accepted"),
        ("../org", "is not a Hub dataset id"),
        ("assets/examples", r"The app is offline"),  # a server folder's name is still only a Hub id
    ],
)
def test_hub_dataset_refused_here(client, hub_dataset, message):
    with pytest.raises(AppError, match=message):
        client.predict(None, hub_dataset=hub_dataset, api_name="/fill_mask_dataset")


def test_the_comparison_tables_wait_hidden_for_their_headers(app):  # noqa: ANN001
    """Before a first comparison an empty table would show Gradio's placeholder headers (1 2 3): the
    tables start hidden, and a result (with the groups as headers) shows them."""
    import json
    import urllib.request

    with urllib.request.urlopen(app.url + "config", timeout=10) as response:
        components = json.load(response)["components"]
    keys = ("fill_mask.top_table", "fill_mask.heatmap", "fill_mask.target_table")
    tables = [
        c for c in components if c["type"] == "dataframe" and any(k in str(c["props"].get("label")) for k in keys)
    ]
    assert len(tables) == 3 and not any(table["props"].get("visible", True) for table in tables)
