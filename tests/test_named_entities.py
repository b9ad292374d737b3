"""The named entities tab through the launched app: every aggregation, spans that are characters of
the text, the table, the snippet, a dataset run and bad input."""

from __future__ import annotations

import json

import pytest
from course_helpers import call_kwargs, expected_pipeline_kwargs, loaded_kwargs, write_jsonl
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet

BERT = "NER BERT (test)"
DISTILBERT = "NER DistilBERT (test)"
SENTENCE = "My name is Sylvain and I work at Hugging Face in Brooklyn."
TYPES = {"PER", "ORG", "LOC", "MISC"}


def highlighted_spans(value: list[dict]) -> list[tuple[str, str | None]]:
    return [(piece["token"], piece["class_or_confidence"]) for piece in value]


@pytest.mark.parametrize("model", [BERT, DISTILBERT])
@pytest.mark.parametrize("aggregation", ["none", "simple", "first", "average", "max"])
def test_every_aggregation(course_client, model, aggregation) -> None:
    highlighted, table, code = course_client.predict(SENTENCE, model, aggregation, api_name="/extract_entities")
    assert table["headers"] == ["word", "type", "score", "start", "end"]
    rows = table["data"]
    assert rows, "random weights tag every token with some entity"
    for word, kind, score, start, end in rows:
        assert 0 <= start < end <= len(SENTENCE) and 0 < score <= 1
        # Uncased WordPiece: the word is the lower-cased text at those characters (sub-words without ##).
        assert SENTENCE[start:end].lower().replace(" ", "") == word.replace(" ", "").replace("##", "").lower()
        assert (kind in TYPES) if aggregation != "none" else (kind[:2] in ("B-", "I-") and kind[2:] in TYPES)
    # The highlighted text is the whole sentence, cut at the entities.
    pieces = highlighted_spans(highlighted)
    assert "".join(text for text, _ in pieces) == SENTENCE
    assert f"aggregation_strategy={aggregation!r}" in code


def test_aggregation_groups_tokens(course_client) -> None:
    _, tokens, _ = course_client.predict(
        "Sylvain works in Brooklyn with Marie Curie.", BERT, "none", api_name="/extract_entities"
    )
    _, grouped, _ = course_client.predict(
        "Sylvain works in Brooklyn with Marie Curie.", BERT, "simple", api_name="/extract_entities"
    )
    assert len(grouped["data"]) <= len(tokens["data"])
    for _, kind, _, start, end in grouped["data"]:
        inside = [row for row in tokens["data"] if start <= row[3] and row[4] <= end]
        assert inside and all(row[1][2:] == kind for row in inside), "a group is made of tokens of its type"


def test_text_alone_uses_simple_aggregation(course_client) -> None:
    _, table, code = course_client.predict(SENTENCE, api_name="/extract_entities")
    assert "aggregation_strategy='simple'" in code and all(row[1] in TYPES for row in table["data"])


def test_snippet_reproduces_the_app_and_loads_as_it_did(course_client, test_models) -> None:
    _, table, code = course_client.predict(SENTENCE, DISTILBERT, "first", api_name="/extract_entities")
    import numpy as np

    # The pipeline's scores are NumPy floats: they print as np.float32(...).
    printed = eval(last_line(run_snippet(code, cwd=test_models)), {"np": np})  # noqa: S307 - our own snippet's output
    assert [(e["word"], e["entity_group"], e["start"], e["end"]) for e in printed] == [
        (row[0], row[1], row[3], row[4]) for row in table["data"]
    ]
    kwargs = call_kwargs(code, "pipeline")
    assert {k: v for k, v in kwargs.items() if k != "model"} == expected_pipeline_kwargs(
        loaded_kwargs(course_client, DISTILBERT)
    )


def test_korean_headers_for_a_korean_browser(course_app) -> None:
    from gradio_client import Client

    client = Client(course_app.url, verbose=False, headers={"Accept-Language": "ko"})
    _, table, _ = client.predict(SENTENCE, api_name="/extract_entities")
    assert table["headers"] == ["단어", "종류", "점수", "시작", "끝"]


def test_dataset_run(course_client, tmp_path) -> None:
    path = write_jsonl(
        tmp_path / "people.jsonl", [{"id": i, "sentence": f"Sylvain works in Brooklyn {i}"} for i in range(20)]
    )
    summary, table, csv_file = course_client.predict(
        handle_file(str(path)), "sentence", BERT, "simple", api_name="/extract_entities_dataset"
    )
    assert "20 rows" in summary and table["headers"] == ["sentence", "count", "entities", "entities_json"]
    for text, count, listed, raw in table["data"]:
        entities = json.loads(raw)
        assert int(count) == len(entities) and all(
            text[e["start"] : e["end"]].lower() == e["word"].replace("##", "") for e in entities
        )
        assert listed.count("(") == len(entities)
    assert open(csv_file, encoding="utf-8").readline().strip() == "sentence,count,entities,entities_json"


@pytest.mark.parametrize(
    "args, message",
    [
        (("",), "Type a text to find entities in"),
        (("x" * 10_001,), "too long"),
        ((SENTENCE, BERT, "grouped"), "not one of"),
        ((SENTENCE, "Sentiment DistilBERT (test)"), "not in this app's catalog"),
    ],
)
def test_bad_input(course_client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        course_client.predict(*args, api_name="/extract_entities")


def test_bad_dataset_column(course_client, tmp_path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"sentence": "a"}])
    with pytest.raises(AppError, match="no column 'text'"):
        course_client.predict(handle_file(str(path)), "text", api_name="/extract_entities_dataset")
