"""Extractive QA (the visual QA tab's "Text" sub-tab) through the launched app: answers that are
exact characters of the context, long contexts read in overlapping windows, "no answer", the
AutoModel snippet, and bad input."""

from __future__ import annotations

import ast
import re

import pytest
from course_helpers import call_kwargs, expected_from_pretrained_kwargs, loaded_kwargs
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet

DISTILBERT = "QA DistilBERT (test)"
ROBERTA = "QA RoBERTa (test)"
QUESTION = "Where do I work?"
CONTEXT = "My name is Sylvain and I work at Hugging Face in Brooklyn."
# Accents, an emoji (outside the Basic Multilingual Plane) and Korean: offsets must still be characters.
WIDE_CONTEXT = (
    "Je m'appelle Sylvain 🤗 et je travaille chez Hugging Face à Brooklyn. 저는 서울에서 일합니다, très bien."
)
LONG_CONTEXT = " ".join(
    f"Paragraph {i}: my name is Sylvain and I work at Hugging Face in Brooklyn." for i in range(150)
)


def check_spans(context: str, answers: list[dict]) -> None:
    for answer in answers:
        assert context[answer["start"] : answer["end"]] == answer["answer"], answer
        if answer["answer"]:
            assert answer["answer"] == answer["answer"].strip() and answer["start"] < answer["end"]


@pytest.mark.parametrize("model", [DISTILBERT, ROBERTA])
@pytest.mark.parametrize("context", [CONTEXT, WIDE_CONTEXT], ids=["ascii", "wide"])
def test_answers_are_characters_of_the_context(course_client, model, context) -> None:
    highlighted, answers, note, _ = course_client.predict(
        QUESTION, context, model, 5, 30, False, api_name="/answer_question"
    )
    assert len(answers) == 5
    check_spans(context, answers)
    scores = [a["score"] for a in answers]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert len({(a["start"], a["end"]) for a in answers}) == 5, "one answer per span"
    assert "one window" in note
    pieces = [(p["token"], p["class_or_confidence"]) for p in highlighted]
    assert "".join(text for text, _ in pieces) == context
    assert (answers[0]["answer"], "#1") in pieces


def test_question_and_context_alone(course_client) -> None:
    _, answers, _, code = course_client.predict(QUESTION, CONTEXT, api_name="/answer_question")
    assert len(answers) == 1 and "AutoModelForQuestionAnswering" in code
    check_spans(CONTEXT, answers)


@pytest.mark.parametrize("model", [DISTILBERT, ROBERTA])
def test_long_context_is_read_in_overlapping_windows(course_client, test_models, model) -> None:
    from transformers import AutoTokenizer

    _, answers, note, _ = course_client.predict(
        QUESTION, LONG_CONTEXT, model, 10, 30, False, api_name="/answer_question"
    )
    count, window, stride = map(
        int, re.search(r"in (\d+) windows of (\d+) tokens that overlap by (\d+)", note).groups()
    )
    folder = "distilbert-qa" if model == DISTILBERT else "roberta-qa"
    tokenizer = AutoTokenizer.from_pretrained(test_models / folder)
    windows = tokenizer(
        QUESTION,
        LONG_CONTEXT,
        truncation="only_second",
        max_length=window,
        stride=stride,
        return_overflowing_tokens=True,
    )["input_ids"]
    assert (window, stride) == (384, 128) and count == len(windows) > 1
    check_spans(LONG_CONTEXT, answers)
    assert {a["window"] for a in answers} <= set(range(count))
    assert (
        max(a["end"] for a in answers) > len(LONG_CONTEXT) // 2 or len({a["window"] for a in answers}) > 1 or count > 1
    )


def test_no_answer_is_offered_when_allowed(course_client) -> None:
    short = "Sylvain works in Brooklyn."  # fewer than 20 spans: "no answer" is among the top 20 whatever its score
    _, answers, _, code = course_client.predict(QUESTION, short, DISTILBERT, 20, 30, True, api_name="/answer_question")
    empty = [a for a in answers if a["answer"] == ""]
    assert len(empty) == 1 and empty[0]["start"] == empty[0]["end"] == 0 and empty[0]["window"] == -1
    assert "no_answer" in code
    _, answers, _, _ = course_client.predict(QUESTION, short, DISTILBERT, 20, 30, False, api_name="/answer_question")
    assert answers and all(a["answer"] for a in answers)


def test_max_answer_length(course_client, test_models) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(test_models / "distilbert-qa")
    _, answers, _, _ = course_client.predict(QUESTION, CONTEXT, DISTILBERT, 20, 2, False, api_name="/answer_question")
    assert answers and all(len(tokenizer(a["answer"], add_special_tokens=False)["input_ids"]) <= 2 for a in answers)


@pytest.mark.parametrize(
    "model, context, allow",
    [(DISTILBERT, CONTEXT, True), (ROBERTA, LONG_CONTEXT, False)],
    ids=["distilbert-short", "roberta-long"],
)
def test_snippet_reproduces_the_app_and_loads_as_it_did(course_client, test_models, model, context, allow) -> None:
    _, answers, _, code = course_client.predict(QUESTION, context, model, 3, 30, allow, api_name="/answer_question")
    printed = ast.literal_eval(last_line(run_snippet(code, cwd=test_models)))
    assert [(p["answer"], p["start"], p["end"]) for p in printed] == [
        (a["answer"], a["start"], a["end"]) for a in answers
    ]
    assert [p["score"] for p in printed] == pytest.approx([a["score"] for a in answers], rel=1e-4)
    kwargs = call_kwargs(code, "AutoModelForQuestionAnswering.from_pretrained")
    assert kwargs == expected_from_pretrained_kwargs(loaded_kwargs(course_client, model))


@pytest.mark.parametrize(
    "args, message",
    [
        (("", CONTEXT), "Type a question"),
        (("   ", CONTEXT), "Type a question"),
        ((QUESTION, ""), "Paste a text"),
        ((QUESTION, " \n "), "Paste a text"),
        (("why " * 130, CONTEXT), "question is too long"),
        ((QUESTION, "word " * 20_001), "context is too long .100005 characters.; the limit is 100000"),
        ((QUESTION, CONTEXT, DISTILBERT, 0), "below the minimum"),
        ((QUESTION, CONTEXT, DISTILBERT, 1, 101), "above the maximum"),
        (
            (QUESTION, CONTEXT, "ViLT VQA (test)"),
            "is a vqa-classifier model; this action needs a question-answering model",
        ),
    ],
)
def test_bad_input(course_client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        course_client.predict(*args, api_name="/answer_question")


def test_the_text_sub_tab_sits_in_the_visual_qa_tab(course_app) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(course_app.url + "config", timeout=10) as response:
        config = json.load(response)
    labels = [str(c["props"].get("label")) for c in config["components"] if c["type"] == "tabitem"]
    assert any("visual_qa.text.title" in label for label in labels)
    samples = json.dumps([c["props"]["samples"] for c in config["components"] if c.get("type") == "dataset"])
    assert QUESTION in samples and CONTEXT in samples
