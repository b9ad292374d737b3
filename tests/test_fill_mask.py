"""Fill-mask tab through the launched app on the random-weight test models."""

import csv

import pytest
from gradio_client.exceptions import AppError

BERT, ROBERTA = "BERT MLM (test)", "RoBERTa MLM (test)"


@pytest.mark.parametrize("model,text", [(BERT, "the cat is [MASK] ."), (BERT, "the cat is <mask> ."),
                                        (ROBERTA, "the cat is [MASK] ."), (ROBERTA, "the cat is ___ ."),
                                        (BERT, "the cat is ___ .")])
def test_mask_substitution_and_top_k(client, model, text):
    label, seen, note, code = client.predict(text, model, 3, "", api_name="/fill_mask")
    mask = "<mask>" if model == ROBERTA else "[MASK]"
    assert seen == text.replace("[MASK]", mask).replace("<mask>", mask).replace("___", mask)
    assert len(label["confidences"]) == 3
    assert "fill-mask" in code


def test_targets_respected(client):
    label, _, _, _ = client.predict("the cat is [MASK] .", BERT, 5, "dog, cat", api_name="/fill_mask")
    assert {c["label"] for c in label["confidences"]} == {"dog", "cat"}


@pytest.mark.parametrize("text,msg", [("no mask here", "mask"), ("[MASK] and [MASK]", "one mask"),
                                      ("[MASK] " + "a" * 1001, "limit")])
def test_bad_sentences(client, text, msg):
    with pytest.raises(AppError, match=msg):
        client.predict(text, BERT, 5, "", api_name="/fill_mask")


def test_not_masked_lm(client):
    with pytest.raises(AppError) as err:
        client.predict("the [MASK] .", "Not a masked LM (test)", 5, "", api_name="/fill_mask")
    assert "Not a masked LM (test)" in str(err.value) or "masked" in str(err.value)


def test_compare_bias_numbers_agree(client):
    top, table, csv_path, note, code = client.predict(
        "the {group} is a [MASK] .\na {group} was [MASK] .", "he, she", BERT, "dog, cat", 3, api_name="/compare_bias")
    assert len(top["data"]) == 4
    assert {row[0] for row in table["data"]} == {"dog", "cat"}
    with open(csv_path, encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle) if r[0] == "target"]
    for row, csv_row in zip(table["data"], rows):
        assert [str(v) for v in row] == csv_row[1:]
    for row in table["data"]:
        assert abs(row[-1]) >= 0
    assert "not a measure of harm" in note


@pytest.mark.parametrize("templates,groups,msg", [("the man is [MASK] .", "he, she", "group"),
                                                  ("the {group} is [MASK] .", "he", "2 groups"),
                                                  ("the {group} is good .", "he, she", "mask")])
def test_compare_bias_errors(client, templates, groups, msg):
    with pytest.raises(AppError, match=msg):
        client.predict(templates, groups, BERT, "", 3, api_name="/compare_bias")
