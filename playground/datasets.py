"""Pipelines over a dataset: read an uploaded CSV / JSONL / TXT file, pick the text column, run a
model over the rows in batches with progress, and write the results as CSV.

A tab supplies only the per-batch function (texts -> result rows) and its result columns; the file
limits (rows, size) come from the catalog's defaults (`max_dataset_rows`, `max_dataset_mb`).
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from playground.downloads import write_csv_download
from playground.texts import DEFAULT_LANGUAGE, Texts

KINDS = (".csv", ".jsonl", ".txt")
TXT_COLUMN = "text"
BATCH_SIZE = 16

STRINGS = {
    "en": {
        "no_file": "Upload a CSV, JSONL or TXT file first.",
        "wrong_kind": "{name} is not a CSV, JSONL or TXT file (the name must end in .csv, .jsonl or .txt).",
        "too_big": "{name} is {size:.1f} MB; the limit for a dataset is {limit:g} MB.",
        "not_text": "{name} is not UTF-8 text.",
        "bad_csv": "{name} could not be read as CSV: {detail}",
        "bad_jsonl": "{name}, line {line}: not a JSON object ({detail}).",
        "empty": "{name} has no rows.",
        "too_many_rows": "{name} has {count} rows; the limit is {limit}.",
        "no_column": "The file has no column {column!r}. Its columns: {columns}.",
        "pick_column": "Pick the text column: the file has several ({columns}).",
        "empty_column": "The column {column!r} has no text in any row.",
        "summary": "{count} rows in {seconds:.1f} s ({rate:.1f} rows/s), in batches of {batch}. {skipped}",
        "skipped": "{count} empty rows were skipped.",
        "progress": "Rows {done}/{total}",
    },
    "ko": {
        "no_file": "먼저 CSV, JSONL 또는 TXT 파일을 올리세요.",
        "wrong_kind": "{name}은(는) CSV, JSONL, TXT 파일이 아닙니다 (이름이 .csv, .jsonl, .txt로 끝나야 합니다).",
        "too_big": "{name}은(는) {size:.1f} MB입니다. 데이터셋 한도는 {limit:g} MB입니다.",
        "not_text": "{name}은(는) UTF-8 텍스트가 아닙니다.",
        "bad_csv": "{name}을(를) CSV로 읽을 수 없습니다: {detail}",
        "bad_jsonl": "{name}, {line}번째 줄: JSON 객체가 아닙니다 ({detail}).",
        "empty": "{name}에 행이 없습니다.",
        "too_many_rows": "{name}에 행이 {count}개 있습니다. 한도는 {limit}개입니다.",
        "no_column": "파일에 {column!r} 열이 없습니다. 있는 열: {columns}.",
        "pick_column": "텍스트 열을 고르세요. 파일에 열이 여러 개 있습니다 ({columns}).",
        "empty_column": "{column!r} 열의 모든 행에 텍스트가 없습니다.",
        "summary": "{count}행, {seconds:.1f}초 ({rate:.1f}행/초), 배치 크기 {batch}. {skipped}",
        "skipped": "빈 행 {count}개는 건너뛰었습니다.",
        "progress": "행 {done}/{total}",
    },
}
TEXTS = Texts("datasets", STRINGS)


@dataclass(frozen=True)
class Table:
    """An uploaded file's rows: every value a string ("" where a row lacks the column)."""

    name: str
    columns: list[str]
    rows: list[dict[str, str]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def read_table(path: str | Path | None, max_rows: int, max_mb: float) -> Table:
    """The rows of a CSV (header row first), JSONL (one JSON object a line) or TXT (one text a line) file."""
    if not path:
        raise TEXTS.error("no_file")
    path = Path(path)
    name, kind = path.name, path.suffix.lower()
    if kind not in KINDS:
        raise TEXTS.error("wrong_kind", name=name)
    size = path.stat().st_size
    if size > max_mb * 2**20:
        raise TEXTS.error("too_big", name=name, size=size / 2**20, limit=max_mb)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TEXTS.error("not_text", name=name) from None
    if "\x00" in text:
        raise TEXTS.error("not_text", name=name)
    if kind == ".txt":
        columns, rows = [TXT_COLUMN], [{TXT_COLUMN: line} for line in text.splitlines() if line.strip()]
    elif kind == ".jsonl":
        columns, rows = _read_jsonl(name, text)
    else:
        columns, rows = _read_csv(name, text)
    if not rows:
        raise TEXTS.error("empty", name=name)
    if len(rows) > max_rows:
        raise TEXTS.error("too_many_rows", name=name, count=len(rows), limit=max_rows)
    return Table(name, columns, rows)


def _read_jsonl(name: str, text: str) -> tuple[list[str], list[dict[str, str]]]:
    columns: dict[str, None] = {}
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TEXTS.error("bad_jsonl", name=name, line=number, detail=exc.msg) from None
        if not isinstance(item, dict):
            raise TEXTS.error("bad_jsonl", name=name, line=number, detail=type(item).__name__)
        columns.update(dict.fromkeys(map(str, item)))
        rows.append({str(k): _cell(v) for k, v in item.items()})
    return list(columns), rows


def _read_csv(name: str, text: str) -> tuple[list[str], list[dict[str, str]]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.reader(io.StringIO(text), dialect)
        header = next(reader, None)
        if not header:
            return [], []
        columns = [column.strip() or f"column_{i + 1}" for i, column in enumerate(header)]
        rows = [dict(zip(columns, (cell for cell in record))) for record in reader if any(c.strip() for c in record)]
    except csv.Error as exc:
        raise TEXTS.error("bad_csv", name=name, detail=str(exc)) from None
    return columns, rows


def pick_column(table: Table, column: str | None, preferred: Sequence[str] = ("text", "sentence", "review")) -> str:
    """The column to read: the one named, else the only one, else a usual text column name."""
    column = (column or "").strip()
    if column:
        if column not in table.columns:
            raise TEXTS.error("no_column", column=column, columns=", ".join(table.columns))
        return column
    if len(table.columns) == 1:
        return table.columns[0]
    for name in preferred:
        if name in table.columns:
            return name
    raise TEXTS.error("pick_column", columns=", ".join(table.columns))


def column_values(table: Table, column: str) -> list[str]:
    return [row.get(column, "") for row in table.rows]


@dataclass(frozen=True)
class DatasetRun:
    header: list[str]
    rows: list[list[Any]]
    csv_path: str
    seconds: float
    skipped: int


def run_over_rows(texts: list[str], run_batch: Callable[[list[str]], list[list[Any]]], result_columns: Sequence[str],
                  progress: Callable[[float, str], None] | None = None, batch_size: int = BATCH_SIZE,
                  text_column: str = TXT_COLUMN, prefix: str = "dataset_", lang: str = DEFAULT_LANGUAGE) -> DatasetRun:
    """Run `run_batch` (texts -> one result row each) over the non-empty texts in batches, reporting
    progress; the table (input text, then result columns) is also written as a CSV download."""
    kept = [text for text in texts if text.strip()]
    if not kept:
        raise TEXTS.error("empty_column", column=text_column)
    started = time.perf_counter()
    rows: list[list[Any]] = []
    for first in range(0, len(kept), batch_size):
        batch = kept[first : first + batch_size]
        if progress is not None:
            progress(first / len(kept), TEXTS.get("progress", lang, done=first, total=len(kept)))
        rows += [[text, *result] for text, result in zip(batch, run_batch(batch))]
    if progress is not None:
        progress(1.0, TEXTS.get("progress", lang, done=len(kept), total=len(kept)))
    header = [text_column, *result_columns]
    return DatasetRun(header, rows, write_csv_download(header, rows, prefix), time.perf_counter() - started,
                      len(texts) - len(kept))


def summary(run: DatasetRun, lang: str, batch_size: int = BATCH_SIZE) -> str:
    skipped = TEXTS.get("skipped", lang, count=run.skipped) if run.skipped else ""
    return TEXTS.get("summary", lang, count=len(run.rows), seconds=run.seconds, rate=len(run.rows) / max(run.seconds, 1e-6),
                     batch=batch_size, skipped=skipped).strip()


def open_dataset(path: str | Path | None, column: str | None, max_rows: int, max_mb: float) -> tuple[Table, str]:
    """The file's table and its text column, checked before any model loads."""
    table = read_table(path, max_rows, max_mb)
    return table, pick_column(table, column)


def run_dataset(table: Table, column: str, run_batch: Callable[[list[str]], list[list[Any]]],
                result_columns: Sequence[str], progress: Any, lang: str, prefix: str) -> tuple[str, Any, str]:
    """A tab's dataset endpoint outputs: (summary, results as a pandas DataFrame, CSV path). `progress`
    is the handler's gr.Progress (called with desc=…)."""
    import pandas as pd

    report = (lambda fraction, message: progress(fraction, desc=message)) if progress is not None else None
    run = run_over_rows(column_values(table, column), run_batch, result_columns, report, text_column=column,
                        prefix=prefix, lang=lang)
    return summary(run, lang), pd.DataFrame(run.rows, columns=run.header), run.csv_path
