"""Pipelines over a dataset: read an uploaded CSV / JSONL / TXT file or a Hub dataset's split, pick
the text column, run a model over the rows in batches with progress, and write the results as CSV.

A tab supplies only the per-batch function (texts -> result rows) and its result columns; the limits
(rows, file size, whether Hub datasets may be read) come from the catalog's defaults
(`max_dataset_rows`, `max_dataset_mb`, `allow_hub_datasets`).

Hub datasets are read with the `datasets` library, streamed (only the first `max_dataset_rows` rows
are read), by Hub id only (`owner/name`: never a path or URL, so a request cannot make the server read
its own files), with no remote code (`datasets` runs no dataset scripts) and in bounded time (the
Hub is probed first and every request it sends is bounded: playground.loading.hub). Columns the
dataset stores as class numbers (a `ClassLabel`, or a list of them) are read as their class names.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.config.catalog import Defaults
from playground.core.downloads import write_csv_download
from playground.core.texts import DEFAULT_LANGUAGE, LANGUAGES, SHARED_LOCALES, Texts, UserError

KINDS = (".csv", ".jsonl", ".txt")
TXT_COLUMN = "text"
BATCH_SIZE = 16
# A Hub dataset id, owner/name (the Hub's own rules: letters, digits, "-", "_", "." and no leading
# punctuation); a config or split name.
HUB_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
HUB_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
DEFAULT_SPLIT = "train"
# The longest a Hub dataset may take to read (each request the Hub gets is bounded on its own too).
HUB_READ_SECONDS = 60.0

TEXTS = Texts.load("datasets", SHARED_LOCALES)


@dataclass(frozen=True)
class Table:
    """A dataset's rows: every value a string ("" where a row lacks the column)."""

    name: str
    columns: list[str]
    rows: list[dict[str, str]]
    # Set when only the first `max_dataset_rows` rows of a longer Hub split were read.
    first_rows_of: int | None = None


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
            raise TEXTS.error("no_column", name=table.name, column=column, columns=", ".join(table.columns))
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


def run_over_rows(
    texts: list[str],
    run_batch: Callable[[list[str]], list[list[Any]]],
    result_columns: Sequence[str],
    progress: Callable[[float, str], None] | None = None,
    batch_size: int = BATCH_SIZE,
    text_column: str = TXT_COLUMN,
    prefix: str = "dataset_",
    lang: str = DEFAULT_LANGUAGE,
) -> DatasetRun:
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
    return DatasetRun(
        header, rows, write_csv_download(header, rows, prefix), time.perf_counter() - started, len(texts) - len(kept)
    )


def summary(run: DatasetRun, lang: str, batch_size: int = BATCH_SIZE) -> str:
    skipped = TEXTS.get("skipped", lang, count=run.skipped) if run.skipped else ""
    return TEXTS.get(
        "summary",
        lang,
        count=len(run.rows),
        seconds=run.seconds,
        rate=len(run.rows) / max(run.seconds, 1e-6),
        batch=batch_size,
        skipped=skipped,
    ).strip()


def open_dataset(
    path: str | Path | None,
    column: str | None,
    limits: Defaults,
    hub_dataset: str | None = "",
    hub_split: str | None = "",
    progress: Any = None,
    lang: str = DEFAULT_LANGUAGE,
) -> tuple[Table, str]:
    """The table (an uploaded file's, or a Hub dataset's split when `hub_dataset` is given) and its
    text column, checked before any model loads. `progress` is the handler's gr.Progress."""
    if (hub_dataset or "").strip():
        dataset = parse_hub_dataset(hub_dataset, hub_split)
        if path:
            raise TEXTS.error("file_and_hub", name=dataset.name)
        report = (lambda message: progress(0.0, desc=message)) if progress is not None else None
        table = read_hub_table(dataset, limits, report, lang)
    else:
        table = read_table(path, limits.max_dataset_rows, limits.max_dataset_mb)
    return table, pick_column(table, column)


# ---- Hub datasets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubDataset:
    """A split of a Hub dataset (one configuration of it, or its default)."""

    repo_id: str
    config: str | None
    split: str

    @property
    def name(self) -> str:
        return f"{self.repo_id}{':' + self.config if self.config else ''} ({self.split})"


def parse_hub_dataset(hub_dataset: str | None, hub_split: str | None = "") -> HubDataset:
    """`owner/name` or `owner/name:config`, and a split (empty: train); anything else (a path, a URL,
    `..`) is refused before `datasets` sees it."""
    value = (hub_dataset or "").strip()
    repo_id, _, config = value.partition(":")
    if not HUB_ID_RE.fullmatch(repo_id) or ".." in repo_id or "--" in repo_id or repo_id.endswith("."):
        raise TEXTS.error("hub_id", value=value)
    if config and not HUB_NAME_RE.fullmatch(config):
        raise TEXTS.error("hub_id", value=value)
    split = (hub_split or "").strip() or DEFAULT_SPLIT
    if not HUB_NAME_RE.fullmatch(split):
        raise TEXTS.error("hub_split_name", value=split)
    return HubDataset(repo_id, config or None, split)


def _in_every_language(key: str, why: dict[str, str] | None = None, **params: Any) -> UserError:
    """A message with a part that is itself a {lang: text} phrase (`why`)."""
    return UserError(
        {lang: TEXTS.get(key, lang, **params, **({"why": why[lang]} if why else {})) for lang in LANGUAGES}
    )


def read_hub_table(
    dataset: HubDataset, limits: Defaults, report: Callable[[str], None] | None = None, lang: str = DEFAULT_LANGUAGE
) -> Table:
    """The first `max_dataset_rows` rows of a Hub dataset's split, streamed, as a Table."""
    from playground.loading import hub

    if not limits.allow_hub_datasets:
        raise TEXTS.error("hub_off")
    if hub.offline():
        raise TEXTS.error("hub_offline", name=dataset.name)
    hub.bound_hub_requests()
    try:
        hub.HUB.check(dataset.repo_id)
    except hub.HubUnreachable as exc:
        raise _in_every_language(
            "hub_unreachable", exc.why, name=dataset.name, endpoint=exc.endpoint, seconds=exc.retry_in
        ) from None
    if report is not None:
        report(TEXTS.get("hub_reading", lang, name=dataset.name))
    started, limit = time.monotonic(), limits.max_dataset_rows
    try:
        rows, features = _stream_rows(dataset, limit + 1, started + HUB_READ_SECONDS)
    except TimeoutError:
        raise TEXTS.error("hub_slow", name=dataset.name, seconds=HUB_READ_SECONDS) from None
    except Exception as exc:  # every failure of the Hub or of `datasets` gets its own message
        raise hub_error(dataset, exc) from None
    if not rows:
        raise TEXTS.error("empty", name=dataset.name)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    names = _class_names(features)
    table_rows = [{str(k): _cell(_named(v, names.get(k))) for k, v in row.items()} for row in rows[:limit]]
    return Table(dataset.name, columns, table_rows, first_rows_of=limit if len(rows) > limit else None)


def _stream_rows(dataset: HubDataset, count: int, deadline: float) -> tuple[list[dict[str, Any]], Any]:
    """The first `count` rows of the split and its features (None where the files do not declare them)."""
    import datasets

    # hf://datasets/ makes `datasets` look on the Hub only, never in a server folder of the same name.
    stream = datasets.load_dataset(
        f"hf://datasets/{dataset.repo_id}", dataset.config, split=dataset.split, streaming=True
    )
    rows = []
    for row in itertools.islice(stream, count):
        rows.append(row)
        if time.monotonic() > deadline:
            raise TimeoutError
    return rows, stream.features


def _class_names(features: Any) -> dict[str, list[str]]:
    """The class names of each column stored as class numbers (a ClassLabel, or a list of them such as
    CoNLL's `ner_tags`)."""
    from datasets import ClassLabel

    names = {}
    for column, feature in (features or {}).items():
        inner = getattr(feature, "feature", None)
        if isinstance(feature, ClassLabel):
            names[column] = feature.names
        elif isinstance(inner, ClassLabel):
            names[column] = inner.names
    return names


def _named(value: Any, names: list[str] | None) -> Any:
    """A class number (or a list of them) as its class name; anything else as it is."""
    if names is None:
        return value
    if isinstance(value, list):
        return [_named(item, names) for item in value]
    if isinstance(value, int) and value < 0:  # ClassLabel's "no label" (-1), as in unlabelled test splits
        return None
    if isinstance(value, int) and value < len(names):
        return names[value]
    return value


def hub_error(dataset: HubDataset, exc: BaseException) -> UserError:
    """What a failed Hub dataset read tells the user: not found, gated, no such split or
    configuration, the Hub stopped answering, or the library's own words."""
    from datasets.exceptions import DatasetNotFoundError

    from playground.loading import hub

    text = str(exc)
    name, repo = dataset.name, dataset.repo_id
    if isinstance(exc, DatasetNotFoundError):
        return TEXTS.error("hub_gated" if "gated" in text else "hub_not_found", name=name, repo=repo)
    split = re.search(r"Bad split: .*Available splits: \[(.*)\]", text)
    if split:
        return TEXTS.error("hub_no_split", name=name, split=dataset.split, splits=split.group(1).replace("'", ""))
    config = re.search(r"BuilderConfig .* not found\. Available: \[(.*)\]", text)
    if config:
        return TEXTS.error("hub_no_config", name=name, config=dataset.config, configs=config.group(1).replace("'", ""))
    if hub.network_failure(exc):
        why = TEXTS.render("hub_stopped")
        hub.HUB.record_failure(why)
        return _in_every_language(
            "hub_unreachable", why, name=name, endpoint=hub.HUB.endpoint, seconds=hub.HUB.retry_seconds
        )
    return TEXTS.error("hub_failed", name=name, detail=f"{type(exc).__name__}: {text}"[:300])


def run_dataset(
    table: Table,
    column: str,
    run_batch: Callable[[list[str]], list[list[Any]]],
    result_columns: Sequence[str],
    progress: Any,
    lang: str,
    prefix: str,
) -> tuple[str, Any, str]:
    """A tab's dataset endpoint outputs: (summary, results as a pandas DataFrame, CSV path). `progress`
    is the handler's gr.Progress (called with desc=…)."""
    import pandas as pd

    report = (lambda fraction, message: progress(fraction, desc=message)) if progress is not None else None
    run = run_over_rows(
        column_values(table, column), run_batch, result_columns, report, text_column=column, prefix=prefix, lang=lang
    )
    text = summary(run, lang)
    if table.first_rows_of:
        text += " " + TEXTS.get("hub_first_rows", lang, limit=table.first_rows_of, name=table.name)
    return text, pd.DataFrame(run.rows, columns=run.header), run.csv_path
