"""Table question answering (the visual QA tab's "Table" sub-tab) through the launched app: the cells
the answer used are the ones highlighted, the aggregation is applied to them, a CSV upload replaces
the table, long tables say which rows the model read, the snippet runs and loads as the app did, and
bad input gets a clear message."""

from __future__ import annotations

import ast
import math

import pytest
from course_helpers import call_kwargs, expected_pipeline_kwargs, loaded_kwargs, write_csv
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet

from tabs.visual_qa import table_task

WTQ = "TAPAS WTQ (test)"
SQA = "TAPAS SQA (test)"
QUESTION = "How many stars does the transformers repository have?"
HEADERS = ["Repository", "Stars", "Contributors", "Programming language"]
ROWS = [
    ["Transformers", "36542", "651", "Python"],
    ["Datasets", "4512", "77", "Python"],
    ["Tokenizers", "3934", "34", "Rust, Python and NodeJS"],
]
TABLE = {"headers": HEADERS, "data": ROWS}
USED = table_task.USED_CELL_STYLE


def used_cells(shown: dict) -> set[tuple[int, int]]:
    """The (row, column) of every cell the answer's table shows highlighted."""
    styling = shown["metadata"]["styling"]
    return {(row, column) for row, cells in enumerate(styling) for column, style in enumerate(cells) if style == USED}


def test_the_cells_used_are_highlighted_and_aggregated(course_client) -> None:
    text, shown, details, code = course_client.predict(QUESTION, TABLE, None, WTQ, api_name="/answer_table_question")
    assert shown["headers"] == HEADERS and shown["data"] == ROWS
    cells = details["cells"]
    assert cells, "the WTQ stand-in picks cells"
    assert used_cells(shown) == {(c["row"], HEADERS.index(c["column"])) for c in cells}
    assert all(ROWS[c["row"]][HEADERS.index(c["column"])] == c["text"] for c in cells)
    assert details["aggregator"] in ("NONE", "SUM", "AVERAGE", "COUNT")
    numbers = [float(c["text"]) for c in cells]
    expected = {"SUM": math.fsum(numbers), "COUNT": len(numbers), "NONE": None}.get(details["aggregator"])
    if details["aggregator"] == "AVERAGE":
        expected = math.fsum(numbers) / len(numbers)
    assert details["value"] == pytest.approx(expected) if expected is not None else details["value"] is None
    assert f"**{details['aggregator']}**" in text and "The model read all 3 rows." in text
    assert details["rows_read"] == 3


def test_the_question_and_the_table_alone(course_client) -> None:
    text, shown, details, code = course_client.predict(QUESTION, TABLE, api_name="/answer_table_question")
    assert shown["headers"] == HEADERS and "table-question-answering" in code
    with pytest.raises(AppError, match="The table is empty"):
        course_client.predict(QUESTION, api_name="/answer_table_question")


def test_a_model_without_aggregation_answers_with_cells(course_client) -> None:
    text, shown, details, _ = course_client.predict(QUESTION, TABLE, None, SQA, api_name="/answer_table_question")
    assert details["aggregator"] == "" and details["value"] is None
    assert text.startswith("Answer: **" + ", ".join(c["text"] for c in details["cells"]))


def test_a_csv_upload_replaces_the_table(course_client, tmp_path) -> None:
    csv = write_csv(tmp_path / "cities.csv", ["City", "Population"], [["Seoul", "9700000"], ["Busan", "3400000"]])
    _, shown, details, code = course_client.predict(
        "Population of Seoul?", TABLE, handle_file(str(csv)), WTQ, api_name="/answer_table_question"
    )
    assert shown["headers"] == ["City", "Population"] and shown["data"] == [["Seoul", "9700000"], ["Busan", "3400000"]]
    assert "'City': ['Seoul', 'Busan']" in code


def test_a_long_table_says_which_rows_the_model_read(course_client) -> None:
    rows = [[f"person number {i} works as a teacher in the city", str(i)] for i in range(200)]
    text, _, details, _ = course_client.predict(
        "Who is number 150?", {"headers": ["Who", "Number"], "data": rows}, None, WTQ, api_name="/answer_table_question"
    )
    assert 0 < details["rows_read"] < 200
    assert f"Only the first {details['rows_read']} of 200 rows fitted" in text
    assert all(cell["row"] < details["rows_read"] for cell in details["cells"])


@pytest.mark.parametrize("model", [WTQ, SQA])
def test_snippet_reproduces_the_app_and_loads_as_it_did(course_client, test_models, model) -> None:
    _, _, details, code = course_client.predict(QUESTION, TABLE, None, model, api_name="/answer_table_question")
    printed = ast.literal_eval(last_line(run_snippet(code, cwd=test_models)))
    assert printed["answer"] == details["answer"]
    assert [tuple(c) for c in printed["coordinates"]] == [
        (c["row"], HEADERS.index(c["column"])) for c in details["cells"]
    ]
    assert printed.get("aggregator", "") == details["aggregator"]
    kwargs = call_kwargs(code, "pipeline")
    assert kwargs.pop("model").endswith("tapas-wtq" if model == WTQ else "tapas-sqa")
    assert kwargs == expected_pipeline_kwargs(loaded_kwargs(course_client, model))


@pytest.mark.parametrize(
    "args, message",
    [
        (("", TABLE), "Type a question about the table"),
        (("  \n ", TABLE), "Type a question about the table"),
        (("why " * 130, TABLE), "question is too long"),
        ((QUESTION, {"headers": [], "data": []}), "The table is empty"),
        ((QUESTION, {"headers": ["a", "b"], "data": [["", ""], [" ", ""]]}), "The table is empty"),
        ((QUESTION, {"headers": ["n"], "data": [[str(i)] for i in range(300)]}), "300 rows; the limit is 256"),
        ((QUESTION, {"headers": ["n"], "data": [["x" * 600]]}), "600 characters long; the limit is 500"),
        ((QUESTION, TABLE, None, "ViLT VQA (test)"), "is a vqa-classifier model; this action needs a table-question"),
    ],
)
def test_bad_input(course_client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        course_client.predict(*args, api_name="/answer_table_question")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00binary\x00", "is not UTF-8 text"),
        (b"City,Population\n", "has no rows"),
        (b"", "has no rows"),
    ],
    ids=["binary", "header-only", "empty"],
)
def test_a_csv_that_does_not_parse(course_client, tmp_path, content, message) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    with pytest.raises(AppError, match=message):
        course_client.predict(QUESTION, TABLE, handle_file(str(path)), api_name="/answer_table_question")


def test_numbers_as_tables_write_them() -> None:
    assert [table_task.number(t) for t in ("36,542", "$12.50", "45%", "-1.5", "1 234", "12a", "")] == [
        36542,
        12.5,
        45,
        -1.5,
        1234,
        None,
        None,
    ]
    assert table_task.aggregated_value("SUM", ["1", "2,000"]) == 2001
    assert table_task.aggregated_value("AVERAGE", ["1", "2"]) == 1.5
    assert table_task.aggregated_value("COUNT", ["a", "b"]) == 2
    assert table_task.aggregated_value("SUM", ["a", "1"]) is None
    assert table_task.aggregated_value("NONE", ["1"]) is None
