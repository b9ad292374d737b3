"""Questions about a table (the `table-question-answering` pipeline: TAPAS): the "Table" sub-tab's logic.

TAPAS reads the question and the table flattened row by row (every cell a string; the tokenizer adds
each token's row, column and numeric rank), scores every cell as part of the answer and, for models
fine-tuned on WikiTableQuestions, picks an aggregation (NONE, SUM, AVERAGE, COUNT) to apply to the
chosen cells. The pipeline names the aggregation but does not apply it: `aggregated_value` does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.snippets import Raw, format_call, pipeline_snippet
from playground.core.texts import Texts
from playground.media.datasets import read_table

TASK = "table-question-answering"
MAX_QUESTION = 500
# TAPAS embeds each token's row and column id in 256 slots; a table this big never fits 512 tokens anyway.
MAX_ROWS = 256
MAX_COLUMNS = 64
MAX_CELL_CHARS = 500
# The background of the cells the answer used, in the highlighted table.
USED_CELL_STYLE = "background-color: #fde68a; font-weight: 600"

TEXTS = Texts.load("visual_qa.table_task", Path(__file__).with_name("locales"))

# A number as tables write them: 36542, 36,542, -1.5, $12.50, 45%, 1 234.
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_NUMBER_DECORATION = re.compile(r"[\s,$€£¥₩%]")


@dataclass(frozen=True)
class TableAnswer:
    """The model's answer: the cells it chose (row, column: 0-based, header not counted), the
    aggregation it picked ("" for models without one) and, for SUM / AVERAGE / COUNT over numbers,
    the aggregation applied."""

    answer: str
    aggregator: str
    cells: list[str]
    coordinates: list[tuple[int, int]]
    value: float | None
    rows_read: int  # how many rows of the table fitted in the model's input

    def as_dict(self, columns: list[str]) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "aggregator": self.aggregator,
            "value": self.value,
            "cells": [
                {"row": row, "column": columns[column], "text": text}
                for (row, column), text in zip(self.coordinates, self.cells)
            ],
            "rows_read": self.rows_read,
        }


def check_question(question: str | None) -> str:
    """The question with its whitespace collapsed; a clear error when it is empty or too long."""
    question = " ".join((question or "").split())
    if not question:
        raise TEXTS.error("no_question")
    if len(question) > MAX_QUESTION:
        raise TEXTS.error("long_question", length=len(question), limit=MAX_QUESTION)
    return question


def _unique_headers(headers: list[Any]) -> list[str]:
    names: list[str] = []
    for index, header in enumerate(headers):
        name = "" if header is None or (isinstance(header, float) and math.isnan(header)) else str(header).strip()
        name = name or f"column {index + 1}"
        base, count = name, 2
        while name in names:
            name, count = f"{base} ({count})", count + 1
        names.append(name)
    return names


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def clean_table(table: Any) -> Any:
    """The table as TAPAS reads it: a pandas DataFrame of strings with unique, non-empty column names,
    without empty rows and columns; a clear error when nothing is left or it is too big."""
    import pandas as pd

    if table is None:
        raise TEXTS.error("no_table")
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    rows = [[_cell_text(value) for value in row] for row in frame.itertuples(index=False, name=None)]
    headers = [_cell_text(column) for column in frame.columns]
    keep_columns = [i for i, header in enumerate(headers) if header or any(row[i] for row in rows)]
    rows = [[row[i] for i in keep_columns] for row in rows if any(row[i] for i in keep_columns)]
    headers = _unique_headers([headers[i] for i in keep_columns])
    if not rows or not headers:
        raise TEXTS.error("empty_table")
    if len(rows) > MAX_ROWS:
        raise TEXTS.error("too_many_rows", count=len(rows), limit=MAX_ROWS)
    if len(headers) > MAX_COLUMNS:
        raise TEXTS.error("too_many_columns", count=len(headers), limit=MAX_COLUMNS)
    longest = max(len(cell) for row in [headers, *rows] for cell in row)
    if longest > MAX_CELL_CHARS:
        raise TEXTS.error("long_cell", length=longest, limit=MAX_CELL_CHARS)
    return pd.DataFrame(rows, columns=headers)


def table_from_file(path: str, max_rows: int, max_mb: float) -> Any:
    """A CSV (or JSONL, TXT) upload as a table of strings; the file's problems are reported in words."""
    import pandas as pd

    read = read_table(path, max_rows, max_mb)
    return clean_table(
        pd.DataFrame([[row.get(c, "") for c in read.columns] for row in read.rows], columns=read.columns)
    )


def number(text: str) -> float | None:
    """A cell's number ("36,542", "$12.50", "45%"), or None when the cell is not one number."""
    plain = _NUMBER_DECORATION.sub("", text)
    return float(plain) if _NUMBER.fullmatch(plain) else None


def aggregated_value(aggregator: str, cells: list[str]) -> float | None:
    """SUM, AVERAGE or COUNT applied to the chosen cells (None for NONE, or cells that are not all numbers)."""
    if aggregator == "COUNT":
        return float(len(cells))
    if aggregator not in ("SUM", "AVERAGE") or not cells:
        return None
    numbers = [number(cell) for cell in cells]
    if any(n is None for n in numbers):
        return None
    total = math.fsum(numbers)  # type: ignore[arg-type]
    return total if aggregator == "SUM" else total / len(numbers)


def rows_read(pipe: Any, table: Any, question: str) -> int:
    """How many rows of `table` fit in the model's input (TAPAS drops the rows that do not)."""
    if getattr(pipe, "type", None) != "tapas":
        return len(table)
    encoded = pipe.tokenizer(table, question, truncation="drop_rows_to_fit")
    row_ids = [ids[2] for ids in encoded["token_type_ids"]]  # TAPAS's third token type: the row (1-based)
    return max(row_ids, default=0)


def answer_table(pipe: Any, table: Any, question: str) -> TableAnswer:
    """Ask a table-question-answering pipeline `question` about `table` (a cleaned DataFrame)."""
    result = pipe(table=table, query=question)
    coordinates = [(int(row), int(column)) for row, column in result.get("coordinates", [])]
    cells = [str(cell) for cell in result.get("cells", [])]
    aggregator = str(result.get("aggregator", ""))
    return TableAnswer(
        answer=str(result["answer"]),
        aggregator=aggregator,
        cells=cells,
        coordinates=coordinates,
        value=aggregated_value(aggregator, cells),
        rows_read=rows_read(pipe, table, question),
    )


def format_value(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.4g}"


def highlighted(table: Any, coordinates: list[tuple[int, int]]) -> Any:
    """The table with the cells the answer used coloured (a pandas Styler)."""
    import pandas as pd

    def style(frame: Any) -> Any:
        styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for row, column in coordinates:
            styles.iat[row, column] = USED_CELL_STYLE
        return styles

    return table.style.apply(style, axis=None)


def snippet(model_id: str, load_kwargs: dict[str, Any], table: Any, question: str) -> str:
    """The pipeline loaded as the app loaded it, asked the same question about the same table."""
    columns = {column: list(table[column]) for column in table.columns}
    return pipeline_snippet(
        TASK,
        model_id,
        [],
        {"table": Raw("table"), "query": question},
        load_kwargs,
        imports=["import pandas as pd"],
        setup=["# TAPAS reads every cell as text.", "table = " + format_call("pd.DataFrame", [columns])],
    )
